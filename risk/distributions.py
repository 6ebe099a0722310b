"""Probability distributions of scenario parameters.

Each distribution is a small pydantic model, written in a scenario file as a mapping with a
``dist`` key, either its natural parameters or a 90% interval (``ci90: [lo, hi]``, the 5th
and 95th percentiles), and the ``source`` and ``note`` an analyst can read::

    ceiling:
      dist: pert
      mode: 0.5
      ci90: [0.35, 0.65]
      source: Epoch AI via CALIBRATION.md
      note: about half of inference compute on ASICs by 2030

Every distribution maps uniforms ``u`` in [0, 1) to values through its inverse CDF
(:meth:`Distribution.ppf`). Closed forms are used where they exist. Beta, PERT and
truncated normal use :class:`TabulatedPPF`, a table of the exact scipy inverse CDF that is
checked against it when built and evaluated exactly in the far tails.
"""

from __future__ import annotations

import functools
import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from scipy import special

from .streams import BLOCK

__all__ = [
    "Distribution",
    "DISTRIBUTIONS",
    "DistributionSpec",
    "TabulatedPPF",
    "Fixed",
    "Normal",
    "LogNormal",
    "Uniform",
    "Triangular",
    "Pert",
    "Beta",
    "TruncNormal",
    "Choice",
    "Bernoulli",
]

CI90_PROBS = (0.05, 0.95)
_Z95 = float(special.ndtri(0.95))
_FIT_TOL = 1e-7


def _fit(residual, x0, what: str):
    """Solve ``residual(x) = 0`` for the two parameters of a ci90 fit, or raise ValueError."""
    from scipy import optimize

    try:
        sol = optimize.least_squares(residual, x0, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000)
        fits = np.all(np.isfinite(sol.x)) and np.max(np.abs(residual(sol.x))) <= _FIT_TOL
    except (OverflowError, FloatingPointError, ZeroDivisionError, ValueError):
        fits = False  # an interval so wide or far that the fit overflows
    if not fits:
        raise ValueError(f"no {what} has this 90% interval")
    return tuple(float(v) for v in sol.x)


def _triangular_cdf(x, a, m, b):
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    return (x - a) ** 2 / ((b - a) * (m - a)) if x <= m else 1.0 - (b - x) ** 2 / ((b - a) * (b - m))


def _pert_cdf(x, a, m, b, lam):
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    return float(special.betainc(1 + lam * (m - a) / (b - a), 1 + lam * (b - m) / (b - a), (x - a) / (b - a)))


@functools.lru_cache(maxsize=1024)
def _fit_mode_bounded(kind: str, mode: float, lo: float, hi: float, shape: float) -> tuple[float, float]:
    """(min, max) of a triangular or PERT with ``mode`` whose 5th and 95th percentiles are lo, hi."""
    w = hi - lo
    left, right = min(lo, mode), max(hi, mode)

    def bounds(x):
        return left - w * math.exp(x[0]), right + w * math.exp(x[1])

    def cdf(x, a, b):
        return _triangular_cdf(x, a, mode, b) if kind == "triangular" else _pert_cdf(x, a, mode, b, shape)

    def residual(x):
        a, b = bounds(x)
        return [cdf(lo, a, b) - CI90_PROBS[0], cdf(hi, a, b) - CI90_PROBS[1]]

    return bounds(_fit(residual, [math.log(0.3), math.log(0.3)], f"{kind} with mode {mode:g}"))


@functools.lru_cache(maxsize=1024)
def _fit_beta(lo: float, hi: float, low: float, high: float) -> tuple[float, float]:
    """Shapes (a, b) of a beta on [low, high] whose 5th and 95th percentiles are lo, hi."""
    scale = high - low
    m, s = ((lo + hi) / 2 - low) / scale, (hi - lo) / (2 * _Z95) / scale
    k = max(m * (1 - m) / s**2 - 1, 0.5)
    ulo, uhi = (lo - low) / scale, (hi - low) / scale

    def residual(x):
        a, b = math.exp(x[0]), math.exp(x[1])
        return [special.betainc(a, b, ulo) - CI90_PROBS[0], special.betainc(a, b, uhi) - CI90_PROBS[1]]

    x = _fit(residual, [math.log(m * k), math.log((1 - m) * k)], "beta on [min, max]")
    return math.exp(x[0]), math.exp(x[1])


