"""Updating on new figures: weights, effective sample size, refusal, and calibration on synthetic truth."""

from __future__ import annotations

import numpy as np
import pytest

import risk
from risk import metrics
from risk.update import Observation, UpdateError, parse_observation, update

OBSERVED = [("nvda_gross_margin", 2026, 0.01), ("aws_operating_margin", 2026, 0.02), ("capex_hyperscaler", 2026, 40.0),
            ("nvda_gross_margin", 2027, 0.015), ("aws_operating_margin", 2027, 0.03)]


def test_weighted_metrics_equal_replicated_draws():
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    k = rng.integers(1, 4, size=3000)
    rep = np.repeat(x, k)
    assert metrics.mean(x, k).value == pytest.approx(rep.mean())
    assert metrics.prob_below(x, 0.3, k).value == pytest.approx((rep < 0.3).mean())
    assert metrics.quantile(x, 0.1, k).value == pytest.approx(np.quantile(rep, 0.1), abs=0.01)
    assert metrics.std(x, k).value == pytest.approx(rep.std(), rel=1e-3)
    assert metrics.effective_sample_size(np.ones(50)) == pytest.approx(50)
    with pytest.raises(ValueError, match="weights has 2 entries but there are 3 draws"):
        metrics.mean([1, 2, 3], [1, 1])


def test_parse_observation_wording(base_scenario):
    ds = risk.simulate(base_scenario, draws=100)
    assert parse_observation("nvda_gross_margin[2026] = 72% +- 1%", ds) == Observation("nvda_gross_margin", 2026, 0.72, 0.01)
    assert parse_observation("aws_revenue[2026]=165±5") == Observation("aws_revenue", 2026, 165.0, 5.0)
    with pytest.raises(risk.ScenarioError, match=r"expected VARIABLE\[YEAR\] = VALUE \+- SD"):
        parse_observation("nvda_gross_margin[2026] = 0.72")
    with pytest.raises(risk.ScenarioError, match=r"no output named 'nvda_gm' "):
        parse_observation("nvda_gm[2026] = 0.72 +- 0.01", ds)
    with pytest.raises(risk.ScenarioError, match="the standard error must be > 0"):
        parse_observation("nvda_gross_margin[2026] = 0.72 +- 0")


@pytest.fixture(scope="module")
def prior(base_scenario):
    return risk.simulate(base_scenario, draws=20_000, seed=1, dtype="float64")


def test_effective_sample_size_warning_refusal_and_resampling(prior):
    with pytest.warns(UserWarning, match=r"effective sample size \d+ of 20,000 draws: statistics of the updated run are noisy"):
        u = update(prior, ["aws_operating_margin[2026] = 0.385 +- 0.01"])
    assert 200 < u.ess < 2000 and u.run["weight"].sum() == pytest.approx(1.0)
    assert "aws_operating_margin[2026] = 0.385 +- 0.01" in u.run.attrs["observations"]
    with pytest.raises(UpdateError, match=r"effective sample size \d+ of 20,000 draws is below the minimum 200 \(the larger "
                                          r"of 100 and 1% of the draws\): the observations \(nvda_gross_margin\[2026\] = 0.6 "
                                          r"\+- 0.001\) are too unlikely .* add it to scenarios/data/quarterly.csv and rerun"):
        update(prior, ["nvda_gross_margin[2026] = 0.60 +- 0.001"])
    assert u.run.attrs["pareto_k"] == u.khat and u.khat < 0.7
    r = update(prior, ["aws_operating_margin[2026] = 0.33 +- 0.02"], resample=True)
    assert np.allclose(r.run["weight"].values, 1 / 20_000) and "source_draw" in r.run
    # resampled and weighted runs agree in distribution
    w = update(prior, ["aws_operating_margin[2026] = 0.33 +- 0.02"]).run
    med_w = w.risk.quantile("aws_operating_margin", 0.5)["value"].sel(year=2030)
    med_r = r.run.risk.quantile("aws_operating_margin", 0.5)["value"].sel(year=2030)
    assert float(med_w) == pytest.approx(float(med_r), abs=0.01)


@pytest.mark.parametrize("shape", [0.3, 0.5, 0.8, 1.0])
def test_pareto_k_recovers_the_tail_of_known_ratios(shape):
    """Ratios U^-k (U uniform) have a Pareto tail of shape k: PSIS's k̂ finds it."""
    from risk.update import pareto_smoothed_weights

    ratios = -shape * np.log(np.random.default_rng(3).random(20_000))
    w, khat = pareto_smoothed_weights(ratios)
    assert khat == pytest.approx(shape, abs=0.1) and w.sum() == pytest.approx(1.0)
    assert pareto_smoothed_weights(np.zeros(10))[1] == -np.inf  # nothing to smooth


