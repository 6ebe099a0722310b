"""Summarised runs: statistics of every output reduced chunk by chunk, without storing draws.

:func:`summarise` runs a scenario (or a scenario set) chunk by chunk like
:func:`risk.simulate`, and reduces each chunk, as soon as it is computed, into mergeable
statistics per output, year (or quarter) and scenario (:class:`Partial`):

* the number of draws, and exact power sums of each output: each aligned block of
  :data:`risk.sampling.BLOCK` draws is summed in float64 and the block sums are added as
  integers (exactly), so **counts, means and variances** do not depend on the chunking,
  the threads or the dask scheduler, bit for bit; the mean is the exactly rounded mean of
  the block sums, equal to the mean of the stored draws within float64 rounding;
* **minimum, maximum and threshold counts** (P(output < threshold)): exact;
* a histogram of :data:`BINS` bins per output and year over a range taken from the run's
  first block (padded; values outside it go to an underflow and an overflow bin), with each
  bin's count, minimum, maximum and sum. A **quantile** is located in its bin by exact
  counts and interpolated between the bin's minimum and maximum; the true quantile of the
  same draws lies within the stated ``bound`` (value units), which is zero when the bin's
  draws are all equal, when the order statistic is the bin's first or last, or when it lies
  on a point mass such as utilization capped at 1 (the first block's minimum or maximum,
  draws below and at it counted exactly). **Expected shortfall** adds the exact sums of the
  bins below the quantile's bin to bounds for the part of that bin in the tail.

The result (:func:`summarise`) is a small labeled Dataset: ``value``, ``se`` (Monte Carlo
standard error, as :mod:`risk.metrics` defines it) and ``bound`` (0 for exact figures) over
(variable, statistic, scenario, year); a scenario set adds a ``pooled`` scenario, the
weighted mixture (its draws are allocated by weight, so pooling adds the members' counts).
Memory is bounded by the chunks in flight whatever the number of draws.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ._version import __version__
from .errors import OptionError, Problem, ScenarioError
from .glossary import OUTPUTS
from .model.engine import output_blocks, output_periods
from .run import DEFAULT_CHUNK, FISCAL_NOTE, check_run_options, new_scratch, reported_quarters, run_chunk, run_settings
from .sampling import BLOCK, warn_sobol_balance
from .scenario import Scenario

__all__ = ["BINS", "DEFAULT_LEVELS", "DEFAULT_PROBS", "DEFAULT_SUMMARY_THRESHOLDS", "KIND", "Plan", "Partial",
           "summarise", "summarise_chunk", "summary_figures", "parse_threshold", "save_summary", "load_summary",
           "is_summary_file", "SummaryError", "is_summary", "summary_scenario", "summary_quantiles", "summary_rank"]

#: Histogram bins per output and period between the range's ends (plus an underflow and an overflow bin).
BINS = 4096
#: Quantiles a summary holds by default (VaR at each level is the quantile 1 - level).
DEFAULT_PROBS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
#: Confidence levels of value at risk and expected shortfall (lower tail: the downside of a margin).
DEFAULT_LEVELS = (0.95, 0.99)
#: Thresholds whose probabilities P(output < threshold) a summary counts by default: those of
#: comparisons and reports (:data:`risk.compare.DEFAULT_THRESHOLDS`), the report's tail event
#: (NVIDIA gross margin < 60%) and the deep tail (< 50%). [1]
DEFAULT_SUMMARY_THRESHOLDS = (("nvda_gross_margin", 0.65), ("nvda_gross_margin", 0.60), ("nvda_gross_margin", 0.50),
                              ("nvda_operating_margin", 0.55), ("aws_operating_margin", 0.30))
#: The ``kind`` attribute of a summary file.
KIND = "risk summary"
#: Padding of the histogram range on each side, as a share of the first block's range.
PAD = 0.25
#: Power sums are added as integers in units of 2**-_SCALE (exact for every finite float64).
_SCALE = 1130
_Z = 1.959963984540054


class SummaryError(ValueError):
    """A summary that cannot give what was asked (a figure it does not hold, an output that is not
    finite); ``option`` and ``value`` name the command-line option that asked, if any."""

    def __init__(self, message: str, option: str | None = None, value=None):
        super().__init__(message)
        self.option, self.value = option, value


# --------------------------------------------------------------------------- plan and partial


@dataclass(frozen=True)
class Plan:
    """What every chunk counts, fixed before the first draw (the same for every chunk and worker).

    Attributes
    ----------
    periods : int
        Columns an output has: years, or quarters.
    lo, width : ndarray, shape (cells,)
        Histogram range start and bin width of each cell (output x period, OUTPUTS order). [units]
    shift : ndarray, shape (cells,)
        Value subtracted before the power sums (the first block's first draw), so that a
        constant output has variance 0 exactly. [units]
    point : ndarray, shape (cells,)
        A value that may be a point mass (the first block's minimum or maximum, whichever is
        taken by more draws, such as utilization capped at 1): draws below it and equal to it
        are counted exactly, so that quantiles falling on it are exact. [units]
    thresholds : tuple of (str, float)
        (output, threshold) pairs counted as P(output < threshold).
    """

    periods: int
    lo: np.ndarray
    width: np.ndarray
    shift: np.ndarray
    point: np.ndarray
    thresholds: tuple = ()

    @property
    def cells(self) -> int:
        return len(OUTPUTS) * self.periods


def _cells(blocks, n: int) -> np.ndarray:
    """A chunk's outputs as (cells, n) float64: output-major, then period."""
    out = blocks.outputs[:, :, :n]
    return out.reshape(-1, n).astype(np.float64)


def make_plan(pilots: Sequence[np.ndarray], periods: int, thresholds=()) -> Plan:
    """A plan from the first block of each scenario: (cells, n) arrays of outputs."""
    lo = np.min([p.min(axis=1) for p in pilots], axis=0)
    hi = np.max([p.max(axis=1) for p in pilots], axis=0)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise SummaryError("an output is not finite in the run's first block; summaries need finite outputs")
    span = hi - lo
    pad = np.where(span > 0, PAD * span, np.maximum(np.abs(lo), 1.0) * 1e-6)
    start, stop = lo - pad, hi + pad
    first = pilots[0]
    at_min = (first == first.min(axis=1, keepdims=True)).sum(axis=1)
    at_max = (first == first.max(axis=1, keepdims=True)).sum(axis=1)
    point = np.where(at_max >= at_min, first.max(axis=1), first.min(axis=1))
    return Plan(periods, start, (stop - start) / BINS, first[:, 0].copy(), point, tuple(thresholds))


@dataclass
class Partial:
    """Mergeable statistics of some draws of one scenario (see the module's notes).

    ``power`` holds Σ(x - shift)^k for k = 1..4 per cell as exact integers in units of
    2**-_SCALE (an object array, shape (4, cells)); ``hist`` holds per cell and bin
    (underflow first, overflow last) the count, sum, minimum and maximum of the draws;
    ``below`` counts draws under each threshold (thresholds x periods).
    """

    n: int
    power: np.ndarray
    hist: np.ndarray
    at: np.ndarray
    below: np.ndarray
    blocks: int = 0

    @classmethod
    def empty(cls, plan: Plan) -> "Partial":
        hist = np.empty((plan.cells, BINS + 2, 4))
        part = cls(0, np.zeros((4, plan.cells), dtype=object), hist, np.zeros((plan.cells, 2), np.int64),
                   np.zeros((len(plan.thresholds), plan.periods), np.int64))
        return part.reset()

    def reset(self) -> "Partial":
        """Empty this partial in place (its buffers are reused)."""
        self.n, self.blocks = 0, 0
        self.power = np.zeros_like(self.power)
        self.hist[..., :2] = 0.0
        self.hist[..., 2] = np.inf
        self.hist[..., 3] = -np.inf
        self.at.fill(0)
        self.below.fill(0)
        return self

    @property
    def counts(self) -> np.ndarray:
        """Draws per cell and bin (exact: whole numbers below 2**53)."""
        return self.hist[..., 0].astype(np.int64)

    def merge(self, other: "Partial") -> "Partial":
        """This partial and ``other`` (later draws) as one; the inputs are left as they are."""
        return self.copy().merge_into(other)

    def merge_into(self, other: "Partial") -> "Partial":
        """Add ``other`` (later draws) to this partial in place: the same numbers as :meth:`merge`."""
        self.n += other.n
        self.blocks += other.blocks
        self.power = self.power + other.power
        self.hist[..., :2] += other.hist[..., :2]
        np.minimum(self.hist[..., 2], other.hist[..., 2], out=self.hist[..., 2])
        np.maximum(self.hist[..., 3], other.hist[..., 3], out=self.hist[..., 3])
        self.at += other.at
        self.below += other.below
        return self

    def copy(self) -> "Partial":
        return Partial(self.n, self.power.copy(), self.hist.copy(), self.at.copy(), self.below.copy(), self.blocks)


def _exact(values: np.ndarray) -> list[int]:
    """Finite float64 values as exact integers in units of 2**-_SCALE."""
    m, e = np.frexp(values)
    mant = (m * 2.0**53).astype(np.int64)
    shift = (e.astype(np.int64) - 53 + _SCALE)
    return [int(a) << int(s) if s >= 0 else int(a) >> int(-s) for a, s in zip(mant.tolist(), shift.tolist())]


def add_chunk(part: Partial, plan: Plan, x: np.ndarray, lo: int) -> Partial:
    """Add a chunk's outputs ``x`` (outputs, periods, n), draws ``lo`` to ``lo + n`` of the
    run, to ``part`` in place.

    Power sums are taken over the aligned blocks of :data:`BLOCK` draws of the run that the
    chunk covers (a partial block at either end is its own), so that a whole block's sums are
    the same whatever chunk it falls in; histogram bins gather their draws in draw order.
    """
    from ._summary_kernel import reduce_into

    n = x.shape[2]
    cuts = np.array([0] + [b - lo for b in range((lo // BLOCK + 1) * BLOCK, lo + n, BLOCK)] + [n], dtype=np.int64)
    power = np.empty((len(cuts) - 1, 4, 2, plan.cells))
    bad = reduce_into(x, plan.shift, plan.lo, 1.0 / plan.width, plan.point, cuts, part.hist, part.at, power)
    if bad:
        finite = np.isfinite(x).all(axis=2)
        o, p = (int(i[0]) for i in np.nonzero(~finite))
        raise SummaryError(f"{list(OUTPUTS)[o]} is not finite in some of draws {lo:,}-{lo + n - 1:,} (period {p}); summaries "
                           "need finite outputs (store the run to look at them)")
    ints = np.array(_exact(power.ravel()), dtype=object).reshape(-1, 4, 2, plan.cells)
    part.power = part.power + ints.sum(axis=(0, 2))
    part.n += n
    part.blocks += len(cuts) - 1
    names = list(OUTPUTS)
    for k, (name, value) in enumerate(plan.thresholds):
        part.below[k] += (x[names.index(name)] < np.float64(value)).sum(axis=1)  # compared in float64, as risk.metrics
    return part


def compute_chunk(scenario: Scenario, base, draws: int, seed: int, sampling: str, lo: int, hi: int, dtype: str = "float32",
                  quarterly: bool = False, blocks=None, state=None):
    """Run draws ``lo`` to ``hi`` of a run into ``blocks`` (or new ones); its outputs (outputs, periods, n).

    ``state``: an object whose ``scratch`` attribute (parameters and shocks) is reused chunk
    after chunk (a thread's).
    """
    n = hi - lo
    if blocks is None or blocks.outputs.shape[2] < n:
        blocks = output_blocks(n, scenario.settings.horizon, dtype, quarterly=quarterly)
    if state is not None and getattr(state, "size", None) == n:
        scratch = state.scratch
    else:
        scratch = new_scratch(scenario, n)
        if state is not None:
            state.size, state.scratch = n, scratch
    run_chunk(scenario, base, draws, seed, sampling, (lo, hi), blocks, 0, None, scratch)
    return blocks, blocks.outputs[:, :, :n]


def summarise_chunk(scenario: Scenario, base, plan: Plan, draws: int, seed: int, sampling: str, lo: int, hi: int,
                    dtype: str = "float32", quarterly: bool = False) -> Partial:
    """Run draws ``lo`` to ``hi`` of a run and reduce them into a new :class:`Partial` (a dask task)."""
    _, x = compute_chunk(scenario, base, draws, seed, sampling, lo, hi, dtype, quarterly)
    return add_chunk(Partial.empty(plan), plan, x, lo)


def fold(parts) -> Partial:
    """Merge partials in the order given (the run's chunk order)."""
    it = iter(parts)
    acc = next(it)
    for p in it:
        acc = acc.merge(p)
    return acc


# --------------------------------------------------------------------------- figures


@dataclass
class _Bins:
    """A partial's histograms as separate arrays, for reading figures."""

    n: int
    counts: np.ndarray
    bsum: np.ndarray
    bmin: np.ndarray
    bmax: np.ndarray
    point: np.ndarray
    at: np.ndarray

    @classmethod
    def of(cls, part: Partial, plan: Plan) -> "_Bins":
        h = part.hist
        return cls(part.n, h[..., 0].astype(np.int64), np.ascontiguousarray(h[..., 1]), np.ascontiguousarray(h[..., 2]),
                   np.ascontiguousarray(h[..., 3]), plan.point, part.at)


def _order_stat(part: _Bins, cum: np.ndarray, cell: int, r: int) -> tuple[float, float, float]:
    """Estimate and bracket [low, high] of the order statistic of rank ``r`` (0-based) of a cell."""
    below, equal = int(part.at[cell, 0]), int(part.at[cell, 1])
    if below <= r < below + equal:  # on the point mass: exact
        v = float(part.point[cell])
        return v, v, v
    b = int(np.searchsorted(cum[cell], r, side="right"))
    c = int(part.counts[cell, b])
    first = int(cum[cell, b]) - c
    k = r - first
    m, M = float(part.bmin[cell, b]), float(part.bmax[cell, b])
    if c == 1 or m == M:
        return m, m, m
    if k == 0:
        return m, m, m
    if k == c - 1:
        return M, M, M
    return m + (M - m) * k / (c - 1), m, M


def _quantile(part: _Bins, cum, cell: int, p: float) -> tuple[float, float, float]:
    """Quantile p (numpy's linear method, as :func:`risk.metrics.quantile`): estimate, low, high."""
    n = part.n
    h = (n - 1) * p
    j = int(math.floor(h))
    f = h - j
    e0, l0, h0 = _order_stat(part, cum, cell, j)
    if f == 0 or j + 1 >= n:
        return e0, l0, h0
    e1, l1, h1 = _order_stat(part, cum, cell, j + 1)
    return e0 + f * (e1 - e0), l0 + f * (l1 - l0), h0 + f * (h1 - h0)


def _quantile_se(part: _Bins, cum, cell: int, p: float) -> float:
    """Order-statistics standard error of the p-quantile (:func:`risk.metrics.quantiles`)."""
    n = part.n
    half = _Z * math.sqrt(n * p * (1 - p))
    j = int(np.clip(math.floor(n * p - half), 0, n - 1))
    k = int(np.clip(math.ceil(n * p + half), 0, n - 1))
    return (_order_stat(part, cum, cell, k)[0] - _order_stat(part, cum, cell, j)[0]) / (2 * _Z)


def _shortfall(part: _Bins, cum, cell: int, level: float) -> tuple[float, float, float, float]:
    """Lower-tail expected shortfall at ``level`` (as :func:`risk.metrics.expected_shortfall`):
    estimate, standard error, low, high."""
    n, alpha = part.n, 1.0 - level
    q, qlo, qhi = _quantile(part, cum, cell, alpha)
    j = int(math.floor((n - 1) * alpha))
    b = int(np.searchsorted(cum[cell], j, side="right"))
    c = int(part.counts[cell, b])
    n_below = int(cum[cell, b]) - c
    s_below = float(part.bsum[cell, :b].sum())
    m, M = float(part.bmin[cell, b]), float(part.bmax[cell, b])
    k = j + 1 - n_below  # draws of bin b at or below the quantile: ranks up to j (ties at it may add more)
    if m == M or k == c:
        k, partial = c, float(part.bsum[cell, b])
    else:
        partial = k * m + (M - m) / (c - 1) * k * (k - 1) / 2
    es = (s_below + partial) / (n_below + k)
    top = min(M, qhi)
    corners = [(s_below + kk * v) / (n_below + kk) for kk in ({k, c} if m != M else {c}) for v in (m, top)]
    lo, hi = min(corners + [es]), max(corners + [es])
    # tail variance from the bins' means (the within-bin spread is below the bound)
    cb = part.counts[cell, :b]
    used = cb > 0
    means = part.bsum[cell, :b][used] / cb[used]
    weights = cb[used]
    ss = float(np.sum(weights * (means - es) ** 2)) + k * ((partial / k if k else es) - es) ** 2
    var = ss / max(n_below + k - 1, 1)
    se = math.sqrt((var + (1 - alpha) * (es - q) ** 2) / (n * alpha))
    return es, se, lo, hi


def _moments(part: Partial, shift: float, cell: int) -> tuple[float, float, float, float]:
    """Mean, its se, sd, its se (from the exact power sums)."""
    n = part.n
    s1, s2, s3, s4 = (Fraction(int(part.power[k, cell]), 1 << _SCALE) for k in range(4))
    mu = s1 / n
    mean = float(Fraction(shift) + mu)
    if n < 2:
        return mean, math.nan, 0.0, 0.0
    m2 = s2 / n - mu * mu  # central moments (population)
    m2 = max(m2, Fraction(0))
    var = m2 * n / (n - 1)
    m4 = s4 / n - 4 * mu * s3 / n + 6 * mu * mu * s2 / n - 3 * mu**4
    s2f, m4f, varf = float(m2 * n / (n - 1)), float(max(m4, Fraction(0))), float(var)
    sd = math.sqrt(varf)
    se_var = math.sqrt(max(m4f - s2f**2 * (n - 3) / (n - 1), 0.0) / n)
    return mean, math.sqrt(varf / n), sd, (se_var / (2 * sd) if sd > 0 else 0.0)


def _labels(probs, levels, thresholds) -> list[str]:
    names = ["mean", "sd", "min", "max"] + [f"P{100 * p:g}" for p in probs]
    names += [f"VaR {100 * level:g}%" for level in levels]
    names += [f"ES {100 * level:g}%" for level in levels]
    names += sorted({f"P(< {t:g})" for _, t in thresholds}, key=lambda s: float(s[4:-1]))
    return names


def summary_figures(plan: Plan, part: Partial, probs=DEFAULT_PROBS, levels=DEFAULT_LEVELS):
    """The figures of one scenario's partial: arrays value, se, bound of shape (outputs, statistics, periods)."""
    stats = _labels(probs, levels, plan.thresholds)
    index = {s: i for i, s in enumerate(stats)}
    shape = (len(OUTPUTS), len(stats), plan.periods)
    value, se, bound = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    bins = _Bins.of(part, plan)
    cum = np.cumsum(bins.counts, axis=1)
    vmin, vmax = bins.bmin.min(axis=1), bins.bmax.max(axis=1)
    n = part.n
    for o in range(len(OUTPUTS)):
        for t in range(plan.periods):
            cell = o * plan.periods + t
            mean, mean_se, sd, sd_se = _moments(part, float(plan.shift[cell]), cell)
            for name, v, e in (("mean", mean, mean_se), ("sd", sd, sd_se), ("min", vmin[cell], 0.0),
                               ("max", vmax[cell], 0.0)):
                value[o, index[name], t], se[o, index[name], t], bound[o, index[name], t] = v, e, 0.0
            for p in probs:
                q, ql, qh = _quantile(bins, cum, cell, p)
                i = index[f"P{100 * p:g}"]
                value[o, i, t], se[o, i, t], bound[o, i, t] = q, _quantile_se(bins, cum, cell, p), max(q - ql, qh - q)
            for level in levels:
                q, ql, qh = _quantile(bins, cum, cell, 1 - level)
                i = index[f"VaR {100 * level:g}%"]
                value[o, i, t], se[o, i, t], bound[o, i, t] = q, _quantile_se(bins, cum, cell, 1 - level), max(q - ql, qh - q)
                es, es_se, lo, hi = _shortfall(bins, cum, cell, level)
                i = index[f"ES {100 * level:g}%"]
                value[o, i, t], se[o, i, t], bound[o, i, t] = es, es_se, max(es - lo, hi - es)
    names = list(OUTPUTS)
    for k, (name, thr) in enumerate(plan.thresholds):
        o, i = names.index(name), index[f"P(< {thr:g})"]
        p = part.below[k] / n
        value[o, i], se[o, i], bound[o, i] = p, np.sqrt(p * (1 - p) / n), 0.0
    return stats, value, se, bound


# --------------------------------------------------------------------------- running


def parse_threshold(text: str) -> tuple[str, float]:
    """``VARIABLE=VALUE`` or ``VARIABLE<VALUE`` (``0.60`` or ``60%``) as (output, value).

    Raises
    ------
    OptionError
        Naming ``--threshold``, the text and what is allowed.
    """
    from .scenario import suggest

    sep = "<" if "<" in text else "="
    name, eq, value_text = (part.strip() for part in str(text).partition(sep))
    if not eq or not name:
        raise OptionError("--threshold", text, "expected VARIABLE<VALUE or VARIABLE=VALUE, for example "
                                               "nvda_gross_margin<0.50 or nvda_gross_margin=50%")
    if name not in OUTPUTS:
        raise OptionError("--threshold", text, f"no output named '{name}'{suggest(name, OUTPUTS)}")
    try:
        value = float(value_text[:-1]) / 100 if value_text.endswith("%") else float(value_text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise OptionError("--threshold", text, "VALUE must be a finite number, a fraction (0.60) or a percent (60%)")
    return name, value


def _check_figures(source: str, probs, levels) -> None:
    problems = []
    for p in probs:
        if not (isinstance(p, (int, float)) and 0 < p < 1):
            problems.append(Problem("probs", "each must be a probability in (0, 1)", p, True))
    for level in levels:
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            problems.append(Problem("levels", "each must be a confidence level in (0, 1), for example 0.95", level, True))
    if problems:
        raise ScenarioError(source, problems)


def _members(scenario) -> list[tuple[str, Scenario, float]]:
    from .mixture import ScenarioSet

    if isinstance(scenario, ScenarioSet):
        return [(m.name, m.scenario, m.weight) for m in scenario.members]
    return [(scenario.name, scenario, 1.0)]


def _pilot(sc: Scenario, base, draws: int, seed: int, sampling: str, dtype: str, quarterly: bool) -> np.ndarray:
    n = min(BLOCK, draws)
    blocks = output_blocks(n, sc.settings.horizon, dtype, quarterly=quarterly)
    run_chunk(sc, base, draws, seed, sampling, (0, n), blocks, 0)
    return _cells(blocks, n)


def summarise(
    scenario,
    draws: int | None = None,
    seed: int | None = None,
    sampling: str | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    thresholds: Sequence[tuple[str, float]] | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    probs: Sequence[float] = DEFAULT_PROBS,
    quarterly: bool = False,
    lazy: bool = False,
    threads: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
):
    """Summarise a run of a scenario or scenario set without storing its draws.

    Parameters
    ----------
    scenario : Scenario, ScenarioSet, str or Path
        As for :func:`risk.simulate`.
    draws, seed, sampling : optional
        Override the scenario's (or set's) settings; ``lhs`` is refused above
        :data:`risk.scale.LHS_MAX_LAZY` draws (every chunk rebuilds its design).
    chunk_size : int
        Draws per chunk, a multiple of :data:`risk.sampling.BLOCK`. The figures do not
        depend on it, nor on the threads or the scheduler, bit for bit; expected shortfall
        on dask may differ from a local run's in its last bits (bin sums are added chunk by
        chunk there, draw by draw locally).
    thresholds : sequence of (output, value), optional
        P(output < value) to count exactly (default :data:`DEFAULT_SUMMARY_THRESHOLDS`). [units]
    levels : sequence of float
        Confidence levels of VaR and expected shortfall (lower tail).
    probs : sequence of float
        Quantiles to give.
    quarterly : bool
        Outputs by quarter (quarterly clock), as :func:`risk.simulate`.
    lazy : bool
        Run the chunks as dask tasks on the active dask scheduler (each task returns its
        chunk's statistics; they are merged in chunk order): the same figures.
    threads : int, optional
        Threads running the model in a local run (default: the cores less one, as the
        calling thread reduces the chunks; 1: everything on the calling thread).
    dtype : {'float32', 'float64'}
        The precision the outputs are rounded to before they are counted, as a stored run's
        (float32 by default: the figures are those of the run :func:`risk.simulate` stores).
    progress : callable, optional
        ``progress(draws_done, draws_total)`` after each chunk (local runs).

    Returns
    -------
    xarray.Dataset
        ``value``, ``se`` and ``bound`` over (variable, statistic, scenario, year or
        quarter); ``draws`` over scenario; attributes as a run's, plus which figures are
        exact and what the bounds mean.
    """
    from .mixture import ScenarioSet, allocate, is_scenario_set, load_scenario_set
    from .scale import LHS_MAX_LAZY
    from .scenario import load_scenario

    if isinstance(scenario, (str, Path)):
        scenario = load_scenario_set(scenario) if is_scenario_set(scenario) else load_scenario(scenario)
    is_set = isinstance(scenario, ScenarioSet)
    if is_set:
        draws = scenario.draws if draws is None else draws
        seed = scenario.seed if seed is None else seed
        sampling = scenario.sampling if sampling is None else sampling
    else:
        draws, seed, sampling = run_settings(scenario, draws, seed, sampling)
    check_run_options(scenario.source, draws, seed, sampling, chunk_size, dtype)
    if chunk_size % BLOCK:
        raise ScenarioError(scenario.source, [Problem(
            "chunk_size", f"a summary is reduced in whole blocks of {BLOCK:,} draws of random numbers, so that its figures "
                          f"do not depend on the chunking: give a multiple of {BLOCK:,}", chunk_size, True)])
    _check_figures(scenario.source, probs, levels)
    draws, seed, dtype = int(draws), int(seed), str(np.dtype(dtype))
    thresholds = tuple(DEFAULT_SUMMARY_THRESHOLDS if thresholds is None else thresholds)
    bad = [t for t in thresholds if t[0] not in OUTPUTS]
    if bad:
        raise ScenarioError(scenario.source, [Problem("thresholds", "names no output", bad[0][0], True)])
    members = _members(scenario)
    if quarterly:
        for name, sc, _ in members:
            if sc.settings.clock != "quarter":
                raise ScenarioError(sc.source, [Problem(
                    "clock", "quarterly outputs need the quarterly clock: set clock: quarter in the scenario", "year", True)])
    if sampling == "lhs" and draws > LHS_MAX_LAZY:
        raise ScenarioError(scenario.source, [Problem(
            "sampling", f"lhs builds its whole design for every chunk; summarise over {LHS_MAX_LAZY:,} draws with mc or sobol",
            "lhs", True)])
    if sampling == "sobol":
        warn_sobol_balance(draws, stacklevel=3)
    counts = allocate([w for _, _, w in members], draws) if is_set else [draws]
    bases = [sc.base_data() for _, sc, _ in members]
    periods = output_periods(members[0][1].settings.horizon, quarterly)
    pilots = [_pilot(sc, base, n, seed, sampling, dtype, quarterly) for (_, sc, _), base, n in zip(members, bases, counts) if n > 0]
    plan = make_plan(pilots, periods, thresholds)
    del pilots
    jobs = [(name, sc, base, n) for (name, sc, _), base, n in zip(members, bases, counts) if n > 0]
    if lazy:
        parts = _run_dask(plan, jobs, seed, sampling, chunk_size, dtype, quarterly)
    else:
        parts = _run_local(plan, jobs, seed, sampling, chunk_size, dtype, quarterly, threads, progress, draws)
    return _dataset(scenario, members, plan, parts, counts, seed, sampling, chunk_size, dtype, quarterly, probs, levels,
                    lazy)


def _bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]


def _run_local(plan, jobs, seed, sampling, chunk_size, dtype, quarterly, threads, progress, total) -> dict:
    """The model on threads, chunk by chunk (at most two a thread in flight, into reused
    buffers); each chunk's outputs added to its scenario's statistics in chunk order on this
    thread (the compiled pass releases the interpreter, so the model threads go on)."""
    workers = max(1, threads if threads else (os.cpu_count() or 1) - 1)
    local = threading.local()
    free: list = []  # output buffers whose chunk has been counted, to reuse
    parts, done = {}, 0
    pool = ThreadPoolExecutor(max_workers=workers) if (threads or os.cpu_count() or 1) > 1 else None
    try:
        for name, sc, base, n in jobs:
            acc = Partial.empty(plan)
            pending: deque = deque()
            todo = iter(_bounds(n, chunk_size))

            def task(bound, blocks, sc=sc, base=base, n=n):
                return compute_chunk(sc, base, n, seed, sampling, bound[0], bound[1], dtype, quarterly, blocks, local)

            while True:
                while len(pending) < 2 * workers:
                    bound = next(todo, None)
                    if bound is None:
                        break
                    blocks = free.pop() if free else None
                    pending.append((bound, pool.submit(task, bound, blocks) if pool else blocks))
                if not pending:
                    break
                bound, fut = pending.popleft()
                blocks, x = fut.result() if pool else task(bound, fut)
                add_chunk(acc, plan, x, bound[0])
                free.append(blocks)
                done += bound[1] - bound[0]
                if progress:
                    progress(done, total)
            parts[name] = acc
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return parts


def _run_dask(plan, jobs, seed, sampling, chunk_size, dtype, quarterly) -> dict:
    import dask

    keys = {}
    plan_d = dask.delayed(plan, traverse=False)
    for name, sc, base, n in jobs:
        sc_d, base_d = dask.delayed(sc, traverse=False), dask.delayed(base, traverse=False)  # sent once a worker
        acc = None
        for lo, hi in _bounds(n, chunk_size):
            part = dask.delayed(summarise_chunk, pure=True)(sc_d, base_d, plan_d, n, seed, sampling, lo, hi, dtype, quarterly)
            acc = part if acc is None else dask.delayed(Partial.merge, pure=True)(acc, part)
        keys[name] = acc
    (result,) = dask.compute(keys)
    return result


def _dataset(scenario, members, plan, parts: dict, counts, seed, sampling, chunk_size, dtype, quarterly, probs, levels,
             lazy):
    import xarray as xr

    from .mixture import ScenarioSet

    names = [name for name, *_ in members if name in parts]
    is_set = isinstance(scenario, ScenarioSet)
    if is_set:
        pooled = fold([parts[n] for n in names])
        labels, partials = names + ["pooled"], [parts[n] for n in names] + [pooled]
    else:
        labels, partials = names, [parts[names[0]]]
    figures = [summary_figures(plan, p, probs, levels) for p in partials]
    stats = figures[0][0]
    sc0 = members[0][1]
    st = sc0.settings
    base = sc0.base_data()
    years = np.arange(st.base_year, st.base_year + st.horizon + 1)
    period = "quarter" if quarterly else "year"
    dims = ("variable", "statistic", "scenario", period)
    data = {k: np.stack([f[i] for f in figures], axis=2) for i, k in ((1, "value"), (2, "se"), (3, "bound"))}
    coords = {
        "variable": ("variable", list(OUTPUTS), {"long_name": "output"}),
        "units": ("variable", [info.units for info in OUTPUTS.values()], {"long_name": "units of the output's values"}),
        "long_name": ("variable", [info.long_name for info in OUTPUTS.values()]),
        "statistic": ("statistic", stats),
        "scenario": ("scenario", labels, {"long_name": "scenario, or pooled: the weighted mixture of the set"}),
    }
    if quarterly:
        index = np.arange(st.base_year * 4, (st.base_year + st.horizon + 1) * 4)
        coords["quarter"] = ("quarter", [f"{i // 4}Q{i % 4 + 1}" for i in index], {"long_name": "calendar quarter"})
        q0 = base.anchor_year * 4 + base.anchor_quarter - 1
        coords["reported"] = ("quarter", index <= q0, {"long_name": "a reported quarter (data), not a draw"})
    else:
        coords["year"] = ("year", years, {"long_name": "calendar year", "units": "year"})
        coords["reported_quarters"] = ("year", reported_quarters(base, years), {
            "long_name": "quarters of the year that are reported figures, not draws", "units": "1"})
    n_by = [p.n for p in partials]
    ds = xr.Dataset({
        "value": (dims, data["value"], {"long_name": "the statistic, in the output's units (probabilities as fractions)"}),
        "se": (dims, data["se"], {"long_name": "Monte Carlo standard error of the statistic (as risk.metrics)"}),
        "bound": (dims, data["bound"], {
            "long_name": "the statistic of these draws lies within value ± bound (0: exact; in the output's units)"}),
        "draws": (("scenario",), np.array(n_by, dtype=np.int64), {"long_name": "draws summarised"}),
    }, coords=coords)
    total = sum(counts)
    ds.attrs = {
        "kind": KIND,
        "title": f"risk summary of {'scenario set' if is_set else 'scenario'} '{scenario.name}'",
        "scenario": scenario.name,
        "scenario_source": scenario.source,
        "scenario_hash": scenario.hash,
        "scenario_file_sha256": scenario.file_sha256,
        "scenario_weights": json.dumps({name: w for name, _, w in members}),
        "scenario_draws": json.dumps({name: n for (name, _, _), n in zip(members, counts)}),
        "scenarios_json": json.dumps({name: sc.canonical() for name, sc, _ in members}, sort_keys=True, default=str),
        "overrides": json.dumps(getattr(scenario, "overrides", {}), default=str),
        "pooled": "pooled" if is_set else "",
        "seed": seed, "sampling": sampling, "draws": total, "chunk_size": chunk_size, "dtype": dtype,
        "scheduler": "dask" if lazy else "local threads",
        "base_year": st.base_year, "horizon": st.horizon, "clock": st.clock, "as_of": base.as_of,
        "risk_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fiscal_year_note": FISCAL_NOTE,
        "bins": BINS, "blocks": sum(p.blocks for p in partials[:len(names)]),
        "exact": "mean, sd, min, max, P(< threshold): computed from every draw (means and variances from exact sums "
                 "of per-block float64 sums, the same whatever the chunking or scheduler)",
        "bounded": "quantiles (P..), VaR and ES: from a histogram of "
                   f"{BINS} bins per output and period with each bin's count, min, max and sum; the figure of these "
                   "draws lies within value ± bound (bound 0: exact, e.g. a point mass)",
    }
    return ds


# --------------------------------------------------------------------------- files


def save_summary(ds, path: str | Path) -> Path:
    """Write a summary to a NetCDF file atomically (a failed write leaves nothing)."""
    from .io import OutputError, atomic_path

    path = Path(path)
    if path.suffix != ".nc":
        raise OutputError(path, "a summary is written to a NetCDF file: name it RUN.summary.nc")
    enc = {v: {"zlib": True, "complevel": 4} for v in ("value", "se", "bound")}
    try:
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp, engine="h5netcdf", encoding=enc, invalid_netcdf=False)
    except OSError as e:
        raise OutputError(path, f"could not be written ({e.strerror or e})") from None
    return path


def is_summary_file(path: str | Path) -> bool:
    """Whether ``path`` is a summary written by :func:`save_summary` (a NetCDF file of kind :data:`KIND`)."""
    path = Path(path)
    if not (path.is_file() and path.suffix == ".nc"):
        return False
    try:
        import h5py

        with h5py.File(path, "r") as f:
            kind = f.attrs.get("kind")
    except (OSError, ImportError):
        return False
    if isinstance(kind, bytes):
        kind = kind.decode()
    return kind == KIND


def load_summary(path: str | Path):
    """Read a summary file into memory."""
    import xarray as xr

    from .io import RunFileError

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError) as e:
        raise RunFileError(path, f"cannot be read as a summary ({e})") from None


def is_summary(ds) -> bool:
    """Whether a loaded Dataset is a summary (:func:`summarise`, :func:`load_summary`), not a run of draws."""
    return ds.attrs.get("kind") == KIND


def summary_scenario(ds) -> str:
    """The scenario a summary's figures are read for by default: ``pooled`` for a scenario set, else its one scenario."""
    return ds.attrs.get("pooled") or str(ds["scenario"].values[0])


def summary_quantiles(ds, variable: str, probs: Sequence[float], scenario: str | None = None):
    """Quantiles ``probs`` of ``variable`` by year (or quarter) from a summary.

    Returns
    -------
    value, se, bound : ndarray, shape (len(probs), periods)
        The quantiles, their Monte Carlo standard errors, and bounds: the quantile of the
        summarised draws lies within value ± bound (units of the output).

    Raises
    ------
    SummaryError
        For a quantile the summary does not hold, naming those it holds.
    """
    stats = [str(s) for s in ds["statistic"].values]
    wanted = [f"P{100 * p:g}" for p in probs]
    missing = [w for w in wanted if w not in stats]
    if missing:
        held = [s for s in stats if s[0] == "P" and s[1:2].isdigit()]
        raise SummaryError(f"the summary holds the quantiles {', '.join(held)}, not {', '.join(missing)}: summarise "
                           "with them or use a full run")
    cell = ds.sel(scenario=scenario or summary_scenario(ds), variable=variable, statistic=wanted)
    return tuple(np.asarray(cell[k].values, dtype=float) for k in ("value", "se", "bound"))


def summary_rank(ds, variable: str, period, x: float, scenario: str | None = None) -> float:
    """The share of the summarised draws of ``variable`` in ``period`` below ``x`` (0-1), read
    from the summary's quantiles (linear between them, from 0 at the minimum to 1 at the
    maximum): approximate, to within the spacing of the quantiles it holds."""
    dim = "quarter" if "quarter" in ds.dims else "year"
    cell = ds.sel(scenario=scenario or summary_scenario(ds), variable=variable, **{dim: period})["value"]
    points = [(0.0, float(cell.sel(statistic="min")))]
    points += [(float(s[1:]) / 100, float(cell.sel(statistic=s))) for s in map(str, ds["statistic"].values)
               if s[0] == "P" and s[1:2].isdigit()]
    points.append((1.0, float(cell.sel(statistic="max"))))
    points.sort()
    probs, values = np.array([p for p, _ in points]), np.maximum.accumulate([v for _, v in points])
    values, first = np.unique(values, return_index=True)  # a point mass: the share below it is its first probability
    probs = probs[first]
    if x <= values[0]:
        return 0.0
    if x > values[-1]:
        return 1.0
    return float(np.interp(x, values, probs))


def summary_table(ds, names: Sequence[str], years=None, level: float = 0.95, thresholds: dict | None = None,
                  scenario: str | None = None):
    """The figures ``risk analyze`` shows for a run, from a summary: index (variable, year,
    statistic); columns value, se, bound.

    Raises
    ------
    SummaryError
        For an output, year, level or threshold the summary does not hold, naming what it holds.
    """
    import pandas as pd

    from .compare import DEFAULT_THRESHOLDS
    from .summary import summary_years

    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    period = "quarter" if "quarter" in ds.dims else "year"
    scenario = scenario or (ds.attrs.get("pooled") or str(ds["scenario"].values[0]))
    if years is None:
        years = summary_years(ds)
    stats = [str(s) for s in ds["statistic"].values]
    wanted = ["mean", "sd", "P5", "P50", "P95", f"VaR {100 * level:g}%", f"ES {100 * level:g}%"]
    missing = [s for s in wanted if s not in stats]
    if missing:
        held = sorted({s.split()[1] for s in stats if s.startswith("ES ")})
        raise SummaryError(f"the summary holds {', '.join(missing)} only at the levels {', '.join(held)}: "
                           "summarise again with that level (risk run --summary --level) or analyze a full run",
                           "--level", level)
    rows = {}
    sub = ds.sel(scenario=scenario)
    for name in names:
        if name not in ds["variable"].values:
            raise SummaryError(f"no output named {name!r} in the summary", "--variable", name)
        extra = []
        if name in thresholds:
            label = f"P(< {thresholds[name]:g})"
            if label not in stats or not np.isfinite(float(sub["value"].sel(variable=name, statistic=label).isel({period: -1}))):
                have = [s for s in stats if s.startswith("P(<")
                        and np.isfinite(float(sub["value"].sel(variable=name, statistic=s).isel({period: -1})))]
                raise SummaryError(f"the summary counts {name} below {', '.join(h[4:-1] for h in have) or 'no threshold'}, "
                                   f"not {thresholds[name]:g}: summarise with --threshold {name}<{thresholds[name]:g}",
                                   "--threshold", f"{name}={thresholds[name]:g}")
            extra = [label]
        for y in years:
            cell = sub.sel({period: y, "variable": name})
            for s in wanted + extra:
                c = cell.sel(statistic=s)
                key = int(y) if period == "year" else str(y)
                rows[(name, key, s)] = (float(c["value"]), float(c["se"]), float(c["bound"]))
    index = pd.MultiIndex.from_tuples(list(rows), names=["variable", period, "statistic"])
    return pd.DataFrame(list(rows.values()), index=index, columns=["value", "se", "bound"])
