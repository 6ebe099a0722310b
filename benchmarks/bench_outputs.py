"""Outputs: size, write time and load time of a saved run, whole, kept (--keep margins),
compressed (--compress) and both, as NetCDF and Zarr; and the size of an update file.

One run of ``scenarios/outlook.yaml`` (200,000 draws by default, float32, as ``risk run``
makes it) is simulated once in this process; each variant is written ``--repeat`` times to a
temporary folder on the same disk as the repository (best and median write time, through
``risk.save_run``, checksums included) and read back once with ``risk.load_run``. The update
is ``risk update`` on one observation, saved with ``risk.save_update``. Writes
benchmarks/results/outputs.json.

    python benchmarks/bench_outputs.py [--draws 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from _common import ROOT, write

VARIANTS = {"default": {}, "--keep margins": {"keep": "margins"}, "--compress": {"compress": True},
            "--keep margins --compress": {"keep": "margins", "compress": True}}


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file in a folder. [bytes]"""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenario", default="scenarios/outlook.yaml")
    args = ap.parse_args()

    import risk
    from risk.update import update

    warnings.simplefilter("ignore")
    t = time.perf_counter()
    ds = risk.simulate(ROOT / args.scenario, draws=args.draws)
    print(f"simulated {args.draws:,} draws of {args.scenario} in {time.perf_counter() - t:.1f} s "
          f"({ds.nbytes / 1e6:.0f} MB in memory)")
    rows = []
    folder = Path(tempfile.mkdtemp(prefix="bench-outputs-", dir=ROOT / "benchmarks"))
    try:
        for suffix in (".nc", ".zarr"):
            for name, kw in VARIANTS.items():
                path = folder / f"run{suffix}"
                times = []
                for _ in range(args.repeat):
                    if path.exists():
                        shutil.rmtree(path) if path.is_dir() else path.unlink()
                    t = time.perf_counter()
                    risk.save_run(ds, path, **kw)
                    times.append(time.perf_counter() - t)
                t = time.perf_counter()
                risk.load_run(path)
                load = time.perf_counter() - t
                rows.append({"format": suffix, "variant": name, "size_mb": size_of(path) / 1e6, "write_s_best": min(times),
                             "write_s_median": statistics.median(times), "load_s": load})
                print(f"{suffix:6} {name:28} {rows[-1]['size_mb']:8.1f} MB  write {min(times):5.2f} s "
                      f"(median {statistics.median(times):5.2f})  load {load:5.2f} s", flush=True)
        run = folder / "run.nc"
        risk.save_run(ds, run)
        loaded = risk.load_run(run)
        u = update(loaded, ["aws_operating_margin[2026] = 0.37 +- 0.03"])
        t = time.perf_counter()
        risk.save_update(u.run, folder / "update.nc", run, original=loaded)
        write_update = time.perf_counter() - t
        t = time.perf_counter()
        risk.load_run(folder / "update.nc")
        load_update = time.perf_counter() - t
        update_row = {"size_mb": size_of(folder / "update.nc") / 1e6, "run_mb": size_of(run) / 1e6,
                      "write_s": write_update, "load_s": load_update}
        print(f"update file {update_row['size_mb']:.2f} MB ({update_row['size_mb'] / update_row['run_mb']:.1%} of the "
              f"run's {update_row['run_mb']:.0f} MB), written in {write_update:.2f} s, loaded with its run in {load_update:.2f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write("outputs", {"draws": args.draws, "scenario": args.scenario, "repeat": args.repeat, "rows": rows, "update": update_row})


if __name__ == "__main__":
    main()
