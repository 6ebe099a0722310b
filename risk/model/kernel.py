"""The model compiled into one loop over tiles of draws (numba): the fast engine.

:func:`run_model_fused` computes what :func:`risk.model.core.run_model` computes, in machine
code, a tile of :data:`TILE` draws at a time: the vectorized core makes about 300 passes
over memory per draw-year, this keeps a tile's intermediates in cache and stores each
output once. The equations are not written twice: the stage functions of
:mod:`risk.model` (capex, adoption, pricing, compute, nvidia, aws) are compiled here for
scalars from their own source, and only the assembly (the loops over years and draws and
the vintage sums, which the vectorized core writes over arrays) is written here.

Each stage is a loop over the draws of a tile that reads and writes rows of one workspace
and calls only arithmetic (exp and log included, :mod:`risk.model.elementary`), so the
compiler turns it into SIMD instructions, several draws to an instruction. Results agree
with the vectorized core to rounding (about 1e-15 relative; the compiled exp and log and
numpy's differ in the last bit); tests check 1e-12, and both against the scalar
reference of the tests to 1e-9.

Each draw depends only on its own parameters and shocks, and a vector lane computes
bitwise what scalar code computes, so results are the same whatever the chunking or
threads. The compiled code is cached on disk (numba's cache, in ``__pycache__``); the
cache key includes a hash of the stage modules' source, so an edited stage is never
served from a stale cache.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Mapping, NamedTuple

import numba
import numpy as np

from ..data import BaseData
from ..glossary import CALIBRATED, OUTPUTS, PARAMETERS, SHOCKS
from . import adoption, aws, capex, compute, elementary, nvidia, pricing
from .core import ModelResult
from .elementary import log

__all__ = ["Blocks", "KernelBase", "kernel_base", "fused_into", "output_blocks", "run_model_fused", "ORDER"]

#: Parameters in the order of the rows of the kernel's parameter matrix (glossary order).
ORDER: tuple[str, ...] = tuple(PARAMETERS)
_OUT = {name: k for k, name in enumerate(OUTPUTS)}
#: Draws that go through the model side by side. A multiple of 32, so that the compiled
#: loops (8 float64 to an AVX-512 vector, unrolled 4 times) leave no scalar remainder; not a
#: power of two, so that rows of the workspace do not fall 4 KiB apart, where the processor
#: would mistake stores for loads. 160 measured fastest of 96 to 240.
TILE = 160


def _stages_stamp() -> int:
    """A number that changes whenever the source of a stage module does (numba itself watches this file)."""
    digest = hashlib.sha256()
    for module in (adoption, aws, capex, compute, elementary, nvidia, pricing):
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
    n_par, n_out = len(ORDER), len(OUTPUTS)
    # Rows of the tile's workspace after the parameters' rows (glossary order): this year's
    # shocks; state carried from year to year; per-draw constants of the base year; values
    # passed from stage to stage; this year's new vintages; this year's outputs last.
    names = (
        "e_capex", "e_dig", "e_inf", "e_tr", "e_cost",
        "C", "R", "u", "kappa", "log_kappa", "D_inf", "D_tr", "fade_g", "fade_D",
        "f_vk", "f_moat", "f_h", "f_O", "f_o", "f_d", "f_core",
        "share0", "n0", "y0", "R_core0", "w_core", "anchor_inf", "anchor_tr", "step_g", "step_D",
        "L_c", "L_s", "L_o", "step_h", "back", "c0", "cA0", "scale",
        "s", "P", "G", "S", "sum_I", "sum_J", "sum_Icf", "sum_U",
        "new_N", "new_I", "new_J", "new_Icf", "new_U",
    )
    (r_e_capex, r_e_dig, r_e_inf, r_e_tr, r_e_cost,
     r_C, r_R, r_u, r_kappa, r_log_kappa, r_D_inf, r_D_tr, r_fade_g, r_fade_D,
     r_f_vk, r_f_moat, r_f_h, r_f_O, r_f_o, r_f_d, r_f_core,
     r_share0, r_n0, r_y0, r_R_core0, r_w_core, r_anchor_inf, r_anchor_tr, r_step_g, r_step_D,
     r_L_c, r_L_s, r_L_o, r_step_h, r_back, r_c0, r_cA0, r_scale,
     r_s, r_P, r_G, r_S, r_sum_I, r_sum_J, r_sum_Icf, r_sum_U,
     r_new_N, r_new_I, r_new_J, r_new_Icf, r_new_U) = range(n_par, n_par + len(names))
    Y = n_par + len(names)  # row of this year's first output; output k is row Y + k
    n_rows = Y + n_out

    @numba.njit(inline="always")
    def half_year_weight(age, life):
        """Straight line with the half-year convention, as :func:`risk.model.aws.half_year_weights`:
        1/2 in the year bought, 1 while younger than the life, 1/2 at the life, 0 after."""
        return 0.5 if age == 0 else 1.0 * (age < life) + 0.5 * (age == life)

    @numba.njit(inline="always")
    def weighted(w, weights, vintages, column, life_max, r_sum):
        """Row ``r_sum`` = Σ_a w(a)·V_{t-a} (:func:`risk.model.aws.weighted_vintages`), ages
        ascending, the tile's weights by age in the rows of ``weights``; a zero weight adds
        exactly 0."""
        for j in range(TILE):
            w[r_sum, j] = 0.0
        for age in range(min(life_max, column) + 1):
            for j in range(TILE):
                w[r_sum, j] += weights[age, j] * vintages[column - age, j]

    @numba.njit(inline="always")
    def installed(w, weights, vintages, column, life_max):
        """Row S = Σ_{a<L_c} N_{t-a} (:func:`risk.model.compute.installed`), ages ascending,
        ``weights[a]`` = 1 where a < L_c."""
        for j in range(TILE):
            w[r_S, j] = 0.0
        for age in range(min(life_max, column + 1)):
            for j in range(TILE):
                w[r_S, j] += weights[age, j] * vintages[column - age, j]

    @numba.njit(inline="always")
    def load(w, row, src, m):
        """Row ``row`` = ``src[:m]``, the last value repeated to the end of the tile."""
        for j in range(m):
            w[row, j] = src[j]
        for j in range(m, TILE):
            w[row, j] = src[m - 1]

    @numba.njit(inline="always")
    def store(w, row, dst, m):
        """``dst[:m]`` = row ``row`` (rounded to the type of ``dst``)."""
        for j in range(m):
            dst[j] = w[row, j]

    @numba.njit(nogil=True, error_model="numpy", cache=True)
    def fused(par, e_capex, e_dig, e_inf, e_tr, e_cost, b, H, out, cal, par_out, lo):
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
        C0 = b.capex_hyperscaler
        # Draws go through in tiles of TILE, a year and a stage at a time across the tile.
        # Everything a stage reads or writes is a row of one workspace ``w`` (rows at fixed
        # offsets, so the compiler sees that the rows cannot overlap) and the functions it
        # calls are plain arithmetic (risk.model.elementary): each stage's loop over the
        # tile compiles to SIMD instructions, several draws to an instruction. A partial
        # tile is padded with copies of its last draw. Vintages live in arrays of their own.
        w = np.zeros((n_rows, TILE))
        N = np.zeros((col0 + H + 1, TILE))
        I = np.zeros((acol0 + H + 1, TILE))
        J = np.zeros((acol0 + H + 1, TILE))
        I_cf = np.zeros((acol0 + H + 1, TILE))
        U = np.zeros((acol0 + H + 1, TILE))
        # weights by age of the vintages (rows) for each draw of a tile: computed once a tile
        life_cap = 1
        for c in (c_L_c, c_L_s, c_L_o):
            for j in range(n):
                life_cap = max(life_cap, int(par[c, j]) + 1)
        W_c = np.zeros((life_cap, TILE))
        W_s = np.zeros((life_cap, TILE))
        W_o = np.zeros((life_cap, TILE))
        for first in range(0, n, TILE):
            m = min(TILE, n - first)
            for c in range(n_par):
                load(w, c, par[c, first:], m)
                store(w, c, par_out[c, lo + first:], m)
            Lc_max, Ls_max, Lo_max = 0, 0, 0
            for j in range(m):
                Lc_max = max(Lc_max, int(w[c_L_c, j]))
                Ls_max = max(Ls_max, int(w[c_L_s, j]))
                Lo_max = max(Lo_max, int(w[c_L_o, j]))
            # ---- base year (t = 0), as risk.model.core.run_model
            for j in range(TILE):
                phi0, s0_inf, s0_tr, rho, h = w[c_phi0, j], w[c_s0_inf, j], w[c_s0_tr, j], w[c_rho, j], w[c_h, j]
                share0 = aggregate_share(phi0, s0_inf, s0_tr)
                w[r_share0, j] = share0
                w[r_c0, j] = blended_cost(share0, 1.0, rho)
                w[r_cA0, j] = blended_cost(w[c_sig0, j], 1.0, rho)
                w[r_step_h, j] = 1.0 / (1.0 + h)
                w[r_back, j] = 1.0
                w[r_L_c, j], w[r_L_s, j], w[r_L_o, j] = np.floor(w[c_L_c, j]), np.floor(w[c_L_s, j]), np.floor(w[c_L_o, j])
            for age in range(Lc_max):
                for j in range(TILE):
                    W_c[age, j] = 1.0 * (age < w[r_L_c, j])
            for age in range(Ls_max + 1):
                for j in range(TILE):
                    W_s[age, j] = half_year_weight(age, w[r_L_s, j])
            for age in range(Lo_max + 1):
                for j in range(TILE):
                    W_o[age, j] = half_year_weight(age, w[r_L_o, j])
            # One array written a loop, so that each compiles to SIMD instructions.
            for back in range(col0 + 1):  # units bought before the base year, by the market's history
                col = col0 - back  # (a descending range would hide from the compiler that col >= 0)
                for j in range(TILE):
                    N[col, j] = b.market[col] * w[r_back, j] / w[r_c0, j]
                for j in range(TILE):
                    w[r_back, j] *= w[r_step_h, j]
            installed(w, W_c, N, col0, Lc_max)
            for col in range(acol0 + 1):
                for j in range(TILE):
                    I[col, j] = w[c_theta, j] * b.aws_capex[col]
                for j in range(TILE):
                    J[col, j] = (1.0 - w[c_theta, j]) * b.aws_capex[col]
            for j in range(TILE):
                w[r_scale, j] = 1.0
            if not np.isnan(b.aws_depreciation):
                weighted(w, W_s, I, acol0, Ls_max, r_sum_I)
                weighted(w, W_o, J, acol0, Lo_max, r_sum_J)
                for j in range(TILE):
                    w[r_scale, j] = b.aws_depreciation / (w[r_sum_I, j] / w[c_L_s, j] + w[r_sum_J, j] / w[c_L_o, j])
                for col in range(acol0 + 1):
                    for j in range(TILE):
                        I[col, j] *= w[r_scale, j]
                    for j in range(TILE):
                        J[col, j] *= w[r_scale, j]
            for j in range(TILE):
                w[r_back, j] = 1.0
            for back in range(acol0 + 1):
                col = acol0 - back
                for j in range(TILE):
                    I_cf[col, j] = I[col, j]
                for j in range(TILE):
                    U[col, j] = I[col, j] * w[r_back, j] / w[r_cA0, j]
                for j in range(TILE):
                    w[r_back, j] *= w[r_step_h, j]
            weighted(w, W_s, I, acol0, Ls_max, r_sum_I)
            weighted(w, W_o, J, acol0, Lo_max, r_sum_J)
            weighted(w, W_s, U, acol0, Ls_max, r_sum_U)
            for j in range(TILE):
                phi0, u0, R_ai0, w_ai, sig0 = w[c_phi0, j], w[c_u0, j], w[c_R_ai0, j], w[c_w_ai, j], w[c_sig0, j]
                share0, cA0, S = w[r_share0, j], w[r_cA0, j], w[r_S, j]
                M = k0 * C0
                D_inf = phi0 * u0 * S
                D_tr = (1.0 - phi0) * u0 * S
                u = utilization(D_inf + D_tr, S)
                G = gpu_spend(M, share0, 1.0, w[r_c0, j])
                n0 = b.nvda_dc_revenue / G
                D_A = w[r_sum_I, j] / w[c_L_s, j] + w[r_sum_J, j] / w[c_L_o, j]
                R_core0 = b.aws_revenue - R_ai0
                w_core = core_cash_cost(b.aws_revenue, b.aws_operating_margin, D_A, w_ai, R_ai0, R_core0)
                w[r_n0, j], w[r_y0, j], w[r_R_core0, j], w[r_w_core, j] = n0, R_ai0 / (u0 * w[r_sum_U, j]), R_core0, w_core
                w[r_anchor_inf, j] = s_curve_anchor(Y0, w[c_ymid_inf, j], w[c_k_inf, j])
                w[r_anchor_tr, j] = s_curve_anchor(Y0, w[c_ymid_tr, j], w[c_k_tr, j])
                w[r_step_g, j], w[r_step_D, j] = fade(2, w[c_tau_g, j]), fade(2, w[c_tau_D, j])
                w[r_C, j], w[r_R, j], w[r_u, j], w[r_kappa, j], w[r_log_kappa, j] = C0, 0.0, u, 1.0, 0.0
                w[r_D_inf, j], w[r_D_tr, j], w[r_fade_g, j], w[r_fade_D, j] = D_inf, D_tr, 1.0, 1.0
                w[r_f_vk, j] = w[r_f_moat, j] = w[r_f_h, j] = w[r_f_O, j] = w[r_f_o, j] = w[r_f_d, j] = w[r_f_core, j] = 1.0

                w[Y + o_C, j] = C0
                w[Y + o_M, j] = M
                w[Y + o_s_inf, j] = w[c_s0_inf, j]
                w[Y + o_s_tr, j] = w[c_s0_tr, j]
                w[Y + o_s, j] = share0
                w[Y + o_spend, j] = 1.0 - G / M
                w[Y + o_phi, j] = phi0
                w[Y + o_S, j] = S
                w[Y + o_D, j] = D_inf + D_tr
                w[Y + o_u, j] = u
                w[Y + o_R, j] = 0.0
                w[Y + o_P, j] = 1.0
                w[Y + o_GM, j] = GM_base
                w[Y + o_OM, j] = OM_base
                w[Y + o_R_nv, j] = b.nvda_revenue
                w[Y + o_R_dc, j] = n0 * G
                w[Y + o_n, j] = n0
                w[Y + o_sig, j] = sig0
                w[Y + o_I, j] = I[acol0, j]
                w[Y + o_saved, j] = I[acol0, j] * (1.0 / cA0 - 1.0)
                w[Y + o_D_A, j] = D_A
                w[Y + o_R_ai, j] = R_ai0
                w[Y + o_R_A, j] = b.aws_revenue
                w[Y + o_OM_A, j] = b.aws_operating_margin
                w[Y + o_OM_cf, j] = b.aws_operating_margin
                w[Y + o_up, j] = 0.0
                w[Y + o_up_bp, j] = 0.0
                w[Y + o_E, j] = 0.0
                w[Y + o_A, j] = b.amazon_capex
            store(w, r_n0, cal[0, lo + first:], m)
            store(w, r_scale, cal[1, lo + first:], m)
            store(w, r_w_core, cal[2, lo + first:], m)
            for k in range(n_out):
                store(w, Y + k, out[k, 0, lo + first:], m)

            # ---- projected years: each year in stages, every stage across the tile
            for t in range(1, H + 1):
                year = Y0 + t
                col_N = col0 + t
                col = acol0 + t
                load(w, r_e_capex, e_capex[t - 1, first:], m)
                load(w, r_e_dig, e_dig[t - 1, first:], m)
                load(w, r_e_inf, e_inf[t - 1, first:], m)
                load(w, r_e_tr, e_tr[t - 1, first:], m)
                load(w, r_e_cost, e_cost[t - 1, first:], m)
                if t > 1:
                    for j in range(TILE):
                        w[r_fade_g, j] *= w[r_step_g, j]
                        w[r_fade_D, j] *= w[r_step_D, j]
                # capex, demand, adoption, pricing and the units bought
                for j in range(TILE):
                    w[r_f_vk, j] = f_vk = compound(w[r_f_vk, j], w[c_v_k, j])
                    w[r_f_moat, j] = f_moat = compound(w[r_f_moat, j], -w[c_v, j])
                    w[r_f_h, j] = f_h = compound(w[r_f_h, j], w[c_h, j])
                    # 1. capex (uses last year's utilization)
                    R = digestion_state(
                        digestion_probability(w[r_R, j], w[r_u, j], w[c_p_enter, j], w[c_p_stay, j], w[c_zeta, j], w[c_u_star, j]),
                        w[r_e_dig, j])
                    fade_D = w[r_fade_D, j]
                    g = capex_growth(w[r_fade_g, j], w[c_g1, j], w[c_ginf, j], w[c_sig_g, j], w[r_e_capex, j], w[c_delta, j], R)
                    C = next_capex(w[r_C, j], g, w[c_c_cut, j], w[c_g_power, j])
                    M = accelerator_market(C, k0, f_vk)
                    # 4a. demand and the inference share
                    D_inf = grow(w[r_D_inf, j], demand_growth(fade_D, w[c_gf_inf, j], w[c_gl_inf, j], w[c_sig_D, j], w[r_e_inf, j]))
                    D_tr = grow(w[r_D_tr, j], demand_growth(fade_D, w[c_gf_tr, j], w[c_gl_tr, j], w[c_sig_D, j], w[r_e_tr, j]))
                    phi = D_inf / (D_inf + D_tr)
                    # 2. adoption
                    s_inf = s_curve(year, w[c_s0_inf, j], w[c_S_inf, j], w[c_ymid_inf, j], w[c_k_inf, j], w[r_anchor_inf, j])
                    s_tr = s_curve(year, w[c_s0_tr, j], w[c_S_tr, j], w[c_ymid_tr, j], w[c_k_tr, j], w[r_anchor_tr, j])
                    s = aggregate_share(phi, s_inf, s_tr)
                    # 3. pricing
                    prem = markup_premium(premium0, w[c_eps, j], moat(w[c_mu0, j], f_moat), s, w[r_share0, j])
                    step = unit_cost_factor(w[c_c_bar, j], w[c_sig_c, j], w[r_e_cost, j])
                    kappa, log_kappa = w[r_kappa, j] * step, w[r_log_kappa, j] + log(step)
                    passed = passed_cost(log_kappa, w[c_psi, j])
                    GM = gross_margin(kappa, passed, prem)
                    P = price_index(passed, prem, premium0)
                    # 4b. units bought
                    c = blended_cost(s, P, w[c_rho, j])
                    w[r_new_N, j] = new_units(M, f_h, c)
                    G = gpu_spend(M, s, P, c)
                    w[r_C, j], w[r_R, j], w[r_kappa, j], w[r_log_kappa, j], w[r_D_inf, j], w[r_D_tr, j] = C, R, kappa, log_kappa, D_inf, D_tr
                    w[r_s, j], w[r_P, j], w[r_G, j] = s, P, G
                    w[Y + o_C, j] = C
                    w[Y + o_M, j] = M
                    w[Y + o_s_inf, j] = s_inf
                    w[Y + o_s_tr, j] = s_tr
                    w[Y + o_s, j] = s
                    w[Y + o_spend, j] = 1.0 - G / M
                    w[Y + o_phi, j] = phi
                    w[Y + o_D, j] = D_inf + D_tr
                    w[Y + o_R, j] = R
                    w[Y + o_P, j] = P
                    w[Y + o_GM, j] = GM
                for j in range(TILE):
                    N[col_N, j] = w[r_new_N, j]
                installed(w, W_c, N, col_N, Lc_max)
                # utilization, NVIDIA, AWS capex and own silicon
                for j in range(TILE):
                    w[r_f_O, j] = f_O = compound(w[r_f_O, j], w[c_g_O, j])
                    w[r_f_o, j] = f_o = compound(w[r_f_o, j], w[c_g_o, j])
                    S = w[r_S, j]
                    u = utilization(w[Y + o_D, j], S)
                    w[r_u, j] = u
                    # 5. NVIDIA
                    n_t = gpu_share(t, H, w[r_n0, j], w[c_n_H, j])
                    R_dc = n_t * w[r_G, j]
                    R_nv = R_dc + b.nvda_other_revenue * f_o
                    w[Y + o_OM, j] = nv_operating_margin(w[Y + o_GM, j], b.nvda_opex * f_O, R_nv)
                    w[Y + o_S, j] = S
                    w[Y + o_u, j] = u
                    w[Y + o_R_nv, j] = R_nv
                    w[Y + o_R_dc, j] = R_dc
                    w[Y + o_n, j] = n_t
                    # 6. AWS
                    A = alpha * w[r_C, j]
                    theta, beta = w[c_theta, j], w[c_beta, j]
                    new_I = theta * beta * A
                    sig = inhouse_share(w[r_s, j], w[r_share0, j], w[c_sig0, j], w[c_lam, j], w[c_sig_max, j])
                    P = w[r_P, j]
                    cA = blended_cost(sig, P, w[c_rho, j])
                    new_Icf = new_I * (P / cA)  # exactly new_I when the own-silicon share is 0
                    w[r_new_I, j], w[r_new_J, j] = new_I, (1.0 - theta) * beta * A
                    w[r_new_U, j], w[r_new_Icf, j] = new_I * w[r_f_h, j] / cA, new_Icf
                    w[Y + o_sig, j] = sig
                    w[Y + o_I, j] = new_I
                    w[Y + o_saved, j] = new_Icf - new_I
                    w[Y + o_A, j] = A
                for j in range(TILE):
                    I[col, j] = w[r_new_I, j]
                for j in range(TILE):
                    J[col, j] = w[r_new_J, j]
                for j in range(TILE):
                    I_cf[col, j] = w[r_new_Icf, j]
                for j in range(TILE):
                    U[col, j] = w[r_new_U, j]
                weighted(w, W_s, I, col, Ls_max, r_sum_I)
                weighted(w, W_s, I_cf, col, Ls_max, r_sum_Icf)
                weighted(w, W_s, U, col, Ls_max, r_sum_U)
                weighted(w, W_o, J, col, Lo_max, r_sum_J)
                # AWS revenue and margins
                for j in range(TILE):
                    w[r_f_d, j] = f_d = compound(w[r_f_d, j], -w[c_d, j])
                    w[r_f_core, j] = f_core = compound(w[r_f_core, j], w[c_g_core, j])
                    L_s, L_o = w[c_L_s, j], w[c_L_o, j]
                    D_other = w[r_sum_J, j] / L_o
                    D_A = w[r_sum_I, j] / L_s + D_other
                    D_cf = w[r_sum_Icf, j] / L_s + D_other
                    R_ai = ai_revenue(w[r_y0, j], f_d, w[r_u, j], w[r_sum_U, j])
                    R_core = w[r_R_core0, j] * f_core
                    E = external_revenue(w[c_B_E, j], w[c_E_max, j], year, w[c_y_E, j], w[c_r_E, j])
                    R_A = R_core + R_ai + E
                    cash = cash_costs(w[r_w_core, j], R_core, w[c_w_ai, j], R_ai, w[c_m_E, j], E)
                    OM_A = aws_operating_margin(R_A, D_A, cash)
                    OM_cf = aws_operating_margin(R_A, D_cf, cash)
                    w[Y + o_D_A, j] = D_A
                    w[Y + o_R_ai, j] = R_ai
                    w[Y + o_R_A, j] = R_A
                    w[Y + o_OM_A, j] = OM_A
                    w[Y + o_OM_cf, j] = OM_cf
                    w[Y + o_up, j] = OM_A - OM_cf
                    w[Y + o_up_bp, j] = (OM_A - OM_cf) * 1e4
                    w[Y + o_E, j] = E
                for k in range(n_out):
                    store(w, Y + k, out[k, t, lo + first:], m)

    return fused


_fused = _build(_stages_stamp())


class Blocks(NamedTuple):
    """A run's stored values in three blocks, a draw to a column (float32 or float64)."""

    #: shape (len(OUTPUTS), horizon + 1, draws): every output, :data:`risk.glossary.OUTPUTS` order
    outputs: np.ndarray
    #: shape (len(CALIBRATED), draws): :data:`risk.glossary.CALIBRATED` order
    calibrated: np.ndarray
    #: shape (len(ORDER), draws): the sampled parameters, :data:`ORDER`
    parameters: np.ndarray

    def views(self) -> tuple[dict, dict, dict]:
        """Views by name: outputs (draws, horizon + 1) column-major; calibrated and parameters (draws,)."""
        return ({name: self.outputs[k].T for k, name in enumerate(OUTPUTS)},
                {name: self.calibrated[k] for k, name in enumerate(CALIBRATED)},
                dict(zip(ORDER, self.parameters)))


