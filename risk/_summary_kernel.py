"""The one pass of :mod:`risk.summarise` over a chunk's outputs, compiled (numba, like
:mod:`risk.compiled`): each value is read once for its histogram bin (count, sum, minimum and
maximum, side by side in memory) and the power sums of its block. numpy needs a dozen passes
and two ``ufunc.at`` for the same (about four times the time at a block of 16,384 draws).
Kept in numba's disk cache and imported only when a run is summarised.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["reduce_into", "STRIDE"]

#: Values summed plainly before their sum joins the block's compensated (Neumaier) sum.
STRIDE = 128


@numba.njit(nogil=True, cache=True)
def _add(s, e, term):
    """Neumaier's step: the new sum and compensation after adding ``term`` to (s, e)."""
    tot = s + term
    if abs(s) >= abs(term):
        e += (s - tot) + term
    else:
        e += (term - tot) + s
    return tot, e


@numba.njit(nogil=True, cache=True)
def reduce_into(x, shift, lo, inv, point, cuts, hist, at, power):
    """Add a chunk's values to its histograms and set its blocks' power sums; return how many
    values are not finite (those are left out).

    Parameters
    ----------
    x : ndarray, shape (outputs, periods, n)
        The chunk's outputs (float32 or float64).
    shift, lo, inv, point : ndarray, shape (cells,)
        Per cell (output-major, then period): the value subtracted before the power sums,
        the histogram's start, its bins per unit, and a value that may be a point mass.
    cuts : ndarray of int64, shape (blocks + 1,)
        Columns where the chunk's aligned blocks of draws start, then ``n``.
    hist : ndarray, shape (cells, bins + 2, 4)
        Per bin (underflow first, overflow last): count, sum, minimum, maximum; added to.
    at : ndarray of int64, shape (cells, 2)
        Draws below ``point`` and equal to it; added to.
    power : ndarray, shape (blocks, 4, 2, cells)
        Set: per block, Σy, Σy², Σy³, Σy⁴ of y = x - shift, each as a sum and its
        compensation: :data:`STRIDE` values are summed plainly, and these sums compensated.
    """
    outputs, periods, n = x.shape
    top = hist.shape[1] - 1
    bad = 0
    for o in range(outputs):
        for p in range(periods):
            c = o * periods + p
            start, scale, sh, pt = lo[c], inv[c], shift[c], point[c]
            lt = eq = 0
            for b in range(cuts.shape[0] - 1):
                s0 = s1 = s2 = s3 = 0.0
                e0 = e1 = e2 = e3 = 0.0
                i = cuts[b]
                while i < cuts[b + 1]:
                    stop = min(i + STRIDE, cuts[b + 1])
                    t0 = t1 = t2 = t3 = 0.0
                    for j in range(i, stop):
                        v = np.float64(x[o, p, j])
                        if not np.isfinite(v):
                            bad += 1
                            continue
                        t = (v - start) * scale + 1.0
                        k = 0 if t < 1.0 else (top if t >= top else int(t))
                        hist[c, k, 0] += 1.0
                        hist[c, k, 1] += v
                        if v < hist[c, k, 2]:
                            hist[c, k, 2] = v
                        if v > hist[c, k, 3]:
                            hist[c, k, 3] = v
                        if v < pt:
                            lt += 1
                        elif v == pt:
                            eq += 1
                        y = v - sh
                        y2 = y * y
                        t0 += y
                        t1 += y2
                        t2 += y2 * y
                        t3 += y2 * y2
                    s0, e0 = _add(s0, e0, t0)
                    s1, e1 = _add(s1, e1, t1)
                    s2, e2 = _add(s2, e2, t2)
                    s3, e3 = _add(s3, e3, t3)
                    i = stop
                power[b, 0, 0, c], power[b, 0, 1, c] = s0, e0
                power[b, 1, 0, c], power[b, 1, 1, c] = s1, e1
                power[b, 2, 0, c], power[b, 2, 1, c] = s2, e2
                power[b, 3, 0, c], power[b, 3, 1, c] = s3, e3
            at[c, 0] += lt
            at[c, 1] += eq
    return bad
