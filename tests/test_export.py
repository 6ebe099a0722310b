"""Exports: --format csv|json|xlsx and --output give the tables' numbers as data, read back equal
to the Python API's; bad options are refused in words; files are written whole or not at all."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import risk
from risk.cli import app
from risk.compare import compare_runs
from risk.export import ROW, number_format, to_text, unit_name, write_tables

from conftest import BASE_FILE, SCENARIOS

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    base = risk.simulate(BASE_FILE, draws=2000, seed=3)
    faster = risk.simulate(risk.load_scenario(BASE_FILE).with_overrides({"pricing.elasticity.mode": 1.8}), draws=2000, seed=4)
    risk.save_run(base, folder / "base.nc")
    risk.save_run(faster, folder / "faster.nc")
    return folder, risk.load_run(folder / "base.nc"), risk.load_run(folder / "faster.nc")


def invoke(*args):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r


def test_analyze_csv_and_json_equal_the_python_api(runs):
    folder, base, _ = runs
    want = base.risk.summary(["nvda_gross_margin", "aws_operating_margin"], years=[2028, 2030]).reset_index()
    args = ["analyze", folder / "base.nc", "-v", "nvda_gross_margin", "-v", "aws_operating_margin", "--year", "2028", "--year", "2030"]
    csv = pd.read_csv(io.StringIO(invoke(*args, "--format", "csv").stdout))
    assert list(csv.columns) == ["variable", "year", "statistic", "units", "value", "se"]
    pd.testing.assert_frame_equal(csv.drop(columns="units"), want, check_exact=True)
    assert set(csv["units"]) == {"fraction"}
    records = json.loads(invoke(*args, "--format", "json").stdout)["estimates"]
    got = pd.DataFrame(records)
    assert len(got) == len(want)
    assert got["value"].to_numpy() == pytest.approx(want["value"].to_numpy(), rel=1e-13)
    assert got["se"].to_numpy() == pytest.approx(want["se"].to_numpy(), rel=1e-13)
    p = got.set_index(["variable", "year", "statistic"]).loc[("nvda_gross_margin", 2030, "P(< 0.65)")]
    assert p["units"] == "fraction" and 0 < p["value"] < 1


def test_analyze_money_keeps_usd_bn(runs):
    folder, base, _ = runs
    csv = pd.read_csv(io.StringIO(invoke("analyze", folder / "base.nc", "-v", "aws_revenue", "--year", "2030", "--format", "csv").stdout))
    row = csv.set_index("statistic").loc["P50"]
    assert row["units"] == "USD bn"
    assert row["value"] == risk.metrics.quantile(base["aws_revenue"].sel(year=2030).values, 0.5).value


def test_compare_csv_and_json_equal_the_python_api(runs, tmp_path):
    folder, base, faster = runs
    want = compare_runs([base, faster], names=["base", "faster"])
    csv = pd.read_csv(io.StringIO(invoke("compare", folder / "base.nc", folder / "faster.nc", "--format", "csv").stdout))
    assert list(csv["table"].unique()) == ["comparison", "changes"]
    table = csv[csv["table"] == "comparison"].set_index(["variable", "year", "statistic"])
    for key in (("nvda_gross_margin", 2030, "P50"), ("aws_operating_margin", 2028, "P(< 0.3)")):
        row, w = table.loc[key], want.loc[key]
        assert row["units"] == "fraction"
        assert row["base"] == w["base"] and row["faster se"] == w["faster se"]
        assert row["faster - base"] == w["faster diff"] and row["faster - base se"] == w["faster diff se"]
    changes = csv[csv["table"] == "changes"].set_index("path")
    assert changes.loc["pricing.elasticity", "to"].startswith("pert(") and "mode=1.8" in changes.loc["pricing.elasticity", "to"]
    invoke("compare", folder / "base.nc", folder / "faster.nc", "--output", tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text())
    got = pd.DataFrame(data["comparison"]).set_index(["variable", "year", "statistic"]).loc[("nvda_gross_margin", 2030, "P50")]
    assert got["faster - base"] == pytest.approx(want.loc[("nvda_gross_margin", 2030, "P50"), "faster diff"], rel=1e-13)
    assert {"from run", "to run", "scenario", "path", "from", "to"} <= set(data["changes"][0])


def test_xlsx_holds_numbers_with_formats(runs, tmp_path):
    folder, base, _ = runs
    r = invoke("analyze", folder / "base.nc", "-v", "nvda_gross_margin", "-v", "aws_revenue", "--year", "2030",
               "--format", "xlsx", "--output", tmp_path / "a.xlsx")
    assert f"wrote {tmp_path / 'a.xlsx'}" in r.output
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["estimates"]
    header = [c.value for c in ws[1]]
    assert header == ["variable", "year", "statistic", "units", "value", "se"]
    rows = {(r[0].value, r[2].value): r for r in ws.iter_rows(min_row=2)}
    gm, rev = rows[("nvda_gross_margin", "P50")], rows[("aws_revenue", "P50")]
    assert gm[4].value == risk.metrics.quantile(base["nvda_gross_margin"].sel(year=2030).values, 0.5).value
    assert gm[4].number_format == "0.0%" and gm[5].number_format == "0.00%"
    assert isinstance(rev[4].value, float) and rev[4].number_format == '#,##0.0" bn"'


def test_every_table_command_exports(runs, tmp_path):
    folder, _, _ = runs
    cases = {
        "run": ["run", BASE_FILE, "--draws", "500"],
        "stress": ["stress", BASE_FILE, "--pin", "pricing.elasticity=P90", "--draws", "500"],
        "reverse-stress": ["reverse-stress", folder / "base.nc", "--event", "nvda_gross_margin[2030] < 0.65"],
        "sensitivity": ["sensitivity", BASE_FILE, "--method", "spearman", "--draws", "200", "--top", "3"],
        "scenarios": ["scenarios", SCENARIOS],
        "hindcast": ["hindcast", "--scenario", SCENARIOS / "hindcast_2023.yaml", "--draws", "500"],
    }
    for name, args in cases.items():
        data = json.loads(invoke(*args, "--format", "json").stdout)
        assert data and all(isinstance(v, list) and v for v in data.values()), name
    stress = pd.read_csv(io.StringIO(invoke(*cases["stress"], "--format", "csv").stdout))
    assert {"base", "stressed", "shift", "shift se", "units"} <= set(stress.columns)
    rs = json.loads(invoke(*cases["reverse-stress"], "--format", "json").stdout)
    assert rs["event"][0]["probability [fraction]"] == pytest.approx(
        (risk.load_run(folder / "base.nc")["nvda_gross_margin"].sel(year=2030) < 0.65).mean().item())


def test_bad_format_and_xlsx_without_output_are_refused(runs, tmp_path):
    folder, _, _ = runs
    r = runner.invoke(app, ["analyze", str(folder / "base.nc"), "--format", "xml"])
    assert r.exit_code == 2 and "--format: must be one of: table, csv, json, xlsx (got 'xml')" in r.output
    r = runner.invoke(app, ["compare", str(folder / "base.nc"), str(folder / "faster.nc"), "--format", "xlsx"])
    assert r.exit_code == 2
    assert "--format: an Excel workbook is written to a file: add --output FILE.xlsx (got 'xlsx')" in r.output
    r = runner.invoke(app, ["scenarios", str(SCENARIOS), "--output", str(tmp_path / "s.txt")])
    assert r.exit_code == 2 and "--output: exports a table: name a .csv, .json or .xlsx file" in r.output
    assert "Traceback" not in r.output and list(tmp_path.iterdir()) == []
    (tmp_path / "dir.csv").mkdir()
    r = runner.invoke(app, ["scenarios", str(SCENARIOS), "--output", str(tmp_path / "dir.csv")])
    assert r.exit_code == 2 and "is not a regular file" in r.output


def test_units_in_names_and_formats():
    frame = pd.DataFrame({"variable": ["a", "b"], "units": ["fraction", "USD bn"], "value": [0.5, 12.0], "shift": [1.0, 2.0]})
    csv = to_text({"t": frame}, "csv", {"t": {"value": ROW, "shift": "sd"}})
    assert csv.splitlines()[0] == "variable,units,value,shift [sd]"
    assert unit_name("1") == "fraction" and unit_name("USD bn", "P(< 100)") == "fraction" and unit_name("USD bn") == "USD bn"
    assert number_format("fraction") == "0.0%" and number_format("USD bn", error=True) == '#,##0.00" bn"'
    with pytest.raises(ValueError, match="xlsx is written to a file"):
        write_tables({"t": frame}, "xlsx")


def test_a_failed_workbook_leaves_no_file(tmp_path, monkeypatch):
    frame = pd.DataFrame({"x": [1.0]})

    def boom(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_excel", boom)
    with pytest.raises(OSError):
        write_tables({"t": frame}, "xlsx", tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []
