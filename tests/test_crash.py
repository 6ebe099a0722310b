"""Crash test: commands killed with SIGKILL at moments aimed at their writes (from the moment
their temporary appears beside the output until after they are done) leave the old output or
the new one, whole, every time; the next write there removes what a killed one left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import risk

from conftest import BASE_FILE, ROOT

RISK = [sys.executable, "-c", "from risk.cli import app; app(prog_name='risk')"]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "120"}


def _temporaries(target: Path, pid: int | None = None) -> list[Path]:
    """Temporaries beside ``target`` (of the writer ``pid`` only, if given: a killed writer's stay
    until the next writer removes them)."""
    prefix = f".{target.name}." + ("" if pid is None else f"{pid}.")
    return [p for p in target.parent.iterdir() if p.name.startswith(prefix)]


def kill_during_write(args: list[str], target: Path, delay: float | None) -> tuple[str, float]:
    """Run ``risk ARGS``; SIGKILL it ``delay`` s after its temporary appears beside ``target``
    (``None``: let it finish). Returns how it ended (killed, or finished) and the seconds from
    the temporary's appearance to the end."""
    proc = subprocess.Popen(RISK + args, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not _temporaries(target, proc.pid) and proc.poll() is None:
        time.sleep(0.002)
    start = time.perf_counter()
    if delay is None:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
        return "finished", time.perf_counter() - start
    time.sleep(delay)
    if proc.poll() is not None:
        return "finished", time.perf_counter() - start
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return "killed", time.perf_counter() - start


def kill_at_moments(args: list[str], target: Path, reset, read) -> list[tuple]:
    """Kill ``risk ARGS`` at moments spread over its write (0 to 110 % of an uncut write's
    span, measured first: spans vary by about 20 %); after each, what ``read`` finds at ``target`` ("old", "new" or not)."""
    reset()
    _, span = kill_during_write(args, target, None)
    outcomes = []
    for fraction in (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.97, 1.1, 1.4):
        reset()
        ended, _ = kill_during_write(args, target, fraction * span)
        outcomes.append((fraction, ended, read()))
    kill_during_write(args, target, None)
    assert _temporaries(target) == []
    return outcomes


@pytest.mark.slow
def test_a_report_killed_while_it_writes(tmp_path):
    """``risk report``: the old PDF or a whole new one, never a partial file."""
    run = tmp_path / "run.nc"
    risk.save_run(risk.simulate(BASE_FILE, draws=2000, seed=1), run)
    target = tmp_path / "report.pdf"
    args = ["report", str(run), "--out", str(target), "--hindcast", str(tmp_path / "none.yaml")]
    old = b"%PDF-1.7 the old report %%EOF"

    def read():
        data = target.read_bytes()
        return "old" if data == old else "new" if data.startswith(b"%PDF") and b"%%EOF" in data[-1024:] else "partial"

    outcomes = kill_at_moments(args, target, lambda: target.write_bytes(old), read)
    print("report", outcomes)
    assert all(found in ("old", "new") for _, _, found in outcomes), outcomes
    assert any(ended == "killed" and found == "old" for _, ended, found in outcomes), outcomes


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_streamed_run_killed_while_it_writes(tmp_path, suffix):
    """``risk run --scheduler threads --out RUN``, which streams chunk by chunk into the
    temporary: the old run or the whole new one."""
    draws = 120_000
    target = tmp_path / f"run{suffix}"
    args = ["run", str(BASE_FILE), "-n", str(draws), "--seed", "2", "--sampling", "mc", "--scheduler", "threads",
            "--chunk-size", "16384", "--out", str(target)]
    old = risk.simulate(BASE_FILE, draws=500, seed=1)["nvda_gross_margin"].values
    new = risk.simulate(BASE_FILE, draws=draws, seed=2, sampling="mc")["nvda_gross_margin"].values

    def read():
        got = risk.load_run(target)["nvda_gross_margin"].values
        return "old" if np.array_equal(got, old) else "new" if np.array_equal(got, new) else "mix"

    outcomes = kill_at_moments(args, target, lambda: risk.save_run(risk.simulate(BASE_FILE, draws=500, seed=1), target), read)
    print(suffix, outcomes)
    assert all(found in ("old", "new") for _, _, found in outcomes), outcomes
    assert any(ended == "killed" and found == "old" for _, ended, found in outcomes), outcomes