@functools.lru_cache(maxsize=1024)
def _fit_truncnormal(lo: float, hi: float, lower: float, upper: float) -> tuple[float, float]:
    """(mean, sd) of a normal truncated to [lower, upper] whose 5th and 95th percentiles are lo, hi."""

    def cdf(x, mean, sd):
        a, b = special.ndtr((lower - mean) / sd), special.ndtr((upper - mean) / sd)
        return (special.ndtr((x - mean) / sd) - a) / (b - a)

    def residual(x):
        sd = math.exp(x[1])
        return [cdf(lo, x[0], sd) - CI90_PROBS[0], cdf(hi, x[0], sd) - CI90_PROBS[1]]

    mean, log_sd = _fit(residual, [(lo + hi) / 2, math.log((hi - lo) / (2 * _Z95))], "truncated normal on [lower, upper]")
    return mean, math.exp(log_sd)


class TabulatedPPF:
    """Inverse CDF from tables of exact values: cubic Hermite between nodes, nested in the tails.

    The body is a table of ``cells`` cells on [0, 1] less ``tail`` cells at each end: nodes
    at ``u = k / cells`` for ``tail <= k <= cells - tail``, with the exact value ``ppf(u)``
    and slope ``1 / pdf(ppf(u))``. Each end left over, of width ``w = tail / cells``, is
    itself a table of ``cells`` cells on [0, w) (on [1 - w, 1) at the top) less its own
    ``tail`` outer cells, and so on ``levels`` deep; a query beyond the last level
    (``u < (tail / cells) ** (levels + 1)`` or as near 1; below 5e-7 by default) is
    evaluated with the exact ``ppf``. Nodes are binary fractions, so every node and every
    cell of a query is exact. The ends need their own finer tables because the inverse
    CDF of a beta is a power of u near 0 and of 1 - u near 1, steep in a cell of the body.

    When built, each table is checked against the exact function at every cell's midpoint:
    the body raises ``ValueError`` if its largest error exceeds ``rtol`` times the
    distribution's 1%-99% range (callers then use the exact function); a tail level that
    fails is left out, and the exact function serves from there outward.

    Parameters
    ----------
    ppf, pdf : callable
        Exact inverse CDF and density, vectorized.
    cells : int
        Cells of each table, a power of 2.
    tail : int
        Outer cells of each table left to the next level, a power of 2 below ``cells``.
    levels : int
        Tail levels at each end.
    rtol : float
        Largest error allowed, relative to the 1%-99% range.

    Attributes
    ----------
    coef : ndarray, shape (4, cells - 2·tail + 2·levels·(cells - tail))
        Cubic coefficients by cell: the body, then each level below, then each level above.
    levels : int
        Tail levels kept (at most the ``levels`` asked for).
    max_error : float
        Largest error found at the cell midpoints, relative to the 1%-99% range.
    """

    def __init__(self, ppf, pdf, cells: int = 1 << 10, tail: int = 8, levels: int = 2, rtol: float = 1e-6):
        if cells & (cells - 1) or tail & (tail - 1) or not 0 < tail < cells // 2:
            raise ValueError(f"cells and tail must be powers of 2 with tail < cells / 2, got {cells} and {tail}")
        self.ppf, self.cells, self.tail = ppf, cells, tail
        spread = float(ppf(0.99) - ppf(0.01)) or 1.0
        body, self.max_error = self._cells(ppf, pdf, np.arange(tail, cells - tail + 1) / cells, 1.0 / cells, spread)
        if not np.isfinite(self.max_error) or self.max_error > rtol:
            raise ValueError(f"table error {self.max_error:.2e} exceeds {rtol:.0e}")
        lower, upper = [], []
        width = tail / cells  # of the end left to the next level
        for _ in range(levels):
            h = width / cells
            below, err_lo = self._cells(ppf, pdf, np.arange(tail, cells + 1) * h, h, spread)
            above, err_hi = self._cells(ppf, pdf, (1.0 - width) + np.arange(0, cells - tail + 1) * h, h, spread)
            err = max(err_lo, err_hi)
            if not np.isfinite(err) or err > rtol:
                break
            lower.append(below)
            upper.append(above)
            self.max_error = max(self.max_error, err)
            width *= tail / cells
        self.levels = len(lower)
        self.coef = np.concatenate([body, *lower, *upper], axis=1)

    @staticmethod
    def _cells(ppf, pdf, u, h, spread):
        """Cubic coefficients (4, len(u) - 1) between nodes ``u`` (step ``h``) and their largest
        error at the midpoints, relative to ``spread``."""
        x = ppf(u)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = h / pdf(x)
        x0, x1, m0, m1 = x[:-1], x[1:], m[:-1], m[1:]
        # x(s) = a + s·(b + s·(c + s·d)) on each cell, s in [0, 1)
        coef = np.stack([x0, m0, 3 * (x1 - x0) - 2 * m0 - m1, 2 * (x0 - x1) + m0 + m1])
        mid = x0 + 0.5 * (m0 + 0.5 * (coef[2] + 0.5 * coef[3]))
        return coef, float(np.max(np.abs(mid - ppf(u[:-1] + 0.5 * h)))) / spread

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        out = np.empty_like(u)
        self.into(u.ravel(), out.ravel())
        return out

    def into(self, u: np.ndarray, out: np.ndarray) -> None:
        """``out[:] = ppf(u)`` for 1-D float64 arrays; ``out`` may be ``u`` itself.

        A whole block of draws (:data:`risk.streams.BLOCK` or more) is evaluated by the
        compiled loop :func:`risk.compiled.hermite_into`, the same numbers four times as fast.
        """
        cells, tail, levels, coef = self.cells, self.tail, self.levels, self.coef
        if u.size >= BLOCK and u.dtype == np.float64 and out.dtype == np.float64:
            from .compiled import hermite_into

            exact = np.empty(u.size, dtype=np.intp)
            k = hermite_into(u, coef, cells, tail, levels, out, exact)
            if k:
                out[exact[:k]] = self.ppf(u[exact[:k]])
            return
        ratio = tail / cells  # a power of 2: every bound below is exact
        body, level = cells - 2 * tail, cells - tail  # cells in the body and in a tail level
        scaled = u * cells
        with np.errstate(invalid="ignore"):  # a NaN takes some cell and stays NaN
            cell = np.clip(scaled.astype(np.intp), tail, cells - tail - 1)  # floor, for u >= 0
        j = cell - tail
        s = scaled - cell
        ends = np.flatnonzero((u < ratio) | (u >= 1.0 - ratio))
        exact = ends[:0]
        if ends.size:
            # level l covers [ratio^(l+1), ratio^l) below and [1 - ratio^l, 1 - ratio^(l+1)) above
            x = u[ends]
            low, left = x < ratio, np.ones(len(x), dtype=bool)
            jj, ss = np.zeros(len(x), dtype=np.intp), np.zeros(len(x))
            w = ratio
            for lv in range(levels):
                h = w / cells
                below = left & low & (x >= w * ratio)
                above = left & ~low & (x < 1.0 - w * ratio)
                sc = x[below] / h
                c = np.fmin(np.fmax(np.floor(sc), tail), cells - 1)
                jj[below], ss[below] = body + lv * level + (c - tail).astype(np.intp), sc - c
                sc = (x[above] - (1.0 - w)) / h
                c = np.fmin(np.fmax(np.floor(sc), 0), level - 1)
                jj[above], ss[above] = body + (levels + lv) * level + c.astype(np.intp), sc - c
                left &= ~(below | above)
                w *= ratio
            j[ends[~left]], s[ends[~left]] = jj[~left], ss[~left]
            exact = ends[left]
        x = u[exact]  # read before out is written: out may be u
        a, b, c, d = (coef[k].take(j) for k in range(4))
        out[...] = a + s * (b + s * (c + s * d))
        if exact.size:  # beyond the last level: the exact function
            out[exact] = self.ppf(x)


