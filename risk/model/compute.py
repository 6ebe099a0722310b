"""Stage 4: compute supply (vintages of accelerators) and demand."""

from __future__ import annotations

import numpy as np

from .clock import step_floor, step_noise, step_rate
from .pricing import GROWTH_FACTOR_FLOOR


def blended_cost(asic_share, price, asic_cost_advantage):
    """Cost of a compute unit relative to the base-year GPU price, c = (1 - s)·P + s·(1 - ρ). [1]"""
    return (1.0 - asic_share) * price + asic_share * (1.0 - asic_cost_advantage)


def new_units(spend, progress_compound, cost):
    """Compute units bought, N_t = M_t·(1 + h)^t / c_t, given ``progress_compound`` = (1 + h)^t. [CU]"""
    return spend * progress_compound / cost


def gpu_spend(spend, asic_share, price, cost):
    """Spend on merchant GPUs, G_t = M_t·(1 - s_t)·P_t / c_t. [USD bn]"""
    return spend * (1.0 - asic_share) * price / cost


def life_weight(age, life):
    """Weight of a vintage of ``age`` years in the installed base: 1 while age < L_c, 0 after. [1]"""
    return 1.0 * (age < life)


def vintage_sum(vintages, column, weights):
    """Σ_a w(a)·V_{t-a} over the vintages up to ``column``, ages ascending. [units of V]

    Installed compute S_t = Σ_a w(a)·N_{t-a} with :func:`life_weight`; AWS depreciation and
    installed AWS compute with :func:`risk.model.aws.half_year_weight`.

    Parameters
    ----------
    vintages : ndarray, shape (years,) or (years, draws)
        Values by calendar-year column.
    column : int
        Column of the year t.
    weights : ndarray, shape (ages,) or (ages, draws)
        Weight of each age, from age 0; ages beyond ``column`` are not read.
    """
    total = weights[0] * vintages[column]
    for age in range(1, min(weights.shape[0], column + 1)):
        total += weights[age] * vintages[column - age]
    return total


def demand_growth(fade_t, first, long, volatility, shock, dt=1.0):
    """Growth of a demand segment, g = g_long + (g_first - g_long)·exp(-(t-1)/τ_D) + σ_D·η_t. [1/step]

    ``fade_t`` is exp(-(t-1)/τ_D) (:func:`risk.model.capex.fade`); a step of ``dt`` years
    compounds the deterministic part and scales the noise by √dt.
    """
    if dt == 1:
        return long + (first - long) * fade_t + volatility * shock
    return step_rate(long + (first - long) * fade_t, dt) + step_noise(volatility, dt) * shock


def grow(previous, growth, dt=1.0):
    """previous·max(1 + growth, floor^dt): a quantity that stays positive. [units of previous]"""
    return previous * np.maximum(1.0 + growth, step_floor(GROWTH_FACTOR_FLOOR, dt))


def utilization(demand, supply):
    """u_t = min(1, D_t / S_t). [1]"""
    return np.minimum(1.0, demand / supply)
