"""Dask-backed runs: identical numbers whatever the chunking or workers; streaming; memory budget."""

from __future__ import annotations

import numpy as np
import pytest

import risk
from risk.scale import bytes_per_draw, check_memory, chunk_for_memory, parse_memory

DRAWS = 32_768  # a power of 2 keeps Sobol balanced


def same(a, b) -> list[str]:
    return [str(v) for v in b.data_vars if not np.array_equal(a[v].values, b[v].values)]


@pytest.fixture(scope="module")
def local(base_scenario):
    return {m: risk.simulate(base_scenario, draws=DRAWS, seed=5, sampling=m) for m in ("mc", "sobol", "lhs")}


@pytest.mark.parametrize("sampling", ["mc", "sobol", "lhs"])
def test_bitwise_identical_across_chunk_sizes(base_scenario, local, sampling):
    import dask

    for chunk in (1000, 10_000, 100_000):
        lazy = risk.simulate(base_scenario, draws=DRAWS, seed=5, sampling=sampling, chunk_size=chunk, lazy=True)
        assert lazy["nvda_gross_margin"].chunks is not None
        with dask.config.set(scheduler="threads"):
            assert same(lazy.compute(), local[sampling]) == [], chunk


@pytest.mark.slow
def test_one_and_two_dask_workers_agree(base_scenario, local):
    from distributed import Client, LocalCluster

    results = []
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster):
            lazy = risk.simulate(base_scenario, draws=DRAWS, seed=5, sampling="mc", chunk_size=7000, lazy=True)
            results.append(lazy.compute())
    assert same(results[0], results[1]) == []
    assert same(results[0], local["mc"]) == []


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_streamed_to_disk(base_scenario, local, tmp_path, suffix):
    import dask

    lazy = risk.simulate(base_scenario, draws=DRAWS, seed=5, sampling="sobol", chunk_size=8000, lazy=True)
    with dask.config.set(scheduler="threads"):
        path = risk.save_run(lazy, tmp_path / f"run{suffix}")
    back = risk.load_run(path)
    assert same(back, local["sobol"]) == []
    assert back.attrs["seed"] == 5 and back.attrs["chunk_size"] == 8000


def test_memory_budget():
    assert parse_memory("4GB") == 4_000_000_000 and parse_memory("2GiB") == 2 * 1024**3 and parse_memory("512 MB") == 512_000_000
    with pytest.raises(ValueError, match="memory 'lots' is not a size such as 4GB"):
        parse_memory("lots")


def test_memory_refusal_and_chunking(base_scenario):
    from risk.glossary import CALIBRATED, OUTPUTS, PARAMETERS

    per = bytes_per_draw(base_scenario)  # float32: every output in 8 years, every parameter, the calibrated values
    assert per == 4 * (len(OUTPUTS) * 8 + len(PARAMETERS) + len(CALIBRATED)) == 4 * (31 * 8 + 66 + 3)
    with pytest.raises(risk.ScenarioError, match=r"memory: a run of 10,000,000 draws takes 12.\d\d GB in memory, over the budget of 2.00 GB; write it to disk"):
        check_memory(base_scenario, 10_000_000, 2_000_000_000, to_disk=False)
    check_memory(base_scenario, 10_000_000, 2_000_000_000, to_disk=True)
    assert 1024 <= chunk_for_memory(base_scenario, 2_000_000_000, workers=2) <= 100_000


def test_memory_chosen_chunks_are_whole_blocks_when_one_fits(base_scenario):
    """Each block of random numbers is then drawn once, in place; below a block, multiples of 1,024."""
    from risk.sampling import BLOCK

    for budget, workers in [(1_500_000_000, 2), (2_000_000_000, 2), (4_000_000_000, 1), (24_000_000_000, 2)]:
        chunk = chunk_for_memory(base_scenario, budget, workers)
        assert chunk >= BLOCK and chunk % BLOCK == 0, (budget, workers, chunk)
    small = chunk_for_memory(base_scenario, 500_000_000, workers=2)
    assert small < BLOCK and small % 1024 == 0


