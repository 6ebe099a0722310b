"""The what-if explorer without a browser: shifts, drivers, reruns, saved scenarios, the page's
callbacks and the command's refusals (tests/test_explore_browser.py drives the served page)."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter
from typer.testing import CliRunner

import risk
from risk.cli import app
from risk.distributions import DistributionSpec
from risk.errors import OptionError, ScenarioError
from risk.explore import Explorer, is_shiftable, shift_entry, shift_range, top_drivers
from risk.mixture import load_scenario_set
from risk.summary import KEY_MARGINS, quantile_table

from conftest import BASE_FILE, SCENARIOS


@pytest.fixture(scope="module")
def base_scenario():
    """base.yaml as it is (the quarterly clock), the scenario the explorer serves."""
    return risk.load_scenario(BASE_FILE)

runner = CliRunner()
DRAWS = 4_000
SPEC = TypeAdapter(DistributionSpec)


def _dist(entry: dict):
    return SPEC.validate_python({"source": "test", "note": "test", **entry})


def _median(dist) -> float:
    return float(dist.ppf(np.array([0.5]))[0])


@pytest.fixture(scope="module")
def explorer():
    return Explorer(risk.load_scenario(BASE_FILE), draws=DRAWS, seed=11, drivers=["pricing.elasticity", "compute.hardware_progress"])


@pytest.fixture(scope="module")
def outlook():
    return Explorer(load_scenario_set(SCENARIOS / "outlook.yaml"), draws=DRAWS, seed=11, drivers=["pricing.elasticity"])


def _p50(ds) -> dict:
    return {(v, int(y)): float(x) for (v, y), x in quantile_table(ds, KEY_MARGINS, probs=(0.5,))["P50"].items()}


# --- moving a distribution --------------------------------------------------------------------

def test_a_shift_moves_the_whole_distribution():
    """Uniform by ci90, PERT by mode and ci90, beta with its default bounds: each moves by Δ,
    its median by exactly Δ (the shape is kept)."""
    uni = {"dist": "uniform", "ci90": [0.2, 0.4]}
    assert shift_entry(uni, _dist(uni), 0.05)["ci90"] == [0.25, 0.45]
    pert = {"dist": "pert", "mode": 1.5, "ci90": [0.8, 2.5]}
    moved = shift_entry(pert, _dist(pert), 0.25)
    assert moved["mode"] == 1.75 and moved["ci90"] == [1.05, 2.75] and "min" not in moved
    assert _median(_dist(moved)) == pytest.approx(_median(_dist(pert)) + 0.25, abs=1e-9)
    beta = {"dist": "beta", "ci90": [0.3, 0.6]}
    moved = shift_entry(beta, _dist(beta), 0.1)
    assert (moved["min"], moved["max"], moved["ci90"]) == (0.1, 1.1, [0.4, 0.7])
    assert _median(_dist(moved)) == pytest.approx(_median(_dist(beta)) + 0.1, abs=1e-7)
    assert shift_entry(uni, _dist(uni), 0.05)["ci90"] != uni["ci90"] and uni["ci90"] == [0.2, 0.4]  # the original is kept


def test_the_shift_range_keeps_the_domain_and_one_width():
    """compute.hardware_progress (domain [0, 5]) uniform on ci90 [0.2, 0.4]: support
    0.3 ± 0.1/0.9; down to the domain's floor (by 0.3 - 0.1/0.9), up by one 90% width (0.2)."""
    lo, hi = shift_range("compute.hardware_progress", _dist({"dist": "uniform", "ci90": [0.2, 0.4]}))
    assert lo == pytest.approx(-(0.3 - 0.1 / 0.9)) and hi == pytest.approx(0.2)
    lo, hi = shift_range("asic_adoption.inference.ceiling", _dist({"dist": "beta", "ci90": [0.3, 0.6]}))
    assert (lo, hi) == (0.0, 0.0)  # a beta on [0, 1] already spans the share's domain
    assert not is_shiftable("compute.accelerator_life", _dist({"dist": "choice", "values": [4, 5, 6]}))


def test_the_top_drivers_are_ranked_and_movable(base_scenario):
    drivers = top_drivers(base_scenario, n=6, draws=2048, seed=3)
    assert len(drivers) == 6 and len(set(drivers)) == 6
    assert "aws.rental_decline" in drivers and "capex.fade_years" in drivers
    assert all(is_shiftable(p, base_scenario.parameters[p]) and not base_scenario.parameters[p].is_fixed for p in drivers)


