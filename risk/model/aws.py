"""Stage 6: AWS capex, own silicon, depreciation and operating margin."""

from __future__ import annotations

import numpy as np


def inhouse_share(asic_share, asic_share_base, start, speed, cap):
    """AWS own-silicon share of its new AI units, σ_t = clip(σ_0 + λ·(s_t - s_0), 0, σ_max). [1]"""
    return np.minimum(np.maximum(start + speed * (asic_share - asic_share_base), 0.0), cap)


def half_year_weights(life):
    """Weights of vintages aged 0..max(L) under straight-line, half-year convention. [1]

    w(a) = 1/2 at a = 0, 1 for 0 < a < L, 1/2 at a = L, 0 after.

    Parameters
    ----------
    life : ndarray, shape (draws,)
        Depreciation life L, whole years. [yr]

    Returns
    -------
    ndarray, shape (draws, max(L) + 1), or (1, L + 1) when every draw has the same life
    """
    life = np.asarray(life, dtype=float)
    if np.all(life == life.flat[0]):
        life = life.flat[:1]
    age = np.arange(int(np.max(life)) + 1)[None, :]
    life = life[:, None]
    weights = (age < life) + 0.5 * (age == life)
    weights[:, 0] = 0.5
    return np.asfortranarray(weights)


def weighted_vintages(vintages, column, weights):
    """Σ_a w(a)·V_{t-a} over the vintages up to ``column``. [units of V]

    Parameters
    ----------
    vintages : ndarray, shape (draws, years)
        Values by calendar-year column; earlier columns than the first are zero.
    column : int
        Column of year t.
    weights : ndarray, shape (draws or 1, ages)
        From :func:`half_year_weights`.
    """
    total = np.zeros(vintages.shape[0])
    for age in range(min(weights.shape[1] - 1, column) + 1):
        total += weights[:, age] * vintages[:, column - age]
    return total


def depreciation(ai_vintages, other_vintages, column, server_life, other_life, server_weights, other_weights):
    """D_t = Σ_a w_s(a)·I_{t-a}/L_s + Σ_a w_o(a)·J_{t-a}/L_o. [USD bn]"""
    return (
        weighted_vintages(ai_vintages, column, server_weights) / server_life
        + weighted_vintages(other_vintages, column, other_weights) / other_life
    )


def ai_revenue(yield_base, decline_compound, utilization, installed):
    """AWS AI revenue R_ai,t = y_0·(1 - d)^t·u_t·S_A,t, given ``decline_compound`` = (1 - d)^t. [USD bn]"""
    return yield_base * decline_compound * utilization * installed


def external_revenue(enabled, mature_revenue, year, start_year, ramp_years):
    """External chip sales E_t = B_E·E_max·clip((Y_t - y_E)/r_E, 0, 1). [USD bn]"""
    return enabled * mature_revenue * np.minimum(np.maximum((year - start_year) / ramp_years, 0.0), 1.0)


def core_cash_cost(revenue, operating_margin, depreciation, ai_cash_cost, ai_revenue, core_revenue):
    """ω_c = (R_A,0·(1 - OM_A,0) - D_0 - ω_ai·R_ai,0) / R_core,0, calibrated to the base year. [1]"""
    return (revenue * (1.0 - operating_margin) - depreciation - ai_cash_cost * ai_revenue) / core_revenue


def cash_costs(core_cost, core_revenue, ai_cash_cost, ai_rev, external_margin, external_rev):
    """ω_c·R_core + ω_ai·R_ai + (1 - m_E)·E. [USD bn]"""
    return core_cost * core_revenue + ai_cash_cost * ai_rev + (1.0 - external_margin) * external_rev


def operating_margin(revenue, depreciation, cash):
    """OM_A,t = 1 - (D_t + cash costs) / R_A,t. [1]"""
    return 1.0 - (depreciation + cash) / revenue
