"""The reference economic model (docs/model.md), one module per stage.

Stages are small pure functions of numpy arrays with draws on the leading axis;
:func:`risk.model.core.run_model` assembles them into a run, looping over years only.
"""

from .core import ModelResult, run_model

__all__ = ["ModelResult", "run_model"]
