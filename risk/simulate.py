"""From a scenario (or a scenario set) to a labeled xarray Dataset: :func:`simulate`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .mixture import ScenarioSet, is_scenario_set, load_scenario_set, simulate_set
from .run import DEFAULT_CHUNK, check_run_options, run_local, run_settings
from .scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["simulate", "DEFAULT_CHUNK"]


def simulate(
    scenario: Scenario | ScenarioSet | str | Path,
    draws: int | None = None,
    seed: int | None = None,
    sampling: str | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
    lazy: bool = False,
    quarterly: bool = False,
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
        Threads running chunks (default: the number of cores).
    dtype : {'float32', 'float64'}
        Storage type of the outputs and sampled parameters. The model computes in float64;
        float32 halves the memory (1M draws x 8 years of 29 outputs: 0.9 GB instead of 1.9).
    progress : callable, optional
        Called as ``progress(draws_done, draws_total)`` after each chunk.
    lazy : bool
        Return a dask-backed Dataset chunked along ``draw`` (``chunk_size`` draws a chunk)
        that computes on demand, on whatever dask scheduler is active, and can be streamed
        to disk with :func:`risk.save_run`; identical numbers (:mod:`risk.scale`).
    quarterly : bool
        On the quarterly clock (``clock: quarter``), outputs on a ``quarter`` dimension (the
        reported quarters from the base year's first to q*, then the simulated ones) instead
        of years.

    Returns
    -------
    xarray.Dataset
        Every output of :data:`risk.glossary.OUTPUTS` with dims (draw, year); every sampled
        parameter, named by its dotted path, with dim (draw); the calibrated per-draw
        quantities of :data:`risk.glossary.CALIBRATED`; coordinates ``draw``, ``year`` and
        ``scenario`` (on draw). Attributes record seed, scenario hash, package version,
        sampling method, base year and the scenario itself.
    """
    if isinstance(scenario, (str, Path)):
        scenario = load_scenario_set(scenario) if is_scenario_set(scenario) else load_scenario(scenario)
    if isinstance(scenario, ScenarioSet):
        if lazy:
            return simulate_set(scenario, draws=draws, seed=seed, sampling=sampling, chunk_size=chunk_size, dtype=dtype,
                                lazy=True)
        return simulate_set(scenario, draws=draws, seed=seed, sampling=sampling, chunk_size=chunk_size,
                            threads=threads, dtype=dtype, progress=progress, quarterly=quarterly)
    draws, seed, sampling = run_settings(scenario, draws, seed, sampling)
    if lazy:
        from .scale import simulate_dask

        check_run_options(scenario.source, draws, seed, sampling, chunk_size, dtype)
        return simulate_dask(scenario, int(draws), int(seed), sampling, chunk_size=chunk_size, dtype=dtype)
    return run_local(scenario, draws, seed, sampling, chunk_size=chunk_size, threads=threads, dtype=dtype,
                     progress=progress, quarterly=quarterly)
