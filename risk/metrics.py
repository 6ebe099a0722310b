"""Statistics of a run's draws with their Monte Carlo standard errors.

Quantile errors come from order statistics: the distribution-free 95% interval
[x_(j), x_(k)], with j, k = n·p ∓ 1.96·sqrt(n·p·(1-p)), has half-width 1.96 standard
errors. Probability errors are binomial, sqrt(p·(1-p)/n); mean errors are sd/sqrt(n). For
Latin hypercube and Sobol runs these are conservative (those designs have smaller errors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "mean", "quantile", "prob_below", "prob_above"]

_Z = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A statistic and its Monte Carlo standard error, in the variable's units."""

    value: float
    se: float


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("no draws")
    return x


def mean(x) -> Estimate:
    """Sample mean and its standard error sd/sqrt(n)."""
    x = _clean(x)
    return Estimate(float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan"))


def quantile(x, p: float) -> Estimate:
    """The p-quantile and its order-statistics standard error."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    x = np.sort(_clean(x))
    n = x.size
    half = _Z * np.sqrt(n * p * (1 - p))
    j = int(np.clip(np.floor(n * p - half), 0, n - 1))
    k = int(np.clip(np.ceil(n * p + half), 0, n - 1))
    return Estimate(float(np.quantile(x, p)), float((x[k] - x[j]) / (2 * _Z)))


def prob_below(x, threshold: float) -> Estimate:
    """P(x < threshold) and its binomial standard error."""
    x = _clean(x)
    p = float((x < threshold).mean())
    return Estimate(p, float(np.sqrt(p * (1 - p) / x.size)))


def prob_above(x, threshold: float) -> Estimate:
    """P(x > threshold) and its binomial standard error."""
    x = _clean(x)
    p = float((x > threshold).mean())
    return Estimate(p, float(np.sqrt(p * (1 - p) / x.size)))
