"""One number format for every table: margins and probabilities in percent with one decimal,
money in USD bn with one decimal, and a Monte Carlo error at the precision that shows it (one
significant digit, at least one decimal)."""

from __future__ import annotations

import math

__all__ = ["is_fraction", "value", "error", "estimate", "difference"]


def is_fraction(units: str, statistic: str = "") -> bool:
    """Whether a figure reads as a percent: a variable in units of ``1`` (a margin, a share), or
    a probability (a statistic ``P(< x)``) whatever the variable's units."""
    return units == "1" or statistic.startswith("P(")


def _decimals(x: float) -> int:
    """Decimals that show ``x`` (>= 0) to one significant digit: at least 1, at most 6."""
    if not (x > 0 and math.isfinite(x)):
        return 1
    return min(6, max(1, -math.floor(math.log10(x))))


def value(x: float, percent: bool, sign: bool = False) -> str:
    """``73.2%`` or ``1,234.5``; ``-`` for NaN."""
    if not math.isfinite(x):
        return "-"
    plus = "+" if sign else ""
    return f"{100 * x:{plus},.1f}%" if percent else f"{x:{plus},.1f}"


def error(se: float, percent: bool) -> str:
    """A standard error at the precision that shows it: ``0.02%``, ``0.36``, ``0.1%``."""
    if not math.isfinite(se):
        return "-"
    scaled = 100 * se if percent else se
    return f"{scaled:,.{_decimals(scaled)}f}" + ("%" if percent else "")


def estimate(x: float, se: float, percent: bool) -> str:
    """``73.2% ± 0.02%``."""
    return f"{value(x, percent)} ± {error(se, percent)}"


def difference(x: float, se: float, percent: bool) -> str:
    """``+1.3% ± 0.04%`` (a difference of percents is in percentage points)."""
    return f"{value(x, percent, sign=True)} ± {error(se, percent)}"
