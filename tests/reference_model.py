"""A scalar reference implementation of the model (docs/model.md), one draw at a time.

Written from the specification in plain Python floats and dicts keyed by calendar year,
independently of risk.model. It includes the documented guards: growth factors driven by
normal shocks floored at 0.01, and AWS's own-silicon share floored at 0.
"""

from __future__ import annotations

import math

FLOOR = 0.01


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _w(age: int, life: int) -> float:
    if age == 0:
        return 0.5
    if age < life:
        return 1.0
    if age == life:
        return 0.5
    return 0.0


def _reported(values: dict, p: dict, shocks: dict, k: int, dt: float) -> dict:
    """A step's outputs as reported: flows times exp(s·z - s²/2), margins plus s·z, with s a
    quarter's sd times √(0.25/dt) (MODEL: reporting noise); the path itself is untouched."""
    s = lambda sd: sd * math.sqrt(0.25 / dt)
    f = lambda sd, z: math.exp(s(sd) * z - 0.5 * s(sd) * s(sd))
    fN, fA = f(p["noise.revenue"], shocks["noise_nvda"][k]), f(p["noise.revenue"], shocks["noise_aws"][k])
    fK = f(p["noise.capex"], shocks["noise_capex"][k])
    mN, mA = s(p["noise.margin"]) * shocks["noise_nvda_margin"][k], s(p["noise.margin"]) * shocks["noise_aws_margin"][k]
    for key, x in (("nvda_revenue", fN), ("nvda_dc_revenue", fN), ("nvda_one_off_charges", fN), ("aws_revenue", fA),
                   ("capex_hyperscaler", fK), ("amazon_capex", fK)):
        values[key] *= x
    for key, x in (("nvda_gross_margin", mN), ("nvda_gross_margin_underlying", mN), ("nvda_operating_margin", mN),
                   ("aws_operating_margin", mA), ("aws_operating_margin_all_gpu", mA)):
        values[key] += x
    return values


def _symbols(p: dict) -> tuple:
    """The model's symbols read from a draw's parameters (by dotted path), in the order the
    reference functions unpack them."""
    g1, ginf, tau_g = p["capex.growth_first"], p["capex.growth_long"], p["capex.fade_years"]
    sig_g, g_pow, cmax, vk = p["capex.volatility"], p["capex.power_cap"], p["capex.max_cut"], p["capex.intensity_drift"]
    delta, p_enter, p_stay = p["digestion.cut"], p["digestion.enter"], p["digestion.stay"]
    zeta, ustar = p["digestion.overbuild_sensitivity"], p["digestion.utilization_threshold"]
    s0i, Si, ymi, ki = (p[f"asic_adoption.inference.{k}"] for k in ("start", "ceiling", "midpoint", "steepness"))
    s0t, St, ymt, kt = (p[f"asic_adoption.training.{k}"] for k in ("start", "ceiling", "midpoint", "steepness"))
    eps, mu0, v = p["pricing.elasticity"], p["pricing.moat_start"], p["pricing.moat_decay"]
    cbar, sig_c, psi = p["pricing.cost_drift"], p["pricing.cost_volatility"], p["pricing.pass_through"]
    rho, h, Lc, u0 = p["compute.asic_cost_advantage"], p["compute.hardware_progress"], int(p["compute.accelerator_life"]), p["compute.base_utilization"]
    phi0 = p["demand.inference_share_start"]
    gfi, gli, gft, glt = (p[f"demand.{k}"] for k in ("inference_growth_first", "inference_growth_long", "training_growth_first", "training_growth_long"))
    tau_D, sig_D = p["demand.fade_years"], p["demand.volatility"]
    nH, gO, go = p["nvidia.gpu_share_horizon"], p["nvidia.opex_growth"], p["nvidia.other_growth"]
    beta, theta, sig0, lam, sigmax = (p[f"aws.{k}"] for k in ("capex_share", "ai_capex_share", "inhouse_start", "inhouse_speed", "inhouse_max"))
    return (g1, ginf, tau_g, sig_g, g_pow, cmax, vk, delta, p_enter, p_stay, zeta, ustar, s0i, Si, ymi, ki, s0t, St, ymt, kt,
            eps, mu0, v, cbar, sig_c, psi, rho, h, Lc, u0, phi0, gfi, gli, gft, glt, tau_D, sig_D, nH, gO, go, beta, theta,
            sig0, lam, sigmax)