@functools.lru_cache(maxsize=256)
def _table(kind: str, args: tuple[float, ...]) -> TabulatedPPF | None:
    """Cached :class:`TabulatedPPF` of a scipy distribution, or None if it fails its check."""
    ppf, pdf = _exact(kind, args)
    try:
        return TabulatedPPF(ppf, pdf)
    except ValueError:
        return None


def _exact(kind: str, args: tuple[float, ...]):
    """The exact inverse CDF and density of ``scipy.stats.<kind>(*args)``.

    For the beta (and so the PERT) they come from ``scipy.special`` directly: the same
    ``betaincinv`` scipy.stats calls, without its per-call argument checks, and the density
    z^(a-1)·(1-z)^(b-1)/B(a, b) in logs; a run of beta and PERT parameters then never imports
    scipy.stats (half a second in every process).
    """
    if kind == "beta":
        a, b, loc, scale = args

        def ppf(q):
            return loc + scale * special.betaincinv(a, b, q)

        def pdf(x):
            z = (np.asarray(x, dtype=float) - loc) / scale
            with np.errstate(divide="ignore", invalid="ignore"):
                log = special.xlogy(a - 1.0, z) + special.xlog1py(b - 1.0, -z) - special.betaln(a, b)
            return np.where((z >= 0) & (z <= 1), np.exp(log), 0.0) / scale

        return ppf, pdf
    from scipy import stats

    frozen = getattr(stats, kind)(*args)
    return frozen.ppf, frozen.pdf


