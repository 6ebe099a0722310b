"""Stage 5: NVIDIA's revenue and margins."""

from __future__ import annotations


def gpu_share(t, horizon, start, end):
    """NVIDIA share of merchant GPU spend, linear from n_0 to n_H. [1]"""
    return start + (end - start) * t / horizon


def compound(previous, growth):
    """One more year of compound growth, previous·(1 + g).

    Carried year by year for every (1 + g)^t of the model: opex O_t, other-segment revenue
    R_o,t, hardware progress (1 + h)^t, and the like. [units of previous]
    """
    return previous * (1.0 + growth)


def reported_gross_margin(gross_margin, one_off_charges, revenue):
    """Gross margin after one-off charges in cost of revenue, GM_t - X_t/R_t. [1]

    X_t is a reported charge (the base year's H20 charge); it is 0 in projected years, where
    this is the gross margin of stage 3.
    """
    return gross_margin - one_off_charges / revenue


def operating_margin(gross_margin, opex, revenue):
    """OM_t = GM_t - O_t / R_t. [1]"""
    return gross_margin - opex / revenue


def one_off_charge(probability, size, uniform):
    """One-off charge in cost of revenue in a year, as a share of its revenue, x_X·B_t. [1]

    B_t = 1 when the year's uniform falls below the yearly probability p_X (a charge such as
    FY2026's 4.5 bn H20 write-down), else 0.
    """
    return size * (uniform < probability)
