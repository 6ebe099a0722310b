"""Hindcast: where reported figures fall in a run's predicted distributions.

For each reported series and year after the run's base year: the actual value, P5/P50/P95,
the actual's percentile rank in the predicted distribution, whether it falls in the central
50% and 90% intervals, and the continuous ranked probability score (CRPS, from
``properscoring``; in the series' units, lower is better). Coverage of the 50% and 90%
intervals over all series and years says whether the ranges were too narrow.
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

__all__ = ["HINDCAST_SERIES", "actual_values", "score", "hindcast", "to_markdown"]

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


def score(ds: xr.Dataset, actuals: pd.DataFrame) -> pd.DataFrame:
    """Score a run against actuals for every series and projected year both have."""
    w = ds["weight"].values if "weight" in ds else None
    base_year = int(ds.attrs.get("base_year", ds["year"].values[0]))
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
        rows.append((series, int(year), y, a["tag"], q[0], q[2], q[4], rank, q[1] <= y <= q[3], q[0] <= y <= q[4], crps,
                     crps / abs(y) if y else np.nan))
    cols = ["series", "year", "actual", "tag", "P5", "P50", "P95", "percentile rank", "in 50%", "in 90%", "CRPS", "CRPS / |actual|"]
    return pd.DataFrame(rows, columns=cols).set_index(["series", "year"])


def hindcast(scenario: str | Path = "scenarios/hindcast_2023.yaml", draws: int | None = None, seed: int | None = None) -> tuple[pd.DataFrame, xr.Dataset]:
    """Run the hindcast scenario and score it against the actuals in its data folder."""
    from .scenario import load_scenario
    from .simulate import simulate

    sc = load_scenario(scenario)
    ds = simulate(sc, draws=draws, seed=seed, dtype="float64")
    return score(ds, actual_values(sc.data_dir)), ds


def to_markdown(table: pd.DataFrame, ds: xr.Dataset) -> str:
    """The hindcast table and its coverage summary as Markdown."""
    lines = [
        "# Hindcast",
        "",
        f"Scenario `{ds.attrs['scenario']}` (base year {ds.attrs['base_year']}), {ds.sizes['draw']:,} draws, seed "
        f"{ds.attrs['seed']}, {ds.attrs['sampling']} sampling, scenario hash `{ds.attrs['scenario_hash'][:12]}`. "
        "Regenerate with `make hindcast` (or `risk hindcast`).",
        "",
        "| series | year | actual | P5 | P50 | P95 | percentile rank | in 50% | in 90% | CRPS | CRPS / actual |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (series, year), r in table.iterrows():
        lines.append(
            f"| {series} | {year} | {r['actual']:.3f} ({r['tag']}) | {r['P5']:.3f} | {r['P50']:.3f} | {r['P95']:.3f} | "
            f"{r['percentile rank']:.1%} | {'yes' if r['in 50%'] else 'no'} | {'yes' if r['in 90%'] else 'no'} | "
            f"{r['CRPS']:.3f} | {r['CRPS / |actual|']:.1%} |"
        )
    lines += [
        "",
        f"Coverage over {len(table)} series-years: {table['in 50%'].mean():.0%} inside the 50% intervals (nominal 50%), "
        f"{table['in 90%'].mean():.0%} inside the 90% intervals (nominal 90%). Mean percentile rank "
        f"{table['percentile rank'].mean():.0%} (50% if unbiased).",
        "",
    ]
    return "\n".join(lines)


def write_markdown(text: str, path: str | Path) -> Path:
    """Write the hindcast Markdown atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
