"""The model compiled into one loop over tiles of draws (numba): the fast engine.

:func:`run_model_fused` computes what :func:`risk.model.core.run_model` computes, in machine
code, a tile of :data:`TILE` draws at a time: the vectorized core makes about 300 passes
over memory per draw-year, this keeps a tile's intermediates in cache and stores each
output once. The equations are not written twice: the stage functions of
:mod:`risk.model` (capex, adoption, pricing, compute, nvidia, aws) are compiled here for
scalars from their own source, and only the assembly (the loops over years and draws and
the vintage sums, which the vectorized core writes over arrays) is written here. Results agree with the vectorized core to rounding (about 1e-15 relative; numpy
and LLVM round exp and log differently in the last bit); tests check 1e-12, and both
against the scalar reference of the tests to 1e-9.

Each draw depends only on its own parameters and shocks, so results are bitwise the same
whatever the chunking or threads. The compiled code is cached on disk (numba's cache, in
``__pycache__``); the cache key includes a hash of the stage modules' source, so an edited
stage is never served from a stale cache.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Mapping, NamedTuple

import numba
import numpy as np
from numba.extending import overload
from scipy.special import expit

from ..data import BaseData
from ..glossary import CALIBRATED, OUTPUTS, PARAMETERS, SHOCKS
from . import adoption, aws, capex, compute, nvidia, pricing
from .core import ModelResult

__all__ = ["KernelBase", "kernel_base", "fused_into", "output_blocks", "run_model_fused", "ORDER"]

#: Parameters in the order of the rows of the kernel's parameter matrix (glossary order).
ORDER: tuple[str, ...] = tuple(PARAMETERS)
_OUT = {name: k for k, name in enumerate(OUTPUTS)}
#: Draws that go through the model side by side. Not a power of two: rows of TILE float64
#: then do not fall 4 KiB apart, where the processor would mistake stores for loads.
TILE = 120


@overload(expit)
def _expit_scalar(x):
    """scipy.special.expit for compiled code: the logistic 1 / (1 + exp(-x))."""
    return lambda x: 1.0 / (1.0 + np.exp(-x))


def _stages_stamp() -> int:
    """A number that changes whenever the source of a stage module does (numba itself watches this file)."""
    digest = hashlib.sha256()
    for module in (adoption, aws, capex, compute, nvidia, pricing):
        digest.update(inspect.getsource(module).encode())
    return int(digest.hexdigest()[:15], 16)


_jit = numba.njit(error_model="numpy", inline="always")
fade, capex_growth, digestion_probability, digestion_state, next_capex, accelerator_market = map(_jit, (
    capex.fade, capex.capex_growth, capex.digestion_probability, capex.digestion_state, capex.next_capex,
    capex.accelerator_market))
s_curve_anchor, s_curve, aggregate_share = map(_jit, (adoption.s_curve_anchor, adoption.s_curve, adoption.aggregate_share))
premium_base, markup_premium, unit_cost_factor, passed_cost, gross_margin, price_index, moat = map(_jit, (
    pricing.premium_base, pricing.markup_premium, pricing.unit_cost_factor, pricing.passed_cost,
    pricing.gross_margin, pricing.price_index, pricing.moat))
blended_cost, new_units, gpu_spend, demand_growth, grow, utilization = map(_jit, (
    compute.blended_cost, compute.new_units, compute.gpu_spend, compute.demand_growth, compute.grow,
    compute.utilization))
gpu_share, compound, reported_gross_margin, nv_operating_margin = map(_jit, (
    nvidia.gpu_share, nvidia.compound, nvidia.reported_gross_margin, nvidia.operating_margin))
inhouse_share, ai_revenue, external_revenue, core_cash_cost, cash_costs, aws_operating_margin = map(_jit, (
    aws.inhouse_share, aws.ai_revenue, aws.external_revenue, aws.core_cash_cost, aws.cash_costs, aws.operating_margin))


class KernelBase(NamedTuple):
    """Base-year data as the compiled kernel takes it (:class:`risk.data.BaseData`)."""

    base_year: int
    capex_hyperscaler: float
    market: np.ndarray
    amazon_capex: float
    aws_capex: np.ndarray
    aws_revenue: float
    aws_operating_margin: float
    aws_depreciation: float  # NaN: use the history as it is
    nvda_revenue: float
    nvda_dc_revenue: float
    nvda_gross_margin: float
    nvda_underlying_gross_margin: float
    nvda_one_off_charges: float
    nvda_opex: float
    nvda_other_revenue: float


def kernel_base(base: BaseData) -> KernelBase:
    """The fields of ``base`` the kernel uses, as plain floats and float64 arrays."""
    return KernelBase(
        int(base.base_year), float(base.capex_hyperscaler), np.ascontiguousarray(base.market, dtype=float),
        float(base.amazon_capex), np.ascontiguousarray(base.aws_capex, dtype=float), float(base.aws_revenue),
        float(base.aws_operating_margin), np.nan if base.aws_depreciation is None else float(base.aws_depreciation),
        float(base.nvda_revenue), float(base.nvda_dc_revenue), float(base.nvda_gross_margin),
        float(base.nvda_underlying_gross_margin), float(base.nvda_one_off_charges), float(base.nvda_opex),
        float(base.nvda_other_revenue),
    )


def _build(stamp: int):
    """The compiled kernel; ``stamp`` (:func:`_stages_stamp`) is part of numba's cache key."""
    c_g1, c_ginf, c_tau_g, c_sig_g, c_g_power, c_c_cut, c_v_k = (ORDER.index(p) for p in (
        "capex.growth_first", "capex.growth_long", "capex.fade_years", "capex.volatility", "capex.power_cap",
        "capex.max_cut", "capex.intensity_drift"))
    c_delta, c_p_enter, c_p_stay, c_zeta, c_u_star = (ORDER.index(p) for p in (
        "digestion.cut", "digestion.enter", "digestion.stay", "digestion.overbuild_sensitivity",
        "digestion.utilization_threshold"))
    c_s0_inf, c_S_inf, c_ymid_inf, c_k_inf = (ORDER.index("asic_adoption.inference." + k) for k in (
        "start", "ceiling", "midpoint", "steepness"))
    c_s0_tr, c_S_tr, c_ymid_tr, c_k_tr = (ORDER.index("asic_adoption.training." + k) for k in (
        "start", "ceiling", "midpoint", "steepness"))
    c_eps, c_mu0, c_v, c_c_bar, c_sig_c, c_psi = (ORDER.index("pricing." + k) for k in (
        "elasticity", "moat_start", "moat_decay", "cost_drift", "cost_volatility", "pass_through"))
    c_rho, c_h, c_L_c, c_u0 = (ORDER.index("compute." + k) for k in (
        "asic_cost_advantage", "hardware_progress", "accelerator_life", "base_utilization"))
    c_phi0, c_gf_inf, c_gl_inf, c_gf_tr, c_gl_tr, c_tau_D, c_sig_D = (ORDER.index("demand." + k) for k in (
        "inference_share_start", "inference_growth_first", "inference_growth_long", "training_growth_first",
        "training_growth_long", "fade_years", "volatility"))
    c_n_H, c_g_O, c_g_o = (ORDER.index("nvidia." + k) for k in ("gpu_share_horizon", "opex_growth", "other_growth"))
    c_beta, c_theta, c_sig0, c_lam, c_sig_max, c_L_s, c_L_o, c_R_ai0, c_d, c_g_core, c_w_ai = (
        ORDER.index("aws." + k) for k in (
            "capex_share", "ai_capex_share", "inhouse_start", "inhouse_speed", "inhouse_max", "server_life",
            "other_life", "ai_revenue_start", "rental_decline", "core_growth", "ai_cash_cost"))
    c_B_E, c_y_E, c_r_E, c_E_max, c_m_E = (ORDER.index("aws.external." + k) for k in (
        "enabled", "start_year", "ramp_years", "mature_revenue", "margin"))
    (o_C, o_M, o_s_inf, o_s_tr, o_s, o_spend, o_phi, o_S, o_D, o_u, o_R, o_P, o_GM, o_OM, o_R_nv, o_R_dc, o_n,
     o_sig, o_I, o_saved, o_D_A, o_R_ai, o_R_A, o_OM_A, o_OM_cf, o_up, o_up_bp, o_E, o_A) = (_OUT[name] for name in OUTPUTS)
    assert list(CALIBRATED) == ["nvda_gpu_share_base", "aws_history_scale", "aws_cash_cost_core"]

    @numba.njit(inline="always")
    def half_year_weight(age, life):
        """Straight line with the half-year convention, as :func:`risk.model.aws.half_year_weights`:
        1/2 in the year bought, 1 while younger than the life, 1/2 at the life, 0 after."""
        return 0.5 if age == 0 else 1.0 * (age < life) + 0.5 * (age == life)

    @numba.njit(inline="always")
    def weighted(vintages, j, column, life):
        """Σ_a w(a)·V_{t-a} of draw ``j`` (:func:`risk.model.aws.weighted_vintages`), ages ascending."""
        total = 0.0
        for age in range(min(life, column) + 1):
            total += half_year_weight(age, life) * vintages[column - age, j]
        return total

    @numba.njit(inline="always")
    def installed(vintages, j, column, life):
        """Σ_{a<L} N_{t-a} of draw ``j`` (:func:`risk.model.compute.installed`), ages ascending."""
        total = 0.0
        for age in range(min(life, column + 1)):
            total += vintages[column - age, j]
        return total

    @numba.njit(nogil=True, error_model="numpy", cache=True)
    def fused(par, e_capex, e_dig, e_inf, e_tr, e_cost, b, H, out, cal, lo):
        if stamp < 0:  # never: makes ``stamp`` part of the compiled function's cache key
            return
        n = par.shape[1]
        Y0 = b.base_year
        col0 = b.market.shape[0] - 1
        acol0 = b.aws_capex.shape[0] - 1
        k0 = b.market[col0] / b.capex_hyperscaler
        alpha = b.amazon_capex / b.capex_hyperscaler
        premium0 = premium_base(b.nvda_underlying_gross_margin)
        GM_base = reported_gross_margin(b.nvda_underlying_gross_margin, b.nvda_one_off_charges, b.nvda_revenue)
        OM_base = nv_operating_margin(b.nvda_gross_margin, b.nvda_opex, b.nvda_revenue)
        # Draws go through in tiles of TILE, a year at a time and a stage at a time across the
        # tile, so that the processor overlaps the draws' long chains of dependent
        # operations. Per-draw state lives in rows of small arrays (in cache); outputs are
        # gathered in ``tile`` and stored a row at a time (draw by draw, the 29 x (H + 1)
        # rows of ``out`` would each be a page apart).
        tile = np.empty((out.shape[0], H + 1, TILE))
        N = np.zeros((col0 + H + 1, TILE))
        I, J, I_cf, U = np.zeros((4, acol0 + H + 1, TILE))
        # state carried from year to year
        st_C, st_R, st_u, st_kappa, st_log_kappa, st_D_inf, st_D_tr, st_fade_g, st_fade_D = np.empty((9, TILE))
        f_vk, f_moat, f_h, f_O, f_o, f_d, f_core = np.empty((7, TILE))
        # per-draw constants from the base year
        k_share0, k_n0, k_y0, k_R_core0, k_w_core, k_anchor_inf, k_anchor_tr, k_step_g, k_step_D = np.empty((9, TILE))
        k_L_c, k_L_s, k_L_o = np.empty((3, TILE), dtype=np.int64)
        # values passed from one stage of a year to the next
        v_s, v_P, v_G, v_S, v_I, v_J, v_Icf, v_U = np.empty((8, TILE))
        for first in range(0, n, TILE):
            m = min(TILE, n - first)
            # ---- base year (t = 0), as risk.model.core.run_model
            for j in range(m):
                i = first + j
                phi0, s0_inf, s0_tr, rho, h, u0 = par[c_phi0, i], par[c_s0_inf, i], par[c_s0_tr, i], par[c_rho, i], par[c_h, i], par[c_u0, i]
                theta, sig0, R_ai0, w_ai = par[c_theta, i], par[c_sig0, i], par[c_R_ai0, i], par[c_w_ai, i]
                L_c, L_s, L_o = int(par[c_L_c, i]), par[c_L_s, i], par[c_L_o, i]
                iL_s, iL_o = int(L_s), int(L_o)
                C = b.capex_hyperscaler
                M = k0 * C
                share0 = aggregate_share(phi0, s0_inf, s0_tr)
                c0 = blended_cost(share0, 1.0, rho)
                step_h = 1.0 / (1.0 + h)
                back = 1.0
                for col in range(col0, -1, -1):
                    N[col, j] = b.market[col] * back / c0
                    back *= step_h
                S = installed(N, j, col0, L_c)
                D_inf = phi0 * u0 * S
                D_tr = (1.0 - phi0) * u0 * S
                u = utilization(D_inf + D_tr, S)
                G = gpu_spend(M, share0, 1.0, c0)
                n0 = b.nvda_dc_revenue / G

                for col in range(acol0 + 1):
                    I[col, j] = theta * b.aws_capex[col]
                    J[col, j] = (1.0 - theta) * b.aws_capex[col]
                scale = 1.0
                if not np.isnan(b.aws_depreciation):
                    scale = b.aws_depreciation / (weighted(I, j, acol0, iL_s) / L_s + weighted(J, j, acol0, iL_o) / L_o)
                    for col in range(acol0 + 1):
                        I[col, j] *= scale
                        J[col, j] *= scale
                cA0 = blended_cost(sig0, 1.0, rho)
                back = 1.0
                for col in range(acol0, -1, -1):
                    I_cf[col, j] = I[col, j]
                    U[col, j] = I[col, j] * back / cA0
                    back *= step_h
                D_A = weighted(I, j, acol0, iL_s) / L_s + weighted(J, j, acol0, iL_o) / L_o
                SA = weighted(U, j, acol0, iL_s)
                R_core0 = b.aws_revenue - R_ai0
                w_core = core_cash_cost(b.aws_revenue, b.aws_operating_margin, D_A, w_ai, R_ai0, R_core0)
                cal[0, lo + i] = n0
                cal[1, lo + i] = scale
                cal[2, lo + i] = w_core

                k_share0[j], k_n0[j], k_y0[j], k_R_core0[j], k_w_core[j] = share0, n0, R_ai0 / (u0 * SA), R_core0, w_core
                k_anchor_inf[j] = s_curve_anchor(Y0, par[c_ymid_inf, i], par[c_k_inf, i])
                k_anchor_tr[j] = s_curve_anchor(Y0, par[c_ymid_tr, i], par[c_k_tr, i])
                k_step_g[j], k_step_D[j] = fade(2, par[c_tau_g, i]), fade(2, par[c_tau_D, i])
                k_L_c[j], k_L_s[j], k_L_o[j] = L_c, iL_s, iL_o
                st_C[j], st_R[j], st_u[j], st_kappa[j], st_log_kappa[j], st_D_inf[j], st_D_tr[j] = C, 0.0, u, 1.0, 0.0, D_inf, D_tr
                st_fade_g[j] = st_fade_D[j] = 1.0
                f_vk[j] = f_moat[j] = f_h[j] = f_O[j] = f_o[j] = f_d[j] = f_core[j] = 1.0

                tile[o_C, 0, j] = C
                tile[o_M, 0, j] = M
                tile[o_s_inf, 0, j] = s0_inf
                tile[o_s_tr, 0, j] = s0_tr
                tile[o_s, 0, j] = share0
                tile[o_spend, 0, j] = 1.0 - G / M
                tile[o_phi, 0, j] = phi0
                tile[o_S, 0, j] = S
                tile[o_D, 0, j] = D_inf + D_tr
                tile[o_u, 0, j] = u
                tile[o_R, 0, j] = 0.0
                tile[o_P, 0, j] = 1.0
                tile[o_GM, 0, j] = GM_base
                tile[o_OM, 0, j] = OM_base
                tile[o_R_nv, 0, j] = b.nvda_revenue
                tile[o_R_dc, 0, j] = n0 * G
                tile[o_n, 0, j] = n0
                tile[o_sig, 0, j] = sig0
                tile[o_I, 0, j] = I[acol0, j]
                tile[o_saved, 0, j] = I[acol0, j] * (1.0 / cA0 - 1.0)
                tile[o_D_A, 0, j] = D_A
                tile[o_R_ai, 0, j] = R_ai0
                tile[o_R_A, 0, j] = b.aws_revenue
                tile[o_OM_A, 0, j] = b.aws_operating_margin
                tile[o_OM_cf, 0, j] = b.aws_operating_margin
                tile[o_up, 0, j] = 0.0
                tile[o_up_bp, 0, j] = 0.0
                tile[o_E, 0, j] = 0.0
                tile[o_A, 0, j] = b.amazon_capex

            # ---- projected years: each year in stages, every stage across the tile
            Lc_max, Ls_max, Lo_max = 0, 0, 0
            for j in range(m):
                Lc_max = max(Lc_max, k_L_c[j])
                Ls_max = max(Ls_max, k_L_s[j])
                Lo_max = max(Lo_max, k_L_o[j])
            for t in range(1, H + 1):
                year = Y0 + t
                col_N = col0 + t
                col = acol0 + t
                # capex, demand, adoption, pricing and the units bought
                for j in range(m):
                    i = first + j
                    f_vk[j] = compound(f_vk[j], par[c_v_k, i])
                    f_moat[j] = compound(f_moat[j], -par[c_v, i])
                    f_h[j] = compound(f_h[j], par[c_h, i])
                    # 1. capex (uses last year's utilization)
                    R = digestion_state(
                        digestion_probability(st_R[j], st_u[j], par[c_p_enter, i], par[c_p_stay, i], par[c_zeta, i], par[c_u_star, i]),
                        e_dig[t - 1, i])
                    if t > 1:
                        st_fade_g[j] *= k_step_g[j]
                        st_fade_D[j] *= k_step_D[j]
                    fade_D = st_fade_D[j]
                    g = capex_growth(st_fade_g[j], par[c_g1, i], par[c_ginf, i], par[c_sig_g, i], e_capex[t - 1, i], par[c_delta, i], R)
                    C = next_capex(st_C[j], g, par[c_c_cut, i], par[c_g_power, i])
                    M = accelerator_market(C, k0, f_vk[j])
                    # 4a. demand and the inference share
                    D_inf = grow(st_D_inf[j], demand_growth(fade_D, par[c_gf_inf, i], par[c_gl_inf, i], par[c_sig_D, i], e_inf[t - 1, i]))
                    D_tr = grow(st_D_tr[j], demand_growth(fade_D, par[c_gf_tr, i], par[c_gl_tr, i], par[c_sig_D, i], e_tr[t - 1, i]))
                    phi = D_inf / (D_inf + D_tr)
                    # 2. adoption
                    s_inf = s_curve(year, par[c_s0_inf, i], par[c_S_inf, i], par[c_ymid_inf, i], par[c_k_inf, i], k_anchor_inf[j])
                    s_tr = s_curve(year, par[c_s0_tr, i], par[c_S_tr, i], par[c_ymid_tr, i], par[c_k_tr, i], k_anchor_tr[j])
                    s = aggregate_share(phi, s_inf, s_tr)
                    # 3. pricing
                    prem = markup_premium(premium0, par[c_eps, i], moat(par[c_mu0, i], f_moat[j]), s, k_share0[j])
                    step = unit_cost_factor(par[c_c_bar, i], par[c_sig_c, i], e_cost[t - 1, i])
                    kappa, log_kappa = st_kappa[j] * step, st_log_kappa[j] + np.log(step)
                    passed = passed_cost(log_kappa, par[c_psi, i])
                    GM = gross_margin(kappa, passed, prem)
                    P = price_index(passed, prem, premium0)
                    # 4b. units bought
                    c = blended_cost(s, P, par[c_rho, i])
                    N[col_N, j] = new_units(M, f_h[j], c)
                    G = gpu_spend(M, s, P, c)
                    st_C[j], st_R[j], st_kappa[j], st_log_kappa[j], st_D_inf[j], st_D_tr[j] = C, R, kappa, log_kappa, D_inf, D_tr
                    v_s[j], v_P[j] = s, P
                    tile[o_C, t, j] = C
                    tile[o_M, t, j] = M
                    tile[o_s_inf, t, j] = s_inf
                    tile[o_s_tr, t, j] = s_tr
                    tile[o_s, t, j] = s
                    tile[o_spend, t, j] = 1.0 - G / M
                    tile[o_phi, t, j] = phi
                    tile[o_D, t, j] = D_inf + D_tr
                    tile[o_R, t, j] = R
                    tile[o_P, t, j] = P
                    tile[o_GM, t, j] = GM
                    v_G[j] = G
                # installed units (risk.model.compute.installed; ages ascending, a zero weight adds 0)
                for j in range(m):
                    v_S[j] = 0.0
                for age in range(min(Lc_max, col_N + 1)):
                    for j in range(m):
                        if age < k_L_c[j]:
                            v_S[j] += N[col_N - age, j]
                # utilization, NVIDIA, AWS capex and own silicon
                for j in range(m):
                    i = first + j
                    f_O[j] = compound(f_O[j], par[c_g_O, i])
                    f_o[j] = compound(f_o[j], par[c_g_o, i])
                    S = v_S[j]
                    u = utilization(tile[o_D, t, j], S)
                    st_u[j] = u
                    # 5. NVIDIA
                    n_t = gpu_share(t, H, k_n0[j], par[c_n_H, i])
                    R_dc = n_t * v_G[j]
                    R_nv = R_dc + b.nvda_other_revenue * f_o[j]
                    tile[o_OM, t, j] = nv_operating_margin(tile[o_GM, t, j], b.nvda_opex * f_O[j], R_nv)
                    tile[o_S, t, j] = S
                    tile[o_u, t, j] = u
                    tile[o_R_nv, t, j] = R_nv
                    tile[o_R_dc, t, j] = R_dc
                    tile[o_n, t, j] = n_t
                    # 6. AWS
                    A = alpha * st_C[j]
                    theta, beta = par[c_theta, i], par[c_beta, i]
                    I[col, j] = theta * beta * A
                    J[col, j] = (1.0 - theta) * beta * A
                    sig = inhouse_share(v_s[j], k_share0[j], par[c_sig0, i], par[c_lam, i], par[c_sig_max, i])
                    P = v_P[j]
                    cA = blended_cost(sig, P, par[c_rho, i])
                    U[col, j] = I[col, j] * f_h[j] / cA
                    I_cf[col, j] = I[col, j] * (P / cA)  # exactly I when the own-silicon share is 0
                    tile[o_sig, t, j] = sig
                    tile[o_I, t, j] = I[col, j]
                    tile[o_saved, t, j] = I_cf[col, j] - I[col, j]
                    tile[o_A, t, j] = A
                # vintage sums (risk.model.aws.weighted_vintages; ages ascending, a zero weight adds 0)
                for j in range(m):
                    v_I[j] = v_J[j] = v_Icf[j] = v_U[j] = 0.0
                for age in range(min(max(Ls_max, Lo_max), col) + 1):
                    for j in range(m):
                        ws = half_year_weight(age, k_L_s[j])
                        wo = half_year_weight(age, k_L_o[j])
                        if age <= k_L_s[j]:
                            v_I[j] += ws * I[col - age, j]
                            v_Icf[j] += ws * I_cf[col - age, j]
                            v_U[j] += ws * U[col - age, j]
                        if age <= k_L_o[j]:
                            v_J[j] += wo * J[col - age, j]
                # AWS revenue and margins
                for j in range(m):
                    i = first + j
                    f_d[j] = compound(f_d[j], -par[c_d, i])
                    f_core[j] = compound(f_core[j], par[c_g_core, i])
                    L_s, L_o = par[c_L_s, i], par[c_L_o, i]
                    D_other = v_J[j] / L_o
                    D_A = v_I[j] / L_s + D_other
                    D_cf = v_Icf[j] / L_s + D_other
                    R_ai = ai_revenue(k_y0[j], f_d[j], st_u[j], v_U[j])
                    R_core = k_R_core0[j] * f_core[j]
                    E = external_revenue(par[c_B_E, i], par[c_E_max, i], year, par[c_y_E, i], par[c_r_E, i])
                    R_A = R_core + R_ai + E
                    cash = cash_costs(k_w_core[j], R_core, par[c_w_ai, i], R_ai, par[c_m_E, i], E)
                    OM_A = aws_operating_margin(R_A, D_A, cash)
                    OM_cf = aws_operating_margin(R_A, D_cf, cash)
                    tile[o_D_A, t, j] = D_A
                    tile[o_R_ai, t, j] = R_ai
                    tile[o_R_A, t, j] = R_A
                    tile[o_OM_A, t, j] = OM_A
                    tile[o_OM_cf, t, j] = OM_cf
                    tile[o_up, t, j] = OM_A - OM_cf
                    tile[o_up_bp, t, j] = (OM_A - OM_cf) * 1e4
                    tile[o_E, t, j] = E

            for k in range(out.shape[0]):
                for t in range(H + 1):
                    row, src = out[k, t], tile[k, t]  # contiguous rows: plain vector stores
                    for j in range(m):
                        row[lo + first + j] = src[j]

    return fused


