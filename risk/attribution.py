"""What moved the median between two runs whose scenarios differ by overrides.

When one run's scenario builds on the other's (its file ``extends`` the other's, or the two
are one file with different ``--set`` overrides), each differing parameter is switched on
alone in the base scenario and run small, on the same seed and draws: common random numbers,
since every parameter draws from its own stream, keyed by name (:mod:`risk.streams`). Then
all are switched on together. The medians make a waterfall: the base, each parameter's step,
the interactions (what the steps do not add up to) and the variant.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd
import xarray as xr

from .scenario import Scenario
from .summary import KEY_MARGINS

__all__ = ["OverridePair", "override_pair", "differing_parameters", "median_waterfall"]


@dataclass(frozen=True)
class OverridePair:
    """Two runs' scenarios, one built on the other.

    Attributes
    ----------
    base, variant : Scenario
        The scenario built on, and the one that builds on it.
    flipped : bool
        True when the variant is the first run (its file is the one extended).
    """

    base: Scenario
    variant: Scenario
    flipped: bool


def _scenario_of(ds: xr.Dataset) -> Scenario | None:
    """The run's scenario, reloaded from its file with its overrides; None if the file is gone,
    the run is a mixture, or the file no longer gives the run's scenario (its hash differs)."""
    from .errors import ScenarioError
    from .scenario import load_scenario

    source = Path(str(ds.attrs.get("scenario_source", "")).removesuffix(" (overrides)"))
    if len(json.loads(ds.attrs.get("scenario_weights", "{}"))) != 1 or not source.is_file():
        return None
    try:
        sc = load_scenario(source)
        overrides = json.loads(ds.attrs.get("overrides", "{}"))
        sc = sc.with_overrides(overrides) if overrides else sc
    except (ScenarioError, ValueError):
        return None
    return sc if sc.hash == ds.attrs.get("scenario_hash") else None


def _builds_on(child: Scenario, parent: Scenario) -> bool:
    """Whether ``child`` is ``parent`` with more: the same file with further ``--set`` overrides,
    or a file that extends ``parent``'s (with at least ``parent``'s overrides)."""
    def file(sc: Scenario) -> Path:
        return Path(sc.source.removesuffix(" (overrides)")).resolve()

    kept = all(k in child.overrides and child.overrides[k] == v for k, v in parent.overrides.items())
    if file(child) == file(parent):
        return kept and child.overrides != parent.overrides
    return kept and any(Path(p).resolve() == file(parent) for p in child.extends)


def override_pair(a: xr.Dataset, b: xr.Dataset) -> OverridePair | None:
    """The scenarios of runs ``a`` and ``b`` when one builds on the other, else None."""
    sa, sb = _scenario_of(a), _scenario_of(b)
    if sa is None or sb is None or (sa.settings.base_year, sa.settings.horizon) != (sb.settings.base_year, sb.settings.horizon):
        return None
    if _builds_on(sb, sa):
        return OverridePair(sa, sb, flipped=False)
    if _builds_on(sa, sb):
        return OverridePair(sb, sa, flipped=True)
    return None


def differing_parameters(base: Scenario, variant: Scenario) -> list[str]:
    """Parameters whose distributions differ between two scenarios, in glossary order."""
    return [p for p, d in base.parameters.items() if p in variant.parameters and d.describe() != variant.parameters[p].describe()]


def _with(base: Scenario, variant: Scenario, params: Sequence[str]) -> Scenario:
    """``base`` with the distributions of ``params`` taken from ``variant``."""
    out = copy.copy(base)
    out.parameters = {**base.parameters, **{p: variant.parameters[p] for p in params}}
    return out


def median_waterfall(pair: OverridePair, year: int, variables: Sequence[str] = KEY_MARGINS, draws: int = 4096,
                     seed: int = 0, sampling: str | None = None) -> pd.DataFrame:
    """Medians of ``variables`` in ``year``: the base, each differing parameter switched on alone,
    and all of them together, each a run of ``draws`` on one ``seed``.

    Returns
    -------
    pandas.DataFrame
        Rows by variable: ``step`` ``base``, then each parameter, ``interactions`` and ``all``;
        ``median`` (the run's median; for a parameter: the base with it alone; for
        interactions: NaN), ``change`` (a parameter: its run minus the base; interactions:
        all minus base minus the parameters' changes; base and all: their median minus the
        base's), ``units`` of the variable. Empty when no parameter differs.
    """
    from .simulate import simulate

    params = differing_parameters(pair.base, pair.variant)
    if not params:
        return pd.DataFrame(columns=["variable", "year", "step", "median", "change", "units"])

    def medians(sc: Scenario) -> dict[str, float]:
        ds = simulate(sc, draws=draws, seed=seed, sampling=sampling)
        return {v: float(ds[v].sel(year=year).median()) for v in variables}

    base = medians(pair.base)
    alone = {p: medians(_with(pair.base, pair.variant, [p])) for p in params}
    together = medians(_with(pair.base, pair.variant, params))
    units = {v: _units(v) for v in variables}
    rows = []
    for v in variables:
        steps = {p: alone[p][v] - base[v] for p in params}
        rows.append((v, year, "base", base[v], 0.0, units[v]))
        rows += [(v, year, p, alone[p][v], steps[p], units[v]) for p in params]
        rows.append((v, year, "interactions", float("nan"), together[v] - base[v] - sum(steps.values()), units[v]))
        rows.append((v, year, "all", together[v], together[v] - base[v], units[v]))
    return pd.DataFrame(rows, columns=["variable", "year", "step", "median", "change", "units"])


def _units(variable: str) -> str:
    from .export import unit_name
    from .glossary import OUTPUTS

    return unit_name(OUTPUTS[variable].units) if variable in OUTPUTS else ""
