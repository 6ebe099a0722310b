"""Stage 2: ASIC adoption, the share of new compute units deployed on ASICs."""

from __future__ import annotations

from scipy.special import expit as logistic  # Λ(x) = 1 / (1 + exp(-x)). [1]


def s_curve_anchor(base_year, midpoint, steepness):
    """The logistic in the base year, Λ(k·(Y_0 - y_mid)). [1]"""
    return logistic(steepness * (base_year - midpoint))


def s_curve(year, start, ceiling, midpoint, steepness, anchor):
    """Anchored S-curve of the ASIC share from ``start`` in the base year towards ``ceiling``. [1]

    s(t) = s0 + (S - s0)·(Λ(k·(Y_t - y_mid)) - Λ(k·(Y_0 - y_mid))) / (1 - Λ(k·(Y_0 - y_mid)))

    Parameters
    ----------
    year : int
        Calendar year Y_t.
    start, ceiling : float or ndarray
        Base-year share s0 and long-run ceiling S. [1]
    midpoint : float or ndarray
        Calendar year of the logistic's midpoint y_mid. [year]
    steepness : float or ndarray
        Logistic steepness k. [1/yr]
    anchor : float or ndarray
        Λ(k·(Y_0 - y_mid)), from :func:`s_curve_anchor`. [1]
    """
    return start + (ceiling - start) * (logistic(steepness * (year - midpoint)) - anchor) / (1.0 - anchor)


def aggregate_share(inference_share, share_inference, share_training):
    """ASIC share of new compute units s_t = φ_t·s_inf,t + (1 - φ_t)·s_tr,t. [1]"""
    return inference_share * share_inference + (1.0 - inference_share) * share_training
