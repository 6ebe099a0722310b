"""Stage 3: NVIDIA's pricing power and gross margin."""

from __future__ import annotations

import numpy as np

from .clock import step_floor, step_noise, step_rate


#: Smallest one-year growth factor of a quantity driven by normal shocks (unit cost, demand):
#: no such quantity falls by more than 99% in a year, so it stays positive.
GROWTH_FACTOR_FLOOR = 0.01


def moat(start, decay_compound):
    """Software moat μ_t = μ_0·(1 - v)^t, given ``decay_compound`` = (1 - v)^t. [1]"""
    return start * decay_compound


def premium_base(gross_margin):
    """Markup premium over unit cost in the base year, GM_0 / (1 - GM_0). [1]"""
    return gross_margin / (1.0 - gross_margin)


def premium_core(premium0, scarcity, utilization, threshold):
    """The premium without scarcity, premium_0 / max(0.05, 1 + χ·(u_0 - u*)), so that the anchor's
    own utilization reproduces its reported margin: the scarcity term then moves the premium
    only as utilization moves away from the anchor's. premium_0 itself when χ = 0. [1]"""
    return premium0 / np.maximum(0.05, 1.0 + scarcity * (utilization - threshold))


def markup_premium(premium0, elasticity, moat_t, share, share_base, scarcity=0.0, utilization=0.0, threshold=0.0):
    """premium_t = premium_0·max(0, 1 - ε·(1 - μ_t)·max(0, s_t - s_0) + χ·(u_{t-1} - u*)). [1]

    The scarcity term moves the premium both ways: up while last year's utilization is above
    the threshold u* (compute is scarce), down below it (a glut). χ = 0 is the v1 premium.

    Parameters
    ----------
    scarcity : ndarray
        χ, the premium's change, as a share of the base year's, per unit of utilization above u*. [1]
    utilization, threshold : ndarray
        Last year's utilization u_{t-1} and the threshold u* (``digestion.utilization_threshold``). [1]
    """
    erosion = elasticity * (1.0 - moat_t) * np.maximum(0.0, share - share_base)
    return premium0 * np.maximum(0.0, 1.0 - erosion + scarcity * (utilization - threshold))


def unit_cost_factor(drift, volatility, shock, dt=1.0):
    """One step's change of the unit cost index, κ_t/κ_{t-1} = max(1 + c̄ + σ_c·ξ_t, floor) a year. [1]

    A step of ``dt`` years: max((1 + c̄)^dt + σ_c·√dt·ξ_t, floor^dt).
    """
    if dt == 1:
        return np.maximum(1.0 + drift + volatility * shock, GROWTH_FACTOR_FLOOR)
    return np.maximum(1.0 + step_rate(drift, dt) + step_noise(volatility, dt) * shock, step_floor(GROWTH_FACTOR_FLOOR, dt))


def passed_cost(log_unit_cost, pass_through):
    """The part of the unit cost passed through to price, κ_t^ψ = exp(ψ·log κ_t). [1]"""
    return np.exp(pass_through * log_unit_cost)


def gross_margin(unit_cost, passed, premium):
    """GM_t = 1 - κ_t^(1-ψ) / (1 + premium_t), with κ^(1-ψ) = κ / κ^ψ. [1]

    Parameters
    ----------
    unit_cost : ndarray
        Unit cost index κ_t, κ_0 = 1. [1]
    passed : ndarray
        κ_t^ψ from :func:`passed_cost`. [1]
    premium : ndarray
        Markup premium over unit cost. [1]
    """
    return 1.0 - unit_cost / passed / (1.0 + premium)


def price_index(passed, premium, premium0):
    """NVIDIA price per compute unit relative to the base year, P_t = κ_t^ψ·(1 + premium_t)/(1 + premium_0). [1]"""
    return passed * (1.0 + premium) / (1.0 + premium0)
