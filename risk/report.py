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

__all__ = ["build_report", "render_html", "REPORT_YEARS", "DEFAULT_EVENT", "REPORT_OUTPUTS"]

#: Years of the executive summary (with the horizon added).
REPORT_YEARS = (2026, 2028, 2030)
DEFAULT_EVENT = "nvda_gross_margin[2030] < 0.60"
FIGURE_IDS = ("fan", "distribution", "joint", "sensitivity-nvda", "sensitivity-aws")
#: The outputs a report reads (all in the ``margins`` group of :data:`risk.glossary.OUTPUT_GROUPS`).
REPORT_OUTPUTS = (*KEY_MARGINS, "aws_margin_uplift_bp")


def _est(e: metrics.Estimate, units: str) -> str:
    return numbers.estimate(e.value, e.se, units == "1")


def summary_rows(ds: xr.Dataset, years: Sequence[int], thresholds: dict[str, float] | None = None) -> list[dict]:
    """Rows of the executive summary: P5/P50/P95 and P(< threshold) with errors, as text
    (``thresholds`` by output; :data:`risk.compare.DEFAULT_THRESHOLDS` for the others)."""
    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    w = ds["weight"].values if "weight" in ds else None
    rows = []
    for var in KEY_MARGINS:
        units = ds[var].attrs.get("units", "")
        for y in years:
            x = ds[var].sel(year=y).values
            t = thresholds[var]
            rows.append({
                "variable": ds[var].attrs.get("long_name", var), "year": y,
                **{k: _est(metrics.quantile(x, p, w), units) for k, p in (("p5", 0.05), ("p50", 0.5), ("p95", 0.95))},
                "prob": f"{_est(metrics.prob_below(x, t, w), '1')} (< {t:.0%})",
            })
    return rows


def reported_rows(ds: xr.Dataset, quarterly, year: int) -> list[dict]:
    """Rows of the first page's year-so-far table: reported, the year implied two ways
    (:mod:`risk.reported`) and the run's P10/P50/P90 and ranks, as text."""
    from .reported import beside_model

    rows = []
    for output, r in beside_model(ds, quarterly, year).iterrows():
        units = ds[output].attrs.get("units", "")
        same = r["flat"] == r["growing"]  # guidance for the whole year
        ranks = f"{r['rank flat']:.0%}" if same else f"{r['rank flat']:.0%}, {r['rank growing']:.0%}"
        pct = units == "1"
        rows.append({"variable": ds[output].attrs.get("long_name", output), "so_far": numbers.value(r["so far"], pct),
                     "flat": numbers.value(r["flat"], pct), "growing": "" if same else numbers.value(r["growing"], pct),
                     "basis": r["basis"], "p10": numbers.value(r["P10"], pct), "p50": numbers.value(r["P50"], pct),
                     "p90": numbers.value(r["P90"], pct), "rank": ranks})
    return rows


def _years(ds: xr.Dataset) -> list[int]:
    ys = [int(y) for y in ds["year"].values]
    return sorted({y for y in (*REPORT_YEARS, ys[-1]) if ys[0] < y <= ys[-1]})


def _combine(runs: Sequence[xr.Dataset]) -> xr.Dataset:
    """One Dataset for the charts: several runs stacked along draw, labelled by scenario."""
    if len(runs) == 1:
        return runs[0]
    parts = []
    common = set.intersection(*(set(map(str, ds.data_vars)) for ds in runs))  # runs saved with different --keep
    for i, ds in enumerate(runs):
        keep = [v for v in ds.data_vars if ds[v].dims == ("draw", "year") and v in common]
        part = ds[keep]
        if "scenario" not in part.coords or len(np.unique(part["scenario"].values)) == 1:
            part = part.assign_coords(scenario=("draw", np.full(part.sizes["draw"], f"{ds.attrs.get('scenario', 'run')} #{i + 1}")))
        parts.append(part)
    return xr.concat(parts, dim="draw", combine_attrs="drop_conflicts", join="inner")


