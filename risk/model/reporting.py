"""Reporting noise: a quarter's reported figures scatter around the model's path.

Product mix, the timing of shipments and deliveries, and one-off items move a reported
quarter away from the underlying path by amounts that do not persist. The model's state
(what the next step grows from) stays on the path; the outputs carry the noise. The sd
parameters are a quarter's; a step of ``dt`` years averages 4·dt independent quarters, so its
sd is σ·√(1/(4·dt)): σ/2 for a year. σ = 0 is the model without it, exactly.
"""

from __future__ import annotations

import math

import numpy as np


def step_sd(sd, dt: float):
    """A quarter's sd as the sd of a step of ``dt`` years' figure, σ·√(0.25/dt). [1]"""
    return sd if dt == 0.25 else sd * math.sqrt(0.25 / dt)


def flow_factor(sd, shock, dt: float):
    """Multiplier of a reported flow, exp(s·z − s²/2) with s = :func:`step_sd`: mean 1, positive. [1]"""
    s = step_sd(sd, dt)
    return np.exp(s * shock - 0.5 * s * s)


def margin_shift(sd, shock, dt: float):
    """Shift of a reported margin, s·z with s = :func:`step_sd`. [1]"""
    return step_sd(sd, dt) * shock
