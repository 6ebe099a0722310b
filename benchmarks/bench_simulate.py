"""Time simulate() on the base scenario and report peak memory.

Each case runs in a fresh subprocess so its peak resident memory (ru_maxrss) is its own.
Writes a JSON summary to benchmarks/results/simulate.json and prints a table.

    python benchmarks/bench_simulate.py [--draws 100000 1000000] [--sampling lhs mc sobol] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = r"""
import json, resource, sys, time
import risk
draws, sampling, dtype, repeat = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
scenario = risk.load_scenario(sys.argv[5])
risk.simulate(scenario, draws=1000, sampling=sampling)            # warm up: imports, tables
times = []
for _ in range(repeat):
    t = time.perf_counter()
    ds = risk.simulate(scenario, draws=draws, sampling=sampling, dtype=dtype)
    times.append(time.perf_counter() - t)
    del ds
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"draws": draws, "sampling": sampling, "dtype": dtype, "best_s": min(times),
                  "median_s": sorted(times)[len(times) // 2], "peak_mb": peak}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--sampling", nargs="+", default=["lhs", "mc", "sobol"])
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "base.yaml"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "simulate.json"))
    args = ap.parse_args()

    rows = []
    for draws in args.draws:
        for sampling in args.sampling:
            proc = subprocess.run(
                [sys.executable, "-c", CASE, str(draws), sampling, args.dtype, str(args.repeat), args.scenario],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["draws_per_s"] = draws / row["best_s"]
            rows.append(row)
            print(f"{draws:>10,} draws  {sampling:5s} {args.dtype}  best {row['best_s']:6.2f} s  "
                  f"median {row['median_s']:6.2f} s  {row['draws_per_s']:>12,.0f} draws/s  peak {row['peak_mb']:7.0f} MB",
                  flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(), "years": 7}
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
