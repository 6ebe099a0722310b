"""Sensitivity: known answers (Ishigami), agreement with SALib, and the model's drivers."""

from __future__ import annotations

import numpy as np

from risk.glossary import SHOCKS
import pytest

import risk
from risk.sensitivity import evaluate, model_sobol, rank_correlations, sobol_indices, tornado, uncertain_parameters


def ishigami(u):
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_known_indices():
    """Analytic values (a=7, b=0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437."""
    r = sobol_indices(ishigami, ["x1", "x2", "x3"], n=2**14, seed=1).indices
    np.testing.assert_allclose(r["S1"].values, [0.3139, 0.4424, 0.0], atol=0.02)
    np.testing.assert_allclose(r["ST"].values, [0.5576, 0.4424, 0.2437], atol=0.02)
    assert (r["S1_conf"] > 0).all() and (r["ST_conf"] < 0.05).all()


@pytest.fixture(scope="module")
def zero_shock_model(base_scenario):
    """NVIDIA's 2030 gross margin as a function of uniforms for the uncertain parameters, shocks at 0."""
    names = uncertain_parameters(base_scenario)
    H = base_scenario.settings.horizon

    def f(u):
        m = u.shape[0]
        params = {p: np.full(m, float(d.support()[0])) for p, d in base_scenario.parameters.items()}
        for j, p in enumerate(names):
            params[p] = base_scenario.parameters[p].ppf(np.clip(u[:, j], 0, 1 - 1e-12))
        shocks = np.zeros((len(SHOCKS), H, m))
        shocks[SHOCKS.index("digestion")] = 1.0
        return evaluate(base_scenario, params, shocks, ["nvda_gross_margin"])["nvda_gross_margin"][:, 5]

    return names, f


@pytest.mark.slow
def test_model_indices_agree_with_salib(zero_shock_model):
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    names, f = zero_shock_model
    problem = {"num_vars": len(names), "names": names, "bounds": [[0, 1]] * len(names)}
    x = salib_sample.sample(problem, 2048, calc_second_order=False, seed=3)
    theirs = salib_analyze.analyze(problem, f(x), calc_second_order=False, seed=3)
    ours = sobol_indices(f, names, n=2048, seed=3).indices
    for key in ("S1", "ST"):
        diff = np.abs(ours[key].values - theirs[key])
        allowed = ours[f"{key}_conf"].values + theirs[f"{key}_conf"]
        assert (diff <= allowed + 1e-3).all(), [n for n, d, a in zip(names, diff, allowed) if d > a + 1e-3]
    top = lambda k: (set(ours["ST"].to_series().nlargest(k).index), {names[i] for i in np.argsort(theirs["ST"])[-k:]})
    (ours3, theirs3), (ours5, theirs5) = top(3), top(5)
    assert ours3 <= theirs5 and theirs3 <= ours5  # ranks 3 to 5 lie within each other's errors


@pytest.fixture(scope="module")
def sobol_result(base_scenario):
    return model_sobol(base_scenario, ["nvda_gross_margin", "aws_operating_margin"], n=2048, seed=1)


#: NVIDIA's 2030 gross margin is driven by the compute balance (first-year demand growth and
#: hardware progress set utilization, which the scarcity term prices) and by ASIC pricing
#: pressure: the five largest total Sobol indices of the base scenario, shocks aside.
TOP5_GM = {"demand.inference_growth_first", "pricing.scarcity", "compute.hardware_progress",
           "demand.training_growth_first", "pricing.elasticity"}


def test_model_sobol_indices_are_consistent(sobol_result):
    ind = sobol_result.indices.sel(year=2030)
    assert (ind["ST"] >= ind["S1"] - ind["S1_conf"] - ind["ST_conf"] - 1e-3).all()  # to within the estimators' errors
    assert 0.5 < float(ind["S1"].sel(variable="nvda_gross_margin").sum()) <= 1.05
    assert "shocks" in set(ind["input"].values)
    gm = ind["ST"].sel(variable="nvda_gross_margin").to_series().drop("shocks")
    assert set(gm.nlargest(5).index) == TOP5_GM


def test_tornado_and_sobol_agree_on_top_drivers(base_scenario, sobol_result):
    tor = tornado(base_scenario, "nvda_gross_margin", draws=4000, seed=2)
    swing = tor["swing"].sel(year=2030).to_series().abs()
    assert set(swing.nlargest(3).index) <= TOP5_GM
    sob = sobol_result.indices["ST"].sel(variable="nvda_gross_margin", year=2030).to_series()
    assert len(set(swing.nlargest(5).index) & set(sob.nlargest(6).index)) >= 4
    assert tor["swing"].attrs["units"] == "1" and tor.attrs["method"] == "tornado"


def test_monotone_responses_show_the_right_signs(base_scenario):
    ds = risk.simulate(base_scenario, draws=20_000, seed=4)
    gm = rank_correlations(ds, "nvda_gross_margin", "prcc")[2030]
    assert gm["asic_adoption.inference.ceiling"] < -0.3 and gm["pricing.elasticity"] < -0.3
    saved = rank_correlations(ds, "aws_capex_saved", "prcc")[2030]
    assert saved["compute.asic_cost_advantage"] > 0.3
    sp = rank_correlations(ds, "nvda_gross_margin", "spearman")
    assert sp.shape[1] == 8 and (sp[2025] == 0).all()  # the base year does not vary


def test_sensitivity_error_wording(base_scenario):
    with pytest.raises(KeyError, match=r"no output named 'nvda_gros_margin' \(did you mean 'nvda_gross_margin'\?\)"):
        tornado(base_scenario, "nvda_gros_margin", draws=10)
    with pytest.raises(ValueError, match="method must be 'spearman' or 'prcc', got 'kendall'"):
        rank_correlations(risk.simulate(base_scenario, draws=100), "nvda_gross_margin", "kendall")
