"""Scale: draws per second from 10^4 to 10^7, peak memory, scaling with cores and dask workers.

Cases, each in a fresh subprocess (benchmarks/_common.py), base scenario, 7 years, Monte
Carlo sampling, float32 storage:

* ``local``: ``risk.simulate`` in memory at 10^4, 10^5 and 10^6 draws on all cores, and at
  10^6 on one thread (scaling with cores); best and median of ``--repeat`` runs.
* ``stream``: ``risk run --scheduler threads --memory 1.5GB --out RUN.zarr`` at 10^6 and
  10^7 draws, dask-backed and streamed to Zarr chunk by chunk; one run each (10^7 takes
  minutes), with the process's peak memory and the store's size.
* ``cluster``: a dask.distributed LocalCluster of 1 and 2 worker processes (one thread
  each) writing 10^6 draws to Zarr (scaling with workers); peak memory of the client and of
  the largest worker.

* ``summary``: ``risk run SCENARIO --summary --out RUN.summary.nc`` (no draws stored) at
  each of ``--summary-draws`` in a fresh process, wall time and peak memory (constant memory:
  the peaks at 10^6 and 4x10^6 draws should be the same), beside the in-memory run of 10^6
  draws measured in the same benchmark run (``local``) for the ratio. ``--check N`` also
  compares a summary of N draws with the exact figures of the same draws
  (benchmarks/check_summary.py).

Reference at each local size: the random-variate floor (numpy's fill of the run's variates on
every core). Writes benchmarks/results/scale.json (with ``--only summary``:
benchmarks/results/scale_summary.json, leaving the other cases' file as it is).

    python benchmarks/bench_scale.py [--repeat 5] [--stream 1000000 10000000] [--skip-cluster]
    python benchmarks/bench_scale.py --only summary [--summary-draws 1000000 4000000] [--check 1000000]
    python benchmarks/bench_scale.py --only summary --quick      # 2.5x10^5 and 10^6 draws, one repeat
    python benchmarks/bench_scale.py --only summary --summary-draws 100000000   # the research-scale figure
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import BASE, floor, run_case, run_cli, simulate_case, write

STREAM = r"""
import json, resource, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from risk.cli import app
draws, memory, out = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
app(["run", sys.argv[4], "-n", draws, "--sampling", "mc", "--scheduler", "threads", "--memory", memory, "--out", out],
    standalone_mode=False)
