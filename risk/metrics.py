"""Statistics of a run's draws with their Monte Carlo standard errors.

Quantile errors come from order statistics: the distribution-free 95% interval
[x_(j), x_(k)], with j, k = n·p ∓ 1.96·sqrt(n·p·(1-p)), has half-width 1.96 standard
errors. Probability errors are binomial, sqrt(p·(1-p)/n); mean errors are sd/sqrt(n);
standard-deviation errors use the fourth moment, se(s²) = sqrt((m4 - s⁴·(n-3)/(n-1))/n),
se(s) = se(s²)/(2s). Expected shortfall errors use the asymptotic variance
[Var(X | tail) + (1-α)·(ES - VaR)²] / (n·α) with α the tail probability (Chen 2008). For
Latin hypercube and Sobol runs these are conservative (those designs have smaller errors).

Value at risk and expected shortfall are stated as levels of the variable, not losses: for
a margin the downside is the lower tail, VaR at 95% is the 5% quantile and expected
shortfall the mean of the draws at or below it; ``tail="upper"`` takes the other side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "mean", "std", "quantile", "prob_below", "prob_above", "value_at_risk", "expected_shortfall"]

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


def std(x) -> Estimate:
    """Sample standard deviation and its standard error from the fourth moment."""
    x = _clean(x)
    n = x.size
    s2 = float(x.var(ddof=1))
    m4 = float(np.mean((x - x.mean()) ** 4))
    se_var = np.sqrt(max(m4 - s2**2 * (n - 3) / (n - 1), 0.0) / n)
    s = np.sqrt(s2)
    return Estimate(float(s), float(se_var / (2 * s)) if s > 0 else 0.0)


def _tail(tail: str, level: float) -> float:
    if tail not in ("lower", "upper"):
        raise ValueError(f"tail must be 'lower' or 'upper', got {tail!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return 1.0 - level


def value_at_risk(x, level: float = 0.95, tail: str = "lower") -> Estimate:
    """The level of ``x`` exceeded with probability ``level`` in the adverse direction.

    ``tail="lower"``: the (1 - level)-quantile; ``"upper"``: the level-quantile.
    """
    alpha = _tail(tail, level)
    return quantile(x, alpha if tail == "lower" else 1.0 - alpha)


def expected_shortfall(x, level: float = 0.95, tail: str = "lower") -> Estimate:
    """Mean of ``x`` beyond its value at risk (in the ``tail``), with its asymptotic error."""
    alpha = _tail(tail, level)
    x = _clean(x)
    q = value_at_risk(x, level, tail).value
    beyond = x[x <= q] if tail == "lower" else x[x >= q]
    es = float(beyond.mean())
    var = float(beyond.var(ddof=1)) if beyond.size > 1 else 0.0
    se = np.sqrt((var + (1 - alpha) * (es - q) ** 2) / (x.size * alpha))
    return Estimate(es, float(se))
