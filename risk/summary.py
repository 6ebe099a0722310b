"""Short summaries of a run: key quantiles by year, as a pandas DataFrame."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["KEY_MARGINS", "summary_years", "quantile_table"]

#: The margins a summary reports by default.
KEY_MARGINS = ("nvda_gross_margin", "nvda_operating_margin", "aws_operating_margin")


def summary_years(ds: xr.Dataset) -> list:
    """Years worth showing: the first projected year, 2028, 2030 and the horizon, as present.

    For quarterly outputs (a ``quarter`` dimension): the four quarters after the as-of quarter,
    then the last quarter of 2028, 2030 and the horizon.
    """
    if "quarter" in ds.dims:
        labels = [str(q) for q in ds["quarter"].values]
        after = [q for q, rep in zip(labels, ds["reported"].values) if not rep]
        wanted = after[:4] + [q for q in ("2028Q4", "2030Q4", labels[-1]) if q in after]
        return sorted(set(wanted), key=labels.index)
    years = [int(y) for y in ds["year"].values]
    wanted = [years[1] if len(years) > 1 else years[0], 2028, 2030, years[-1]]
    return sorted({y for y in wanted if y in years})


def quantile_table(
    ds: xr.Dataset,
    variables: Sequence[str] = KEY_MARGINS,
    years: Sequence[int] | None = None,
    probs: Sequence[float] = (0.05, 0.5, 0.95),
) -> pd.DataFrame:
    """Quantiles of ``variables`` in ``years`` over draws (weighted if the run has ``weight``).

    Returns
    -------
    pandas.DataFrame
        Index (variable, year); one column per probability, named ``P5``, ``P50``...; values
        in each variable's units.
    """
    missing = [v for v in variables if v not in ds]
    if missing:
        raise KeyError(f"no variable named {missing[0]!r}; variables include {', '.join(sorted(map(str, ds.data_vars))[:12])}...")
    from . import metrics

    years = list(summary_years(ds) if years is None else years)
    period = "quarter" if "quarter" in ds.dims else "year"
    w = ds["weight"].values if "weight" in ds else None
    rows = {}
    for var in variables:
        for year in years:
            x = ds[var].sel({period: year}).values
            rows[(var, year)] = np.array([q.value for q in metrics.quantiles(x, probs, w)])
    names = [f"P{100 * p:g}" for p in probs]
    index = pd.MultiIndex.from_tuples(list(rows), names=["variable", period])
    return pd.DataFrame(np.array(list(rows.values())), index=index, columns=names)
