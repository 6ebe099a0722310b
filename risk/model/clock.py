"""The model's clock: steps of a year (v1) or a calendar quarter (v2), and exact rate conversion.

Every rate of a scenario is annual. A step of ``dt`` years (1 or 1/4) converts them exactly:

- a growth rate r compounds, (1 + r)^dt - 1 a step (:func:`step_rate`);
- the standard deviation σ of an annual noise becomes σ·√dt a step, independent steps
  (:func:`step_noise`): σ/2 a quarter;
- a yearly probability p of an event becomes 1 - (1 - p)^dt a step (:func:`step_probability`);
- time constants, S-curves and linear paths read the time in decimal years at the step's
  midpoint (:class:`Step`).

With ``dt`` = 1 every conversion returns its argument unchanged, so the annual model is v1.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["Step", "steps", "step_rate", "step_noise", "step_probability", "step_floor", "quarter_label",
           "parse_quarter", "quarter_time"]


class Step(NamedTuple):
    """One projected step of the clock."""

    #: steps since the anchor (1, 2, ...)
    k: int
    #: years since the anchor, k·dt [yr]
    t: float
    #: calendar time of the step in decimal years, on the scale where a calendar year Y is
    #: the number Y (its midpoint): Y for a year, Y - 3/8, Y - 1/8, Y + 1/8, Y + 3/8 for its quarters [yr]
    time: float
    #: calendar year of the step
    year: int
    #: True at the first step of a calendar year (every step of an annual clock)
    year_start: bool
    #: length of a step [yr]
    dt: float


def quarter_time(year: int, quarter: int) -> float:
    """Decimal-year time of calendar quarter ``quarter`` (1-4) of ``year``, Y + (2q - 5)/8. [yr]"""
    return year + (2 * quarter - 5) / 8


def steps(anchor_year: int, anchor_quarter: int | None, count: int) -> list[Step]:
    """The ``count`` projected steps after the anchor.

    Parameters
    ----------
    anchor_year : int
        Calendar year of the anchor (the base year, or the as-of quarter's year).
    anchor_quarter : int or None
        1-4 for a quarterly clock anchored at that quarter; None for an annual clock.
    count : int
        Number of projected steps.
    """
    if anchor_quarter is None:
        return [Step(k, float(k), float(anchor_year + k), anchor_year + k, True, 1.0) for k in range(1, count + 1)]
    out = []
    for k in range(1, count + 1):
        index = anchor_year * 4 + anchor_quarter - 1 + k
        year, quarter = divmod(index, 4)
        out.append(Step(k, k / 4, quarter_time(year, quarter + 1), year, quarter == 0, 0.25))
    return out


def step_rate(rate, dt: float):
    """An annual growth rate as the rate of a step, (1 + r)^dt - 1 (r itself when dt = 1). [1/step]

    A rate below -100% a year has no compounding; it is taken as -100%.
    """
    if dt == 1:
        return rate
    return np.maximum(1.0 + rate, 0.0) ** dt - 1.0


def step_noise(sigma, dt: float):
    """An annual noise's standard deviation over a step of independent steps, σ·√dt. [1/step]"""
    return sigma if dt == 1 else sigma * math.sqrt(dt)


def step_probability(probability, dt: float):
    """A yearly probability of an event as the probability of a step, 1 - (1 - p)^dt. [1]"""
    return probability if dt == 1 else 1.0 - (1.0 - probability) ** dt


def step_floor(floor: float, dt: float) -> float:
    """The smallest growth factor of a step, given the smallest of a year, floor^dt. [1]"""
    return floor if dt == 1 else floor**dt


def quarter_label(year: int, quarter: int) -> str:
    """``2026Q1``."""
    return f"{year}Q{quarter}"


def parse_quarter(label: str) -> tuple[int, int]:
    """(year, quarter) of a label such as ``2026Q1``; ValueError otherwise."""
    text = str(label).strip().upper()
    if len(text) != 6 or text[4] != "Q" or not text[:4].isdigit() or text[5] not in "1234":
        raise ValueError(f"{label!r} is not a calendar quarter such as 2026Q1")
    return int(text[:4]), int(text[5])
