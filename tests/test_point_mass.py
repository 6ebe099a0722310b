"""A point-mass scenario gives one deterministic path, checked by hand for 2026 and 2027."""

from __future__ import annotations

import math

import pytest

import risk

from conftest import SCENARIOS, fixed, set_path
from risk.glossary import PARAMETERS
from risk.scenario import scenario_from_dict

VALUES = {
    "capex.growth_first": 0.5, "capex.growth_long": 0.1, "capex.fade_years": 1.0, "capex.volatility": 0.0,
    "capex.power_cap": 1.0, "capex.max_cut": 0.5, "capex.intensity_drift": 0.0,
    "digestion.cut": 0.3, "digestion.enter": 0.0, "digestion.stay": 0.0, "digestion.overbuild_sensitivity": 0.0,
    "digestion.utilization_threshold": 0.85,
    "asic_adoption.inference.start": 0.25, "asic_adoption.inference.ceiling": 0.5,
    "asic_adoption.inference.midpoint": 2027, "asic_adoption.inference.steepness": 1.0,
    "asic_adoption.training.start": 0.12, "asic_adoption.training.ceiling": 0.25,
    "asic_adoption.training.midpoint": 2029, "asic_adoption.training.steepness": 1.0,
    "pricing.elasticity": 2.0, "pricing.moat_start": 0.5, "pricing.moat_decay": 0.1, "pricing.cost_drift": 0.02,
    "pricing.cost_volatility": 0.0, "pricing.pass_through": 0.5,
    "compute.asic_cost_advantage": 0.25, "compute.hardware_progress": 0.3, "compute.accelerator_life": 5,
    "compute.base_utilization": 0.95,
    "demand.inference_share_start": 0.5, "demand.inference_growth_first": 1.0, "demand.inference_growth_long": 0.3,
    "demand.training_growth_first": 0.5, "demand.training_growth_long": 0.2, "demand.fade_years": 1.0,
    "demand.volatility": 0.0,
    "nvidia.gpu_share_horizon": 0.9, "nvidia.opex_growth": 0.1, "nvidia.other_growth": 0.1,
    "aws.capex_share": 0.8, "aws.ai_capex_share": 0.6, "aws.inhouse_start": 0.3, "aws.inhouse_speed": 1.5,
    "aws.inhouse_max": 0.8, "aws.server_life": 5, "aws.other_life": 20, "aws.ai_revenue_start": 25.0,
    "aws.rental_decline": 0.1, "aws.core_growth": 0.1, "aws.ai_cash_cost": 0.3,
    "aws.external.enabled": 0, "aws.external.start_year": 2027, "aws.external.ramp_years": 2,
    "aws.external.mature_revenue": 10.0, "aws.external.margin": 0.5,
    # the structural terms at their neutral values: v1
    "pricing.scarcity": 0.0, "nvidia.charge_probability": 0.0, "nvidia.charge_size": 0.02,
    "aws.amazon_capex_share_change": 0.0, "aws.amazon_capex_share_drift": 0.0, "aws.cost_efficiency": 0.0,
    "aws.cost_floor": 0.3,
    # no reporting noise
    "noise.revenue": 0.0, "noise.margin": 0.0, "noise.capex": 0.0,
}
#: The structural terms switched on: scarcity pricing, a charge every year, Amazon's capex share
#: down 15 % then up 2 % a year, AWS core cash costs down 10 % a year to a floor of 0.45.
TERMS = {"pricing.scarcity": 1.0, "nvidia.charge_probability": 1.0, "nvidia.charge_size": 0.02,
         "aws.amazon_capex_share_change": -0.15, "aws.amazon_capex_share_drift": 0.02, "aws.cost_efficiency": 0.1,
         "aws.cost_floor": 0.45}


def _point_path(base_doc, values):
    doc = base_doc
    for p, v in values.items():
        doc = set_path(doc, p, fixed(v))
    ds = risk.simulate(scenario_from_dict(doc, base_dir=SCENARIOS), draws=64, seed=1, dtype="float64")
    for name in ds.data_vars:  # one deterministic path: every draw the same
        assert (ds[name].max("draw") == ds[name].min("draw")).all(), name
    return ds.isel(draw=0)


@pytest.fixture(scope="module")
def path(base_doc):
    assert set(VALUES) == set(PARAMETERS)
    return _point_path(base_doc, VALUES)


