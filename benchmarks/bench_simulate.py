"""What a user meets: commands from the shell, a million draws from the shell, reruns in a notebook.

Every case runs in fresh processes (benchmarks/_common.py); base scenario, 7 years.

* ``startup``: ``risk validate scenarios/base.yaml`` and ``risk run scenarios/base.yaml
  --draws 1000 --out X.nc``: once with the package's ``__pycache__`` folders removed (cold:
  bytecode and any compiled-code cache written anew), then ``--repeat`` times (warm); the
  files and bytes in those caches after each of five successive runs (they must not grow).
* ``shell``: ``risk run scenarios/base.yaml --draws 1000000 --sampling mc`` with ``--out X.nc``
  and without, ``--repeat-large`` times each.
* ``notebook``: ``risk.simulate`` of 10^5 and 10^6 draws for each sampling method, rerun
  ``--repeat`` times in one process, as a notebook cell is (best, median, peak memory).
* ``floor``: the run's random variates alone, numpy's fill on every core.
* ``clock``: ``risk.simulate`` of 10^6 Monte Carlo draws of the base scenario on the quarterly
  clock (its default: 26 quarterly steps from 2026Q2 to 2032) and on the annual clock (the
  same file with ``clock: year``: 7 yearly steps), in fresh processes, and their ratio.

With ``--against REV`` (a git revision, checked out in a temporary worktree and run with the
same environment), the startup, shell and Monte Carlo notebook cases are measured for that
revision too, for each of its ``--against-engines``, in the same run; the ratios (this
revision's time over that one's) are printed and stored. Writes benchmarks/results/simulate.json.

    python benchmarks/bench_simulate.py [--repeat 5] [--repeat-large 3] [--against 95ced22]
                                        [--against-engines fused numpy]   # or '' for one engine
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import (BASE, ROOT, cache_size, clear_caches, drop_worktree, floor, repeat_cli, run_cli, simulate_case,
                     worktree, write)


def startup(root: Path, repeat: int, tmp: Path, engine: str | None = None) -> dict:
    """Cold and warm ``risk validate`` and ``risk run --draws 1000``; cache growth over five runs."""
    extra = ["--engine", engine] if engine else []
    run = ["run", BASE, "--draws", "1000", "--out", str(tmp / "x.nc"), *extra]
    clear_caches(root)
    cold_run = run_cli(run, root)
    clear_caches(root)
    cold_validate = run_cli(["validate", BASE], root)
    growth = []
    for _ in range(5):
        run_cli(run, root)
        growth.append(cache_size(root))
    return {"engine": engine, "cold_run_s": cold_run["wall_s"], "cold_validate_s": cold_validate["wall_s"],
            "run": repeat_cli(run, repeat, root), "validate": repeat_cli(["validate", BASE], repeat, root),
            "cache_files_bytes_after_each_run": growth}


def shell(root: Path, repeat: int, tmp: Path, engine: str | None = None) -> dict:
    extra = ["--engine", engine] if engine else []
    base = ["run", BASE, "--draws", "1000000", "--sampling", "mc", *extra]
    return {"engine": engine, "with_out": repeat_cli([*base, "--out", str(tmp / "big.nc")], repeat, root),
            "no_out": repeat_cli(base, repeat, root)}


def show_startup(label: str, s: dict) -> None:
    print(f"{label:28s} risk run --draws 1000: cold {s['cold_run_s']:5.2f} s, warm best {s['run']['best_s']:5.2f} "
          f"median {s['run']['median_s']:5.2f} s | risk validate: cold {s['cold_validate_s']:5.2f} s, warm best "
          f"{s['validate']['best_s']:5.2f} median {s['validate']['median_s']:5.2f} s | caches after 5 runs "
          f"{' '.join(f'{n}/{b / 1e6:.1f}MB' for n, b in s['cache_files_bytes_after_each_run'])}", flush=True)


def show_shell(label: str, s: dict) -> None:
    print(f"{label:28s} risk run --draws 1000000 --sampling mc: --out best {s['with_out']['best_s']:5.2f} median "
          f"{s['with_out']['median_s']:5.2f} s (peak {s['with_out']['peak_mb']:.0f} MB); no --out best "
          f"{s['no_out']['best_s']:5.2f} median {s['no_out']['median_s']:5.2f} s", flush=True)


def show_notebook(label: str, row: dict) -> None:
    print(f"{label:28s} simulate {row['draws']:>9,} {row['sampling']:5s} in one process: best {row['best_s']:6.2f} s "
          f"median {row['median_s']:6.2f} s ({row['draws_per_s']:>11,.0f} draws/s, peak {row['peak_mb']:6.0f} MB; "
          f"first call of 1,000 draws {row['first_1000_s']:.2f} s)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--repeat-large", type=int, default=3)
    ap.add_argument("--draws", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--sampling", nargs="+", default=["mc", "lhs", "sobol"])
    ap.add_argument("--only-clock", action="store_true", help="measure only the quarterly/annual clock ratio")
    ap.add_argument("--against", metavar="REV", help="also measure this git revision (e.g. 95ced22)")
    ap.add_argument("--against-engines", nargs="+", default=["fused", "numpy"],
                    help="the older revision's --engine values; '' for a revision with one engine")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="risk-bench-"))
    if args.only_clock:
        top = max(args.draws)
        quarterly = simulate_case(top, "mc", args.repeat)
        annual_file = tmp / "base_annual_clock.yaml"
        annual_file.write_text(f"extends: {ROOT / BASE}\nname: base\nclock: year\ndata: {ROOT / 'scenarios' / 'data'}\n")
        annual = simulate_case(top, "mc", args.repeat, scenario=str(annual_file))
        show_notebook("quarterly clock", quarterly)
        show_notebook("annual clock", annual)
        print(f"ratio quarterly / annual: {quarterly['best_s'] / annual['best_s']:.2f}", flush=True)
        write("clock", {"quarterly": quarterly, "annual": annual, "ratio": quarterly["best_s"] / annual["best_s"]})
        return
    result: dict = {"startup": startup(ROOT, args.repeat, tmp), "shell": None, "notebook": [], "against": None}
    show_startup("this revision", result["startup"])
    result["shell"] = shell(ROOT, args.repeat_large, tmp)
    show_shell("this revision", result["shell"])
    for draws in args.draws:
        for sampling in args.sampling:
            row = simulate_case(draws, sampling, args.repeat)
            result["notebook"].append(row)
            show_notebook("this revision", row)
    top = max(args.draws)
    one = simulate_case(top, "mc", args.repeat, threads=1)
    result["one_thread"] = one
    show_notebook("this revision, 1 thread", one)
    result["floor"] = floor(top)
    mc = next(r for r in result["notebook"] if r["draws"] == top and r["sampling"] == "mc")
    annual_file = tmp / "base_annual_clock.yaml"
    annual_file.write_text(f"extends: {ROOT / BASE}\nname: base\nclock: year\ndata: {ROOT / 'scenarios' / 'data'}\n")
    annual = simulate_case(top, "mc", args.repeat, scenario=str(annual_file))
    result["clock"] = {"quarterly": mc, "annual": annual, "ratio": mc["best_s"] / annual["best_s"]}
    show_notebook("this revision, annual clock", annual)
    print(f"clock: the quarterly model takes {result['clock']['ratio']:.2f}x the annual model's time for {top:,} draws "
          f"({mc['best_s']:.2f} s against {annual['best_s']:.2f} s; peak {mc['peak_mb']:.0f} MB against "
          f"{annual['peak_mb']:.0f} MB)", flush=True)
    print(f"floor: the random variates of {top:,} draws take {result['floor']['floor_s']:.2f} s on all cores; "
          f"the run is {mc['best_s'] / result['floor']['floor_s']:.1f}x that", flush=True)

    if args.against:
        old = worktree(args.against)
        try:
            against = {"rev": args.against, "engines": {}}
            for engine in args.against_engines:
                label = f"{args.against} {engine}"
                st = startup(old, args.repeat, tmp, engine)
                show_startup(label, st)
                sh = shell(old, args.repeat_large, tmp, engine)
                show_shell(label, sh)
                nb = simulate_case(top, "mc", args.repeat, root=old, **({"engine": engine} if engine else {}))
                show_notebook(label, nb)
                ratios = {
                    "run_1000_warm": result["startup"]["run"]["best_s"] / st["run"]["best_s"],
                    "run_1000_cold": result["startup"]["cold_run_s"] / st["cold_run_s"],
                    "validate_warm": result["startup"]["validate"]["best_s"] / st["validate"]["best_s"],
                    "shell_1e6_with_out": result["shell"]["with_out"]["best_s"] / sh["with_out"]["best_s"],
                    "shell_1e6_no_out": result["shell"]["no_out"]["best_s"] / sh["no_out"]["best_s"],
                    "notebook_1e6_mc": mc["best_s"] / nb["best_s"],
                }
                against["engines"][engine] = {"startup": st, "shell": sh, "notebook": nb, "ratios": ratios}
                print(f"{'ratios (this / ' + label + ')':28s} " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()), flush=True)
            result["against"] = against
        finally:
            drop_worktree(old)
    write("simulate", result)


if __name__ == "__main__":
    main()
