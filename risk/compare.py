"""Comparing runs: key statistics side by side, their differences, and what changed."""

from __future__ import annotations

import json
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics
from .summary import KEY_MARGINS, summary_years

__all__ = ["DEFAULT_THRESHOLDS", "compare_runs", "scenario_diff", "run_label", "unique_names"]

#: Thresholds whose downside probabilities a comparison reports, by variable. [1]
DEFAULT_THRESHOLDS = {"nvda_gross_margin": 0.65, "nvda_operating_margin": 0.55, "aws_operating_margin": 0.30}


def run_label(ds: xr.Dataset) -> str:
    """'scenario (seed S, N draws)' for a run."""
    return f"{ds.attrs.get('scenario', '?')} (seed {ds.attrs.get('seed', '?')}, {ds.sizes['draw']:,} draws)"


def _stats(x: np.ndarray, probs, threshold, weights=None) -> dict[str, metrics.Estimate]:
    out = {"mean": metrics.mean(x, weights)}
    for p in probs:
        out[f"P{100 * p:g}"] = metrics.quantile(x, p, weights)
    if threshold is not None:
        out[f"P(< {threshold:g})"] = metrics.prob_below(x, threshold, weights)
    return out


def unique_names(names: Sequence[str]) -> list[str]:
    """``names``, numbered ``name #i`` when any repeats (two runs of one scenario, say)."""
    names = list(names)
    return [f"{n} #{i + 1}" for i, n in enumerate(names)] if len(set(names)) < len(names) else names


def compare_runs(
    runs: Sequence[xr.Dataset],
    names: Sequence[str] | None = None,
    variables: Sequence[str] = KEY_MARGINS,
    years: Sequence[int] | None = None,
    probs: Sequence[float] = (0.05, 0.5, 0.95),
    thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """Key statistics of ``runs`` side by side, with differences from the first run.

    Runs with a ``weight`` variable (updated on data) are weighted by it.

    Returns
    -------
    pandas.DataFrame
        Index (variable, year, statistic); for each run a value column (its name) and a
        ``se`` column; for each later run ``diff`` (run minus first) and ``diff se``
        (independent runs: sqrt(se_a² + se_b²)). Units of each variable.
    """
    if len(runs) < 1:
        raise ValueError("give at least one run")
    names = unique_names(list(names) if names is not None else [ds.attrs.get("scenario", f"run{i}") for i, ds in enumerate(runs)])
    years = list(years) if years is not None else summary_years(runs[0])
    rows = {}
    for var in variables:
        for year in years:
            per_run = [_stats(ds[var].sel(year=year).values, probs, thresholds.get(var), ds["weight"].values if "weight" in ds else None)
                       for ds in runs]
            for stat in per_run[0]:
                row = {}
                for name, st in zip(names, per_run):
                    row[name], row[f"{name} se"] = st[stat].value, st[stat].se
                for name, st in zip(names[1:], per_run[1:]):
                    row[f"{name} diff"] = st[stat].value - per_run[0][stat].value
                    row[f"{name} diff se"] = float(np.hypot(st[stat].se, per_run[0][stat].se))
                rows[(var, year, stat)] = row
    index = pd.MultiIndex.from_tuples(list(rows), names=["variable", "year", "statistic"])
    return pd.DataFrame(list(rows.values()), index=index)


def _assumptions(ds: xr.Dataset) -> dict[str, dict]:
    return json.loads(ds.attrs.get("scenarios_json", "{}"))


def scenario_diff(a: xr.Dataset, b: xr.Dataset) -> pd.DataFrame:
    """What differs between the assumptions of two runs: settings, weights and parameters.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario``, ``path``, ``a``, ``b``: one row per setting or parameter whose
        resolved distribution differs (for mixtures, per member scenario present in both).
    """
    rows = []
    for key in ("seed", "draws", "sampling", "base_year", "horizon", "scenario_weights", "overrides"):
        va, vb = a.attrs.get(key), b.attrs.get(key)
        if va != vb:
            rows.append(("(run)", key, str(va), str(vb)))
    sa, sb = _assumptions(a), _assumptions(b)
    pairs = [(n, n) for n in sa if n in sb] or ([(next(iter(sa)), next(iter(sb)))] if len(sa) == 1 and len(sb) == 1 else [])
    for na, nb in pairs:
        pa, pb = sa[na].get("parameters", {}), sb[nb].get("parameters", {})
        label = na if na == nb else f"{na} / {nb}"
        for path in pa:
            if pa[path].get("resolved") != pb.get(path, {}).get("resolved"):
                rows.append((label, path, pa[path].get("resolved"), pb.get(path, {}).get("resolved")))
        if sa[na].get("correlations") != sb[nb].get("correlations"):
            rows.append((label, "correlations", json.dumps(sa[na].get("correlations")), json.dumps(sb[nb].get("correlations"))))
    only = [n for n in sa if n not in sb] + [n for n in sb if n not in sa]
    for n in only if len(pairs) != 1 or len(sa) > 1 else []:
        rows.append((n, "(scenario)", "present" if n in sa else "absent", "present" if n in sb else "absent"))
    return pd.DataFrame(rows, columns=["scenario", "path", "a", "b"])
