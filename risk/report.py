"""The PDF (or HTML) report of one or more runs: Jinja2 template, WeasyPrint, SVG charts."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

from . import __version__, metrics, numbers, plots
from .compare import DEFAULT_THRESHOLDS
from .io import atomic_path
from .summary import KEY_MARGINS

__all__ = ["build_report", "render_html", "run_labels", "summary_frame", "difference_frame", "summary_report_frame",
           "summary_fan_panels", "beside_summary", "NEEDS_A_FULL_RUN", "MIXED_REFUSAL", "REPORT_YEARS",
           "DEFAULT_EVENT", "WATERFALL_DRAWS", "REPORT_OUTPUTS"]

#: Years of the executive summary (with the horizon added).
REPORT_YEARS = (2026, 2028, 2030)
DEFAULT_EVENT = "nvda_gross_margin[2030] < 0.60"
FIGURE_IDS = ("fan", "distribution", "joint", "sensitivity-nvda", "sensitivity-aws")
#: Draws of each small run of the waterfall of what moved the median (same seed for all).
WATERFALL_DRAWS = 4096
#: The outputs a report reads (all in the ``margins`` group of :data:`risk.glossary.OUTPUT_GROUPS`).
REPORT_OUTPUTS = (*KEY_MARGINS, "aws_margin_uplift_bp")


def _est(e: metrics.Estimate, units: str) -> str:
    return numbers.estimate(e.value, e.se, units == "1")


def run_labels(runs: Sequence[xr.Dataset], labels: Sequence[str] | None = None) -> list[str]:
    """The name of each run in a report: ``labels`` (one per run, all different), or by
    default each run's scenario name, numbered ``name #i`` when two runs share one."""
    from .compare import unique_names

    if labels is None:
        return unique_names([str(ds.attrs.get("scenario", "run")) for ds in runs])
    labels = [str(x) for x in labels]
    if len(labels) != len(runs):
        raise ValueError(f"give one label per run: {len(runs)} run{'s' if len(runs) != 1 else ''}, "
                         f"{len(labels)} label{'s' if len(labels) != 1 else ''}")
    if any(not x.strip() for x in labels):
        raise ValueError("a label cannot be empty")
    twice = next((x for x in labels if labels.count(x) > 1), None)
    if twice is not None:
        raise ValueError(f"labels must differ: '{twice}' is given twice")
    return labels


def summary_frame(ds: xr.Dataset, years: Sequence[int], thresholds: dict[str, float] | None = None) -> "pd.DataFrame":
    """The executive summary's numbers: P5/P50/P95 and P(< threshold), each with its Monte Carlo
    error, for the key margins in ``years`` (``thresholds`` by output over
    :data:`risk.compare.DEFAULT_THRESHOLDS`).

    Returns
    -------
    pandas.DataFrame
        Columns variable, year, units, P5, P5 se, P50, P50 se, P95, P95 se (the variable's
        units), threshold, P(below threshold), P(below threshold) se (fractions).
    """
    import pandas as pd

    from .export import unit_name

    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    w = ds["weight"].values if "weight" in ds else None
    rows = []
    for var in KEY_MARGINS:
        for y in years:
            x = ds[var].sel(year=y).values
            q = {k: metrics.quantile(x, p, w) for k, p in (("P5", 0.05), ("P50", 0.5), ("P95", 0.95))}
            prob = metrics.prob_below(x, thresholds[var], w)
            rows.append({"variable": var, "year": int(y), "units": unit_name(ds[var].attrs.get("units", "")),
                         **{c: v for k, e in q.items() for c, v in ((k, e.value), (f"{k} se", e.se))},
                         "threshold": thresholds[var], "P(below threshold)": prob.value, "P(below threshold) se": prob.se})
    return pd.DataFrame(rows)


def summary_rows(ds: xr.Dataset, years: Sequence[int], thresholds: dict[str, float] | None = None) -> list[dict]:
    """Rows of the executive summary: P5/P50/P95 and P(< threshold) with errors, as text
    (``thresholds`` by output; :data:`risk.compare.DEFAULT_THRESHOLDS` for the others)."""
    return _summary_text(ds, summary_frame(ds, years, thresholds))


def _summary_text(ds: xr.Dataset, frame) -> list[dict]:
    rows = []
    for row in frame.to_dict("records"):
        units = ds[row["variable"]].attrs.get("units", "")
        rows.append({
            "variable": ds[row["variable"]].attrs.get("long_name", row["variable"]), "year": row["year"],
            **{k.lower(): _est(metrics.Estimate(row[k], row[f"{k} se"]), units) for k in ("P5", "P50", "P95")},
            "prob": f"{_est(metrics.Estimate(row['P(below threshold)'], row['P(below threshold) se']), '1')} "
                    f"(< {row['threshold']:.0%})",
        })
    return rows


