"""Wiring: every parameter reaches the model, every output is written, and nothing depends on the
glossary's order or on which other parameters exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import risk
from risk.streams import PARAMETER_ROWS
from risk.glossary import CALIBRATED, OUTPUTS, PARAMETERS, SHOCKS
from risk.model.engine import output_blocks, run_model, run_rows
from risk.sampling import parameter_matrix, sample_parameters, sample_shocks

from conftest import ROOT, SCENARIOS, variant

DRAWS = 64


def _pairs(scenario, path: str):
    """Pairs of values of ``path`` to try, nearest the scenario's own first: the 10th and 90th
    percentiles of its distribution, its support's ends, then its value against each end of the
    glossary domain (a bound such as the deepest capex cut binds only far from its base value)."""
    info, dist = PARAMETERS[path], scenario.parameters[path]
    lo, hi = dist.support()
    d_lo, d_hi = info.domain
    if path == "compute.accelerator_life":
        d_hi = 7  # lives longer than the market history cannot be run
    candidates = [tuple(float(x) for x in dist.ppf(np.array([0.1, 0.9]))), (lo, hi), (d_lo, lo), (lo, min(d_hi, 1e3))]
    return [(a, b) for a, b in candidates if a != b]


@pytest.mark.parametrize("path", list(PARAMETERS))
def test_every_parameter_moves_an_output(base_scenario, base, path):
    """Two values of the parameter, every other input the same: some output of some year differs,
    with every output finite in both runs."""
    sc = base_scenario
    params = sample_parameters(sc.parameters, DRAWS, 5, "mc")
    params["aws.external.enabled"] = np.ones(DRAWS)  # external sales on, so that their parameters matter
    shocks = sample_shocks(5, sc.settings.horizon, 0, DRAWS)
    tried = []
    for pair in _pairs(sc, path):
        runs = []
        for value in pair:
            p = dict(params)
            p[path] = np.full(DRAWS, value)
            runs.append(run_model(p, shocks, base, sc.settings.horizon).outputs)
        finite = all(np.isfinite(r[name]).all() for r in runs for name in OUTPUTS)
        if finite and any(not np.array_equal(runs[0][name], runs[1][name]) for name in OUTPUTS):
            return
        tried.append(pair)
    pytest.fail(f"{path}: no output moves between any of {tried}")


@pytest.mark.parametrize("wide", [False, True])
def test_every_output_is_written(base_scenario, base_doc, base, wide):
    """Blocks filled with NaN first: after a run, no NaN is left in any output, calibrated value or
    parameter, in any year."""
    from test_reference import _wide

    sc = _wide(base_doc) if wide else base_scenario
    H = sc.settings.horizon
    blocks = output_blocks(3 * DRAWS, H, fill=np.nan)
    for lo in range(0, 3 * DRAWS, DRAWS):  # chunks written side by side
        par = parameter_matrix(sc.parameters, 3 * DRAWS, 2, "mc", rows=(lo, lo + DRAWS), order=PARAMETER_ROWS)
        run_rows(par, sample_shocks(2, H, lo, lo + DRAWS), base, H, blocks, lo)
    for k, name in enumerate(OUTPUTS):
        assert not np.isnan(blocks.outputs[k]).any(), f"{name} left unwritten"
    for k, name in enumerate(CALIBRATED):
        assert not np.isnan(blocks.calibrated[k]).any(), f"{name} left unwritten"
    assert not np.isnan(blocks.parameters).any()


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_a_parameter_draws_the_same_whichever_others_exist_and_in_any_order(base_scenario, method):
    """A parameter's stream is keyed by its name: leaving parameters out of the sampled set, or
    listing them in reverse, changes no other parameter's numbers."""
    full = sample_parameters(base_scenario.parameters, 512, 3, method)
    kept = {p: d for p, d in reversed(base_scenario.parameters.items()) if not p.startswith("capex.")}
    part = sample_parameters(kept, 512, 3, method)
    for path in kept:
        np.testing.assert_array_equal(part[path], full[path], err_msg=f"{method}: {path}")


# ---- the glossary's order ----------------------------------------------------------------------

