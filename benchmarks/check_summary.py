"""Check a summarised run against the exact figures of the same draws.

Summarises a run of DRAWS draws (``risk.summarise``) and makes the same run with its draws
(in memory up to 2,000,000 draws, else streamed to a Zarr store in a temporary folder and read
an output at a time), then for every output, year, quantile, VaR and expected shortfall
compares the summary's figure with the exact one (:mod:`risk.metrics` on the draws): the
largest error, the largest error as a share of the stated bound (at most 1 if the bound
holds), the largest rank error of a quantile (|F_n(estimate) - p|, F_n the draws' empirical
distribution), and whether exceedance probabilities are identical and means equal to the
exactly rounded mean of the draws. Prints a line a figure kind and writes
benchmarks/results/summary_check.json.

    python benchmarks/check_summary.py [--draws 10000000] [--scenario scenarios/base.yaml]
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import BASE, write


def check(draws: int, scenario: str = BASE, seed: int = 11) -> dict:
    import dask
    import xarray as xr

    import risk
    from risk import metrics
    from risk.glossary import OUTPUTS
    from risk.summarise import DEFAULT_PROBS, DEFAULT_LEVELS, summarise

    sc = risk.load_scenario(scenario)
    t = time.perf_counter()
    summ = summarise(sc, draws=draws, seed=seed, sampling="mc")
    summary_s = time.perf_counter() - t
    tmp, stored_s, store_bytes = None, None, None
    if draws <= 2_000_000:
        full = risk.simulate(sc, draws=draws, seed=seed, sampling="mc")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="risk-check-"))
        t = time.perf_counter()
        with dask.config.set(scheduler="threads"):
            risk.save_run(risk.simulate(sc, draws=draws, seed=seed, sampling="mc", lazy=True, chunk_size=6 * 16384),
                          tmp / "run.zarr")
        stored_s = time.perf_counter() - t
        store_bytes = sum(f.stat().st_size for f in (tmp / "run.zarr").rglob("*") if f.is_file())
        full = xr.open_zarr(tmp / "run.zarr")
    worst = {"quantile_error": 0.0, "quantile_error_over_bound": 0.0, "quantile_rank_error": 0.0, "es_error": 0.0,
             "es_error_over_bound": 0.0, "mean_error_ulps": 0.0, "probabilities_identical": True, "bound_holds": True}
    where = {}
    name = str(summ["scenario"].values[0])
    stats = [str(s) for s in summ["statistic"].values]
    try:
        for var in OUTPUTS:
            column = np.asarray(full[var].values, dtype=float)
            for i, year in enumerate(summ["year"].values):
                x = column[:, i]
                xs = np.sort(x)
                scale = max(1.0, float(np.abs(x).max()))
                cell = summ.sel(variable=var, year=year, scenario=name)
                value, bound = cell["value"].values, cell["bound"].values
                exact_mean = math.fsum(x) / x.size
                ulps = abs(float(value[stats.index("mean")]) - exact_mean) / np.spacing(abs(exact_mean) or 1.0)
                worst["mean_error_ulps"] = max(worst["mean_error_ulps"], ulps)
                qs = [(f"P{100 * p:g}", p) for p in DEFAULT_PROBS] + [(f"VaR {100 * lv:g}%", 1 - lv) for lv in DEFAULT_LEVELS]
                exact = np.quantile(x, [p for _, p in qs])
                for (label, p), e in zip(qs, exact):
                    got, b = float(value[stats.index(label)]), float(bound[stats.index(label)])
                    err = abs(got - e)
                    # the ranks the estimate occupies among the draws, [F(got-), F(got)]: 0 if p is among them
                    low, high = np.searchsorted(xs, got, side="left") / x.size, np.searchsorted(xs, got, side="right") / x.size
                    rank = max(0.0, low - p, p - high)
                    if err > b + 1e-12 * scale:
                        worst["bound_holds"] = False
                    if err > worst["quantile_error"]:
                        worst["quantile_error"], where["quantile_error"] = err, f"{var} {year} {label}"
                    if b > 0 and err / b > worst["quantile_error_over_bound"]:
                        worst["quantile_error_over_bound"] = err / b
                    worst["quantile_rank_error"] = max(worst["quantile_rank_error"], rank)
                for lv in DEFAULT_LEVELS:
                    label = f"ES {100 * lv:g}%"
                    e = metrics.expected_shortfall(x, lv).value
                    got, b = float(value[stats.index(label)]), float(bound[stats.index(label)])
                    err = abs(got - e)
                    if err > b + 1e-12 * scale:
                        worst["bound_holds"] = False
                    if err > worst["es_error"]:
                        worst["es_error"], where["es_error"] = err, f"{var} {year} {label}"
                    if b > 0:
                        worst["es_error_over_bound"] = max(worst["es_error_over_bound"], err / b)
                for label in stats:
                    if label.startswith("P(<") and np.isfinite(value[stats.index(label)]):
                        p = metrics.prob_below(x, float(label[4:-1])).value
                        worst["probabilities_identical"] &= bool(p == float(value[stats.index(label)]))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {"draws": draws, "scenario": scenario, "seed": seed, "summary_s": summary_s, **worst, "where": where}
    if stored_s is not None:  # the same draws streamed to Zarr (threads, the default codec): the stored path's speed
        result.update(stored_s=stored_s, stored_draws_per_s=draws / stored_s, stored_bytes_per_draw=store_bytes / draws)
        print(f"stored  {draws:>11,} draws to Zarr in {stored_s:.1f} s: {draws / stored_s:,.0f} draws/s, "
              f"{store_bytes / draws:.0f} B/draw", flush=True)
    print(f"check   {draws:>11,} draws  quantiles: largest error {worst['quantile_error']:.3g} ({where.get('quantile_error')}), "
          f"at most {worst['quantile_error_over_bound']:.2f} of its bound, rank error at most {worst['quantile_rank_error']:.2g}; "
          f"ES: largest error {worst['es_error']:.3g}, at most {worst['es_error_over_bound']:.2f} of its bound; "
          f"means within {worst['mean_error_ulps']:.0f} ulp of the exact mean; probabilities identical: "
          f"{worst['probabilities_identical']}; every bound holds: {worst['bound_holds']}", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000_000)
    ap.add_argument("--scenario", default=BASE)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    write("summary_check", check(args.draws, args.scenario, args.seed))


if __name__ == "__main__":
    main()
