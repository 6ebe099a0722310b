"""Charts of a run: fan chart, distribution by scenario, rank-correlation tornado, joint distribution.

Each function takes a run (or an analysis result) and returns a matplotlib Figure; axis
labels and units come from the Dataset's attrs, and margins are shown in percent. Draw
weights (an updated run) are respected. matplotlib and seaborn are imported inside. The
figures are made outside pyplot: the package chooses no backend (a notebook shows a figure
as a cell's value; ``fig.savefig`` writes one anywhere).
"""

from __future__ import annotations

import functools
import io
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics

__all__ = ["palette", "FAN_PROBS", "fan_chart", "fan_figure", "fan_bands", "distribution", "cdf_chart", "waterfall_chart", "tornado_chart", "joint", "to_svg", "label"]


def _figure(figsize: tuple[float, float]):
    """A matplotlib Figure of ``figsize`` inches, outside pyplot: no backend is chosen or forced,
    nothing keeps it alive after use, and a notebook shows it once, as a PNG, where it is a
    cell's value."""
    return _chart_class()(figsize=figsize)


@functools.cache
def _chart_class():
    from matplotlib.figure import Figure

    class Chart(Figure):
        """A Figure that shows itself as a PNG image where it is a notebook cell's value."""

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=110, bbox_inches="tight")
            return buf.getvalue()

    return Chart


def palette(labels: Sequence[str]) -> dict[str, str]:
    """One colour per label (a run or a scenario), as ``#rrggbb``, for every chart of a report:
    seaborn's colour-blind palette in the order of ``labels`` (husl beyond ten)."""
    import seaborn as sns

    labels = list(dict.fromkeys(labels))
    colours = sns.color_palette("colorblind" if len(labels) <= 10 else "husl", len(labels)).as_hex()
    return dict(zip(labels, colours))


def label(da: xr.DataArray) -> str:
    """'long name [units]' from a variable's attrs; fractions are labelled in percent."""
    units = da.attrs.get("units", "")
    name = da.attrs.get("long_name", da.name)
    return f"{name} [%]" if units == "1" else f"{name} [{units}]" if units else str(name)


def _percent(ax, axis="y"):
    from matplotlib.ticker import PercentFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))


