"""What every way of running a scenario shares: run options, a chunk of draws, the labeled Dataset.

:mod:`risk.simulate` (in memory, on threads), :mod:`risk.scale` (dask) and
:mod:`risk.mixture` (scenario sets) build on this module, and it imports none of them. A run
is made of chunks; :func:`run_chunk` samples a chunk's parameters and shocks from the
run's streams (so a chunk's numbers are those rows of the whole run) and runs the model on
them into the run's :class:`~risk.model.engine.Blocks`; :func:`dataset` labels the blocks.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from ._version import __version__
from .data import BaseData
from .errors import Problem, ScenarioError
from .glossary import CALIBRATED, OUTPUTS, PARAMETERS, SHOCKS
from .model.engine import Blocks, output_blocks, output_periods, projected_steps, run_rows
from .streams import PARAMETER_ROWS
from .sampling import BLOCK, METHODS, parameter_matrix, parameter_uniforms, sample_shocks, warn_sobol_balance
from .scenario import Scenario

__all__ = ["DEFAULT_CHUNK", "FISCAL_NOTE", "bytes_per_draw", "check_fits", "check_run_options", "run_settings", "run_chunk",
           "run_local", "dataset"]

#: Draws per chunk of a run: one block of random numbers (:data:`risk.streams.BLOCK`). A
#: chunk's parameters and shocks (7 MB and 5 MB) stay in cache between sampling and the
#: model, and the fixed costs of a chunk are spread over enough draws.
DEFAULT_CHUNK = BLOCK

FISCAL_NOTE = (
    "NVIDIA's fiscal year FY(Y+1) ends in late January of Y+1 and is treated as calendar year Y "
    "(FY2026 is 2025)."
)


def bytes_per_draw(scenario: Scenario, dtype: str = "float32", quarterly: bool = False) -> int:
    """Memory one draw of a run takes in the Dataset: outputs, parameters and calibrated values. [bytes]"""
    size = np.dtype(dtype).itemsize
    years = output_periods(scenario.settings.horizon, quarterly)
    return size * (len(OUTPUTS) * years + len(scenario.parameters) + len(CALIBRATED))


def available_memory() -> int:
    """Memory this machine can give a run now (Linux ``MemAvailable``, else all of it). [bytes]"""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(scenario: Scenario, draws: int, sampling: str, dtype: str, quarterly: bool = False) -> None:
    """Refuse, before any work, a run held in memory that this machine cannot hold (outputs by
    quarter take four times the columns of outputs by year)."""
    uncertain = sum(not d.is_fixed for d in scenario.parameters.values())
    need = draws * (bytes_per_draw(scenario, dtype, quarterly) + (8 * uncertain if sampling != "mc" else 0))
    have = available_memory()
    if need > have:
        raise ScenarioError(scenario.source, [Problem(
            "draws", f"a run of {draws:,} draws takes {need / 1e9:,.1f} GB in memory and this machine has "
                     f"{have / 1e9:,.1f} GB available: ask for fewer draws, or stream the run to disk on dask "
                     "(risk run ... --out RUN.zarr --memory 4GB)", draws, True)])


def check_run_options(source: str, draws, seed, sampling, chunk_size, dtype) -> None:
    """Refuse run options outside what is allowed, all problems at once (:class:`ScenarioError`)."""
    problems = []
    if not (isinstance(draws, (int, np.integer)) and draws >= 1):
        problems.append(Problem("draws", "must be a whole number >= 1", draws, True))
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**63):
        problems.append(Problem("seed", "must be a whole number in [0, 2**63)", seed, True))
    if sampling not in METHODS:
        problems.append(Problem("sampling", f"must be one of: {', '.join(METHODS)}", sampling, True))
    if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        problems.append(Problem("chunk_size", "must be a whole number >= 1", chunk_size, True))
    if str(dtype) not in ("float32", "float64") and dtype not in (np.float32, np.float64):
        problems.append(Problem("dtype", "must be float32 or float64", dtype, True))
    if problems:
        raise ScenarioError(source, problems)


def run_settings(scenario: Scenario, draws=None, seed=None, sampling=None) -> tuple[int, int, str]:
    """Draws, seed and sampling method of a run: the arguments given, else the scenario's."""
    st = scenario.settings
    return (st.draws if draws is None else draws, st.seed if seed is None else seed,
            st.sampling if sampling is None else sampling)


