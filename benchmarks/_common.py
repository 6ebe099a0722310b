"""Helpers shared by the benchmarks: fresh-process cases, the references (the per-draw loop, the
random-variate floor) and the parts of the bound a run cannot go below (:data:`BOUND`).

Every case runs in a fresh subprocess, so the peak resident memory it reports
(``ru_maxrss``) is its own and nothing is left warm from another case.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BASE = str(ROOT / "scenarios" / "base.yaml")
YEARS = 7


def run_case(code: str, *args, env: dict | None = None) -> dict:
    """Run ``code`` with ``python -c`` and the arguments; return the JSON object of its last line."""
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark case failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def meta() -> dict:
    """Machine facts recorded beside the figures."""
    return {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(), "years": YEARS}


def write(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps({"meta": meta(), **payload}, indent=2))
    print(f"wrote {out}")
    return out


#: simulate() in memory: argv draws, sampling, dtype, repeat, scenario, engine, threads (0: all cores).
SIMULATE = r"""
import json, resource, sys, time, warnings
import risk
warnings.simplefilter("ignore")
draws, sampling, dtype, repeat, scenario, engine = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
threads = int(sys.argv[7]) or None
scenario = risk.load_scenario(scenario)
risk.simulate(scenario, draws=1000, sampling=sampling, engine=engine)            # warm up
times = []
for _ in range(repeat):
    t = time.perf_counter()
    ds = risk.simulate(scenario, draws=draws, sampling=sampling, dtype=dtype, engine=engine, threads=threads)
    times.append(time.perf_counter() - t)
    del ds
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"draws": draws, "sampling": sampling, "engine": engine, "threads": threads, "dtype": dtype, "best_s": min(times),
                  "median_s": sorted(times)[len(times) // 2], "peak_mb": peak}))
"""


#: The random-variate floor, shared by the references and the paired case: the variates of a
#: run (the parameters' uniforms, 7 digestion uniforms and 28 normal shocks a draw) drawn on
#: every core from numpy's default generator, into whole arrays or into one reused buffer,
#: either by numpy's own fill (``rng.random``, ``rng.standard_normal``) or by the compiled
#: loops the engine uses (:func:`risk.sampling.uniforms_into`, :func:`risk.sampling.normals_into`:
#: the same numbers, the normals 2.5 times as fast). The lower, the compiled fill, is the floor.
FLOOR = r"""
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from risk.sampling import normals_into, uniforms_into

def variates(scenario, draws):
    k = sum(not d.is_fixed for d in scenario.parameters.values())
    return draws * (k + 7), draws * 28   # parameters and digestion shocks; 4 normal shock streams x 7 years

def numpy_fill(uniforms, normals, share):
    # the variates as a run's inputs: arrays of all draws, by numpy's fill
    rng = np.random.default_rng(7)
    rng.random(uniforms // share); rng.standard_normal(normals // share)

def compiled(uniforms, normals, share):
    # the same, by the compiled loops over the same generator
    rng = np.random.default_rng(7)
    uniforms_into(rng, np.empty(uniforms // share)); normals_into(rng, np.empty(normals // share))

BLOCK = 1 << 16

def blocks(uniforms, normals, share):
    # the least work there is: one cache-sized buffer, overwritten
    rng = np.random.default_rng(7); buf = np.empty(BLOCK)
    for _ in range(uniforms // share // BLOCK): uniforms_into(rng, buf)
    for _ in range(normals // share // BLOCK): normals_into(rng, buf)

def timed(fn, share, *args):
    t = time.perf_counter()
    if share == 1:
        fn(*args, 1)
    else:
        with ThreadPoolExecutor(share) as ex:
            list(ex.map(lambda _: fn(*args, share), range(share)))
    return time.perf_counter() - t

uniforms_into(np.random.default_rng(0), np.empty(8)); normals_into(np.random.default_rng(0), np.empty(8))  # compiled
"""


#: What a run does besides drawing, each part alone (after FLOOR_CODE; needs ``sc``, ``draws``):
#: the model's arithmetic with its inputs and outputs in cache, and the results' memory, written
#: once into fresh memory or only faulted in. Drawing, the arithmetic and the page faults each
#: keep a core busy; added up they are the least a run with this kernel can take.
BOUND = r"""
import numpy as np
from risk.data import base_data
from risk.model.kernel import ORDER, fused_into, kernel_base, output_blocks
from risk.sampling import parameter_matrix, sample_shocks
from risk.scale import bytes_per_draw
stored = bytes_per_draw(sc, "float32") * draws // 4   # float32 values a run returns: outputs, parameters, calibrated

def memory(_u, _n, share):
    # the Dataset's values written once into fresh memory: what any engine that returns them pays
    np.empty(stored // share, dtype=np.float32).fill(1.0)

def faults(_u, _n, share):
    # the part of that no computing can hide: the operating system handing over the fresh memory
    # (a page fault and the page zeroed), forced by one store a 4 KiB page
    np.empty(stored // share, dtype=np.float32)[::1024] = 1.0

CACHED = 3200   # draws whose inputs and outputs stay in the caches (3.7 MB, float32 outputs)
cached_par = parameter_matrix(sc.parameters, CACHED, 1, "mc", sc.correlations, rows=(0, CACHED), threads=False, order=ORDER)
cached_shocks = sample_shocks(1, 7, 0, CACHED)
kbase = kernel_base(base_data(sc.data_dir, sc.settings.base_year))

def model(_u, _n, share):
    # the model's arithmetic alone: the compiled kernel over the same 3,200 draws again and
    # again, as many draws as the run, inputs and outputs in cache (no drawing, no fresh memory)
    out = output_blocks(CACHED, 7, "float32")
    for _ in range(draws // share // CACHED):
        fused_into(cached_par, cached_shocks, kbase, 7, out)

model(0, 0, draws // CACHED)   # compiled code loaded
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
draws, scenario = int(sys.argv[1]), sys.argv[2]
sc = risk.load_scenario(scenario)
base = base_data(sc.data_dir, sc.settings.base_year)
n = 2000
p = sample_parameters(sc.parameters, n, 1, "mc"); s = sample_shocks(1, 7, 0, n)
t = time.perf_counter()
for i in range(n):
    reference_path({k: float(v[i]) for k, v in p.items()}, {k: list(v[i]) for k, v in s.items()}, base, 7)
loop = (time.perf_counter() - t) / n * draws
exec(FLOOR_CODE)
uniforms, normals = variates(sc, draws)

def best(fn, share, repeat=3):
    return min(timed(fn, share, uniforms, normals) for _ in range(repeat))

exec(BOUND_CODE)
cores = 2
print(json.dumps({"draws": draws, "per_draw_loop_s": loop, "uniforms": uniforms, "normals": normals,
                  "memory_floor_all_cores_s": best(memory, cores), "stored_mb": stored * 4 / 1e6,
                  "fault_floor_all_cores_s": best(faults, cores), "model_in_cache_all_cores_s": best(model, cores),
                  "fault_floor_1core_s": best(faults, 1), "model_in_cache_1core_s": best(model, 1),
                  "rng_floor_numpy_fill_all_cores_s": best(numpy_fill, cores),
                  "rng_floor_arrays_1core_s": best(compiled, 1), "rng_floor_arrays_all_cores_s": best(compiled, cores),
                  "rng_floor_blocks_1core_s": best(blocks, 1), "rng_floor_blocks_all_cores_s": best(blocks, cores)}))
"""


def _with_parts(code: str) -> str:
    """``code`` with the shared :data:`FLOOR` and :data:`BOUND` blocks in place of their exec lines."""
    return code.replace("exec(FLOOR_CODE)", FLOOR).replace("exec(BOUND_CODE)", BOUND)


def references(draws: int, scenario: str = BASE) -> dict:
    """(a) the scalar per-draw loop, extrapolated from 2,000 draws; (b) the random-variate floor;
    (c) the memory floor: writing the run's float32 results once into fresh memory, and the
    page faults alone; (d) the model's arithmetic with its inputs and outputs in cache."""
    return run_case(_with_parts(REFERENCES), draws, scenario)


#: The fastest run and the random-variate floor (the compiled fill into whole arrays and into
#: one buffer, all cores), with the parts of :data:`BOUND`, measured in turn in one process,
#: ``repeat`` times: all see the machine in the same state, which on a shared virtual machine
#: varies by ±30% from minute to minute (numpy's fill, the higher floor, is in the
#: references). argv: draws, sampling, repeat, scenario.
PAIRED = r"""
import json, statistics, sys, time, warnings
import risk
warnings.simplefilter("ignore")
exec(FLOOR_CODE)
draws, sampling, repeat, scenario = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
sc = risk.load_scenario(scenario)
uniforms, normals = variates(sc, draws)
risk.simulate(sc, draws=1000, sampling=sampling)            # warm up
exec(BOUND_CODE)
runs, floors, blocked, models, faulted = [], [], [], [], []
for _ in range(repeat):
    floors.append(timed(compiled, 2, uniforms, normals))
    blocked.append(timed(blocks, 2, uniforms, normals))
    models.append(timed(model, 2, uniforms, normals))
    faulted.append(timed(faults, 2, uniforms, normals))
    t = time.perf_counter()
    ds = risk.simulate(sc, draws=draws, sampling=sampling, dtype="float32")
    runs.append(time.perf_counter() - t)
    del ds
ratios = [r / f for r, f in zip(runs, floors)]
bound = min(blocked) + min(models) + min(faulted)
print(json.dumps({"draws": draws, "sampling": sampling, "runs_s": runs, "floors_s": floors, "best_run_s": min(runs),
                  "best_floor_s": min(floors), "ratio_of_bests": min(runs) / min(floors),
                  "median_ratio": statistics.median(ratios), "floors_blocks_s": blocked, "models_in_cache_s": models,
                  "faults_s": faulted, "best_floor_blocks_s": min(blocked), "ratio_of_bests_blocks": min(runs) / min(blocked),
                  "bound_s": bound, "bound_to_floor_blocks": bound / min(blocked), "run_to_bound": min(runs) / bound}))
"""


def paired(draws: int, sampling: str = "mc", repeat: int = 9, scenario: str = BASE) -> dict:
    """The run, the random-variate floors and the parts of the bound in turn in one process (:data:`PAIRED`)."""
    return run_case(_with_parts(PAIRED), draws, sampling, repeat, scenario)


def compare(ref: dict, best_s: float) -> dict:
    """Speed-up over the per-draw loop and ratios to both random-variate floors (all cores)."""
    return {
        "fastest_simulate_s": best_s,
        "speedup_over_loop": ref["per_draw_loop_s"] / best_s,
        "ratio_to_rng_floor_arrays": best_s / ref["rng_floor_arrays_all_cores_s"],
        "ratio_to_rng_floor_numpy_fill": best_s / ref["rng_floor_numpy_fill_all_cores_s"],
        "ratio_to_rng_floor_blocks": best_s / ref["rng_floor_blocks_all_cores_s"],
        "ratio_to_rng_and_memory_floors": best_s / (ref["rng_floor_blocks_all_cores_s"] + ref["memory_floor_all_cores_s"]),
        # the least a run with this kernel can take, as a multiple of the floor: drawing, the
        # model's arithmetic in cache and the fresh memory's faults, none of which hides another
        "bound_s": bound(ref),
        "bound_to_rng_floor_blocks": bound(ref) / ref["rng_floor_blocks_all_cores_s"],
        # on one core the same, free of how the host places the two virtual cores
        "bound_1core_s": bound(ref, "1core"),
        "bound_1core_to_rng_floor_blocks_1core": bound(ref, "1core") / ref["rng_floor_blocks_1core_s"],
    }


def bound(ref: dict, cores: str = "all_cores") -> float:
    """Drawing the variates + the model's arithmetic in cache + faulting in the results' memory. [s]"""
    return sum(ref[f"{part}_{cores}_s"] for part in ("rng_floor_blocks", "model_in_cache", "fault_floor"))


def describe(ref: dict, cmp: dict) -> str:
    """One line on the references for a number of draws."""
    return (f"{ref['draws']:>11,} draws  per-draw loop {ref['per_draw_loop_s']:8.1f} s (simulate x{cmp['speedup_over_loop']:.0f} faster)"
            f"  RNG floor, all cores: {ref['rng_floor_arrays_all_cores_s']:.2f} s as arrays, "
            f"{ref['rng_floor_blocks_all_cores_s']:.2f} s in blocks (simulate = {cmp['ratio_to_rng_floor_arrays']:.1f}x, "
            f"{cmp['ratio_to_rng_floor_blocks']:.1f}x; by numpy's fill {ref['rng_floor_numpy_fill_all_cores_s']:.2f} s, "
            f"{cmp['ratio_to_rng_floor_numpy_fill']:.1f}x); writing the {ref['stored_mb']:,.0f} MB of results into fresh memory "
            f"{ref['memory_floor_all_cores_s']:.2f} s (simulate = {cmp['ratio_to_rng_and_memory_floors']:.1f}x both floors); "
            f"the model's arithmetic in cache {ref['model_in_cache_all_cores_s']:.2f} s and the fresh memory's page faults "
            f"{ref['fault_floor_all_cores_s']:.2f} s, so no run with this arithmetic goes below {cmp['bound_s']:.2f} s = "
            f"{cmp['bound_to_rng_floor_blocks']:.1f}x the floor in blocks (on one core {cmp['bound_1core_s']:.2f} s = "
            f"{cmp['bound_1core_to_rng_floor_blocks_1core']:.1f}x)")
