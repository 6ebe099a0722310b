"""risk: Monte Carlo scenarios of NVIDIA's and AWS's margins as hyperscalers move to their own chips.

The flow: scenario file -> :func:`load_scenario` -> :func:`simulate` -> xarray Dataset
(draw x year) -> :func:`save_run` / :func:`load_run`; or, without storing draws,
:func:`summarise` -> a small Dataset of exact and bounded statistics.

xarray, dask and scipy.stats are imported where a run or a file needs them, so that a
command that only reads a scenario (``risk validate``) does not pay for them; ``load_run``,
``save_run`` and the scenario names are imported when first used.
"""

from importlib import import_module

from ._version import __version__
from .errors import DataError, ScenarioError
from .simulate import simulate  # the function, not the module of the same name
from .summarise import summarise  # likewise

__all__ = [
    "__version__",
    "DataError",
    "Scenario",
    "ScenarioError",
    "load_run",
    "load_scenario",
    "save_run",
    "save_update",
    "scenario_from_dict",
    "simulate",
    "summarise",
]

_LAZY = {
    "Scenario": "scenario", "load_scenario": "scenario", "scenario_from_dict": "scenario",
    "load_run": "io", "save_run": "io", "save_update": "io",
    "load_summary": "summarise", "save_summary": "summarise",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'risk' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
