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

* ``stream`` variants at the first ``--stream`` size: ``--compress``, ``--keep margins``, both,
  and ``--scheduler processes`` (a local dask.distributed cluster); each with bytes a draw.
* ``disk``: the disk's sequential write bandwidth, ``dd if=/dev/zero bs=1M oflag=direct`` (or
  ``conv=fdatasync`` where direct I/O is refused) in ``--dir``.
* ``codecs``: one run of ``--codec-draws`` draws in memory written to Zarr with each codec and
  chunk size (best of two): draws/s, bytes a draw, MB/s and the share of dd's bandwidth.
* ``graph``: layers, tasks and the time to build and optimize a dask-backed run's graph at 21
  and 204 chunks (nothing computed).
* ``summary``: ``risk run SCENARIO --summary --out RUN.summary.nc`` (no draws stored) at
  each of ``--summary-draws`` in a fresh process, wall time and peak memory (constant memory:
  the peaks at 10^6 and 4x10^6 draws should be the same), beside the in-memory run of 10^6
  draws measured in the same benchmark run (``local``) for the ratio. ``--check N`` also
  compares a summary of N draws with the exact figures of the same draws
  (benchmarks/check_summary.py).

Reference at each local size: the random-variate floor (numpy's fill of the run's variates on
every core). Writes benchmarks/results/scale.json (``"quick": true`` in it for a quick run). ``--quick`` scales every case down (10^5
draws, minutes instead of tens of minutes) for a check on a busy machine.

    python benchmarks/bench_scale.py [--repeat 5] [--stream 1000000 10000000] [--skip-cluster] [--quick]
        [--cases local stream variants cluster disk codecs graph] [--dir /path/on/the/disk]
    python benchmarks/bench_scale.py --only summary [--summary-draws 1000000 4000000] [--check 1000000]  # scale_summary.json
    python benchmarks/bench_scale.py --only summary --quick      # 2.5x10^5 and 10^6 draws, one repeat
    python benchmarks/bench_scale.py --only summary --summary-draws 100000000   # the research-scale figure
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import BASE, floor, run_case, run_cli, simulate_case, write

STREAM = r"""
import json, resource, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from risk.cli import app
draws, memory, out, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5:]
scheduler = "threads"
if "--scheduler" in extra:  # the variant's scheduler instead of threads
    at = extra.index("--scheduler")
    scheduler, extra = extra[at + 1], extra[:at] + extra[at + 2:]
t = time.perf_counter()
app(["run", sys.argv[4], "-n", draws, "--sampling", "mc", "--scheduler", scheduler, "--memory", memory, "--out", out, *extra],
    standalone_mode=False)
wall = time.perf_counter() - t
size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
print(json.dumps({"draws": int(draws), "memory_budget": memory, "options": [*extra, "--scheduler", scheduler], "wall_s": wall,
                  "store_mb": size / 1e6, "bytes_per_draw": size / int(draws),
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
    moved = sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values())
print(json.dumps({"draws": draws, "workers": workers, "chunk_size": chunk, "wall_s": wall, "worker_peak_mb": worker_peak / 1024,
                  "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes_between_workers": moved, "bytes_between_workers_per_draw": moved / draws}))
"""

CODECS = r"""
import json, shutil, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import dask, numcodecs
import risk
from risk.io import zarr_encoding
scenario, draws, folder, chunks = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), [int(c) for c in sys.argv[4].split(",")]
crc = numcodecs.CRC32
codecs = {  # name: encoding of a float32 variable
    "none": lambda: {"filters": [crc()], "compressors": None},
    "lz4, shuffle filter (default)": lambda: zarr_encoding(4),
    "zstd-1, shuffle filter (--compress)": lambda: zarr_encoding(4, 1),
    "zstd-3, shuffle filter": lambda: zarr_encoding(4, 3),
    "lz4, Blosc shuffle after the checksum (former default)": lambda: {"filters": [crc()], "compressors": [numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)]},
    "zstd-1, Blosc shuffle after the checksum (former --compress)": lambda: {"filters": [crc()], "compressors": [numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE)]},
    "lz4, bit shuffle": lambda: {"filters": [crc()], "compressors": [numcodecs.Blosc("lz4", 5, numcodecs.Blosc.BITSHUFFLE)]},
}
run = risk.simulate(risk.load_scenario(scenario), draws=draws, sampling="mc")
numeric = [v for v in run.data_vars if run[v].dtype.kind == "f"]
rows, out = [], folder / "codec.zarr"
for chunk in chunks:
    lazy = run.chunk({"draw": chunk})
    for name, encoding in codecs.items():
        best = 1e9
        for _ in range(2):
            shutil.rmtree(out, ignore_errors=True)
            with dask.config.set(scheduler="threads"):
                t = time.perf_counter()
                lazy.to_zarr(out, mode="w", zarr_format=2, encoding={v: encoding() for v in numeric})
                best = min(best, time.perf_counter() - t)
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        rows.append({"codec": name, "chunk_size": chunk, "draws": draws, "wall_s": best, "draws_per_s": draws / best,
                     "bytes_per_draw": size / draws, "mb_per_s": size / best / 1e6})
shutil.rmtree(out, ignore_errors=True)
print(json.dumps(rows))
"""

