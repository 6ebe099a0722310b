"""Standard normals drawn by a compiled loop over numpy's own generator: numpy's numbers, 2.5 times as fast.

``rng.standard_normal(out=...)`` calls the bit generator through a function pointer for every
number; numba's Generator runs the same PCG64 and the same ziggurat inline, so
:func:`normals_into` gives ``rng.standard_normal``'s numbers bit for bit (tested) in 4.5 ns
instead of 11.7. A run's shocks are 28 normals a draw: at 10^6 draws this saves 0.2 s of
CPU, about a tenth of the run (docs/scale.md). numba is imported the first time a whole
block of shocks is drawn, so that commands on small runs do not pay its 0.35 s; the
compiled function is kept in numba's disk cache (``__pycache__``) and served to later
processes.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["normals_into"]


@numba.njit(nogil=True, cache=True)
def normals_into(rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill 1-D ``out`` with ``rng``'s next standard normals: ``rng.standard_normal(out=out)``."""
    for i in range(out.shape[0]):
        out[i] = rng.standard_normal()