class Distribution(BaseModel):
    """Common fields and behaviour of all distributions."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # every number finite

    source: str = Field(min_length=1, description="where the figure comes from")
    note: str = Field(min_length=1, description="the rationale an analyst can read")
    ci90: tuple[float, float] | None = Field(None, description="5th and 95th percentiles")

    _natural: tuple[str, ...] = ()
    _ci90_needs: tuple[str, ...] = ()
    _ci90_allowed: bool = True

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_numbers(cls, data):
        """A number written as text ("0.5") or a yes/no (true) is refused, not read as a number."""
        if isinstance(data, dict):
            for key, value in data.items():
                if key in ("dist", "source", "note"):
                    continue
                for v in value if isinstance(value, (list, tuple)) else [value]:
                    if isinstance(v, bool) or isinstance(v, str):
                        kind = "true/false" if isinstance(v, bool) else "text"
                        raise ValueError(f"{key} must be a number, not {kind} ({v!r}); write it as a number, such as 0.5")
        return data

    @field_validator("ci90")
    @classmethod
    def _ci90_ordered(cls, v):
        if v is not None and not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"ci90 must be two finite numbers [lo, hi] with lo < hi, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _natural_or_ci90(self):
        given = [k for k in self._natural if getattr(self, k) is not None]
        if self.ci90 is not None:
            if not self._ci90_allowed:
                raise ValueError(f"ci90 is not allowed for dist '{self.dist}'; give {', '.join(self._natural)}")
            extra = [k for k in given if k not in self._ci90_needs]
            if extra:
                raise ValueError(
                    f"give either ci90 or the natural parameters ({', '.join(self._natural)}), "
                    f"not both: {', '.join(extra)} given with ci90"
                )
            missing = [k for k in self._ci90_needs if getattr(self, k) is None]
            if missing:
                raise ValueError(f"dist '{self.dist}' with ci90 also needs {', '.join(missing)}")
            self._fit_ci90(*self.ci90)
        else:
            missing = [k for k in self._natural if getattr(self, k) is None and k not in self._optional()]
            if missing:
                raise ValueError(
                    f"dist '{self.dist}' needs {', '.join(missing)}"
                    + (" (or ci90: [lo, hi])" if self._ci90_allowed else "")
                )
        self._check()
        return self

    @classmethod
    def _optional(cls) -> tuple[str, ...]:
        return ()

    def _fit_ci90(self, lo: float, hi: float) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check(self) -> None:
        """Raise ValueError if the natural parameters are impossible."""

    # --- behaviour ---------------------------------------------------------------
    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can take."""
        raise NotImplementedError

    def frozen(self):
        """The equivalent frozen scipy.stats distribution (for checks and plots)."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at ``u`` in [0, 1), vectorized. Units of the parameter."""
        return self._frozen_once().ppf(u)

    def ppf_into(self, u: np.ndarray, out: np.ndarray) -> None:
        """``out[:] = ppf(u)``, the same numbers; ``out`` may be ``u`` itself (1-D float64 arrays)."""
        out[...] = self.ppf(u)


    _frozen_memo: object = PrivateAttr(None)

    def _frozen_once(self):
        """:meth:`frozen`, built once per distribution (building a scipy distribution is slow)."""
        if self._frozen_memo is None:
            self._frozen_memo = self.frozen()
        return self._frozen_memo

    @property
    def is_fixed(self) -> bool:
        """True if the distribution is a point mass."""
        lo, hi = self.support()
        return lo == hi

    def is_integer_valued(self) -> bool:
        """True if every value the distribution can take is a whole number."""
        return False

    def describe(self) -> str:
        """One-line summary: the distribution with its resolved parameters."""
        fields = {k: getattr(self, k) for k in self._natural if getattr(self, k, None) is not None}
        text = ", ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
        if self.ci90 is not None:
            text += f" (from ci90 [{_fmt(self.ci90[0])}, {_fmt(self.ci90[1])}])"
        return f"{self.dist}({text})"


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


