"""Inverse CDFs of a whole parameter matrix in one compiled pass.

A chunk of a run turns a matrix of uniforms, a parameter to a row, into parameter values.
Row by row through numpy that is some fifty calls a chunk, each a pass over memory and a
stretch of Python that holds the interpreter lock while the other worker waits for it.
:func:`apply_inverse` does every row whose distribution can say how in compiled code
(:meth:`risk.distributions.Distribution.inverse_spec`), in place and in one call that
releases the lock; the others (the normal and lognormal, whose ``ndtri`` numba lacks) and
the tails of tabulated inverse CDFs, which need the exact scipy function, go through numpy
afterwards. The numbers are bitwise those of each distribution's ``ppf`` (tested): the
same operations in the same order, without fused multiply-add.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Mapping, NamedTuple, Sequence

import numba
import numpy as np

from .distributions import Distribution, _hermite

__all__ = ["Inverse", "inverse_plan", "apply_inverse"]

FIXED, UNIFORM, TRIANGULAR, CHOICE, BERNOULLI, TABLE = range(6)
_KINDS = {"fixed": FIXED, "uniform": UNIFORM, "triangular": TRIANGULAR, "choice": CHOICE, "bernoulli": BERNOULLI,
          "table": TABLE}


class Inverse(NamedTuple):
    """How to turn the rows of a parameter matrix into values (:func:`inverse_plan`)."""

    #: compiled rows: their row, kind, up to 3 numbers, and where their data is in ``data``
    rows: np.ndarray
    kinds: np.ndarray
    numbers: np.ndarray
    offsets: np.ndarray
    data: np.ndarray
    #: rows left to numpy: (row, distribution)
    other: tuple
    #: for each compiled row of kind TABLE, its distribution (exact inverse CDF in the tails)
    tables: dict


_PLANS: OrderedDict = OrderedDict()
_LOCK = threading.Lock()


def inverse_plan(distributions: Mapping[str, Distribution], order: Sequence[str]) -> Inverse:
    """The :class:`Inverse` of ``distributions`` for a matrix with rows in ``order``.

    Kept for the last few sets of distributions (a run asks once a chunk).
    """
    key = (tuple(order), tuple(map(id, distributions.values())))
    with _LOCK:  # worker threads of a run ask at once
        hit = _PLANS.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[1], distributions.values())):
            _PLANS.move_to_end(key)
            return hit[0]
    rows, kinds, numbers, offsets, data, other, tables = [], [], [], [], [], [], {}
    at = 0
    for r, path in enumerate(order):
        dist = distributions[path]
        spec = dist.inverse_spec()
        if spec is None:
            other.append((r, dist))
            continue
        kind, nums, values = spec
        if kind == "table":
            tables[len(rows)] = dist
        rows.append(r)
        kinds.append(_KINDS[kind])
        numbers.append(tuple(nums) + (0.0,) * (3 - len(nums)))
        values = np.zeros(0) if values is None else np.asarray(values, dtype=float)
        offsets.append((at, len(values)))
        data.append(values)
        at += len(values)
    plan = Inverse(np.asarray(rows, dtype=np.int64), np.asarray(kinds, dtype=np.int64),
                   np.asarray(numbers, dtype=float).reshape(-1, 3), np.asarray(offsets, dtype=np.int64).reshape(-1, 2),
                   np.concatenate(data) if data else np.zeros(0), tuple(other), tables)
    with _LOCK:
        _PLANS[key] = (plan, tuple(distributions.values()))
        if len(_PLANS) > 8:
            _PLANS.popitem(last=False)
    return plan


def apply_inverse(plan: Inverse, out: np.ndarray, threads: bool = False) -> None:
    """Replace the uniforms in the rows of ``out`` (float64, a parameter to a row) by parameter values.

    Rows of fixed parameters need no uniforms; every other row must hold its uniforms. With
    ``threads``, the draws are split between the cores.
    """
    cores = min(os.cpu_count() or 1, out.shape[1] >> 14) if threads else 1
    if cores > 1:
        cuts = np.linspace(0, out.shape[1], cores + 1).astype(int)
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(lambda c: apply_inverse(plan, out[:, cuts[c]:cuts[c + 1]]), range(cores)))
        return
    n = out.shape[1]
    n_tables = len(plan.tables)
    tail_u, tail_at = np.empty(n_tables * n), np.empty(n_tables * n, dtype=np.int64)
    tail_of = np.empty(n_tables * n, dtype=np.int64)
    k = _apply(out, plan.rows, plan.kinds, plan.numbers, plan.offsets, plan.data, tail_u, tail_at, tail_of)
    if k:
        tail_of, tail_at, tail_u = tail_of[:k], tail_at[:k], tail_u[:k]
        for i, dist in plan.tables.items():
            mine = tail_of == i
            if mine.any():
                out[plan.rows[i], tail_at[mine]] = dist.exact_ppf(tail_u[mine])
    for r, dist in plan.other:
        dist.ppf_into(out[r], out[r])


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _apply(out, rows, kinds, numbers, offsets, data, tail_u, tail_at, tail_of):
    """Each compiled row in place (see the ``ppf`` of each distribution for the formulas).

    A uniform beyond the last tail level of a table is left for the exact inverse CDF: its value,
    position and plan index go to ``tail_u``, ``tail_at`` and ``tail_of`` (the table itself is
    :func:`risk.distributions._hermite`, as for a single distribution). Returns how many.
    """
    n = out.shape[1]
    k = 0
    for i in range(rows.shape[0]):
        x = out[rows[i]]
        kind = kinds[i]
        p0, p1, p2 = numbers[i, 0], numbers[i, 1], numbers[i, 2]
        at, size = offsets[i, 0], offsets[i, 1]
        if kind == FIXED:
            for j in range(n):
                x[j] = p0
        elif kind == UNIFORM:  # min + width·u
            for j in range(n):
                x[j] = p0 + p1 * x[j]
        elif kind == TRIANGULAR:  # a, mode, b
            c = (p1 - p0) / (p2 - p0)
            for j in range(n):
                u = x[j]
                if u < c:
                    x[j] = p0 + np.sqrt(u * (p2 - p0) * (p1 - p0))
                else:
                    x[j] = p2 - np.sqrt((1 - u) * (p2 - p0) * (p2 - p1))
        elif kind == CHOICE:  # values ascending, then their cumulative probabilities
            m = size // 2
            for j in range(n):
                u = x[j]
                idx = 0
                while idx < m and data[at + m + idx] <= u:  # searchsorted, side="right"
                    idx += 1
                x[j] = data[at + min(idx, m - 1)]
        elif kind == BERNOULLI:  # 1 where u >= 1 - p
            for j in range(n):
                x[j] = 1.0 if x[j] >= p0 else 0.0
        else:  # TABLE: cells, tail, levels; coefficients (4, size / 4), as TabulatedPPF
            got = _hermite(x, data[at : at + size].reshape(4, size // 4), int(p0), int(p1), int(p2), x, tail_u[k:], tail_at[k:])
            for t in range(k, k + got):
                tail_of[t] = i
            k += got
    return k
