"""Sobol indices streamed chunk by chunk: the estimators' sufficient statistics, merged in order.

:func:`risk.sensitivity.sobol_indices` and :func:`risk.sensitivity.model_sobol` with
``lazy=True`` (or a ``chunk_size`` or a ``scheduler``) never build the Saltelli design [A, B, AB_1, ..., AB_k]
whole. A chunk of base rows ``lo`` to ``hi`` generates its own rows of A and B (the scrambled
Sobol sequence fast-forwarded to ``lo``) and, for the model, its own shocks (their blocks),
evaluates its (k + 2)·(hi - lo) points, and reduces them at once to the estimators'
sufficient statistics (:class:`Moments`): per output column, the mean and sum of squared
deviations of f(A) and of f(B), and per input i the mean of d_i = f(AB_i) - f(A), its
co-moment with f(B) and the sum of d_i². Only these leave the chunk.

The base rows are cut into :data:`BATCHES` batches of consecutive rows; a chunk reports the
moments of the parts of the batches it covers (:class:`Partial`). Partials are joined in a
fixed binary tree over the chunks in row order (:func:`reduce_in_order`), the same tree
whether the chunks run here on threads or on dask workers, so the result does not depend on
the scheduler or the number of workers, bit for bit. Chunks whose edges fall on batch edges
(the default chunk sizes) never split a batch, and then the result does not depend on the
chunk size either; other chunk sizes change it at the level of rounding.

The estimators are those of the in-memory path: S1 of Saltelli (2010) with outputs centred
on the mean of f(A) and f(B), ST of Jansen (1999), over the variance of f(A) and f(B)
together. Moments merge exactly (Chan, Golub and LeVeque's pairwise updates), so the indices
equal the in-memory ones to rounding.

Confidence intervals: a bootstrap over rows needs every row, so here the standard error is
that of a ratio estimator from batch means: with G_b, V_b the batch b sums of the estimator's
numerator (f(B) - mean)·d_i, or d_i²/2 for ST, and of the variance terms
((f(A) - mean)² + (f(B) - mean)²)/2, and R = ΣG_b / ΣV_b,
se(R)² = B/(B - 1)·Σ_b (G_b - R·V_b)² / (ΣV_b)² (the delta method over B batches).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy import special
from scipy.stats import qmc

from .sampling import generator

__all__ = ["BATCHES", "Moments", "Partial", "batch_edges", "chunk_bounds", "design_rows", "stack_rows",
           "partial_of", "join", "reduce_in_order", "estimate", "streamed", "varying"]

#: Batches of consecutive base rows whose moments are kept apart for the standard errors.
BATCHES = 64

#: Base rows a default chunk aims at: (k + 2)·2,048 model evaluations, 1 to 3 seconds of the
#: base scenario on one core, tens of MB of outputs.
CHUNK_ROWS = 2048


@dataclass(frozen=True)
class Moments:
    """Sufficient statistics of the S1 and ST estimators over ``n`` base rows.

    Attributes
    ----------
    n : int
        Base rows.
    mean_a, m2_a, mean_b, m2_b : ndarray, shape (cols,)
        Mean and sum of squared deviations from it of f(A) and of f(B), units of the output
        (squared for ``m2``).
    mean_d : ndarray, shape (k, cols)
        Mean of d_i = f(AB_i) - f(A).
    co_bd : ndarray, shape (k, cols)
        Σ (f(B) - mean_b)(d_i - mean_d_i).
    sq_d : ndarray, shape (k, cols)
        Σ d_i².
    """

    n: int
    mean_a: np.ndarray
    m2_a: np.ndarray
    mean_b: np.ndarray
    m2_b: np.ndarray
    mean_d: np.ndarray
    co_bd: np.ndarray
    sq_d: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray) -> "Moments":
        """The moments of outputs ``y``, shape (k + 2, rows, cols): f(A), f(B), f(AB_1), ..., f(AB_k)."""
        ya, yb = y[0], y[1]
        d = y[2:] - ya[None]
        ma, mb, md = ya.mean(axis=0), yb.mean(axis=0), d.mean(axis=1)
        dev_b = yb - mb
        return cls(y.shape[1], ma, ((ya - ma) ** 2).sum(axis=0), mb, (dev_b**2).sum(axis=0), md,
                   (dev_b[None] * (d - md[:, None])).sum(axis=1), (d**2).sum(axis=1))

    def merge(self, other: "Moments") -> "Moments":
        """The moments of these rows and ``other``'s together (pairwise updates, exact up to rounding)."""
        n = self.n + other.n
        f, w = other.n / n, self.n * other.n / n
        da, db, dd = other.mean_a - self.mean_a, other.mean_b - self.mean_b, other.mean_d - self.mean_d
        return Moments(n, self.mean_a + da * f, self.m2_a + other.m2_a + da**2 * w,
                       self.mean_b + db * f, self.m2_b + other.m2_b + db**2 * w,
                       self.mean_d + dd * f, self.co_bd + other.co_bd + db[None] * dd * w, self.sq_d + other.sq_d)