class Fixed(Distribution):
    """A point mass: always ``value``."""

    dist: Literal["fixed"]
    value: float | None = None
    _natural = ("value",)
    _ci90_allowed = False

    def support(self):
        return (self.value, self.value)

    def frozen(self):
        from scipy import stats

        return stats.randint(int(self.value), int(self.value) + 1) if self.is_integer_valued() else stats.uniform(self.value, 0.0)

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=float)

    def ppf_into(self, u, out):
        out.fill(self.value)


    def is_integer_valued(self):
        return float(self.value).is_integer()

    def _check(self):
        if not math.isfinite(self.value):
            raise ValueError(f"value must be finite, got {self.value}")


class Normal(Distribution):
    """Normal with ``mean`` and standard deviation ``sd``."""

    dist: Literal["normal"]
    mean: float | None = None
    sd: float | None = None
    _natural = ("mean", "sd")

    def _fit_ci90(self, lo, hi):
        self.mean, self.sd = (lo + hi) / 2, (hi - lo) / (2 * _Z95)

    def _check(self):
        if not self.sd > 0:
            raise ValueError(f"sd must be > 0, got {self.sd}")

    def support(self):
        return (-math.inf, math.inf)

    def frozen(self):
        from scipy import stats

        return stats.norm(self.mean, self.sd)

    def ppf(self, u):
        return self.mean + self.sd * special.ndtri(u)

    def ppf_into(self, u, out):
        special.ndtri(u, out=out)
        out *= self.sd
        out += self.mean


class LogNormal(Distribution):
    """Lognormal: ``log(x)`` is normal with mean ``mu`` and standard deviation ``sigma``."""

    dist: Literal["lognormal"]
    mu: float | None = None
    sigma: float | None = None
    _natural = ("mu", "sigma")

    def _fit_ci90(self, lo, hi):
        if lo <= 0:
            raise ValueError(f"a lognormal's ci90 must be positive, got [{lo}, {hi}]")
        self.mu, self.sigma = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * _Z95)

    def _check(self):
        if not self.sigma > 0:
            raise ValueError(f"sigma must be > 0, got {self.sigma}")

    def support(self):
        return (0.0, math.inf)

    def frozen(self):
        from scipy import stats

        return stats.lognorm(self.sigma, scale=math.exp(self.mu))

    def ppf(self, u):
        return np.exp(self.mu + self.sigma * special.ndtri(u))

    def ppf_into(self, u, out):
        special.ndtri(u, out=out)
        out *= self.sigma
        out += self.mu
        np.exp(out, out=out)


class Uniform(Distribution):
    """Uniform on [``min``, ``max``]."""

    dist: Literal["uniform"]
    min: float | None = None
    max: float | None = None
    _natural = ("min", "max")

    def _fit_ci90(self, lo, hi):
        width = (hi - lo) / 0.9
        self.min, self.max = lo - 0.05 * width, hi + 0.05 * width

    def _check(self):
        if not self.min < self.max:
            raise ValueError(f"min must be < max, got min={self.min}, max={self.max}")

    def support(self):
        return (self.min, self.max)

    def frozen(self):
        from scipy import stats

        return stats.uniform(self.min, self.max - self.min)

    def ppf(self, u):
        return self.min + (self.max - self.min) * np.asarray(u, dtype=float)

    def ppf_into(self, u, out):
        np.multiply(u, self.max - self.min, out=out)
        out += self.min


