"""Rolling-origin backtest: the quarterly model judged on its own past forecasts.

From every quarter-end origin o (2023Q1 to the latest quarter with a later one reported),
the model is run as it could have been then: anchored at o with only the data published by
the day o's last anchored figure was (:func:`risk.data.anchor_data` with ``known``), with one
scenario file whose sources all predate the first origin (``scenarios/backtest_2022.yaml``).
Every reported quarter after o, and every reported year with a quarter after o, is scored:

- the PIT, the share of draws at or below the actual (uniform on [0, 1] for a calibrated
  forecast), and whether the actual falls in the central 50% and 90% intervals;
- the CRPS (``properscoring``; in the series' units, lower is better), and the CRPS skill
  1 - CRPS_model / CRPS_naive against two naive point forecasts made at o (whose CRPS is
  their absolute error): ``flat``, o's value held (a flow's quarter, a margin), and
  ``trend``, o's value grown at the trailing four quarters' growth over the four before,
  h/4 years for a quarter h quarters ahead (a margin holds its trailing four quarters).

A year's forecasts, actual and naive values are made of its quarters as the model's annual
outputs are (:data:`risk.glossary.AGGREGATION`): flows summed, margins as ratios of sums,
with the quarters already reported at o taken as reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import properscoring

from .data import ANCHORED, anchor_data, quarter_index, quarter_of, read_quarterly, reported_table
from .glossary import OUTPUTS
from .io import atomic_path

__all__ = ["BACKTEST_SERIES", "origins", "origin_date", "actual_quarters", "naive_paths", "backtest_origin", "backtest", "by_origin",
           "summary", "to_markdown", "write_markdown", "FIRST_ORIGIN"]

#: Series scored: model output -> (numerator series, weight series) of the quarterly table;
#: a flow has no weight, a margin is the numerator's ratio weighted by the weight series.
BACKTEST_SERIES = {
    "nvda_revenue": ("nvda_revenue", None),
    "nvda_gross_margin": ("nvda_gross_margin", "nvda_revenue"),
    "aws_revenue": ("aws_revenue", None),
    "aws_operating_margin": ("aws_operating_margin", "aws_revenue"),
    "amazon_capex": ("amazon_capex", None),
    "capex_hyperscaler": ("hyperscaler_capex", None),
}
#: The first origin of the backtest.
FIRST_ORIGIN = "2023Q1"
#: Horizon buckets of the summary, in quarters ahead.
BUCKETS = ((1, 2, "1-2 q"), (3, 4, "3-4 q"), (5, 8, "5-8 q"), (9, 99, "9+ q"))


def actual_quarters(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Reported quarters by quarter index, a column per scored series (AWS's margin derived)."""
    t = reported_table(quarterly)
    t["aws_operating_margin"] = t["aws_operating_income"] / t["aws_revenue"]
    return t


def origin_date(quarterly: pd.DataFrame, origin: str) -> pd.Timestamp:
    """When a forecast from ``origin`` could be made: the day its last anchored figure was published."""
    rows = quarterly[(quarterly["kind"] == "reported") & (quarterly["calendar_quarter"] == origin)
                     & quarterly["series"].isin(ANCHORED)]
    return rows["published"].max()


def origins(quarterly: pd.DataFrame, first: str = FIRST_ORIGIN) -> list[str]:
    """Every origin from ``first`` to the quarter before the latest fully reported one."""
    t = actual_quarters(quarterly)
    full = t.index[t[list(ANCHORED)].notna().all(axis=1)]
    return [quarter_of(q) for q in range(quarter_index(first), int(full.max()))]


def _year(values: dict[str, np.ndarray], output: str, columns) -> np.ndarray:
    """A year from quarterly columns: a flow summed, a margin weighted by its flow."""
    num, weight = BACKTEST_SERIES[output]
    x = values[output][..., columns]
    if weight is None:
        return x.sum(axis=-1)
    w = values[_output_of(weight)][..., columns]
    return (x * w).sum(axis=-1) / w.sum(axis=-1)


def _output_of(series: str) -> str:
    return next(o for o, (num, _) in BACKTEST_SERIES.items() if num == series)


