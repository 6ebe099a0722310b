"""The reference economic model (docs/model.md), one module per stage.

Stages are small pure functions of numpy arrays with draws on the leading axis (and of
plain floats alike); :func:`risk.model.core.run_model` assembles them into a run, looping
over years only, and :func:`risk.model.kernel.run_model_fused` compiles the same functions
into one loop over tiles of draws, the engine :func:`risk.simulate` uses by default.
"""

from .core import ModelResult, run_model

__all__ = ["ModelResult", "run_model"]
