"""Stress tests and reverse stress tests.

* :func:`stress_test`: pin parameters to values, percentiles or percentile bands, rerun on
  the same seed and draws, and report the shift of every key metric with its Monte Carlo
  error (paired: the same draws in both runs).
* :func:`reverse_stress`: for a tail event such as ``nvda_gross_margin[2030] < 0.60``, its
  probability, how each parameter's distribution inside the event differs from the whole,
  and a PRIM box (Friedman and Fisher 1999): the few parameter ranges that concentrate the
  event, with coverage (share of the event's draws inside the box) and density (share of
  the box's draws in the event).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics
from .errors import Problem, ScenarioError
from .glossary import PARAMETERS
from .scenario import Scenario
from .sensitivity import evaluate
from .sampling import sample_parameters, sample_shocks
from .summary import KEY_MARGINS

__all__ = ["Pin", "parse_pin", "stress_test", "Event", "parse_event", "reverse_stress", "ReverseStress", "prim_box", "Box"]


# --- stress tests ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Pin:
    """A parameter pinned to a value, or to a band of its percentiles (lo, hi in [0, 1])."""

    path: str
    value: float | None = None
    band: tuple[float, float] | None = None

    def describe(self) -> str:
        if self.value is not None:
            return f"{self.path} = {self.value:g}"
        lo, hi = self.band
        return f"{self.path} at P{100 * lo:g}" if lo == hi else f"{self.path} in P{100 * lo:g}-P{100 * hi:g}"


_PCT = r"P(\d+(?:\.\d+)?)"


def parse_pin(text: str) -> Pin:
    """Parse ``PATH=VALUE``, ``PATH=P90`` or ``PATH=P80-P100``.

    Raises
    ------
    ScenarioError
        Naming the path (with the closest valid one) or the bad value.
    """
    path, eq, value = (s.strip() for s in text.partition("="))
    if not eq:
        raise ScenarioError("--pin", [Problem("--pin", "expected PATH=VALUE, PATH=P90 or PATH=P80-P100", text, True)])
    if path not in PARAMETERS:
        close = difflib.get_close_matches(path, list(PARAMETERS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ScenarioError("--pin", [Problem(path, f"unknown parameter '{path}'{hint}", text, True)])
    m = re.fullmatch(_PCT + r"(?:\s*-\s*" + _PCT + r")?", value, flags=re.IGNORECASE)
    if m:
        lo = float(m.group(1)) / 100
        hi = float(m.group(2)) / 100 if m.group(2) else lo
        if not 0 <= lo <= hi <= 1:
            raise ScenarioError("--pin", [Problem(path, "percentiles must satisfy 0 <= lo <= hi <= 100", value, True)])
        return Pin(path, band=(lo, hi))
    try:
        return Pin(path, value=float(value))
    except ValueError:
        raise ScenarioError("--pin", [Problem(path, "expected a number, P<percentile> or P<lo>-P<hi>", value, True)]) from None


def _pinned(scenario: Scenario, params: dict[str, np.ndarray], pin: Pin) -> np.ndarray:
    dist = scenario.parameters[pin.path]
    if pin.value is not None:
        lo, hi = PARAMETERS[pin.path].domain
        if not lo <= pin.value <= hi:
            raise ScenarioError(scenario.source, [Problem(pin.path, f"pinned value outside the allowed range [{lo:g}, {hi:g}]", pin.value, True)])
        if PARAMETERS[pin.path].integer and float(pin.value) != round(float(pin.value)):
            raise ScenarioError(scenario.source, [Problem(pin.path, f"{PARAMETERS[pin.path].long_name} takes whole numbers only",
                                                          pin.value, True)])
        return np.full_like(params[pin.path], pin.value)
    lo, hi = pin.band
    if dist.is_fixed:
        return params[pin.path]
    # the same draws moved into the band: u -> lo + (hi - lo)·u, with u = F(x)
    u = np.clip(dist.frozen().cdf(params[pin.path]), 0, 1 - 1e-16)
    q = np.clip(lo + (hi - lo) * u, 1e-12, 1 - 1e-12)
    return dist.ppf(q)


def stress_test(scenario: Scenario, pins: Sequence[Pin], draws: int = 20_000, seed: int | None = None,
                outputs: Sequence[str] = KEY_MARGINS, years: Sequence[int] | None = None,
                thresholds: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Shift of key metrics when parameters are pinned, on the same seed and draws.

    Returns
    -------
    pandas.DataFrame
        Index (variable, year, statistic); columns ``base``, ``stressed``, ``shift`` and
        ``shift se`` (paired for means and probabilities, conservative for quantiles).
    """
    from .compare import DEFAULT_THRESHOLDS

    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    seed = scenario.settings.seed if seed is None else seed
    H = scenario.settings.horizon
    params = sample_parameters(scenario.parameters, draws, seed, scenario.settings.sampling, scenario.correlations)
    shocks = sample_shocks(seed, scenario.steps, 0, draws)
    stressed = dict(params)
    for pin in pins:
        stressed[pin.path] = _pinned(scenario, params, pin)
    data = scenario.base_data()
    a = evaluate(scenario, params, shocks, outputs, data)
    b = evaluate(scenario, stressed, shocks, outputs, data)
    base_year = scenario.settings.base_year
    years = list(years) if years is not None else [y for y in (base_year + 1, 2028, 2030, base_year + H) if base_year < y <= base_year + H]
    rows = {}
    for o in outputs:
        for y in sorted(set(years)):
            xa, xb = a[o][:, y - base_year], b[o][:, y - base_year]
            d = xb - xa
            stats = {"mean": (metrics.mean(xa), metrics.mean(xb), metrics.mean(d).se)}
            for p in (0.05, 0.5, 0.95):
                qa, qb = metrics.quantile(xa, p), metrics.quantile(xb, p)
                stats[f"P{100 * p:g}"] = (qa, qb, float(np.hypot(qa.se, qb.se)))
            if o in thresholds:
                t = thresholds[o]
                ia, ib = (xa < t).astype(float), (xb < t).astype(float)
                stats[f"P(< {t:g})"] = (metrics.prob_below(xa, t), metrics.prob_below(xb, t), metrics.mean(ib - ia).se)
            for name, (ea, eb, se) in stats.items():
                rows[(o, y, name)] = (ea.value, eb.value, eb.value - ea.value, se)
    index = pd.MultiIndex.from_tuples(list(rows), names=["variable", "year", "statistic"])
    df = pd.DataFrame(list(rows.values()), index=index, columns=["base", "stressed", "shift", "shift se"])
    df.attrs = {"pins": [p.describe() for p in pins], "draws": draws, "seed": seed, "scenario": scenario.name}
    return df


