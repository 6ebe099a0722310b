"""Stage 6: AWS capex, own silicon, depreciation and operating margin."""

from __future__ import annotations

import numpy as np


def inhouse_share(asic_share, asic_share_base, start, speed, cap):
    """AWS own-silicon share of its new AI units, σ_t = clip(σ_0 + λ·(s_t - s_0), 0, σ_max). [1]"""
    return np.minimum(np.maximum(start + speed * (asic_share - asic_share_base), 0.0), cap)


def half_year_weight(age, life):
    """Weight of a vintage of ``age`` years under straight line with the half-year convention. [1]

    w(a) = 1/2 at a = 0, 1 for 0 < a < L, 1/2 at a = L, 0 after (L, the life, in whole years).
    Depreciation is Σ_a w(a)·V_{t-a} / L (:func:`risk.model.compute.vintage_sum`).
    """
    return 0.5 * (age == 0) + 1.0 * (age > 0) * (age < life) + 0.5 * (age == life)


def history_scale(reported, history):
    """Scale on the AWS capex history, f = D_reported / D_history; 1 where nothing is reported. [1]

    Parameters
    ----------
    reported : float or None
        Reported base-year depreciation, or None. [USD bn]
    history : ndarray
        Base-year depreciation of the unscaled history. [USD bn]
    """
    if reported is None:
        return np.ones_like(history)
    return reported / history


def depreciation(ai_vintages, other_vintages, server_life, other_life):
    """D_t = Σ_a w_s(a)·I_{t-a}/L_s + Σ_a w_o(a)·J_{t-a}/L_o, given the two weighted sums. [USD bn]

    Parameters
    ----------
    ai_vintages, other_vintages : float or ndarray
        Σ_a w_s(a)·I_{t-a} and Σ_a w_o(a)·J_{t-a} (:func:`risk.model.compute.vintage_sum`). [USD bn]
    server_life, other_life : float or ndarray
        Depreciation lives L_s and L_o. [yr]
    """
    return ai_vintages / server_life + other_vintages / other_life


def ai_revenue(yield_base, decline_compound, utilization, installed):
    """AWS AI revenue R_ai,t = y_0·(1 - d)^t·u_t·S_A,t, given ``decline_compound`` = (1 - d)^t. [USD bn]"""
    return yield_base * decline_compound * utilization * installed


def external_revenue(enabled, mature_revenue, year, start_year, ramp_years):
    """External chip sales E_t = B_E·E_max·clip((Y_t - y_E)/r_E, 0, 1). [USD bn]"""
    return enabled * mature_revenue * np.minimum(np.maximum((year - start_year) / ramp_years, 0.0), 1.0)


def core_cash_cost(revenue, operating_margin, depreciation, ai_cash_cost, ai_revenue, core_revenue):
    """ω_c = (R_A,0·(1 - OM_A,0) - D_0 - ω_ai·R_ai,0) / R_core,0, calibrated to the base year. [1]"""
    return (revenue * (1.0 - operating_margin) - depreciation - ai_cash_cost * ai_revenue) / core_revenue


def core_cash_cost_path(base, efficiency_compound, floor):
    """Core cash costs per dollar of core revenue after efficiency gains. [1]

    ω_c,t = max(min(ω_c,0, ω_floor), ω_c,0·(1 - e_c)^t), given ``efficiency_compound`` =
    (1 - e_c)^t: gains bring the ratio down to the floor, never below it, and never lift a
    ratio calibrated below the floor. e_c = 0 is v1's constant ω_c,0.
    """
    return np.maximum(np.minimum(base, floor), base * efficiency_compound)


def cash_costs(core_cost, core_revenue, ai_cash_cost, ai_rev, external_margin, external_rev):
    """ω_c·R_core + ω_ai·R_ai + (1 - m_E)·E. [USD bn]"""
    return core_cost * core_revenue + ai_cash_cost * ai_rev + (1.0 - external_margin) * external_rev


def operating_margin(revenue, depreciation, cash):
    """OM_A,t = 1 - (D_t + cash costs) / R_A,t. [1]"""
    return 1.0 - (depreciation + cash) / revenue
