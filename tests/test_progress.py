"""Progress: the sequence of phases and counts each long command reports, recorded by a fake sink."""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console
from typer.testing import CliRunner

import risk
from risk import cli
from risk.hindcast import hindcast
from risk.mixture import allocate, load_scenario_set
from risk.progress import PREPARING, Sink, start
from risk.report import build_report
from risk.sensitivity import model_sobol, tornado, uncertain_parameters

from conftest import BASE_FILE, SCENARIOS, Recorder

runner = CliRunner()


def _check_counts(counts, total):
    done = [d for d, _ in counts]
    assert all(t == total for _, t in counts)
    assert all(b > a for a, b in zip(done, done[1:])), done  # strictly up
    assert done[-1] == total


def test_counts_go_up_over_a_whole_scenario_set_and_end_at_its_draws():
    sset = load_scenario_set(SCENARIOS / "outlook.yaml")
    rec = Recorder()
    rec.phase(PREPARING)
    risk.simulate(sset, draws=3001, chunk_size=400, progress=rec.counter("simulating"), threads=2)
    assert rec.phases() == [PREPARING, "simulating"]
    assert rec.events[1] == ("phase", "simulating", "draws")  # the text phase stays until the first chunk is done
    counts = rec.counts()
    _check_counts(counts, 3001)
    per_member = allocate([m.weight for m in sset.members], 3001)
    assert len(counts) == sum(math.ceil(n / 400) for n in per_member if n)  # one count a chunk


def test_a_single_scenario_counts_each_chunk_once():
    rec = Recorder()
    risk.simulate(BASE_FILE, draws=2500, chunk_size=1000, progress=rec, threads=2)
    assert rec.counts() == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_report_phases_in_order(tmp_path):
    rec = Recorder()
    build_report([risk.simulate(BASE_FILE, draws=1500, seed=2)], tmp_path / "r.html", progress=rec)
    assert rec.phases() == ["summary", "figures", "sensitivity", "reverse stress", "writing HTML"]


def test_tornado_counts_its_parameters(base_scenario):
    rec = Recorder()
    tornado(base_scenario, "nvda_gross_margin", draws=200, progress=rec)
    k = len(uncertain_parameters(base_scenario))
    assert rec.phases() == ["sampling", "tornado"] and rec.events[1] == ("phase", "tornado", "parameters")
    assert rec.counts() == [(i, k) for i in range(1, k + 1)]


def test_sobol_phases(base_scenario):
    rec = Recorder()
    res = model_sobol(base_scenario, ["nvda_gross_margin"], n=32, n_boot=5, progress=rec)
    assert rec.phases() == ["sampling", f"model ({res.indices.attrs['evaluations']:,} evaluations)", "bootstrap"]


def test_hindcast_phases_and_counts():
    rec = Recorder()
    hindcast(SCENARIOS / "hindcast_2023.yaml", draws=1200, progress=rec)
    assert rec.phases() == [PREPARING, "simulating", "scoring"]
    _check_counts(rec.counts(), 1200)


def test_no_progress_in_captured_output(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_FROM", 1)  # every run is "large": still nothing, stderr is no terminal
    result = runner.invoke(cli.app, ["run", str(BASE_FILE), "--draws", "800"])
    assert result.exit_code == 0
    assert "preparing" not in result.output and "draws " not in result.output.replace("800 draws,", "")


def test_a_shown_sink_takes_phases_and_counts_and_ends():
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    sink = start(console, True)
    sink.phase(PREPARING)
    count = sink.counter("simulating")
    count(10, 20)
    count(20, 20)
    task = sink.bar.tasks[0]
    assert (task.description, task.completed, task.total, task.fields["unit"]) == ("simulating", 20, 20, "draws")
    sink.end()
    sink.end()  # twice is harmless
    assert type(start(console, False)) is Sink
