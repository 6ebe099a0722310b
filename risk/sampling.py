"""Random numbers: the per-draw parameter matrix and the per-year shock streams.

Every random number comes from the stream :mod:`risk.streams` keys by the parameter's path
or the shock's name, so a parameter's numbers depend only on the seed, the method, the
number of draws and its own name, never on which other parameters exist or their order;
pinning one parameter leaves every other as it was.

* ``mc``: independent uniforms in blocks of :data:`BLOCK` draws, one generator a block (a
  generator costs as much as 5,000 uniforms), a stream to a row of the block;
* ``lhs``: Latin hypercube, one stratum per draw in every column: a random permutation of
  the strata (Fisher-Yates) plus a uniform jitter;
* ``sobol``: scrambled Sobol points (scipy.stats.qmc.Sobol), balanced when draws is a power
  of 2.

Shocks are drawn in blocks of :data:`BLOCK` draws, year by year, so the shocks of a draw do
not depend on how the draws are chunked, and extending the horizon keeps the earlier years'.
Uniforms become parameter values through each distribution's inverse CDF.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Mapping, Sequence

import numpy as np

from .distributions import Distribution
from .glossary import SHOCKS, UNIFORM_SHOCKS
from .streams import (BLOCK, N_PARAMETER_STREAMS, chi2_key, lhs_key, mc_key, parameter_stream, shock_key,
                      sobol_key)

__all__ = ["BLOCK", "METHODS", "generator", "block_uniforms", "parameter_uniforms", "parameter_matrix",
           "sample_parameters", "sample_shocks"]

METHODS = ("mc", "lhs", "sobol")


def generator(seed: int, *key: int) -> np.random.Generator:
    """A PCG64 Generator for ``SeedSequence(seed, spawn_key=key)``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _buffer(out: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """``out``, checked, or a new array: numbers are drawn straight into it, and into a buffer
    that is not C-contiguous float64 they would go to a copy and be lost."""
    if out is None:
        return np.empty(shape)
    if out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}")
    return out


def warn_sobol_balance(draws: int, stacklevel: int = 2) -> None:
    """Warn that Sobol points lose their balance unless ``draws`` is a power of 2."""
    if draws & (draws - 1):
        warnings.warn(
            f"sobol sampling with draws={draws}, not a power of 2, loses the balance of Sobol points; "
            f"use {1 << (draws - 1).bit_length()} or {1 << (draws.bit_length() - 1)} draws",
            stacklevel=stacklevel,
        )


