"""Correlated inputs: rank correlations through a Gaussian or t copula.

A scenario's ``correlations`` block names parameters and a target Spearman rank-correlation
matrix. The copula acts on the uniforms every sampling method produces, so the marginals
(each parameter's distribution) are unchanged: normal scores z = Φ^-1(u) of the named
columns are mixed by the Cholesky factor of the Pearson matrix R = 2·sin(π·ρ_S/6) (exact for
the Gaussian copula), then mapped back, u' = Φ(z'), or, for the t copula with ν degrees of
freedom, u' = t_ν(z'·sqrt(ν/χ²_ν)) with one χ² per draw (tail dependence).
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import special

__all__ = ["Correlations", "check_correlation", "nearest_correlation", "apply_copula", "pearson_from_spearman", "achieved"]


class Correlations(BaseModel):
    """The ``correlations`` block of a scenario file."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    parameters: list[str] = Field(min_length=2, description="dotted parameter paths, in matrix order")
    spearman: list[list[float]] = Field(description="target Spearman rank correlations")
    copula: Literal["gaussian", "t"] = "gaussian"
    dof: float = Field(4.0, gt=2, le=1000, description="degrees of freedom of the t copula (above 1000 it is the Gaussian)")
    repair: bool = Field(False, description="replace a matrix that is not a correlation matrix by the nearest one")
    source: str = ""
    note: str = ""


def pearson_from_spearman(rho_s: np.ndarray) -> np.ndarray:
    """Pearson correlation of normal scores with Spearman correlation ρ_S: 2·sin(π·ρ_S/6)."""
    return 2.0 * np.sin(np.pi * np.asarray(rho_s) / 6.0)


def check_correlation(matrix: np.ndarray, names: list[str]) -> list[str]:
    """What makes ``matrix`` not a correlation matrix, as messages ([] if it is one)."""
    m = np.asarray(matrix, dtype=float)
    k = len(names)
    if m.shape != (k, k):
        return [f"must be {k} x {k} (one row and column per parameter), got {m.shape[0]} x {m.shape[1] if m.ndim == 2 else '?'}"]
    problems = []
    if not np.isfinite(m).all():
        problems.append("has entries that are not finite numbers")
        return problems
    bad = np.argwhere(np.abs(m - m.T) > 1e-12)
    if len(bad):
        i, j = bad[0]
        problems.append(f"is not symmetric: [{names[i]}, {names[j]}] = {m[i, j]:g} but [{names[j]}, {names[i]}] = {m[j, i]:g}")
    if not np.allclose(np.diag(m), 1.0):
        i = int(np.flatnonzero(~np.isclose(np.diag(m), 1.0))[0])
        problems.append(f"diagonal must be 1, got {m[i, i]:g} for {names[i]}")
    out = np.argwhere(np.abs(m) > 1)
    if len(out):
        i, j = out[0]
        problems.append(f"entries must lie in [-1, 1], got {m[i, j]:g} for [{names[i]}, {names[j]}]")
    if not problems:
        low = float(np.linalg.eigvalsh(pearson_from_spearman(m)).min())
        if low < -1e-10:
            problems.append(
                f"is not positive semidefinite (smallest eigenvalue {low:.3g}): these correlations cannot hold together; "
                "fix them or set repair: true to use the nearest correlation matrix"
            )
    return problems


def nearest_correlation(matrix: np.ndarray, tol: float = 1e-10, max_iter: int = 1000) -> np.ndarray:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002, alternating projections)."""
    y = np.asarray(matrix, dtype=float).copy()
    ds = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh((r + r.T) / 2)
        x = (v * np.maximum(w, 0)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        if np.linalg.norm(y_new - y) <= tol * np.linalg.norm(y):
            y = y_new
            break
        y = y_new
    w, v = np.linalg.eigh(y)
    y = (v * np.maximum(w, 1e-12)) @ v.T
    d = np.sqrt(np.diag(y))
    return y / np.outer(d, d)


def repaired_spearman(spec: Correlations) -> np.ndarray:
    """The target matrix, repaired to the nearest correlation matrix when asked (with a warning)."""
    m = np.asarray(spec.spearman, dtype=float)
    if spec.repair and check_correlation(m, spec.parameters):
        fixed = nearest_correlation(pearson_from_spearman((m + m.T) / 2))
        repaired = 6.0 / np.pi * np.arcsin(np.clip(fixed / 2.0, -0.5, 0.5))
        warnings.warn(
            f"correlations.spearman is not a correlation matrix; using the nearest one "
            f"(largest change {np.abs(repaired - m).max():.3f})",
            stacklevel=2,
        )
        return repaired
    return m


def apply_copula(uniforms: np.ndarray, spearman: np.ndarray, copula: str = "gaussian", dof: float = 4.0,
                 chi2_uniforms: np.ndarray | None = None) -> np.ndarray:
    """Give the columns of ``uniforms`` the target rank correlation; marginals stay uniform.

    Parameters
    ----------
    uniforms : ndarray, shape (draws, k)
        Independent uniforms in [0, 1).
    spearman : ndarray, shape (k, k)
        Target Spearman correlation matrix.
    copula : {'gaussian', 't'}
    dof : float
        Degrees of freedom of the t copula.
    chi2_uniforms : ndarray, shape (draws,), optional
        Uniforms for the t copula's χ² mixing variable.
    """
    r = pearson_from_spearman(spearman)
    w, v = np.linalg.eigh(r)
    factor = v * np.sqrt(np.maximum(w, 0.0))  # r = factor @ factor.T, also when r is singular
    z = special.ndtri(np.clip(uniforms, 1e-16, 1 - 1e-16)) @ factor.T
    if copula == "gaussian":
        return special.ndtr(z)
    from scipy import stats

    chi2 = stats.chi2.ppf(np.clip(chi2_uniforms, 1e-16, 1 - 1e-16), dof)
    return special.stdtr(dof, z * np.sqrt(dof / chi2)[:, None])


def achieved(values: dict[str, np.ndarray], spec: Correlations) -> "list[tuple[str, str, float, float]]":
    """(parameter a, parameter b, target, achieved Spearman) for each pair of the block."""
    from scipy import stats

    names = spec.parameters
    target = np.asarray(spec.spearman, dtype=float)
    rho = stats.spearmanr(np.column_stack([values[n] for n in names])).statistic
    if np.ndim(rho) == 0:  # two columns: scipy gives the one coefficient, not the matrix
        rho = np.array([[1.0, rho], [rho, 1.0]])
    return [(names[i], names[j], float(target[i, j]), float(rho[i, j])) for i in range(len(names)) for j in range(i + 1, len(names))]
