"""Assembling the six stages into a run over draws and years.

:func:`run_model` takes sampled parameters (one array per dotted parameter path, shape
(draws,)), per-year shocks (shape (draws, horizon)), and the base-year data, and returns
every output of :data:`risk.glossary.OUTPUTS` with shape (draws, horizon + 1); column 0 is
the base year. Only the loop over years is in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..data import BaseData
from . import adoption, aws, capex, compute, nvidia, pricing

__all__ = ["ModelResult", "run_model", "check_feasible"]


@dataclass
class ModelResult:
    """Outputs of a run.

    Attributes
    ----------
    outputs : dict of str to ndarray, shape (draws, horizon + 1)
        Every variable of :data:`risk.glossary.OUTPUTS`.
    calibrated : dict of str to ndarray, shape (draws,)
        Per-draw quantities fixed by the base-year calibration
        (:data:`risk.glossary.CALIBRATED`).
    """

    outputs: dict[str, np.ndarray]
    calibrated: dict[str, np.ndarray]


def check_feasible(support: Mapping[str, tuple[float, float]], base: BaseData) -> list[tuple[str, str]]:
    """Conditions the parameters' distributions must meet against the data.

    Parameters
    ----------
    support : mapping of str to (float, float)
        Smallest and largest value of each parameter's distribution, by dotted path.
    base : BaseData

    Returns
    -------
    list of (path, message)
    """
    problems = []
    n_market = len(base.market_years)
    life = support["compute.accelerator_life"][1]
    if life > n_market:
        problems.append((
            "compute.accelerator_life",
            f"reaches {life:g} years, but accelerator_market history starts in {base.market_years[0]}: "
            f"lives up to {n_market} years can be used with base year {base.base_year}",
        ))
    ai0 = support["aws.ai_revenue_start"][1]
    if ai0 >= base.aws_revenue:
        problems.append((
            "aws.ai_revenue_start",
            f"reaches {ai0:g}, but AWS revenue in {base.base_year} is {base.aws_revenue:g}; it must stay below",
        ))
    start = support["aws.external.start_year"][0]
    if start < base.base_year:
        problems.append((
            "aws.external.start_year",
            f"reaches {start:g}, before the base year {base.base_year}; external chip sales start after it",
        ))
    return problems


def run_model(
    p: Mapping[str, np.ndarray],
    shocks: Mapping[str, np.ndarray],
    base: BaseData,
    horizon: int,
    out: dict[str, np.ndarray] | None = None,
) -> ModelResult:
    """Run the model for every draw over the base year and ``horizon`` projected years.

    Parameters
    ----------
    p : mapping of str to ndarray, shape (draws,)
        Sampled parameters by dotted path (units of :data:`risk.glossary.PARAMETERS`).
    shocks : mapping of str to ndarray, shape (draws, horizon)
        Per-year shocks by stream name (:data:`risk.glossary.SHOCKS`); column j is year j + 1.
    base : BaseData
        Base-year figures and history.
    horizon : int
        Projected years H.
    out : dict of str to ndarray, shape (draws, horizon + 1), optional
        Arrays (or views) to write the outputs into, for example the rows of a larger run;
        any missing output is allocated.

    Returns
    -------
    ModelResult
    """
    n = len(p["capex.growth_first"])
    Y0 = base.base_year
    H = horizon
    out = {} if out is None else out

    def store(name, t, value):
        if name not in out:
            out[name] = np.empty((n, H + 1), order="F")
        out[name][:, t] = value

    # ---- parameters ------------------------------------------------------------------
    g1, ginf, tau_g = p["capex.growth_first"], p["capex.growth_long"], p["capex.fade_years"]
    sig_g, g_power, c_cut, v_k = p["capex.volatility"], p["capex.power_cap"], p["capex.max_cut"], p["capex.intensity_drift"]
    delta, p_enter, p_stay = p["digestion.cut"], p["digestion.enter"], p["digestion.stay"]
    zeta, u_star = p["digestion.overbuild_sensitivity"], p["digestion.utilization_threshold"]
    s0_inf, S_inf = p["asic_adoption.inference.start"], p["asic_adoption.inference.ceiling"]
    ymid_inf, k_inf = p["asic_adoption.inference.midpoint"], p["asic_adoption.inference.steepness"]
    s0_tr, S_tr = p["asic_adoption.training.start"], p["asic_adoption.training.ceiling"]
    ymid_tr, k_tr = p["asic_adoption.training.midpoint"], p["asic_adoption.training.steepness"]
    eps, mu0, v = p["pricing.elasticity"], p["pricing.moat_start"], p["pricing.moat_decay"]
    c_bar, sig_c, psi = p["pricing.cost_drift"], p["pricing.cost_volatility"], p["pricing.pass_through"]
    rho, h, L_c, u0 = p["compute.asic_cost_advantage"], p["compute.hardware_progress"], p["compute.accelerator_life"], p["compute.base_utilization"]
    phi0 = p["demand.inference_share_start"]
    gf_inf, gl_inf = p["demand.inference_growth_first"], p["demand.inference_growth_long"]
    gf_tr, gl_tr = p["demand.training_growth_first"], p["demand.training_growth_long"]
    tau_D, sig_D = p["demand.fade_years"], p["demand.volatility"]
    n_H, g_O, g_o = p["nvidia.gpu_share_horizon"], p["nvidia.opex_growth"], p["nvidia.other_growth"]
    beta, theta = p["aws.capex_share"], p["aws.ai_capex_share"]
    sig0, lam, sig_max = p["aws.inhouse_start"], p["aws.inhouse_speed"], p["aws.inhouse_max"]
    L_s, L_o = p["aws.server_life"], p["aws.other_life"]
    R_ai0, d, g_core, w_ai = p["aws.ai_revenue_start"], p["aws.rental_decline"], p["aws.core_growth"], p["aws.ai_cash_cost"]
    B_E, y_E, r_E = p["aws.external.enabled"], p["aws.external.start_year"], p["aws.external.ramp_years"]
    E_max, m_E = p["aws.external.mature_revenue"], p["aws.external.margin"]

    # ---- base year (t = 0) -----------------------------------------------------------
    C = np.full(n, base.capex_hyperscaler)
    k0 = base.market[-1] / base.capex_hyperscaler
    alpha = base.amazon_capex / base.capex_hyperscaler
    M = k0 * C
    share0 = adoption.aggregate_share(phi0, s0_inf, s0_tr)
    premium0 = pricing.premium_base(base.nvda_underlying_gross_margin)
    c0 = compute.blended_cost(share0, 1.0, rho)

    # market vintages: columns are calendar years from the first history year to Y0 + H
    first = int(base.market_years[0])
    col0 = Y0 - first
    N = np.zeros((n, col0 + H + 1), order="F")
    N[:, : col0 + 1] = base.market[None, :] * compute.progress_back(h, col0) / c0[:, None]
    w_c = compute.life_weights(L_c)
    S = compute.installed(N, col0, w_c)
    D_inf = phi0 * u0 * S
    D_tr = (1.0 - phi0) * u0 * S
    u = compute.utilization(D_inf + D_tr, S)
    G = compute.gpu_spend(M, share0, 1.0, c0)
    n0 = base.nvda_dc_revenue / G

    # AWS vintages: columns are calendar years from the first AWS history year to Y0 + H
    a_first = int(base.aws_capex_years[0])
    acol0 = Y0 - a_first
    ncols = acol0 + H + 1
    I, J, I_cf, U = (np.zeros((n, ncols), order="F") for _ in range(4))
    w_s, w_o = aws.half_year_weights(L_s), aws.half_year_weights(L_o)
    hist = base.aws_capex[None, :]
    I[:, : acol0 + 1] = theta[:, None] * hist
    J[:, : acol0 + 1] = (1.0 - theta[:, None]) * hist
    if base.aws_depreciation is not None:
        scale = base.aws_depreciation / aws.depreciation(I, J, acol0, L_s, L_o, w_s, w_o)
        I *= scale[:, None]
        J *= scale[:, None]
    else:
        scale = np.ones(n)
    I_cf[:] = I
    cA0 = compute.blended_cost(sig0, 1.0, rho)
    U[:, : acol0 + 1] = I[:, : acol0 + 1] * compute.progress_back(h, acol0) / cA0[:, None]
    D_A = aws.depreciation(I, J, acol0, L_s, L_o, w_s, w_o)
    SA = aws.weighted_vintages(U, acol0, w_s)
    y0 = R_ai0 / (u0 * SA)
    R_core0 = base.aws_revenue - R_ai0
    w_core = aws.core_cash_cost(base.aws_revenue, base.aws_operating_margin, D_A, w_ai, R_ai0, R_core0)

    state = dict(C=C, R=np.zeros(n), u=u, kappa=np.ones(n), log_kappa=np.zeros(n), D_inf=D_inf, D_tr=D_tr)
    anchor_inf = adoption.s_curve_anchor(Y0, ymid_inf, k_inf)
    anchor_tr = adoption.s_curve_anchor(Y0, ymid_tr, k_tr)
    fade_step_g, fade_step_D = capex.fade(2, tau_g), capex.fade(2, tau_D)
    fade_g, fade_D = np.ones(n), np.ones(n)
    # (1 + g)^t factors, carried year by year
    f_vk, f_moat, f_h, f_O, f_o, f_d, f_core = (np.ones(n) for _ in range(7))
    _store_year(store, 0, dict(
        capex_hyperscaler=C, accelerator_market=M, asic_share_inference=s0_inf, asic_share_training=s0_tr,
        asic_unit_share=share0, asic_spend_share=1.0 - G / M, inference_share=phi0, compute_supply=S,
        compute_demand=D_inf + D_tr, utilization=u, digestion=np.zeros(n), nvda_price_index=np.ones(n),
        nvda_gross_margin=nvidia.reported_gross_margin(base.nvda_underlying_gross_margin, base.nvda_one_off_charges, base.nvda_revenue) + np.zeros(n),
        nvda_operating_margin=nvidia.operating_margin(base.nvda_gross_margin, base.nvda_opex, base.nvda_revenue) + np.zeros(n),
        nvda_revenue=np.full(n, base.nvda_revenue), nvda_dc_revenue=n0 * G, nvda_gpu_share=n0,
        aws_inhouse_share=sig0, aws_capex_ai=I[:, acol0], aws_capex_saved=I[:, acol0] * (1.0 / cA0 - 1.0),
        aws_depreciation=D_A, aws_ai_revenue=R_ai0, aws_revenue=np.full(n, base.aws_revenue),
        aws_operating_margin=np.full(n, base.aws_operating_margin), aws_operating_margin_all_gpu=np.full(n, base.aws_operating_margin),
        aws_margin_uplift=np.zeros(n), aws_margin_uplift_bp=np.zeros(n), aws_external_revenue=np.zeros(n),
        amazon_capex=np.full(n, base.amazon_capex),
    ))

    # ---- projected years -------------------------------------------------------------
    for t in range(1, H + 1):
        year = Y0 + t
        f_vk, f_moat, f_h = nvidia.compound(f_vk, v_k), nvidia.compound(f_moat, -v), nvidia.compound(f_h, h)
        f_O, f_o, f_d, f_core = nvidia.compound(f_O, g_O), nvidia.compound(f_o, g_o), nvidia.compound(f_d, -d), nvidia.compound(f_core, g_core)
        # 1. capex (uses last year's utilization)
        prob = capex.digestion_probability(state["R"], state["u"], p_enter, p_stay, zeta, u_star)
        R = capex.digestion_state(prob, shocks["digestion"][:, t - 1])
        if t > 1:
            fade_g, fade_D = fade_g * fade_step_g, fade_D * fade_step_D
        g = capex.capex_growth(fade_g, g1, ginf, sig_g, shocks["capex"][:, t - 1], delta, R)
        C = capex.next_capex(state["C"], g, c_cut, g_power)
        M = capex.accelerator_market(C, k0, f_vk)
        # 4a. demand and the inference share
        D_inf = compute.grow(state["D_inf"], compute.demand_growth(fade_D, gf_inf, gl_inf, sig_D, shocks["demand_inference"][:, t - 1]))
        D_tr = compute.grow(state["D_tr"], compute.demand_growth(fade_D, gf_tr, gl_tr, sig_D, shocks["demand_training"][:, t - 1]))
        phi = D_inf / (D_inf + D_tr)
        # 2. adoption
        s_inf = adoption.s_curve(year, s0_inf, S_inf, ymid_inf, k_inf, anchor_inf)
        s_tr = adoption.s_curve(year, s0_tr, S_tr, ymid_tr, k_tr, anchor_tr)
        s = adoption.aggregate_share(phi, s_inf, s_tr)
        # 3. pricing
        mu = pricing.moat(mu0, f_moat)
        prem = pricing.markup_premium(premium0, eps, mu, s, share0)
        step = pricing.unit_cost_factor(c_bar, sig_c, shocks["unit_cost"][:, t - 1])
        kappa, log_kappa = state["kappa"] * step, state["log_kappa"] + np.log(step)
        passed = pricing.passed_cost(log_kappa, psi)
        GM = pricing.gross_margin(kappa, passed, prem)
        P = pricing.price_index(passed, prem, premium0)
        # 4b. supply and utilization
        c = compute.blended_cost(s, P, rho)
        N[:, col0 + t] = compute.new_units(M, f_h, c)
        G = compute.gpu_spend(M, s, P, c)
        S = compute.installed(N, col0 + t, w_c)
        u = compute.utilization(D_inf + D_tr, S)
        # 5. NVIDIA
        n_t = nvidia.gpu_share(t, H, n0, n_H)
        R_dc = n_t * G
        R_nv = R_dc + base.nvda_other_revenue * f_o
        OM = nvidia.operating_margin(GM, base.nvda_opex * f_O, R_nv)
        # 6. AWS
        A = alpha * C
        col = acol0 + t
        I[:, col] = theta * beta * A
        J[:, col] = (1.0 - theta) * beta * A
        sig = aws.inhouse_share(s, share0, sig0, lam, sig_max)
        cA = compute.blended_cost(sig, P, rho)
        U[:, col] = I[:, col] * f_h / cA
        I_cf[:, col] = I[:, col] * (P / cA)  # exactly I when the own-silicon share is 0
        D_other = aws.weighted_vintages(J, col, w_o) / L_o
        D_A = aws.weighted_vintages(I, col, w_s) / L_s + D_other
        D_cf = aws.weighted_vintages(I_cf, col, w_s) / L_s + D_other
        SA = aws.weighted_vintages(U, col, w_s)
        R_ai = aws.ai_revenue(y0, f_d, u, SA)
        R_core = R_core0 * f_core
        E = aws.external_revenue(B_E, E_max, year, y_E, r_E)
        R_A = R_core + R_ai + E
        cash = aws.cash_costs(w_core, R_core, w_ai, R_ai, m_E, E)
        OM_A = aws.operating_margin(R_A, D_A, cash)
        OM_cf = aws.operating_margin(R_A, D_cf, cash)

        state = dict(C=C, R=R, u=u, kappa=kappa, log_kappa=log_kappa, D_inf=D_inf, D_tr=D_tr)
        _store_year(store, t, dict(
            capex_hyperscaler=C, accelerator_market=M, asic_share_inference=s_inf, asic_share_training=s_tr,
            asic_unit_share=s, asic_spend_share=1.0 - G / M, inference_share=phi, compute_supply=S,
            compute_demand=D_inf + D_tr, utilization=u, digestion=R, nvda_price_index=P, nvda_gross_margin=GM,
            nvda_operating_margin=OM, nvda_revenue=R_nv, nvda_dc_revenue=R_dc, nvda_gpu_share=n_t,
            aws_inhouse_share=sig, aws_capex_ai=I[:, col], aws_capex_saved=I_cf[:, col] - I[:, col],
            aws_depreciation=D_A, aws_ai_revenue=R_ai, aws_revenue=R_A, aws_operating_margin=OM_A,
            aws_operating_margin_all_gpu=OM_cf, aws_margin_uplift=OM_A - OM_cf, aws_margin_uplift_bp=(OM_A - OM_cf) * 1e4,
            aws_external_revenue=E, amazon_capex=A,
        ))

    calibrated = dict(nvda_gpu_share_base=n0, aws_history_scale=scale, aws_cash_cost_core=w_core)
    return ModelResult(out, calibrated)


def _store_year(store, t, values):
    for name, value in values.items():
        store(name, t, value)
