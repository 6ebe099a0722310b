"""Which assumptions drive an output, year by year.

* :func:`rank_correlations`: Spearman and partial rank correlation (PRCC) between each
  uncertain parameter and an output, from a run.
* :func:`tornado`: the swing of an output's mean when one parameter at a time is pinned at
  its P10 and then its P90, every other input drawn as in the run (same seed).
* :func:`sobol_indices`: variance-based first-order (S1, Saltelli 2010) and total (ST,
  Jansen 1999) indices of any function of independent uniforms, with bootstrap confidence
  intervals; :func:`model_sobol` applies it to the model. The yearly shocks (capex, demand,
  unit cost and digestion noise) form one more input group, ``shocks``, so the indices of
  the parameters and of the shocks account for the whole variance.

With ``lazy=True`` (or a ``chunk_size`` or a ``scheduler``), :func:`sobol_indices` and :func:`model_sobol`
stream the design chunk by chunk, here or on dask, at constant memory (:mod:`risk.sobol`):
the same indices to rounding, with standard errors from batch means instead of the bootstrap.

Sobol indices assume independent inputs: a scenario's ``correlations`` are ignored there
(with a warning).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special, stats
from scipy.stats import qmc

from .glossary import OUTPUTS
from .model.engine import run_model
from .sampling import BLOCK, generator, sample_parameters, sample_shocks
from .scenario import Scenario
from .sobol import BATCHES, batch_edges, design_rows, stack_rows, streamed, varying

__all__ = ["rank_correlations", "tornado", "sobol_indices", "SobolResult", "model_sobol", "uncertain_parameters", "evaluate"]

SHOCKS_GROUP = "shocks"


def uncertain_parameters(scenario: Scenario) -> list[str]:
    """Dotted paths of the parameters that are not fixed, in glossary order."""
    return [p for p, d in scenario.parameters.items() if not d.is_fixed]


def _check_output(name: str) -> None:
    if name not in OUTPUTS:
        import difflib

        close = difflib.get_close_matches(name, list(OUTPUTS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise KeyError(f"no output named {name!r}{hint}; outputs include {', '.join(list(OUTPUTS)[:6])}, ...")


def rank_correlations(ds: xr.Dataset, output: str, method: str = "spearman") -> pd.DataFrame:
    """Rank correlation of each uncertain parameter with ``output``, by year.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (one scenario).
    output : str
        Output variable.
    method : {'spearman', 'prcc'}
        Spearman correlation, or partial rank correlation: the correlation of the ranks of
        the parameter and the output once the ranks of every other parameter are regressed
        out, computed from the inverse of the rank-correlation matrix.

    Returns
    -------
    pandas.DataFrame
        Index: parameter path; columns: years. Unitless, in [-1, 1].

    A run with a ``weight`` variable is weighted: ranks are the weighted empirical CDF and
    correlations are weighted.
    """
    if method not in ("spearman", "prcc"):
        raise ValueError(f"method must be 'spearman' or 'prcc', got {method!r}")
    params = [str(v) for v in ds.data_vars if ds[v].attrs.get("kind") == "parameter" and np.ptp(ds[v].values) > 0]
    w = ds["weight"].values if "weight" in ds else None
    ranks = np.column_stack([_ranks(ds[p].values, w) for p in params])
    y = ds[output]
    out = {}
    for year in y["year"].values:
        ry = _ranks(y.sel(year=year).values, w)
        if np.ptp(ry) == 0:
            out[int(year)] = np.zeros(len(params))
            continue
        c = _corr(np.column_stack([ranks, ry]), w)
        if method == "spearman":
            out[int(year)] = c[:-1, -1]
        else:
            pinv = np.linalg.pinv(c)
            out[int(year)] = -pinv[:-1, -1] / np.sqrt(pinv[:-1, :-1].diagonal() * pinv[-1, -1])
    return pd.DataFrame(out, index=pd.Index(params, name="parameter"))


def _ranks(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Ranks as the (weighted) empirical CDF at each draw, ties sharing their mid-rank."""
    if w is None:
        return stats.rankdata(x)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order] / w.sum()
    cum = np.cumsum(ws) - ws / 2
    _, first, counts = np.unique(xs, return_index=True, return_counts=True)
    tied = np.repeat(np.add.reduceat(cum, first) / counts, counts)
    out = np.empty_like(tied)
    out[order] = tied
    return out


