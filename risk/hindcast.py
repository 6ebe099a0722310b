"""Hindcast: where reported figures fall in a run's predicted distributions.

For each reported series and year after the run's base year: the actual value, P5/P50/P95,
the actual's percentile rank in the predicted distribution, whether it falls in the central
50% and 90% intervals, and the continuous ranked probability score (CRPS, from
``properscoring``; in the series' units, lower is better). Coverage of the 50% and 90%
intervals over all series and years says whether the ranges were too narrow. Against the
quarterly data, two naive forecasts made at the run's origin (:func:`risk.reported.naive_forecasts`)
give the CRPS skill of the run: above 0 it beats them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import properscoring
import xarray as xr

from . import metrics
from .data import read_actuals
from .io import atomic_path

__all__ = ["HINDCAST_SERIES", "actual_values", "score", "skill", "origin_date", "hindcast", "to_markdown"]

#: Reported series scored, with the output that predicts each.
HINDCAST_SERIES = {
    "nvda_revenue": "nvda_revenue",
    "nvda_gross_margin": "nvda_gross_margin",
    "aws_revenue": "aws_revenue",
    "aws_operating_margin": "aws_operating_margin",
    "amazon_capex": "amazon_capex",
}


def actual_values(data_dir: str | Path) -> pd.DataFrame:
    """Reported values by (series, year) with their tag; AWS's operating margin from income and revenue."""
    df = read_actuals(data_dir)
    rows = df[df["series"].isin(HINDCAST_SERIES)][["series", "year", "value", "tag"]]
    inc = df[df["series"] == "aws_operating_income"].set_index("year")
    rev = df[df["series"] == "aws_revenue"].set_index("year")
    om = [("aws_operating_margin", y, inc.at[y, "value"] / rev.at[y, "value"], "D") for y in inc.index if y in rev.index]
    rows = pd.concat([rows, pd.DataFrame(om, columns=["series", "year", "value", "tag"])], ignore_index=True)
    return rows.set_index(["series", "year"]).sort_index()


def origin_date(base_year: int) -> pd.Timestamp:
    """When a run from ``base_year`` could have been made: its fourth-quarter releases are out
    (AWS's by early February, NVIDIA's by late February)."""
    return pd.Timestamp(f"{base_year + 1}-02-28")


