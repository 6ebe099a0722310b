"""Runs that outgrow memory or one machine: dask-backed Datasets chunked along ``draw``.

Each chunk of draws is one task that samples its own rows of the parameters (Monte Carlo
by block keys, Sobol by fast-forwarding, Latin hypercube by slicing its whole-run design)
and its own shocks, then runs the model; every random number is the one a local run would
use, so the result is identical, bit for bit, to :func:`risk.simulate` with the same seed,
whatever the chunk size, the scheduler or the number of workers. Nothing is computed until
asked: ``ds.to_zarr(...)`` or ``risk.save_run`` stream the chunks to disk, and memory is
bounded by the chunks in flight.
"""

from __future__ import annotations

import json
import re

import numpy as np
import xarray as xr

from .errors import Problem, ScenarioError
from .glossary import CALIBRATED, OUTPUTS
from .model.engine import output_blocks
from .run import bytes_per_draw, dataset, run_chunk
from .sampling import BLOCK, warn_sobol_balance
from .scenario import Scenario

__all__ = ["simulate_dask", "run_graph", "parse_memory", "bytes_per_draw", "chunk_for_memory", "check_memory", "LHS_MAX_LAZY", "PROCESS_BASE"]

#: Latin hypercube runs larger than this are refused on dask (each chunk would rebuild the design).
LHS_MAX_LAZY = 2_000_000


def parse_memory(text: str | int) -> int:
    """Bytes from '4GB', '512MB', '2GiB' or a number of bytes."""
    if isinstance(text, (int, np.integer)):
        return int(text)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", str(text), flags=re.IGNORECASE)
    if not m:
        raise ValueError(f"memory {text!r} is not a size such as 4GB, 512MB or 2GiB")
    unit = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}[m.group(2).upper()]
    return int(float(m.group(1)) * (1024 if m.group(3) else 1000) ** unit)


#: Memory a process holds before any run: the interpreter, numpy, scipy, xarray and dask. [bytes]
PROCESS_BASE = 400_000_000


