"""From a scenario to a labeled xarray Dataset: sampling, the model in chunks, labels."""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from ._version import __version__
from .data import BaseData, base_data
from .errors import Problem, ScenarioError
from .glossary import CALIBRATED, OUTPUTS, PARAMETERS, SHOCKS, parameter_index
from .model.core import check_feasible, run_model
from .model.kernel import ORDER, Blocks, fused_into, output_blocks
from .sampling import BLOCK, METHODS, parameter_matrix, parameter_uniforms, sample_shocks, warn_sobol_balance
from .scenario import Scenario, load_scenario

__all__ = ["simulate", "DEFAULT_CHUNK", "ENGINES"]

#: Ways to run the model: ``fused``, the compiled loop over draws (:mod:`risk.model.kernel`);
#: ``numpy``, the vectorized stage functions (:func:`risk.model.core.run_model`). They agree
#: to rounding.
ENGINES = ("fused", "numpy")

#: Draws per chunk of the model run: one block of random numbers (:data:`risk.sampling.BLOCK`).
#: A chunk's parameters and shocks (7 MB and 5 MB) stay in cache between sampling and the
#: model, and the fixed costs of a chunk (generators, Python calls) are spread over enough
#: draws: 16,384 measured 20% faster than 8,192 and as fast as 32,768.
DEFAULT_CHUNK = BLOCK

FISCAL_NOTE = (
    "NVIDIA's fiscal year FY(Y+1) ends in late January of Y+1 and is treated as calendar year Y "
    "(FY2026 is 2025)."
)


def _check_run_options(source: str, draws, seed, sampling, chunk_size, dtype, engine="fused") -> None:
    problems = []
    if not (isinstance(draws, (int, np.integer)) and draws >= 1):
        problems.append(Problem("draws", "must be a whole number >= 1", draws, True))
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**63):
        problems.append(Problem("seed", "must be a whole number in [0, 2**63)", seed, True))
    if sampling not in METHODS:
        problems.append(Problem("sampling", f"must be one of: {', '.join(METHODS)}", sampling, True))
    if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        problems.append(Problem("chunk_size", "must be a whole number >= 1", chunk_size, True))
    if np.dtype(dtype) not in (np.float32, np.float64):
        problems.append(Problem("dtype", "must be float32 or float64", dtype, True))
    if engine not in ENGINES:
        problems.append(Problem("engine", f"must be one of: {', '.join(ENGINES)}", engine, True))
    if problems:
        raise ScenarioError(source, problems)


