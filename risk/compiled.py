"""Two loops that numpy runs measurably slower, compiled: the same numbers, faster.

* :func:`normals_into`: ``rng.standard_normal(out=...)`` calls the bit generator through a
  function pointer for every number; numba's Generator runs the same PCG64 and the same
  ziggurat inline, so this gives numpy's numbers bit for bit (tested) in 4.5 ns instead of
  11.7. A run's shocks are 28 normals a draw: 0.2 s of CPU saved at 10^6 draws.
* :func:`hermite_into`: the cubic of :class:`risk.distributions.TabulatedPPF`, 4 ns a value
  instead of numpy's 18 (four gathers and a dozen passes over the chunk); the same
  operations in the same order, so the same numbers as its numpy evaluation (tested).

They are used for whole blocks of draws only (:data:`risk.streams.BLOCK`), so that commands on
small runs never import numba (0.35 s in a fresh process). Both are kept in numba's disk
cache (``__pycache__``) and served to later processes.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["normals_into", "hermite_into"]


@numba.njit(nogil=True, cache=True)
def normals_into(rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill 1-D ``out`` with ``rng``'s next standard normals: ``rng.standard_normal(out=out)``."""
    for i in range(out.shape[0]):
        out[i] = rng.standard_normal()


@numba.njit(nogil=True, cache=True, error_model="numpy")
def hermite_into(u, coef, cells, tail, levels, out, exact):
    """The cubic of each ``u``'s cell of a :class:`risk.distributions.TabulatedPPF`, into ``out``.

    A ``u`` beyond the last tail level is left to the exact inverse CDF: its position goes to
    ``exact`` (``out`` there is left unset). Returns how many there are. ``out`` may be ``u``
    itself: each ``u`` is read before its ``out`` is written.
    """
    ratio = tail / cells
    lo, hi = ratio, 1.0 - ratio
    body, level = cells - 2 * tail, cells - tail  # cells in the body and in a tail level
    k = 0
    for i in range(u.shape[0]):
        x = u[i]
        if lo <= x < hi or x != x:  # NaN falls through to the body, and stays NaN
            scaled = x * cells
            cell = min(max(int(scaled), tail), cells - tail - 1) if x == x else tail
            j = cell - tail
        else:
            # the level whose range holds x: level l covers [w·ratio, w) below, w = ratio**l
            low = x < lo
            w, lv = ratio, 1
            while lv <= levels and (x < w * ratio if low else x >= 1.0 - w * ratio):
                w *= ratio
                lv += 1
            if lv > levels:
                exact[k] = i
                k += 1
                continue
            h = w / cells
            if low:
                scaled = x / h
                cell = min(max(int(np.floor(scaled)), tail), cells - 1)
                j = body + (lv - 1) * level + cell - tail
            else:
                scaled = (x - (1.0 - w)) / h
                cell = min(max(int(np.floor(scaled)), 0), level - 1)
                j = body + (levels + lv - 1) * level + cell
        s = scaled - cell
        out[i] = coef[0, j] + s * (coef[1, j] + s * (coef[2, j] + s * coef[3, j]))
    return k
