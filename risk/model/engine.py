"""Running the one assembly (:mod:`risk.model.assembly`) over the draws of a run, with numpy.

:func:`run_rows` calls :func:`~risk.model.assembly.base_year` and then
:func:`~risk.model.assembly.year` for each projected year, with records whose fields are
arrays over a chunk's draws, and stores each year's outputs in the run's :class:`Blocks`.
Each draw's numbers depend only on its own parameters and shocks, so they are the same,
bit for bit, whatever the chunking, threads or workers (tests/test_reference.py).

There is no second, compiled copy of the model: docs/model.md ("Why numpy, and no compiled
copy") gives the measurements behind that choice.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..data import BaseData
from ..glossary import CALIBRATED, OUTPUTS, PARAMETERS, Params, Shocks, field_name
from ..streams import PARAMETER_ROWS
from . import assembly

__all__ = ["Blocks", "ModelResult", "output_blocks", "run_rows", "run_model"]

#: The field of :class:`risk.glossary.Params` of each row of a parameter matrix.
_FIELDS = tuple(field_name(path) for path in PARAMETER_ROWS)


class Blocks(NamedTuple):
    """A run's stored values in three blocks, a draw to a column (float32 or float64)."""

    #: shape (len(OUTPUTS), horizon + 1, draws): every output, :data:`risk.glossary.OUTPUTS` order
    outputs: np.ndarray
    #: shape (len(CALIBRATED), draws): :data:`risk.glossary.CALIBRATED` order
    calibrated: np.ndarray
    #: shape (len(PARAMETERS), draws): the sampled parameters, rows in
    #: :data:`risk.streams.PARAMETER_ROWS` order
    parameters: np.ndarray

    def views(self) -> tuple[dict, dict, dict]:
        """Views by name: outputs (draws, horizon + 1); calibrated and parameters (draws,)."""
        return ({name: self.outputs[k].T for k, name in enumerate(OUTPUTS)},
                {name: self.calibrated[k] for k, name in enumerate(CALIBRATED)},
                dict(zip(PARAMETER_ROWS, self.parameters)))


def output_blocks(draws: int, horizon: int, dtype="float64", fill: float | None = None) -> Blocks:
    """Blocks for a run of ``draws`` draws over ``horizon`` projected years.

    ``fill``: a value to fill them with first (the tests fill with NaN and check that none is
    left: every output written); by default they are left as allocated.
    """
    shapes = ((len(OUTPUTS), horizon + 1, draws), (len(CALIBRATED), draws), (len(PARAMETERS), draws))
    if fill is None:
        return Blocks(*(np.empty(shape, dtype=dtype) for shape in shapes))
    return Blocks(*(np.full(shape, fill, dtype=dtype) for shape in shapes))


def run_rows(par: np.ndarray, shocks: np.ndarray, base: BaseData, horizon: int, blocks: Blocks, lo: int = 0) -> None:
    """Run the model for draws ``lo`` to ``lo + n`` of a run, writing them into its blocks.

    Parameters
    ----------
    par : ndarray, shape (len(PARAMETERS), n)
        The draws' parameters, rows in :data:`risk.streams.PARAMETER_ROWS` order.
    shocks : ndarray, shape (len(SHOCKS), horizon, n)
        Their shocks by stream (:data:`risk.glossary.SHOCKS`) and projected year.
    base : BaseData
        Base-year data.
    horizon : int
        Projected years H.
    blocks : Blocks
        The run's blocks; columns ``lo`` to ``lo + n`` are written: outputs computed in
        float64 and rounded once when stored, and the parameters as given.
    lo : int
        First draw of the run that these are.
    """
    n = par.shape[1]
    hi = lo + n
    p = Params(**dict(zip(_FIELDS, np.asarray(par, dtype=float))))
    with np.errstate(over="ignore"):  # exp of a far-off S-curve: 1 / (1 + inf) is the 0 it should be
        c, s, v, o, k = assembly.base_year(p, base, horizon)
        _put(blocks.outputs[:, 0, lo:hi], o)
        _put(blocks.calibrated[:, lo:hi], k)
        for t in range(1, horizon + 1):
            s, o = assembly.year(p, base, c, s, v, Shocks(*shocks[:, t - 1]), t, horizon)
            _put(blocks.outputs[:, t, lo:hi], o)
    blocks.parameters[:, lo:hi] = par


def _put(rows: np.ndarray, record) -> None:
    """``rows[k] = record[k]`` for every field k of a record (a float fills its row)."""
    for k, value in enumerate(record):
        rows[k] = value


class ModelResult(NamedTuple):
    """Outputs of :func:`run_model`."""

    #: every output of :data:`risk.glossary.OUTPUTS`, shape (draws, horizon + 1), column 0 the base year
    outputs: dict
    #: every value of :data:`risk.glossary.CALIBRATED`, shape (draws,)
    calibrated: dict


def run_model(params, shocks: np.ndarray, base: BaseData, horizon: int) -> ModelResult:
    """Run the model on given parameters and shocks (float64 outputs).

    Parameters
    ----------
    params : mapping of str to ndarray, shape (draws,)
        A value per draw of every parameter, by dotted path.
    shocks : ndarray, shape (len(SHOCKS), horizon, draws)
        From :func:`risk.sampling.sample_shocks`.
    base : BaseData
    horizon : int
        Projected years H.
    """
    par = np.stack([np.asarray(params[path], dtype=float) for path in PARAMETER_ROWS])
    blocks = output_blocks(par.shape[1], horizon)
    run_rows(par, shocks, base, horizon, blocks)
    outputs, calibrated, _ = blocks.views()
    return ModelResult(outputs, calibrated)
