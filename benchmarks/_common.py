"""Helpers shared by the benchmarks: fresh-process cases, command-line runs, another revision
to measure against, and the random-variate floor.

Every case runs in a fresh subprocess, so the peak resident memory it reports (``ru_maxrss``)
is its own and nothing is left warm from another case.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BASE = "scenarios/base.yaml"
YEARS = 7


def run_case(code: str, *args, root: Path = ROOT, env: dict | None = None) -> dict:
    """Run ``code`` with ``python -c`` in ``root`` (its ``risk`` package first on the path) and
    the arguments; return the JSON object of its last line.

    Python writes and reuses bytecode as it does for any user (``PYTHONDONTWRITEBYTECODE``, set
    in some sandboxes, is dropped: with it every process compiles the package anew).
    """
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=root,
                          env={**environ, "PYTHONPATH": str(root), **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark case failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: A command line in a fresh process, as from the shell: argv are the ``risk`` arguments; prints
#: the process's peak memory.
CLI = r"""
import json, resource, sys, warnings
warnings.simplefilter("ignore")
from risk.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit as e:
    if e.code:
        raise
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_cli(args: list[str], root: Path = ROOT) -> dict:
    """Wall time of ``risk ARGS`` in a fresh process (interpreter start included) and its peak memory."""
    t = time.perf_counter()
    row = run_case(CLI, *args, root=root)
    return {"wall_s": time.perf_counter() - t, **row}


def repeat_cli(args: list[str], repeat: int, root: Path = ROOT) -> dict:
    """:func:`run_cli` ``repeat`` times: each wall time, best, median and the largest peak memory."""
    rows = [run_cli(args, root) for _ in range(repeat)]
    walls = [r["wall_s"] for r in rows]
    return {"args": args, "walls_s": walls, "best_s": min(walls), "median_s": statistics.median(walls),
            "peak_mb": max(r["peak_mb"] for r in rows)}


#: simulate() in one process, as a notebook reruns a cell: argv draws, sampling, dtype, repeat,
#: scenario, threads (0: all cores), extra keyword arguments as JSON (an older revision's engine).
SIMULATE = r"""
import json, resource, sys, time, warnings
import risk
warnings.simplefilter("ignore")
draws, sampling, dtype, repeat, scenario = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
threads, extra = int(sys.argv[6]) or None, json.loads(sys.argv[7])
scenario = risk.load_scenario(scenario)
t = time.perf_counter()
risk.simulate(scenario, draws=1000, sampling=sampling, **extra)
first = time.perf_counter() - t
times = []
for _ in range(repeat):
    t = time.perf_counter()
    ds = risk.simulate(scenario, draws=draws, sampling=sampling, dtype=dtype, threads=threads, **extra)
    times.append(time.perf_counter() - t)
    del ds
times_sorted = sorted(times)
print(json.dumps({"draws": draws, "sampling": sampling, "threads": threads, "dtype": dtype, "extra": extra,
                  "first_1000_s": first, "times_s": times, "best_s": times_sorted[0],
                  "median_s": times_sorted[len(times) // 2],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def simulate_case(draws: int, sampling: str = "mc", repeat: int = 5, threads: int = 0, dtype: str = "float32",
                  scenario: str = BASE, root: Path = ROOT, **extra) -> dict:
    """:data:`SIMULATE` in a fresh process; ``draws_per_s`` from the best run."""
    row = run_case(SIMULATE, draws, sampling, dtype, repeat, scenario, threads, json.dumps(extra), root=root)
    return {**row, "draws_per_s": draws / row["best_s"]}


#: The random-variate floor: the run's uniforms and normals drawn by numpy's fill on every core,
#: what any run of this model must spend before it computes anything. argv: draws, scenario.
FLOOR = r"""
import json, os, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import risk
draws, scenario = int(sys.argv[1]), risk.load_scenario(sys.argv[2])
uncertain = sum(not d.is_fixed for d in scenario.parameters.values())
years = scenario.steps   # projected steps: years, or quarters on the quarterly clock
uniforms, normals = draws * (uncertain + 2 * years), draws * 4 * years   # parameters, digestion and charges; four normal shocks
cores = os.cpu_count() or 1

def fill(_):
    rng = np.random.default_rng(0)
    rng.random(uniforms // cores); rng.standard_normal(normals // cores)

with ThreadPoolExecutor(cores) as pool:
    list(pool.map(fill, range(cores)))
best = 1e9
for _ in range(5):
    t = time.perf_counter()
    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(fill, range(cores)))
    best = min(best, time.perf_counter() - t)
print(json.dumps({"draws": draws, "uniforms": uniforms, "normals": normals, "floor_s": best}))
"""


def floor(draws: int, scenario: str = BASE) -> dict:
    """:data:`FLOOR` in a fresh process."""
    return run_case(FLOOR, draws, scenario)


def worktree(rev: str) -> Path:
    """A checkout of revision ``rev`` in a temporary folder (removed by :func:`drop_worktree`)."""
    path = Path(tempfile.mkdtemp(prefix="risk-rev-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--force", str(path), rev], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def drop_worktree(path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def clear_caches(root: Path) -> None:
    """Remove every ``__pycache__`` of the package in ``root``: bytecode and any compiled-code cache."""
    for cache in (root / "risk").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def cache_size(root: Path) -> tuple[int, int]:
    """Files and bytes in the package's ``__pycache__`` folders."""
    files = [f for cache in (root / "risk").rglob("__pycache__") for f in cache.iterdir() if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def meta() -> dict:
    """Machine facts recorded beside the figures."""
    return {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(), "years": YEARS,
            "date": time.strftime("%Y-%m-%d"), "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                                                      capture_output=True, text=True).stdout.strip()}


def write(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps({"meta": meta(), **payload}, indent=2))
    print(f"wrote {out}")
    return out