def test_an_update_on_a_heavy_tail_is_refused_by_its_pareto_k(prior):
    """k̂ above 0.7 though the effective sample passes 1 %: refused, saying why and what to do."""
    run = prior.copy()
    run["log_likelihood"] = ("draw", -0.8 * np.log(np.random.default_rng(3).random(run.sizes["draw"])))
    with pytest.raises(UpdateError, match=r"the update would rest on a few draws: the Pareto-smoothed weights have "
                                          r"k̂ = 0\.\d\d > 0\.7 \(PSIS diagnostic\), so its estimates are unreliable\. .* "
                                          r"Run more draws, give a larger standard error"):
        update(run, ["aws_operating_margin[2026] = 0.33 +- 1"])


def test_updates_compose(prior):
    a = update(update(prior, ["aws_operating_margin[2026] = 0.33 +- 0.02"]).run, ["nvda_gross_margin[2026] = 0.72 +- 0.01"])
    b = update(prior, ["aws_operating_margin[2026] = 0.33 +- 0.02", "nvda_gross_margin[2026] = 0.72 +- 0.01"])
    np.testing.assert_allclose(a.run["weight"].values, b.run["weight"].values, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(a.run["log_likelihood"].values, b.run["log_likelihood"].values, rtol=1e-12)
    assert a.khat == pytest.approx(b.khat, abs=1e-9)


@pytest.mark.slow
def test_synthetic_truth_calibration(base_scenario, prior):
    """Truths drawn from the prior, observed in 2026-27 with noise: posteriors move towards the truth,
    later-year forecasts narrow, and updated 90% intervals cover the truth about 90% of the time."""
    truths = risk.simulate(base_scenario, draws=200, seed=99, dtype="float64")
    rng = np.random.default_rng(5)
    covered, narrower, closer = [], [], []
    prior_sd = {v: metrics.std(prior[v].sel(year=2030).values).value for v in ("nvda_gross_margin", "aws_operating_margin")}
    for j in range(truths.sizes["draw"]):
        truth = truths.isel(draw=j)
        obs = [Observation(v, y, float(truth[v].sel(year=y)) + rng.normal(0, sd), sd) for v, y, sd in OBSERVED]
        with _quiet():
            u = update(prior, obs, min_ess=10, min_ess_fraction=0, max_khat=np.inf)
        w = u.run["weight"].values
        for v in ("nvda_gross_margin", "aws_operating_margin"):
            x = prior[v].sel(year=2030).values
            lo, hi = metrics.quantile(x, 0.05, w).value, metrics.quantile(x, 0.95, w).value
            covered.append(lo <= float(truth[v].sel(year=2030)) <= hi)
            narrower.append(metrics.std(x, w).value < prior_sd[v])
        for p in ("capex.growth_first", "aws.rental_decline"):
            t = float(truth[p])
            closer.append(abs(u.shifts.loc[p, "posterior mean"] - t) - abs(u.shifts.loc[p, "prior mean"] - t))
    coverage = np.mean(covered)
    assert 0.85 <= coverage <= 0.95, coverage
    assert np.mean(narrower) > 0.8
    assert np.mean(closer) < 0


class _quiet:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_next_quarter_guidance_is_an_observation_of_a_quarterly_run(quarterly_scenario):
    """NVIDIA's revenue guidance for the quarter after q* (+-2%, relative for money) reweights a
    run by quarter: the weighted 2026Q3 median moves to the guidance; a run by year is refused
    with a message that says what to do."""
    from risk.update import parse_observation

    q = risk.simulate(quarterly_scenario, draws=20_000, seed=8, quarterly=True)
    obs = parse_observation("nvda_revenue[2026Q3] = 108 +- 2%", q)
    assert obs.year == "2026Q3" and obs.sd == pytest.approx(2.16)
    with _quiet():
        u = update(q, [obs])
    x, w = q["nvda_revenue"].sel(quarter="2026Q3").values, u.run["weight"].values
    assert abs(metrics.quantile(x, 0.5, w).value - 108) < abs(metrics.quantile(x, 0.5).value - 108)
    assert abs(metrics.quantile(x, 0.5, w).value - 108) < 2.16
    y = risk.simulate(quarterly_scenario, draws=500, seed=8)
    with pytest.raises(risk.ScenarioError, match=r"2026Q3 is a quarter, and this run is by year: make the run by quarter"):
        parse_observation("nvda_revenue[2026Q3] = 108 +- 2%", y)
    with pytest.raises(risk.ScenarioError, match=r"2026Q1 is not a simulated quarter of this run \(2026Q3 to 2032Q4\)"):
        parse_observation("nvda_revenue[2026Q1] = 81 +- 2%", q)