def simulate(
    scenario: Scenario | str | Path,
    draws: int | None = None,
    seed: int | None = None,
    sampling: str | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
    lazy: bool = False,
    engine: str = "fused",
) -> xr.Dataset:
    """Simulate a scenario into a Dataset of NVIDIA and AWS margins and their drivers.

    Parameters
    ----------
    scenario : Scenario, ScenarioSet, str or Path
        A validated scenario or set, or the path of a scenario or scenario-set file (a
        set runs as a weighted mixture, :func:`risk.mixture.simulate_set`).
    draws, seed, sampling : optional
        Override the scenario's settings.
    chunk_size : int
        Draws per chunk of the model run (results do not depend on it).
    threads : int, optional
        Threads running chunks (default: the number of cores, at most 2 per core).
    dtype : {'float32', 'float64'}
        Storage type of the outputs and sampled parameters. The model computes in float64;
        float32 halves the memory (1M draws x 8 years of 28 outputs: 0.9 GB instead of 1.8).
    progress : callable, optional
        Called as ``progress(draws_done, draws_total)`` after each chunk.
    lazy : bool
        Return a dask-backed Dataset chunked along ``draw`` (``chunk_size`` draws a chunk)
        that computes on demand, on whatever dask scheduler is active, and can be streamed
        to disk with :func:`risk.save_run`; identical numbers (:mod:`risk.scale`).
    engine : {'fused', 'numpy'}
        How the model runs (:data:`ENGINES`): the compiled loop over draws, or the
        vectorized numpy stage functions; they agree to rounding (about 1e-15 relative).

    Returns
    -------
    xarray.Dataset
        Every output of :data:`risk.glossary.OUTPUTS` with dims (draw, year); every sampled
        parameter, named by its dotted path, with dim (draw); the calibrated per-draw
        quantities of :data:`risk.glossary.CALIBRATED`; coordinates ``draw``, ``year`` and
        ``scenario`` (on draw). Attributes record seed, scenario hash, package version,
        sampling method, base year and the scenario itself.
    """
    from .mixture import ScenarioSet, is_scenario_set, load_scenario_set, simulate_set

    if isinstance(scenario, (str, Path)):
        scenario = load_scenario_set(scenario) if is_scenario_set(scenario) else load_scenario(scenario)
    if isinstance(scenario, ScenarioSet):
        if lazy:
            raise ScenarioError(scenario.source, [Problem("lazy", "dask-backed runs take one scenario, not a scenario set")])
        return simulate_set(scenario, draws=draws, seed=seed, sampling=sampling, chunk_size=chunk_size,
                            threads=threads, dtype=dtype, progress=progress, engine=engine)
    st = scenario.settings
    draws = st.draws if draws is None else draws
    seed = st.seed if seed is None else seed
    sampling = st.sampling if sampling is None else sampling
    _check_run_options(scenario.source, draws, seed, sampling, chunk_size, dtype, engine)
    draws, seed = int(draws), int(seed)
    if lazy:
        from .scale import simulate_dask

        return simulate_dask(scenario, draws, seed, sampling, chunk_size=chunk_size, dtype=dtype, engine=engine)

    base = base_data(scenario.data_dir, st.base_year)
    infeasible = check_feasible({p: d.support() for p, d in scenario.parameters.items()}, base)
    if infeasible:
        raise ScenarioError(scenario.source, [Problem(path, msg) for path, msg in infeasible])
    # Monte Carlo uniforms are drawn chunk by chunk; a Latin hypercube or Sobol design is
    # built whole first (a column is a permutation of the run; Sobol points are sequential)
    random_paths = [p for p, d in scenario.parameters.items() if not d.is_fixed]
    design = None
    if sampling != "mc":
        design = parameter_uniforms(sampling, seed, draws, [parameter_index(p) for p in random_paths], rows=(0, draws))
    if sampling == "sobol":
        warn_sobol_balance(draws, stacklevel=3)

    H = st.horizon
    blocks = output_blocks(draws, H, dtype)
    bounds = [(i, min(i + chunk_size, draws)) for i in range(0, draws, chunk_size)]
    scratch = threading.local()  # a parameter matrix and shocks a thread, reused chunk after chunk

    def run_chunk(bound):
        lo, hi = bound
        if getattr(scratch, "par", np.empty((0, 0))).shape[1] != hi - lo:
            scratch.par = np.empty((len(ORDER), hi - lo))
            scratch.shocks = np.empty((len(SHOCKS), H, hi - lo))
        par = parameter_matrix(scenario.parameters, draws, seed, sampling, scenario.correlations, rows=(lo, hi),
                               uniforms=None if design is None else design[lo:hi], threads=False, order=ORDER,
                               out=scratch.par)
        run_rows(engine, par, sample_shocks(seed, H, lo, hi, out=scratch.shocks), base, H, blocks, lo)
        return hi - lo

    workers = threads or min(len(bounds), os.cpu_count() or 1)
    done = 0
    if workers <= 1:
        for b in bounds:
            done += run_chunk(b)
            if progress:
                progress(done, draws)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for k in pool.map(run_chunk, bounds):
                done += k
                if progress:
                    progress(done, draws)
    del design
    outputs, calibrated, params = blocks.views()
    return _dataset(scenario, base, params, outputs, calibrated, seed=seed, sampling=sampling, engine=engine)


def run_rows(engine: str, par: np.ndarray, shocks, base, horizon: int, blocks: Blocks, lo: int) -> None:
    """Run draws ``lo`` to ``lo + n`` of a run into its blocks with either engine.

    ``par``: these n draws' parameters, shape (len(ORDER), n), rows in
    :data:`risk.model.kernel.ORDER`; ``shocks``: theirs; ``blocks``: the run's
    (:func:`risk.model.kernel.output_blocks`).
    """
    if engine == "fused":
        fused_into(par, shocks, base, horizon, blocks, lo)
        return
    hi = lo + par.shape[1]
    views = {name: blocks.outputs[k].T[lo:hi] for k, name in enumerate(OUTPUTS)}
    result = run_model(dict(zip(ORDER, par)), shocks, base, horizon, out=views)
    for k, name in enumerate(CALIBRATED):
        blocks.calibrated[k, lo:hi] = result.calibrated[name]
    blocks.parameters[:, lo:hi] = par


def _dataset(scenario: Scenario, base: BaseData, params, outputs, calibrated, *, seed, sampling, engine="fused") -> xr.Dataset:
    st = scenario.settings
    draws = len(next(iter(params.values())))
    years = np.arange(st.base_year, st.base_year + st.horizon + 1)
    data_vars = {}
    for name, info in OUTPUTS.items():
        data_vars[name] = (("draw", "year"), outputs[name], {"units": info.units, "long_name": info.long_name})
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
        "model": "reference model v1 (docs/model.md)",
        "engine": engine,
    }
    coords = {
        "draw": ("draw", np.arange(draws), {"long_name": "Monte Carlo draw"}),
        "year": ("year", years, {"long_name": "calendar year", "units": "year"}),
        "scenario": ("draw", np.full(draws, scenario.name), {"long_name": "scenario of each draw"}),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
