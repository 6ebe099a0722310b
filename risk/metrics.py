"""Statistics of a run's draws with their Monte Carlo standard errors, weighted or not.

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

Every function takes optional draw ``weights`` (for example importance weights after an
update on new data). Weighted statistics are self-normalized; the errors of weighted means
and probabilities use the delta method, sqrt(Σ w_i²·(x_i - m)²) / Σ w_i, and the others the
effective sample size n_eff = (Σ w)² / Σ w² in place of n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "effective_sample_size", "mean", "std", "quantile", "quantiles", "prob_below", "prob_above",
           "value_at_risk", "expected_shortfall"]

_Z = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A statistic and its Monte Carlo standard error, in the variable's units."""

    value: float
    se: float


def _clean(x, weights=None) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.asarray(x, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("no draws")
    if weights is None:
        return x, None
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise ValueError(f"weights has {w.size} entries but there are {x.size} draws")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return x, w / w.sum()


def effective_sample_size(weights) -> float:
    """(Σ w)² / Σ w²: the number of equally weighted draws worth as much. [draws]"""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2))


def mean(x, weights=None) -> Estimate:
    """Sample mean and its standard error."""
    x, w = _clean(x, weights)
    if w is None:
        return Estimate(float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan"))
    m = float(np.sum(w * x))
    return Estimate(m, float(np.sqrt(np.sum(w**2 * (x - m) ** 2))))


def std(x, weights=None) -> Estimate:
    """Sample standard deviation and its standard error from the fourth moment."""
    x, w = _clean(x, weights)
    if w is None:
        n, s2 = x.size, float(x.var(ddof=1))
        m4 = float(np.mean((x - x.mean()) ** 4))
    else:
        n = effective_sample_size(w)
        m = np.sum(w * x)
        s2 = float(np.sum(w * (x - m) ** 2))
        m4 = float(np.sum(w * (x - m) ** 4))
    se_var = np.sqrt(max(m4 - s2**2 * (n - 3) / (n - 1), 0.0) / n)
    s = np.sqrt(s2)
    return Estimate(float(s), float(se_var / (2 * s)) if s > 0 else 0.0)


def _weighted_quantile(sorted_x: np.ndarray, cum: np.ndarray, p: float) -> float:
    """Quantile from values in increasing order and their cumulative weights at mid-steps."""
    return float(np.interp(p, cum, sorted_x))


def quantile(x, p: float, weights=None) -> Estimate:
    """The p-quantile and its order-statistics standard error."""
    return quantiles(x, [p], weights)[0]


def quantiles(x, probs, weights=None) -> list[Estimate]:
    """:func:`quantile` at each of ``probs``, sorting the draws once."""
    for p in probs:
        if not 0 < p < 1:
            raise ValueError(f"p must be in (0, 1), got {p}")
    x, w = _clean(x, weights)
    if w is None:
        x = np.sort(x)
        n = x.size
        out = []
        for p in probs:
            half = _Z * np.sqrt(n * p * (1 - p))
            j = int(np.clip(np.floor(n * p - half), 0, n - 1))
            k = int(np.clip(np.ceil(n * p + half), 0, n - 1))
            out.append(Estimate(float(np.quantile(x, p, method="linear")), float((x[k] - x[j]) / (2 * _Z))))
        return out
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws) - ws / 2
    n = effective_sample_size(w)
    out = []
    for p in probs:
        half = _Z * np.sqrt(p * (1 - p) / n)
        lo, hi = _weighted_quantile(xs, cum, max(p - half, 0.0)), _weighted_quantile(xs, cum, min(p + half, 1.0))
        out.append(Estimate(_weighted_quantile(xs, cum, p), float((hi - lo) / (2 * _Z))))
    return out


def prob_below(x, threshold: float, weights=None) -> Estimate:
    """P(x < threshold) and its standard error."""
    x, w = _clean(x, weights)
    return _prob(x < threshold, w)


def prob_above(x, threshold: float, weights=None) -> Estimate:
    """P(x > threshold) and its standard error."""
    x, w = _clean(x, weights)
    return _prob(x > threshold, w)


def _prob(hit: np.ndarray, w) -> Estimate:
    if w is None:
        p = float(hit.mean())
        return Estimate(p, float(np.sqrt(p * (1 - p) / hit.size)))
    p = float(np.sum(w * hit))
    return Estimate(p, float(np.sqrt(np.sum(w**2 * (hit - p) ** 2))))


def _tail(tail: str, level: float) -> float:
    if tail not in ("lower", "upper"):
        raise ValueError(f"tail must be 'lower' or 'upper', got {tail!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return 1.0 - level


def value_at_risk(x, level: float = 0.95, tail: str = "lower", weights=None) -> Estimate:
    """The level of ``x`` exceeded with probability ``level`` in the adverse direction.

    ``tail="lower"``: the (1 - level)-quantile; ``"upper"``: the level-quantile.
    """
    alpha = _tail(tail, level)
    return quantile(x, alpha if tail == "lower" else 1.0 - alpha, weights)


def expected_shortfall(x, level: float = 0.95, tail: str = "lower", weights=None) -> Estimate:
    """Mean of ``x`` beyond its value at risk (in the ``tail``), with its asymptotic error."""
    alpha = _tail(tail, level)
    x, w = _clean(x, weights)
    q = value_at_risk(x, level, tail, w).value
    beyond = (x <= q) if tail == "lower" else (x >= q)
    if w is None:
        es = float(x[beyond].mean())
        var = float(x[beyond].var(ddof=1)) if beyond.sum() > 1 else 0.0
        n = x.size
    else:
        wb = w[beyond] / w[beyond].sum()
        es = float(np.sum(wb * x[beyond]))
        var = float(np.sum(wb * (x[beyond] - es) ** 2))
        n = effective_sample_size(w)
    se = np.sqrt((var + (1 - alpha) * (es - q) ** 2) / (n * alpha))
    return Estimate(es, float(se))