def _blocks(start: int, stop: int, size: int = BLOCK):
    """(block, lo, hi): the blocks of ``size`` draws covering draws ``start`` to ``stop``."""
    for b in range(start // size, (stop - 1) // size + 1):
        lo, hi = max(start, b * size), min(stop, (b + 1) * size)
        yield b, lo - b * size, hi - b * size


def parameter_uniforms(method: str, seed: int, draws: int, paths: Sequence[str], rows: tuple[int, int] | None = None,
                       threads: bool = True) -> np.ndarray:
    """Uniforms in [0, 1) for the parameters ``paths``, shape (draws, len(paths)).

    Parameters
    ----------
    method : {'mc', 'lhs', 'sobol'}
    seed : int
    draws : int
        Draws of the whole run.
    paths : sequence of str
        Dotted parameter paths (each has its stream in :data:`risk.streams.PARAMETER_STREAMS`).
    rows : (int, int), optional
        Only draws ``lo`` to ``hi`` of the run, the same numbers as the whole run's rows:
        Monte Carlo generates just the blocks it needs and Sobol fast-forwards; a Latin
        hypercube column is a permutation of the whole run, so it is built whole and sliced.
    threads : bool
        Fill Monte Carlo blocks, Latin hypercube columns or parts of the Sobol sequence on one
        thread per core.
    """
    if method not in METHODS:
        raise ValueError(f"sampling method '{method}' is not one of: {', '.join(METHODS)}")
    lo_row, hi_row = (0, draws) if rows is None else rows
    columns = [parameter_stream(p) for p in paths]
    out = np.empty((hi_row - lo_row, len(columns)), order="F")
    if method == "mc":
        out.T[:] = _mc_rows(seed, lo_row, hi_row, threads)[columns]
    elif method == "lhs":

        def fill(k):
            out[:, k] = latin_column(generator(seed, *lhs_key(paths[k])), draws)[lo_row:hi_row]

        _map_threads(fill, range(len(columns)), threads)
    else:
        if not columns:
            return out
        # rows split over the cores, each part fast-forwarded: the same points as one engine
        cuts = np.linspace(lo_row, hi_row, min(os.cpu_count() or 1, max(1, (hi_row - lo_row) >> 16)) + 1).astype(int)

        from scipy.stats import qmc

        def sobol_part(k):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                engine = qmc.Sobol(N_PARAMETER_STREAMS, scramble=True, rng=generator(seed, *sobol_key()))
                if cuts[k]:
                    engine.fast_forward(int(cuts[k]))
                out[cuts[k] - lo_row : cuts[k + 1] - lo_row] = engine.random(int(cuts[k + 1] - cuts[k]))[:, columns]

        _map_threads(sobol_part, range(len(cuts) - 1), threads)
        if rows is None:
            warn_sobol_balance(draws, stacklevel=5)
    return out


def _mc_rows(seed: int, lo: int, hi: int, threads: bool = True, out: np.ndarray | None = None,
             skip: Sequence[int] = ()) -> np.ndarray:
    """Monte Carlo uniforms of draws ``lo`` to ``hi`` for every parameter stream, a stream to a
    row: shape (N_PARAMETER_STREAMS, hi - lo), into ``out`` if given (C-contiguous). Rows in
    ``skip`` may be left unset: where the rows are one whole block, the generator jumps over
    them (a uniform is one 64-bit output of the generator, so the other rows are the same
    numbers)."""
    out = _buffer(out, (N_PARAMETER_STREAMS, hi - lo))

    def fill(block):
        b, first, last = block
        rng = generator(seed, *mc_key(b))
        if last - first == BLOCK == hi - lo:  # the rows are this block: drawn in place
            for start, stop, skipped in _runs(N_PARAMETER_STREAMS, skip):
                rng.random(out=out[start:stop].reshape(-1))
                if skipped:
                    rng.bit_generator.advance(skipped * BLOCK)
        else:
            at = b * BLOCK + first - lo
            out[:, at : at + last - first] = rng.random((N_PARAMETER_STREAMS, BLOCK))[:, first:last]

    _map_threads(fill, _blocks(lo, hi), threads)
    return out


def _runs(rows: int, skip: Sequence[int]):
    """(start, stop, skipped): runs of rows ``start`` to ``stop`` not in ``skip``, each
    followed by ``skipped`` rows that are."""
    skip = set(skip)
    runs, start = [], 0
    while start < rows:
        stop = start
        while stop < rows and stop not in skip:
            stop += 1
        after = stop
        while after < rows and after in skip:
            after += 1
        runs.append((start, stop, after - stop))
        start = after
    return runs


def latin_column(rng: np.random.Generator, n: int) -> np.ndarray:
    """One Latin hypercube column of ``n`` draws: a random permutation of the strata plus a
    uniform jitter, (stratum + jitter) / n, one draw in each of the n strata of [0, 1)."""
    strata = rng.permutation(n)
    return (strata + rng.random(n)) / n


def sample_parameters(
    distributions: Mapping[str, Distribution], draws: int, seed: int, method: str = "lhs", correlations=None,
    rows: tuple[int, int] | None = None, uniforms: np.ndarray | None = None, threads: bool = True,
) -> dict[str, np.ndarray]:
    """Sample every parameter: one array of shape (draws,) per dotted path.

    The rows of :func:`parameter_matrix` by path; see there.
    """
    return dict(zip(distributions, parameter_matrix(distributions, draws, seed, method, correlations, rows, uniforms,
                                                    threads)))


def parameter_matrix(
    distributions: Mapping[str, Distribution], draws: int, seed: int, method: str = "lhs", correlations=None,
    rows: tuple[int, int] | None = None, uniforms: np.ndarray | None = None, threads: bool = True,
    order: Sequence[str] | None = None, out: np.ndarray | None = None,
) -> np.ndarray:
    """Sample every parameter into a matrix, a parameter to a row: shape (parameters, draws), float64.

    Fixed parameters are broadcast; the others take a column of
    :func:`parameter_uniforms` through their inverse CDF. With ``correlations`` (a
    :class:`risk.correlation.Correlations`), the named columns first go through its copula;
    the t copula's χ² variable has its own stream (:func:`risk.streams.chi2_key`). With
    ``rows`` only draws ``lo`` to ``hi`` are returned, equal to those rows of the whole run.

    Parameters
    ----------
    uniforms : ndarray, shape (rows, random parameters), optional
        These rows of the run's :func:`parameter_uniforms` for the parameters that are not
        fixed, in the order of ``distributions``, when the caller has built them already.
    threads : bool
        Draw and transform on one thread per core (off when called from a worker).
    order : sequence of str, optional
        Paths in the order of the rows (default: the order of ``distributions``).
    out : ndarray, shape (len(order), rows), optional
        C-contiguous float64 array to fill and return (a run reuses one a thread: fresh
        memory costs page faults at every chunk). When ``order`` is the order of the stream
        numbers, Monte Carlo uniforms are drawn straight into it and transformed in place.
    """
    order = list(distributions) if order is None else list(order)
    random_paths = [p for p, d in distributions.items() if not d.is_fixed]
    lo_row, hi_row = (0, draws) if rows is None else rows
    n = hi_row - lo_row
    out = np.empty((len(order), n)) if out is None else out
    moved = random_paths  # uniforms to copy into their rows of out
    if uniforms is None and method == "mc":  # rows of the block matrix, used where they are
        in_place = [parameter_stream(p) for p in order] == list(range(N_PARAMETER_STREAMS))
        moved = [] if in_place else random_paths
        fixed = [parameter_stream(p) for p, d in distributions.items() if d.is_fixed] if in_place else ()
        block = _mc_rows(seed, lo_row, hi_row, threads, out=out if in_place else None, skip=fixed)
        column = {p: block[parameter_stream(p)] for p in random_paths}  # rows of out itself when in place
    else:
        if uniforms is None:
            uniforms = parameter_uniforms(method, seed, draws, random_paths, rows, threads)
        column = {p: uniforms[:, k] for k, p in enumerate(random_paths)}
    if correlations is not None:
        from .correlation import apply_copula, repaired_spearman

        chi2 = block_uniforms(seed, chi2_key, lo_row, hi_row) if correlations.copula == "t" else None
        joint = apply_copula(np.stack([column[p] for p in correlations.parameters], axis=1), repaired_spearman(correlations),
                             correlations.copula, correlations.dof, chi2)
        column.update({p: joint[:, i] for i, p in enumerate(correlations.parameters)})
        moved = list(dict.fromkeys([*moved, *correlations.parameters]))
    row = {path: i for i, path in enumerate(order)}
    for path in moved:
        out[row[path]] = column[path]
    _map_threads(lambda r: distributions[order[r]].ppf_into(out[r], out[r]), range(len(order)), threads)  # in place
    return out


def block_uniforms(seed: int, key, start: int, stop: int, size: int = BLOCK) -> np.ndarray:
    """Uniforms for draws ``start`` to ``stop`` of a stream drawn in blocks of ``size``, block b keyed ``key(b)``."""
    out = np.empty(stop - start)
    for b, lo, hi in _blocks(start, stop, size):
        at = b * size + lo - start
        rng = generator(seed, *key(b))
        if hi - lo == size:
            rng.random(out=out[at : at + size])
        else:
            out[at : at + hi - lo] = rng.random(size)[lo:hi]
    return out


def _map_threads(func, items, threads: bool = True) -> None:
    """Run ``func`` on each item, on up to one thread per core if ``threads`` (numpy releases the GIL)."""
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1) if threads else 1
    if workers <= 1:
        for item in items:
            func(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(func, items))


