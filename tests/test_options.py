"""Every command-line option checked before work, with the option's name, the value and what is allowed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import risk
from risk.cli import app

from conftest import BASE_FILE

runner = CliRunner()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("opts") / "r.nc"
    risk.save_run(risk.simulate(BASE_FILE, draws=1000, seed=1), path)
    return str(path)


@pytest.mark.parametrize("args, message", [
    (["run", "{base}", "--draws", "3000000000"], "draws: a run of 3,000,000,000 draws takes"),
    (["run", "{base}", "--draws", "100", "--dtype", "abc"], "dtype: must be float32 or float64 (got 'abc')"),
    (["run", "{base}", "--draws", "100", "--chunk-size", "0", "--scheduler", "threads"], "chunk_size: must be a whole number >= 1 (got 0)"),
    (["run", "{base}", "--draws", "100", "--scheduler", "mpi"], "--scheduler: must be threads, processes, synchronous or tcp://host:port (got 'mpi')"),
    (["run", "{base}", "--draws", "100", "--scheduler", "processes", "--out", "{tmp}/p.nc"],
     "--scheduler: with processes the run streams to Zarr only"),
    (["run", "{base}", "--draws", "100", "--out", "{tmp}/p.csv"], "a run is written as a .nc file or a .zarr folder, not '.csv'"),
    (["analyze", "{run}", "--level", "0"], "--level: must be in (0, 1), for example 0.95 (got 0.0)"),
    (["analyze", "{run}", "--level", "1.5"], "--level: must be in (0, 1), for example 0.95 (got 1.5)"),
    (["analyze", "{run}", "--year", "1900"], "--year: the run's years are 2025-2032 (got 1900)"),
    (["sensitivity", "{base}", "--method", "foo"], "--method: must be one of: tornado, spearman, prcc, sobol (got 'foo')"),
    (["sensitivity", "{base}", "--draws", "1"], "--draws: must be at least 100"),
    (["sensitivity", "{base}", "--top", "-1", "--draws", "200"], "--top: must be at least 1 (got -1)"),
    (["sensitivity", "{base}", "--year", "1999", "--draws", "200"], "--year: the scenario's projected years are 2026-2032 (got [1999])"),
    (["stress", "{base}", "--pin", "aws.server_life=5.5", "--draws", "200"], "aws.server_life: depreciation life of AI servers takes whole numbers only (got 5.5)"),
    (["reverse-stress", "{run}", "--event", "nvda_gross_margin[2030] < 0.6", "--top", "0"], "--top: must be at least 1 (got 0)"),
    (["report", "{run}", "--year", "1900", "--out", "{tmp}/r.html", "--hindcast", "none.yaml"],
     "--year: the run's projected years are 2026-2032 (got 1900)"),
])
def test_options_are_refused_before_work(saved, tmp_path, args, message):
    args = [a.format(base=BASE_FILE, run=saved, tmp=tmp_path) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not [p for p in tmp_path.iterdir()]  # nothing written


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_refused_quickly():
    import time

    t = time.perf_counter()
    result = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "100", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "--scheduler: no dask scheduler answered there within 5 s" in " ".join(result.output.split())
    assert time.perf_counter() - t < 20
