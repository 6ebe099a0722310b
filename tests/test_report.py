"""The report: built from a real run, pages, numbers in its text, every figure; and the plot functions."""

from __future__ import annotations


import numpy as np
import pytest
from typer.testing import CliRunner

import risk
from risk import metrics, plots
from risk.cli import app
from risk.hindcast import hindcast
from risk import numbers
from risk.report import FIGURE_IDS, build_report, render_html

from conftest import SCENARIOS
from risk.data import read_quarterly
from risk.reported import beside_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outlook():
    return risk.simulate(SCENARIOS / "outlook.yaml", draws=7000, seed=4)


@pytest.fixture(scope="module")
def pdf(outlook, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    build_report([outlook], path, hindcast=hindcast(SCENARIOS / "hindcast_2023.yaml", draws=2000),
                 quarterly=read_quarterly(SCENARIOS / "data"))
    return path


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)


def test_page_count(pdf):
    from pypdf import PdfReader

    assert 5 <= len(PdfReader(str(pdf)).pages) <= 10


def test_summary_numbers_are_in_the_pdf(pdf, outlook):
    text = pdf_text(pdf)
    for var, year in (("nvda_gross_margin", 2030), ("aws_operating_margin", 2028), ("nvda_operating_margin", 2032)):
        x = outlook[var].sel(year=year).values
        med = metrics.quantile(x, 0.5)
        assert numbers.estimate(med.value, med.se, True) in text, (var, year)
        p = metrics.prob_below(x, {"nvda_gross_margin": 0.65, "aws_operating_margin": 0.30, "nvda_operating_margin": 0.55}[var])
        assert numbers.estimate(p.value, p.se, True) in text
    assert outlook.attrs["scenario_hash"][:16] in text
    assert "seed 4" in text and "7,000" in text


def test_every_section_and_figure_is_present(pdf, outlook):
    text = pdf_text(pdf)
    for i in range(1, len(FIGURE_IDS) + 1):
        assert f"Figure {i}:" in text
    for heading in ("Executive summary", "Reverse stress: nvda_gross_margin[2030] < 0.60", "Appendix A: assumptions",
                    "Appendix B: hindcast", "Methods", "what differs from base"):
        assert heading in text
    html = render_html([outlook])
    assert html.count("<figure") == len(FIGURE_IDS) and html.count("<svg") >= len(FIGURE_IDS)
    for fid in FIGURE_IDS:
        assert f'id="{fid}"' in html


def test_units_label_the_axes(outlook):
    fig = plots.fan_chart(outlook, ["nvda_gross_margin", "aws_revenue"])
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[0] == "NVIDIA gross margin [%]" and labels[1] == "AWS revenue [USD bn]"
    fig = plots.joint(outlook, "nvda_gross_margin", "aws_margin_uplift_bp", 2030)
    assert fig.axes[0].get_ylabel().endswith("[bp]")
    svg = plots.to_svg(plots.distribution(outlook, ["nvda_gross_margin"], 2030))
    assert svg.startswith("<svg")


def test_several_runs_and_html(tmp_path, outlook):
    base = risk.simulate(SCENARIOS / "base.yaml", draws=3000, seed=1)
    out = build_report([base, outlook], tmp_path / "r.html")
    html = out.read_text()
    assert "AI accelerators: NVIDIA and AWS margins compared" in html and html.count("<h3>") >= 2
    with pytest.raises(ValueError, match="report file must end in .pdf or .html, got 'r.docx'"):
        build_report([base], tmp_path / "r.docx")


def test_failed_report_leaves_no_file(tmp_path, outlook, monkeypatch):
    import weasyprint

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", lambda self, target: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        build_report([outlook], tmp_path / "r.pdf")
    assert list(tmp_path.iterdir()) == []


def test_cli_report(tmp_path, outlook):
    risk.save_run(outlook, tmp_path / "o.nc")
    r = CliRunner().invoke(app, ["report", str(tmp_path / "o.nc"), "--out", str(tmp_path / "o.pdf"), "--hindcast", "none.yaml"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o.pdf").stat().st_size > 20_000
    bad = CliRunner().invoke(app, ["report", str(tmp_path / "o.nc"), "--out", str(tmp_path / "x.pdf"), "--event", "nvda_gm[2030] < 0.6"])
    assert bad.exit_code == 2 and "no output named 'nvda_gm'" in bad.output


def test_the_first_page_sets_2026_so_far_beside_the_model(pdf, outlook):
    """Page 1: the reported quarters of 2026, the year they imply and the run's percentiles."""
    from pypdf import PdfReader

    first = PdfReader(str(pdf)).pages[0].extract_text()
    assert "2026 so far: reported beside the model" in first
    t = beside_model(outlook, read_quarterly(SCENARIOS / "data"), 2026)
    aws = t.loc["aws_revenue"]
    for value in (aws["so far"], aws["flat"], aws["growing"], aws["P50"]):
        assert f"{value:,.1f}" in first
    assert f"{t.loc['aws_operating_margin', 'flat']:.1%}" in first
    assert "guidance for the year" in first
    assert "so far: reported" not in render_html([outlook])  # only with the data


def test_the_appendix_shows_the_backtest(outlook):
    """Coverage and skill by series as the backtest's summary computes them, and the PIT histogram."""
    import pandas as pd

    from risk.backtest import summary

    points = pd.read_csv(SCENARIOS.parent / "docs" / "backtest.csv")
    html = render_html([outlook], backtest=points)
    assert "Appendix C: backtest" in html and 'id="pit"' in html
    s = summary(points).loc[("aws_revenue", "all")]
    row = (f'<tr><td class="l">aws_revenue</td><td>{int(s["points"])}</td><td>{s["cover50"]:.0%}</td>'
           f'<td>{s["cover90"]:.0%}</td><td>{s["crps_rel"]:.1%}</td><td>{s["skill_flat"]:+.2f}</td><td>{s["skill_trend"]:+.2f}</td></tr>')
    assert row in html
    counts = np.histogram(points["pit"], bins=10, range=(0, 1))[0]
    assert counts.sum() == len(points)


def test_a_backtest_file_that_is_not_one_is_refused(tmp_path, outlook):
    path = tmp_path / "run.nc"
    risk.save_run(outlook, path)
    bad = tmp_path / "points.csv"
    bad.write_text("a,b\n1,2\n")
    r = CliRunner().invoke(app, ["report", str(path), "--out", str(tmp_path / "r.html"), "--backtest", str(bad),
                                 "--hindcast", str(tmp_path / "none.yaml")])
    assert r.exit_code == 2
    assert "--backtest: lacks the column(s)" in " ".join(r.output.split())
    assert not (tmp_path / "r.html").exists()