def score(ds: xr.Dataset, actuals: pd.DataFrame, quarterly: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score a run against actuals for every series and projected year both have.

    With ``quarterly`` (:func:`risk.data.read_quarterly`), each row also carries the two
    naive forecasts made from the data known at the run's origin (:func:`origin_date`;
    :func:`risk.reported.naive_forecasts`: the last quarter's run-rate held flat, and the
    trailing four quarters' growth extrapolated) and their CRPS, the absolute error of a
    point forecast.
    """
    w = ds["weight"].values if "weight" in ds else None
    base_year = int(ds.attrs.get("base_year", ds["year"].values[0]))
    naive = {}
    if quarterly is not None:
        from .reported import naive_forecasts

        years = [int(y) for y in ds["year"].values if y > base_year]
        naive = {s: naive_forecasts(quarterly, origin_date(base_year), o, years) for s, o in HINDCAST_SERIES.items()}
    rows = []
    for (series, year), a in actuals.iterrows():
        output = HINDCAST_SERIES.get(series)
        if output is None or output not in ds or year <= base_year or year not in ds["year"].values:
            continue
        x = ds[output].sel(year=year).values.astype(float)
        y = float(a["value"])
        q = [metrics.quantile(x, p, w).value for p in (0.05, 0.25, 0.5, 0.75, 0.95)]
        rank = metrics.prob_below(x, y, w).value + 0.5 * (metrics.prob_below(x, np.nextafter(y, np.inf), w).value - metrics.prob_below(x, y, w).value)
        crps = float(properscoring.crps_ensemble(y, x, weights=w))
        flat = naive.get(series, {}).get("flat", {}).get(int(year), np.nan)
        trend = naive.get(series, {}).get("trend", {}).get(int(year), np.nan)
        rows.append((series, int(year), y, a["tag"], q[0], q[2], q[4], rank, q[1] <= y <= q[3], q[0] <= y <= q[4], crps,
                     crps / abs(y) if y else np.nan, flat, trend, abs(y - flat), abs(y - trend)))
    cols = ["series", "year", "actual", "tag", "P5", "P50", "P95", "percentile rank", "in 50%", "in 90%", "CRPS",
            "CRPS / |actual|", "flat", "trend", "CRPS flat", "CRPS trend"]
    return pd.DataFrame(rows, columns=cols).set_index(["series", "year"])


def skill(table: pd.DataFrame) -> pd.DataFrame:
    """CRPS skill of the run against each naive forecast, by series: 1 - mean CRPS / mean CRPS
    of the naive forecast (above 0: the run beats it; 1: perfect)."""
    g = table.groupby(level="series")
    return pd.DataFrame({"against flat": 1 - g["CRPS"].mean() / g["CRPS flat"].mean(),
                         "against trend": 1 - g["CRPS"].mean() / g["CRPS trend"].mean()})


def hindcast(scenario: str | Path = "scenarios/hindcast_2023.yaml", draws: int | None = None, seed: int | None = None,
             progress=None) -> tuple[pd.DataFrame, xr.Dataset]:
    """Run the hindcast scenario and score it against the actuals in its data folder.

    ``progress``, a :class:`risk.progress.Sink`, hears "preparing", "simulating" with the
    draws done, then "scoring".
    """
    from .progress import PREPARING, phase
    from .scenario import load_scenario
    from .simulate import simulate

    sc = load_scenario(scenario)
    phase(progress, PREPARING)
    ds = simulate(sc, draws=draws, seed=seed, dtype="float64", progress=None if progress is None else progress.counter("simulating"))
    phase(progress, "scoring")
    quarterly = None
    if (Path(sc.data_dir) / "quarterly.csv").is_file():
        from .data import read_quarterly

        quarterly = read_quarterly(sc.data_dir)
    return score(ds, actual_values(sc.data_dir), quarterly), ds


def to_markdown(table: pd.DataFrame, ds: xr.Dataset) -> str:
    """The hindcast table and its coverage summary as Markdown."""
    lines = [
        "# Hindcast",
        "",
        f"Scenario `{ds.attrs['scenario']}` (base year {ds.attrs['base_year']}), {ds.sizes['draw']:,} draws, seed "
        f"{ds.attrs['seed']}, {ds.attrs['sampling']} sampling, scenario hash `{ds.attrs['scenario_hash'][:12]}`. "
        "Regenerate with `make hindcast` (or `risk hindcast`).",
        "",
        "| series | year | actual | P5 | P50 | P95 | percentile rank | in 50% | in 90% | CRPS | CRPS / actual "
        "| flat | trend |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (series, year), r in table.iterrows():
        lines.append(
            f"| {series} | {year} | {r['actual']:.3f} ({r['tag']}) | {r['P5']:.3f} | {r['P50']:.3f} | {r['P95']:.3f} | "
            f"{r['percentile rank']:.1%} | {'yes' if r['in 50%'] else 'no'} | {'yes' if r['in 90%'] else 'no'} | "
            f"{r['CRPS']:.3f} | {r['CRPS / |actual|']:.1%} | {r['flat']:.3f} | {r['trend']:.3f} |"
        )
    lines += [
        "",
        f"Coverage over {len(table)} series-years: {table['in 50%'].mean():.0%} inside the 50% intervals (nominal 50%), "
        f"{table['in 90%'].mean():.0%} inside the 90% intervals (nominal 90%). Mean percentile rank "
        f"{table['percentile rank'].mean():.0%} (50% if unbiased).",
        "",
    ]
    if table["flat"].notna().any():
        sk = skill(table)
        lines += [
            "Naive forecasts from the data known at the origin (the base year's fourth-quarter releases, "
            f"{origin_date(int(ds.attrs['base_year'])):%d %B %Y}): flat, the last quarter's run-rate held (four times "
            "it; a margin, its value); trend, the trailing four quarters grown at their growth over the four before (a "
            "margin, its trailing value). Their CRPS is their absolute error. CRPS skill of the run, 1 - mean CRPS / "
            "mean CRPS of the naive forecast (above 0: the run beats it):",
            "",
            "| series | skill against flat | skill against trend |",
            "|---|---|---|",
            *(f"| {s} | {r['against flat']:+.2f} | {r['against trend']:+.2f} |" for s, r in sk.iterrows()),
            "",
        ]
    return "\n".join(lines)


def write_markdown(text: str, path: str | Path) -> Path:
    """Write the hindcast Markdown atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
