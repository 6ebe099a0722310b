"""How long the what-if explorer makes an analyst wait: the first page and each change.

* ``server``: in a fresh process per scenario (base, and the outlook set): importing Panel,
  ranking the drivers and the first run (what ``risk explore`` does before it serves), the
  first charts, then ``--repeat`` changes of a control, each a rerun (simulation and
  statistics) and the redrawn charts, timed apart.
* ``browser`` (where /usr/bin/chromium and Playwright are): ``risk explore`` served and
  driven by headless Chromium: from start to serving, the first render (page request to P50s
  shown), and for ``--repeat`` changes of a control the time from Enter to the new P50s and
  to the redrawn fan chart.

Writes benchmarks/results/explore.json.

    python benchmarks/bench_explore.py [--repeat 5] [--draws 100000] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, run_case, write

SERVER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import panel
from risk.explore import Explorer, charts, load_target
imported = time.perf_counter() - t0
scenario, draws, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
ex = Explorer(load_target(scenario), draws=draws)
drivers = time.perf_counter() - t
t = time.perf_counter()
res = ex.run()
first_run = time.perf_counter() - t
t = time.perf_counter()
charts(res, by_scenario=ex.is_set)
first_charts = time.perf_counter() - t
c = ex.controls[0]
runs, draws_s = [], []
for i in range(repeat):
    value = c.origin + (c.end - c.origin) * (i + 1) / (repeat + 1)
    t = time.perf_counter()
    res = ex.run({c.path: value})
    runs.append(time.perf_counter() - t)
    t = time.perf_counter()
    charts(res, by_scenario=ex.is_set)
    draws_s.append(time.perf_counter() - t)
print(json.dumps({"scenario": scenario, "draws": draws, "import_panel_s": imported, "drivers_s": drivers,
                  "first_run_s": first_run, "first_charts_s": first_charts, "control": c.path,
                  "rerun_s": runs, "charts_s": draws_s,
                  "median_rerun_s": sorted(runs)[len(runs) // 2], "median_charts_s": sorted(draws_s)[len(draws_s) // 2]}))
"""


def server(scenario: str, draws: int, repeat: int) -> dict:
    return run_case(SERVER, scenario, draws, repeat)


def browser(scenario: str, draws: int, repeat: int, control: str = "pricing.elasticity") -> dict | None:
    """End-to-end through headless Chromium; None where the browser or Playwright is missing."""
    chromium = Path(os.environ.get("RISK_CHROMIUM", "/usr/bin/chromium"))
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        return None
    if not chromium.is_file():
        return None
    from risk.explore import control_class

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="risk-bench-") as tmp:
        start = time.perf_counter()
        log = open(Path(tmp) / "explore.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "risk.cli", "explore", str(ROOT / scenario), "--port", str(port), "--draws", str(draws),
                                 "--no-browser"], cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - start > 120:
                        raise RuntimeError(f"risk explore did not start:\n{(Path(tmp) / 'explore.log').read_text()[-2000:]}")
                    time.sleep(0.1)
            served = time.perf_counter() - start
            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-dev-shm-usage"])
                page = b.new_page(viewport={"width": 1300, "height": 1400})
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                cell = page.locator("#p50-nvda_gross_margin-2030")
                cell.wait_for(timeout=60_000)
                first_render = time.perf_counter() - t
                fan = page.locator("img").first
                expect(fan).to_have_attribute("src", __import__("re").compile("^data:image/png"), timeout=60_000)
                first_charts = time.perf_counter() - t
                box = page.locator(f".{control_class(control)} input")
                median = float(box.input_value())
                to_p50, to_charts = [], []
                for i in range(repeat):
                    before, src = cell.inner_text(), fan.get_attribute("src")
                    box.fill(f"{median + 0.15 * (i + 1):.2f}")
                    t = time.perf_counter()
                    box.press("Enter")
                    expect(cell).not_to_have_text(before, timeout=60_000)
                    to_p50.append(time.perf_counter() - t)
                    expect(fan).not_to_have_attribute("src", src, timeout=60_000)
                    to_charts.append(time.perf_counter() - t)
                b.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            log.close()
    return {"scenario": scenario, "draws": draws, "served_s": served, "first_render_s": first_render,
            "first_charts_s": first_charts, "change_to_p50_s": to_p50, "change_to_charts_s": to_charts,
            "median_change_to_p50_s": sorted(to_p50)[len(to_p50) // 2],
            "median_change_to_charts_s": sorted(to_charts)[len(to_charts) // 2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    payload = {"server": [server(s, args.draws, args.repeat) for s in ("scenarios/base.yaml", "scenarios/outlook.yaml")]}
    for row in payload["server"]:
        print(f"{row['scenario']}: import panel {row['import_panel_s']:.1f} s, drivers {row['drivers_s']:.1f} s, "
              f"first run {row['first_run_s']:.2f} s, first charts {row['first_charts_s']:.2f} s; a change: rerun "
              f"{row['median_rerun_s']:.2f} s + charts {row['median_charts_s']:.2f} s (medians of {args.repeat})")
    if not args.no_browser:
        row = browser("scenarios/base.yaml", args.draws, args.repeat)
        payload["browser"] = row
        if row is None:
            print("browser: skipped (no Chromium or Playwright)")
        else:
            print(f"browser ({row['scenario']}): served {row['served_s']:.1f} s after start; first render "
                  f"{row['first_render_s']:.2f} s (charts {row['first_charts_s']:.2f} s); a change: new P50s "
                  f"{row['median_change_to_p50_s']:.2f} s, redrawn charts {row['median_change_to_charts_s']:.2f} s "
                  f"(medians of {args.repeat})")
    write("explore", payload)


if __name__ == "__main__":
    main()
