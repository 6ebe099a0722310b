"""Time simulate() on the base scenario at 10^5 and 10^6 draws x 7 years, with peak memory.

Each case runs in a fresh subprocess (benchmarks/_common.py): a warm-up run of 1,000 draws
(imports, compiled model from numba's cache), then ``--repeat`` timed runs; best and median
wall time and the process's peak resident memory are reported, for each sampling method and
engine. The references of benchmarks/_common.py (the per-draw Python loop, the random-variate
floor, the results' fresh memory, and the model's arithmetic with everything in cache) are
measured in the same run. Then, for the Monte Carlo run, the run, the floors and the parts of
the bound (drawing + arithmetic + page faults) are timed in turn in one process (``--paired``
times), so that all see the machine in the same state. Writes benchmarks/results/simulate.json.

    python benchmarks/bench_simulate.py [--draws 100000 1000000] [--sampling lhs mc sobol]
                                        [--engine fused numpy] [--repeat 5] [--paired 9]
"""

from __future__ import annotations

import argparse

from _common import BASE, SIMULATE, compare, describe, paired, references, run_case, write



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--sampling", nargs="+", default=["lhs", "mc", "sobol"])
    ap.add_argument("--engine", nargs="+", default=["fused", "numpy"])
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", default=BASE)
    ap.add_argument("--paired", type=int, default=9, metavar="N",
                    help="also time the mc run and the random-variate floor in turn, N times in one process (0: not)")
    args = ap.parse_args()

    rows = []
    for draws in args.draws:
        for engine in args.engine:
            for sampling in args.sampling:
                row = run_case(SIMULATE, draws, sampling, args.dtype, args.repeat, args.scenario, engine, 0)
                row["draws_per_s"] = draws / row["best_s"]
                rows.append(row)
                print(f"{draws:>10,} draws  {engine:5s} {sampling:5s} {args.dtype}  best {row['best_s']:6.2f} s  "
                      f"median {row['median_s']:6.2f} s  {row['draws_per_s']:>12,.0f} draws/s  peak {row['peak_mb']:7.0f} MB",
                      flush=True)
    refs = []
    for draws in args.draws:
        ref = references(draws, args.scenario)
        cmp = compare(ref, min(r["best_s"] for r in rows if r["draws"] == draws))
        refs.append({**ref, **cmp})
        print(describe(ref, cmp), flush=True)
    pairs = []
    if args.paired:
        for draws in args.draws:
            pair = paired(draws, "mc", args.paired, args.scenario)
            pairs.append(pair)
            print(f"{draws:>10,} draws, run and floor in turn ({args.paired} times, one process): best run "
                  f"{pair['best_run_s']:.2f} s, best floor {pair['best_floor_s']:.2f} s, ratio of bests "
                  f"{pair['ratio_of_bests']:.2f}, median of the ratios {pair['median_ratio']:.2f}; floor in blocks "
                  f"{pair['best_floor_blocks_s']:.2f} s (ratio {pair['ratio_of_bests_blocks']:.2f}); drawing + the model's "
                  f"arithmetic in cache + page faults {pair['bound_s']:.2f} s = {pair['bound_to_floor_blocks']:.2f}x that floor, "
                  f"the run {pair['run_to_bound']:.2f}x this bound", flush=True)
    write("simulate", {"results": rows, "references": refs, "paired": pairs})


if __name__ == "__main__":
    main()