def difference_frame(runs: Sequence[xr.Dataset], labels: Sequence[str], years: Sequence[int],
                     thresholds: dict[str, float] | None = None) -> "pd.DataFrame":
    """Each later run minus the first: P50 and P(< threshold) of the key margins in ``years``,
    with Monte Carlo errors (independent runs: sqrt(se_a² + se_b²)).

    Returns
    -------
    pandas.DataFrame
        Columns variable, year, statistic (``P50`` or ``P(< t)``), units, and for each later
        run ``{label} - {first}`` and ``{label} - {first} se``.
    """
    from .compare import compare_runs
    from .export import unit_name

    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    cmp = compare_runs(runs, names=labels, years=years, probs=(0.5,), thresholds=thresholds)
    cmp = cmp[cmp.index.get_level_values("statistic") != "mean"].reset_index()
    first = labels[0]
    out = cmp[["variable", "year", "statistic"]].copy()
    out.insert(3, "units", [unit_name(runs[0][v].attrs.get("units", ""), st) for v, st in zip(out["variable"], out["statistic"])])
    for name in labels[1:]:
        out[f"{name} - {first}"] = cmp[f"{name} diff"].to_numpy()
        out[f"{name} - {first} se"] = cmp[f"{name} diff se"].to_numpy()
    return out


def reported_rows(ds: xr.Dataset, quarterly, year: int) -> list[dict]:
    """Rows of the first page's year-so-far table: reported, the year implied two ways
    (:mod:`risk.reported`) and the run's P10/P50/P90 and ranks, as text."""
    from .reported import beside_model

    return _reported_text(beside_model(ds, quarterly, year), lambda v: ds[v].attrs.get("units", ""),
                          lambda v: ds[v].attrs.get("long_name", v))


def _years(ds: xr.Dataset) -> list[int]:
    ys = [int(y) for y in ds["year"].values]
    return sorted({y for y in (*REPORT_YEARS, ys[-1]) if ys[0] < y <= ys[-1]})


def _combine(runs: Sequence[xr.Dataset], labels: Sequence[str]) -> xr.Dataset:
    """One Dataset for the charts: several runs stacked along draw, each draw's ``scenario``
    its run's label."""
    if len(runs) == 1:
        return runs[0]
    parts = []
    common = set.intersection(*(set(map(str, ds.data_vars)) for ds in runs))  # runs saved with different --keep
    for label, ds in zip(labels, runs):
        keep = [v for v in ds.data_vars if ds[v].dims == ("draw", "year") and v in common]
        parts.append(ds[keep].assign_coords(scenario=("draw", np.full(ds.sizes["draw"], label))))
    return xr.concat(parts, dim="draw", combine_attrs="drop_conflicts", join="inner")


def _by_scenario_frame(runs: Sequence[xr.Dataset], labels: Sequence[str], years: Sequence[int]):
    """Medians of the key margins by run and by scenario within it (a mixture's members, then
    ``pooled``), with Monte Carlo errors: run, scenario, draws, variable, year, units, P50, P50 se."""
    import pandas as pd

    from .export import unit_name

    rows = []
    for label, ds in zip(labels, runs):
        w = ds["weight"].values if "weight" in ds else None
        names = list(dict.fromkeys(str(n) for n in ds["scenario"].values)) if "scenario" in ds.coords else []
        groups = [(n, np.flatnonzero(ds["scenario"].values == n)) for n in names] if len(names) > 1 else []
        groups.append(("pooled" if groups else str(ds.attrs.get("scenario", label)), np.arange(ds.sizes["draw"])))
        for name, idx in groups:
            for var in KEY_MARGINS:
                for y in years:
                    x = ds[var].sel(year=y).values[idx]
                    e = metrics.quantile(x, 0.5, None if w is None else w[idx])
                    rows.append((label, name, len(idx), var, int(y), unit_name(ds[var].attrs.get("units", "")), e.value, e.se))
    return pd.DataFrame(rows, columns=["run", "scenario", "draws", "variable", "year", "units", "P50", "P50 se"])


def _assumption_frame(runs: Sequence[xr.Dataset], labels: Sequence[str]):
    """Every parameter of every run's stored scenario: run, scenario, parameter, distribution
    (as resolved), source, rationale."""
    import pandas as pd

    rows = [(label, name, p, d.get("resolved", ""), d.get("source", ""), d.get("note", ""))
            for label, ds in zip(labels, runs) for name, canon in json.loads(ds.attrs.get("scenarios_json", "{}")).items()
            for p, d in canon.get("parameters", {}).items()]
    return pd.DataFrame(rows, columns=["run", "scenario", "parameter", "distribution", "source", "rationale"])


def _waterfall(runs: Sequence[xr.Dataset], labels: Sequence[str], target_year: int, draws: int):
    """(steps, base label, variant label) of what moved the median between two runs whose
    scenarios differ by overrides (:mod:`risk.attribution`), else None."""
    from .attribution import median_waterfall, override_pair

    if len(runs) != 2 or draws <= 0:
        return None
    pair = override_pair(runs[0], runs[1])
    if pair is None:
        return None
    base_ds, (base, variant) = (runs[1], labels[::-1]) if pair.flipped else (runs[0], labels)
    steps = median_waterfall(pair, target_year, draws=draws, seed=int(base_ds.attrs.get("seed", 0)),
                             sampling=base_ds.attrs.get("sampling"))
    return None if steps.empty else (steps, base, variant)


def _backtest_appendix(points) -> dict:
    """Appendix C: coverage and CRPS skill by series over all horizons, and the PIT histogram."""
    from .backtest import summary

    s = summary(points)
    rows = [(series, int(r["points"]), f"{r['cover50']:.0%}", f"{r['cover90']:.0%}", f"{r['crps_rel']:.1%}",
             f"{r['skill_flat']:+.2f}", f"{r['skill_trend']:+.2f}") for (series, bucket), r in s.iterrows() if bucket == "all"]
    note = (f"The model run from {points['origin'].nunique()} quarter-end origins ({points['origin'].min()} to "
            f"{points['origin'].max()}) with the data known at each, one scenario written with the knowledge of the end of "
            f"2022, scored on {len(points)} later reported quarters and years (docs/backtest.md). Coverage: actuals inside "
            "the 50% and 90% intervals; skill: 1 - CRPS / error of a naive forecast (flat run-rate, trailing growth).")
    svg = plots.to_svg(plots.pit_histogram(points["pit"].to_numpy()))
    return {"note": note, "rows": rows, "svg": svg, "table": s.reset_index()}


