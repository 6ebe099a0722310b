"""Stage 4: compute supply (vintages of accelerators) and demand."""

from __future__ import annotations

import numpy as np

from .pricing import GROWTH_FACTOR_FLOOR


def progress_back(progress, years):
    """(1 + h)^(y - Y_0) for the ``years`` + 1 calendar years up to the base year, oldest first. [1]

    Returns
    -------
    ndarray, shape (draws, years + 1), column-major; the last column is 1
    """
    out = np.empty((len(progress), years + 1), order="F")
    out[:, years] = 1.0
    step = 1.0 / (1.0 + progress)
    for j in range(years - 1, -1, -1):
        out[:, j] = out[:, j + 1] * step
    return out


def blended_cost(asic_share, price, asic_cost_advantage):
    """Cost of a compute unit relative to the base-year GPU price, c = (1 - s)·P + s·(1 - ρ). [1]"""
    return (1.0 - asic_share) * price + asic_share * (1.0 - asic_cost_advantage)


def new_units(spend, progress_compound, cost):
    """Compute units bought, N_t = M_t·(1 + h)^t / c_t, given ``progress_compound`` = (1 + h)^t. [CU]"""
    return spend * progress_compound / cost


def gpu_spend(spend, asic_share, price, cost):
    """Spend on merchant GPUs, G_t = M_t·(1 - s_t)·P_t / c_t. [USD bn]"""
    return spend * (1.0 - asic_share) * price / cost


def life_weights(life):
    """1 for the ages 0..L-1 an accelerator is installed, 0 after. [1]

    Parameters
    ----------
    life : ndarray, shape (draws,)
        Years an accelerator stays installed L_c, whole numbers. [yr]

    Returns
    -------
    ndarray, shape (draws, max(L)), or (1, L) when every draw has the same life; column-major
    """
    life = np.asarray(life, dtype=float)
    if np.all(life == life.flat[0]):
        life = life.flat[:1]
    age = np.arange(int(np.max(life)))[None, :]
    return np.asfortranarray((age < life[:, None]).astype(float))


def installed(vintages, column, weights):
    """Installed units S_t = Σ_{j<L_c} N_{t-j}, the vintages up to ``column`` still in service. [CU]

    Parameters
    ----------
    vintages : ndarray, shape (draws, years)
        Units bought by calendar-year column.
    column : int
        Column of the year t.
    weights : ndarray
        From :func:`life_weights`.
    """
    total = np.zeros(vintages.shape[0])
    for age in range(min(weights.shape[1], column + 1)):
        total += weights[:, age] * vintages[:, column - age]
    return total


def demand_growth(fade_t, first, long, volatility, shock):
    """Growth of a demand segment, g = g_long + (g_first - g_long)·exp(-(t-1)/τ_D) + σ_D·η_t. [1/yr]

    ``fade_t`` is exp(-(t-1)/τ_D) (:func:`risk.model.capex.fade`).
    """
    return long + (first - long) * fade_t + volatility * shock


def grow(previous, growth):
    """previous·max(1 + growth, floor): a quantity that stays positive. [units of previous]"""
    return previous * np.maximum(1.0 + growth, GROWTH_FACTOR_FLOOR)


def utilization(demand, supply):
    """u_t = min(1, D_t / S_t). [1]"""
    return np.minimum(1.0, demand / supply)