def test_large_lhs_is_refused_on_dask(base_scenario):
    with pytest.raises(risk.ScenarioError, match="lhs builds its whole design for every chunk; use mc or sobol"):
        risk.simulate(base_scenario, draws=3_000_000, sampling="lhs", lazy=True)


def test_cli_dask_run(tmp_path):
    from typer.testing import CliRunner

    from risk.cli import app

    from conftest import BASE_FILE

    r = CliRunner().invoke(app, ["run", str(BASE_FILE), "-n", "20000", "--sampling", "mc", "--scheduler", "threads",
                                 "--chunk-size", "5000", "--out", str(tmp_path / "r.zarr")])
    assert r.exit_code == 0, r.output
    assert "streamed in chunks of 5,000 draws" in r.output
    bad = CliRunner().invoke(app, ["run", str(BASE_FILE), "-n", "100", "--scheduler", "mpi"])
    assert bad.exit_code == 2 and "must be threads, processes, synchronous or tcp://host:port" in bad.output


@pytest.mark.slow
@pytest.mark.parametrize("scheduler,suffix", [("processes", ".zarr"), ("threads", ".zarr"), ("threads", ".nc"),
                                              ("tcp", ".zarr"), ("tcp", ".nc")])
def test_cli_schedulers_stream_the_local_run_bitwise(tmp_path, base_scenario, local, scheduler, suffix):
    """risk run --scheduler processes|threads|tcp://127.0.0.1:PORT --out RUN: the same numbers as
    a local run, in Zarr and NetCDF (processes write Zarr only: several processes cannot write
    one NetCDF file, which is refused with that reason elsewhere)."""
    import contextlib

    from typer.testing import CliRunner

    from risk.cli import app

    from conftest import ANNUAL_FILE as BASE_FILE  # the file of base_scenario, which local ran

    with contextlib.ExitStack() as stack:
        if scheduler == "tcp":
            from distributed import LocalCluster

            cluster = stack.enter_context(LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None))
            scheduler = cluster.scheduler_address
            assert scheduler.startswith("tcp://127.0.0.1:")
        out = tmp_path / f"r{suffix}"
        r = CliRunner().invoke(app, ["run", str(BASE_FILE), "-n", str(DRAWS), "--seed", "5", "--sampling", "mc",
                                     "--scheduler", scheduler, "--chunk-size", "16384", "--out", str(out)])
        assert r.exit_code == 0, r.output
    assert same(local["mc"], risk.load_run(out)) == []


def test_graph_grows_with_chunks_not_chunks_times_variables(base_scenario):
    """One layer for the model, one of chunk tasks, one per variable: the layers do not grow
    with the chunks, and the tasks are a chunk task plus a lookup per variable for each chunk."""
    graphs = {}
    for chunks in (2, 8):
        ds = risk.simulate(base_scenario, draws=chunks * 1024, seed=5, sampling="mc", chunk_size=1024, lazy=True)
        graphs[chunks] = ds.__dask_graph__()
    variables = len(ds.data_vars)
    assert variables > 90
    for chunks, graph in graphs.items():
        assert len(graph.layers) == variables + 2, chunks
        assert len(graph) == 1 + chunks * (1 + variables), chunks
    chunk_layer = next(name for name in graphs[8].layers if name.startswith("risk-chunk-"))
    assert len(graphs[8].layers[chunk_layer]) == 8


def test_the_model_is_one_key_that_every_chunk_task_shares(base_scenario):
    """The scenario and its base data are one key of the graph: a worker receives them once,
    not with every chunk task."""
    from risk.scale import _chunk, _model

    ds = risk.simulate(base_scenario, draws=4 * 1024, seed=5, sampling="mc", chunk_size=1024, lazy=True)
    graph = ds.__dask_graph__()
    (model,) = [name for name in graph.layers if name.startswith("risk-model-")]
    (spec,) = graph.layers[model].values()
    assert spec[0] is _model and spec[1] is base_scenario
    (chunks,) = [name for name in graph.layers if name.startswith("risk-chunk-")]
    tasks = list(graph.layers[chunks].values())
    assert len(tasks) == 4 and all(t[0] is _chunk and t[1] == model for t in tasks)
    assert not any(isinstance(arg, risk.Scenario) for t in tasks for arg in t)