def output_blocks(draws: int, horizon: int, dtype="float64") -> Blocks:
    """Empty blocks for a run of ``draws`` draws over ``horizon`` projected years."""
    return Blocks(np.empty((len(OUTPUTS), horizon + 1, draws), dtype=dtype),
                  np.empty((len(CALIBRATED), draws), dtype=dtype),
                  np.empty((len(ORDER), draws), dtype=dtype))


def fused_into(
    par: np.ndarray | Mapping[str, np.ndarray],
    shocks: Mapping[str, np.ndarray],
    base: BaseData | KernelBase,
    horizon: int,
    blocks: Blocks,
    lo: int = 0,
) -> None:
    """Run the model for draws ``lo`` to ``lo + n`` of a run, writing them into its blocks.

    Parameters
    ----------
    par : ndarray, shape (len(ORDER), n), or mapping of str to ndarray, shape (n,)
        Sampled parameters: rows in :data:`ORDER` (:func:`risk.sampling.parameter_matrix`
        with ``order=ORDER``), or arrays by dotted path, every path of :data:`ORDER`.
    shocks : mapping of str to ndarray, shape (n, horizon)
        Per-year shocks by stream name (:data:`risk.glossary.SHOCKS`).
    base : BaseData or KernelBase
        Base-year data (converted with :func:`kernel_base` if need be).
    horizon : int
        Projected years H.
    blocks : Blocks
        The run's blocks (:func:`output_blocks`); draws ``lo`` to ``lo + n`` of each are
        written: outputs computed in float64 and rounded once when stored, and the
        parameters as given.
    lo : int
        First draw of the run that these rows are.
    """
    if isinstance(par, Mapping):
        par = np.stack([np.asarray(par[path], dtype=float) for path in ORDER])
    par = np.ascontiguousarray(par, dtype=float)
    # shocks as (year, draw): a year's shocks for the draws of a tile are contiguous; no copy
    # for the column-major (draw, year) arrays of risk.sampling.sample_shocks
    e = [np.ascontiguousarray(np.asarray(shocks[name], dtype=float).T) for name in SHOCKS]
    kb = base if isinstance(base, KernelBase) else kernel_base(base)
    _fused(par, e[0], e[1], e[2], e[3], e[4], kb, int(horizon), blocks.outputs, blocks.calibrated, blocks.parameters, int(lo))


def run_model_fused(
    p: Mapping[str, np.ndarray], shocks: Mapping[str, np.ndarray], base: BaseData, horizon: int,
) -> ModelResult:
    """:func:`risk.model.core.run_model`, computed by the compiled kernel (float64 outputs).

    Parameters and returns as :func:`risk.model.core.run_model`.
    """
    blocks = output_blocks(len(p[ORDER[0]]), horizon)
    fused_into(p, shocks, base, horizon, blocks)
    outputs, calibrated, _ = blocks.views()
    return ModelResult(outputs, calibrated)