def test_structural_terms_by_hand(base_doc, path):
    """Scarcity pricing, one-off charges, Amazon's capex share and AWS cost efficiency, by hand
    from the v1 path's quantities they leave alone."""
    terms = _point_path(base_doc, VALUES | TERMS)
    v1 = lambda name, year: float(path[name].sel(year=year))
    got = lambda name, year: float(terms[name].sel(year=year))
    # Amazon capex: alpha_0 = 131.8 / 400, -15 % in 2026, +2 % in 2027; hyperscaler capex unchanged
    alpha = 131.8 / 400
    assert got("capex_hyperscaler", 2027) == v1("capex_hyperscaler", 2027)
    assert got("amazon_capex", 2026) == pytest.approx(alpha * 0.85 * 600, rel=1e-12)
    assert got("amazon_capex", 2027) == pytest.approx(alpha * 0.85 * 1.02 * v1("capex_hyperscaler", 2027), rel=1e-12)
    # scarcity: the premium is calibrated so that 2025's own utilization (0.95 against u* = 0.85)
    # reproduces 2025's margin, prem_core = prem_0 / (1 + 0.1); 2026 follows 2025's utilization
    s0, s1 = 0.5 * 0.25 + 0.5 * 0.12, v1("asic_unit_share", 2026)
    gm0 = 0.711 + 4.5 / 215.94
    prem0 = gm0 / (1 - gm0)
    prem_core = prem0 / (1 + 1.0 * (0.95 - 0.85))
    prem1 = prem_core * (1 - 2.0 * (1 - 0.5 * 0.9) * (s1 - s0) + 1.0 * (0.95 - 0.85))
    GMu1 = 1 - 1.02**0.5 / (1 + prem1)
    assert got("nvda_gross_margin_underlying", 2026) == pytest.approx(GMu1, rel=1e-12)
    assert GMu1 > v1("nvda_gross_margin", 2026)
    # a charge of 2 % of revenue every year, in GAAP gross and operating margin alike
    for year in (2026, 2027, 2032):
        assert got("nvda_gross_margin", year) == pytest.approx(got("nvda_gross_margin_underlying", year) - 0.02, rel=1e-12)
        assert got("nvda_one_off_charges", year) == pytest.approx(0.02 * got("nvda_revenue", year), rel=1e-12)
    assert v1("nvda_one_off_charges", 2026) == 0 and v1("nvda_gross_margin_underlying", 2026) == v1("nvda_gross_margin", 2026)
    # AWS core cash costs: 0.522 in 2025, 10 % less a year, down to the floor 0.45 (binds from 2027)
    wc = (128.7 * (1 - 45.6 / 128.7) - 21.45 - 0.3 * 25) / (128.7 - 25)
    for t, year in ((1, 2026), (2, 2027), (5, 2030)):
        w = max(min(wc, 0.45), wc * 0.9**t)
        Rc = (128.7 - 25) * 1.1**t
        cash = w * Rc + 0.3 * got("aws_ai_revenue", year)
        OM = 1 - (got("aws_depreciation", year) + cash) / got("aws_revenue", year)
        assert got("aws_operating_margin", year) == pytest.approx(OM, rel=1e-12)
    assert wc * 0.9 > 0.45 > wc * 0.81


L = lambda x: 1 / (1 + math.exp(-x))