def _legend_below(fig, ax, ncol: int = 4) -> None:
    """One legend for the figure, below the panels."""
    handles, labels = ax.get_legend_handles_labels()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=6.5, frameon=False)
        fig.tight_layout(rect=(0, 0.06 + 0.05 * ((len(labels) - 1) // ncol), 1, 1))


def _central(x: np.ndarray, lo: float = 0.005, hi: float = 0.995) -> tuple[float, float]:
    """Axis limits covering the central 99% of ``x``, padded by 5%."""
    a, b = np.quantile(x, [lo, hi])
    pad = 0.05 * (b - a or 1.0)
    return a - pad, b + pad


def _weights(ds: xr.Dataset) -> np.ndarray | None:
    return ds["weight"].values if "weight" in ds else None


def _sample(ds: xr.Dataset, max_draws: int = 20_000, seed: int = 0) -> xr.Dataset:
    """At most ``max_draws`` draws for plotting: resampled by weight if the run is weighted."""
    n = ds.sizes["draw"]
    w = _weights(ds)
    if n <= max_draws and w is None:
        return ds
    rng = np.random.default_rng(seed)
    p = None if w is None else w / w.sum()
    idx = rng.choice(n, size=min(n, max_draws), replace=w is not None, p=p)
    out = ds.isel(draw=np.sort(idx))
    return out.drop_vars("weight") if "weight" in out else out


#: Quantiles of a fan chart: the 5-95% and 25-75% bands and the median.
FAN_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)


def fan_chart(ds: xr.Dataset, variables: Sequence[str], probs=FAN_PROBS, by_scenario: bool = False,
              colors: dict[str, str] | None = None, pooled: bool = True):
    """Quantile bands over the years, one panel per variable (median lines by scenario if asked).

    ``colors`` (:func:`palette`) colours each scenario's lines; with ``pooled=False`` each
    scenario (a run of a comparison) gets its own outer band and median instead of the pooled
    bands. The bands are :func:`fan_bands` of the draws, drawn by :func:`fan_figure`.
    """
    w = _weights(ds)
    several = by_scenario and "scenario" in ds.coords and len(np.unique(ds["scenario"].values)) > 1
    groups = _groups(ds) if several else []
    panels = []
    for var in variables:
        da = ds[var]
        panel = {"title": da.attrs.get("long_name", var), "ylabel": label(da), "percent": da.attrs.get("units") == "1",
                 "bands": fan_bands(da, probs, w) if pooled or not several else None}
        if pooled:
            panel["medians"] = {name: part[var].median("draw").values for name, part in groups}
        else:
            panel["group_bands"] = {name: fan_bands(part[var], probs, _weights(part)) for name, part in groups}
        panels.append(panel)
    return fan_figure(ds["year"].values, panels, probs, colors)


def fan_figure(years, panels: Sequence[dict], probs=FAN_PROBS, colors: dict[str, str] | None = None):
    """Draw fan charts, one panel per dict of ``panels``, from quantiles already computed.

    Parameters
    ----------
    years : array of int, shape (years,)
    panels : sequence of dict
        ``title``, ``ylabel``, ``percent`` (a fraction axis shown in percent), and any of
        ``bands`` (array (len(probs), years): the pooled quantiles, in the variable's units),
        ``medians`` ({name: array (years,)}: dashed median lines by scenario) and
        ``group_bands`` ({name: array (len(probs), years)}: an outer band and median by scenario).
    probs : sequence of float
        Probabilities of the bands' rows, symmetric about the median (5 rows: two bands and the median).
    colors : dict, optional
        Colour by scenario name (:func:`palette`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure(figsize=(2.45 * len(panels), 2.7))
    axes = fig.subplots(1, len(panels), squeeze=False)
    mid = len(probs) // 2
    for ax, panel in zip(axes[0], panels):
        q = panel.get("bands")
        if q is not None:
            ax.fill_between(years, q[0], q[-1], color="#4C72B0", alpha=0.18, lw=0, label=f"P{100 * probs[0]:g}-P{100 * probs[-1]:g}")
            ax.fill_between(years, q[1], q[-2], color="#4C72B0", alpha=0.35, lw=0, label=f"P{100 * probs[1]:g}-P{100 * probs[-2]:g}")
            ax.plot(years, q[mid], color="#1f3b73", lw=1.8, label="median")
        for name, med in (panel.get("medians") or {}).items():
            ax.plot(years, med, lw=0.9, ls="--", color=(colors or {}).get(name), label=name)
        for name, gq in (panel.get("group_bands") or {}).items():
            color = (colors or {}).get(name)
            ax.fill_between(years, gq[0], gq[-1], color=color, alpha=0.15, lw=0)
            ax.plot(years, gq[mid], lw=1.6, color=color, label=f"{name}: median, P{100 * probs[0]:g}-P{100 * probs[-1]:g}")
        ax.set_title(panel["title"], fontsize=8)
        ax.set_xlabel("year", fontsize=7)
        ax.set_ylabel(panel["ylabel"], fontsize=7)
        ax.tick_params(labelsize=6.5)
        if panel.get("percent"):
            _percent(ax)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _legend_below(fig, axes[0][0], ncol=5)
    return fig


def fan_bands(da: xr.DataArray, probs=FAN_PROBS, w=None) -> np.ndarray:
    """Quantiles ``probs`` of the draws ``da`` (draw, year) by year, weighted by ``w`` if given.

    Returns
    -------
    ndarray, shape (len(probs), years)
        Rows by probability, in the variable's units (numpy's linear quantile, as :func:`risk.metrics.quantile`).
    """
    if w is None:
        return np.quantile(da.transpose("draw", "year").values, probs, axis=0)
    return np.array([[metrics.quantile(da.sel(year=y).values, p, w).value for y in da["year"].values] for p in probs])


def _groups(ds: xr.Dataset):
    """(scenario name, its draws) in order of first appearance."""
    names = list(dict.fromkeys(str(n) for n in ds["scenario"].values))
    return [(n, ds.isel(draw=np.flatnonzero(ds["scenario"].values == n))) for n in names]


def distribution(ds: xr.Dataset, variables: Sequence[str], year: int, colors: dict[str, str] | None = None):
    """Density of each variable in ``year``, one curve per scenario (coloured by ``colors``,
    :func:`palette`), one panel per variable."""
    import seaborn as sns

    fig = _figure(figsize=(2.45 * len(variables), 2.5))
    axes = fig.subplots(1, len(variables), squeeze=False)
    small = _sample(ds)
    scen = small["scenario"].values if "scenario" in small.coords else np.full(small.sizes["draw"], "run")
    for ax, var in zip(axes[0], variables):
        frame = pd.DataFrame({"value": small[var].sel(year=year).values, "scenario": scen})
        multi = frame["scenario"].nunique() > 1
        for name, part in frame.groupby("scenario", sort=False) if multi else [("all draws", frame)]:
            sns.kdeplot(part["value"], ax=ax, fill=not multi, warn_singular=False, linewidth=1.0, label=str(name),
                        color=(colors or {}).get(str(name)) if multi else None)
        ax.set_xlim(*_central(frame["value"].to_numpy()))
        ax.set_title(f"{ds[var].attrs.get('long_name', var)}, {year}", fontsize=8)
        ax.set_xlabel(label(ds[var]), fontsize=7)
        ax.set_ylabel("density", fontsize=7)
        ax.tick_params(labelsize=6.5)
        if ds[var].attrs.get("units") == "1":
            _percent(ax, "x")
    fig.tight_layout()
    if multi:
        _legend_below(fig, axes[0][0], ncol=4)
    return fig


def cdf_chart(runs: dict[str, xr.Dataset], variables: Sequence[str], year: int, colors: dict[str, str] | None = None,
              thresholds: dict[str, float] | None = None):
    """Cumulative distributions in ``year``, one curve per run (``label -> run``), overlaid, one
    panel per variable: the height at x is P(variable < x). Dotted: ``thresholds``."""
    fig = _figure(figsize=(2.45 * len(variables), 2.5))
    axes = fig.subplots(1, len(variables), squeeze=False)
    for ax, var in zip(axes[0], variables):
        lo, hi = [], []
        for name, ds in runs.items():
            x = ds[var].sel(year=year).values.astype(float)
            w = _weights(ds)
            order = np.argsort(x, kind="stable")
            cum = np.cumsum(np.ones_like(x) if w is None else w[order])
            ax.step(x[order], cum / cum[-1], where="post", lw=1.2, color=(colors or {}).get(name), label=name)
            a, b = _central(x)
            lo.append(a)
            hi.append(b)
        if thresholds and var in thresholds:
            ax.axvline(thresholds[var], color="#555555", lw=0.7, ls=":")
        first = next(iter(runs.values()))
        ax.set_xlim(min(lo), max(hi))
        ax.set_ylim(0, 1)
        ax.set_title(f"{first[var].attrs.get('long_name', var)}, {year}", fontsize=8)
        ax.set_xlabel(label(first[var]), fontsize=7)
        ax.set_ylabel("probability below", fontsize=7)
        ax.tick_params(labelsize=6.5)
        _percent(ax, "y")
        if first[var].attrs.get("units") == "1":
            _percent(ax, "x")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _legend_below(fig, axes[0][0], ncol=4)
    return fig


def waterfall_chart(steps: pd.DataFrame, base: str, variant: str, colors: dict[str, str] | None = None,
                    long_names: dict[str, str] | None = None):
    """What moved the median from run ``base`` to run ``variant``: one panel per variable of
    ``steps`` (:func:`risk.attribution.median_waterfall`); the base and variant medians as bars
    in their runs' colours (``colors``), each parameter's change alone and the interactions as
    floating bars between them (green up, red down)."""
    variables = list(dict.fromkeys(steps["variable"]))
    n_steps = steps["step"].nunique()
    fig = _figure(figsize=(6.6, 0.6 + (0.19 * n_steps + 0.45) * len(variables)))
    axes = fig.subplots(len(variables), 1, squeeze=False)
    colors = colors or {}
    for ax, var in zip(axes[:, 0], variables):
        part = steps[steps["variable"] == var].reset_index(drop=True)
        fraction = part["units"].iloc[0] == "fraction"
        level = float(part["median"].iloc[0])
        names, lefts, widths, colours = [], [], [], []
        for _, row in part.iterrows():
            if row["step"] == "base":
                names.append(f"{base} (median)")
                lefts.append(0.0)
                widths.append(level)
                colours.append(colors.get(base, "#4C72B0"))
            elif row["step"] == "all":
                names.append(f"{variant} (median)")
                lefts.append(0.0)
                widths.append(float(row["median"]))
                colours.append(colors.get(variant, "#DD8452"))
            else:
                change = float(row["change"])
                names.append(str(row["step"]))
                lefts.append(level)
                widths.append(change)
                colours.append("#55A868" if change >= 0 else "#C44E52")
                level += change
        y = np.arange(len(names))[::-1]
        ax.barh(y, widths, left=lefts, color=colours, height=0.7)
        ax.set_yticks(y, names, fontsize=6.5)
        levels = [a + b for a, b in zip(lefts, widths)] + [a for a, b in zip(lefts, widths) if a != 0]
        lo, hi = min(levels), max(levels)
        pad = 0.3 * (hi - lo) if hi > lo else 0.05 * abs(hi) or 0.01
        ax.set_xlim(lo - pad, hi + pad)  # a zoom: the median bars run in from the left edge
        ax.set_title((long_names or {}).get(var, var) + f", {int(part['year'].iloc[0])}: median from {base} to {variant}",
                     fontsize=8)
        ax.tick_params(axis="x", labelsize=6.5)
        if fraction:
            from matplotlib.ticker import PercentFormatter

            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1 if hi - lo < 0.05 else 0))
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def tornado_chart(values: pd.Series, title: str, xlabel: str, top: int = 10):
    """Horizontal bars of ``values`` (parameter -> effect), largest absolute first."""
    v = values.reindex(values.abs().sort_values(ascending=False).index)[:top][::-1]
    fig = _figure(figsize=(6.2, 0.28 * len(v) + 0.9))
    ax = fig.subplots()
    ax.barh(range(len(v)), v.values, color=np.where(v.values < 0, "#C44E52", "#4C72B0"))
    ax.set_yticks(range(len(v)), [str(i) for i in v.index], fontsize=7)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def joint(ds: xr.Dataset, x: str, y: str, year: int):
    """Joint distribution of two outputs in ``year`` (hexbin density with marginal medians)."""
    small = _sample(ds)
    xv, yv = small[x].sel(year=year).values, small[y].sel(year=year).values
    (x0, x1), (y0, y1) = _central(xv, 0.01, 0.99), _central(yv, 0.01, 0.99)
    fig = _figure(figsize=(5.0, 3.5))
    ax = fig.subplots()
    hb = ax.hexbin(xv, yv, gridsize=40, cmap="Blues", mincnt=1, extent=(x0, x1, y0, y1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    fig.colorbar(hb, ax=ax, label="draws")
    ax.axvline(np.median(xv), color="#C44E52", lw=0.8, ls="--")
    ax.axhline(np.median(yv), color="#C44E52", lw=0.8, ls="--")
    ax.set_xlabel(label(ds[x]), fontsize=7)
    ax.set_ylabel(label(ds[y]), fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.set_title(f"{year}, central 98% of draws", fontsize=8)
    if ds[x].attrs.get("units") == "1":
        _percent(ax, "x")
    if ds[y].attrs.get("units") == "1":
        _percent(ax, "y")
    fig.tight_layout()
    return fig


def pit_histogram(pit: np.ndarray, bins: int = 10, title: str = "backtest PIT"):
    """Histogram of PIT values (the share of draws at or below each actual) in ``bins`` equal bins
    of [0, 1], with the flat line a calibrated forecast would give. [count]"""
    counts, edges = np.histogram(np.asarray(pit, dtype=float), bins=bins, range=(0.0, 1.0))
    fig = _figure(figsize=(5.0, 2.4))
    ax = fig.subplots()
    ax.bar(edges[:-1], counts, width=1.0 / bins, align="edge", color="#4C72B0", edgecolor="white")
    ax.axhline(len(pit) / bins, color="#C44E52", lw=0.8, ls="--", label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT: share of draws at or below the reported figure", fontsize=7)
    ax.set_ylabel("scored points", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6.5, frameon=False)
    fig.tight_layout()
    return fig


def to_svg(fig) -> str:
    """The figure as an SVG string."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]