_fused = _build(_stages_stamp())


def fused_into(
    p: Mapping[str, np.ndarray],
    shocks: Mapping[str, np.ndarray],
    base: BaseData | KernelBase,
    horizon: int,
    out: np.ndarray,
    calibrated: np.ndarray,
    lo: int = 0,
) -> None:
    """Run the model for draws ``lo`` to ``lo + n`` of a run, writing into its output blocks.

    Parameters
    ----------
    p : mapping of str to ndarray, shape (n,)
        Sampled parameters by dotted path, every path of :data:`ORDER`.
    shocks : mapping of str to ndarray, shape (n, horizon)
        Per-year shocks by stream name (:data:`risk.glossary.SHOCKS`).
    base : BaseData or KernelBase
        Base-year data (converted with :func:`kernel_base` if need be).
    horizon : int
        Projected years H.
    out : ndarray, shape (len(OUTPUTS), horizon + 1, draws), float32 or float64
        Every output of the run, in :data:`risk.glossary.OUTPUTS` order; draws ``lo`` to
        ``lo + n`` are written. Computed in float64, rounded once when stored.
    calibrated : ndarray, shape (len(CALIBRATED), draws)
        The calibrated per-draw quantities, in :data:`risk.glossary.CALIBRATED` order.
    lo : int
        First draw of the run that these rows are.
    """
    par = np.stack([np.asarray(p[path], dtype=float) for path in ORDER])  # (parameter, draw)
    # shocks as (year, draw): a year's shocks for the draws of a tile are contiguous; no copy
    # for the column-major (draw, year) arrays of risk.sampling.sample_shocks
    e = [np.ascontiguousarray(np.asarray(shocks[name], dtype=float).T) for name in SHOCKS]
    kb = base if isinstance(base, KernelBase) else kernel_base(base)
    _fused(par, e[0], e[1], e[2], e[3], e[4], kb, int(horizon), out, calibrated, int(lo))