# --- rerunning -----------------------------------------------------------------------------------

def test_unchanged_controls_rerun_the_scenario_itself(explorer, base_scenario):
    res = explorer.run()
    assert res.p50 == _p50(risk.simulate(base_scenario, draws=DRAWS, seed=11))
    assert set(res.probs) == {(v, y) for v in ("nvda_gross_margin", "nvda_operating_margin", "aws_operating_margin")
                              for y in res.years}
    ds = res.ds
    p = (ds["nvda_gross_margin"].sel(year=2028).values < 0.65).mean()
    assert res.probs[("nvda_gross_margin", 2028)].value == pytest.approx(p)
    assert explorer.changes() == []


def test_a_steeper_price_response_lowers_nvidia_margins(explorer):
    """A larger pricing.elasticity (markup cut per point of ASIC share) lowers NVIDIA's median
    gross margin in 2030 and raises the chance it ends below 65%."""
    c = explorer.controls[0]
    base, steep = explorer.run(), explorer.run({c.path: c.origin + 0.5})
    assert steep.p50[("nvda_gross_margin", 2030)] < base.p50[("nvda_gross_margin", 2030)]
    assert steep.probs[("nvda_gross_margin", 2030)].value > base.probs[("nvda_gross_margin", 2030)].value
    (change,) = explorer.changes({c.path: c.origin + 0.5})
    assert change.path == "pricing.elasticity" and change.before == "median 1.582"
    assert change.after.startswith("median 2.082 (shift +0.5; mode 1.5 -> 2; ci90 [0.8, 2.5] -> [1.3, 3])")


# --- saving -----------------------------------------------------------------------------------------

def test_saved_scenario_extends_the_original_validates_and_reproduces(explorer, tmp_path):
    c = explorer.controls[0]
    values = {c.path: c.origin + 0.5}
    shown = explorer.run(values)
    (path,) = explorer.save(tmp_path / "steep.yaml", values)
    text = path.read_text()
    assert text.startswith("# What-if on 'base', saved by risk explore. Changed:\n#   pricing.elasticity: median 1.582 -> median 2.082")
    doc = yaml.safe_load(text)
    assert (tmp_path / doc["extends"]).resolve() == BASE_FILE.resolve()
    assert (doc["name"], doc["draws"], doc["seed"]) == ("base_whatif", DRAWS, 11)
    assert set(doc) == {"extends", "name", "description", "draws", "seed", "sampling", "data", "pricing"}
    assert doc["pricing"]["elasticity"]["mode"] == 2.0 and doc["pricing"]["elasticity"]["ci90"] == [1.3, 3.0]
    assert "what-if: median 1.582 -> median 2.082" in doc["pricing"]["elasticity"]["note"]
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0 and "scenario 'base_whatif'" in r.output, r.output
    assert _p50(risk.simulate(path)) == shown.p50  # its own draws and seed
    explorer.save(path, {c.path: c.origin})  # a file the explorer wrote is replaced
    assert "#   nothing" in path.read_text() and "pricing" not in yaml.safe_load(path.read_text())


def test_save_refuses_the_original_and_writes_nothing_invalid(explorer, outlook, tmp_path):
    with pytest.raises(OptionError, match="is a file of the original scenario; give a new file name"):
        explorer.save(BASE_FILE, {explorer.controls[0].path: 2.0})
    insurgency = Explorer(risk.load_scenario(SCENARIOS / "asic_insurgency.yaml"), draws=DRAWS, drivers=["pricing.elasticity"])
    with pytest.raises(OptionError, match="is a file of the original scenario"):
        insurgency.save(BASE_FILE)  # the file it extends
    with pytest.raises(OptionError, match=r"give a \.yaml file"):
        explorer.save(tmp_path / "x.txt")
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    with pytest.raises(OptionError, match="exists and was not saved by risk explore; give a new file name"):
        explorer.save(mine)
    assert mine.read_text() == "name: mine\n"
    mine.unlink()
    zero = {name: 0.0 for name, _, _ in outlook.members}
    with pytest.raises(ScenarioError, match="give at least one scenario a weight above 0"):
        outlook.save(tmp_path / "none.yaml", weights=zero)
    assert list(tmp_path.iterdir()) == []


# --- scenario sets ----------------------------------------------------------------------------------

