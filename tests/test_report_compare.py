"""The report's workbook and its comparison of runs: labels, differences with errors, one colour
per run in every chart, and the waterfall of what moved the median."""

from __future__ import annotations

import openpyxl
import pytest
from matplotlib.colors import to_hex
from typer.testing import CliRunner

import risk
from risk import metrics, numbers, plots
from risk.attribution import differing_parameters, median_waterfall, override_pair
from risk.cli import app
from risk.data import read_quarterly
from risk.reported import beside_model
from risk.report import build_report, difference_frame, render_html, run_labels

from conftest import BASE_FILE, SCENARIOS

runner = CliRunner()


@pytest.fixture(scope="module")
def pair():
    base = risk.simulate(BASE_FILE, draws=3000, seed=2)
    faster = risk.simulate(risk.load_scenario(BASE_FILE).with_overrides({"pricing.elasticity.mode": 1.8}), draws=3000, seed=5)
    return base, faster


def test_the_report_workbook_holds_the_reports_numbers(pair, tmp_path):
    base, _ = pair
    risk.save_run(base, tmp_path / "base.nc")
    r = runner.invoke(app, ["report", str(tmp_path / "base.nc"), "--out", str(tmp_path / "r.html"), "--hindcast", "none.yaml",
                            "--data", str(SCENARIOS / "data")])
    assert r.exit_code == 0, r.output
    assert f"wrote {tmp_path / 'r.html'} and {tmp_path / 'r.xlsx'}" in r.output
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["summary", "by scenario", "sensitivity", "assumptions", "backtest", "reported vs model"]
    ws = wb["summary"]
    header = [c.value for c in ws[1]]
    rows = {(row[header.index("variable")].value, row[header.index("year")].value): row for row in ws.iter_rows(min_row=2)}
    cell = rows[("nvda_gross_margin", 2030)][header.index("P50")]
    want = metrics.quantile(base["nvda_gross_margin"].sel(year=2030).values, 0.5)
    assert isinstance(cell.value, float) and cell.value == want.value
    assert cell.number_format == "0.0%"
    assert rows[("nvda_gross_margin", 2030)][header.index("P50 se")].value == pytest.approx(want.se, rel=1e-14)  # 15 digits in Excel
    prob = rows[("aws_operating_margin", 2028)][header.index("P(below threshold) [fraction]")]
    assert prob.value == pytest.approx(metrics.prob_below(base["aws_operating_margin"].sel(year=2028).values, 0.30).value, rel=1e-14)
    assert prob.number_format == "0.0%"
    # every parameter with its distribution, source and rationale
    params = [row for row in wb["assumptions"].iter_rows(min_row=2, values_only=True)]
    assert len(params) == len(risk.load_scenario(BASE_FILE).parameters)
    elasticity = next(p for p in params if p[2] == "pricing.elasticity")
    assert elasticity[3].startswith("pert(") and elasticity[4] and elasticity[5]
    # the first page's year so far, as numbers with formats
    ws = wb["reported vs model"]
    header = [c.value for c in ws[1]]
    aws = next(row for row in ws.iter_rows(min_row=2) if row[0].value == "aws_revenue")
    t = beside_model(base, read_quarterly(SCENARIOS / "data"), 2026).loc["aws_revenue"]
    assert aws[header.index("so far")].value == pytest.approx(t["so far"], rel=1e-12)
    assert aws[header.index("P50")].value == pytest.approx(t["P50"], rel=1e-12)
    assert aws[header.index("P50")].number_format == '#,##0.0" bn"'
    assert aws[header.index("rank flat [fraction]")].number_format == "0.0%"


def test_two_labelled_runs_are_compared(pair, tmp_path):
    base, faster = pair
    labels = ["steady", "faster"]
    html = render_html([base, faster], labels=labels, waterfall_draws=1024)
    for text in ("Differences: faster against steady", "faster − steady", "draws (steady)", "draws (faster)",
                 "steady: base (3,000 draws)", "faster: base (3,000 draws)"):
        assert text in html, text
    for fid in ("fan", "distribution", "cdf", "waterfall", "joint"):
        assert f'id="{fid}"' in html
    diff = difference_frame([base, faster], labels, [2028, 2030]).set_index(["variable", "year", "statistic"])
    row = diff.loc[("nvda_gross_margin", 2030, "P50")]
    a, b = (metrics.quantile(ds["nvda_gross_margin"].sel(year=2030).values, 0.5) for ds in (base, faster))
    assert row["faster - steady"] == b.value - a.value
    assert row["faster - steady se"] == pytest.approx((a.se**2 + b.se**2) ** 0.5)
    assert numbers.difference(row["faster - steady"], row["faster - steady se"], True) in html
    p = diff.loc[("aws_operating_margin", 2028, "P(< 0.3)")]
    pa, pb = (metrics.prob_below(ds["aws_operating_margin"].sel(year=2028).values, 0.3) for ds in (base, faster))
    assert p["faster - steady"] == pytest.approx(pb.value - pa.value) and p["units"] == "fraction"