def naive_paths(actual: pd.DataFrame, origin: int, last: int) -> dict[str, dict[str, np.ndarray]]:
    """The two naive forecasts made at ``origin`` for quarters origin+1..last, with the
    reported quarters of origin's year before it: ``{"flat"|"trend": {output: values}}``,
    values a quarter from origin's year's first quarter to ``last``."""
    first = origin - origin % 4
    out = {"flat": {}, "trend": {}}
    for output, (series, weight) in BACKTEST_SERIES.items():
        s = actual[series]
        known = s.reindex(range(first, origin + 1)).to_numpy(float)
        h = np.arange(1, last - origin + 1)
        x0 = float(s.loc[origin])
        out["flat"][output] = np.concatenate([known, np.full(len(h), x0)])
        if weight is None:
            t4, t8 = s.reindex(range(origin - 3, origin + 1)).sum(), s.reindex(range(origin - 7, origin - 3)).sum()
            g = t4 / t8 if t8 > 0 and s.reindex(range(origin - 7, origin + 1)).notna().all() else 1.0
            trend = x0 * g ** (h / 4)
        else:
            w = actual[weight].reindex(range(origin - 3, origin + 1))
            trend = np.full(len(h), float((s.reindex(w.index) * w).sum() / w.sum()))
        out["trend"][output] = np.concatenate([known, trend])
    return out


def backtest_origin(scenario, origin: str, quarterly: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """Scored points of one origin: a row per series and later reported quarter or year."""
    from .model.engine import annual, projected_steps, run_model
    from .sampling import sample_parameters, sample_shocks

    actual = actual_quarters(quarterly)
    o = quarter_index(origin)
    full = actual.index[actual[list(ANCHORED)].notna().all(axis=1)]
    last_year = int(full.max()) // 4
    base_year, horizon = o // 4, max(1, last_year - o // 4)
    known = origin_date(quarterly, origin)
    base = anchor_data(scenario.data_dir, base_year, origin, known=known)
    params = sample_parameters(scenario.parameters, draws, seed, scenario.settings.sampling, scenario.correlations)
    shocks = sample_shocks(seed, projected_steps(base, horizon), 0, draws)
    res = run_model(params, shocks, base, horizon, quarterly=True).outputs
    years = annual(np.stack([res[name].T for name in OUTPUTS]))  # (outputs, years, draws)
    yearly = {name: years[i].T for i, name in enumerate(OUTPUTS)}
    first = base_year * 4
    naive = naive_paths(actual, o, first + res["nvda_revenue"].shape[1] - 1)
    rows = []
    for output, (series, weight) in BACKTEST_SERIES.items():
        s = actual[series]
        for q in range(o + 1, int(s.last_valid_index()) + 1):
            if q - first >= res[output].shape[1] or pd.isna(s.get(q)):
                continue
            col = q - first
            rows.append(_point(output, "quarter", quarter_of(q), origin, q - o, float(s.loc[q]), res[output][:, col],
                               {k: naive[k][output][col] for k in naive}))
        for y in range(base_year, last_year + 1):
            qs = range(y * 4, y * 4 + 4)
            if max(qs) <= o or s.reindex(qs).isna().any() or (weight and actual[weight].reindex(qs).isna().any()):
                continue
            cols = [q - first for q in qs]
            values = {output: s.reindex(qs).to_numpy(float)}
            if weight:
                values[_output_of(weight)] = actual[weight].reindex(qs).to_numpy(float)
            truth = float(_year(values, output, slice(None)))
            model = yearly[output][:, y - base_year]
            point = {k: float(_year(naive[k], output, cols)) for k in naive}
            rows.append(_point(output, "year", str(y), origin, max(qs) - o, truth, model, point))
    return pd.DataFrame(rows)


def _point(output, kind, period, origin, horizon, truth, draws, naive) -> dict:
    draws = np.asarray(draws, dtype=float)
    pit = float(np.mean(draws <= truth))
    p5, p25, p50, p75, p95 = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "series": output, "kind": kind, "period": period, "origin": origin, "horizon": int(horizon), "actual": truth,
        "p5": p5, "p50": p50, "p95": p95, "pit": pit, "in50": bool(p25 <= truth <= p75), "in90": bool(p5 <= truth <= p95),
        "crps": float(properscoring.crps_ensemble(truth, draws)),
        "crps_flat": abs(naive["flat"] - truth), "crps_trend": abs(naive["trend"] - truth),
    }


def backtest(scenario_path: str | Path = "scenarios/backtest_2022.yaml", draws: int = 2000, seed: int | None = None,
             first: str = FIRST_ORIGIN, progress=None) -> pd.DataFrame:
    """Every origin's scored points (:func:`backtest_origin`), one table.

    ``progress``: called as ``progress(origins_done, origins_total)``.
    """
    from .scenario import load_scenario

    scenario = load_scenario(scenario_path)
    quarterly = read_quarterly(scenario.data_dir)
    seed = scenario.settings.seed if seed is None else seed
    todo = origins(quarterly, first)
    parts = []
    for k, origin in enumerate(todo):
        parts.append(backtest_origin(scenario, origin, quarterly, draws, seed))
        if progress:
            progress(k + 1, len(todo))
    return pd.concat(parts, ignore_index=True)