def test_set_weights_mix_the_scenarios(outlook, base_scenario):
    """All weight on base: the set's run is base's own run (common random numbers)."""
    only_base = {name: float(name == "base") for name, _, _ in outlook.members}
    assert outlook.run(weights=only_base).p50 == _p50(risk.simulate(base_scenario, draws=DRAWS, seed=11))
    changes = outlook.changes(weights=only_base)
    assert ("base", "35.0%", "100.0%") in [(c.scenario, c.before, c.after) for c in changes if c.path == "weight"]
    assert outlook.controls[0].kind == "shift" and outlook.controls[0].origin == 0.0


def test_a_saved_set_validates_and_reproduces(outlook, tmp_path):
    weights = {name: w for name, _, w in outlook.members} | {"base": 0.6, "trainium_merchant": 0.0}
    values = {"pricing.elasticity": 0.3}
    shown = outlook.run(values, weights)
    files = outlook.save(tmp_path / "mine.yaml", values, weights)
    assert files[-1] == tmp_path / "mine.yaml" and tmp_path / "mine.base.yaml" in files
    assert not (tmp_path / "mine.trainium_merchant.yaml").exists()  # weight 0: left out
    doc = yaml.safe_load(files[-1].read_text())
    assert doc["scenarios"]["base"] == {"file": "mine.base.yaml", "weight": 0.6} and "trainium_merchant" not in doc["scenarios"]
    assert "#   base: weight: 35.0% -> " in files[-1].read_text()
    assert doc["description"].startswith("what-if on outlook: pricing.elasticity shifted by +0.3; weights base ")
    r = runner.invoke(app, ["validate", *map(str, files)])
    assert r.exit_code == 0 and "scenario set 'outlook_whatif'" in r.output, r.output
    assert _p50(risk.simulate(files[-1])) == shown.p50


# --- the page, without a server ------------------------------------------------------------------------

def test_page_reruns_on_a_control_and_saves(explorer, tmp_path):
    pytest.importorskip("panel")
    import param

    from risk.explore import build_page

    page = build_page(explorer, tmp_path / "page.yaml")
    state = page.state
    first = state["results"].p50[("nvda_gross_margin", 2030)]
    slider = state["sliders"]["pricing.elasticity"]
    with param.parameterized.edit_constant(slider):  # what the browser does at the end of a drag
        slider.param.update(value=2.5, value_throttled=2.5)
    assert state["updates"] == 2
    assert state["results"].p50[("nvda_gross_margin", 2030)] < first
    state["save"].clicks += 1
    assert state["status"].object == f"saved {tmp_path / 'page.yaml'} (validated)"
    assert _p50(risk.simulate(tmp_path / "page.yaml")) == state["results"].p50


# --- the command's refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, said", [
    (["--draws", "10"], "--draws: must be from 1,000 to 2,000,000"),
    (["--port", "70000"], "--port: must be a port number from 1 to 65535"),
    (["--seed", "-1"], "--seed: must be from 0 to 2^63 - 1"),
    (["--save-to", "mine.txt"], "--save-to: must be a .yaml file (got 'mine.txt')"),
    (["--drivers", "0"], "--drivers: must be from 1 to 20"),
])
def test_explore_refuses_bad_options(args, said):
    r = runner.invoke(app, ["explore", str(BASE_FILE), "--no-browser", *args])
    assert r.exit_code == 2 and said in r.output, r.output


def test_explore_refuses_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = runner.invoke(app, ["explore", str(BASE_FILE), "--no-browser", "--port", str(port)])
    assert r.exit_code == 2 and f"--port: cannot serve there" in r.output and f"(got {port})" in r.output, r.output


def test_explore_without_panel_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "panel", None)  # import panel fails
    r = runner.invoke(app, ["explore", str(BASE_FILE), "--no-browser"])
    assert r.exit_code == 2 and "risk explore needs Panel: install it with pip install -e '.[explore]'" in r.output, r.output


def test_explore_starts_and_serves_the_page(monkeypatch):
    """Up to serving: the drivers, the first run, the address printed; serve gets the explorer."""
    seen = {}
    monkeypatch.setattr("risk.explore.serve", lambda explorer, port, show, save_to, first: seen.update(locals()))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    r = runner.invoke(app, ["explore", str(SCENARIOS / "outlook.yaml"), "--draws", "2000", "--seed", "5", "--port", "5999"])
    assert r.exit_code == 0, r.output
    assert "serving the what-if explorer of 'outlook' at http://localhost:5999/ (2,000 draws a rerun, seed 5;" in r.output
    assert seen["show"] is False  # no display: no browser
    assert len(seen["explorer"].controls) == 6 and seen["first"].draws == 2000
    assert str(seen["save_to"]) == "outlook_whatif.yaml"