GRAPH = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import dask
import risk
from risk.sampling import BLOCK
scenario = risk.load_scenario(sys.argv[1])
rows = []
for chunks in (21, 204):
    t = time.perf_counter()
    ds = risk.simulate(scenario, draws=chunks * BLOCK, sampling="mc", chunk_size=BLOCK, lazy=True)
    build = time.perf_counter() - t
    graph = ds.__dask_graph__()
    t = time.perf_counter()
    dask.optimize(*[ds[v].data for v in ds.data_vars])
    rows.append({"chunks": chunks, "variables": len(ds.data_vars), "layers": len(graph.layers), "tasks": len(graph),
                 "build_s": build, "optimize_s": time.perf_counter() - t})
print(json.dumps(rows))
"""


def disk_bandwidth(folder: Path, megabytes: int) -> dict:
    """Sequential write bandwidth of the disk under ``folder``: ``dd`` of zeros, 1 MB blocks,
    direct I/O (or flushed with fdatasync where direct I/O is refused). [bytes/s]"""
    target = folder / "dd.bin"
    for flag in ("oflag=direct", "conv=fdatasync"):
        t = time.perf_counter()
        proc = subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={megabytes}", flag],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
        target.unlink(missing_ok=True)
        if proc.returncode == 0:
            m = re.search(r"copied, ([\d.]+) s", proc.stderr)
            seconds = float(m.group(1)) if m else wall
            return {"command": f"dd if=/dev/zero of=FILE bs=1M count={megabytes} {flag}", "bytes": megabytes * 2**20,
                    "seconds": seconds, "bytes_per_s": megabytes * 2**20 / seconds, "dd_says": proc.stderr.strip().splitlines()[-1]}
    raise RuntimeError(f"dd failed: {proc.stderr}")


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
    ap.add_argument("--codec-draws", type=int, default=6 * 16384 * 10, help="draws written by each codec (a whole number of chunks)")
    ap.add_argument("--codec-chunks", default="16384,49152,98304,196608")
    ap.add_argument("--dd-mb", type=int, default=2048)
    ap.add_argument("--skip-cluster", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", default=BASE)
    ap.add_argument("--dir", type=Path, default=None, help="folder on the disk to measure (default: the temporary folder)")
    ap.add_argument("--cases", nargs="+", default=["local", "stream", "variants", "cluster", "disk", "codecs", "graph", "summary"])
    ap.add_argument("--only", choices=["summary"], help="Run only this case (results in benchmarks/results/scale_summary.json).")
    ap.add_argument("--summary-draws", type=int, nargs="+", default=[1_000_000, 4_000_000],
                    help="Draws of each summarised run (the research-scale figure: 100000000).")
    ap.add_argument("--check", type=int, default=0, metavar="DRAWS",
                    help="Also compare a summary of DRAWS draws with the exact figures of the same draws.")
    ap.add_argument("--quick", action="store_true",
                    help="every case scaled down to about 10^5 draws (summaries: 250,000 and 1,000,000 draws, one repeat)")
    args = ap.parse_args()
    if args.quick:
        args.summary_draws = [250_000, 1_000_000]
    if args.only == "summary":
        tmp = Path(tempfile.mkdtemp(prefix="risk-bench-", dir=args.dir))
        try:
            write("scale_summary", summary_cases(args, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if args.quick:
        args.local, args.stream, args.repeat = [10_000, 100_000], [6 * 16384 * 2], 2
        args.cluster_draws, args.codec_draws, args.codec_chunks, args.dd_mb = 6 * 16384 * 2, 6 * 16384 * 2, "16384,98304", 512
    cases = set(args.cases) - ({"cluster"} if args.skip_cluster else set())
    tmp = Path(tempfile.mkdtemp(prefix="risk-bench-", dir=args.dir))
    result: dict = {"local": [], "stream": [], "cluster": [], "references": [], "quick": args.quick}
    try:
        if "summary" in cases:
            result.update(summary_cases(args, tmp))
        if "disk" in cases:
            result["disk"] = disk_bandwidth(tmp, args.dd_mb)
            print(f"disk    {result['disk']['command']}: {result['disk']['bytes_per_s'] / 1e6:,.0f} MB/s", flush=True)
        disk = result.get("disk", {}).get("bytes_per_s")

        if "local" in cases:
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

        streams = [(draws, []) for draws in args.stream] if "stream" in cases else []
        if "variants" in cases:
            streams += [(args.stream[0], extra) for extra in (["--compress"], ["--keep", "margins"],
                                                             ["--keep", "margins", "--compress"], ["--scheduler", "processes"])]
        for draws, extra in streams:
            out = tmp / f"stream-{draws}.zarr"
            row = run_case(STREAM, draws, args.memory, out, args.scenario, *extra)
            row["draws_per_s"] = draws / row["wall_s"]
            if disk:
                row["share_of_disk_bandwidth"] = row["bytes_per_draw"] * row["draws_per_s"] / disk
            result["stream"].append(row)
            shutil.rmtree(out, ignore_errors=True)
            print(f"stream  {draws:>11,} draws  --memory {args.memory} {' '.join(row['options']):40s} {row['wall_s']:7.1f} s  "
                  f"{row['draws_per_s']:>10,.0f} draws/s  {row['bytes_per_draw']:6.0f} B/draw  peak {row['peak_mb']:6.0f} MB  "
                  f"store {row['store_mb']:7.0f} MB" + (f"  {row['share_of_disk_bandwidth']:.1%} of dd" if disk else ""), flush=True)

        if "cluster" in cases:
            for workers in (1, 2):
                out = tmp / f"cluster-{workers}.zarr"
                row = run_case(CLUSTER, args.cluster_draws, workers, out, args.scenario, 6 * 16384)
                row["draws_per_s"] = args.cluster_draws / row["wall_s"]
                result["cluster"].append(row)
                shutil.rmtree(out, ignore_errors=True)
                print(f"cluster {args.cluster_draws:>11,} draws  {workers} worker(s)  {row['wall_s']:7.1f} s  "
                      f"{row['draws_per_s']:>10,.0f} draws/s  worker peak {row['worker_peak_mb']:6.0f} MB  "
                      f"client peak {row['client_peak_mb']:6.0f} MB  between workers {row['bytes_between_workers_per_draw']:.0f} B/draw",
                      flush=True)

        if "codecs" in cases:
            result["codecs"] = run_case(CODECS, args.scenario, args.codec_draws, tmp, args.codec_chunks)
            for row in result["codecs"]:
                if disk:
                    row["share_of_disk_bandwidth"] = row["mb_per_s"] * 1e6 / disk
                print(f"codec   {row['draws']:>11,} draws  chunks {row['chunk_size']:>7,}  {row['codec']:60s} {row['wall_s']:6.2f} s  "
                      f"{row['draws_per_s']:>10,.0f} draws/s  {row['bytes_per_draw']:6.0f} B/draw  {row['mb_per_s']:6.0f} MB/s"
                      + (f"  {row['share_of_disk_bandwidth']:.1%} of dd" if disk else ""), flush=True)

        if "graph" in cases:
            result["graph"] = run_case(GRAPH, args.scenario)
            for row in result["graph"]:
                print(f"graph   {row['chunks']:>4} chunks x {row['variables']} variables: {row['layers']:,} layers, {row['tasks']:,} tasks, "
                      f"built in {row['build_s']:.2f} s, optimized in {row['optimize_s']:.2f} s", flush=True)

        if "local" in cases:
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