class _Tabulated:
    """Inverse CDF from the cached table of a scipy distribution (:class:`TabulatedPPF`);
    subclasses name it with ``_table_spec() -> (kind, args)``."""

    def ppf(self, u):
        return _tabulated(*self._table_spec(), u)

    def ppf_into(self, u, out):
        kind, args = self._table_spec()
        table = _table(kind, tuple(float(a) for a in args))
        if table is None:
            out[...] = self.ppf(u)
        else:
            table.into(u, out)


class _ModeBounded(Distribution):
    """Distributions on [min, max] with a mode, fitted to a ci90 given the mode."""

    min: float | None = None
    mode: float | None = None
    max: float | None = None
    _natural = ("min", "mode", "max")
    _ci90_needs = ("mode",)

    def _fit_ci90(self, lo, hi):
        self.min, self.max = _fit_mode_bounded(self.dist, float(self.mode), lo, hi, float(getattr(self, "shape", 4.0)))

    def _check(self):
        if not self.min <= self.mode <= self.max or not self.min < self.max:
            raise ValueError(
                f"need min <= mode <= max with min < max, got min={_fmt(self.min)}, mode={_fmt(self.mode)}, max={_fmt(self.max)}"
            )

    def support(self):
        return (self.min, self.max)

    def frozen(self):
        return self._frozen_of(self.min, self.mode, self.max)


class Triangular(_ModeBounded):
    """Triangular on [``min``, ``max``] with peak at ``mode``."""

    dist: Literal["triangular"]

    @staticmethod
    def _frozen_of(a, m, b):
        from scipy import stats

        return stats.triang((m - a) / (b - a), loc=a, scale=b - a)

    def ppf(self, u):
        a, m, b = self.min, self.mode, self.max
        u = np.asarray(u, dtype=float)
        c = (m - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (m - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - m))
        return np.where(u < c, left, right)


class Pert(_Tabulated, _ModeBounded):
    """PERT: a beta on [``min``, ``max``] with mode ``mode``, weight ``shape`` (4) on the mode."""

    dist: Literal["pert"]
    shape: float = 4.0

    def _frozen_of(self, a, m, b):
        from scipy import stats

        lam = self.shape
        return stats.beta(1 + lam * (m - a) / (b - a), 1 + lam * (b - m) / (b - a), loc=a, scale=b - a)

    def _check(self):
        super()._check()
        if not self.shape > 0:
            raise ValueError(f"shape must be > 0, got {self.shape}")

    def _table_spec(self):
        a, m, b, lam = self.min, self.mode, self.max, self.shape
        return "beta", (1 + lam * (m - a) / (b - a), 1 + lam * (b - m) / (b - a), a, b - a)


class Beta(_Tabulated, Distribution):
    """Beta with shapes ``a`` and ``b`` on [``min``, ``max``] (default [0, 1])."""

    dist: Literal["beta"]
    a: float | None = None
    b: float | None = None
    min: float = 0.0
    max: float = 1.0
    _natural = ("a", "b")
    _ci90_needs = ()

    def _fit_ci90(self, lo, hi):
        if not self.min < lo < hi < self.max:
            raise ValueError(f"ci90 [{lo:g}, {hi:g}] must lie inside (min, max) = ({self.min:g}, {self.max:g})")
        self.a, self.b = _fit_beta(lo, hi, float(self.min), float(self.max))

    def _check(self):
        if not (self.a > 0 and self.b > 0):
            raise ValueError(f"a and b must be > 0, got a={self.a}, b={self.b}")
        if not self.min < self.max:
            raise ValueError(f"min must be < max, got min={self.min}, max={self.max}")

    def support(self):
        return (self.min, self.max)

    def frozen(self):
        from scipy import stats

        return stats.beta(self.a, self.b, loc=self.min, scale=self.max - self.min)

    def _table_spec(self):
        return "beta", (self.a, self.b, self.min, self.max - self.min)