def _corr(m: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """(Weighted) correlation matrix of the columns of ``m``."""
    if w is None:
        return np.corrcoef(m, rowvar=False)
    w = w / w.sum()
    c = m - w @ m
    cov = (c * w[:, None]).T @ c
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def evaluate(scenario: Scenario, params: dict[str, np.ndarray], shocks: np.ndarray, outputs: Sequence[str],
             base=None) -> dict[str, np.ndarray]:
    """Run the model on given parameters and shocks; the named outputs, shape (draws, years).

    ``shocks``: shape (len(SHOCKS), horizon, draws) (:func:`risk.sampling.sample_shocks`);
    ``base`` (the scenario's :class:`risk.data.BaseData`) is read from its data folder if not given.
    """
    base = scenario.base_data() if base is None else base
    result = run_model(params, shocks, base, scenario.settings.horizon)
    return {o: result.outputs[o] for o in outputs}


def tornado(scenario: Scenario, output: str, draws: int = 10_000, seed: int | None = None, low: float = 0.10,
            high: float = 0.90, sampling: str | None = None, progress=None) -> xr.Dataset:
    """Swing of the mean of ``output`` when each parameter moves from its ``low`` to its ``high`` quantile.

    Every other input is drawn as in the run, with the same seed, so each swing is the
    parameter's effect alone. ``progress``, a :class:`risk.progress.Sink`, hears "sampling",
    then "tornado" with the parameters done.

    Returns
    -------
    xarray.Dataset
        ``low``, ``high`` (the mean output with the parameter pinned at each quantile) and
        ``swing`` (high - low), dims (parameter, year), units of the output; ``base`` (year).
    """
    from .progress import phase

    _check_output(output)
    seed = scenario.settings.seed if seed is None else seed
    sampling = sampling or scenario.settings.sampling
    H = scenario.settings.horizon
    phase(progress, "sampling")
    params = sample_parameters(scenario.parameters, draws, seed, sampling, scenario.correlations)
    shocks = sample_shocks(seed, scenario.steps, 0, draws)
    names = uncertain_parameters(scenario)
    lo_, hi_ = np.empty((len(names), H + 1)), np.empty((len(names), H + 1))
    data = scenario.base_data()
    base = evaluate(scenario, params, shocks, [output], data)[output].mean(0)
    phase(progress, "tornado", "parameters")
    for i, p in enumerate(names):
        dist = scenario.parameters[p]
        for q, target in ((low, lo_), (high, hi_)):
            pinned = dict(params)
            pinned[p] = np.full(draws, float(dist.ppf(np.array([q]))[0]))
            target[i] = evaluate(scenario, pinned, shocks, [output], data)[output].mean(0)
        if progress is not None:
            progress(i + 1, len(names))
    years = np.arange(scenario.settings.base_year, scenario.settings.base_year + H + 1)
    units = OUTPUTS[output].units
    ds = xr.Dataset(
        {"low": (("parameter", "year"), lo_, {"units": units, "long_name": f"mean {output} with the parameter at its P{100 * low:g}"}),
         "high": (("parameter", "year"), hi_, {"units": units, "long_name": f"mean {output} with the parameter at its P{100 * high:g}"}),
         "swing": (("parameter", "year"), hi_ - lo_, {"units": units, "long_name": f"swing of mean {output}"}),
         "base": (("year",), base, {"units": units, "long_name": f"mean {output}"})},
        coords={"parameter": names, "year": years},
        attrs={"output": output, "draws": draws, "seed": seed, "low": low, "high": high, "method": "tornado"},
    )
    return ds


@dataclass
class SobolResult:
    """Sobol indices with confidence intervals.

    Attributes
    ----------
    indices : xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` over (input[, any output dims]); ``conf``
        is the half-width of the confidence interval at ``conf_level`` (attribute
        ``conf_method``: the bootstrap, or batch means for a streamed design).
    n : int
        Base sample size (the function is evaluated n·(k + 2) times).
    """

    indices: xr.Dataset
    n: int

    def to_df(self, **sel) -> pd.DataFrame:
        """The indices as a table, sorted by total index (select output dims with ``sel``)."""
        ds = self.indices.sel(**sel) if sel else self.indices
        return ds.to_dataframe()[["S1", "S1_conf", "ST", "ST_conf"]].sort_values("ST", ascending=False)


def _indices(ya: np.ndarray, yb: np.ndarray, yab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S1 (Saltelli 2010) and ST (Jansen) from f(A), f(B), f(AB_i); yab has the input first.

    Outputs are centred first: the estimators' expectations do not change, but S1's
    variance does (it multiplies by f(B) itself).
    """
    both = np.concatenate([ya, yb], axis=0)
    centre = both.mean(axis=0)
    ya, yb, yab = ya - centre, yb - centre, yab - centre
    var = varying(np.var(both, axis=0, ddof=1), centre)
    s1 = np.mean(yb[None] * (yab - ya[None]), axis=1) / var
    st = 0.5 * np.mean((ya[None] - yab) ** 2, axis=1) / var
    return s1, st


def _estimate(y: np.ndarray, n: int, k: int, seed: int, conf_level: float, n_boot: int):
    """S1, ST and their confidence half-widths from outputs stacked as [A, B, AB_1..AB_k]."""
    y = y.reshape((k + 2) * n, -1)
    ya, yb, yab = y[:n], y[n : 2 * n], y[2 * n :].reshape(k, n, -1)
    s1, st = _indices(ya, yb, yab)
    rng = generator(seed, 21)
    boots = [_indices(ya[idx], yb[idx], yab[:, idx]) for idx in (rng.integers(0, n, n) for _ in range(n_boot))]
    z = special.ndtri(0.5 + conf_level / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # outputs constant in a year (the base year)
        s1_conf = z * np.nanstd([b[0] for b in boots], axis=0, ddof=1)
        st_conf = z * np.nanstd([b[1] for b in boots], axis=0, ddof=1)
    return s1, s1_conf, st, st_conf


def _design(k: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Matrices A and B, shape (n, k): the two halves of a 2k-dimensional scrambled Sobol design."""
    ab = qmc.Sobol(2 * k, scramble=True, rng=generator(seed, 20)).random(n)
    return ab[:, :k].copy(), ab[:, k:].copy()


def _stack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[A, B, AB_1, ..., AB_k] with AB_i = A but column i from B."""
    k = a.shape[1]
    return np.concatenate([a, b] + [np.where(np.arange(k) == i, b, a) for i in range(k)], axis=0)


def sobol_indices(func: Callable[[np.ndarray], np.ndarray], names: Sequence[str], n: int = 4096, seed: int = 0,
                  conf_level: float = 0.95, n_boot: int = 200, lazy: bool = False, chunk_size: int | None = None,
                  scheduler=None, batches: int = BATCHES) -> SobolResult:
    """First-order and total Sobol indices of ``func`` over independent uniform inputs.

    Parameters
    ----------
    func : callable
        Maps uniforms, shape (m, k), to outputs, shape (m,) or (m, d).
    names : sequence of str
        The k inputs.
    n : int
        Base sample size (a power of 2 keeps the scrambled Sobol design balanced); ``func``
        is evaluated n·(k + 2) times.
    seed : int
        Seeds the Sobol scrambling and the bootstrap.
    conf_level : float
        Level of the confidence intervals (normal approximation, as SALib).
    n_boot : int
        Bootstrap resamples (in memory).
    lazy : bool
        Stream the design (implied by ``chunk_size`` or ``scheduler``): ``func`` sees one
        chunk's points at a time (its rows of A, B, AB_1, ..., AB_k), the chunks run on one
        thread a core, and the confidence intervals come from ``batches`` batch means
        (:mod:`risk.sobol`).
    chunk_size : int, optional
        Base rows a streamed chunk (default: about 2,048 rows, on batch edges).
    scheduler : optional
        Stream the design on dask (``'threads'``, ``'processes'``, ``'synchronous'``,
        ``'dask'`` for the current Client, ``'tcp://host:port'`` or a Client); ``func`` must
        then pickle for processes.
    batches : int
        Batches of base rows for the streamed standard errors.

    Returns
    -------
    SobolResult
        Indices over ``input`` (and ``output`` if ``func`` returns several columns).
    """
    k = len(names)
    if lazy or chunk_size is not None or scheduler is not None:
        _check_streamed(n, chunk_size, batches)
        s1, s1c, st, stc, chunks = streamed(_FuncRows(func, k, seed), n, chunk_size, batches, scheduler, conf_level)
        cols = s1.shape[1]
        conf = {"conf_method": f"batch means ({len(batch_edges(n, batches)) - 1} batches, delta method)", "chunks": chunks}
    else:
        a, b = _design(k, n, seed)
        y = np.asarray(func(_stack(a, b)), dtype=float)
        s1, s1c, st, stc = _estimate(y, n, k, seed, conf_level, n_boot)
        cols = y.shape[1] if y.ndim > 1 else 1
        conf = {"conf_method": f"bootstrap ({n_boot} resamples of rows)"}
    dims = ["input", "output"] if cols > 1 else ["input"]
    pick = (lambda arr: arr) if len(dims) == 2 else (lambda arr: arr[:, 0])
    ds = xr.Dataset({name: (dims, pick(arr)) for name, arr in (("S1", s1), ("S1_conf", s1c), ("ST", st), ("ST_conf", stc))},
                    coords={"input": list(names)},
                    attrs={"n": n, "conf_level": conf_level, "estimators": "S1: Saltelli (2010); ST: Jansen (1999)", **conf})
    return SobolResult(ds, n)


class _FuncRows:
    """Outputs of ``func`` on base rows lo to hi of the design, shape (k + 2, hi - lo, cols)."""

    def __init__(self, func, k: int, seed: int):
        self.func, self.k, self.seed = func, k, seed

    def rows(self, lo: int, hi: int) -> np.ndarray:
        a, b = design_rows(self.k, self.seed, lo, hi)
        u, _, _ = stack_rows(a, b)
        return np.asarray(self.func(u), dtype=float).reshape(self.k + 2, hi - lo, -1)


class _ModelRows:
    """Model outputs on base rows lo to hi of :func:`model_sobol`'s design, shape (k + 2, hi - lo, cols):
    parameters through their inverse CDFs, shocks from stream ``seed`` (A) or ``seed + 1`` (B),
    the model run on at most one block of points at a time."""

    def __init__(self, scenario: Scenario, base, names: list[str], outputs: Sequence[str], seed: int):
        from .model.engine import projected_steps

        self.scenario, self.base, self.names, self.outputs, self.seed = scenario, base, names, list(outputs), seed
        self.steps = projected_steps(base, scenario.settings.horizon)

    def rows(self, lo: int, hi: int) -> np.ndarray:
        k, c = len(self.names) + 1, hi - lo
        a, b = design_rows(k, self.seed, lo, hi)
        a[:, -1], b[:, -1] = 0.0, 1.0  # the shocks group: stream A or stream B
        sa, sb = sample_shocks(self.seed, self.steps, lo, hi), sample_shocks(self.seed + 1, self.steps, lo, hi)
        dists = self.scenario.parameters
        fixed = {p: float(d.support()[0]) for p, d in dists.items() if d.is_fixed}
        y = None
        for start in range(0, (k + 2) * c, BLOCK):
            stop = min(start + BLOCK, (k + 2) * c)
            u, row, from_b = stack_rows(a, b, start, stop)
            params = {p: np.full(stop - start, fixed[p]) for p in fixed}
            params.update({p: dists[p].ppf(u[:, j]) for j, p in enumerate(self.names)})
            params = {p: params[p] for p in dists}
            shocks = np.where(from_b, sb[:, :, row], sa[:, :, row])
            res = _evaluate_rows(self.scenario, params, shocks, self.outputs, self.base)
            part = np.concatenate([res[o] for o in self.outputs], axis=1)
            if y is None:
                y = np.empty(((k + 2) * c, part.shape[1]))
            y[start:stop] = part
        return y.reshape(k + 2, c, -1)


def _evaluate_rows(scenario, params, shocks, outputs, base):
    """:func:`evaluate` for one part of a streamed chunk."""
    return evaluate(scenario, params, shocks, outputs, base)


def _check_streamed(n, chunk_size, batches) -> None:
    """Refuse streamed-design options outside what is allowed."""
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"n must be a whole number >= 2, got {n!r}")
    if chunk_size is not None and not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    if not (isinstance(batches, (int, np.integer)) and batches >= 2):
        raise ValueError(f"batches must be a whole number >= 2, got {batches!r}")
    if n & (n - 1):
        warnings.warn(f"Sobol indices with n={n}, not a power of 2: the Sobol design loses its balance; use "
                      f"{1 << (n - 1).bit_length()} or {1 << (n.bit_length() - 1)}", stacklevel=3)


def model_sobol(scenario: Scenario, outputs: Sequence[str], n: int = 4096, seed: int | None = None,
                conf_level: float = 0.95, n_boot: int = 200, progress=None, lazy: bool = False,
                chunk_size: int | None = None, scheduler=None, batches: int = BATCHES) -> SobolResult:
    """Sobol indices of model outputs for every year: each uncertain parameter and the shocks.

    The inputs are the uncertain parameters (through their inverse CDFs) and one group,
    ``shocks``, for all yearly shocks: A rows take shock stream ``seed``, B rows stream
    ``seed + 1``, and each AB_i takes its shocks from A except AB_shocks, from B. Costs
    n·(k + 3) model evaluations for k uncertain parameters. ``progress``, a
    :class:`risk.progress.Sink`, hears "sampling", "model (N evaluations)" and "bootstrap";
    streamed, "sampling" and "model (N evaluations, streamed)" with the base rows done (chunks
    run here) or none (on dask).

    With ``lazy``, ``chunk_size`` or ``scheduler`` (as :func:`sobol_indices`) the design is streamed:
    each chunk of base rows samples its own design rows and shocks and runs the model on them,
    at most :data:`risk.sampling.BLOCK` points at a time, so memory does not grow with ``n``;
    the indices equal the in-memory ones to rounding, and the confidence intervals come from
    batch means (:mod:`risk.sobol`).

    Returns
    -------
    SobolResult
        Indices over (input, variable, year).
    """
    from .progress import phase

    for o in outputs:
        _check_output(o)
    phase(progress, "sampling")
    if scenario.correlations is not None:
        warnings.warn("Sobol indices need independent inputs: the scenario's correlations are ignored", stacklevel=2)
    seed = scenario.settings.seed if seed is None else seed
    H = scenario.settings.horizon
    names = uncertain_parameters(scenario)
    k = len(names) + 1
    m = n * (k + 2)
    if lazy or chunk_size is not None or scheduler is not None:
        _check_streamed(n, chunk_size, batches)
        phase(progress, f"model ({m:,} evaluations, streamed)", "base rows")
        source = _ModelRows(scenario, scenario.base_data(), names, outputs, seed)
        s1, s1c, st, stc, chunks = streamed(source, n, chunk_size, batches, scheduler, conf_level, progress=progress)
        conf = {"conf_method": f"batch means ({len(batch_edges(n, batches)) - 1} batches, delta method)", "chunks": chunks}
    else:
        a, b = _design(k, n, seed)
        a[:, -1], b[:, -1] = 0.0, 1.0  # the shocks group: stream A or stream B
        u = _stack(a, b)
        params = {p: np.full(m, float(d.support()[0])) for p, d in scenario.parameters.items() if d.is_fixed}
        for j, p in enumerate(names):
            params[p] = scenario.parameters[p].ppf(u[:, j])
        params = {p: params[p] for p in scenario.parameters}
        sa, sb = sample_shocks(seed, scenario.steps, 0, n), sample_shocks(seed + 1, scenario.steps, 0, n)
        row, use_b = np.arange(m) % n, u[:, -1] > 0.5
        shocks = np.where(use_b, sb[:, :, row], sa[:, :, row])
        phase(progress, f"model ({m:,} evaluations)")
        res = evaluate(scenario, params, shocks, outputs)
        y = np.concatenate([res[o] for o in outputs], axis=1)
        phase(progress, "bootstrap")
        s1, s1c, st, stc = _estimate(y, n, k, seed, conf_level, n_boot)
        conf = {"conf_method": f"bootstrap ({n_boot} resamples of rows)"}
    years = np.arange(scenario.settings.base_year, scenario.settings.base_year + H + 1)
    shape, dims = (k, len(outputs), H + 1), ("input", "variable", "year")
    ds = xr.Dataset(
        {name: (dims, arr.reshape(shape)) for name, arr in (("S1", s1), ("S1_conf", s1c), ("ST", st), ("ST_conf", stc))},
        coords={"input": names + [SHOCKS_GROUP], "variable": list(outputs), "year": years},
        attrs={"n": n, "conf_level": conf_level, "seed": seed, "scenario": scenario.name,
               "estimators": "S1: Saltelli (2010); ST: Jansen (1999)", "evaluations": m, **conf},
    )
    return SobolResult(ds, n)
