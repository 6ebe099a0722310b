"""Time simulate() on the base scenario and report peak memory, against two references.

Each case runs in a fresh subprocess so its peak resident memory (ru_maxrss) is its own.
References, measured in the same run: (a) the same model one draw at a time in a Python
loop (the scalar reference implementation of tests/reference_model.py, as per-draw engines
work), extrapolated from 2,000 draws; (b) the random-variate floor: the time numpy takes to
generate as many uniforms and normals as a run consumes (uncertain parameters and
7 years x 5 shock streams per draw), on one core and split over all cores.
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


REFERENCES = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
sys.path.insert(0, "tests")
import risk
from risk.data import base_data
from risk.sampling import sample_parameters, sample_shocks
from reference_model import reference_path
draws = int(sys.argv[1])
sc = risk.load_scenario(sys.argv[2])
base = base_data(sc.data_dir, 2025)
n = 2000
p = sample_parameters(sc.parameters, n, 1, "mc"); s = sample_shocks(1, 7, 0, n)
t = time.perf_counter()
for i in range(n):
    reference_path({k: float(v[i]) for k, v in p.items()}, {k: list(v[i]) for k, v in s.items()}, base, 7)
loop = (time.perf_counter() - t) / n * draws
k = sum(not d.is_fixed for d in sc.parameters.values())
uniforms, normals = draws * (k + 7), draws * 28
def gen(share):
    rng = np.random.default_rng(7)
    rng.random(uniforms // share); rng.standard_normal(normals // share)
t = time.perf_counter(); gen(1); floor1 = time.perf_counter() - t
cores = 2
t = time.perf_counter()
with ThreadPoolExecutor(cores) as ex: list(ex.map(lambda _: gen(cores), range(cores)))
floor2 = time.perf_counter() - t
print(json.dumps({"draws": draws, "per_draw_loop_s": loop, "rng_floor_1core_s": floor1, "rng_floor_all_cores_s": floor2,
                  "uniforms": uniforms, "normals": normals}))
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
    refs = []
    for draws in args.draws:
        proc = subprocess.run([sys.executable, "-c", REFERENCES, str(draws), args.scenario], capture_output=True, text=True,
                              check=True, cwd=ROOT)
        ref = json.loads(proc.stdout.strip().splitlines()[-1])
        best = min(r["best_s"] for r in rows if r["draws"] == draws)
        ref["fastest_simulate_s"] = best
        ref["speedup_over_loop"] = ref["per_draw_loop_s"] / best
        ref["ratio_to_rng_floor_all_cores"] = best / ref["rng_floor_all_cores_s"]
        refs.append(ref)
        print(f"{draws:>10,} draws  per-draw loop {ref['per_draw_loop_s']:8.1f} s (x{ref['speedup_over_loop']:.0f} slower than simulate)  "
              f"RNG floor {ref['rng_floor_1core_s']:.2f} s one core, {ref['rng_floor_all_cores_s']:.2f} s all cores "
              f"(simulate = {ref['ratio_to_rng_floor_all_cores']:.1f}x the floor)", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(), "years": 7}
    out.write_text(json.dumps({"meta": meta, "results": rows, "references": refs}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
