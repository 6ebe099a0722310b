"""The model matches the scalar reference of tests/reference_model.py draw by draw."""

from __future__ import annotations

import numpy as np
import pytest

import risk
from risk.glossary import CALIBRATED, OUTPUTS, SHOCKS
from risk.model.engine import run_model
from risk.sampling import sample_parameters, sample_shocks

from conftest import variant
from reference_model import reference_path

DRAWS = 256


def _draw_shocks(shocks, i):
    """Draw i's shocks as the reference takes them: stream name -> list of yearly values."""
    return {name: list(shocks[s, :, i]) for s, name in enumerate(SHOCKS)}


def _compare(scenario, base, seed, draws=DRAWS, method="lhs"):
    H = scenario.settings.horizon
    params = sample_parameters(scenario.parameters, draws, seed, method)
    shocks = sample_shocks(seed, H, 0, draws)
    result = run_model(params, shocks, base, H)
    for i in range(draws):
        ref = reference_path({k: float(v[i]) for k, v in params.items()}, _draw_shocks(shocks, i), base, H)
        for name in OUTPUTS:
            np.testing.assert_allclose(result.outputs[name][i], ref[name], rtol=1e-9, atol=1e-9, err_msg=f"{name}, draw {i}")
        for name in CALIBRATED:
            np.testing.assert_allclose(result.calibrated[name][i], ref["_calibrated"][name], rtol=1e-9, err_msg=name)
    return result, params


def test_base_scenario_matches_reference(base_scenario, base):
    _compare(base_scenario, base, seed=7)


def test_simulate_dataset_carries_the_same_numbers(base_scenario, base):
    """The Dataset from simulate() holds exactly what run_model computes (float64 storage)."""
    ds = risk.simulate(base_scenario, draws=DRAWS, seed=11, dtype="float64")
    params = {k: ds[k].values for k in base_scenario.parameters}
    shocks = sample_shocks(11, 7, 0, DRAWS)
    for i in range(0, DRAWS, 37):
        ref = reference_path({k: float(v[i]) for k, v in params.items()}, _draw_shocks(shocks, i), base, 7)
        for name in OUTPUTS:
            np.testing.assert_allclose(ds[name].values[i], ref[name], rtol=1e-9, atol=1e-9, err_msg=name)


def _wide(base_doc):
    u = lambda lo, hi: {"dist": "uniform", "min": lo, "max": hi, "source": "t", "note": "t"}
    return variant(
        base_doc,
        capex__volatility=u(0.2, 0.6),
        capex__power_cap=u(0.1, 0.5),
        capex__max_cut=u(0.1, 0.3),
        digestion__enter=u(0.2, 0.6),
        digestion__overbuild_sensitivity=u(0, 5),
        pricing__elasticity=u(2, 12),
        pricing__cost_volatility=u(0.05, 0.3),
        demand__volatility=u(0.3, 1.5),
        aws__inhouse_speed=u(2, 8),
        aws__inhouse_max=u(0.3, 0.5),
        aws__server_life={"dist": "choice", "values": [4, 5, 6, 7], "source": "t", "note": "t"},
        compute__accelerator_life={"dist": "choice", "values": [3, 5, 7], "source": "t", "note": "t"},
        aws__external__enabled={"dist": "bernoulli", "p": 0.9, "source": "t", "note": "t"},
        pricing__scarcity=u(0, 3),
        nvidia__charge_probability=u(0.2, 0.8),
        nvidia__charge_size=u(0.01, 0.08),
        aws__amazon_capex_share_change=u(-0.3, 0.2),
        aws__amazon_capex_share_drift=u(-0.1, 0.1),
        aws__cost_efficiency=u(0.05, 0.25),
        aws__cost_floor=u(0.2, 0.6),
        noise__revenue=u(0.0, 0.1),
        noise__margin=u(0.0, 0.05),
        noise__capex=u(0.0, 0.1),
    )


