"""The what-if explorer in a real browser: `risk explore` served on a free port, driven by
headless Chromium through Playwright.

Skipped only when Chromium (/usr/bin/chromium, or $RISK_CHROMIUM) or Playwright is missing,
and then not under RISK_REQUIRE_BROWSER=1 (CI sets it), where a missing browser fails.
Prints the latencies it measured (run pytest with -s to see them).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from risk.explore import control_class

from conftest import BASE_FILE

CHROMIUM = Path(os.environ.get("RISK_CHROMIUM", "/usr/bin/chromium"))
DRAWS, SEED = 100_000, 20251129
CONTROL = "aws.rental_decline"  # among the top drivers of base.yaml, whatever the seed


def _need_browser():
    """Playwright's sync API, or a skip (a failure under RISK_REQUIRE_BROWSER=1) saying what is missing."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright is not installed (pip install -e '.[test]')"
    if missing is None and not CHROMIUM.is_file():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set RISK_CHROMIUM)"
    if missing:
        if os.environ.get("RISK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RISK_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _risk(*args, cwd: Path, **kw):
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.Popen([sys.executable, "-m", "risk.cli", *map(str, args)], cwd=cwd, env=env, **kw)


def _wait_served(proc, port: int, log: Path, timeout: float = 60) -> None:
    """Until the server accepts connections (a page request would build a whole page)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"risk explore exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"risk explore did not listen on port {port} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _run_p50s(path: Path, cwd: Path) -> dict[tuple[str, int], str]:
    """`risk run PATH --draws DRAWS --seed SEED`: its P50 cells by (variable, year), as printed."""
    r = subprocess.run([sys.executable, "-m", "risk.cli", "run", str(path), "--draws", str(DRAWS), "--seed", str(SEED)],
                       cwd=cwd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = re.findall(r"(\w+_margin)\s*│\s*(\d{4})\s*│\s*(-?[\d.]+%)\s*│\s*(-?[\d.]+%)\s*│\s*(-?[\d.]+%)", r.stdout)
    assert rows, r.stdout
    return {(v, int(y)): p50 for v, y, _, p50, _ in rows}


def test_move_a_control_save_and_reproduce(tmp_path):
    sync_playwright = _need_browser()
    from playwright.sync_api import expect

    port, saved, log = _free_port(), tmp_path / "steeper.yaml", tmp_path / "explore.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w") as out:
        started = time.perf_counter()
        proc = _risk("explore", BASE_FILE, "--port", port, "--draws", DRAWS, "--seed", SEED, "--no-browser",
                     "--save-to", saved, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_served(proc, port, log)
        served = time.perf_counter() - started
        assert f"at http://localhost:{port}/ (100,000 draws a rerun, seed {SEED};" in log.read_text()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"])
            try:
                page = browser.new_page(viewport={"width": 1300, "height": 1400})
                t0 = time.perf_counter()
                page.goto(url)
                cell = page.locator("#p50-aws_operating_margin-2030")
                expect(cell).to_have_text(re.compile(r"^\d+\.\d%$"), timeout=30_000)
                first_render = time.perf_counter() - t0
                before = cell.inner_text()
                fan = page.locator("img").first
                fan_before = fan.get_attribute("src")

                box = page.locator(f".{control_class(CONTROL)} input")
                median = float(box.input_value())
                box.fill(f"{median + 0.1:.2f}")
                t1 = time.perf_counter()
                box.press("Enter")
                expect(cell).not_to_have_text(before, timeout=30_000)
                p50_changed = time.perf_counter() - t1
                expect(fan).not_to_have_attribute("src", fan_before or "", timeout=30_000)
                redrawn = time.perf_counter() - t1
                after = cell.inner_text()
                assert float(after.rstrip("%")) < float(before.rstrip("%"))  # compute rents fall faster: less AI revenue, a lower margin
                shown = {}
                for c in page.locator("[id^='p50-']").all():
                    _, var, year = c.get_attribute("id").split("-")
                    shown[(var, int(year))] = c.inner_text()
                assert len(shown) == 12  # three margins in four years

                page.get_by_role("button", name="Save scenario").click()
                expect(page.get_by_text(f"saved {saved} (validated)")).to_be_visible(timeout=30_000)
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    v = subprocess.run([sys.executable, "-m", "risk.cli", "validate", str(saved)], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0 and "scenario 'base_whatif'" in v.stdout, v.stdout + v.stderr
    assert f"#   {CONTROL}: median " in saved.read_text() and f"-> median {median + 0.1:.4g} 1/yr (shift" in saved.read_text()
    assert _run_p50s(saved, tmp_path) == shown
    print(f"\nexplore timings: served {served:.1f} s after start; first render {first_render:.2f} s; "
          f"control change to new P50 {p50_changed:.2f} s, to redrawn charts {redrawn:.2f} s ({DRAWS:,} draws)")
