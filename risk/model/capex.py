"""Stage 1: the hyperscaler capex cycle and the accelerator market."""

from __future__ import annotations

import numpy as np

from .clock import step_noise, step_rate


def fade(t, fade_years):
    """Weight of first-year growth in year ``t`` >= 1, exp(-(t-1)/τ). [1]

    Equal to ``fade(t - 1, τ)·fade(2, τ)``, which is how the model carries it year by year.
    """
    return np.exp(-(t - 1) / fade_years)


def capex_growth(fade_t, first, long, volatility, shock, cut, digestion, dt=1.0):
    """Hyperscaler capex growth in a projected step. [1/step]

    g_t = g_inf + (g_1 - g_inf)·exp(-(t-1)/τ_g) + σ_g·ε_t - δ·R_t a year; a step of ``dt``
    years compounds the deterministic part and scales the noise by √dt
    (:mod:`risk.model.clock`).

    Parameters
    ----------
    fade_t : ndarray
        exp(-(t-1)/τ_g), from :func:`fade`. [1]
    first, long : ndarray
        First-year and long-run growth g_1, g_inf. [1/yr]
    volatility : ndarray
        Shock standard deviation σ_g. [1/yr]
    shock : ndarray
        Standard normal shock ε_t.
    cut : ndarray
        Growth lost in a digestion year δ. [1/yr]
    digestion : ndarray
        Digestion state R_t (0 or 1).
    dt : float
        Length of the step. [yr]
    """
    if dt == 1:
        return long + (first - long) * fade_t + volatility * shock - cut * digestion
    return step_rate(long + (first - long) * fade_t - cut * digestion, dt) + step_noise(volatility, dt) * shock


def digestion_probability(previous, utilization_previous, enter, stay, sensitivity, threshold):
    """Probability that year t is a digestion year, given year t-1. [1]

    P(R_t = 1 | R_{t-1} = 1) = p_stay;
    P(R_t = 1 | R_{t-1} = 0) = min(1, p_enter + ζ·max(0, u* - u_{t-1})).
    """
    entry = np.minimum(1.0, enter + sensitivity * np.maximum(0.0, threshold - utilization_previous))
    return previous * stay + (1.0 - previous) * entry  # R_{t-1} is exactly 0 or 1


def digestion_state(probability, uniform):
    """Draw the digestion state R_t (1.0 or 0.0) from its probability and a uniform in [0, 1)."""
    return 1.0 * (uniform < probability)


def next_capex(previous, growth, max_cut, power_cap):
    """C_t = C_{t-1}·clip(1 + g_t, 1 - c_max_cut, 1 + g_power). [USD bn]"""
    return previous * np.minimum(np.maximum(1.0 + growth, 1.0 - max_cut), 1.0 + power_cap)


def accelerator_market(capex, intensity_base, drift_compound):
    """Accelerator spend of all buyers M_t = k_0·(1 + v_k)^t·C_t. [USD bn]

    ``drift_compound`` is (1 + v_k)^t. [1]
    """
    return intensity_base * drift_compound * capex