_RUN = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
import risk
from risk.glossary import OUTPUTS, PARAMETERS
out = {"order": list(PARAMETERS)[:3]}
for method in ("mc", "lhs", "sobol"):
    ds = risk.simulate(sys.argv[1], draws=300, seed=11, sampling=method, dtype="float64", chunk_size=128)
    out[method] = {name: ds[name].values.tolist() for name in [*OUTPUTS, *PARAMETERS]}
print(json.dumps(out))
"""


def _reverse_entries(source: str, start: str, prefix: str) -> str:
    """The source with the lines starting with ``prefix`` in the block after ``start`` reversed."""
    head, _, rest = source.partition(start)
    block, end, tail = rest.partition("\n    ]\n")
    lines = block.split("\n")
    entries = [line for line in lines if line.strip().startswith(prefix)]
    it = iter(entries[::-1])
    block = "\n".join(next(it) if line.strip().startswith(prefix) else line for line in lines)
    return head + start + block + end + tail


def _run(package_root: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _RUN, str(SCENARIOS / "base.yaml")], capture_output=True, text=True,
                          cwd=package_root, env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_numbers_do_not_depend_on_the_glossary_order(tmp_path):
    """The same runs from a copy of the package whose glossary lists every parameter, output and
    shock in reverse order: every number is the same."""
    copy = tmp_path / "reordered"
    shutil.copytree(ROOT / "risk", copy / "risk", ignore=shutil.ignore_patterns("__pycache__"))
    glossary = copy / "risk" / "glossary.py"
    text = glossary.read_text()
    text = _reverse_entries(text, "PARAMETERS: dict[str, ParameterInfo] = {", "_P(")
    text = _reverse_entries(text, "OUTPUTS: dict[str, OutputInfo] = {", "_O(")
    shocks = re.search(r'SHOCKS: tuple\[str, \.\.\.\] = \(([^)]*)\)', text)
    names = [n.strip() for n in shocks.group(1).split(",") if n.strip()]
    text = text.replace(shocks.group(0), f"SHOCKS: tuple[str, ...] = ({', '.join(reversed(names))},)")
    glossary.write_text(text)

    here, there = _run(ROOT), _run(copy)
    assert there["order"] != here["order"]  # the copy's glossary is reordered indeed
    for method in ("mc", "lhs", "sobol"):
        for name, values in here[method].items():
            assert there[method][name] == values, f"{method}: {name}"


# ---- validation once ---------------------------------------------------------------------------

@pytest.mark.parametrize("edit, fragment", [
    (("compute.accelerator_life", {"dist": "choice", "values": [5, 9]}),
     "compute.accelerator_life: reaches 9 years, but accelerator_market history starts in 2019"),
    (("aws.ai_revenue_start", {"dist": "uniform", "min": 100, "max": 150}),
     "aws.ai_revenue_start: reaches 150, but AWS revenue in 2025 is 128.7"),
    (("aws.external.start_year", {"dist": "uniform", "min": 2020, "max": 2030}),
     "aws.external.start_year: reaches 2020, before the base year 2025"),
])
def test_validate_refuses_what_run_refuses_with_the_same_message(tmp_path, base_doc, edit, fragment):
    from typer.testing import CliRunner

    from conftest import ANNUAL_FILE

    from risk.cli import app
    from test_errors import edit as edited, write

    path, value = edit
    bad = write(tmp_path, edited(base_doc, path, {**value, "source": "t", "note": "t"}))
    runner = CliRunner()
    checked = runner.invoke(app, ["validate", str(bad)])
    ran = runner.invoke(app, ["run", str(bad), "--draws", "100"])
    assert checked.exit_code == 2 and ran.exit_code == 2
    assert fragment in " ".join(checked.output.split()) and fragment in " ".join(ran.output.split())
    with pytest.raises(risk.ScenarioError, match=re.escape(fragment)):
        risk.load_scenario(bad)
    with pytest.raises(risk.ScenarioError, match=re.escape(fragment)):  # and an override, checked the same way
        risk.load_scenario(ANNUAL_FILE).with_overrides({path: {**value}})