def _assumptions(runs: Sequence[xr.Dataset]) -> list[dict]:
    """Appendix A: every parameter of the first stored scenario, then what each other scenario changes."""
    assumptions, reference = [], None
    for ds in runs:
        for name, canon in json.loads(ds.attrs.get("scenarios_json", "{}")).items():
            params = canon.get("parameters", {})
            if reference is None:
                reference = (name, params)
                rows = [(p, d.get("resolved", ""), d.get("source", ""), d.get("note", "")) for p, d in params.items()]
                assumptions.append({"name": name, "rows": rows})
                continue
            rows = [(p, d.get("resolved", ""), d.get("source", ""), d.get("note", "")) for p, d in params.items()
                    if d.get("resolved") != reference[1].get(p, {}).get("resolved")]
            assumptions.append({"name": f"{name}: what differs from {reference[0]}", "rows": rows})
    return assumptions


def _model_paragraph(ds: xr.Dataset) -> str:
    """The methods' paragraph on the model and its clock."""
    return ("Each run samples every uncertain assumption from its distribution (Latin hypercube, scrambled Sobol or plain Monte "
            "Carlo through inverse CDFs, with rank correlations through a Gaussian or t copula where a scenario sets them) and runs "
            "the six-stage model of the AI-accelerator market step by step: hyperscaler capex with digestion cycles, ASIC adoption "
            "S-curves, NVIDIA's pricing power and gross margin, compute supply and demand, NVIDIA's revenue and margins, and AWS's "
            "capex, own silicon, depreciation and operating margin against an all-GPU counterfactual. "
            + (f"It steps in calendar quarters from the latest reported quarter, {ds.attrs['as_of']}, which it reproduces; "
               "a year is the sum of its reported and simulated quarters. " if ds.attrs.get("clock") == "quarter" else
               "It steps in years from the base year, which reproduces the reported figures. ")
            + "NVIDIA's fiscal quarter n of FY(Y+1) is calendar quarter n of Y.")


def _appendices(hindcast, backtest, tables: dict, units: dict) -> tuple[dict | None, dict | None]:
    """Appendices B (hindcast) and C (backtest), adding the backtest's table to ``tables`` and ``units``."""
    from .export import FRACTION

    hc = None
    if hindcast is not None:
        table, hds = hindcast
        hc = {"note": f"Scenario {hds.attrs['scenario']} (base year {hds.attrs['base_year']}, {hds.sizes['draw']:,} draws) "
                      "scored against the reported figures of the following years.",
              "rows": [(s, y, f"{t['actual']:.3f}", f"{t['P5']:.3f}", f"{t['P50']:.3f}", f"{t['P95']:.3f}", f"{t['percentile rank']:.0%}",
                        "yes" if t["in 90%"] else "no", f"{t['CRPS']:.3f}") for (s, y), t in table.iterrows()],
              "summary": f"{table['in 50%'].mean():.0%} of actuals inside the 50% intervals and {table['in 90%'].mean():.0%} inside the 90% intervals."}
    bt = None
    if backtest is not None and len(backtest):
        bt = _backtest_appendix(backtest)
        tables["backtest"] = bt.pop("table")
        units["backtest"] = {c: FRACTION for c in ("cover50", "cover90", "crps_rel")}
    return hc, bt


