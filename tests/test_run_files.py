"""One gate for run files: every command reads .nc and .zarr runs alike, and refuses, with a
message naming the file and what is wrong, whatever is not a usable run."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import risk
from risk.cli import app
from risk.io import RunFileError

from conftest import BASE_FILE

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    ds = risk.simulate(BASE_FILE, draws=2000, seed=5)
    nc, zarr = folder / "base.nc", folder / "base.zarr"
    risk.save_run(ds, nc)
    risk.save_run(ds, zarr)
    return {"nc": nc, "zarr": zarr, "ds": ds, "folder": folder}


def test_nc_and_zarr_load_to_the_same_run(runs):
    a, b = risk.load_run(runs["nc"]), risk.load_run(runs["zarr"])
    for name in ("nvda_gross_margin", "aws_operating_margin", "pricing.elasticity"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert a.risk.prob_below("nvda_gross_margin", 0.65).value.shape == b.risk.prob_below("nvda_gross_margin", 0.65).value.shape


@pytest.mark.parametrize("fmt", ["nc", "zarr"])
@pytest.mark.parametrize("command", [
    ["analyze", "{run}"],
    ["compare", "{run}", "{run}"],
    ["reverse-stress", "{run}", "--event", "nvda_gross_margin[2030] < 0.65"],
    ["update", "{run}", "--observe", "aws_operating_margin[2026] = 0.37 +- 0.03", "--out", "{folder}/updated.nc"],
    ["report", "{run}", "--out", "{folder}/report.html", "--hindcast", "none.yaml"],
])
def test_every_command_reads_both_formats(runs, fmt, command):
    args = [a.format(run=runs[fmt], folder=runs["folder"]) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def _corrupt(path, how):
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif how == "text":
        path.write_text("draw,year\n1,2\n")
    return path


@pytest.mark.parametrize("how, fragment", [
    ("empty", "cannot be read as a NetCDF run"),
    ("truncated", "cannot be read as a NetCDF run"),
    ("text", "cannot be read as a NetCDF run"),
])
def test_unreadable_files_are_refused(runs, tmp_path, how, fragment):
    bad = _corrupt(shutil.copy(runs["nc"], tmp_path / f"{how}.nc") and tmp_path / f"{how}.nc", how)
    with pytest.raises(RunFileError, match=fragment):
        risk.load_run(bad)
    result = runner.invoke(app, ["analyze", str(bad)])
    assert result.exit_code == 2 and str(bad) in " ".join(result.output.split()) and "Traceback" not in result.output


def test_foreign_and_damaged_runs_are_refused(runs, tmp_path):
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(RunFileError, match="is not a run of risk: no dimension 'draw', dimension 'year', attribute 'risk_version'"):
        risk.load_run(foreign)
    renamed = tmp_path / "renamed.nc"
    runs["ds"].rename({"year": "yr"}).to_netcdf(renamed, engine="h5netcdf")
    with pytest.raises(RunFileError, match="no dimension 'year'"):
        risk.load_run(renamed)
    lacking = tmp_path / "lacking.nc"
    runs["ds"].drop_vars(["aws_depreciation"]).to_netcdf(lacking, engine="h5netcdf")
    with pytest.raises(RunFileError, match="lacks the output aws_depreciation"):
        risk.load_run(lacking)
    older = tmp_path / "older.nc"  # written before the one-off charges were outputs: still a run
    runs["ds"].drop_vars(["nvda_gross_margin_underlying", "nvda_one_off_charges"]).to_netcdf(older, engine="h5netcdf")
    assert "nvda_one_off_charges" not in risk.load_run(older)
    empty = tmp_path / "nodraws.nc"
    runs["ds"].isel(draw=slice(0, 0)).to_netcdf(empty, engine="h5netcdf")
    with pytest.raises(RunFileError, match="has no draws"):
        risk.load_run(empty)


@pytest.mark.parametrize("weights", [np.nan, 0.0, -1.0])
def test_invalid_weights_are_refused(runs, tmp_path, weights):
    ds = runs["ds"].assign(weight=("draw", np.full(runs["ds"].sizes["draw"], weights)))
    bad = tmp_path / "weights.nc"
    ds.to_netcdf(bad, engine="h5netcdf")
    with pytest.raises(RunFileError, match="weights that are not all finite and non-negative with a positive sum"):
        risk.load_run(bad)


def test_missing_paths_name_what_was_expected(tmp_path):
    with pytest.raises(RunFileError, match="no such run file"):
        risk.load_run(tmp_path / "nothing.nc")
    with pytest.raises(RunFileError, match="no such run folder"):
        risk.load_run(tmp_path / "nothing.zarr")
    with pytest.raises(RunFileError, match="is not a file"):
        risk.load_run(tmp_path)
    result = runner.invoke(app, ["analyze", str(tmp_path / "nothing.nc")])
    assert result.exit_code == 2 and "no such run file" in result.output


@pytest.mark.parametrize("fmt", ["nc", "zarr"])
def test_damaged_bytes_are_refused_not_used(runs, tmp_path, fmt):
    """Runs carry checksums (Fletcher-32 in NetCDF, CRC-32 in Zarr): 4 KB of flipped bits in the
    values of a run are refused when it is read, never loaded as numbers."""
    if fmt == "nc":
        bad = tmp_path / "bad.nc"
        data = bytearray(runs["nc"].read_bytes())
        at = len(data) // 2
    else:
        bad = tmp_path / "bad.zarr"
        shutil.copytree(runs["zarr"], bad)
        chunk = sorted((bad / "aws_depreciation").glob("0*"))[0]
        data, at = bytearray(chunk.read_bytes()), 16
    for i in range(at, min(at + 4096, len(data))):
        data[i] ^= 0xFF
    (bad if fmt == "nc" else chunk).write_bytes(bytes(data))
    with pytest.raises(RunFileError, match="cannot be read as a (NetCDF|Zarr) run"):
        risk.load_run(bad)
