"""Comparison of runs and the Monte Carlo errors behind it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

import risk
from risk import metrics
from risk.cli import app
from risk.compare import compare_runs, scenario_diff

from conftest import SCENARIOS


def test_errors_against_closed_forms():
    rng = np.random.default_rng(0)
    n = 40_000
    x = rng.standard_normal(n)
    m = metrics.mean(x)
    assert m.se == pytest.approx(1 / np.sqrt(n), rel=0.02)
    q = metrics.quantile(x, 0.05)
    # asymptotic order-statistics error sqrt(p(1-p)/n) / f(q_p)
    assert q.se == pytest.approx(np.sqrt(0.05 * 0.95 / n) / stats.norm.pdf(stats.norm.ppf(0.05)), rel=0.1)
    p = metrics.prob_below(x, -1.0)
    assert p.value == pytest.approx(stats.norm.cdf(-1), abs=4 * p.se)
    assert p.se == pytest.approx(np.sqrt(p.value * (1 - p.value) / n))


def test_quantile_errors_cover_the_truth():
    """Over 300 samples of 2,000 normals, the 95% interval from the standard error covers the true P5 about 95% of the time."""
    rng = np.random.default_rng(1)
    truth = stats.norm.ppf(0.05)
    hits = [abs(e.value - truth) < 1.96 * e.se for e in (metrics.quantile(rng.standard_normal(2000), 0.05) for _ in range(300))]
    assert 0.91 < np.mean(hits) < 0.99


@pytest.fixture(scope="module")
def pair():
    a = risk.simulate(SCENARIOS / "base.yaml", draws=20_000, seed=1)
    b = risk.simulate(SCENARIOS / "asic_insurgency.yaml", draws=20_000, seed=1)
    return a, b


def test_compare_table(pair):
    a, b = pair
    t = compare_runs([a, b])
    row = t.loc[("nvda_gross_margin", 2030, "P50")]
    assert row["asic_insurgency diff"] == pytest.approx(row["asic_insurgency"] - row["base"])
    assert row["asic_insurgency diff"] < -5 * row["asic_insurgency diff se"]
    assert row["base"] == pytest.approx(float(a["nvda_gross_margin"].sel(year=2030).median()), abs=1e-6)
    assert ("nvda_gross_margin", 2030, "P(< 0.65)") in t.index


def test_same_run_compares_to_zero(pair):
    a, _ = pair
    t = compare_runs([a, a], names=["x", "y"])
    assert (t["y diff"] == 0).all()
    assert scenario_diff(a, a).empty


def test_scenario_diff_names_what_changed(pair):
    a, b = pair
    d = scenario_diff(a, b)
    changed = set(d["path"])
    assert {"asic_adoption.inference.ceiling", "pricing.moat_decay", "nvidia.gpu_share_horizon"} <= changed
    assert "aws.capex_share" not in changed


@pytest.fixture
def wide(monkeypatch):
    from rich.console import Console

    import risk.cli

    monkeypatch.setattr(risk.cli, "out", Console(width=200))


def test_cli_compare(tmp_path, pair, wide):
    a, b = pair
    risk.save_run(a, tmp_path / "base.nc")
    risk.save_run(b, tmp_path / "asic.nc")
    r = CliRunner().invoke(app, ["compare", str(tmp_path / "base.nc"), str(tmp_path / "asic.nc"), "--year", "2030"], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "what changed: base -> asic" in r.output and "pricing.moat_decay" in r.output
    assert "asic - base" in r.output


def test_cli_scenarios_lists_the_library(wide):
    r = CliRunner().invoke(app, ["scenarios", str(SCENARIOS)], terminal_width=200)
    assert r.exit_code == 0
    for name in ("asic_insurgency", "cuda_moat_holds", "capex_digestion", "inference_supercycle", "power_constrained",
                 "trainium_merchant", "outlook"):
        assert name in r.output