def sample_shocks(seed: int, horizon: int, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
    """Per-year shocks for draws ``start`` to ``stop``, shape (len(SHOCKS), horizon, stop - start).

    Row s is stream ``SHOCKS[s]`` (:data:`risk.glossary.SHOCKS`): those of
    :data:`risk.glossary.UNIFORM_SHOCKS` are uniform on [0, 1), the others standard normal.

    Parameters
    ----------
    out : ndarray, shape (len(SHOCKS), horizon, stop - start), optional
        C-contiguous float64 array to fill and return. A run reuses one a thread: fresh
        memory costs a page fault every 4 KiB written, which took a third of the time of
        drawing the shocks.
    """
    n = stop - start
    out = _buffer(out, (len(SHOCKS), horizon, n))
    for s, name in enumerate(SHOCKS):
        arr = out[s]  # (year, draw)
        for b, lo, hi in _blocks(start, stop):
            rng = generator(seed, *shock_key(name, b))
            if hi - lo == BLOCK == n:  # the rows are this block: drawn in place
                if name in UNIFORM_SHOCKS:
                    rng.random(out=arr.reshape(-1))
                else:
                    from .compiled import normals_into  # numpy's numbers, compiled: see risk/compiled.py

                    normals_into(rng, arr.reshape(-1))
            else:
                draw = rng.random if name in UNIFORM_SHOCKS else rng.standard_normal
                at = b * BLOCK + lo - start
                arr[:, at : at + hi - lo] = draw((horizon, BLOCK))[:, lo:hi]
    return out