def _context(runs: Sequence[xr.Dataset], labels: Sequence[str] | None, event: str, target_year: int, hindcast, quarterly,
             backtest, thresholds: dict[str, float] | None, waterfall_draws: int,
             progress=None) -> tuple[dict, dict, dict]:
    """What the report shows: the template's context, and its numbers as named tables with
    their units (for the workbook). ``progress``, a :class:`risk.progress.Sink`, hears the
    phases "summary", "figures", "sensitivity" and "reverse stress"."""
    from .export import FRACTION, ROW, unit_name
    from .progress import phase
    from .sensitivity import rank_correlations
    from .stress import reverse_stress

    import pandas as pd

    phase(progress, "summary")
    labels = run_labels(runs, labels)
    several = len(runs) > 1
    first = runs[0]
    combined = _combine(runs, labels)
    years = _years(first)
    target_year = target_year if target_year in first["year"].values else int(first["year"].values[-1])
    meta = []
    for label, ds in zip(labels, runs):
        tag = f" ({label})" if several else ""
        weights = json.loads(ds.attrs.get("scenario_weights", "{}"))
        scen = ", ".join(f"{k} {v:.0%}" for k, v in weights.items()) if len(weights) > 1 else ds.attrs.get("scenario", "")
        meta += [(f"scenarios{tag}", scen),
                 (f"draws{tag}", f"{ds.sizes['draw']:,}, seed {ds.attrs.get('seed')}, {ds.attrs.get('sampling')} sampling"),
                 (f"scenario hash{tag}", ds.attrs.get("scenario_hash", "")[:16]),
                 (f"simulated{tag}", f"{ds.attrs.get('created', '')} with risk {ds.attrs.get('risk_version', '')}")]
        if "observations" in ds.attrs:
            meta.append((f"updated on{tag}", "; ".join(json.loads(ds.attrs["observations"]))))
    meta.append(("report", f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}, risk {__version__}"))
    frames = [summary_frame(ds, years, thresholds) for ds in runs]
    summaries = [{"name": (f"{label}: " if several and label != ds.attrs.get("scenario") else "")
                          + f"{ds.attrs.get('scenario', 'run')} ({ds.sizes['draw']:,} draws)",
                  "rows": _summary_text(ds, f), "prob_header": "P(below threshold)"} for label, ds, f in zip(labels, runs, frames)]
    tables = {"summary": pd.concat([f.assign(run=label)[["run", *f.columns]] for label, f in zip(labels, frames)], ignore_index=True)}
    units = {"summary": {**dict.fromkeys(("P5", "P5 se", "P50", "P50 se", "P95", "P95 se", "threshold"), ROW),
                         **dict.fromkeys(("P(below threshold)", "P(below threshold) se"), FRACTION)}}
    tables["by scenario"] = _by_scenario_frame(runs, labels, years)
    units["by scenario"] = {"P50": ROW, "P50 se": ROW}

    differences = None
    if several:
        diff = difference_frame(runs, labels, years, thresholds)
        tables["differences"], units["differences"] = diff, {c: ROW for c in diff.columns[4:]}
        later = labels[1:]
        differences = {
            "title": f"{', '.join(later)} against {labels[0]}",
            "headers": [f"{n} − {labels[0]}" for n in later],
            "rows": [{"variable": first[r["variable"]].attrs.get("long_name", r["variable"]), "year": r["year"],
                      "statistic": "P50" if r["statistic"] == "P50" else f"P(< {float(r['statistic'][4:-1]):.0%})",
                      "cells": [numbers.difference(r[f"{n} - {labels[0]}"], r[f"{n} - {labels[0]} se"], r["units"] == FRACTION)
                                for n in later]} for r in diff.to_dict("records")],
        }

    phase(progress, "figures")
    names = labels if several else (list(dict.fromkeys(str(n) for n in first["scenario"].values)) if "scenario" in first.coords else [])
    colors = plots.palette(names)
    by_scen = "scenario" in combined.coords and len(np.unique(combined["scenario"].values)) > 1
    fan_note = (" by run, each in its colour: median and 5-95% band" if several else
                " (dashed: median by scenario)" if by_scen else "")
    figures = [
        {"id": "fan", "svg": plots.to_svg(plots.fan_chart(combined, KEY_MARGINS, by_scenario=by_scen, colors=colors, pooled=not several)),
         "caption": ("Fan charts" + fan_note + "." if several else
                     "Fan charts: median, 25-75% and 5-95% bands by year" + fan_note + ".")},
        {"id": "distribution", "svg": plots.to_svg(plots.distribution(combined, KEY_MARGINS, target_year, colors=colors)),
         "caption": f"Distributions in {target_year}" + (" by run." if several else " by scenario." if by_scen else ".")},
    ]
    thresholds_all = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    if several:
        figures.append({"id": "cdf", "svg": plots.to_svg(plots.cdf_chart(dict(zip(labels, runs)), KEY_MARGINS, target_year, colors,
                                                                          thresholds_all)),
                        "caption": f"Cumulative distributions in {target_year}, one curve per run: the height at a margin is the "
                                   "probability of a margin below it (dotted: the thresholds of the summary)."})
    wf = _waterfall(runs, labels, target_year, waterfall_draws)
    if wf is not None:
        steps, base, variant = wf
        tables["waterfall"], units["waterfall"] = steps, {"median": ROW, "change": ROW}
        n = steps["step"].nunique() - 3
        figures.append({"id": "waterfall", "svg": plots.to_svg(plots.waterfall_chart(
            steps, base, variant, colors, {v: first[v].attrs.get("long_name", v) for v in KEY_MARGINS})),
            "caption": f"What moved the median from {base} to {variant} in {target_year}: each of the {n} differing "
                       f"parameter{'s' if n != 1 else ''} switched on alone in {base}'s scenario, then the interactions, "
                       f"up to all of them together ({variant}); small runs of {waterfall_draws:,} draws on one seed "
                       "(common random numbers)."})
    figures.append({"id": "joint", "svg": plots.to_svg(plots.joint(combined, "nvda_gross_margin", "aws_margin_uplift_bp", target_year)),
                    "caption": f"NVIDIA's gross margin and AWS's operating-margin uplift from own silicon in {target_year} "
                               f"(dashed: medians{', all runs pooled' if several else ''})."})
    phase(progress, "sensitivity")
    sens = []
    for var, fid in (("nvda_gross_margin", "sensitivity-nvda"), ("aws_operating_margin", "sensitivity-aws")):
        prcc = rank_correlations(first, var, "prcc")[target_year]
        sens.append(pd.DataFrame({"output": var, "year": target_year, "parameter": prcc.index, "partial rank correlation": prcc.to_numpy()}))
        figures.append({"id": fid, "svg": plots.to_svg(plots.tornado_chart(
            prcc, f"Drivers of {first[var].attrs['long_name']}, {target_year}", "partial rank correlation")),
            "caption": f"Sensitivity of {first[var].attrs['long_name']} in {target_year}: partial rank correlation with each uncertain "
                       f"assumption{f' ({labels[0]})' if several else ''}."})
    tables["sensitivity"] = pd.concat(sens, ignore_index=True)

    phase(progress, "reverse stress")
    r = reverse_stress(first, event)
    stress = {
        "event": r.event.text, "prob": f"{r.probability.value:.1%} ± {r.probability.se:.1%}", "prob_plain": f"{r.probability.value:.1%}",
        "rows": [(p, f"{row['median']:.4g}", f"{row['median in event']:.4g}", f"{row['shift (sd)']:+.2f}") for p, row in r.shifts.head(6).iterrows()],
        "coverage": f"{r.box.coverage:.0%}", "density": f"{r.box.density:.0%}",
        "box": [(p, f"{lo:.4g}", f"{hi:.4g}") for p, (lo, hi) in r.box.limits.items()],
    }
    assumptions = _assumptions(runs)
    tables["assumptions"] = _assumption_frame(runs, labels)
    hc, bt = _appendices(hindcast, backtest, tables, units)
    methods = [
        _model_paragraph(first),
        "Monte Carlo errors: quantiles from order statistics, probabilities binomial, means sd/sqrt(n); weighted runs (updated on "
        "reported figures) use the effective sample size; a difference of two independent runs has the error sqrt(se_a² + se_b²). "
        "Sensitivity: partial rank correlation of each assumption with the output. "
        "Reverse stress: the event's probability, the assumptions' shifts inside it, and a PRIM box of the ranges that concentrate it.",
        "NVIDIA's fiscal year FY(Y+1) is shown as calendar year Y. Money in USD billions; margins in percent.",
    ]
    weighted = any("weight" in ds for ds in runs)
    reported = None
    if quarterly is not None:
        from .reported import beside_model, current_year

        year = current_year(quarterly)
        if year in first["year"].values and year > int(first["year"].values[0]):
            reported = {"year": year, "rows": reported_rows(first, quarterly, year),
                        "latest": f"{quarterly['published'].max():%d %B %Y}"}
            rep = beside_model(first, quarterly, year).reset_index().rename(columns={"output": "variable"})
            rep.insert(1, "units", [unit_name(first[v].attrs.get("units", "")) for v in rep["variable"]])
            tables["reported vs model"] = rep
            units["reported vs model"] = {**dict.fromkeys(("so far", "flat", "growing", "P10", "P50", "P90"), ROW),
                                          "rank flat": FRACTION, "rank growing": FRACTION}
    title = "AI accelerators: NVIDIA and AWS margin outlook" if not several else "AI accelerators: NVIDIA and AWS margins compared"
    context = dict(title=title, meta=meta, summaries=summaries, differences=differences, figures=figures, stress=stress,
                   assumptions=assumptions, hindcast=hc, methods=methods, backtest=bt,
                   weighted_note="Weighted by the run's update on reported figures." if weighted else "", reported=reported)
    return context, tables, units


#: What a report of a summary leaves out: the parts that read the draws.
NEEDS_A_FULL_RUN = ("Densities, the joint chart, sensitivity, reverse stress and the waterfall need the draws: "
                    "they are left out of a report of a summary; make a full run (risk run SCENARIO --out RUN.nc) for them.")
#: The refusal of a summary in a report of several runs.
MIXED_REFUSAL = ("a summary (risk run --summary) cannot be reported together with other runs: a comparison pairs the runs' "
                 "draws, and a summary holds none; report the summary alone, or compare full runs")


def _bound_text(b: float, percent: bool) -> str:
    """A figure's bound as text: ``exact``, or ``± 0.002%`` (units of the figure)."""
    return "exact" if b == 0 else f"± {numbers.error(b, percent)}"


def summary_report_frame(summary: xr.Dataset, years: Sequence[int], thresholds: dict[str, float] | None = None,
                         scenario: str | None = None) -> "pd.DataFrame":
    """The executive summary's numbers read from a summary (:func:`risk.summarise.summarise`):
    P5/P50/P95 of the key margins in ``years`` with their Monte Carlo errors and bounds, and
    P(< threshold) (exact) with its error; ``scenario`` defaults to the pooled one of a set.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`summary_frame` and ``P5 bound``, ``P50 bound``, ``P95 bound`` (the
        quantile of the summarised draws lies within value ± bound; the variable's units).

    Raises
    ------
    risk.summarise.SummaryError
        For a threshold the summary does not count, naming those it does (option ``--threshold``).
    """
    import pandas as pd

    from .export import unit_name
    from .summarise import SummaryError, summary_quantiles, summary_scenario

    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    scenario = scenario or summary_scenario(summary)
    stats = [str(x) for x in summary["statistic"].values]
    units = dict(zip(map(str, summary["variable"].values), map(str, summary["units"].values)))
    rows = []
    for var in KEY_MARGINS:
        label = f"P(< {thresholds[var]:g})"
        held = [x for x in stats if x.startswith("P(<")
                and np.isfinite(float(summary["value"].sel(variable=var, statistic=x, scenario=scenario).isel(year=-1)))]
        if label not in held:
            raise SummaryError(f"the summary counts {var} below {', '.join(h[4:-1] for h in held) or 'no threshold'}, "
                               f"not {thresholds[var]:g}: summarise with --threshold {var}<{thresholds[var]:g}",
                               "--threshold", f"{var}={thresholds[var]:g}")
        value, se, bound = summary_quantiles(summary.sel(year=list(years)), var, (0.05, 0.5, 0.95), scenario)
        prob = summary.sel(variable=var, statistic=label, scenario=scenario)
        for j, y in enumerate(years):
            row = {"variable": var, "year": int(y), "units": unit_name(units[var])}
            for i, k in enumerate(("P5", "P50", "P95")):
                row.update({k: value[i, j], f"{k} se": se[i, j], f"{k} bound": bound[i, j]})
            row.update({"threshold": thresholds[var], "P(below threshold)": float(prob["value"].sel(year=y)),
                        "P(below threshold) se": float(prob["se"].sel(year=y))})
            rows.append(row)
    return pd.DataFrame(rows)


def summary_fan_panels(summary: xr.Dataset, variables: Sequence[str], probs=plots.FAN_PROBS) -> tuple[list[dict], float]:
    """Fan-chart panels (:func:`risk.plots.fan_figure`) from a summary's quantiles: the pooled
    bands (or the one scenario's), and a set's members' medians as dashed lines.

    Returns
    -------
    panels : list of dict
    bounds : dict
        The largest bound of the quantiles drawn, by output (its units).
    """
    from .summarise import summary_quantiles, summary_scenario

    pooled = summary_scenario(summary)
    members = [str(n) for n in summary["scenario"].values if str(n) != pooled]
    panels, bounds = [], {}
    for var in variables:
        info = summary.sel(variable=var)
        units = str(info["units"].values)
        value, _, bound = summary_quantiles(summary, var, probs, pooled)
        medians = {m: summary_quantiles(summary, var, (0.5,), m) for m in members}
        bounds[var] = float(max([bound.max(), *(b.max() for _, _, b in medians.values())]))
        medians = {m: v[0] for m, (v, _, _) in medians.items()}
        name = str(info["long_name"].values)
        panels.append({"title": name, "ylabel": f"{name} [%]" if units == "1" else f"{name} [{units}]" if units else name,
                       "percent": units == "1", "bands": value, "medians": medians})
    return panels, bounds


def beside_summary(summary: xr.Dataset, quarterly, year: int, scenario: str | None = None, as_of=None):
    """:func:`risk.reported.beside_model` of a summary: the model's P10/P50/P90 are the
    summary's quantiles and the ranks are read from its quantiles (:func:`risk.summarise.summary_rank`).

    Returns
    -------
    table : pandas.DataFrame
        As :func:`risk.reported.beside_model`.
    bounds : dict
        The largest bound of P10/P50/P90 by output (its units).
    """
    from .reported import beside, implied_year
    from .summarise import summary_quantiles, summary_rank

    def model(output):
        value, _, bound = summary_quantiles(summary.sel(year=[year]), output, (0.1, 0.5, 0.9), scenario)
        bounds[output] = float(bound.max())
        return tuple(value[:, 0]), lambda v: summary_rank(summary, output, year, v, scenario)

    bounds = {}
    table = implied_year(quarterly, year, as_of)
    table = beside(table.loc[[o for o in table.index if o in summary["variable"].values]], model)
    return table, bounds


def _summary_context(summary: xr.Dataset, label: str | None, hindcast, quarterly, backtest,
                     thresholds: dict[str, float] | None, progress=None) -> tuple[dict, dict, dict]:
    """:func:`_context` of a summary: the figures it holds, each exact or with its bound, and a
    note of what needs a full run."""
    import pandas as pd

    from .export import FRACTION, ROW, unit_name
    from .progress import phase
    from .summarise import BINS, SummaryError, summary_quantiles

    phase(progress, "summary")
    if "quarter" in summary.dims:
        raise SummaryError("a report reads figures by year, and this summary is by quarter (risk run --summary --quarterly): "
                           "summarise by year for the report")
    ds = summary
    name = str(ds.attrs.get("scenario", "run"))
    label = label or name
    draws = int(ds.attrs.get("draws", int(ds["draws"].sum())))
    years = _years(ds)
    units_of = dict(zip(map(str, ds["variable"].values), map(str, ds["units"].values)))
    pooled = ds.attrs.get("pooled") or ""
    weights = json.loads(ds.attrs.get("scenario_weights", "{}"))
    scen = ", ".join(f"{k} {v:.0%}" for k, v in weights.items()) if len(weights) > 1 else name
    meta = [("scenarios", scen),
            ("draws", f"{draws:,} summarised (no draws stored), seed {ds.attrs.get('seed')}, {ds.attrs.get('sampling')} sampling"),
            ("scenario hash", ds.attrs.get("scenario_hash", "")[:16]),
            ("simulated", f"{ds.attrs.get('created', '')} with risk {ds.attrs.get('risk_version', '')}"),
            ("report", f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}, risk {__version__}")]
    shown = {}  # the largest bound among the figures shown, by output

    def note_bound(var, b):
        shown[var] = max(shown.get(var, 0.0), float(b))

    frame = summary_report_frame(ds, years, thresholds)
    rows = []
    for r in frame.to_dict("records"):
        pct = units_of[r["variable"]] == "1"
        row = {"variable": str(ds["long_name"].sel(variable=r["variable"]).values), "year": r["year"],
               "prob": f"{numbers.estimate(r['P(below threshold)'], r['P(below threshold) se'], True)} (< {r['threshold']:.0%}), exact"}
        for k in ("P5", "P50", "P95"):
            row[k.lower()] = numbers.estimate(r[k], r[f"{k} se"], pct)
            row[f"{k.lower()}_bound"] = _bound_text(r[f"{k} bound"], pct)
            note_bound(r["variable"], r[f"{k} bound"])
        rows.append(row)
    summaries = [{"name": f"{name}{' (pooled)' if pooled else ''} ({draws:,} draws summarised)", "rows": rows,
                  "prob_header": "P(below threshold)"}]
    bounded = ("P5 bound", "P50 bound", "P95 bound")
    tables = {"summary": frame.assign(run=label)[["run", *frame.columns]]}
    units = {"summary": {**dict.fromkeys(("P5", "P5 se", "P50", "P50 se", "P95", "P95 se", "threshold", *bounded), ROW),
                         **dict.fromkeys(("P(below threshold)", "P(below threshold) se"), FRACTION)}}
    by = []
    for sc, n in zip(map(str, ds["scenario"].values), ds["draws"].values):
        for var in KEY_MARGINS:
            value, se, bound = summary_quantiles(ds.sel(year=years), var, (0.5,), sc)
            by += [(label, sc, int(n), var, int(y), unit_name(units_of[var]), value[0, j], se[0, j], bound[0, j])
                   for j, y in enumerate(years)]
            if len(ds["scenario"]) > 1:
                note_bound(var, bound.max())
    tables["by scenario"] = pd.DataFrame(by, columns=["run", "scenario", "draws", "variable", "year", "units", "P50", "P50 se",
                                                      "P50 bound"])
    units["by scenario"] = {"P50": ROW, "P50 se": ROW, "P50 bound": ROW}

    phase(progress, "figures")
    panels, fan_bounds = summary_fan_panels(ds, KEY_MARGINS)
    for var, b in fan_bounds.items():
        note_bound(var, b)
    members = [str(n) for n in ds["scenario"].values if str(n) != pooled]
    fig = plots.fan_figure(ds["year"].values, panels, colors=plots.palette(members) if pooled else None)
    figures = [{"id": "fan", "svg": plots.to_svg(fig),
                "caption": "Fan charts from the summary's quantiles: median, 25-75% and 5-95% bands by year"
                           + (" (dashed: median by scenario)" if pooled else "") + "."}]

    reported = None
    if quarterly is not None:
        from .reported import current_year

        year = current_year(quarterly)
        if year in ds["year"].values and year > int(ds["year"].values[0]):
            rep, rep_bounds = beside_summary(ds, quarterly, year)
            for var, b in rep_bounds.items():
                note_bound(var, b)
            reported = {"year": year, "rows": _reported_text(rep, lambda v: units_of[v],
                                                             lambda v: str(ds["long_name"].sel(variable=v).values)),
                        "latest": f"{quarterly['published'].max():%d %B %Y}",
                        "note": "The model's percentiles are the summary's (bounded; see Methods); the ranks are read from "
                                "its quantiles, linear between them."}
            rep = rep.reset_index().rename(columns={"output": "variable"})
            rep.insert(1, "units", [unit_name(units_of[v]) for v in rep["variable"]])
            tables["reported vs model"] = rep
            units["reported vs model"] = {**dict.fromkeys(("so far", "flat", "growing", "P10", "P50", "P90"), ROW),
                                          "rank flat": FRACTION, "rank growing": FRACTION}

    assumptions = _assumptions([ds])
    tables["assumptions"] = _assumption_frame([ds], [label])
    hc, bt = _appendices(hindcast, backtest, tables, units)
    largest = {}
    for var, b in shown.items():
        u = units_of[var]
        largest[u] = max(largest.get(u, 0.0), b)
    sizes = "; ".join(f"{numbers.error(b, True)[:-1]} percentage points for margins" if u == "1" else
                      f"{numbers.error(b, False)} {u}" for u, b in largest.items()) or "0"
    methods = [
        _model_paragraph(ds),
        f"This report reads a summary of {draws:,} draws (risk run --summary): every draw was reduced, chunk by chunk, into "
        "statistics without being stored. Exact figures, from every draw: the counts of draws, means and standard deviations, "
        "minima and maxima, and the probabilities P(< threshold). Bounded figures: the quantiles (P5 to P95 here, the fan "
        f"charts' bands and the year-so-far table's P10 to P90), value at risk and expected shortfall (ES), read from a histogram "
        f"of {BINS:,} bins per output and year; each lies within ± its bound of the same draws' figure, shown beside it. The "
        f"largest bound among the figures shown: {sizes}. Monte Carlo errors: quantiles from order statistics, probabilities "
        "binomial, means sd/sqrt(n).",
        NEEDS_A_FULL_RUN,
        "NVIDIA's fiscal year FY(Y+1) is shown as calendar year Y. Money in USD billions; margins in percent.",
    ]
    context = dict(title="AI accelerators: NVIDIA and AWS margin outlook", meta=meta, summaries=summaries, differences=None,
                   figures=figures, stress=None, assumptions=assumptions, hindcast=hc, methods=methods, backtest=bt,
                   weighted_note="", reported=reported, draws_note=NEEDS_A_FULL_RUN,
                   summary_note="Read from a summary (no draws stored): beside each percentile its bound (the percentile of "
                                "the same draws lies within it; exact when 0); the probabilities are exact counts.")
    return context, tables, units


def _reported_text(table, units_of, long_name) -> list[dict]:
    """Rows of the first page's year-so-far table as text, from :func:`risk.reported.beside` columns."""
    rows = []
    for output, r in table.iterrows():
        same = r["flat"] == r["growing"]  # guidance for the whole year
        ranks = f"{r['rank flat']:.0%}" if same else f"{r['rank flat']:.0%}, {r['rank growing']:.0%}"
        pct = units_of(output) == "1"
        rows.append({"variable": long_name(output), "so_far": numbers.value(r["so far"], pct),
                     "flat": numbers.value(r["flat"], pct), "growing": "" if same else numbers.value(r["growing"], pct),
                     "basis": r["basis"], "p10": numbers.value(r["P10"], pct), "p50": numbers.value(r["P50"], pct),
                     "p90": numbers.value(r["P90"], pct), "rank": ranks})
    return rows


def _any_context(runs, labels, event, target_year, hindcast, quarterly, backtest, thresholds, waterfall_draws, progress):
    """:func:`_context` of runs, or :func:`_summary_context` of one summary; a summary beside other runs is refused."""
    from .summarise import is_summary

    runs = list(runs)
    if any(is_summary(ds) for ds in runs):
        if len(runs) > 1:
            raise ValueError(MIXED_REFUSAL)
        return _summary_context(runs[0], run_labels(runs, labels)[0], hindcast, quarterly, backtest, thresholds, progress)
    return _context(runs, labels, event, target_year, hindcast, quarterly, backtest, thresholds, waterfall_draws, progress)


def _render(context: dict) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("risk", "templates"), autoescape=jinja2.select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(**context)


def render_html(runs: Sequence[xr.Dataset], event: str = DEFAULT_EVENT, target_year: int = 2030,
                hindcast: tuple | None = None, quarterly=None, thresholds: dict[str, float] | None = None,
                labels: Sequence[str] | None = None, waterfall_draws: int = WATERFALL_DRAWS, backtest=None,
                progress=None) -> str:
    """The report as HTML (charts inline as SVG).

    ``labels`` name the runs (:func:`run_labels`). With several runs the report compares them:
    a table of differences from the first run, one colour per run in every chart
    (:func:`risk.plots.palette`), overlaid cumulative distributions and, for two runs whose
    scenarios differ by overrides, a waterfall of what moved the median (small runs of
    ``waterfall_draws``; 0 leaves it out). ``progress``, a :class:`risk.progress.Sink`, hears
    the phases "summary", "figures", "sensitivity" and "reverse stress".

    One summary (:func:`risk.summarise.summarise`) instead of runs gives the report of the
    figures it holds, each exact or with its bound, and a note of what needs a full run
    (densities, joint chart, sensitivity, reverse stress, waterfall); a summary beside other
    runs raises ValueError (:data:`MIXED_REFUSAL`), a threshold it does not count
    :class:`risk.summarise.SummaryError`.
    """
    return _render(_any_context(runs, labels, event, target_year, hindcast, quarterly, backtest, thresholds, waterfall_draws,
                            progress)[0])


def build_report(runs: Sequence[xr.Dataset], out: str | Path, event: str = DEFAULT_EVENT, target_year: int = 2030,
                 hindcast: tuple | None = None, quarterly=None, thresholds: dict[str, float] | None = None,
                 labels: Sequence[str] | None = None, workbook: bool = True, waterfall_draws: int = WATERFALL_DRAWS,
                 backtest=None, progress=None) -> Path:
    """Write the report to ``out`` (.pdf with WeasyPrint, or .html), atomically, and with
    ``workbook`` its numbers to an Excel workbook beside it (same name, ``.xlsx``).

    ``quarterly`` (from :func:`risk.data.read_quarterly`), if given, puts the current year's
    reported quarters beside the first run's distribution on the first page; ``backtest``, the
    scored points of :func:`risk.backtest.backtest` (docs/backtest.csv), an appendix of the
    backtest's coverage, skill and PIT histogram. ``labels`` name
    the runs (:func:`render_html`). The workbook's sheets: summary, by scenario, differences
    (several runs), waterfall (when there is one), sensitivity, assumptions, and reported vs
    model (with ``quarterly``); values are numbers, with percent and USD bn formats. A summary
    instead of runs: :func:`render_html`; its workbook adds the bounds of the quantiles and has
    no sensitivity sheet.
    ``progress``, a :class:`risk.progress.Sink`, hears the phases of the context (summary,
    figures, sensitivity, reverse stress), then "writing PDF" (or "writing HTML").
    """
    from .export import write_workbook
    from .progress import phase

    out = Path(out)
    if out.suffix.lower() not in (".pdf", ".html"):
        raise ValueError(f"report file must end in .pdf or .html, got {out.name!r}")
    context, tables, units = _any_context(runs, labels, event, target_year, hindcast, quarterly, backtest, thresholds, waterfall_draws,
                                      progress)
    html = _render(context)
    phase(progress, f"writing {out.suffix.lower().lstrip('.').upper()}")
    with atomic_path(out) as tmp:
        if out.suffix.lower() == ".html":
            tmp.write_text(html, encoding="utf-8")
        else:
            import logging
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # HarfBuzz-Subset notice of some builds
                import weasyprint

                logging.getLogger("weasyprint").setLevel(logging.ERROR)
                logging.getLogger("fontTools").setLevel(logging.ERROR)
                weasyprint.HTML(string=html).write_pdf(tmp)
    if workbook:
        write_workbook(tables, out.with_suffix(".xlsx"), units)
    return out
