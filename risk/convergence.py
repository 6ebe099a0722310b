"""Run until a statistic is known well enough: draws grow until its standard error meets a target."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import xarray as xr

from . import metrics
from .scenario import Scenario

__all__ = ["Converged", "simulate_until", "statistic_of"]


def statistic_of(spec: str):
    """The estimator for ``'mean'``, ``'P5'`` (any quantile), ``'below:0.65'`` or ``'above:0.4'``."""
    if spec == "mean":
        return metrics.mean
    m = re.fullmatch(r"P(\d+(?:\.\d+)?)", spec)
    if m and 0 < float(m.group(1)) < 100:
        return lambda x, p=float(m.group(1)) / 100: metrics.quantile(x, p)
    m = re.fullmatch(r"(below|above):(-?\d+(?:\.\d+)?)", spec)
    if m:
        f = metrics.prob_below if m.group(1) == "below" else metrics.prob_above
        return lambda x, t=float(m.group(2)): f(x, t)
    raise ValueError(f"statistic {spec!r} is not one of: mean, P<q> (0 < q < 100), below:<threshold>, above:<threshold>")


@dataclass
class Converged:
    """The final run and how it got there.

    Attributes
    ----------
    run : xarray.Dataset
    estimate : metrics.Estimate
    draws : int
    converged : bool
        False if ``max_draws`` was reached first.
    history : list of (draws, value, se)
    """

    run: xr.Dataset
    estimate: metrics.Estimate
    draws: int
    converged: bool
    history: list


def simulate_until(scenario: Scenario, variable: str, year: int, statistic: str, target_se: float,
                   start: int = 10_000, max_draws: int = 2_000_000, seed: int | None = None, **kw) -> Converged:
    """Simulate with more draws until the standard error of ``statistic`` is at most ``target_se``.

    Each round sets the next number of draws from the error's 1/sqrt(n) scaling (plus 10%),
    with the same seed. With Monte Carlo sampling the first draws of a larger run are those
    of the smaller one; Latin hypercube and Sobol designs are drawn anew for each size.
    """
    from .simulate import simulate

    if target_se <= 0:
        raise ValueError(f"target_se must be > 0, got {target_se}")
    est_fn = statistic_of(statistic)
    n, history = start, []
    while True:
        ds = simulate(scenario, draws=n, seed=seed, **kw)
        est = est_fn(ds[variable].sel(year=year).values)
        history.append((n, est.value, est.se))
        if est.se <= target_se:
            return Converged(ds, est, n, True, history)
        if n >= max_draws:
            warnings.warn(f"{statistic} of {variable}[{year}] has standard error {est.se:.3g} after {n:,} draws, "
                          f"above the target {target_se:.3g}; max_draws reached", stacklevel=2)
            return Converged(ds, est, n, False, history)
        grow = (est.se / target_se) ** 2 * 1.1 if est.se > 0 else 2.0
        n = min(max_draws, max(int(math.ceil(n * grow)), n + 1000))