def chunk_for_memory(scenario: Scenario, budget: int, workers: int = 1, dtype: str = "float32") -> int:
    """Draws per chunk so that the chunks in flight, with their working arrays, fit the budget.

    A chunk in flight holds its outputs and parameters (:func:`bytes_per_draw`) about three
    times over (as computed, as handed to the writer, as encoded), the float64 parameters
    twice (as drawn and as the model's matrix) and the shocks twice; each worker may hold two
    chunks. The process's own memory (:data:`PROCESS_BASE`) comes off the budget first.
    Chunks are whole blocks of random numbers (:data:`risk.sampling.BLOCK`) when at least
    one fits, else multiples of 1,024 draws.
    """
    per_draw = 3 * bytes_per_draw(scenario, dtype) + 8 * (2 * len(scenario.parameters) + 2 * 6 * scenario.steps)
    usable = max(budget - PROCESS_BASE, budget // 4)
    draws = int(usable / (2 * workers * per_draw))
    if draws >= BLOCK:  # whole blocks of random numbers: each drawn once, in place
        return draws // BLOCK * BLOCK
    return max(1024, draws // 1024 * 1024)


def check_memory(scenario: Scenario, draws: int, budget: int, to_disk: bool, dtype: str = "float32") -> None:
    """Refuse, before any work, a run that must be held in memory and does not fit ``budget`` bytes."""
    need = bytes_per_draw(scenario, dtype) * draws
    if not to_disk and need > budget:
        raise ScenarioError(scenario.source, [Problem(
            "memory", f"a run of {draws:,} draws takes {need / 1e9:.2f} GB in memory, over the budget of {budget / 1e9:.2f} GB; "
                      "write it to disk with --out RUN.zarr (streamed chunk by chunk) or ask for fewer draws", draws, True)])


def _chunk(model: tuple[Scenario, object], draws: int, seed: int, sampling: str, lo: int, hi: int, dtype: str) -> dict:
    """Draws ``lo`` to ``hi`` of a run: every output, calibrated value and parameter by name."""
    scenario, base = model
    blocks = output_blocks(hi - lo, scenario.settings.horizon, dtype)
    run_chunk(scenario, base, draws, seed, sampling, (lo, hi), blocks, 0)  # one thread: dask runs chunks in parallel
    outputs, calibrated, params = blocks.views()
    return {**outputs, **calibrated, **params}


def _model(scenario: Scenario, base) -> tuple:
    """The model a chunk task runs: the scenario and its base data (one key of the graph)."""
    return scenario, base


def _pick(chunk: dict, name: str) -> np.ndarray:
    """One variable's block of a chunk (a view: nothing is copied)."""
    return chunk[name]


def run_graph(scenario: Scenario, base, draws: int, seed: int, sampling: str, chunk_size: int, dtype: str,
              names: dict[str, tuple]) -> dict:
    """The dask arrays of a run, one per name in ``names`` (name to the shape of a draw).

    The graph has one layer for the model (the scenario and its base data: a single key, so
    that a worker process receives it once and every chunk task on it shares it), one layer
    of chunk tasks (each samples and runs its draws once) and one layer per variable whose
    tasks pick that variable's block from the chunk's result, on the worker that holds it.
    Its layers grow with the variables and its tasks with chunks x variables, each a
    dictionary lookup; the chunk results are never copied per variable.

    Returns
    -------
    dict of str to dask.array.Array, shape (draws, *names[name])
    """
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    token = tokenize(scenario.hash, json.dumps(base.sources, sort_keys=True, default=str), base.as_of,
                     draws, seed, sampling, chunk_size, dtype)
    model = f"risk-model-{token}"
    chunk = f"risk-chunk-{token}"
    bounds = [(lo, min(lo + chunk_size, draws)) for lo in range(0, draws, chunk_size)]
    layers = {model: {model: (_model, scenario, base)},
              chunk: {(chunk, i): (_chunk, model, draws, seed, sampling, lo, hi, dtype) for i, (lo, hi) in enumerate(bounds)}}
    deps = {model: set(), chunk: {model}}
    sizes = tuple(hi - lo for lo, hi in bounds)
    arrays = {}
    for name, tail in names.items():
        key = f"{name}-{token}"
        layers[key] = {(key, i, *(0,) * len(tail)): (_pick, (chunk, i), name) for i in range(len(bounds))}
        deps[key] = {chunk}
        graph = HighLevelGraph({k: layers[k] for k in (model, chunk, key)}, {k: deps[k] for k in (model, chunk, key)})
        arrays[name] = da.Array(graph, key, (sizes, *((n,) for n in tail)), dtype=dtype)
    return arrays


def simulate_dask(scenario: Scenario, draws: int, seed: int, sampling: str, chunk_size: int = 6 * BLOCK,
                  dtype: str = "float32") -> xr.Dataset:
    """A lazy, dask-backed run: the same Dataset as :func:`risk.simulate`, chunked along ``draw``.

    The graph (:func:`run_graph`) has a task per chunk and a cheap task per chunk and variable.

    Raises
    ------
    ScenarioError
        For parameters the data cannot support (before any work starts).
    """
    if sampling == "lhs" and draws > LHS_MAX_LAZY:
        raise ScenarioError(scenario.source, [Problem(
            "sampling", f"lhs builds its whole design for every chunk; use mc or sobol for dask-backed runs over "
                        f"{LHS_MAX_LAZY:,} draws", "lhs", True)])
    if sampling == "sobol":
        warn_sobol_balance(draws, stacklevel=4)
    base = scenario.base_data()
    H = scenario.settings.horizon
    names = {**{name: (H + 1,) for name in OUTPUTS}, **{name: () for name in CALIBRATED},
             **{name: () for name in scenario.parameters}}
    arrays = run_graph(scenario, base, draws, seed, sampling, chunk_size, dtype, names)
    ds = dataset(scenario, base, {n: arrays[n] for n in scenario.parameters}, {n: arrays[n] for n in OUTPUTS},
                 {n: arrays[n] for n in CALIBRATED}, seed=seed, sampling=sampling)
    ds.attrs["chunk_size"] = chunk_size
    return ds
