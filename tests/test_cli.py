"""The command line: run, validate, error exits."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
from typer.testing import CliRunner

import risk
from risk.cli import app

from pathlib import Path

from conftest import BASE_FILE, ROOT

runner = CliRunner()


def test_run_prints_summary_and_writes_file(tmp_path):
    out = tmp_path / "base.nc"
    result = runner.invoke(app, ["run", str(BASE_FILE), "--draws", "2000", "--seed", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for fragment in ["base: 2,000 draws, seed 9, lhs", "nvda_gross_margin", "nvda_operating_margin", "aws_operating_margin",
                     "P5", "P50", "P95", "2026", "2030", "2032", f"wrote {out}"]:
        assert fragment in result.output
    ds = risk.load_run(out)
    assert ds.attrs["seed"] == 9 and ds.sizes["draw"] == 2000
    median = float(ds["nvda_gross_margin"].sel(year=2030).median())
    assert f"{median:.1%}" in result.output


def test_validate_ok_and_invalid(tmp_path):
    ok = runner.invoke(app, ["validate", str(BASE_FILE)])
    assert ok.exit_code == 0 and "ok" in ok.output and "66 parameters" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE_FILE.read_text().replace("horizon: 7", "horizn: 7"))
    result = runner.invoke(app, ["validate", str(BASE_FILE), str(bad)])
    assert result.exit_code == 2
    assert "did you mean 'horizon'" in result.output


def test_bad_input_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE_FILE.read_text().replace("dist: pert", "dist: perrt", 1))
    proc = subprocess.run([sys.executable, "-m", "risk.cli", "run", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "unknown distribution 'perrt' (did you mean 'pert'?)" in proc.stderr


def test_bad_option_exits_2(tmp_path):
    result = runner.invoke(app, ["run", str(BASE_FILE), "--sampling", "halton", "--draws", "10"])
    assert result.exit_code == 2
    assert "sampling: must be one of: mc, lhs, sobol (got 'halton')" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and risk.__version__ in result.output


@pytest.fixture
def wide(monkeypatch):
    from rich.console import Console

    import risk.cli

    monkeypatch.setattr(risk.cli, "out", Console(width=200))


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "base.nc"
    risk.save_run(risk.simulate(BASE_FILE, draws=20_000, seed=3), path)
    return path


def test_analyze(saved_run, wide):
    r = runner.invoke(app, ["analyze", str(saved_run), "--year", "2030"])
    assert r.exit_code == 0, r.output
    for s in ("VaR 95%", "ES 95%", "P(< 0.65)", "nvda_gross_margin", "aws_operating_margin", "± se"):
        assert s in r.output
    bad = runner.invoke(app, ["analyze", str(saved_run), "-v", "nvda_gros_margin"])
    assert bad.exit_code == 2 and "did you mean 'nvda_gross_margin'" in bad.output


@pytest.mark.parametrize("method", ["tornado", "spearman", "prcc", "sobol"])
def test_sensitivity_methods(method, wide):
    r = runner.invoke(app, ["sensitivity", str(BASE_FILE), "--method", method, "-n", "512", "--top", "3", "--year", "2030"])
    assert r.exit_code == 0, r.output
    assert "demand.inference_growth_first" in r.output  # the largest driver of the 2030 gross margin, by every method


def test_sensitivity_bad_method():
    r = runner.invoke(app, ["sensitivity", str(BASE_FILE), "--method", "morris"])
    assert r.exit_code == 2 and "must be one of: tornado, spearman, prcc, sobol" in r.output


def test_stress_and_reverse_stress(saved_run, wide):
    r = runner.invoke(app, ["stress", str(BASE_FILE), "--pin", "pricing.elasticity=P90", "-n", "3000", "--year", "2030"])
    assert r.exit_code == 0, r.output
    assert "pricing.elasticity at P90" in r.output and "shift ± se" in r.output
    r = runner.invoke(app, ["reverse-stress", str(saved_run), "--event", "nvda_gross_margin[2030] < 0.60"])
    assert r.exit_code == 0, r.output
    assert "P(nvda_gross_margin[2030] < 0.60) =" in r.output and "PRIM box" in r.output and "pricing.elasticity" in r.output
    bad = runner.invoke(app, ["reverse-stress", str(saved_run), "--event", "nvda_gross_margin[2040] < 0.6"])
    assert bad.exit_code == 2 and "year 2040 is not in the run" in bad.output


def test_validate_a_scenario_set():
    r = runner.invoke(app, ["validate", str(BASE_FILE.parent / "outlook.yaml")])
    assert r.exit_code == 0, r.output
    assert "scenario set 'outlook'" in r.output and "base 35%" in r.output


def _readme_blocks() -> list[tuple[str, str]]:
    """The README's code blocks, in order: (language, text)."""
    import re

    return re.findall(r"```(\w+)\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smaller(cmd: str, runs: Path) -> list[str]:
    """A README command as arguments, at test size: outputs under ``runs``, fewer draws."""
    import re
    import shlex

    cmd = re.sub(r"\s+#.*$", "", cmd).strip()
    cmd = re.sub(r"\[[^\]]*\.\.\.\]", "", cmd)  # optional arguments shown as [X ...]
    cmd = re.sub(r"--draws \d+", "", cmd)
    args = [str(runs / Path(a).name) if a.startswith("runs/") or a in ("report.pdf", "report.html") else a
            for a in shlex.split(cmd)[1:]]
    size = {"run": ["--draws", "1024"], "sensitivity": ["--draws", "128"], "stress": ["--draws", "2000"],
            "explore": ["--draws", "2000", "--no-browser", "--port", str(_free_port())]}
    return args + size.get(args[0], [])


@pytest.mark.slow
def test_every_readme_example_runs(tmp_path, wide, monkeypatch):
    """Every `risk` command and every Python block of the README, in order, at test size:
    exit 0 and no warning (the `make` lines are what CI runs). A server (`risk explore`) runs
    up to serving, which returns at once (tests/test_explore_browser.py serves one)."""
    import contextlib
    import io

    monkeypatch.setattr("risk.explore.serve", lambda *args, **kw: None)

    runs = tmp_path / "runs"
    namespace: dict = {}
    ran = 0
    for lang, block in _readme_blocks():
        if lang == "sh":
            for cmd in block.replace("\\\n", " ").splitlines():
                if not cmd.startswith("risk "):
                    continue
                r = runner.invoke(app, _smaller(cmd, runs), catch_exceptions=False)
                assert r.exit_code == 0 and "warning" not in r.output.lower(), (cmd, r.output[-800:])
                ran += 1
        elif lang == "python":
            code = block.replace("draws=100_000", "draws=2_000").replace('"runs/', f'"{runs}/')
            code = code.replace("risk.simulate(scenario)", "risk.simulate(scenario, draws=2_000)")
            code = code.replace("risk.simulate(faster)", "risk.simulate(faster, draws=2_000)")
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own examples
            ran += 1
    assert ran >= 14


def test_thresholds_are_options(saved_run, tmp_path, wide):
    """--threshold VARIABLE=VALUE on analyze, compare and report: the probability below it, by
    hand from the run; bad ones refused naming the option."""
    from risk import metrics, numbers
    from risk.report import summary_rows

    ds = risk.load_run(saved_run)
    p = metrics.prob_below(ds["nvda_gross_margin"].sel(year=2030).values, 0.60)
    r = runner.invoke(app, ["analyze", str(saved_run), "--year", "2030", "--threshold", "nvda_gross_margin=60%",
                            "--threshold", "aws_revenue=300", "-v", "nvda_gross_margin", "-v", "aws_revenue"])
    assert r.exit_code == 0, r.output
    import re

    cells = rf"P\(< 0\.6\)\s*│\s*{re.escape(numbers.value(p.value, True))}\s*│\s*{re.escape(numbers.error(p.se, True))}\s*│"
    assert re.search(cells, r.output), r.output
    assert "P(< 300)" in r.output
    r = runner.invoke(app, ["compare", str(saved_run), str(saved_run), "--year", "2030", "--threshold", "nvda_gross_margin=0.6"])
    assert r.exit_code == 0 and "P(< 0.6)" in r.output and "P(< 0.65)" not in r.output.split("nvda_operating")[0]
    rows = summary_rows(ds, [2030], {"nvda_gross_margin": 0.60})
    assert rows[0]["prob"] == f"{numbers.estimate(p.value, p.se, True)} (< 60%)"
    for bad, said in (("nvda_gm=0.6", "no output named 'nvda_gm'"), ("nvda_gross_margin", "expected VARIABLE=VALUE"),
                      ("nvda_gross_margin=abc", "VALUE must be a finite number"), ("nvda_gross_margin=nan", "finite")):
        r = runner.invoke(app, ["analyze", str(saved_run), "--threshold", bad])
        assert r.exit_code == 2 and "--threshold" in r.output and said in r.output, r.output


@pytest.mark.parametrize("width", [80, 160])
def test_the_outlook_fits_the_terminal_without_folding_a_name(width, monkeypatch):
    """`risk run scenarios/outlook.yaml` at 80 and 160 columns: no line is wider, and every
    scenario's name stands whole on its row."""
    from rich.console import Console

    import risk.cli
    from conftest import SCENARIOS

    monkeypatch.setattr(risk.cli, "out", Console(width=width, force_terminal=False))
    r = runner.invoke(app, ["run", str(SCENARIOS / "outlook.yaml"), "-n", "3000"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(len(line) for line in lines) <= width
    for name in ("base", "asic_insurgency", "cuda_moat_holds", "capex_digestion", "inference_supercycle",
                 "power_constrained", "trainium_merchant", "pooled", "nvda_operating_margin"):
        assert any(f"│ {name} " in line for line in lines), name
