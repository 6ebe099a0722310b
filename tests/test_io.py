"""Outputs: labels, provenance, NetCDF round trip, atomic writes, reproducibility."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
import xarray as xr

import risk
from risk.io import OutputError
from risk.glossary import CALIBRATED, OUTPUTS, PARAMETERS


@pytest.fixture(scope="module")
def run(base_scenario):
    return risk.simulate(base_scenario, draws=2000, seed=42)


def test_every_output_and_parameter_is_labeled(run):
    for name in OUTPUTS:
        assert run[name].dims == ("draw", "year")
        assert run[name].attrs["units"] and run[name].attrs["long_name"]
    for path in PARAMETERS:
        var = run[path]
        assert var.dims == ("draw",)
        assert {"units", "long_name", "symbol", "distribution", "source", "note"} <= set(var.attrs)
    for name in CALIBRATED:
        assert run[name].dims == ("draw",)
    assert list(run["year"].values) == list(range(2025, 2033))
    assert (run["scenario"].values == "base").all()


def test_provenance_attrs(run, base_scenario):
    a = run.attrs
    assert a["seed"] == 42 and a["sampling"] == "lhs" and a["base_year"] == 2025 and a["draws"] == 2000
    assert a["scenario_hash"] == base_scenario.hash and len(a["scenario_hash"]) == 64
    assert a["risk_version"] == risk.__version__
    assert a["scenario_file_sha256"] == base_scenario.file_sha256
    assert "pricing.elasticity" in json.loads(a["scenarios_json"])["base"]["parameters"]


def test_scenario_hash_ignores_comments_but_not_values(tmp_path, quarterly_scenario):
    from conftest import BASE_FILE, SCENARIOS

    base_scenario = quarterly_scenario  # base.yaml as it is

    text = BASE_FILE.read_text()
    (tmp_path / "data").symlink_to(SCENARIOS / "data")
    (tmp_path / "a.yaml").write_text("# another comment\n" + text)
    (tmp_path / "b.yaml").write_text(text.replace("mode: 1.5", "mode: 1.6"))
    assert risk.load_scenario(tmp_path / "a.yaml").hash == base_scenario.hash
    assert risk.load_scenario(tmp_path / "b.yaml").hash != base_scenario.hash


def test_netcdf_round_trip_is_identical(run, tmp_path):
    path = risk.save_run(run, tmp_path / "run.nc")
    back = risk.load_run(path)
    xr.testing.assert_identical(back, run)
    assert oct(os.stat(path).st_mode & 0o777) != "0o600"


def test_a_failed_write_leaves_no_file(run, tmp_path, monkeypatch):
    target = tmp_path / "run.nc"

    def broken(self, path, **kw):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OutputError, match=r"run.nc: could not be written \(disk full\); any output that was there is unchanged"):
        risk.save_run(run, target)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file(run, tmp_path, monkeypatch):
    target = risk.save_run(run, tmp_path / "run.nc")
    before = target.read_bytes()
    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda self, path, **kw: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(OutputError, match=r"could not be written \(crash\); any output that was there is unchanged"):
        risk.save_run(run, target)  # the NetCDF writer's failure, in its forked child, reported here
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]


def test_same_seed_same_numbers(base_scenario, run):
    again = risk.simulate(base_scenario, draws=2000, seed=42)
    for name in OUTPUTS:
        np.testing.assert_array_equal(again[name].values, run[name].values)


@pytest.mark.parametrize("sampling", ["mc", "lhs", "sobol"])
def test_results_do_not_depend_on_chunks_or_threads(base_scenario, sampling):
    draws = 4096
    ref = risk.simulate(base_scenario, draws=draws, seed=1, sampling=sampling, dtype="float64", chunk_size=draws, threads=1)
    for chunk, threads in [(1000, 1), (1000, 2), (777, 2), (100_000, 2)]:
        other = risk.simulate(base_scenario, draws=draws, seed=1, sampling=sampling, dtype="float64", chunk_size=chunk, threads=threads)
        for name in OUTPUTS:
            np.testing.assert_array_equal(other[name].values, ref[name].values, err_msg=f"{name} chunk={chunk}")


def test_float32_storage_rounds_float64(base_scenario):
    a = risk.simulate(base_scenario, draws=500, seed=3, dtype="float64")
    b = risk.simulate(base_scenario, draws=500, seed=3, dtype="float32")
    assert b["nvda_gross_margin"].dtype == np.float32
    np.testing.assert_allclose(b["nvda_gross_margin"].values, a["nvda_gross_margin"].values, rtol=1e-6)


def test_progress_is_reported(base_scenario):
    seen = []
    risk.simulate(base_scenario, draws=20_000, chunk_size=8192, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (20_000, 20_000) and len(seen) == 3


def test_scenario_hash_is_stable_to_the_last_digits_of_a_fit(base_scenario):
    """A ci90 fit solved by another scipy version differs in the last digits; the hash does not."""
    path, dist = next((p, d) for p, d in base_scenario.parameters.items() if d.ci90 is not None and hasattr(d, "max"))
    nudged = copy.deepcopy(base_scenario)
    object.__setattr__(nudged.parameters[path], "max", dist.max * (1 + 1e-13))
    assert nudged.hash == base_scenario.hash
    object.__setattr__(nudged.parameters[path], "max", dist.max * (1 + 1e-6))
    assert nudged.hash != base_scenario.hash