class TruncNormal(_Tabulated, Distribution):
    """Normal with ``mean`` and ``sd`` truncated to [``lower``, ``upper``]."""

    dist: Literal["truncnormal"]
    mean: float | None = None
    sd: float | None = None
    lower: float = -math.inf
    upper: float = math.inf
    _natural = ("mean", "sd")
    _ci90_needs = ()

    def _fit_ci90(self, lo, hi):
        if not self.lower < lo < hi < self.upper:
            raise ValueError(f"ci90 [{lo:g}, {hi:g}] must lie inside (lower, upper) = ({self.lower:g}, {self.upper:g})")
        self.mean, self.sd = _fit_truncnormal(lo, hi, float(self.lower), float(self.upper))

    def _check(self):
        if not self.sd > 0:
            raise ValueError(f"sd must be > 0, got {self.sd}")
        if not self.lower < self.upper:
            raise ValueError(f"lower must be < upper, got lower={self.lower}, upper={self.upper}")
        mass = special.ndtr((self.upper - self.mean) / self.sd) - special.ndtr((self.lower - self.mean) / self.sd)
        if not mass > 1e-12:
            raise ValueError(
                f"[lower, upper] = [{self.lower}, {self.upper}] holds no probability of normal(mean={self.mean}, sd={self.sd})"
            )

    def _frozen_of(self, mean, sd):
        from scipy import stats

        return stats.truncnorm((self.lower - mean) / sd, (self.upper - mean) / sd, loc=mean, scale=sd)

    def support(self):
        return (self.lower, self.upper)

    def frozen(self):
        return self._frozen_of(self.mean, self.sd)

    def _table_spec(self):
        return "truncnorm", (*self._frozen_once().args, self.mean, self.sd)


class Choice(Distribution):
    """Discrete choice among ``values`` with ``weights`` (equal if not given)."""

    dist: Literal["choice"]
    values: list[float] | None = None
    weights: list[float] | None = None
    _natural = ("values", "weights")
    _ci90_allowed = False

    @classmethod
    def _optional(cls):
        return ("weights",)

    def _check(self):
        if not self.values:
            raise ValueError("values must be a non-empty list of numbers")
        if not all(math.isfinite(v) for v in self.values):
            raise ValueError(f"values must be finite, got {self.values}")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"weights has {len(self.weights)} entries but values has {len(self.values)}")
            if any(not (w >= 0 and math.isfinite(w)) for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"weights must be finite, non-negative and not all zero, got {self.weights}")

    def _probs(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, float)
        return w / w.sum()

    def support(self):
        return (min(self.values), max(self.values))

    def frozen(self):
        from scipy import stats

        order = np.argsort(self.values)
        return stats.rv_discrete(values=(np.asarray(self.values)[order], self._probs()[order]))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Values in ascending order and their cumulative probabilities (the last exactly 1)."""
        order = np.argsort(self.values, kind="stable")
        cum = np.cumsum(self._probs()[order])
        cum[-1] = 1.0
        return np.asarray(self.values, float)[order], cum

    def ppf(self, u):
        values, cum = self._sorted()
        return values[np.minimum(np.searchsorted(cum, u, side="right"), len(values) - 1)]


    def is_integer_valued(self):
        return all(float(v).is_integer() for v in self.values)


class Bernoulli(Distribution):
    """1 with probability ``p``, else 0."""

    dist: Literal["bernoulli"]
    p: float | None = None
    _natural = ("p",)
    _ci90_allowed = False

    def _check(self):
        if not 0 <= self.p <= 1:
            raise ValueError(f"p must be in [0, 1], got {self.p}")

    def support(self):
        return (0.0 if self.p < 1 else 1.0, 1.0 if self.p > 0 else 0.0)

    def frozen(self):
        from scipy import stats

        return stats.bernoulli(self.p)

    def ppf(self, u):
        return (np.asarray(u) >= 1.0 - self.p).astype(float)


    def is_integer_valued(self):
        return True


def _tabulated(kind: str, args: tuple[float, ...], u) -> np.ndarray:
    """The inverse CDF of ``stats.<kind>(*args)`` at ``u``, from its table where it has one."""
    args = tuple(float(a) for a in args)
    table = _table(kind, args)
    return _exact(kind, args)[0](u) if table is None else table(u)


DISTRIBUTIONS = {c.model_fields["dist"].annotation.__args__[0]: c for c in
                 (Fixed, Normal, LogNormal, Uniform, Triangular, Pert, Beta, TruncNormal, Choice, Bernoulli)}

DistributionSpec = Annotated[
    Union[Fixed, Normal, LogNormal, Uniform, Triangular, Pert, Beta, TruncNormal, Choice, Bernoulli],
    Field(discriminator="dist"),
]