@dataclass(frozen=True)
class Partial:
    """The moments of consecutive batches ``first``, ``first + 1``, ...; the first and last
    may be parts of their batches (a chunk that does not end on a batch edge)."""

    first: int
    batches: tuple[Moments, ...]


def batch_edges(n: int, batches: int = BATCHES) -> np.ndarray:
    """Edges of the batches of ``n`` base rows: min(batches, n) runs of n // B or n // B + 1 rows."""
    b = min(batches, n)
    return (np.arange(b + 1) * n) // b


def chunk_bounds(n: int, edges: np.ndarray, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """Base rows (lo, hi) of each chunk: of ``chunk_size`` rows, or by default about
    :data:`CHUNK_ROWS` rows cut on batch edges: whole batches, or equal parts of a batch when
    batches are larger (at N = 2^20, a batch of 16,384 rows in 8 chunks)."""
    if chunk_size is not None:
        return [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]
    size = n / (len(edges) - 1)
    if size <= CHUNK_ROWS:
        cuts = list(edges[:: max(1, round(CHUNK_ROWS / size))])
        cuts += [n] if cuts[-1] != n else []
    else:
        parts = -(-int(np.ceil(size)) // CHUNK_ROWS)
        cuts = [int(lo + (j * (hi - lo)) // parts) for lo, hi in zip(edges[:-1], edges[1:]) for j in range(parts)] + [n]
    return [(int(lo), int(hi)) for lo, hi in zip(cuts[:-1], cuts[1:])]


def design_rows(k: int, seed: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``lo`` to ``hi`` of A and B, shape (hi - lo, k): the two halves of a 2k-dimensional
    scrambled Sobol sequence (scrambled by stream ``(seed, 20)``), fast-forwarded to ``lo``: the
    same points as those rows of the whole design (:func:`risk.sensitivity.sobol_indices`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance: the whole design is checked once
        engine = qmc.Sobol(2 * k, scramble=True, rng=generator(seed, 20))
        if lo:
            engine.fast_forward(lo)
        ab = engine.random(hi - lo)
    return ab[:, :k].copy(), ab[:, k:].copy()


def stack_rows(a: np.ndarray, b: np.ndarray, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points ``start`` to ``stop`` of [A, B, AB_1, ..., AB_k] (AB_i: A with column i from B).

    Returns
    -------
    u : ndarray, shape (stop - start, k)
        The points.
    row : ndarray of int
        The row of A and B each point comes from.
    from_b : ndarray of bool
        The points whose last input is B's (B itself and AB_k).
    """
    c, k = a.shape
    stop = (k + 2) * c if stop is None else stop
    v = np.arange(start, stop)
    mat, row = v // c, v % c
    u = np.where((mat == 1)[:, None], b[row], a[row])
    ab = np.nonzero(mat >= 2)[0]
    u[ab, mat[ab] - 2] = b[row[ab], mat[ab] - 2]
    return u, row, (mat == 1) | (mat == k + 1)


def partial_of(y: np.ndarray, lo: int, edges: np.ndarray) -> Partial:
    """The moments of the batches (or their parts) that base rows ``lo`` to ``lo + rows`` cover;
    ``y``: their outputs, shape (k + 2, rows, cols)."""
    hi = lo + y.shape[1]
    first = int(np.searchsorted(edges, lo, side="right")) - 1
    pieces, b = [], first
    while b < len(edges) - 1 and edges[b] < hi:
        s0, s1 = max(lo, int(edges[b])) - lo, min(hi, int(edges[b + 1])) - lo
        pieces.append(Moments.of(y[:, s0:s1]))
        b += 1
    return Partial(first, tuple(pieces))


def join(p: Partial, q: Partial) -> Partial:
    """Partials of consecutive rows, ``q`` after ``p``, as one (a batch they share is merged)."""
    last = p.first + len(p.batches) - 1
    if q.first == last:
        return Partial(p.first, p.batches[:-1] + (p.batches[-1].merge(q.batches[0]),) + q.batches[1:])
    if q.first != last + 1:
        raise ValueError(f"partials not consecutive: batches {p.first}-{last}, then from {q.first}")
    return Partial(p.first, p.batches + q.batches)


def reduce_in_order(items: Iterable, combine: Callable):
    """Combine ``items`` in order along a fixed binary tree (a binary counter: pairs, then pairs of
    pairs, ...), holding at most log2(items) + 1 of them; the same tree for the same number of
    items, whether they are values or dask Delayed objects."""
    stack: list[tuple[int, object]] = []
    for item in items:
        level = 0
        while stack and stack[-1][0] == level:
            item = combine(stack.pop()[1], item)
            level += 1
        stack.append((level, item))
    if not stack:
        raise ValueError("nothing to reduce")
    item = stack.pop()[1]
    while stack:
        item = combine(stack.pop()[1], item)
    return item


def varying(var: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The variance where the output varies, NaN where it is constant: a variance within rounding
    of zero, (1e-13·|centre|)² or less (the sum of a constant's deviations from its computed mean)."""
    return np.where(var > (1e-13 * np.abs(centre)) ** 2, var, np.nan)


def estimate(batches: Sequence[Moments], conf_level: float = 0.95):
    """S1, its confidence half-width, ST and its half-width from the batches' moments.

    Returns
    -------
    tuple of ndarray, each shape (k, cols)
        NaN where the output does not vary (a reported year); half-widths NaN with one batch.
    """
    total = batches[0]
    for m in batches[1:]:
        total = total.merge(m)
    n = total.n
    centre = (total.mean_a + total.mean_b) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (total.m2_a + total.m2_b + (total.mean_b - total.mean_a) ** 2 * n / 2) / (2 * n - 1)
        var = varying(var, centre)
        s1 = (total.co_bd / n + (total.mean_b - centre)[None] * total.mean_d) / var
        st = 0.5 * total.sq_d / n / var
        # batch sums of the numerators (S1, ST) and of the variance terms, about the overall centre
        g = np.stack([m.co_bd + m.n * (m.mean_b - centre)[None] * m.mean_d for m in batches])
        h = np.stack([m.sq_d / 2 for m in batches])
        v = np.stack([(m.m2_a + m.n * (m.mean_a - centre) ** 2 + m.m2_b + m.n * (m.mean_b - centre) ** 2) / 2
                      for m in batches])[:, None]
        z = special.ndtri(0.5 + conf_level / 2)
        s1_conf, st_conf = (z * _ratio_se(num, v) for num in (g, h))
    return s1, s1_conf, st, st_conf


def _ratio_se(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Standard error of ΣG_b / ΣV_b from B batch sums (delta method): NaN for fewer than 2 batches."""
    nb = num.shape[0]
    if nb < 2:
        return np.full(num.shape[1:], np.nan)
    tv = den.sum(axis=0)
    r = num.sum(axis=0) / tv
    return np.sqrt(nb / (nb - 1) * ((num - r * den) ** 2).sum(axis=0)) / np.abs(tv)


def _chunk_task(source, lo: int, hi: int, edges: np.ndarray) -> Partial:
    """One chunk: its outputs from ``source.rows(lo, hi)``, reduced to their moments."""
    return partial_of(source.rows(lo, hi), lo, edges)


def streamed(source, n: int, chunk_size: int | None = None, batches: int = BATCHES, scheduler=None,
             conf_level: float = 0.95, workers: int | None = None, progress: Callable[[int, int], None] | None = None):
    """S1, ST and their half-widths, shape (k, cols) each, from chunks of ``source``.

    Parameters
    ----------
    source
        An object with ``rows(lo, hi)``: outputs of base rows ``lo`` to ``hi``, shape
        (k + 2, hi - lo, cols), for A, B, AB_1..AB_k. Sent once to each dask worker.
    n : int
        Base rows.
    chunk_size : int, optional
        Base rows a chunk (default: about :data:`CHUNK_ROWS` rows, on batch edges).
    batches : int
        Batches for the standard errors.
    scheduler : None, 'threads', 'processes', 'synchronous', 'dask', 'tcp://host:port' or a distributed Client
        None runs the chunks here on ``workers`` threads (default: one a core); 'dask' uses
        dask's current scheduler (an active Client); the others as dask names them.
    progress : callable, optional
        ``progress(rows done, n)`` as chunks are joined, in order (chunks run here only).

    Returns
    -------
    s1, s1_conf, st, st_conf, chunks
        The estimates and the number of chunks run.
    """
    edges = batch_edges(n, batches)
    bounds = chunk_bounds(n, edges, chunk_size)
    if scheduler is None:
        workers = workers or min(len(bounds), os.cpu_count() or 1)
        if workers <= 1:
            parts = (_chunk_task(source, lo, hi, edges) for lo, hi in bounds)
            total = reduce_in_order(_counted(parts, bounds, n, progress), join)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                # in order, a few chunks ahead: results are joined as they come
                parts = _ahead(pool, source, bounds, edges, 2 * workers)
                total = reduce_in_order(_counted(parts, bounds, n, progress), join)
    else:
        total = _on_dask(source, bounds, edges, scheduler)
    return (*estimate(total.batches, conf_level), len(bounds))


def _counted(parts, bounds, n: int, progress):
    """``parts``, telling ``progress`` the rows done after each."""
    for part, (_, hi) in zip(parts, bounds):
        yield part
        if progress is not None:
            progress(hi, n)


def _ahead(pool, source, bounds, edges, depth: int):
    """Results of the chunks in order, at most ``depth`` submitted ahead of the one awaited."""
    from collections import deque

    queue = deque()
    for lo, hi in bounds:
        queue.append(pool.submit(_chunk_task, source, lo, hi, edges))
        if len(queue) >= depth:
            yield queue.popleft().result()
    while queue:
        yield queue.popleft().result()


def _on_dask(source, bounds, edges, scheduler) -> Partial:
    """The chunks as dask tasks joined along the tree of :func:`reduce_in_order`; ``source`` is one key."""
    import contextlib

    import dask

    shared = dask.delayed(source, pure=True, traverse=False)
    task, combine = dask.delayed(_chunk_task, pure=True), dask.delayed(join, pure=True)
    total = reduce_in_order((task(shared, lo, hi, edges) for lo, hi in bounds), combine)
    ctx, kw = contextlib.nullcontext(), {}
    if isinstance(scheduler, str) and scheduler.startswith("tcp://"):
        from distributed import Client

        ctx = Client(scheduler, timeout="5s", set_as_default=False)
        kw = {"scheduler": ctx}
    elif scheduler != "dask":
        kw = {"scheduler": scheduler}
    with ctx:
        (result,) = dask.compute(total, **kw)
    return result
