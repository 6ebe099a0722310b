"""The model's one assembly: the base year and one projected year, over named records.

:func:`base_year` and :func:`year` chain the six stages (capex, adoption, pricing, compute,
nvidia, aws) for the base year and for a projected year t. They read parameters, shocks,
base-year data and the state carried from year to year by name, from records
(:class:`risk.glossary.Params`, :class:`risk.glossary.Shocks`, :class:`State`, :class:`Constants`,
and :class:`risk.data.BaseData`), and return the year's :class:`risk.glossary.Outputs`.

Every field of a record is an array over draws, or a float where a value is the same for
every draw (the base-year figures); vintages have shape (years, draws) and weights (ages,
draws). The calendar-year and age loops are the only loops; :mod:`risk.model.engine` runs
the two functions over the draws of a run.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Mapping

import numpy as np

from ..data import BaseData
from ..glossary import Calibrated, Outputs
from . import adoption, aws, capex, compute, nvidia, pricing, reporting
from .clock import Step, step_probability, step_rate

__all__ = ["Constants", "State", "StepRates", "Vintages", "step_rates", "vintages", "base_year", "year", "check_feasible"]

#: Values fixed in the base year: calibrated per draw (n0, y0, ω_c), computed once per draw,
#: or the same for every draw (k0, premium0: floats).
Constants = namedtuple("Constants", [
    "k0", "premium0", "premium_core", "share0", "n0", "y0", "R_core0", "w_core", "anchor_inf", "anchor_tr",
    "step_g", "step_D", "rates",
], module=__name__)

#: The parameters' annual rates converted to the step once (:func:`step_rates`), by the
#: factor of :class:`State` they compound, and the step's capex bounds and charge probability.
StepRates = namedtuple("StepRates", [
    "f_vk", "f_moat", "f_h", "f_O", "f_o", "f_d", "f_core", "f_eff", "alpha_first", "alpha_after", "capex_floor",
    "capex_cap", "charge",
], module=__name__)


def step_rates(p, dt: float) -> StepRates:
    """Every constant annual rate of ``p`` as the rate of a step of ``dt`` years (:mod:`risk.model.clock`)."""
    return StepRates(
        f_vk=step_rate(p.capex_intensity_drift, dt), f_moat=step_rate(-p.pricing_moat_decay, dt),
        f_h=step_rate(p.compute_hardware_progress, dt), f_O=step_rate(p.nvidia_opex_growth, dt),
        f_o=step_rate(p.nvidia_other_growth, dt), f_d=step_rate(-p.aws_rental_decline, dt),
        f_core=step_rate(p.aws_core_growth, dt), f_eff=step_rate(-p.aws_cost_efficiency, dt),
        alpha_first=step_rate(p.aws_amazon_capex_share_change, dt), alpha_after=step_rate(p.aws_amazon_capex_share_drift, dt),
        capex_floor=-step_rate(-p.capex_max_cut, dt), capex_cap=step_rate(p.capex_power_cap, dt),
        charge=step_probability(p.nvidia_charge_probability, dt),
    )

#: What a year hands to the next: capex, digestion regime, utilization, unit cost, demand by
#: segment, the fades of first-year growth, the running products (1 + g)^t and Amazon's share
#: of hyperscaler capex.
State = namedtuple("State", [
    "C", "R", "u", "kappa", "log_kappa", "D_inf", "D_tr", "fade_g", "fade_D",
    "f_vk", "f_moat", "f_h", "f_O", "f_o", "f_d", "f_core", "f_eff", "alpha", "u_sum", "u_n",
], module=__name__)

#: Vintages by calendar-year column (market units N from the first market-history year; AWS
#: AI capex I, other capex J, all-GPU AI capex I_cf and AI units U from the first AWS-history
#: year) and weights by age (installed base W_c, depreciation of servers W_s and of other
#: capex W_o), allocated by :func:`vintages` and filled by the assembly.
Vintages = namedtuple("Vintages", ["N", "I", "J", "I_cf", "U", "W_c", "W_s", "W_o"], module=__name__)


def vintages(p, b: BaseData, horizon: int) -> Vintages:
    """Zeroed vintages for the draws of ``p``: a column per step (year or quarter) from the
    first history period to the last projected step (``horizon`` steps after the anchor), a
    row of weights per age in steps up to the longest life of the draws (one column of
    weights when every draw has the same life: they broadcast)."""
    n = len(p.capex_growth_first)
    cols, acols = len(b.market) + horizon, len(b.aws_capex) + horizon
    weights = [np.zeros((int(round(np.max(life) / b.step)) + 1, len(life))) for life in (
        _common(p.compute_accelerator_life), _common(p.aws_server_life), _common(p.aws_other_life))]
    return Vintages(np.zeros((cols, n)), *(np.zeros((acols, n)) for _ in "IJCU"), *weights)


def _common(life):
    """``life`` itself, or its first value alone when every draw has that life. [yr]"""
    return life[:1] if np.all(life == life[0]) else life


def base_year(p, b: BaseData, horizon: int):
    """The anchor (t = 0: the base year, or the as-of quarter q*): history vintages,
    calibration, and the state the projection starts from.

    On a quarterly clock (``b.step`` = 0.25) the anchor's flows are a quarter's and its
    vintages quarterly; the base-year formulas hold with lives in steps (L/dt), hardware
    progress per step ((1 + h)^dt) and AWS AI revenue at its annual rate times dt.

    Parameters
    ----------
    p : Params
        Parameters (:class:`risk.glossary.Params`), arrays over draws.
    b : BaseData
        Base-year figures and history.
    horizon : int
        Projected steps.

    Returns
    -------
    Constants, State, Vintages, Outputs, Calibrated
        The vintages hold the history columns and every weight; :func:`year` adds a column a year.
    """
    dt, C0 = b.step, b.capex_hyperscaler
    col0, acol0 = b.market.shape[0] - 1, b.aws_capex.shape[0] - 1
    rho, h, u0 = p.compute_asic_cost_advantage, p.compute_hardware_progress, p.compute_base_utilization
    phi0, theta, sig0 = p.demand_inference_share_start, p.aws_ai_capex_share, p.aws_inhouse_start
    L_s, L_o, R_ai0 = p.aws_server_life / dt, p.aws_other_life / dt, p.aws_ai_revenue_start * dt  # lives in steps
    v = vintages(p, b, horizon)
    for age in range(v.W_c.shape[0]):  # weights by age in steps, from age 0
        v.W_c[age] = compute.life_weight(age * dt, _common(p.compute_accelerator_life))
    for age in range(v.W_s.shape[0]):
        v.W_s[age] = aws.half_year_weight(age, _common(L_s))
    for age in range(v.W_o.shape[0]):
        v.W_o[age] = aws.half_year_weight(age, _common(L_o))

    k0 = b.market[col0] / C0
    M = k0 * C0
    share0 = adoption.aggregate_share(phi0, p.asic_adoption_inference_start, p.asic_adoption_training_start)
    premium0 = pricing.premium_base(b.nvda_underlying_gross_margin)
    c0 = compute.blended_cost(share0, 1.0, rho)
    rates = step_rates(p, dt)
    step_h = 1.0 / (1.0 + rates.f_h)
    back = 1.0  # (1 + h)^(y - Y0), from the anchor back
    for k in range(col0 + 1):
        v.N[col0 - k] = b.market[col0 - k] * back / c0
        back = back * step_h
    S = compute.vintage_sum(v.N, col0, v.W_c)
    D_inf, D_tr = phi0 * u0 * S, (1.0 - phi0) * u0 * S
    u = compute.utilization(D_inf + D_tr, S)
    G = compute.gpu_spend(M, share0, 1.0, c0)
    n0 = b.nvda_dc_revenue / G

    # AWS: the capex history split into AI and other capex, scaled to the reported depreciation
    for col in range(acol0 + 1):
        v.I[col] = theta * b.aws_capex[col]
        v.J[col] = (1.0 - theta) * b.aws_capex[col]
    at = acol0 - b.depreciation_lag  # the last period with reported depreciation
    history = aws.depreciation(compute.vintage_sum(v.I, at, v.W_s), compute.vintage_sum(v.J, at, v.W_o), L_s, L_o)
    scale = aws.history_scale(b.aws_depreciation, history)
    cA0 = compute.blended_cost(sig0, 1.0, rho)
    back = 1.0
    for k in range(acol0 + 1):
        col = acol0 - k
        v.I[col] = v.I[col] * scale
        v.J[col] = v.J[col] * scale
        v.I_cf[col] = v.I[col]
        v.U[col] = v.I[col] * back / cA0
        back = back * step_h
    D_A = aws.depreciation(compute.vintage_sum(v.I, acol0, v.W_s), compute.vintage_sum(v.J, acol0, v.W_o), L_s, L_o)
    SA = compute.vintage_sum(v.U, acol0, v.W_s)
    R_core0 = b.aws_revenue - R_ai0
    w_core = aws.core_cash_cost(b.aws_revenue, b.aws_operating_margin, D_A, p.aws_ai_cash_cost, R_ai0, R_core0)

    constants = Constants(
        k0=k0, premium0=premium0, premium_core=pricing.premium_core(premium0, p.pricing_scarcity, u,
                                                                     p.digestion_utilization_threshold),
        share0=share0, n0=n0, y0=R_ai0 / (u0 * SA),
        R_core0=R_core0, w_core=w_core,
        anchor_inf=adoption.s_curve_anchor(b.anchor_time, p.asic_adoption_inference_midpoint,
                                           p.asic_adoption_inference_steepness),
        anchor_tr=adoption.s_curve_anchor(b.anchor_time, p.asic_adoption_training_midpoint,
                                          p.asic_adoption_training_steepness),
        step_g=capex.fade(1 + dt, p.capex_fade_years), step_D=capex.fade(1 + dt, p.demand_fade_years), rates=rates,
    )
    state = State(C=C0, R=b.digestion, u=u, kappa=1.0, log_kappa=0.0, D_inf=D_inf, D_tr=D_tr, fade_g=1.0, fade_D=1.0,
                  f_vk=1.0, f_moat=1.0, f_h=1.0, f_O=1.0, f_o=1.0, f_d=1.0, f_core=1.0, f_eff=1.0,
                  alpha=b.amazon_capex / C0, u_sum=u, u_n=1.0)
    outputs = Outputs(
        capex_hyperscaler=C0, accelerator_market=M, asic_share_inference=p.asic_adoption_inference_start,
        asic_share_training=p.asic_adoption_training_start, asic_unit_share=share0, asic_spend_share=1.0 - G / M,
        inference_share=phi0, compute_supply=S, compute_demand=D_inf + D_tr, utilization=u, digestion=b.digestion,
        nvda_price_index=1.0,
        nvda_gross_margin=nvidia.reported_gross_margin(b.nvda_underlying_gross_margin, b.nvda_one_off_charges, b.nvda_revenue),
        nvda_gross_margin_underlying=b.nvda_underlying_gross_margin, nvda_one_off_charges=b.nvda_one_off_charges,
        nvda_operating_margin=nvidia.operating_margin(b.nvda_gross_margin, b.nvda_opex, b.nvda_revenue),
        nvda_revenue=b.nvda_revenue, nvda_dc_revenue=n0 * G, nvda_gpu_share=n0, aws_inhouse_share=sig0,
        aws_capex_ai=v.I[acol0], aws_capex_saved=v.I[acol0] * (1.0 / cA0 - 1.0), aws_depreciation=D_A,
        aws_ai_revenue=R_ai0, aws_revenue=b.aws_revenue, aws_operating_margin=b.aws_operating_margin,
        aws_operating_margin_all_gpu=b.aws_operating_margin, aws_margin_uplift=0.0, aws_margin_uplift_bp=0.0,
        aws_external_revenue=0.0, amazon_capex=b.amazon_capex,
    )
    calibrated = Calibrated(nvda_gpu_share_base=n0, aws_history_scale=scale, aws_cash_cost_core=w_core)
    return constants, state, v, outputs, calibrated


def year(p, b: BaseData, c, s, v: Vintages, e, st: Step, horizon: int):
    """Projected step ``st`` (a year, or a quarter): the six stages in order, and the state for the next.

    Every annual rate of ``p`` is converted to the step exactly (:mod:`risk.model.clock`);
    flows are the step's. The digestion regime is drawn at the first step of a calendar
    year, from the mean utilization of the steps since the last draw, and holds for the year.

    Order: capex (from last year's utilization) -> demand and the inference share ->
    adoption -> pricing -> supply and utilization -> NVIDIA -> AWS.

    Parameters
    ----------
    p : Params
        Parameters, arrays over draws.
    b : BaseData
        Base-year figures and history.
    c : Constants
        From :func:`base_year`.
    s : State
        Year t - 1's state.
    v : Vintages
        Vintages up to year t - 1; year t's column is written.
    e : Shocks
        The step's shocks (:class:`risk.glossary.Shocks`).
    st : Step
        The step (:func:`risk.model.clock.steps`): its index k, years since the anchor, time.
    horizon : int
        Projected steps.

    Returns
    -------
    State, Outputs
    """
    Y, dt, t = st.time, st.dt, st.t
    col, acol = b.market.shape[0] - 1 + st.k, b.aws_capex.shape[0] - 1 + st.k
    rho = p.compute_asic_cost_advantage

    r = c.rates  # the annual rates as rates of the step
    f_vk = nvidia.compound(s.f_vk, r.f_vk)
    f_moat = nvidia.compound(s.f_moat, r.f_moat)
    f_h = nvidia.compound(s.f_h, r.f_h)
    f_O = nvidia.compound(s.f_O, r.f_O)
    f_o = nvidia.compound(s.f_o, r.f_o)
    f_d = nvidia.compound(s.f_d, r.f_d)
    f_core = nvidia.compound(s.f_core, r.f_core)
    f_eff = nvidia.compound(s.f_eff, r.f_eff)
    alpha = nvidia.compound(s.alpha, r.alpha_first if t <= 1 else r.alpha_after)
    fade_g = s.fade_g * c.step_g if st.k > 1 else s.fade_g  # exp(-(t - dt)/τ): full first-step growth, then fading
    fade_D = s.fade_D * c.step_D if st.k > 1 else s.fade_D

    # 1. capex (the regime is drawn at a year's first step, from the utilization since the last draw)
    if st.year_start:
        prob = capex.digestion_probability(s.R, s.u_sum / s.u_n, p.digestion_enter, p.digestion_stay,
                                           p.digestion_overbuild_sensitivity, p.digestion_utilization_threshold)
        R = capex.digestion_state(prob, e.digestion)
    else:
        R = s.R
    g = capex.capex_growth(fade_g, p.capex_growth_first, p.capex_growth_long, p.capex_volatility, e.capex,
                           p.digestion_cut, R, dt)
    C = capex.next_capex(s.C, g, r.capex_floor, r.capex_cap)
    M = capex.accelerator_market(C, c.k0, f_vk)
    # 4a. demand and the inference share
    D_inf = compute.grow(s.D_inf, compute.demand_growth(fade_D, p.demand_inference_growth_first,
                                                        p.demand_inference_growth_long, p.demand_volatility,
                                                        e.demand_inference, dt), dt)
    D_tr = compute.grow(s.D_tr, compute.demand_growth(fade_D, p.demand_training_growth_first,
                                                      p.demand_training_growth_long, p.demand_volatility,
                                                      e.demand_training, dt), dt)
    phi = D_inf / (D_inf + D_tr)
    # 2. adoption
    s_inf = adoption.s_curve(Y, p.asic_adoption_inference_start, p.asic_adoption_inference_ceiling,
                             p.asic_adoption_inference_midpoint, p.asic_adoption_inference_steepness, c.anchor_inf)
    s_tr = adoption.s_curve(Y, p.asic_adoption_training_start, p.asic_adoption_training_ceiling,
                            p.asic_adoption_training_midpoint, p.asic_adoption_training_steepness, c.anchor_tr)
    share = adoption.aggregate_share(phi, s_inf, s_tr)
    # 3. pricing
    premium = pricing.markup_premium(c.premium_core, p.pricing_elasticity, pricing.moat(p.pricing_moat_start, f_moat),
                                     share, c.share0, p.pricing_scarcity, s.u, p.digestion_utilization_threshold)
    step = pricing.unit_cost_factor(p.pricing_cost_drift, p.pricing_cost_volatility, e.unit_cost, dt)
    kappa, log_kappa = s.kappa * step, s.log_kappa + np.log(step)
    passed = pricing.passed_cost(log_kappa, p.pricing_pass_through)
    GM_u = pricing.gross_margin(kappa, passed, premium)
    P = pricing.price_index(passed, premium, c.premium0)
    # 4b. supply and utilization
    cost = compute.blended_cost(share, P, rho)
    v.N[col] = compute.new_units(M, f_h, cost)
    G = compute.gpu_spend(M, share, P, cost)
    S = compute.vintage_sum(v.N, col, v.W_c)
    u = compute.utilization(D_inf + D_tr, S)
    # 5. NVIDIA
    n = nvidia.gpu_share(t, horizon * dt, c.n0, p.nvidia_gpu_share_horizon)
    R_dc = n * G
    R_nv = R_dc + b.nvda_other_revenue * f_o
    X = nvidia.one_off_charge(r.charge, p.nvidia_charge_size, e.charge)
    GM = GM_u - X
    OM = nvidia.operating_margin(GM, b.nvda_opex * f_O, R_nv)
    # 6. AWS
    A = alpha * C
    theta, beta = p.aws_ai_capex_share, p.aws_capex_share
    v.I[acol] = theta * beta * A
    v.J[acol] = (1.0 - theta) * beta * A
    sig = aws.inhouse_share(share, c.share0, p.aws_inhouse_start, p.aws_inhouse_speed, p.aws_inhouse_max)
    cA = compute.blended_cost(sig, P, rho)
    v.U[acol] = v.I[acol] * f_h / cA
    v.I_cf[acol] = v.I[acol] * (P / cA)  # exactly I when the own-silicon share is 0
    other = compute.vintage_sum(v.J, acol, v.W_o)
    L_s, L_o = p.aws_server_life / dt, p.aws_other_life / dt  # lives in steps
    D_A = aws.depreciation(compute.vintage_sum(v.I, acol, v.W_s), other, L_s, L_o)
    D_cf = aws.depreciation(compute.vintage_sum(v.I_cf, acol, v.W_s), other, L_s, L_o)
    R_ai = aws.ai_revenue(c.y0, f_d, u, compute.vintage_sum(v.U, acol, v.W_s))
    R_core = c.R_core0 * f_core
    E = dt * aws.external_revenue(p.aws_external_enabled, p.aws_external_mature_revenue, Y, p.aws_external_start_year,
                                  p.aws_external_ramp_years)
    R_A = R_core + R_ai + E
    w_core = aws.core_cash_cost_path(c.w_core, f_eff, p.aws_cost_floor)
    cash = aws.cash_costs(w_core, R_core, p.aws_ai_cash_cost, R_ai, p.aws_external_margin, E)
    OM_A = aws.operating_margin(R_A, D_A, cash)
    OM_cf = aws.operating_margin(R_A, D_cf, cash)

    # what is reported scatters around the path (reporting noise); the state stays on it
    fN = reporting.flow_factor(p.noise_revenue, e.noise_nvda, dt)
    fA = reporting.flow_factor(p.noise_revenue, e.noise_aws, dt)
    fK = reporting.flow_factor(p.noise_capex, e.noise_capex, dt)
    mN = reporting.margin_shift(p.noise_margin, e.noise_nvda_margin, dt)
    mA = reporting.margin_shift(p.noise_margin, e.noise_aws_margin, dt)
    state = State(C=C, R=R, u=u, kappa=kappa, log_kappa=log_kappa, D_inf=D_inf, D_tr=D_tr, fade_g=fade_g,
                  fade_D=fade_D, f_vk=f_vk, f_moat=f_moat, f_h=f_h, f_O=f_O, f_o=f_o, f_d=f_d, f_core=f_core,
                  f_eff=f_eff, alpha=alpha, u_sum=u if st.year_start else s.u_sum + u,
                  u_n=1.0 if st.year_start else s.u_n + 1.0)
    outputs = Outputs(
        capex_hyperscaler=C * fK, accelerator_market=M, asic_share_inference=s_inf, asic_share_training=s_tr,
        asic_unit_share=share, asic_spend_share=1.0 - G / M, inference_share=phi, compute_supply=S,
        compute_demand=D_inf + D_tr, utilization=u, digestion=R, nvda_price_index=P, nvda_gross_margin=GM + mN,
        nvda_gross_margin_underlying=GM_u + mN, nvda_one_off_charges=X * R_nv * fN, nvda_operating_margin=OM + mN,
        nvda_revenue=R_nv * fN, nvda_dc_revenue=R_dc * fN, nvda_gpu_share=n,
        aws_inhouse_share=sig, aws_capex_ai=v.I[acol], aws_capex_saved=v.I_cf[acol] - v.I[acol],
        aws_depreciation=D_A, aws_ai_revenue=R_ai, aws_revenue=R_A * fA, aws_operating_margin=OM_A + mA,
        aws_operating_margin_all_gpu=OM_cf + mA, aws_margin_uplift=OM_A - OM_cf, aws_margin_uplift_bp=(OM_A - OM_cf) * 1e4,
        aws_external_revenue=E, amazon_capex=A * fK,
    )
    return state, outputs


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
    n_market = len(base.market_years) * base.step  # years of history
    life = support["compute.accelerator_life"][1]
    if life > n_market:
        problems.append((
            "compute.accelerator_life",
            f"reaches {life:g} years, but accelerator_market history starts in {int(base.market_years[0])}: "
            f"lives up to {n_market:g} years can be used with {'base year' if base.step == 1 else 'as_of'} {base.as_of}",
        ))
    ai0 = support["aws.ai_revenue_start"][1]
    revenue = base.aws_revenue / base.step  # a year's, or the as-of quarter's at an annual rate
    if ai0 >= revenue:
        problems.append((
            "aws.ai_revenue_start",
            f"reaches {ai0:g}, but AWS revenue in {base.as_of} is {revenue:g}"
            + ("" if base.step == 1 else " a year (four times the quarter)") + "; it must stay below",
        ))
    start = support["aws.external.start_year"][0]
    if start < base.base_year:
        problems.append((
            "aws.external.start_year",
            f"reaches {start:g}, before the base year {base.base_year}; external chip sales start after it",
        ))
    return problems