# --- events ---------------------------------------------------------------------------------

_COND = re.compile(r"\s*([A-Za-z_][\w.]*)\s*\[\s*(\d{4})\s*\]\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(%?)\s*")


@dataclass(frozen=True)
class Event:
    """A tail event: conditions ``variable[year] op value`` joined by 'and'."""

    conditions: tuple[tuple[str, int, str, float], ...]
    text: str

    def mask(self, ds: xr.Dataset) -> np.ndarray:
        """Boolean per draw: the draws in which the event happens."""
        out = np.ones(ds.sizes["draw"], dtype=bool)
        for var, year, op, value in self.conditions:
            x = ds[var].sel(year=year).values
            out &= {"<": x < value, "<=": x <= value, ">": x > value, ">=": x >= value}[op]
        return out


def parse_event(text: str, ds: xr.Dataset | None = None) -> Event:
    """Parse ``'nvda_gross_margin[2030] < 0.60 and aws_operating_margin[2030] < 20%'``.

    Raises
    ------
    ScenarioError
        Naming the condition that cannot be read, an unknown variable (with the closest) or
        a year outside the run.
    """
    conditions, problems = [], []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        m = _COND.fullmatch(part)
        if not m:
            problems.append(Problem("--event", "expected VARIABLE[YEAR] < VALUE (or <=, >, >=), conditions joined by 'and'", part, True))
            continue
        var, year, op, value, pct = m.group(1), int(m.group(2)), m.group(3), float(m.group(4)), m.group(5)
        value = value / 100 if pct else value
        if ds is not None:
            outputs = [str(v) for v in ds.data_vars if ds[v].dims == ("draw", "year")]
            if var not in outputs:
                from .io import missing_output_note

                close = difflib.get_close_matches(var, outputs, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(Problem("--event", missing_output_note(ds, var) or f"no output named '{var}'{hint}", part, True))
                continue
            years = [int(y) for y in ds["year"].values]
            if year not in years:
                problems.append(Problem("--event", f"year {year} is not in the run ({years[0]}-{years[-1]})", part, True))
                continue
        conditions.append((var, year, op, value))
    if problems:
        raise ScenarioError("event", problems)
    return Event(tuple(conditions), text.strip())


# --- PRIM -----------------------------------------------------------------------------------

@dataclass
class Box:
    """A box of parameter ranges and how it concentrates the event.

    Attributes
    ----------
    limits : dict of str to (float, float)
        Restricted parameters only: their (lo, hi) in the parameter's units.
    coverage : float
        Share of the event's draws inside the box.
    density : float
        Share of the box's draws in the event.
    mass : float
        Share of all draws inside the box.
    """

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def _stats(inside: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """(coverage, density, mass) of a box, with draw weights ``w`` summing to 1."""
    mass, hits = w[inside].sum(), w[inside & y].sum()
    return hits / max(w[y].sum(), 1e-300), hits / max(mass, 1e-300), mass


def prim_box(x: Mapping[str, np.ndarray], y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.02,
             min_coverage: float = 0.7, prune_tol: float = 0.05, weights: np.ndarray | None = None) -> Box:
    """PRIM: peel the box that concentrates ``y`` over the inputs ``x``, then prune it.

    Peeling removes, at each step, the ``alpha`` share of the box's draws at the low or high
    end of one input (a whole value for a discrete input), the one that raises the density
    most per share of the box removed, until the box holds less than ``min_mass`` of the
    draws. The box chosen is the densest on that trajectory whose
    coverage is at least ``min_coverage``. Pruning then lifts every restriction whose
    removal lowers the density by less than ``prune_tol`` of its value (relative), least
    important first, so that only the ranges that matter remain.

    Parameters
    ----------
    x : mapping of str to ndarray, shape (draws,)
        Inputs (parameters) by name.
    y : ndarray of bool, shape (draws,)
        The event.
    weights : ndarray, shape (draws,), optional
        Draw weights (coverage, density and mass are weighted).
    """
    names = list(x)
    data = np.column_stack([np.asarray(x[n], dtype=float) for n in names])
    y = np.asarray(y, dtype=bool)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    if w[y].sum() == 0:
        raise ValueError("the event never happens in this run: no box to find")
    lo, hi = data.min(0).copy(), data.max(0).copy()
    inside = np.ones(len(y), dtype=bool)
    steps = [(lo.copy(), hi.copy(), *_stats(inside, y, w))]
    while w[inside].sum() > min_mass:
        best = None
        w_in = w[inside].sum()
        density_now = w[inside & y].sum() / w_in
        for j in range(data.shape[1]):
            col = data[inside, j]
            for side in ("lo", "hi"):
                cut = np.quantile(col, alpha if side == "lo" else 1 - alpha)
                keep = inside & ((data[:, j] >= cut) if side == "lo" else (data[:, j] <= cut))
                if side == "lo" and cut == col.min():
                    keep = inside & (data[:, j] > cut)
                if side == "hi" and cut == col.max():
                    keep = inside & (data[:, j] < cut)
                w_keep = w[keep].sum()
                if keep.sum() == 0 or keep.sum() == inside.sum() or w_keep <= 0 or w_keep >= w_in:
                    continue
                density = w[keep & y].sum() / w_keep
                gain = (density - density_now) / (1 - w_keep / w_in)
                if best is None or gain > best[0] + 1e-12:
                    best = (gain, j, side, keep)
        if best is None:
            break
        _, j, side, inside = best
        if side == "lo":
            lo[j] = data[inside, j].min()
        else:
            hi[j] = data[inside, j].max()
        steps.append((lo.copy(), hi.copy(), *_stats(inside, y, w)))
    trajectory = pd.DataFrame([(c, d, m) for _, _, c, d, m in steps], columns=["coverage", "density", "mass"])
    ok = [i for i, s in enumerate(steps) if s[2] >= min_coverage] or [0]
    i_best = max(ok, key=lambda i: (steps[i][3], -i))
    blo, bhi = steps[i_best][0].copy(), steps[i_best][1].copy()
    full_lo, full_hi = data.min(0), data.max(0)

    def box_mask(l, h):
        return np.all((data >= l) & (data <= h), axis=1)

    while True:
        restricted = [j for j in range(len(names)) if blo[j] > full_lo[j] or bhi[j] < full_hi[j]]
        base_density = _stats(box_mask(blo, bhi), y, w)[1]
        losses = []
        for j in restricted:
            l, h = blo.copy(), bhi.copy()
            l[j], h[j] = full_lo[j], full_hi[j]
            losses.append(((base_density - _stats(box_mask(l, h), y, w)[1]) / max(base_density, 1e-12), j))
        if not losses:
            break
        loss, j = min(losses)
        if loss >= prune_tol:
            break
        blo[j], bhi[j] = full_lo[j], full_hi[j]
    cov, dens, mass = _stats(box_mask(blo, bhi), y, w)
    limits = {names[j]: (float(blo[j]), float(bhi[j])) for j in range(len(names)) if blo[j] > full_lo[j] or bhi[j] < full_hi[j]}
    return Box(limits, float(cov), float(dens), float(mass), trajectory)


@dataclass
class ReverseStress:
    """What one must believe for a tail event to happen.

    Attributes
    ----------
    event : Event
    probability : metrics.Estimate
    shifts : pandas.DataFrame
        Per parameter: median overall and in the event, the shift of the mean in standard
        deviations, and the share of the event's draws above the parameter's overall median;
        sorted by the absolute shift.
    box : Box
    """

    event: Event
    probability: metrics.Estimate
    shifts: pd.DataFrame
    box: Box


#: PRIM searches its box on at most this many draws (a seeded random subset of larger runs).
PRIM_MAX_DRAWS = 50_000


def reverse_stress(ds: xr.Dataset, event: str | Event, **prim) -> ReverseStress:
    """Probability of ``event``, the parameters' shifts inside it, and a PRIM box (weighted if the run has ``weight``).

    The probability and the shifts use every draw; the PRIM box is searched on at most
    :data:`PRIM_MAX_DRAWS` of them (a seeded random subset), its coverage and density then
    measured on every draw.
    """
    ev = parse_event(event, ds) if isinstance(event, str) else event
    y = ev.mask(ds)
    w = ds["weight"].values.astype(float) if "weight" in ds else np.ones(y.size)
    w = w / w.sum()
    prob = metrics.prob_above(y.astype(float), 0.5, w)
    params = [str(v) for v in ds.data_vars if ds[v].attrs.get("kind") == "parameter" and np.ptp(ds[v].values) > 0]
    if w[y].sum() == 0:
        raise ValueError(f"the event {ev.text!r} never happens in this run of {y.size:,} draws")
    rows = []
    for p in params:
        x = ds[p].values.astype(float)
        med, med_in = metrics.quantile(x, 0.5, w).value, metrics.quantile(x[y], 0.5, w[y]).value
        mean_all, mean_in = float(np.sum(w * x)), float(np.sum(w[y] * x[y]) / w[y].sum())
        sd = float(np.sqrt(np.sum(w * (x - mean_all) ** 2)))
        rows.append((p, med, med_in, (mean_in - mean_all) / sd if sd > 0 else 0.0, float(np.sum(w[y] * (x[y] > med)) / w[y].sum())))
    shifts = pd.DataFrame(rows, columns=["parameter", "median", "median in event", "shift (sd)", "share above median"])
    shifts = shifts.set_index("parameter").sort_values("shift (sd)", key=np.abs, ascending=False)
    sub_idx = np.arange(y.size)
    if y.size > PRIM_MAX_DRAWS:
        sub_idx = np.sort(np.random.default_rng(0).choice(y.size, PRIM_MAX_DRAWS, replace=False))
    box = prim_box({p: ds[p].values[sub_idx] for p in params}, y[sub_idx], weights=w[sub_idx], **prim)
    if sub_idx.size < y.size:
        inside = np.ones(y.size, dtype=bool)
        for p, (lo, hi) in box.limits.items():
            x = ds[p].values
            inside &= (x >= lo) & (x <= hi)
        box.coverage, box.density, box.mass = (float(v) for v in _stats(inside, y, w))
    return ReverseStress(ev, prob, shifts, box)
