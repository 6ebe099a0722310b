"""The report of a summarised run (risk report RUN.summary.nc): its numbers are the summary's,
its fan charts and first page are drawn from the summary's quantiles within their bounds of a
full run's, it says which figures are exact and which bounded, and a summary beside full runs
is refused."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

import risk
from risk import numbers, plots
from risk.cli import app
from risk.data import read_quarterly
from risk.report import MIXED_REFUSAL, NEEDS_A_FULL_RUN, beside_summary, build_report, render_html, summary_fan_panels
from risk.reported import beside_model
from risk.sampling import BLOCK
from risk.summarise import save_summary, summarise, summary_quantiles, summary_rank
from risk.summary import KEY_MARGINS

from conftest import SCENARIOS

DRAWS = 2 * BLOCK
SEED = 11
runner = CliRunner()


@pytest.fixture(scope="module")
def summ(base_scenario):
    return summarise(base_scenario, draws=DRAWS, seed=SEED, sampling="mc")


@pytest.fixture(scope="module")
def full(base_scenario):
    return risk.simulate(base_scenario, draws=DRAWS, seed=SEED, sampling="mc")


@pytest.fixture(scope="module")
def quarterly():
    return read_quarterly(SCENARIOS / "data")


def _cell(summ, var, year, stat, what="value"):
    return float(summ[what].sel(variable=var, year=year, statistic=stat, scenario="base"))


def _rows(ws) -> tuple[list, dict]:
    header = [c.value for c in ws[1]]
    return header, {(r[header.index("variable")], r[header.index("year")]): r for r in ws.iter_rows(min_row=2, values_only=True)}


def test_the_workbook_holds_the_summarys_figures(summ, quarterly, tmp_path):
    build_report([summ], tmp_path / "r.html", quarterly=quarterly)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["summary", "by scenario", "reported vs model", "assumptions"]  # no sensitivity: it needs draws
    header, rows = _rows(wb["summary"])
    row = rows[("nvda_gross_margin", 2030)]
    assert row[header.index("P50")] == _cell(summ, "nvda_gross_margin", 2030, "P50")
    assert row[header.index("P50 se")] == pytest.approx(_cell(summ, "nvda_gross_margin", 2030, "P50", "se"), rel=1e-14)
    assert row[header.index("P50 bound")] == pytest.approx(_cell(summ, "nvda_gross_margin", 2030, "P50", "bound"), rel=1e-14)
    # the threshold probabilities are the summary's exact counts
    for var, t, year in (("nvda_gross_margin", 0.65, 2030), ("aws_operating_margin", 0.30, 2028)):
        r = rows[(var, year)]
        assert r[header.index("threshold")] == t
        assert r[header.index("P(below threshold) [fraction]")] == _cell(summ, var, year, f"P(< {t:g})")
    header, rows = _rows(wb["by scenario"])
    assert rows[("aws_operating_margin", 2032)][header.index("P50")] == _cell(summ, "aws_operating_margin", 2032, "P50")
    assert rows[("aws_operating_margin", 2032)][header.index("draws")] == DRAWS
    params = list(wb["assumptions"].iter_rows(min_row=2, values_only=True))
    assert len(params) == len(risk.load_scenario(SCENARIOS.parent / "tests" / "data" / "base_annual.yaml").parameters)


def test_the_html_says_which_figures_are_exact_and_which_bounded(summ, quarterly):
    html = render_html([summ], quarterly=quarterly)
    assert NEEDS_A_FULL_RUN in html and "Reverse stress" not in html
    assert 'id="fan"' in html and 'id="distribution"' not in html and 'id="joint"' not in html
    assert f"{DRAWS:,} draws summarised" in html
    assert "Exact figures, from every draw" in html and "Bounded figures: the quantiles" in html
    p50 = numbers.estimate(_cell(summ, "nvda_gross_margin", 2030, "P50"), _cell(summ, "nvda_gross_margin", 2030, "P50", "se"), True)
    bound = numbers.error(_cell(summ, "nvda_gross_margin", 2030, "P50", "bound"), True)
    assert f"{p50}<br><small>bound ± {bound}</small>" in html
    # the largest bound among the figures shown: the fan charts' quantiles of the key margins in every year,
    # and the first page's P10/P50/P90 of the margins of 2026
    largest = max(float(summary_quantiles(summ, v, plots.FAN_PROBS)[2].max()) for v in KEY_MARGINS)
    for var in ("nvda_gross_margin", "aws_operating_margin"):
        largest = max(largest, float(summary_quantiles(summ.sel(year=[2026]), var, (0.1, 0.5, 0.9))[2].max()))
    assert 0 < largest < 0.001  # a tenth of a percentage point: the histogram's resolution
    assert f"The largest bound among the figures shown: {numbers.error(largest, True)[:-1]} percentage points for margins" in html


def test_fan_quantiles_from_a_summary_and_a_full_run_agree_within_the_bounds(summ, full):
    panels, bounds = summary_fan_panels(summ, KEY_MARGINS)
    for var, panel in zip(KEY_MARGINS, panels):
        from_draws = plots.fan_bands(full[var], plots.FAN_PROBS)
        value, _, bound = summary_quantiles(summ, var, plots.FAN_PROBS)
        assert np.array_equal(panel["bands"], value)
        assert value.shape == from_draws.shape == (5, full.sizes["year"])
        assert np.all(np.abs(value - from_draws) <= bound + 1e-7), var
        assert bounds[var] == bound.max() > 0
        assert panel["percent"] and panel["ylabel"].endswith("[%]")


def test_the_first_page_from_a_summary_is_the_full_runs_within_bounds(summ, full, quarterly):
    table, bounds = beside_summary(summ, quarterly, 2026)
    want = beside_model(full, quarterly, 2026)
    assert list(table.index) == list(want.index)
    for output, row in table.iterrows():
        value, _, bound = summary_quantiles(summ.sel(year=[2026]), output, (0.1, 0.5, 0.9))
        assert [row["P10"], row["P50"], row["P90"]] == list(value[:, 0])
        assert np.all(np.abs(value[:, 0] - want.loc[output, ["P10", "P50", "P90"]].to_numpy(float)) <= bound[:, 0] + 1e-5)
        assert bounds[output] == bound.max()
        for col, x in (("rank flat", row["flat"]), ("rank growing", row["growing"])):
            # the rank read between the summary's quantiles is off by at most the step between the two around x
            cell = summ.sel(scenario="base", variable=output, year=2026)["value"]
            probs = [0.0] + [float(s[1:]) / 100 for s in map(str, summ["statistic"].values) if s[0] == "P" and s[1].isdigit()] + [1.0]
            values = [float(cell.sel(statistic=s)) for s in ["min"] + [f"P{100 * p:g}" for p in probs[1:-1]] + ["max"]]
            k = int(np.searchsorted(values, x))
            step = probs[min(k, len(probs) - 1)] - probs[max(k - 1, 0)]
            assert abs(row[col] - want.loc[output, col]) <= step + 1e-12, (output, col)


def test_a_rank_read_from_the_quantiles(summ):
    cell = lambda stat: _cell(summ, "nvda_gross_margin", 2030, stat)  # noqa: E731
    assert summary_rank(summ, "nvda_gross_margin", 2030, cell("P50")) == pytest.approx(0.5)
    assert summary_rank(summ, "nvda_gross_margin", 2030, (cell("P25") + cell("P50")) / 2) == pytest.approx(0.375)
    assert summary_rank(summ, "nvda_gross_margin", 2030, cell("min") - 0.01) == 0
    assert summary_rank(summ, "nvda_gross_margin", 2030, cell("max") + 0.01) == 1


def test_the_command_line_reports_a_summary_and_refuses_it_beside_a_run(summ, full, tmp_path):
    save_summary(summ, tmp_path / "base.summary.nc")
    r = runner.invoke(app, ["report", str(tmp_path / "base.summary.nc"), "--out", str(tmp_path / "s.pdf"), "--hindcast", "none.yaml"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s.pdf").read_bytes()[:4] == b"%PDF"
    assert openpyxl.load_workbook(tmp_path / "s.xlsx")["summary"].max_row == 1 + 3 * 4  # key margins x 2026, 2028, 2030, 2032
    risk.save_run(full, tmp_path / "full.nc")
    r = runner.invoke(app, ["report", str(tmp_path / "full.nc"), str(tmp_path / "base.summary.nc"), "--out", str(tmp_path / "m.pdf"),
                            "--hindcast", "none.yaml"])
    assert r.exit_code == 2 and MIXED_REFUSAL in " ".join(r.output.split()), r.output
    assert not (tmp_path / "m.pdf").exists() and not (tmp_path / "m.xlsx").exists()
    r = runner.invoke(app, ["report", str(tmp_path / "base.summary.nc"), "--out", str(tmp_path / "t.pdf"), "--hindcast", "none.yaml",
                            "--threshold", "nvda_gross_margin=0.42"])
    assert r.exit_code == 2 and "--threshold: the summary counts nvda_gross_margin below 0.5, 0.6, 0.65, not 0.42" in r.output
    assert not (tmp_path / "t.pdf").exists()
    with pytest.raises(ValueError, match="cannot be reported together with other runs"):
        build_report([full, summ], tmp_path / "x.html")
