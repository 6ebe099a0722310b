"""The ``ds.risk`` accessor: risk metrics of a run, labeled, with Monte Carlo errors.

Every method takes an output variable name and returns an xarray Dataset with ``value`` and
``se`` (its Monte Carlo standard error), over ``year`` (and ``quantile`` where asked), with
the variable's units::

    ds.risk.prob_below("nvda_gross_margin", 0.65).sel(year=2028)
    ds.risk.quantile("aws_operating_margin", [0.05, 0.5, 0.95])
    ds.risk.expected_shortfall("nvda_gross_margin", level=0.95)
    ds.risk.summary(["nvda_gross_margin", "aws_operating_margin"], years=[2028, 2030])

A run with a ``weight`` variable (dims draw, written by :func:`risk.update.update`) is
weighted by it in every statistic.
"""

from __future__ import annotations

import difflib
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics

__all__ = ["RiskAccessor"]


@xr.register_dataset_accessor("risk")
class RiskAccessor:
    """Risk metrics of a run (dims draw x year)."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    @property
    def weights(self) -> np.ndarray | None:
        """The run's draw weights, or None if it is unweighted."""
        return self._ds["weight"].values if "weight" in self._ds else None

    def _var(self, name: str) -> xr.DataArray:
        if name not in self._ds:
            from .io import missing_output_note

            note = missing_output_note(self._ds, name)
            if note is not None:
                raise KeyError(note)
            names = [str(v) for v in self._ds.data_vars if "draw" in self._ds[v].dims]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise KeyError(f"No variable named {name!r}{hint}. Variables on the dataset include {', '.join(names[:8])}, ...")
        return self._ds[name]

    def _apply(self, name: str, func: Callable[..., metrics.Estimate], long_name: str, units: str | None = None) -> xr.Dataset:
        da = self._var(name)
        w = self.weights
        if "year" in da.dims:
            est = [func(da.sel(year=y).values, w) for y in da["year"].values]
            coords = {"year": da["year"].values}
            value = xr.DataArray([e.value for e in est], dims="year", coords=coords)
            se = xr.DataArray([e.se for e in est], dims="year", coords=coords)
        else:
            e = func(da.values, w)
            value, se = xr.DataArray(e.value), xr.DataArray(e.se)
        units = da.attrs.get("units", "") if units is None else units
        out = xr.Dataset({"value": value, "se": se})
        out["value"].attrs = {"units": units, "long_name": f"{long_name} of {da.attrs.get('long_name', name)}"}
        out["se"].attrs = {"units": units, "long_name": "Monte Carlo standard error"}
        out.attrs = {"variable": name, "statistic": long_name, "draws": int(da.sizes["draw"])}
        return out

    def mean(self, name: str) -> xr.Dataset:
        """Mean over draws, by year."""
        return self._apply(name, metrics.mean, "mean")

    def std(self, name: str) -> xr.Dataset:
        """Standard deviation over draws, by year."""
        return self._apply(name, metrics.std, "standard deviation")

    def quantile(self, name: str, q: float | Sequence[float]) -> xr.Dataset:
        """Quantiles over draws, by year (a ``quantile`` dimension if ``q`` is a list)."""
        if np.ndim(q) == 0:
            return self._apply(name, lambda x, w: metrics.quantile(x, float(q), w), f"{float(q):g}-quantile")
        parts = [self._apply(name, lambda x, w, p=p: metrics.quantile(x, float(p), w), "quantile") for p in q]
        return xr.concat(parts, dim=pd.Index(list(q), name="quantile"), combine_attrs="override")

    def prob_below(self, name: str, threshold: float) -> xr.Dataset:
        """P(variable < threshold), by year."""
        return self._apply(name, lambda x, w: metrics.prob_below(x, threshold, w), f"probability below {threshold:g}", units="1")

    def prob_above(self, name: str, threshold: float) -> xr.Dataset:
        """P(variable > threshold), by year."""
        return self._apply(name, lambda x, w: metrics.prob_above(x, threshold, w), f"probability above {threshold:g}", units="1")

    def value_at_risk(self, name: str, level: float = 0.95, tail: str = "lower") -> xr.Dataset:
        """Value at risk at ``level`` in the ``tail`` (lower for margins), by year."""
        return self._apply(name, lambda x, w: metrics.value_at_risk(x, level, tail, w), f"{level:.0%} value at risk ({tail} tail)")

    def expected_shortfall(self, name: str, level: float = 0.95, tail: str = "lower") -> xr.Dataset:
        """Expected shortfall at ``level`` in the ``tail``, by year."""
        return self._apply(name, lambda x, w: metrics.expected_shortfall(x, level, tail, w), f"{level:.0%} expected shortfall ({tail} tail)")

    def summary(self, names: Sequence[str], years: Sequence[int] | None = None, level: float = 0.95,
                thresholds: dict[str, float] | None = None) -> pd.DataFrame:
        """Mean, P5, P50, P95, VaR, ES and threshold probabilities with errors, as a table.

        Index (variable, year, statistic); columns ``value`` and ``se``.
        """
        from .compare import DEFAULT_THRESHOLDS
        from .summary import summary_years

        thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
        years = list(years) if years is not None else summary_years(self._ds)
        rows = {}
        w = self.weights
        for name in names:
            da = self._var(name)
            for y in years:
                x = da.sel(year=y).values
                stats = {"mean": metrics.mean(x, w), "sd": metrics.std(x, w), "P5": metrics.quantile(x, 0.05, w),
                         "P50": metrics.quantile(x, 0.5, w), "P95": metrics.quantile(x, 0.95, w),
                         f"VaR {level:.0%}": metrics.value_at_risk(x, level, weights=w),
                         f"ES {level:.0%}": metrics.expected_shortfall(x, level, weights=w)}
                if name in thresholds:
                    stats[f"P(< {thresholds[name]:g})"] = metrics.prob_below(x, thresholds[name], w)
                for k, e in stats.items():
                    rows[(name, int(y), k)] = (e.value, e.se)
        index = pd.MultiIndex.from_tuples(list(rows), names=["variable", "year", "statistic"])
        return pd.DataFrame(list(rows.values()), index=index, columns=["value", "se"])
