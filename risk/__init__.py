"""risk: Monte Carlo scenarios of NVIDIA's and AWS's margins as hyperscalers move to their own chips.

The flow: scenario file -> :func:`load_scenario` -> :func:`simulate` -> xarray Dataset
(draw x year) -> :func:`save_run` / :func:`load_run`.
"""

from ._version import __version__
from .errors import DataError, ScenarioError
from . import accessor as _accessor  # noqa: F401  (registers ds.risk)
from .io import load_run, save_run
from .scenario import Scenario, load_scenario, scenario_from_dict
from .simulate import simulate

__all__ = [
    "__version__",
    "DataError",
    "Scenario",
    "ScenarioError",
    "load_run",
    "load_scenario",
    "save_run",
    "scenario_from_dict",
    "simulate",
]
