"""Properties of docs/model.md over 100,000 draws: bounds, identities, monotone responses."""

from __future__ import annotations

import numpy as np
import pytest

from risk.model.engine import run_model
from risk.sampling import sample_parameters, sample_shocks

DRAWS = 100_000
H = 7
SHARES = ["asic_share_inference", "asic_share_training", "asic_unit_share", "asic_spend_share", "inference_share",
          "utilization", "nvda_gpu_share", "aws_inhouse_share"]
POSITIVE = ["capex_hyperscaler", "accelerator_market", "nvda_revenue", "nvda_dc_revenue", "aws_revenue", "aws_capex_ai",
            "aws_depreciation", "aws_ai_revenue", "compute_supply", "compute_demand", "nvda_price_index"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(base_scenario):
    params = sample_parameters(base_scenario.parameters, DRAWS, 17, "lhs")
    return params, sample_shocks(17, H, 0, DRAWS)


@pytest.fixture(scope="module")
def out(inputs, base):
    return run_model(*inputs, base, H).outputs


def rerun(inputs, base, **changes):
    """Outputs with parameters replaced (dotted path, '__' for '.'); same draws and shocks."""
    params, shocks = inputs
    params = dict(params)
    for key, value in changes.items():
        path = key.replace("__", ".")
        params[path] = value(params[path]) if callable(value) else np.full(DRAWS, float(value))
    return run_model(params, shocks, base, H).outputs


@pytest.mark.parametrize("name", SHARES)
def test_shares_in_unit_interval(out, name):
    assert np.isfinite(out[name]).all()
    assert (out[name] >= 0).all() and (out[name] <= 1).all()


@pytest.mark.parametrize("name", POSITIVE)
def test_revenues_capex_and_supply_positive(out, name):
    assert np.isfinite(out[name]).all() and (out[name] > 0).all()


def test_moat_in_unit_interval(inputs):
    params, _ = inputs
    mu = params["pricing.moat_start"][:, None] * (1 - params["pricing.moat_decay"][:, None]) ** np.arange(H + 1)
    assert (mu >= 0).all() and (mu <= 1).all()


def test_gross_margin_below_one_and_operating_below_gross(out):
    assert (out["nvda_gross_margin"] < 1).all()
    assert (out["nvda_operating_margin"] < out["nvda_gross_margin"]).all()
    assert (out["aws_operating_margin"] < 1).all()


def test_every_output_finite(out):
    for name, arr in out.items():
        assert np.isfinite(arr).all(), name


def test_digestion_is_zero_or_one(out):
    assert set(np.unique(out["digestion"])) <= {0.0, 1.0}
    assert (out["digestion"][:, 0] == 0).all()
    assert 0.02 < out["digestion"][:, 1:].mean() < 0.5


def test_identities(out, inputs):
    params, _ = inputs
    o = out
    np.testing.assert_allclose(o["aws_margin_uplift"], o["aws_operating_margin"] - o["aws_operating_margin_all_gpu"], atol=1e-12)
    np.testing.assert_allclose(o["aws_margin_uplift_bp"], 1e4 * o["aws_margin_uplift"], rtol=1e-12)
    phi = o["inference_share"]
    np.testing.assert_allclose(o["asic_unit_share"], phi * o["asic_share_inference"] + (1 - phi) * o["asic_share_training"], rtol=1e-12)
    np.testing.assert_allclose(o["nvda_dc_revenue"], o["nvda_gpu_share"] * o["accelerator_market"] * (1 - o["asic_spend_share"]), rtol=1e-9)
    np.testing.assert_allclose(o["utilization"], np.minimum(1, o["compute_demand"] / o["compute_supply"]), rtol=1e-12)
    # more ASIC units than ASIC spend: ASIC units are cheaper whenever P > 1 - rho
    cheaper = o["nvda_price_index"] > 1 - params["compute.asic_cost_advantage"][:, None]
    assert (o["asic_unit_share"][cheaper] >= o["asic_spend_share"][cheaper] - 1e-12).all()
    # NVIDIA's share of merchant GPU spend is linear from n_0 to n_H
    np.testing.assert_allclose(o["nvda_gpu_share"][:, -1], params["nvidia.gpu_share_horizon"], rtol=1e-12)


def test_no_own_silicon_means_no_uplift(inputs, base):
    o = rerun(inputs, base, aws__inhouse_start=0.0, aws__inhouse_speed=0.0)
    assert (o["aws_inhouse_share"] == 0).all()
    assert (o["aws_margin_uplift"] == 0).all()
    assert (o["aws_capex_saved"] == 0).all()


def test_higher_asic_ceilings_lower_nvidia_margins(inputs, base, out):
    """Without the scarcity term (chi = 0) the gross margin falls in every draw. With it, the
    premium also follows last year's utilization, which the overbuild feedback (zeta > 0) can
    raise by moving a digestion year: then it falls in distribution, and in most draws. The
    operating margin also depends on revenue, hence on the capex path: with the feedback off
    it falls in every draw; with it on, in distribution."""
    up = lambda x: np.minimum(1.0, x + 0.1)
    o = rerun(inputs, base, asic_adoption__inference__ceiling=up, asic_adoption__training__ceiling=up)
    assert (o["nvda_gross_margin"][:, 1:] < out["nvda_gross_margin"][:, 1:]).mean() > 0.9
    assert (np.median(o["nvda_gross_margin"][:, 1:], 0) < np.median(out["nvda_gross_margin"][:, 1:], 0)).all()
    assert (np.median(o["nvda_operating_margin"][:, 1:], 0) < np.median(out["nvda_operating_margin"][:, 1:], 0)).all()
    v1 = rerun(inputs, base, pricing__scarcity=0.0)
    v1_up = rerun(inputs, base, pricing__scarcity=0.0, asic_adoption__inference__ceiling=up,
                  asic_adoption__training__ceiling=up)
    assert (v1_up["nvda_gross_margin"] <= v1["nvda_gross_margin"] + 1e-12).all()
    lo = rerun(inputs, base, pricing__scarcity=0.0, digestion__overbuild_sensitivity=0.0)
    hi = rerun(inputs, base, pricing__scarcity=0.0, digestion__overbuild_sensitivity=0.0,
               asic_adoption__inference__ceiling=up, asic_adoption__training__ceiling=up)
    assert (hi["nvda_operating_margin"] <= lo["nvda_operating_margin"] + 1e-12).all()


def test_higher_elasticity_lowers_gross_margin(inputs, base, out):
    """In every draw without the scarcity term; with it, in distribution (see above)."""
    o = rerun(inputs, base, pricing__elasticity=lambda e: e * 1.5)
    assert (o["nvda_gross_margin"][:, -1] < out["nvda_gross_margin"][:, -1]).mean() > 0.9
    assert (np.median(o["nvda_gross_margin"][:, 1:], 0) < np.median(out["nvda_gross_margin"][:, 1:], 0)).all()
    v1 = rerun(inputs, base, pricing__scarcity=0.0)
    v1_up = rerun(inputs, base, pricing__scarcity=0.0, pricing__elasticity=lambda e: e * 1.5)
    assert (v1_up["nvda_gross_margin"] <= v1["nvda_gross_margin"] + 1e-12).all()


def test_higher_scarcity_raises_the_margin_while_compute_gets_scarcer(inputs, base):
    """chi scales the premium's response to utilization away from the base year's own (the
    premium is calibrated so that the base year reproduces its margin): in the second projected
    year, chi = 1 raises the underlying gross margin over chi = 0 in every draw whose first-year
    utilization rose above the base year's (itself above u*), and lowers it where it fell below u*.
    (premium ratio (1 - e + x_1) / ((1 + x_0)(1 - e)) with x = u - u*, erosion e the same in both.)"""
    params, _ = inputs
    lo = rerun(inputs, base, pricing__scarcity=0.0)
    hi = rerun(inputs, base, pricing__scarcity=1.0)
    u0, u1, ustar = hi["utilization"][:, 0], hi["utilization"][:, 1], params["digestion.utilization_threshold"]
    scarcer = (u1 > u0) & (u0 > ustar)
    glut = (u1 < ustar) & (u0 > ustar)
    assert scarcer.mean() > 0.05 and glut.any()
    margin = lambda o: o["nvda_gross_margin_underlying"][:, 2]
    assert (margin(hi)[scarcer] > margin(lo)[scarcer]).all()
    assert (margin(hi)[glut] <= margin(lo)[glut]).all() and (margin(hi)[glut] < margin(lo)[glut]).mean() > 0.9


def test_higher_asic_cost_advantage_saves_more_capex(inputs, base):
    """With the overbuild feedback off (zeta = 0) the capex path does not depend on rho; without
    the scarcity term (chi = 0) neither do NVIDIA's prices, so capex saved and depreciation
    saved rise with rho in every draw and year. (With chi > 0, cheaper ASICs mean more units,
    lower utilization and lower NVIDIA prices, which makes the all-GPU counterfactual cheaper:
    not monotone, by design.)"""
    lo = rerun(inputs, base, digestion__overbuild_sensitivity=0.0, pricing__scarcity=0.0)
    hi = rerun(inputs, base, digestion__overbuild_sensitivity=0.0, pricing__scarcity=0.0,
               compute__asic_cost_advantage=lambda r: r + 0.05)
    np.testing.assert_array_equal(lo["capex_hyperscaler"], hi["capex_hyperscaler"])
    assert (hi["aws_capex_saved"][:, 1:] > lo["aws_capex_saved"][:, 1:]).all()
    saved = lambda o: (o["aws_operating_margin"] - o["aws_operating_margin_all_gpu"]) * o["aws_revenue"]
    assert (saved(hi)[:, 1:] > saved(lo)[:, 1:]).all()
    # the margin uplift itself also rises, except where higher rho also raises revenue enough
    assert (hi["aws_margin_uplift"][:, 1:] > lo["aws_margin_uplift"][:, 1:]).mean() > 0.99


def test_digestion_lowers_capex(inputs, base):
    never = rerun(inputs, base, digestion__enter=0.0, digestion__stay=0.0, digestion__overbuild_sensitivity=0.0)
    always = rerun(inputs, base, digestion__enter=1.0, digestion__stay=1.0)
    assert (never["digestion"][:, 1:] == 0).all() and (always["digestion"][:, 1:] == 1).all()
    assert (always["capex_hyperscaler"][:, 1:] <= never["capex_hyperscaler"][:, 1:]).all()
    free = never["capex_hyperscaler"][:, 1] < never["capex_hyperscaler"][:, 0] * (1 + inputs[0]["capex.power_cap"]) * (1 - 1e-9)
    assert free.mean() > 0.5  # below the power cap, where a digestion cut shows
    assert (always["capex_hyperscaler"][free, 1] < never["capex_hyperscaler"][free, 1]).mean() > 0.99


def test_cheap_nvidia_makes_own_silicon_cost_money(inputs, base):
    """Not monotone, by design: if NVIDIA's price falls below the ASIC's cost, uplift is negative."""
    o = rerun(inputs, base, pricing__elasticity=30.0, pricing__moat_start=0.0, pricing__pass_through=0.0,
              compute__asic_cost_advantage=0.05)
    below = o["nvda_price_index"][:, 1:] < 0.95
    assert below.any()
    assert (o["aws_capex_saved"][:, 1:][below] < 0).all()