def reference_path(p: dict, shocks: dict, base, H: int) -> dict:
    """One draw's path. ``p``: parameter path -> float; ``shocks``: stream -> list of H floats."""
    Y0 = base.base_year
    (g1, ginf, tau_g, sig_g, g_pow, cmax, vk, delta, p_enter, p_stay, zeta, ustar, s0i, Si, ymi, ki, s0t, St, ymt, kt, eps, mu0,
     v, cbar, sig_c, psi, rho, h, Lc, u0, phi0, gfi, gli, gft, glt, tau_D, sig_D, nH, gO, go, beta, theta, sig0, lam,
     sigmax) = _symbols(p)
    Ls, Lo = int(p["aws.server_life"]), int(p["aws.other_life"])
    Rai0, d, gcore, wai = p["aws.ai_revenue_start"], p["aws.rental_decline"], p["aws.core_growth"], p["aws.ai_cash_cost"]
    BE, yE, rE, Emax, mE = (p[f"aws.external.{k}"] for k in ("enabled", "start_year", "ramp_years", "mature_revenue", "margin"))
    chi, pX, xX = p["pricing.scarcity"], p["nvidia.charge_probability"], p["nvidia.charge_size"]
    a1, a_alpha = p["aws.amazon_capex_share_change"], p["aws.amazon_capex_share_drift"]
    e_c, w_floor = p["aws.cost_efficiency"], p["aws.cost_floor"]

    # ---- base year and calibration
    C0 = base.capex_hyperscaler
    M0 = float(base.market[-1])
    k0 = M0 / C0
    alpha = base.amazon_capex / C0
    s0 = phi0 * s0i + (1 - phi0) * s0t
    c0 = (1 - s0) + s0 * (1 - rho)
    GMu = base.nvda_gross_margin + base.nvda_one_off_charges / base.nvda_revenue
    prem0 = GMu / (1 - GMu)
    Nv = {int(y): float(m) * (1 + h) ** (int(y) - Y0) / c0 for y, m in zip(base.market_years, base.market)}

    def supply(year):
        return sum(Nv.get(year - j, 0.0) for j in range(Lc))

    S0 = supply(Y0)
    Dinf, Dtr = phi0 * u0 * S0, (1 - phi0) * u0 * S0
    prem_core = prem0 / max(0.05, 1 + chi * (min(1.0, (Dinf + Dtr) / S0) - ustar))  # the base year reproduces itself
    G0 = M0 * (1 - s0) / c0
    n0 = base.nvda_dc_revenue / G0
    Ro0 = base.nvda_revenue - base.nvda_dc_revenue

    aws_hist = {int(y): float(a) for y, a in zip(base.aws_capex_years, base.aws_capex)}
    I = {y: theta * a for y, a in aws_hist.items()}
    J = {y: (1 - theta) * a for y, a in aws_hist.items()}

    def dep(Iv, Jv, year):
        return sum(_w(year - y, Ls) * Iv[y] / Ls for y in Iv if y <= year) + sum(
            _w(year - y, Lo) * Jv[y] / Lo for y in Jv if y <= year
        )

    f = base.aws_depreciation / dep(I, J, Y0) if base.aws_depreciation is not None else 1.0
    I = {y: f * x for y, x in I.items()}
    J = {y: f * x for y, x in J.items()}
    Icf = dict(I)
    cA0 = (1 - sig0) + sig0 * (1 - rho)
    U = {y: I[y] * (1 + h) ** (y - Y0) / cA0 for y in I}
    SA0 = sum(_w(Y0 - y, Ls) * U[y] for y in U)
    D0 = dep(I, J, Y0)
    y0 = Rai0 / (u0 * SA0)
    Rcore0 = base.aws_revenue - Rai0
    wc = (base.aws_revenue * (1 - base.aws_operating_margin) - D0 - wai * Rai0) / Rcore0

    out = {}

    def rec(**values):
        for k, x in values.items():
            out.setdefault(k, []).append(float(x))

    rec(
        capex_hyperscaler=C0, accelerator_market=M0, asic_share_inference=s0i, asic_share_training=s0t,
        asic_unit_share=s0, asic_spend_share=1 - G0 / M0, inference_share=phi0, compute_supply=S0,
        compute_demand=Dinf + Dtr, utilization=min(1.0, (Dinf + Dtr) / S0), digestion=0, nvda_price_index=1,
        nvda_gross_margin=base.nvda_gross_margin, nvda_gross_margin_underlying=GMu,
        nvda_one_off_charges=base.nvda_one_off_charges, nvda_operating_margin=base.nvda_gross_margin - base.nvda_opex / base.nvda_revenue,
        nvda_revenue=base.nvda_revenue, nvda_dc_revenue=n0 * G0, nvda_gpu_share=n0, aws_inhouse_share=sig0,
        aws_capex_ai=I[Y0], aws_capex_saved=I[Y0] * (1 / cA0 - 1), aws_depreciation=D0, aws_ai_revenue=Rai0,
        aws_revenue=base.aws_revenue, aws_operating_margin=base.aws_operating_margin,
        aws_operating_margin_all_gpu=base.aws_operating_margin, aws_margin_uplift=0, aws_margin_uplift_bp=0,
        aws_external_revenue=0, amazon_capex=base.amazon_capex,
    )
    C, R, u, kappa = C0, 0, u0, 1.0
    for t in range(1, H + 1):
        Y = Y0 + t
        prob = p_stay if R == 1 else min(1.0, p_enter + zeta * max(0.0, ustar - u))
        R = 1 if shocks["digestion"][t - 1] < prob else 0
        g = ginf + (g1 - ginf) * math.exp(-(t - 1) / tau_g) + sig_g * shocks["capex"][t - 1] - delta * R
        C = C * min(max(1 + g, 1 - cmax), 1 + g_pow)
        M = k0 * (1 + vk) ** t * C

        fade = math.exp(-(t - 1) / tau_D)
        Dinf *= max(1 + gli + (gfi - gli) * fade + sig_D * shocks["demand_inference"][t - 1], FLOOR)
        Dtr *= max(1 + glt + (gft - glt) * fade + sig_D * shocks["demand_training"][t - 1], FLOOR)
        phi = Dinf / (Dinf + Dtr)

        ai, at = _logistic(ki * (Y0 - ymi)), _logistic(kt * (Y0 - ymt))
        si = s0i + (Si - s0i) * (_logistic(ki * (Y - ymi)) - ai) / (1 - ai)
        st = s0t + (St - s0t) * (_logistic(kt * (Y - ymt)) - at) / (1 - at)
        s = phi * si + (1 - phi) * st

        mu = mu0 * (1 - v) ** t
        prem = prem_core * max(0.0, 1 - eps * (1 - mu) * max(0.0, s - s0) + chi * (u - ustar))  # u: last year's
        kappa *= max(1 + cbar + sig_c * shocks["unit_cost"][t - 1], FLOOR)
        GMu_t = 1 - kappa ** (1 - psi) / (1 + prem)
        X = xX if shocks["charge"][t - 1] < pX else 0.0
        GM = GMu_t - X
        P = kappa**psi * (1 + prem) / (1 + prem0)

        c = (1 - s) * P + s * (1 - rho)
        Nv[Y] = M * (1 + h) ** t / c
        G = M * (1 - s) * P / c
        S = supply(Y)
        u = min(1.0, (Dinf + Dtr) / S)

        n = n0 + (nH - n0) * t / H
        Rnv = n * G + Ro0 * (1 + go) ** t
        OM = GM - base.nvda_opex * (1 + gO) ** t / Rnv

        A = alpha * (1 + a1) * (1 + a_alpha) ** (t - 1) * C
        I[Y], J[Y] = theta * beta * A, (1 - theta) * beta * A
        sig = max(0.0, min(sigmax, sig0 + lam * (s - s0)))
        cA = (1 - sig) * P + sig * (1 - rho)
        U[Y] = I[Y] * (1 + h) ** t / cA
        Icf[Y] = I[Y] * P / cA
        D, Dcf = dep(I, J, Y), dep(Icf, J, Y)
        SA = sum(_w(Y - y, Ls) * U[y] for y in U)
        Rai = y0 * (1 - d) ** t * u * SA
        Rcore = Rcore0 * (1 + gcore) ** t
        E = BE * Emax * min(max((Y - yE) / rE, 0.0), 1.0)
        RA = Rcore + Rai + E
        wc_t = max(min(wc, w_floor), wc * (1 - e_c) ** t)
        cash = wc_t * Rcore + wai * Rai + (1 - mE) * E
        OMA, OMcf = 1 - (D + cash) / RA, 1 - (Dcf + cash) / RA
        rec(**_reported(dict(
            capex_hyperscaler=C, accelerator_market=M, asic_share_inference=si, asic_share_training=st,
            asic_unit_share=s, asic_spend_share=1 - G / M, inference_share=phi, compute_supply=S,
            compute_demand=Dinf + Dtr, utilization=u, digestion=R, nvda_price_index=P, nvda_gross_margin=GM,
            nvda_gross_margin_underlying=GMu_t, nvda_one_off_charges=X * Rnv, nvda_operating_margin=OM, nvda_revenue=Rnv, nvda_dc_revenue=n * G, nvda_gpu_share=n,
            aws_inhouse_share=sig, aws_capex_ai=I[Y], aws_capex_saved=Icf[Y] - I[Y], aws_depreciation=D,
            aws_ai_revenue=Rai, aws_revenue=RA, aws_operating_margin=OMA, aws_operating_margin_all_gpu=OMcf,
            aws_margin_uplift=OMA - OMcf, aws_margin_uplift_bp=(OMA - OMcf) * 1e4, aws_external_revenue=E,
            amazon_capex=A,
        ), p, shocks, t - 1, 1.0))
    out["_calibrated"] = dict(nvda_gpu_share_base=n0, aws_history_scale=f, aws_cash_cost_core=wc)
    return out


