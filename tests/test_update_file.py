"""An update saved as weights referring to its run: small, joined back exactly, refused when the run is gone or changed."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import risk
from risk.cli import app
from risk.io import OutputError, RunFileError
from risk.update import update
from risk.weights import content_hash

from conftest import BASE_FILE

runner = CliRunner()
OBS = "aws_operating_margin[2026] = 0.37 +- 0.03"
OBS2 = "nvda_gross_margin[2026] = 0.72 +- 0.02"


@pytest.fixture(scope="module")
def simulated():
    return risk.simulate(BASE_FILE, draws=3000, seed=7)


@pytest.fixture()
def saved(tmp_path, simulated):
    return risk.save_run(simulated, tmp_path / "runs" / "base.nc")


def _size(path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def test_the_update_file_is_small_and_loads_as_the_updated_run(saved, tmp_path):
    result = runner.invoke(app, ["update", str(saved), "--observe", OBS, "--out", str(tmp_path / "u.nc")])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'u.nc'}: the update's weights, referring to {saved}" in " ".join(result.output.split())
    assert _size(tmp_path / "u.nc") < 0.05 * _size(saved)
    run = risk.load_run(saved)
    expected = update(run, [OBS]).run
    back = risk.load_run(tmp_path / "u.nc")
    xr.testing.assert_identical(back, expected)
    q = back.risk.quantile("aws_operating_margin", [0.05, 0.5, 0.95]).value
    np.testing.assert_array_equal(q.values, expected.risk.quantile("aws_operating_margin", [0.05, 0.5, 0.95]).value.values)
    assert not np.allclose(q.values, run.risk.quantile("aws_operating_margin", [0.05, 0.5, 0.95]).value.values)
    with xr.open_dataset(tmp_path / "u.nc", engine="h5netcdf") as raw:
        assert set(raw.data_vars) == {"weight", "log_likelihood"}
        assert raw.attrs["update_of"] == "runs/base.nc" and raw.attrs["update_of_sha256"] == content_hash(run)


def test_updates_of_updates_compose_and_resample_through_files(saved, tmp_path):
    run = risk.load_run(saved)
    risk.save_update(update(run, [OBS]).run, tmp_path / "u1.nc", saved, original=run)
    twice = update(risk.load_run(tmp_path / "u1.nc"), [OBS2])
    risk.save_update(twice.run, tmp_path / "u2.nc", tmp_path / "u1.nc")
    both = update(run, [OBS, OBS2]).run  # updating twice is updating once on both
    np.testing.assert_allclose(risk.load_run(tmp_path / "u2.nc")["weight"].values, both["weight"].values, rtol=1e-9, atol=1e-15)
    resampled = update(risk.load_run(tmp_path / "u1.nc"), [OBS2], resample=True).run
    risk.save_update(resampled, tmp_path / "u3.zarr", tmp_path / "u1.nc")
    back = risk.load_run(tmp_path / "u3.zarr")
    xr.testing.assert_identical(back, resampled)
    rows = back["source_draw"].values
    assert len(set(rows)) < back.sizes["draw"]  # resampled: some draws repeat
    np.testing.assert_array_equal(back["nvda_gross_margin"].values, run["nvda_gross_margin"].values[rows])


def test_a_missing_or_changed_run_is_refused(saved, tmp_path):
    risk.save_update(update(risk.load_run(saved), [OBS]).run, tmp_path / "u.nc", saved)
    moved = tmp_path / "elsewhere.nc"
    shutil.move(saved, moved)
    with pytest.raises(RunFileError, match=rf"u\.nc: is an update of the run runs/base\.nc, which is missing \(looked for "
                                           rf".*runs/base\.nc and .*runs/base\.nc\); put the run back, or update the run again"):
        risk.load_run(tmp_path / "u.nc")
    risk.save_run(risk.simulate(BASE_FILE, draws=3000, seed=8), saved)  # another run in its place
    result = runner.invoke(app, ["analyze", str(tmp_path / "u.nc")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert f"u.nc: is an update of the run {saved}, which has changed since the update was made (content hash " in said
    assert "its weights no longer fit the run's draws; run risk update on the run again" in said


def test_the_same_run_saved_again_compressed_or_as_zarr_still_fits(saved, tmp_path):
    run = risk.load_run(saved)
    risk.save_update(update(run, [OBS]).run, tmp_path / "u.nc", saved)
    risk.save_run(run, saved, compress=True)
    assert risk.load_run(tmp_path / "u.nc")["weight"].sum() == pytest.approx(1.0)
    risk.save_run(run, tmp_path / "z.zarr")
    assert content_hash(risk.load_run(tmp_path / "z.zarr")) == content_hash(run)
    kept = risk.load_run(risk.save_run(run, tmp_path / "k.nc", keep="margins"))
    assert content_hash(kept) != content_hash(run)


def test_an_update_cannot_replace_its_own_run(saved, tmp_path):
    risk.save_update(update(risk.load_run(saved), [OBS]).run, tmp_path / "u.nc", saved)
    for run, out in ((saved, saved), (tmp_path / "u.nc", tmp_path / "u.nc"), (tmp_path / "u.nc", saved)):
        result = runner.invoke(app, ["update", str(run), "--observe", OBS2, "--out", str(out)])
        assert result.exit_code == 2
        assert "--out: is the run being updated, or one it builds on: the update is saved as weights that refer to " \
               "that run, so it cannot replace it; choose another path" in " ".join(result.output.split())
    with pytest.raises(OutputError, match="is the run being updated"):
        risk.save_update(risk.load_run(saved), saved, saved)
    assert risk.load_run(tmp_path / "u.nc").attrs["observations"] == f'["{OBS}"]'