def output_blocks(draws: int, horizon: int, dtype="float64") -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Output blocks of a run and the per-variable views into them.

    Returns
    -------
    out : ndarray, shape (len(OUTPUTS), horizon + 1, draws)
    calibrated : ndarray, shape (len(CALIBRATED), draws), of the same type
    outputs : dict of str to ndarray, shape (draws, horizon + 1)
        Column-major views of ``out`` by output name.
    calibrated_views : dict of str to ndarray, shape (draws,)
    """
    out = np.empty((len(OUTPUTS), horizon + 1, draws), dtype=dtype)
    cal = np.empty((len(CALIBRATED), draws), dtype=dtype)
    return out, cal, {name: out[k].T for k, name in enumerate(OUTPUTS)}, {name: cal[k] for k, name in enumerate(CALIBRATED)}


def run_model_fused(
    p: Mapping[str, np.ndarray], shocks: Mapping[str, np.ndarray], base: BaseData, horizon: int,
) -> ModelResult:
    """:func:`risk.model.core.run_model`, computed by the compiled kernel (float64 outputs).

    Parameters and returns as :func:`risk.model.core.run_model`.
    """
    n = len(p[ORDER[0]])
    out, cal, outputs, calibrated = output_blocks(n, horizon)
    fused_into(p, shocks, base, horizon, out, cal)
    return ModelResult(outputs, calibrated)