# ---- v2: the quarterly clock ------------------------------------------------------------------

#: How the reference makes a year of its quarters (MODEL.md v2, section 2): flows summed,
#: margins and the spend share as ratios of sums (weighted by their flow), the rest means.
FLOWS = {"capex_hyperscaler", "accelerator_market", "nvda_one_off_charges", "nvda_revenue", "nvda_dc_revenue",
         "aws_capex_ai", "aws_capex_saved", "aws_depreciation", "aws_ai_revenue", "aws_revenue", "aws_external_revenue",
         "amazon_capex"}
RATIOS = {"asic_spend_share": "accelerator_market", "nvda_gross_margin": "nvda_revenue",
          "nvda_gross_margin_underlying": "nvda_revenue", "nvda_operating_margin": "nvda_revenue",
          "aws_operating_margin": "aws_revenue", "aws_operating_margin_all_gpu": "aws_revenue"}


def _time(index: int) -> float:
    """Decimal-year midpoint of quarter ``index`` (year*4 + quarter - 1), on the scale where year Y is Y."""
    return index // 4 + (2 * (index % 4 + 1) - 5) / 8


def reference_quarters(p: dict, shocks: dict, base, H: int) -> dict:
    """One draw's quarterly path on the quarterly clock: output -> list, a value a quarter
    from the base year's first quarter to the last of base year + H. ``shocks``: stream ->
    list, a value a projected quarter."""
    dt = 0.25
    qs = base.anchor_year * 4 + base.anchor_quarter - 1
    first = base.base_year * 4
    K = (base.base_year + H) * 4 + 3 - qs
    (g1, ginf, tau_g, sig_g, g_pow, cmax, vk, delta, p_enter, p_stay, zeta, ustar, s0i, Si, ymi, ki, s0t, St, ymt, kt, eps, mu0,
     v, cbar, sig_c, psi, rho, h, Lc, u0, phi0, gfi, gli, gft, glt, tau_D, sig_D, nH, gO, go, beta, theta, sig0, lam,
     sigmax) = _symbols(p)
    Ls, Lo = 4 * int(p["aws.server_life"]), 4 * int(p["aws.other_life"])  # lives in quarters
    Rai0, d, gcore, wai = p["aws.ai_revenue_start"] * dt, p["aws.rental_decline"], p["aws.core_growth"], p["aws.ai_cash_cost"]
    BE, yE, rE, Emax, mE = (p[f"aws.external.{k}"] for k in ("enabled", "start_year", "ramp_years", "mature_revenue", "margin"))
    chi, pX, xX = p["pricing.scarcity"], p["nvidia.charge_probability"], p["nvidia.charge_size"]
    a1, a_alpha = p["aws.amazon_capex_share_change"], p["aws.amazon_capex_share_drift"]
    e_c, w_floor = p["aws.cost_efficiency"], p["aws.cost_floor"]
    T0 = _time(qs)

    C0 = base.capex_hyperscaler
    M0 = float(base.market[-1])
    k0, alpha = M0 / C0, base.amazon_capex / C0
    s0 = phi0 * s0i + (1 - phi0) * s0t
    c0 = (1 - s0) + s0 * (1 - rho)
    GMu = base.nvda_gross_margin + base.nvda_one_off_charges / base.nvda_revenue
    prem0 = GMu / (1 - GMu)
    m_first = qs - len(base.market) + 1
    Nv = {m_first + j: float(m) * (1 + h) ** ((m_first + j - qs) / 4) / c0 for j, m in enumerate(base.market)}

    def supply(i):
        return sum(Nv.get(i - j, 0.0) for j in range(4 * Lc))

    S0 = supply(qs)
    Dinf, Dtr = phi0 * u0 * S0, (1 - phi0) * u0 * S0
    u_anchor = min(1.0, (Dinf + Dtr) / S0)
    prem_core = prem0 / max(0.05, 1 + chi * (u_anchor - ustar))
    G0 = M0 * (1 - s0) / c0
    n0 = base.nvda_dc_revenue / G0
    Ro0 = base.nvda_revenue - base.nvda_dc_revenue

    a_first = qs - len(base.aws_capex) + 1
    I = {a_first + j: theta * float(a) for j, a in enumerate(base.aws_capex)}
    J = {a_first + j: (1 - theta) * float(a) for j, a in enumerate(base.aws_capex)}

    def dep(Iv, Jv, i):
        return sum(_w(i - j, Ls) * Iv[j] / Ls for j in Iv if j <= i) + sum(_w(i - j, Lo) * Jv[j] / Lo for j in Jv if j <= i)

    f = base.aws_depreciation / dep(I, J, qs - base.depreciation_lag) if base.aws_depreciation is not None else 1.0
    I = {j: f * x for j, x in I.items()}
    J = {j: f * x for j, x in J.items()}
    Icf = dict(I)
    cA0 = (1 - sig0) + sig0 * (1 - rho)
    U = {j: I[j] * (1 + h) ** ((j - qs) / 4) / cA0 for j in I}
    SA0 = sum(_w(qs - j, Ls) * U[j] for j in U)
    D0 = dep(I, J, qs)
    y0 = Rai0 / (u0 * SA0)
    Rcore0 = base.aws_revenue - Rai0
    wc = (base.aws_revenue * (1 - base.aws_operating_margin) - D0 - wai * Rai0) / Rcore0

    anchor = dict(
        capex_hyperscaler=C0, accelerator_market=M0, asic_share_inference=s0i, asic_share_training=s0t,
        asic_unit_share=s0, asic_spend_share=1 - G0 / M0, inference_share=phi0, compute_supply=S0,
        compute_demand=Dinf + Dtr, utilization=u_anchor, digestion=base.digestion, nvda_price_index=1,
        nvda_gross_margin=base.nvda_gross_margin, nvda_gross_margin_underlying=GMu,
        nvda_one_off_charges=base.nvda_one_off_charges, nvda_operating_margin=base.nvda_gross_margin - base.nvda_opex / base.nvda_revenue,
        nvda_revenue=base.nvda_revenue, nvda_dc_revenue=n0 * G0, nvda_gpu_share=n0, aws_inhouse_share=sig0,
        aws_capex_ai=I[qs], aws_capex_saved=I[qs] * (1 / cA0 - 1), aws_depreciation=D0, aws_ai_revenue=Rai0,
        aws_revenue=base.aws_revenue, aws_operating_margin=base.aws_operating_margin,
        aws_operating_margin_all_gpu=base.aws_operating_margin, aws_margin_uplift=0, aws_margin_uplift_bp=0,
        aws_external_revenue=0, amazon_capex=base.amazon_capex,
    )
    out = {k: [] for k in anchor}
    for i in range(first, qs):  # reported quarters before q*: the data, else the anchor's values
        for k, x in anchor.items():
            r = base.reported.get(k) if base.reported else None
            out[k].append(float(r[i - first]) if r is not None and math.isfinite(r[i - first]) else float(x))
    for k, x in anchor.items():
        out[k].append(float(x))

    C, R, u, kappa = C0, base.digestion, u_anchor, 1.0
    since_draw = [u_anchor]
    for k in range(1, K + 1):
        i, t = qs + k, k * dt
        T = _time(i)
        if i % 4 == 0:  # a calendar year's first quarter: its digestion regime
            um = sum(since_draw) / len(since_draw)
            prob = p_stay if R == 1 else min(1.0, p_enter + zeta * max(0.0, ustar - um))
            R = 1 if shocks["digestion"][k - 1] < prob else 0
        fade_g, fade_D = math.exp(-(t - dt) / tau_g), math.exp(-(t - dt) / tau_D)
        gdet = ginf + (g1 - ginf) * fade_g - delta * R
        factor = max(1 + gdet, 0.0) ** dt + sig_g * math.sqrt(dt) * shocks["capex"][k - 1]
        C = C * min(max(factor, (1 - cmax) ** dt), (1 + g_pow) ** dt)
        M = k0 * (1 + vk) ** t * C
        Dinf *= max(max(1 + gli + (gfi - gli) * fade_D, 0.0) ** dt + sig_D * math.sqrt(dt) * shocks["demand_inference"][k - 1], FLOOR**dt)
        Dtr *= max(max(1 + glt + (gft - glt) * fade_D, 0.0) ** dt + sig_D * math.sqrt(dt) * shocks["demand_training"][k - 1], FLOOR**dt)
        phi = Dinf / (Dinf + Dtr)
        ai, at = _logistic(ki * (T0 - ymi)), _logistic(kt * (T0 - ymt))
        si = s0i + (Si - s0i) * (_logistic(ki * (T - ymi)) - ai) / (1 - ai)
        st = s0t + (St - s0t) * (_logistic(kt * (T - ymt)) - at) / (1 - at)
        s = phi * si + (1 - phi) * st
        mu = mu0 * (1 - v) ** t
        prem = prem_core * max(0.0, 1 - eps * (1 - mu) * max(0.0, s - s0) + chi * (u - ustar))  # u: last quarter's
        kappa *= max((1 + cbar) ** dt + sig_c * math.sqrt(dt) * shocks["unit_cost"][k - 1], FLOOR**dt)
        GMu_t = 1 - kappa ** (1 - psi) / (1 + prem)
        X = xX if shocks["charge"][k - 1] < 1 - (1 - pX) ** dt else 0.0
        GM = GMu_t - X
        P = kappa**psi * (1 + prem) / (1 + prem0)
        c = (1 - s) * P + s * (1 - rho)
        Nv[i] = M * (1 + h) ** t / c
        G = M * (1 - s) * P / c
        S = supply(i)
        u = min(1.0, (Dinf + Dtr) / S)
        since_draw = [u] if i % 4 == 0 else since_draw + [u]
        n = n0 + (nH - n0) * t / (K * dt)
        Rnv = n * G + Ro0 * (1 + go) ** t
        OM = GM - base.nvda_opex * (1 + gO) ** t / Rnv
        A = alpha * (1 + a1) ** min(t, 1.0) * (1 + a_alpha) ** max(0.0, t - 1) * C
        I[i], J[i] = theta * beta * A, (1 - theta) * beta * A
        sig = max(0.0, min(sigmax, sig0 + lam * (s - s0)))
        cA = (1 - sig) * P + sig * (1 - rho)
        U[i] = I[i] * (1 + h) ** t / cA
        Icf[i] = I[i] * P / cA
        D, Dcf = dep(I, J, i), dep(Icf, J, i)
        SA = sum(_w(i - j, Ls) * U[j] for j in U)
        Rai = y0 * (1 - d) ** t * u * SA
        Rcore = Rcore0 * (1 + gcore) ** t
        E = dt * BE * Emax * min(max((T - yE) / rE, 0.0), 1.0)
        RA = Rcore + Rai + E
        wc_t = max(min(wc, w_floor), wc * (1 - e_c) ** t)
        cash = wc_t * Rcore + wai * Rai + (1 - mE) * E
        OMA, OMcf = 1 - (D + cash) / RA, 1 - (Dcf + cash) / RA
        for key, x in _reported(dict(
            capex_hyperscaler=C, accelerator_market=M, asic_share_inference=si, asic_share_training=st,
            asic_unit_share=s, asic_spend_share=1 - G / M, inference_share=phi, compute_supply=S,
            compute_demand=Dinf + Dtr, utilization=u, digestion=R, nvda_price_index=P, nvda_gross_margin=GM,
            nvda_gross_margin_underlying=GMu_t, nvda_one_off_charges=X * Rnv, nvda_operating_margin=OM, nvda_revenue=Rnv,
            nvda_dc_revenue=n * G, nvda_gpu_share=n, aws_inhouse_share=sig, aws_capex_ai=I[i], aws_capex_saved=Icf[i] - I[i],
            aws_depreciation=D, aws_ai_revenue=Rai, aws_revenue=RA, aws_operating_margin=OMA, aws_operating_margin_all_gpu=OMcf,
            aws_margin_uplift=OMA - OMcf, aws_margin_uplift_bp=(OMA - OMcf) * 1e4, aws_external_revenue=E, amazon_capex=A,
        ), p, shocks, k - 1, dt).items():
            out[key].append(float(x))
    out["_calibrated"] = dict(nvda_gpu_share_base=n0, aws_history_scale=f, aws_cash_cost_core=wc)
    return out


def reference_years(quarters: dict) -> dict:
    """Years of :func:`reference_quarters`' quarters: flows summed, ratios of sums, means."""
    years = {}
    for key, values in quarters.items():
        if key.startswith("_"):
            continue
        groups = [values[j:j + 4] for j in range(0, len(values), 4)]
        if key in FLOWS:
            years[key] = [sum(g) for g in groups]
        elif key in RATIOS:
            w = quarters[RATIOS[key]]
            years[key] = [sum(x * w[4 * y + j] for j, x in enumerate(g)) / sum(w[4 * y:4 * y + 4]) for y, g in enumerate(groups)]
        else:
            years[key] = [sum(g) / 4 for g in groups]
    years["aws_margin_uplift"] = [a - b for a, b in zip(years["aws_operating_margin"], years["aws_operating_margin_all_gpu"])]
    years["aws_margin_uplift_bp"] = [x * 1e4 for x in years["aws_margin_uplift"]]
    return years
