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
from ..glossary import AGGREGATION, CALIBRATED, OUTPUTS, PARAMETERS, Params, Shocks, field_name
from ..streams import PARAMETER_ROWS
from . import assembly
from .clock import steps as clock_steps

__all__ = ["Blocks", "ModelResult", "output_blocks", "projected_steps", "output_periods", "run_rows", "run_model",
           "annual"]

#: The field of :class:`risk.glossary.Params` of each row of a parameter matrix.
_FIELDS = tuple(field_name(path) for path in PARAMETER_ROWS)


class Blocks(NamedTuple):
    """A run's stored values in three blocks, a draw to a column (float32 or float64)."""

    #: shape (len(OUTPUTS), periods, draws): every output, :data:`risk.glossary.OUTPUTS` order, a
    #: column a year (horizon + 1) or, for quarterly outputs, a quarter (4·(horizon + 1))
    outputs: np.ndarray
    #: shape (len(CALIBRATED), draws): :data:`risk.glossary.CALIBRATED` order
    calibrated: np.ndarray
    #: shape (len(PARAMETERS), draws): the sampled parameters, rows in
    #: :data:`risk.streams.PARAMETER_ROWS` order
    parameters: np.ndarray

    def views(self) -> tuple[dict, dict, dict]:
        """Views by name: outputs (draws, periods); calibrated and parameters (draws,)."""
        return ({name: self.outputs[k].T for k, name in enumerate(OUTPUTS)},
                {name: self.calibrated[k] for k, name in enumerate(CALIBRATED)},
                dict(zip(PARAMETER_ROWS, self.parameters)))


def projected_steps(base: BaseData, horizon: int) -> int:
    """Steps the model projects: ``horizon`` years on an annual clock; on a quarterly one, the
    quarters after q* to the last quarter of the base year + ``horizon``."""
    if base.anchor_quarter is None:
        return horizon
    return (base.base_year + horizon) * 4 + 3 - (base.anchor_year * 4 + base.anchor_quarter - 1)


def output_periods(horizon: int, quarterly: bool = False) -> int:
    """Columns of a run's outputs: the years from the base year to the horizon, or their quarters."""
    return 4 * (horizon + 1) if quarterly else horizon + 1


def output_blocks(draws: int, horizon: int, dtype="float64", fill: float | None = None, quarterly: bool = False) -> Blocks:
    """Blocks for a run of ``draws`` draws over ``horizon`` years after the base year.

    ``fill``: a value to fill them with first (the tests fill with NaN and check that none is
    left: every output written); by default they are left as allocated. ``quarterly``: a
    column a quarter instead of a year.
    """
    shapes = ((len(OUTPUTS), output_periods(horizon, quarterly), draws), (len(CALIBRATED), draws), (len(PARAMETERS), draws))
    if fill is None:
        return Blocks(*(np.empty(shape, dtype=dtype) for shape in shapes))
    return Blocks(*(np.full(shape, fill, dtype=dtype) for shape in shapes))


