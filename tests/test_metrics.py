"""Risk metrics against closed forms, and the ds.risk accessor."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import risk
from risk import metrics

N = 200_000


@pytest.fixture(scope="module")
def normal():
    return np.random.default_rng(0).normal(0.6, 0.05, N)


@pytest.fixture(scope="module")
def lognormal():
    return np.random.default_rng(1).lognormal(3.0, 0.5, N)


def test_var_and_es_of_a_normal(normal):
    mu, s, a = 0.6, 0.05, 0.05
    z = stats.norm.ppf(a)
    var = metrics.value_at_risk(normal, 0.95, "lower")
    es = metrics.expected_shortfall(normal, 0.95, "lower")
    assert var.value == pytest.approx(mu + s * z, abs=4 * var.se)
    assert es.value == pytest.approx(mu - s * stats.norm.pdf(z) / a, abs=4 * es.se)  # closed form
    up = metrics.expected_shortfall(normal, 0.95, "upper")
    assert up.value == pytest.approx(mu + s * stats.norm.pdf(z) / a, abs=4 * up.se)


def test_var_and_es_of_a_lognormal(lognormal):
    mu, s, a = 3.0, 0.5, 0.05
    mean = np.exp(mu + s**2 / 2)
    lo_es = mean * stats.norm.cdf(stats.norm.ppf(a) - s) / a
    hi_es = mean * stats.norm.cdf(s - stats.norm.ppf(1 - a)) / a
    assert metrics.value_at_risk(lognormal, 0.95, "upper").value == pytest.approx(np.exp(mu + s * stats.norm.ppf(0.95)), rel=0.01)
    e_lo, e_hi = metrics.expected_shortfall(lognormal, 0.95, "lower"), metrics.expected_shortfall(lognormal, 0.95, "upper")
    assert e_lo.value == pytest.approx(lo_es, abs=4 * e_lo.se)
    assert e_hi.value == pytest.approx(hi_es, abs=4 * e_hi.se)


@pytest.mark.parametrize("p", [0.05, 0.5, 0.9])
def test_quantile_se_matches_order_statistics_formula(lognormal, p):
    """se(q_p) = sqrt(p(1-p)/n) / f(q_p)."""
    q = metrics.quantile(lognormal, p)
    f = stats.lognorm(0.5, scale=np.exp(3.0))
    assert q.se == pytest.approx(np.sqrt(p * (1 - p) / N) / f.pdf(f.ppf(p)), rel=0.1)


def test_errors_are_honest_over_replications():
    """The reported standard errors match the spread of the estimates over 300 replications."""
    rng = np.random.default_rng(2)
    reps = [rng.normal(0, 1, 4000) for _ in range(300)]
    for fn in (lambda x: metrics.expected_shortfall(x, 0.95), lambda x: metrics.std(x), lambda x: metrics.prob_below(x, -1.5)):
        est = [fn(x) for x in reps]
        spread = np.std([e.value for e in est], ddof=1)
        assert np.mean([e.se for e in est]) == pytest.approx(spread, rel=0.15)


def test_bad_arguments():
    with pytest.raises(ValueError, match="tail must be 'lower' or 'upper', got 'left'"):
        metrics.value_at_risk([1, 2, 3], 0.95, "left")
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\), got 1.5"):
        metrics.quantile([1, 2, 3], 1.5)


@pytest.fixture(scope="module")
def run(base_scenario):
    return risk.simulate(base_scenario, draws=20_000, seed=3)


def test_accessor_returns_labeled_results(run):
    p = run.risk.prob_below("nvda_gross_margin", 0.65)
    assert p["value"].dims == ("year",) and p["value"].attrs["units"] == "1"
    manual = float((run["nvda_gross_margin"].sel(year=2030) < 0.65).mean())
    assert float(p["value"].sel(year=2030)) == pytest.approx(manual)
    q = run.risk.quantile("aws_operating_margin", [0.05, 0.5, 0.95])
    assert q["value"].dims == ("quantile", "year")
    assert float(q["value"].sel(quantile=0.5, year=2030)) == pytest.approx(float(run["aws_operating_margin"].sel(year=2030).median()), abs=1e-6)
    es = run.risk.expected_shortfall("nvda_gross_margin", 0.95)
    var = run.risk.value_at_risk("nvda_gross_margin", 0.95)
    assert (es["value"].sel(year=2030) <= var["value"].sel(year=2030)).item()
    assert "expected shortfall" in es["value"].attrs["long_name"]
    table = run.risk.summary(["nvda_gross_margin"], years=[2030])
    assert {"mean", "sd", "P5", "P50", "P95", "VaR 95%", "ES 95%", "P(< 0.65)"} == set(table.index.get_level_values(2))


def test_accessor_error_wording(run):
    with pytest.raises(KeyError, match=r"No variable named 'nvda_gros_margin' \(did you mean 'nvda_gross_margin'\?\). Variables on the dataset include"):
        run.risk.mean("nvda_gros_margin")