wall = time.perf_counter() - t
size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
print(json.dumps({"draws": int(draws), "memory_budget": memory, "wall_s": wall, "store_mb": size / 1e6,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CLUSTER = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
from dask.distributed import Client, LocalCluster
import risk
from risk.io import save_run
draws, workers, out, scenario, chunk = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
sc = risk.load_scenario(scenario)
with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
    client.run(lambda: __import__("risk").simulate(__import__("risk").load_scenario(scenario), draws=1000))   # warm up workers
    t = time.perf_counter()
    save_run(risk.simulate(sc, draws=draws, sampling="mc", lazy=True, chunk_size=chunk), out)
    wall = time.perf_counter() - t
    worker_peak = max(client.run(lambda: __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss).values())
print(json.dumps({"draws": draws, "workers": workers, "chunk_size": chunk, "wall_s": wall, "worker_peak_mb": worker_peak / 1024,
                  "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def summary_cases(args, tmp: Path) -> dict:
    """The ``summary`` case: summarised runs in fresh processes and the in-memory 10^6 run for the ratio."""
    result: dict = {"summary": [], "in_memory": None, "check": None}
    memory = simulate_case(1_000_000, "mc", 1 if args.quick else args.repeat, scenario=args.scenario)
    result["in_memory"] = memory
    print(f"memory  {1_000_000:>11,} draws  in memory (risk.simulate)  best {memory['best_s']:7.2f} s  "
          f"{memory['draws_per_s']:>10,.0f} draws/s  peak {memory['peak_mb']:6.0f} MB", flush=True)
    for draws in args.summary_draws:
        out = tmp / f"summary-{draws}.summary.nc"
        row = run_cli(["run", args.scenario, "--summary", "-n", str(draws), "--sampling", "mc", "--out", str(out)])
        row.update(draws=draws, draws_per_s=draws / row["wall_s"], file_kb=out.stat().st_size / 1e3,
                   time_per_in_memory_time=(row["wall_s"] / draws) / (memory["best_s"] / 1_000_000))
        result["summary"].append(row)
        out.unlink()
        print(f"summary {draws:>11,} draws  --summary, fresh process  {row['wall_s']:7.1f} s  {row['draws_per_s']:>10,.0f} "
              f"draws/s  peak {row['peak_mb']:6.0f} MB  file {row['file_kb']:.0f} kB  "
              f"({row['time_per_in_memory_time']:.2f}x the in-memory time a draw)", flush=True)
    peaks = [r["peak_mb"] for r in result["summary"]]
    if len(peaks) > 1:
        result["peak_spread_mb"] = max(peaks) - min(peaks)
        print(f"summary peak memory from {min(peaks):.0f} to {max(peaks):.0f} MB over "
              f"{min(args.summary_draws):,}-{max(args.summary_draws):,} draws", flush=True)
    if args.check:
        from check_summary import check

        result["check"] = check(args.check, args.scenario)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--local", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--stream", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--memory", default="1.5GB")
    ap.add_argument("--cluster-draws", type=int, default=1_000_000)
    ap.add_argument("--skip-cluster", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", default=BASE)
    ap.add_argument("--only", choices=["summary"], help="Run only this case.")
    ap.add_argument("--summary-draws", type=int, nargs="+", default=[1_000_000, 4_000_000],
                    help="Draws of each summarised run (the research-scale figure: 100000000).")
    ap.add_argument("--check", type=int, default=0, metavar="DRAWS",
                    help="Also compare a summary of DRAWS draws with the exact figures of the same draws.")
    ap.add_argument("--quick", action="store_true", help="Summary case scaled down: 250,000 and 1,000,000 draws, one repeat.")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="risk-bench-"))
    if args.only == "summary" or args.quick:
        if args.quick:
            args.summary_draws = [250_000, 1_000_000]
        try:
            write("scale_summary", summary_cases(args, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    result: dict = {"local": [], "stream": [], "cluster": [], "references": []}
    try:
        result.update(summary_cases(args, tmp))
        for draws in args.local:
            row = simulate_case(draws, "mc", args.repeat, scenario=args.scenario)
            result["local"].append(row)
            print(f"local   {draws:>11,} draws  all cores  best {row['best_s']:7.3f} s  median {row['median_s']:7.3f} s  "
                  f"{row['draws_per_s']:>12,.0f} draws/s  peak {row['peak_mb']:6.0f} MB", flush=True)
        top = max(args.local)
        one = simulate_case(top, "mc", args.repeat, threads=1, scenario=args.scenario)
        result["local"].append(one)
        both = next(r for r in result["local"] if r["draws"] == top and r["threads"] is None)
        result["core_scaling"] = {"draws": top, "speedup_2_cores_over_1": one["best_s"] / both["best_s"]}
        print(f"local   {top:>11,} draws  1 thread   best {one['best_s']:7.3f} s  median {one['median_s']:7.3f} s  "
              f"(2 cores: x{result['core_scaling']['speedup_2_cores_over_1']:.2f})", flush=True)

        for draws in args.stream:
            out = tmp / f"stream-{draws}.zarr"
            row = run_case(STREAM, draws, args.memory, out, args.scenario)
            row["draws_per_s"] = draws / row["wall_s"]
            result["stream"].append(row)
            shutil.rmtree(out, ignore_errors=True)
            print(f"stream  {draws:>11,} draws  --memory {args.memory}  {row['wall_s']:7.1f} s  {row['draws_per_s']:>10,.0f} draws/s  "
                  f"peak {row['peak_mb']:6.0f} MB  store {row['store_mb']:7.0f} MB", flush=True)

        if not args.skip_cluster:
            for workers in (1, 2):
                out = tmp / f"cluster-{workers}.zarr"
                row = run_case(CLUSTER, args.cluster_draws, workers, out, args.scenario, 100_000)
                row["draws_per_s"] = args.cluster_draws / row["wall_s"]
                result["cluster"].append(row)
                shutil.rmtree(out, ignore_errors=True)
                print(f"cluster {args.cluster_draws:>11,} draws  {workers} worker(s)  {row['wall_s']:7.1f} s  "
                      f"{row['draws_per_s']:>10,.0f} draws/s  worker peak {row['worker_peak_mb']:6.0f} MB  "
                      f"client peak {row['client_peak_mb']:6.0f} MB", flush=True)

        for draws in args.local:
            ref = floor(draws, args.scenario)
            best = next(r["best_s"] for r in result["local"] if r["draws"] == draws and r["threads"] is None)
            ref["run_to_floor"] = best / ref["floor_s"]
            result["references"].append(ref)
            print(f"floor   {draws:>11,} draws  random variates alone {ref['floor_s']:7.3f} s; the run is "
                  f"{ref['run_to_floor']:.1f}x that", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write("scale", result)


if __name__ == "__main__":
    main()