def run_rows(par: np.ndarray, shocks: np.ndarray, base: BaseData, horizon: int, blocks: Blocks, lo: int = 0) -> None:
    """Run the model for draws ``lo`` to ``lo + n`` of a run, writing them into its blocks.

    Parameters
    ----------
    par : ndarray, shape (len(PARAMETERS), n)
        The draws' parameters, rows in :data:`risk.streams.PARAMETER_ROWS` order.
    shocks : ndarray, shape (len(SHOCKS), steps, n)
        Their shocks by stream (:data:`risk.glossary.SHOCKS`) and projected step, at least
        :func:`projected_steps` of them.
    base : BaseData
        The anchor's data: the base year (annual clock) or q* (quarterly clock).
    horizon : int
        Years after the base year H.
    blocks : Blocks
        The run's blocks; columns ``lo`` to ``lo + n`` are written: outputs computed in
        float64 and rounded once when stored, and the parameters as given. On a quarterly
        clock, with a column a year the quarters are summed into years (:func:`annual`);
        with a column a quarter they are stored as they are.
    lo : int
        First draw of the run that these are.
    """
    n = par.shape[1]
    hi = lo + n
    K = projected_steps(base, horizon)
    if shocks.shape[1] < K:
        raise ValueError(f"shocks for {shocks.shape[1]} steps; the run projects {K} (risk.model.engine.projected_steps)")
    p = Params(**dict(zip(_FIELDS, np.asarray(par, dtype=float))))
    quarterly = base.anchor_quarter is not None
    out = np.empty((len(OUTPUTS), 4 * (horizon + 1), n)) if quarterly else blocks.outputs[:, :, lo:hi]
    first = K + 1 - out.shape[1]  # the step of column 0 (0 the anchor; < 0: reported quarters before it)
    with np.errstate(over="ignore"):  # exp of a far-off S-curve: 1 / (1 + inf) is the 0 it should be
        c, s, v, o, k = assembly.base_year(p, base, K)
        _put(out[:, -first], o)
        if quarterly:
            _reported(out[:, : -first], o, base)
        _put(blocks.calibrated[:, lo:hi], k)
        for st in clock_steps(base.anchor_year, base.anchor_quarter, K):
            s, o = assembly.year(p, base, c, s, v, Shocks(*shocks[:, st.k - 1]), st, K)
            _put(out[:, st.k - first], o)
    if quarterly:
        if blocks.outputs.shape[1] == out.shape[1]:
            blocks.outputs[:, :, lo:hi] = out
        else:
            blocks.outputs[:, :, lo:hi] = annual(out)
    blocks.parameters[:, lo:hi] = par


def _reported(rows: np.ndarray, anchor, base: BaseData) -> None:
    """The quarters before q*: reported figures where the data has them, else the anchor's values."""
    for k, name in enumerate(anchor._fields):
        rows[k] = anchor[k]
        if name in base.reported:
            data = base.reported[name][:-1]
            known = np.isfinite(data)
            rows[k][known] = data[known][:, None]


def annual(quarters: np.ndarray) -> np.ndarray:
    """Years from quarters (:data:`risk.glossary.AGGREGATION`): flows summed, margins and
    spend shares as ratios of sums, the rest as quarterly means.

    Parameters
    ----------
    quarters : ndarray, shape (len(OUTPUTS), 4·years, draws)

    Returns
    -------
    ndarray, shape (len(OUTPUTS), years, draws)
    """
    q = quarters.reshape(quarters.shape[0], -1, 4, quarters.shape[2])
    index = {name: i for i, name in enumerate(OUTPUTS)}
    years = np.empty((q.shape[0], q.shape[1], q.shape[3]))
    for name, how in AGGREGATION.items():
        i = index[name]
        if how == "sum":
            years[i] = q[i].sum(axis=1)
        elif how == "mean":
            years[i] = q[i].mean(axis=1)
        elif how in index:  # a ratio: weighted by the flow it is a ratio to
            w = q[index[how]]
            years[i] = (q[i] * w).sum(axis=1) / w.sum(axis=1)
    om, om_cf = years[index["aws_operating_margin"]], years[index["aws_operating_margin_all_gpu"]]
    years[index["aws_margin_uplift"]] = om - om_cf
    years[index["aws_margin_uplift_bp"]] = (om - om_cf) * 1e4
    return years


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


def run_model(params, shocks: np.ndarray, base: BaseData, horizon: int, quarterly: bool = False) -> ModelResult:
    """Run the model on given parameters and shocks (float64 outputs).

    Parameters
    ----------
    params : mapping of str to ndarray, shape (draws,)
        A value per draw of every parameter, by dotted path.
    shocks : ndarray, shape (len(SHOCKS), steps, draws)
        From :func:`risk.sampling.sample_shocks`, :func:`projected_steps` steps.
    base : BaseData
    horizon : int
        Years after the base year H.
    quarterly : bool
        Outputs a column a quarter (quarterly clock only).
    """
    par = np.stack([np.asarray(params[path], dtype=float) for path in PARAMETER_ROWS])
    blocks = output_blocks(par.shape[1], horizon, quarterly=quarterly)
    run_rows(par, shocks, base, horizon, blocks)
    outputs, calibrated, _ = blocks.views()
    return ModelResult(outputs, calibrated)