def run_chunk(scenario: Scenario, base: BaseData, draws: int, seed: int, sampling: str, rows: tuple[int, int],
              blocks: Blocks, at: int, design: np.ndarray | None = None,
              scratch: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Draws ``rows`` = (lo, hi) of a run of ``draws`` draws, sampled and run into ``blocks`` at column ``at``.

    Parameters
    ----------
    scenario : Scenario
    base : BaseData
        The scenario's base-year data.
    draws, seed, sampling
        The run's.
    rows : (int, int)
        Draws of the run this chunk is.
    blocks : Blocks
        Where the chunk's values go, columns ``at`` to ``at + hi - lo``.
    design : ndarray, shape (hi - lo, uncertain parameters), optional
        These rows of a Latin hypercube or Sobol design built for the whole run.
    scratch : (ndarray, ndarray), optional
        A parameter matrix (len(PARAMETERS), hi - lo) and shocks (len(SHOCKS), horizon,
        hi - lo) to draw into (a thread reuses them chunk after chunk).
    """
    H, K = scenario.settings.horizon, projected_steps(base, scenario.settings.horizon)
    par = parameter_matrix(scenario.parameters, draws, seed, sampling, scenario.correlations, rows=rows,
                           uniforms=design, threads=False, order=PARAMETER_ROWS,
                           out=None if scratch is None else scratch[0])
    shocks = sample_shocks(seed, K, rows[0], rows[1], out=None if scratch is None else scratch[1])
    run_rows(par, shocks, base, H, blocks, at)


def new_scratch(scenario: Scenario, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Buffers for :func:`run_chunk` of ``n`` draws."""
    return np.empty((len(PARAMETERS), n)), np.empty((len(SHOCKS), scenario.steps, n))


def run_local(scenario: Scenario, draws: int, seed: int, sampling: str, *, chunk_size: int = DEFAULT_CHUNK,
              threads: int | None = None, dtype: str = "float32", progress: Callable[[int, int], None] | None = None,
              quarterly: bool = False):
    """One scenario in memory, its chunks on threads: :func:`risk.simulate` for a validated scenario.

    Options as :func:`risk.simulate`; they are checked first.
    """
    if quarterly and scenario.settings.clock != "quarter":
        raise ScenarioError(scenario.source, [Problem(
            "clock", "quarterly outputs need the quarterly clock: set clock: quarter in the scenario", "year", True)])
    check_run_options(scenario.source, draws, seed, sampling, chunk_size, dtype)
    draws, seed = int(draws), int(seed)
    check_fits(scenario, draws, sampling, dtype, quarterly)
    base = scenario.base_data()
    # Monte Carlo uniforms are drawn chunk by chunk; a Latin hypercube or Sobol design is
    # built whole first (a column is a permutation of the run; Sobol points are sequential)
    design = None
    if sampling != "mc":
        uncertain = [p for p, d in scenario.parameters.items() if not d.is_fixed]
        design = parameter_uniforms(sampling, seed, draws, uncertain, rows=(0, draws))
    if sampling == "sobol":
        warn_sobol_balance(draws, stacklevel=4)
    blocks = output_blocks(draws, scenario.settings.horizon, dtype, quarterly=quarterly)
    bounds = [(i, min(i + chunk_size, draws)) for i in range(0, draws, chunk_size)]
    local = threading.local()  # a parameter matrix and shocks a thread, reused chunk after chunk

    def chunk(bound):
        lo, hi = bound
        if getattr(local, "size", None) != hi - lo:
            local.size, local.scratch = hi - lo, new_scratch(scenario, hi - lo)
        run_chunk(scenario, base, draws, seed, sampling, bound, blocks, lo, None if design is None else design[lo:hi],
                  local.scratch)
        return hi - lo

    workers = threads or min(len(bounds), os.cpu_count() or 1)
    done = 0
    if workers <= 1:
        counts = map(chunk, bounds)
    else:
        pool = ThreadPoolExecutor(max_workers=workers)
        counts = pool.map(chunk, bounds)
    try:
        for k in counts:
            done += k
            if progress:
                progress(done, draws)
    finally:
        if workers > 1:
            pool.shutdown()
    del design
    outputs, calibrated, params = blocks.views()
    return dataset(scenario, base, params, outputs, calibrated, seed=seed, sampling=sampling, quarterly=quarterly)


def reported_quarters(base: BaseData, years) -> np.ndarray:
    """Quarters of each year that are reported, not simulated: 0 to 4. On an annual clock the
    base year counts 4 and later years 0."""
    if base.anchor_quarter is None:
        return np.where(np.asarray(years) <= base.base_year, 4, 0)
    return np.clip(base.anchor_year * 4 + base.anchor_quarter - np.asarray(years) * 4, 0, 4)


def dataset(scenario: Scenario, base: BaseData, params, outputs, calibrated, *, seed: int, sampling: str,
            quarterly: bool = False):
    """Label a run's values: the Dataset :func:`risk.simulate` returns (``ds.risk`` works on it).

    Parameters
    ----------
    params, calibrated : mapping of str to array, shape (draws,)
    outputs : mapping of str to array, shape (draws, horizon + 1), or (draws, 4·(horizon + 1))
        numpy or dask arrays (:meth:`risk.model.engine.Blocks.views`); a column a quarter
        when ``quarterly``.
    """
    import xarray as xr

    from . import accessor  # noqa: F401  (registers ds.risk)

    st = scenario.settings
    draws = len(next(iter(params.values())))
    years = np.arange(st.base_year, st.base_year + st.horizon + 1)
    period = "quarter" if quarterly else "year"
    data_vars = {}
    for name, info in OUTPUTS.items():
        data_vars[name] = (("draw", period), outputs[name], {"units": info.units, "long_name": info.long_name})
    for name, info in CALIBRATED.items():
        data_vars[name] = (("draw",), calibrated[name], {"units": info.units, "long_name": info.long_name, "kind": "calibrated"})
    for path, dist in scenario.parameters.items():
        info = PARAMETERS[path]
        data_vars[path] = (("draw",), params[path], {
            "units": info.units, "long_name": info.long_name, "symbol": info.symbol, "kind": "parameter",
            "distribution": dist.describe(), "source": dist.source, "note": dist.note,
        })
    attrs = {
        "title": f"risk simulation of scenario '{scenario.name}'",
        "scenario": scenario.name,
        "scenario_description": st.description,
        "scenario_source": scenario.source,
        "scenario_hash": scenario.hash,
        "scenario_file_sha256": scenario.file_sha256,
        "scenarios_json": json.dumps({scenario.name: scenario.canonical()}, sort_keys=True, default=str),
        "scenario_weights": json.dumps({scenario.name: 1.0}),
        "scenario_extends": json.dumps(scenario.extends),
        "overrides": json.dumps(scenario.overrides, default=str),
        "seed": seed,
        "sampling": sampling,
        "draws": draws,
        "base_year": st.base_year,
        "horizon": st.horizon,
        "risk_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fiscal_year_note": FISCAL_NOTE,
        "base_data_sources": json.dumps(base.sources, sort_keys=True),
        "model": ("v2 on the quarterly clock" if base.anchor_quarter is not None else "v1 on the annual clock,")
                 + " with the structural terms of v2 (docs/model.md)",
        "clock": st.clock,
        "as_of": base.as_of,
    }
    coords = {
        "draw": ("draw", np.arange(draws), {"long_name": "Monte Carlo draw"}),
        "year": ("year", years, {"long_name": "calendar year", "units": "year"}),
        "reported_quarters": ("year", reported_quarters(base, years), {
            "long_name": "quarters of the year that are reported figures, not draws", "units": "1"}),
        "scenario": ("draw", np.full(draws, scenario.name), {"long_name": "scenario of each draw"}),
    }
    if quarterly:
        q0 = base.anchor_year * 4 + base.anchor_quarter - 1
        index = np.arange(st.base_year * 4, (st.base_year + st.horizon + 1) * 4)
        coords["quarter"] = ("quarter", [f"{i // 4}Q{i % 4 + 1}" for i in index], {"long_name": "calendar quarter"})
        coords["reported"] = ("quarter", index <= q0, {"long_name": "a reported quarter (data), not a draw"})
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