def test_hand_calculation_2026_and_2027(path):
    got = lambda name, year: float(path[name].sel(year=year))
    # --- stage 1: capex. g_1 = 0.1 + 0.4*exp(0); g_2 = 0.1 + 0.4*exp(-1); no shocks, no digestion.
    C1 = 400 * 1.5
    C2 = C1 * (1 + 0.1 + 0.4 * math.exp(-1))
    assert got("capex_hyperscaler", 2026) == pytest.approx(600.0, rel=1e-12)
    assert got("capex_hyperscaler", 2027) == pytest.approx(C2, rel=1e-12)
    assert C2 == pytest.approx(748.2911, abs=1e-4)
    M1, M2 = 0.6 * C1, 0.6 * C2  # k_0 = 240 / 400
    assert got("accelerator_market", 2026) == pytest.approx(360.0, rel=1e-12)
    assert got("accelerator_market", 2027) == pytest.approx(M2, rel=1e-12)

    # --- stage 4a: demand, D_0 split 50/50; inference doubles, training +50% in 2026
    phi1 = 2.0 / (2.0 + 1.5)
    ginf2, gtr2 = 0.3 + 0.7 * math.exp(-1), 0.2 + 0.3 * math.exp(-1)
    phi2 = 2.0 * (1 + ginf2) / (2.0 * (1 + ginf2) + 1.5 * (1 + gtr2))
    assert got("inference_share", 2026) == pytest.approx(0.571428571, rel=1e-8)
    assert got("inference_share", 2027) == pytest.approx(phi2, rel=1e-12)

    # --- stage 2: adoption, anchored S-curves
    si1 = 0.25 + 0.25 * (L(-1) - L(-2)) / (1 - L(-2))
    st1 = 0.12 + 0.13 * (L(-3) - L(-4)) / (1 - L(-4))
    si2 = 0.25 + 0.25 * (L(0) - L(-2)) / (1 - L(-2))
    st2 = 0.12 + 0.13 * (L(-2) - L(-4)) / (1 - L(-4))
    assert si1 == pytest.approx(0.2925009, abs=1e-6)
    s0 = 0.5 * 0.25 + 0.5 * 0.12
    s1, s2 = phi1 * si1 + (1 - phi1) * st1, phi2 * si2 + (1 - phi2) * st2
    assert got("asic_unit_share", 2026) == pytest.approx(s1, rel=1e-12)
    assert got("asic_unit_share", 2027) == pytest.approx(s2, rel=1e-12)

    # --- stage 3: pricing. GM_0 underlying = 0.711 + 4.5/215.94 (H20 charge added back)
    gm0 = 0.711 + 4.5 / 215.94
    prem0 = gm0 / (1 - gm0)
    prem1 = prem0 * (1 - 2.0 * (1 - 0.5 * 0.9) * (s1 - s0))
    prem2 = prem0 * (1 - 2.0 * (1 - 0.5 * 0.81) * (s2 - s0))
    k1, k2 = 1.02, 1.02**2
    GM1, GM2 = 1 - k1**0.5 / (1 + prem1), 1 - k2**0.5 / (1 + prem2)
    P1, P2 = k1**0.5 * (1 + prem1) / (1 + prem0), k2**0.5 * (1 + prem2) / (1 + prem0)
    assert got("nvda_gross_margin", 2026) == pytest.approx(GM1, rel=1e-12)
    assert got("nvda_gross_margin", 2027) == pytest.approx(GM2, rel=1e-12)
    assert GM1 == pytest.approx(0.72126, abs=1e-5)
    assert got("nvda_price_index", 2027) == pytest.approx(P2, rel=1e-12)

    # --- stage 4b: spend split and units
    c1, c2 = (1 - s1) * P1 + s1 * 0.75, (1 - s2) * P2 + s2 * 0.75
    G1, G2 = M1 * (1 - s1) * P1 / c1, M2 * (1 - s2) * P2 / c2
    assert got("asic_spend_share", 2026) == pytest.approx(1 - G1 / M1, rel=1e-12)
    c0 = 1 - s0 * 0.25
    market = {2021: 15, 2022: 20, 2023: 60, 2024: 135, 2025: 240}
    N = {y: m * 1.3 ** (y - 2025) / c0 for y, m in market.items()}
    N[2026], N[2027] = M1 * 1.3 / c1, M2 * 1.3**2 / c2
    S0 = sum(N[y] for y in range(2021, 2026))
    S1 = N[2022] + N[2023] + N[2024] + N[2025] + N[2026]
    S2 = N[2023] + N[2024] + N[2025] + N[2026] + N[2027]
    assert got("compute_supply", 2026) == pytest.approx(S1, rel=1e-12)
    D0 = 0.95 * S0
    D1, D2 = D0 * (0.5 * 2.0 + 0.5 * 1.5), D0 * (0.5 * 2.0 * (1 + ginf2) + 0.5 * 1.5 * (1 + gtr2))
    u1, u2 = min(1, D1 / S1), min(1, D2 / S2)
    assert got("utilization", 2026) == pytest.approx(u1, rel=1e-12)
    assert got("utilization", 2027) == pytest.approx(u2, rel=1e-12)

    # --- stage 5: NVIDIA. n_0 calibrated to data center revenue 193.7
    G0 = 240 * (1 - s0) / c0
    n0 = 193.7 / G0
    n1, n2 = n0 + (0.9 - n0) / 7, n0 + 2 * (0.9 - n0) / 7
    R1, R2 = n1 * G1 + 22.24 * 1.1, n2 * G2 + 22.24 * 1.21
    assert got("nvda_revenue", 2026) == pytest.approx(R1, rel=1e-9)
    assert got("nvda_revenue", 2027) == pytest.approx(R2, rel=1e-9)
    assert got("nvda_operating_margin", 2026) == pytest.approx(GM1 - 23.1 * 1.1 / R1, rel=1e-9)
    assert got("nvda_operating_margin", 2027) == pytest.approx(GM2 - 23.1 * 1.21 / R2, rel=1e-9)

    # --- stage 6: AWS. History 2013-2025 scaled by f so that 2025 depreciation is 21.45
    hist = dict(zip(range(2013, 2026), [3, 4, 4, 5, 6, 7, 8, 11, 16, 19, 20, 45, 100]))
    raw = 0.6 * (0.5 * 100 + 45 + 20 + 19 + 16 + 0.5 * 11) / 5 + 0.4 * (0.5 * 100 + sum(hist[y] for y in range(2013, 2025))) / 20
    assert raw == pytest.approx(22.62, abs=1e-9)
    f = 21.45 / raw
    I = {y: 0.6 * f * a for y, a in hist.items()}
    Jh = {y: 0.4 * f * a for y, a in hist.items()}
    alpha = 131.8 / 400
    I[2026], I[2027] = 0.6 * 0.8 * alpha * C1, 0.6 * 0.8 * alpha * C2
    J26, J27 = 0.4 * 0.8 * alpha * C1, 0.4 * 0.8 * alpha * C2
    assert got("aws_capex_ai", 2026) == pytest.approx(I[2026], rel=1e-12)
    sig1, sig2 = 0.3 + 1.5 * (s1 - s0), 0.3 + 1.5 * (s2 - s0)
    cA1, cA2 = (1 - sig1) * P1 + sig1 * 0.75, (1 - sig2) * P2 + sig2 * 0.75
    X1, X2 = I[2026] * (P1 / cA1 - 1), I[2027] * (P2 / cA2 - 1)
    assert got("aws_inhouse_share", 2027) == pytest.approx(sig2, rel=1e-12)
    assert got("aws_capex_saved", 2026) == pytest.approx(X1, rel=1e-12)
    assert got("aws_capex_saved", 2027) == pytest.approx(X2, rel=1e-12)
    other = sum(Jh[y] for y in range(2013, 2026))  # every history vintage younger than 20 years
    D_26 = (0.5 * I[2026] + I[2025] + I[2024] + I[2023] + I[2022] + 0.5 * I[2021]) / 5 + (0.5 * J26 + other) / 20
    D_27 = (0.5 * I[2027] + I[2026] + I[2025] + I[2024] + I[2023] + 0.5 * I[2022]) / 5 + (0.5 * J27 + J26 + other) / 20
    assert got("aws_depreciation", 2026) == pytest.approx(D_26, rel=1e-12)
    assert got("aws_depreciation", 2027) == pytest.approx(D_27, rel=1e-12)
    Dcf26 = D_26 + 0.5 * X1 / 5
    Dcf27 = D_27 + (0.5 * X2 + X1) / 5
    cA0 = 0.7 + 0.3 * 0.75
    U = {y: I[y] * 1.3 ** (y - 2025) / cA0 for y in hist}
    U[2026], U[2027] = I[2026] * 1.3 / cA1, I[2027] * 1.3**2 / cA2
    SA0 = 0.5 * U[2025] + U[2024] + U[2023] + U[2022] + U[2021] + 0.5 * U[2020]
    SA1 = 0.5 * U[2026] + U[2025] + U[2024] + U[2023] + U[2022] + 0.5 * U[2021]
    SA2 = 0.5 * U[2027] + U[2026] + U[2025] + U[2024] + U[2023] + 0.5 * U[2022]
    y0 = 25 / (0.95 * SA0)
    Rai1, Rai2 = y0 * 0.9 * u1 * SA1, y0 * 0.81 * u2 * SA2
    assert got("aws_ai_revenue", 2026) == pytest.approx(Rai1, rel=1e-12)
    Rc1, Rc2 = (128.7 - 25) * 1.1, (128.7 - 25) * 1.21
    wc = (128.7 * (1 - 45.6 / 128.7) - 21.45 - 0.3 * 25) / (128.7 - 25)
    RA1, RA2 = Rc1 + Rai1, Rc2 + Rai2
    OM1 = 1 - (D_26 + wc * Rc1 + 0.3 * Rai1) / RA1
    OM2 = 1 - (D_27 + wc * Rc2 + 0.3 * Rai2) / RA2
    assert got("aws_revenue", 2027) == pytest.approx(RA2, rel=1e-12)
    assert got("aws_operating_margin", 2026) == pytest.approx(OM1, rel=1e-12)
    assert got("aws_operating_margin", 2027) == pytest.approx(OM2, rel=1e-12)
    assert got("aws_margin_uplift", 2026) == pytest.approx((Dcf26 - D_26) / RA1, rel=1e-9)
    assert got("aws_margin_uplift", 2027) == pytest.approx((Dcf27 - D_27) / RA2, rel=1e-9)
    assert got("aws_margin_uplift_bp", 2027) == pytest.approx(1e4 * (Dcf27 - D_27) / RA2, rel=1e-9)
