"""Scenario sets on dask: every scenario lazily on its share of the draws, stacked along draw,
identical bit for bit to the set run in memory; risk run SET.yaml --scheduler ... --out RUN.zarr."""

from __future__ import annotations

import json

import numpy as np
import pytest

import risk

from conftest import SCENARIOS

DRAWS = 5_000  # outlook's 7 scenarios get 250 to 1,750 draws each
SET_FILE = SCENARIOS / "outlook.yaml"


def differences(a, b) -> list[str]:
    """Variables and coordinates whose values differ (bitwise), and a differing draw count."""
    out = [str(v) for v in b.data_vars if not np.array_equal(a[v].values, b[v].values)]
    out += [c for c in ("draw", "scenario") if not np.array_equal(a[c].values, b[c].values)]
    return out + (["draws"] if a.attrs["scenario_draws"] != b.attrs["scenario_draws"] else [])


@pytest.fixture(scope="module")
def local():
    return {m: risk.simulate(SET_FILE, draws=DRAWS, seed=7, sampling=m) for m in ("mc", "lhs")}


@pytest.mark.parametrize("sampling", ["mc", "lhs"])
def test_a_set_on_dask_threads_is_the_set_in_memory(local, sampling):
    import dask

    lazy = risk.simulate(SET_FILE, draws=DRAWS, seed=7, sampling=sampling, chunk_size=1024, lazy=True)
    assert lazy["nvda_gross_margin"].chunks[0] == (1024,) * 4 + (DRAWS - 4096,)  # one size, as Zarr takes them
    assert lazy.attrs["chunk_size"] == 1024 and lazy.attrs["scenario"] == "outlook"
    assert json.loads(lazy.attrs["scenario_draws"])["base"] == 1750
    with dask.config.set(scheduler="threads"):
        assert differences(lazy.compute(), local[sampling]) == []


def test_a_set_on_two_worker_processes_is_the_set_in_memory(local, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      scheduler_kwargs={"dashboard": False}) as cluster, Client(cluster):
        lazy = risk.simulate(SET_FILE, draws=DRAWS, seed=7, sampling="mc", chunk_size=1024, lazy=True)
        path = risk.save_run(lazy, tmp_path / "set.zarr")
    assert differences(risk.load_run(path), local["mc"]) == []


def test_cli_streams_a_set_on_dask(local, tmp_path):
    from typer.testing import CliRunner

    from risk.cli import app

    out = tmp_path / "set.zarr"
    r = CliRunner().invoke(app, ["run", str(SET_FILE), "-n", str(DRAWS), "--seed", "7", "--sampling", "lhs",
                                 "--scheduler", "threads", "--chunk-size", "2048", "--out", str(out)], terminal_width=200)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "outlook: 5,000 draws, seed 7, lhs, dask threads, chunks of 2,048" in text
    assert "streamed in chunks of 2,048 draws" in r.output
    assert "medians by scenario" in text and "inference_supercycle" in text
    back = risk.load_run(out)
    assert differences(back, local["lhs"]) == []
    assert json.loads(back.attrs["scenario_weights"]) == pytest.approx(json.loads(local["lhs"].attrs["scenario_weights"]))