def test_wide_scenario_exercises_every_branch(base_doc, base):
    """Wide ranges reach digestion, the power cap, the deepest cut, the premium floor and sigma_max."""
    r, params = _compare(_wide(base_doc), base, seed=3, method="mc")
    o = r.outputs
    assert o["digestion"][:, 1:].mean() > 0.2
    assert (o["aws_inhouse_share"][:, -1] == params["aws.inhouse_max"]).mean() > 0.5
    growth = o["capex_hyperscaler"][:, 1:] / o["capex_hyperscaler"][:, :-1]
    assert (growth < 0.95).any() and (growth > 1.2).any()
    assert (o["nvda_price_index"][:, -1] < 0.8).any()
    charged = o["nvda_one_off_charges"][:, 1:] > 0
    assert 0.2 < charged.mean() < 0.8  # charges in some years, not in others
    assert np.all((o["nvda_gross_margin_underlying"] - o["nvda_gross_margin"])[:, 1:][~charged] == 0)
    assert (r.calibrated["aws_cash_cost_core"] < params["aws.cost_floor"]).any()  # calibrated below the floor: kept
    assert (r.calibrated["aws_cash_cost_core"] * 0.75**7 < params["aws.cost_floor"]).any()  # the floor binds


def test_simulate_is_bitwise_the_same_whatever_the_chunks_and_threads(base_scenario):
    """Each draw's numbers depend on its own parameters and shocks alone."""
    a = risk.simulate(base_scenario, draws=3000, seed=4, dtype="float64")
    b = risk.simulate(base_scenario, draws=3000, seed=4, dtype="float64", chunk_size=700, threads=1)
    c = risk.simulate(base_scenario, draws=3000, seed=4, dtype="float64", chunk_size=1024, threads=2)
    for name in OUTPUTS:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        np.testing.assert_array_equal(a[name].values, c[name].values, err_msg=name)


def _compare_quarterly(scenario, base, seed, draws=64, method="lhs"):
    from reference_model import reference_quarters, reference_years
    from risk.model.engine import projected_steps

    H = scenario.settings.horizon
    K = projected_steps(base, H)
    params = sample_parameters(scenario.parameters, draws, seed, method)
    shocks = sample_shocks(seed, K, 0, draws)
    quarters = run_model(params, shocks, base, H, quarterly=True)
    years = run_model(params, shocks, base, H)
    for i in range(draws):
        ref = reference_quarters({k: float(v[i]) for k, v in params.items()}, _draw_shocks(shocks, i), base, H)
        annual = reference_years(ref)
        for name in OUTPUTS:
            np.testing.assert_allclose(quarters.outputs[name][i], ref[name], rtol=1e-9, atol=1e-9,
                                       err_msg=f"{name} by quarter, draw {i}")
            np.testing.assert_allclose(years.outputs[name][i], annual[name], rtol=1e-9, atol=1e-9,
                                       err_msg=f"{name} by year, draw {i}")
        for name in CALIBRATED:
            np.testing.assert_allclose(quarters.calibrated[name][i], ref["_calibrated"][name], rtol=1e-9, err_msg=name)
    return quarters, years, params


def test_quarterly_clock_matches_reference(quarterly_scenario, anchor):
    """v2 (the quarterly clock, anchored at q*) matches the scalar reference by quarter and by year."""
    q, y, _ = _compare_quarterly(quarterly_scenario, anchor, seed=9)
    # the reported quarters are the data, in every draw
    first = 2025 * 4
    for name in ("nvda_revenue", "aws_revenue", "capex_hyperscaler", "amazon_capex", "nvda_gross_margin"):
        data = anchor.reported[name]
        np.testing.assert_allclose(q.outputs[name][:, : len(data)], np.broadcast_to(data, (64, len(data))), rtol=1e-12)
    assert first == anchor.base_year * 4


def test_quarterly_clock_wide_scenario_matches_reference(base_doc, anchor):
    """Every branch (digestion drawn at year starts, the floors, the caps, charges) on the quarterly clock."""
    doc = {**base_doc, "clock": "quarter"}
    sc = _wide(doc)
    q, y, params = _compare_quarterly(sc, anchor, seed=5, method="mc")
    d = q.outputs["digestion"]
    assert d[:, 8:].mean() > 0.2
    # the regime holds within a calendar year: Q2-Q4 equal Q1 after the anchor's year
    years = d[:, 8:].reshape(64, -1, 4)
    assert (years == years[:, :, :1]).all()