def render_html(runs: Sequence[xr.Dataset], event: str = DEFAULT_EVENT, target_year: int = 2030,
                hindcast: tuple | None = None, quarterly=None, thresholds: dict[str, float] | None = None,
                progress=None) -> str:
    """The report as HTML (charts inline as SVG); ``progress``, a :class:`risk.progress.Sink`,
    hears the phases "summary", "figures", "sensitivity" and "reverse stress"."""
    import jinja2

    from .progress import phase
    from .sensitivity import rank_correlations
    from .stress import reverse_stress

    phase(progress, "summary")

    first = runs[0]
    combined = _combine(runs)
    years = _years(first)
    target_year = target_year if target_year in first["year"].values else int(first["year"].values[-1])
    meta = []
    for i, ds in enumerate(runs):
        tag = f" (run {i + 1})" if len(runs) > 1 else ""
        weights = json.loads(ds.attrs.get("scenario_weights", "{}"))
        scen = ", ".join(f"{k} {v:.0%}" for k, v in weights.items()) if len(weights) > 1 else ds.attrs.get("scenario", "")
        meta += [(f"scenarios{tag}", scen),
                 (f"draws{tag}", f"{ds.sizes['draw']:,}, seed {ds.attrs.get('seed')}, {ds.attrs.get('sampling')} sampling"),
                 (f"scenario hash{tag}", ds.attrs.get("scenario_hash", "")[:16]),
                 (f"simulated{tag}", f"{ds.attrs.get('created', '')} with risk {ds.attrs.get('risk_version', '')}")]
        if "observations" in ds.attrs:
            meta.append((f"updated on{tag}", "; ".join(json.loads(ds.attrs["observations"]))))
    meta.append(("report", f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}, risk {__version__}"))
    summaries = [{"name": f"{ds.attrs.get('scenario', 'run')} ({ds.sizes['draw']:,} draws)", "rows": summary_rows(ds, years, thresholds),
                  "prob_header": "P(below threshold)"} for ds in runs]

    phase(progress, "figures")
    by_scen = "scenario" in combined.coords and len(np.unique(combined["scenario"].values)) > 1
    figures = [
        {"id": "fan", "svg": plots.to_svg(plots.fan_chart(combined, KEY_MARGINS, by_scenario=by_scen)),
         "caption": "Fan charts: median, 25-75% and 5-95% bands by year" + (" (dashed: median by scenario)" if by_scen else "") + "."},
        {"id": "distribution", "svg": plots.to_svg(plots.distribution(combined, KEY_MARGINS, target_year)),
         "caption": f"Distributions in {target_year}" + (" by scenario." if by_scen else ".")},
        {"id": "joint", "svg": plots.to_svg(plots.joint(combined, "nvda_gross_margin", "aws_margin_uplift_bp", target_year)),
         "caption": f"NVIDIA's gross margin and AWS's operating-margin uplift from own silicon in {target_year} (dashed: medians)."},
    ]
    phase(progress, "sensitivity")
    for var, fid in (("nvda_gross_margin", "sensitivity-nvda"), ("aws_operating_margin", "sensitivity-aws")):
        prcc = rank_correlations(first, var, "prcc")[target_year]
        figures.append({"id": fid, "svg": plots.to_svg(plots.tornado_chart(
            prcc, f"Drivers of {first[var].attrs['long_name']}, {target_year}", "partial rank correlation")),
            "caption": f"Sensitivity of {first[var].attrs['long_name']} in {target_year}: partial rank correlation with each uncertain assumption."})

    phase(progress, "reverse stress")
    r = reverse_stress(first, event)
    stress = {
        "event": r.event.text, "prob": f"{r.probability.value:.1%} ± {r.probability.se:.1%}", "prob_plain": f"{r.probability.value:.1%}",
        "rows": [(p, f"{row['median']:.4g}", f"{row['median in event']:.4g}", f"{row['shift (sd)']:+.2f}") for p, row in r.shifts.head(6).iterrows()],
        "coverage": f"{r.box.coverage:.0%}", "density": f"{r.box.density:.0%}",
        "box": [(p, f"{lo:.4g}", f"{hi:.4g}") for p, (lo, hi) in r.box.limits.items()],
    }
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
    hc = None
    if hindcast is not None:
        table, hds = hindcast
        hc = {"note": f"Scenario {hds.attrs['scenario']} (base year {hds.attrs['base_year']}, {hds.sizes['draw']:,} draws) "
                      "scored against the reported figures of the following years.",
              "rows": [(s, y, f"{t['actual']:.3f}", f"{t['P5']:.3f}", f"{t['P50']:.3f}", f"{t['P95']:.3f}", f"{t['percentile rank']:.0%}",
                        "yes" if t["in 90%"] else "no", f"{t['CRPS']:.3f}") for (s, y), t in table.iterrows()],
              "summary": f"{table['in 50%'].mean():.0%} of actuals inside the 50% intervals and {table['in 90%'].mean():.0%} inside the 90% intervals."}
    methods = [
        "Each run samples every uncertain assumption from its distribution (Latin hypercube, scrambled Sobol or plain Monte Carlo "
        "through inverse CDFs, with rank correlations through a Gaussian or t copula where a scenario sets them) and runs the six-stage "
        "model of the AI-accelerator market year by year: hyperscaler capex with digestion cycles, ASIC adoption S-curves, NVIDIA's "
        "pricing power and gross margin, compute supply and demand, NVIDIA's revenue and margins, and AWS's capex, own silicon, "
        "depreciation and operating margin against an all-GPU counterfactual. The base year reproduces the reported 2025 figures.",
        "Monte Carlo errors: quantiles from order statistics, probabilities binomial, means sd/sqrt(n); weighted runs (updated on "
        "reported figures) use the effective sample size. Sensitivity: partial rank correlation of each assumption with the output. "
        "Reverse stress: the event's probability, the assumptions' shifts inside it, and a PRIM box of the ranges that concentrate it.",
        "NVIDIA's fiscal year FY(Y+1) is shown as calendar year Y. Money in USD billions; margins in percent.",
    ]
    weighted = any("weight" in ds for ds in runs)
    reported = None
    if quarterly is not None:
        from .reported import current_year

        year = current_year(quarterly)
        if year in runs[0]["year"].values and year > int(runs[0]["year"].values[0]):
            reported = {"year": year, "rows": reported_rows(runs[0], quarterly, year),
                        "latest": f"{quarterly['published'].max():%d %B %Y}"}
    env = jinja2.Environment(loader=jinja2.PackageLoader("risk", "templates"), autoescape=jinja2.select_autoescape(["html", "j2"]))
    title = "AI accelerators: NVIDIA and AWS margin outlook" if len(runs) == 1 else "AI accelerators: NVIDIA and AWS margins compared"
    return env.get_template("report.html.j2").render(
        title=title, meta=meta, summaries=summaries, figures=figures, stress=stress, assumptions=assumptions, hindcast=hc,
        methods=methods, weighted_note="Weighted by the run's update on reported figures." if weighted else "",
        reported=reported,
    )


def build_report(runs: Sequence[xr.Dataset], out: str | Path, event: str = DEFAULT_EVENT, target_year: int = 2030,
                 hindcast: tuple | None = None, quarterly=None, thresholds: dict[str, float] | None = None,
                 progress=None) -> Path:
    """Write the report to ``out`` (.pdf with WeasyPrint, or .html), atomically.

    ``quarterly`` (from :func:`risk.data.read_quarterly`), if given, puts the current year's
    reported quarters beside the first run's distribution on the first page. ``progress``, a
    :class:`risk.progress.Sink`, hears the phases of :func:`render_html`, then "writing PDF"
    (or "writing HTML").
    """
    from .progress import phase

    out = Path(out)
    if out.suffix.lower() not in (".pdf", ".html"):
        raise ValueError(f"report file must end in .pdf or .html, got {out.name!r}")
    html = render_html(runs, event=event, target_year=target_year, hindcast=hindcast, quarterly=quarterly,
                       thresholds=thresholds, progress=progress)
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
    return out