def _bucket(row) -> str:
    if row["kind"] == "year":
        return "years"
    return next(label for lo, hi, label in BUCKETS if lo <= row["horizon"] <= hi)


def summary(points: pd.DataFrame) -> pd.DataFrame:
    """Coverage, CRPS and skill by series and horizon (quarters ahead, or whole years), and over all."""
    p = points.assign(bucket=points.apply(_bucket, axis=1))

    def agg(g: pd.DataFrame) -> pd.Series:
        return pd.Series({
            "points": len(g), "cover50": g["in50"].mean(), "cover90": g["in90"].mean(),
            "crps_rel": (g["crps"] / g["actual"].abs()).mean(),
            "skill_flat": 1 - g["crps"].sum() / g["crps_flat"].sum(),
            "skill_trend": 1 - g["crps"].sum() / g["crps_trend"].sum(),
        })

    by = p.groupby(["series", "bucket"], sort=False).apply(agg, include_groups=False)
    series = p.groupby("series", sort=False).apply(agg, include_groups=False)
    series.index = pd.MultiIndex.from_tuples([(s, "all") for s in series.index], names=["series", "bucket"])
    total = agg(p).to_frame().T
    total.index = pd.MultiIndex.from_tuples([("all", "all")], names=["series", "bucket"])
    return pd.concat([by, series, total])


def by_origin(points: pd.DataFrame) -> pd.DataFrame:
    """Coverage and the mean PIT by origin: whether the misses belong to some origins or to all.

    Returns
    -------
    pandas.DataFrame
        Index origin; columns ``points``, ``cover50``, ``cover90`` (shares) and ``pit`` (mean
        PIT, 0.5 for an unbiased forecast; near 1: the actuals were above the forecasts).
    """
    g = points.groupby("origin", sort=True)
    return pd.DataFrame({"points": g.size(), "cover50": g["in50"].mean(), "cover90": g["in90"].mean(),
                         "pit": g["pit"].mean()})


def to_markdown(points: pd.DataFrame, meta: dict) -> str:
    """The backtest as a Markdown page (docs/backtest.md)."""
    s = summary(points)
    pit = np.histogram(points["pit"], bins=10, range=(0, 1))[0]
    lines = [
        "# Backtest: the quarterly model judged on its own past forecasts",
        "",
        "Generated by `make backtest` (`risk backtest --out docs/backtest.md`); do not edit by hand.",
        "",
        f"Scenario `{meta['scenario']}` (every source dated 2022 or earlier), {meta['draws']:,} draws, seed {meta['seed']}; "
        f"{points['origin'].nunique()} origins from {points['origin'].min()} to {points['origin'].max()}, each anchored at its "
        "quarter with the data as published by the day that quarter's last anchored figure was; "
        f"{len(points)} scored points ({(points['kind'] == 'quarter').sum()} quarters, {(points['kind'] == 'year').sum()} years).",
        "",
        "Coverage: share of actuals inside the central 50% and 90% intervals (a calibrated forecast: 50% and 90%). "
        "CRPS: mean of CRPS / |actual|. Skill: 1 - CRPS of the model / absolute error of the naive forecast, summed over "
        "the points (above 0: the model beats it): `flat` holds the origin's quarter, `trend` grows it at the trailing "
        "four quarters' growth.",
        "",
        "| series | horizon | points | 50% coverage | 90% coverage | CRPS / actual | skill vs flat | skill vs trend |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (series, bucket), r in s.iterrows():
        bold = "**" if bucket == "all" else ""
        lines.append(f"| {bold}{series}{bold} | {bucket} | {int(r['points'])} | {r['cover50']:.0%} | {r['cover90']:.0%} | "
                     f"{r['crps_rel']:.1%} | {r['skill_flat']:+.2f} | {r['skill_trend']:+.2f} |")
    lines += ["", "PIT histogram (10 bins from 0 to 1; flat for a calibrated forecast):", "", "| bin | " +
              " | ".join(f"{k / 10:.1f}" for k in range(10)) + " |", "|---|" + "---:|" * 10,
              "| points | " + " | ".join(str(int(c)) for c in pit) + " |", ""]
    lines += ["By origin (a mean PIT near 1: the actuals came in above the forecasts made then):", "",
              "| origin | points | 50% coverage | 90% coverage | mean PIT |", "|---|---:|---:|---:|---:|"]
    for origin, r in by_origin(points).iterrows():
        lines.append(f"| {origin} | {int(r['points'])} | {r['cover50']:.0%} | {r['cover90']:.0%} | {r['pit']:.2f} |")
    lines.append("")
    return "\n".join(lines)


def write_markdown(text: str, path: str | Path) -> None:
    """Write ``text`` atomically."""
    with atomic_path(Path(path)) as tmp:
        Path(tmp).write_text(text)
