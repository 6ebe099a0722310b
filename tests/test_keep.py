"""Lighter runs: --keep stores only some outputs, --compress compresses; what lacks an output says so."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import risk
from risk.cli import app
from risk.glossary import CALIBRATED, OUTPUT_GROUPS, OUTPUTS, select_outputs
from risk.io import RunFileError, check_run, keep_outputs
from risk.report import REPORT_OUTPUTS, render_html

from conftest import BASE_FILE

runner = CliRunner()


@pytest.fixture(scope="module")
def small():
    return risk.simulate(BASE_FILE, draws=3000, seed=5)


def _size(path) -> int:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return os.path.getsize(path)


def test_the_groups_split_the_outputs_and_margins_holds_what_the_report_reads():
    nvidia, aws, drivers = (set(OUTPUT_GROUPS[g]) for g in ("nvidia", "aws", "drivers"))
    assert not (nvidia & aws or nvidia & drivers or aws & drivers)
    assert nvidia | aws | drivers == set(OUTPUTS) == set(OUTPUT_GROUPS["all"])
    assert set(REPORT_OUTPUTS) <= set(OUTPUT_GROUPS["margins"]) <= set(OUTPUTS)


def test_select_outputs_expands_groups_and_commas_in_glossary_order():
    assert select_outputs(["aws_revenue,nvda_revenue", "nvda_revenue"]) == ("nvda_revenue", "aws_revenue")
    assert select_outputs("margins") == OUTPUT_GROUPS["margins"]
    with pytest.raises(ValueError, match=r"no output or group named 'nvda_revnue' \(did you mean 'nvda_revenue'\?\); "
                                         r"groups: margins, nvidia, aws, drivers, all; outputs: capex_hyperscaler, "):
        select_outputs("margins,nvda_revnue")


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_keep_stores_exactly_the_asked_outputs_and_every_parameter(small, tmp_path, suffix):
    path = risk.save_run(small, tmp_path / f"kept{suffix}", keep=["margins", "aws_revenue"])
    if suffix == ".nc":
        with h5py.File(path) as f:
            stored = {k for k in f.keys() if k not in ("draw", "year", "scenario", "reported_quarters")}
    else:
        stored = {p.name for p in path.iterdir() if p.is_dir() and p.name not in ("draw", "year", "scenario", "reported_quarters")}
    params = {str(v) for v in small.data_vars if small[v].attrs.get("kind") == "parameter"}
    assert stored == {*OUTPUT_GROUPS["margins"], "aws_revenue", *params, *CALIBRATED}
    back = risk.load_run(path)
    assert json.loads(back.attrs["outputs_kept"]) == list(select_outputs(["margins", "aws_revenue"]))
    assert back.attrs["keep"] == "margins,aws_revenue" and back.attrs["scenario_hash"] == small.attrs["scenario_hash"]
    for v in ("nvda_gross_margin", "aws_revenue", "pricing.elasticity"):
        np.testing.assert_array_equal(back[v].values, small[v].values)


def test_keep_all_is_the_whole_run(small):
    assert keep_outputs(small, "all") is small and keep_outputs(small, None) is small


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_kept_and_compressed_runs_are_smaller_and_read_back_the_same(small, tmp_path, suffix):
    sizes = {}
    for name, kw in {"full": {}, "kept": {"keep": "margins"}, "compressed": {"compress": True},
                     "both": {"keep": "margins", "compress": True}}.items():
        sizes[name] = _size(risk.save_run(small, tmp_path / f"{name}{suffix}", **kw))
    # margins are 7 of the 31 outputs (a third of the run's bytes with its 63 parameters)
    share = keep_outputs(small, "margins").nbytes / small.nbytes
    assert 0.3 < share < 0.45
    assert sizes["kept"] < (share + 0.1) * sizes["full"]
    # a NetCDF run is stored uncompressed by default; a Zarr run is already shuffled and lz4-compressed
    assert sizes["compressed"] < (0.9 if suffix == ".nc" else 0.95) * sizes["full"]
    assert sizes["both"] < min(sizes["kept"], sizes["compressed"])
    back = risk.load_run(tmp_path / f"compressed{suffix}")
    xr.testing.assert_identical(back.drop_attrs(), risk.load_run(tmp_path / f"full{suffix}").drop_attrs())


def test_a_bad_compression_level_is_refused(small, tmp_path):
    with pytest.raises(ValueError, match="compress must be True, False or a level 1-9"):
        risk.save_run(small, tmp_path / "x.nc", compress=12)


def test_a_run_lacking_outputs_without_keep_is_still_refused(small):
    with pytest.raises(RunFileError, match="lacks the outputs capex_hyperscaler"):
        check_run(small.drop_vars(["capex_hyperscaler", "utilization"]))
    check_run(keep_outputs(small, "margins"))


def test_unknown_keep_name_is_refused_before_any_work(tmp_path):
    out = tmp_path / "x.nc"
    result = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "500", "--keep", "margins", "--keep", "aws_revnue",
                                 "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "error: --keep: no output or group named 'aws_revnue' (did you mean 'aws_revenue'?); groups: margins, " \
           "nvidia, aws, drivers, all; outputs: " in result.output
    assert "(got 'margins,aws_revnue')" in result.output
    result = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "500", "--compress"])
    assert result.exit_code == 2
    assert "--compress: shapes the saved run: give --out RUN.nc or --out RUN.zarr too" in result.output


def test_commands_name_the_output_a_kept_run_lacks(tmp_path):
    run = tmp_path / "m.nc"
    made = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "1000", "--keep", "margins", "--compress", "--out", str(run)])
    assert made.exit_code == 0, made.output
    said = f"the run has no output 'aws_revenue': it was saved with --keep margins (outputs nvda_gross_margin, "
    for args in (["analyze", str(run), "-v", "aws_revenue"],
                 ["reverse-stress", str(run), "--event", "aws_revenue[2030] < 100"],
                 ["update", str(run), "--observe", "aws_revenue[2026] = 150 +- 5", "--out", str(tmp_path / "u.nc")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert said in " ".join(result.output.split()), args
        assert "Traceback" not in result.output
    nvidia = tmp_path / "n.nc"
    runner.invoke(app, ["run", str(BASE_FILE), "--draws", "1000", "--keep", "nvidia", "--out", str(nvidia)])
    for args in (["report", str(nvidia), "--out", str(tmp_path / "r.html")], ["compare", str(nvidia), str(run)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert f"{nvidia}: the run has no output 'aws_operating_margin': it was saved with --keep nvidia" in result.output
    with pytest.raises(KeyError, match="it was saved with --keep margins"):
        risk.load_run(run).risk.quantile("aws_revenue", 0.5)


def test_the_report_reads_a_run_kept_with_margins(small, tmp_path):
    kept = risk.load_run(risk.save_run(small, tmp_path / "m.nc", keep="margins"))
    html = render_html([kept, small], target_year=2030)
    assert html.count("<svg") >= 5 and "Drivers of NVIDIA gross margin" in html


def test_a_dask_run_keeps_and_a_run_without_the_key_margins_updates(tmp_path):
    store = tmp_path / "d.zarr"
    made = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "2000", "--memory", "1GB", "--keep", "drivers",
                               "--compress", "--out", str(store)])
    assert made.exit_code == 0, made.output
    back = risk.load_run(store)
    assert {v for v in OUTPUTS if v in back} == set(OUTPUT_GROUPS["drivers"]) and back.attrs["keep"] == "drivers"
    result = runner.invoke(app, ["update", str(store), "--observe", "capex_hyperscaler[2026] = 500 +- 60",
                                 "--out", str(tmp_path / "u.nc")])
    assert result.exit_code == 0, result.output
    assert risk.load_run(tmp_path / "u.nc")["weight"].sum() == pytest.approx(1.0)