def test_labels_must_match_the_runs(pair, tmp_path):
    base, faster = pair
    assert run_labels([base, faster]) == ["base #1", "base #2"]
    with pytest.raises(ValueError, match="give one label per run: 2 runs, 1 label"):
        run_labels([base, faster], ["a"])
    with pytest.raises(ValueError, match="labels must differ: 'a' is given twice"):
        run_labels([base, faster], ["a", "a"])
    risk.save_run(base, tmp_path / "a.nc")
    risk.save_run(faster, tmp_path / "b.nc")
    r = runner.invoke(app, ["report", str(tmp_path / "a.nc"), str(tmp_path / "b.nc"), "--label", "base",
                            "--out", str(tmp_path / "r.pdf")])
    assert r.exit_code == 2
    assert "--label: give one label per run: 2 runs, 1 label (got ['base'])" in r.output
    assert list(tmp_path.glob("r.*")) == []


def test_one_colour_per_label_in_every_chart(pair):
    base, faster = pair
    colors = plots.palette(["steady", "faster"])
    assert colors == plots.palette(["steady", "faster"]) and len(set(colors.values())) == 2
    assert plots.palette(["a", "b", "c"])["a"] == colors["steady"]  # by position: the first run is always the first colour
    from risk.report import _combine

    both = _combine([base, faster], ["steady", "faster"])
    figures = [plots.fan_chart(both, ["nvda_gross_margin"], by_scenario=True, colors=colors, pooled=False),
               plots.distribution(both, ["nvda_gross_margin"], 2030, colors=colors),
               plots.cdf_chart({"steady": base, "faster": faster}, ["nvda_gross_margin"], 2030, colors)]
    for fig in figures:
        lines = {line.get_label().split(":")[0]: to_hex(line.get_color()) for ax in fig.axes for line in ax.get_lines()
                 if line.get_label().split(":")[0] in colors}
        assert lines == colors, fig
    steps = median_waterfall(override_pair(base, faster), 2030, draws=512, seed=2)
    fig = plots.waterfall_chart(steps, "steady", "faster", colors)
    bars = fig.axes[0].patches
    assert to_hex(bars[0].get_facecolor()) == colors["steady"] and to_hex(bars[-1].get_facecolor()) == colors["faster"]


def test_the_waterfall_switches_each_override_on_alone(pair):
    base, faster = pair
    pr = override_pair(base, faster)
    assert pr is not None and not pr.flipped and override_pair(faster, base).flipped
    assert differing_parameters(pr.base, pr.variant) == ["pricing.elasticity"]
    steps = median_waterfall(pr, 2030, draws=1024, seed=7).set_index(["variable", "step"])
    small = risk.simulate(BASE_FILE, draws=1024, seed=7)
    gm = steps.xs("nvda_gross_margin")
    assert gm.loc["base", "median"] == pytest.approx(float(small["nvda_gross_margin"].sel(year=2030).median()))
    # one parameter: alone is all together, nothing is left to interactions
    assert gm.loc["pricing.elasticity", "median"] == gm.loc["all", "median"]
    assert gm.loc["interactions", "change"] == 0
    story = risk.simulate(SCENARIOS / "asic_insurgency.yaml", draws=500, seed=1)
    other = risk.simulate(SCENARIOS / "cuda_moat_holds.yaml", draws=500, seed=1)
    assert override_pair(base, story) is not None and override_pair(story, other) is None
    w = median_waterfall(override_pair(base, story), 2030, draws=512, seed=1).set_index(["variable", "step"]).xs("aws_operating_margin")
    assert w.loc["all", "change"] == pytest.approx(w.drop(["base", "all"])["change"].sum())
