"""Nothing the user had is lost: outputs are checked before any work, only a run of this tool is
replaced, every write takes its place in one step, and a killed writer's leftovers are cleaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

import risk
from risk.cli import app
from risk.io import OutputError, check_output, save_run

from conftest import BASE_FILE, ROOT

runner = CliRunner()


@pytest.fixture(scope="module")
def run():
    return risk.simulate(BASE_FILE, draws=500, seed=3)


def test_an_unrelated_folder_is_refused_and_kept(tmp_path, run):
    precious = tmp_path / "precious.zarr"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(OutputError, match="exists and is not a Zarr run of risk; nothing was changed"):
        save_run(run, precious)
    result = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "100", "--out", str(precious)])
    assert result.exit_code == 2 and "not a Zarr run of risk" in result.output and "draws, seed" not in result.output
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_an_unrelated_file_is_refused_and_kept(tmp_path, run):
    notes = tmp_path / "notes.nc"
    notes.write_text("not a run")
    with pytest.raises(OutputError, match="exists and is not a NetCDF run of risk"):
        save_run(run, notes)
    assert notes.read_text() == "not a run"


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.mkdir(), "is not a regular file (a folder, a link or a device)"),
    (lambda p: p.symlink_to("/dev/null"), "is not a regular file (a folder, a link or a device)"),
])
def test_folders_links_and_devices_are_refused(tmp_path, run, make, fragment):
    target = tmp_path / "x.nc"
    make(target)
    with pytest.raises(OutputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        save_run(run, target)


def test_a_device_node_is_refused():
    with pytest.raises(OutputError, match="is not a regular file"):
        check_output("/dev/null", "file")


@pytest.mark.parametrize("name, fragment", [
    ("x.csv", "a run is written as a .nc file or a .zarr folder, not '.csv'"),
    ("afile/x.nc", "its folder cannot be made: .*afile is a file"),
    (".", "is not a file name"),
])
def test_paths_that_cannot_be_a_run(tmp_path, name, fragment):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match=fragment):
        check_output(tmp_path / name if name != "." else ".", "run")


def test_a_read_only_folder_and_a_full_disk_are_refused_before_work(tmp_path, run, monkeypatch):
    import shutil as sh
    from collections import namedtuple

    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(OutputError, match="cannot write in .*: permission denied or a read-only file system"):
        check_output(tmp_path / "x.nc")
    monkeypatch.undo()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(sh, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(OutputError, match=r"needs about 0\.\d\d GB and the disk has 0\.00 GB free"):
        save_run(run, tmp_path / "x.nc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_a_run_replaces_a_run_and_leaves_no_temporaries(tmp_path, run, suffix):
    target = tmp_path / f"run{suffix}"
    save_run(run, target)
    other = risk.simulate(BASE_FILE, draws=500, seed=4)
    save_run(other, target)
    np.testing.assert_array_equal(risk.load_run(target)["nvda_gross_margin"].values, other["nvda_gross_margin"].values)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_temporaries_of_a_dead_writer_are_removed(tmp_path, run):
    dead = 2**22 + 12345  # above the kernel's default pid_max: no such process
    (tmp_path / f".run.nc.{dead}.abc.tmp").write_bytes(b"x" * 1000)
    (tmp_path / f".run.zarr.{dead}.abc").mkdir()
    alive = tmp_path / f".run.nc.{os.getpid()}.keep.tmp"
    alive.write_text("mine")
    save_run(run, tmp_path / "run.nc")
    save_run(run, tmp_path / "run.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.nc", "run.zarr", alive.name])


_WRITE = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import risk
ds = risk.simulate(sys.argv[1], draws=int(sys.argv[3]), seed=int(sys.argv[4]))
print("writing", flush=True)
t = time.perf_counter()
risk.save_run(ds, sys.argv[2])
print(f"done {time.perf_counter() - t:.3f}", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_a_writer_killed_at_any_moment_leaves_the_old_run_or_the_new(tmp_path, suffix):
    """SIGKILL at moments spread over the write of a run that replaces another (from the moment
    it starts writing to after it is done): the path holds either run, whole, every time; the
    next write cleans what the killed one left."""
    draws = 60_000
    target = tmp_path / f"run{suffix}"
    old = risk.simulate(BASE_FILE, draws=draws, seed=1)
    save_run(old, target)
    new = risk.simulate(BASE_FILE, draws=draws, seed=2)["nvda_gross_margin"].values
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def write(kill_after: float | None):
        proc = subprocess.Popen([sys.executable, "-c", _WRITE, str(BASE_FILE), str(target), str(draws), "2"], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout.readline().strip() == "writing"
        if kill_after is None:
            return float(proc.communicate()[0].split()[-1])
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None

    duration = write(None)  # how long a write takes here
    save_run(old, target)
    outcomes = []
    for fraction in (0.15, 0.45, 0.75, 0.95, 1.1):
        write(fraction * duration)
        got = risk.load_run(target)["nvda_gross_margin"].values
        which = "old" if np.array_equal(got, old["nvda_gross_margin"].values) else "new" if np.array_equal(got, new) else "mix"
        outcomes.append(which)
        if which == "new":
            save_run(old, target)  # back to the old run for the next kill
    print(suffix, f"write {duration:.2f} s", outcomes)
    assert "mix" not in outcomes and "old" in outcomes, outcomes
    save_run(old, target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


_FILL = r"""
import collections, resource, shutil, signal, sys, warnings
warnings.simplefilter("ignore")
import risk
from risk.io import OutputError
target, limit = sys.argv[1], int(sys.argv[2])
ds = risk.simulate(sys.argv[3], draws=30_000, seed=2)
usage = collections.namedtuple("usage", "total used free")
shutil.disk_usage = lambda path: usage(10**12, 0, 10**12)  # the check before the write sees room
if limit:  # files may not grow past limit bytes: writes fail as on a full disk (EFBIG, not ENOSPC)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    risk.save_run(ds, target)
    print("written")
except OutputError as e:
    print(e)
"""


@pytest.fixture(params=["file-size limit", "full tmpfs"])
def small_disk(request, tmp_path):
    """A folder where writes fail part way: a file-size limit, or a real 3 MB tmpfs (as root)."""
    if request.param == "file-size limit":
        yield tmp_path, 32 * 1024
        return
    where = tmp_path / "tmpfs"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield where, 0
    finally:
        subprocess.run(["umount", str(where)])


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_a_disk_that_fills_during_the_write_ends_in_a_message_and_the_old_run(small_disk, run, suffix):
    """The disk fills up after the check before the write: a clear message, exit without a
    crash, the old run intact and no temporary left (HDF5 crashes on close after a failed write,
    so NetCDF is written in a forked child)."""
    where, limit = small_disk
    target = where / f"run{suffix}"
    save_run(run, target)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", _FILL, str(target), str(limit), str(BASE_FILE)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "could not be written (" in proc.stdout and "any output that was there is unchanged" in proc.stdout, proc.stdout
    np.testing.assert_array_equal(risk.load_run(target)["nvda_gross_margin"].values, run["nvda_gross_margin"].values)
    assert [p.name for p in where.iterdir()] == [target.name]


def test_a_read_only_file_system_is_refused_before_work(tmp_path):
    """A real read-only mount (root only; skipped elsewhere): exit status 2 and a message."""
    where = tmp_path / "ro"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        result = runner.invoke(app, ["run", str(BASE_FILE), "-n", "100", "--out", str(where / "x.nc")])
        assert result.exit_code == 2, result.output
        assert "cannot write in" in result.output and "read-only file system" in result.output, result.output
    finally:
        subprocess.run(["umount", str(where)])
