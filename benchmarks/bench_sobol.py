"""Sobol indices at scale: wall time and peak memory of the streamed design against N.

Cases, each in a fresh subprocess (benchmarks/_common.py), base scenario (quarterly clock),
one output (NVIDIA's gross margin, every year), seed 1:

* ``streamed``: ``model_sobol(..., lazy=True)`` (chunks of whole
  batches on this machine's threads) at each ``--n``: the model runs N·(k + 2) times; peak
  memory should not grow with N;
* ``in_memory``: the whole design in memory with the bootstrap, at each ``--in-memory`` N
  (memory grows with N·(k + 2): about 5 GB at N = 2^12, so larger N are not run by default);
* ``cluster`` (with ``--cluster``): the streamed design on a LocalCluster of 2 worker
  processes (one thread each), peak memory of the client and of the largest worker.

Writes benchmarks/results/sobol.json (``--name``: another name).

    python benchmarks/bench_sobol.py                      # N = 2^14, 2^16; in memory 2^12
    python benchmarks/bench_sobol.py --quick              # N = 2^12, 2^14; in memory 2^11
    python benchmarks/bench_sobol.py --n 1048576 --in-memory --cluster   # 2^20, on an idle machine
"""

from __future__ import annotations

import argparse

from _common import BASE, run_case, write

SOBOL = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import risk
from risk.sensitivity import model_sobol, uncertain_parameters
n, mode, scenario = int(sys.argv[1]), sys.argv[2], risk.load_scenario(sys.argv[3])
k = len(uncertain_parameters(scenario)) + 1
model_sobol(scenario, ["nvda_gross_margin"], n=64, chunk_size=64)   # imports and data read, outside the timing
t = time.perf_counter()
if mode == "streamed":
    res = model_sobol(scenario, ["nvda_gross_margin"], n=n, seed=1, lazy=True).indices
elif mode == "in_memory":
    res = model_sobol(scenario, ["nvda_gross_margin"], n=n, seed=1).indices
else:
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, Client(cluster) as client:
        client.run(lambda: __import__("risk").load_scenario(sys.argv[3]).base_data())   # warm up the workers
        t = time.perf_counter()
        res = model_sobol(scenario, ["nvda_gross_margin"], n=n, seed=1, scheduler="dask").indices
        wall = time.perf_counter() - t
        worker_peak = max(client.run(lambda: __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss).values())
wall = time.perf_counter() - t if mode != "cluster" else wall
row = {"n": n, "mode": mode, "k": k, "evaluations": n * (k + 2), "wall_s": wall,
       "evaluations_per_s": n * (k + 2) / wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "chunks": res.attrs.get("chunks"), "conf_method": res.attrs["conf_method"],
       "top_ST_2030": res["ST"].sel(variable="nvda_gross_margin", year=2030).to_series().nlargest(3).round(4).to_dict()}
if mode == "cluster":
    row["worker_peak_mb"] = worker_peak / 1024
print(json.dumps(row))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=None, help="base rows of the streamed cases (default 2^14 2^16)")
    ap.add_argument("--in-memory", type=int, nargs="*", default=None,
                    help="base rows of the in-memory cases (default 2^12: 5 GB already; no value: none)")
    ap.add_argument("--cluster", action="store_true", help="also stream each --n on a LocalCluster of 2 processes")
    ap.add_argument("--quick", action="store_true", help="N = 2^12 and 2^14 streamed, 2^11 in memory")
    ap.add_argument("--scenario", default=BASE)
    ap.add_argument("--name", default="sobol", help="results file: benchmarks/results/NAME.json")
    args = ap.parse_args()
    streamed = args.n or ([2**12, 2**14] if args.quick else [2**14, 2**16])
    in_memory = args.in_memory if args.in_memory is not None else ([2**11] if args.quick else [2**12])
    cases = [(n, "streamed") for n in streamed] + [(n, "in_memory") for n in in_memory]
    cases += [(n, "cluster") for n in streamed] if args.cluster else []
    rows = []
    for n, mode in cases:
        row = run_case(SOBOL, n, mode, args.scenario)
        rows.append(row)
        extra = f"  worker peak {row['worker_peak_mb']:6.0f} MB" if mode == "cluster" else ""
        print(f"{mode:9} N = {n:>9,} ({row['evaluations']:>12,} evaluations)  {row['wall_s']:8.1f} s  "
              f"{row['evaluations_per_s']:>9,.0f} evaluations/s  peak {row['peak_mb']:6.0f} MB{extra}", flush=True)
    write(args.name, {"cases": rows})


if __name__ == "__main__":
    main()
