"""Overrides without editing files: validated paths, exactly one parameter changed, provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import risk
from risk.cli import app

from conftest import BASE_FILE


def test_override_changes_exactly_that_parameter(base_scenario):
    over = base_scenario.with_overrides({"asic_adoption.inference.ceiling": {"ci90": [0.5, 0.8], "mode": 0.65}})
    a = risk.simulate(base_scenario, draws=4000, seed=2, dtype="float64")
    b = risk.simulate(over, draws=4000, seed=2, dtype="float64")
    assert json.loads(b.attrs["overrides"]) == {"asic_adoption.inference.ceiling": {"ci90": [0.5, 0.8], "mode": 0.65}}
    assert json.loads(a.attrs["overrides"]) == {}
    for p in base_scenario.parameters:
        same = np.array_equal(a[p].values, b[p].values)
        assert same == (p != "asic_adoption.inference.ceiling"), p
    q = np.quantile(b["asic_adoption.inference.ceiling"].values, [0.05, 0.95])
    np.testing.assert_allclose(q, [0.5, 0.8], atol=0.01)
    assert "overridden" in b["asic_adoption.inference.ceiling"].attrs["note"]
    assert b.attrs["scenario_hash"] != a.attrs["scenario_hash"]


def test_override_forms(base_scenario):
    s = base_scenario.with_overrides({"pricing.elasticity.mode": 1.8, "capex.max_cut": 0.4, "draws": 123,
                                      "aws.server_life": {"dist": "choice", "values": [4, 5], "source": "s", "note": "n"}})
    e = s.parameters["pricing.elasticity"]
    assert (e.dist, e.mode, e.ci90) == ("pert", 1.8, (0.8, 2.5))
    assert s.parameters["capex.max_cut"].describe() == "fixed(value=0.4)"
    assert s.settings.draws == 123 and s.parameters["aws.server_life"].values == [4, 5]
    nat = base_scenario.with_overrides({"pricing.elasticity": {"min": 0.5, "max": 3.0}})
    assert nat.parameters["pricing.elasticity"].describe() == "pert(min=0.5, mode=1.5, max=3)"


@pytest.mark.parametrize("path, suggestion", [
    ("asic_adoption.inference.cieling", "asic_adoption.inference.ceiling"),
    ("pricing.elasticity.mdoe", "pricing.elasticity.mode"),
    ("drawz", "draws"),
])
def test_unknown_path_suggests_the_closest(base_scenario, path, suggestion):
    with pytest.raises(risk.ScenarioError, match=rf"{path}: unknown override path '{path}' \(did you mean '{suggestion}'\?\)"):
        base_scenario.with_overrides({path: 0.5})


def test_invalid_override_value_names_the_path(base_scenario):
    with pytest.raises(risk.ScenarioError, match=r"asic_adoption.inference.ceiling: fixed\(value=1.5\) takes values in \[1.5, 1.5\], outside the allowed range \[0, 1\]"):
        base_scenario.with_overrides({"asic_adoption.inference.ceiling": 1.5})


def test_cli_set(tmp_path):
    runner = CliRunner()
    out = tmp_path / "o.nc"
    r = runner.invoke(app, ["run", str(BASE_FILE), "-n", "2000", "--set", "pricing.elasticity={ci90: [1.5, 3.5], mode: 2.5}",
                            "--set", "seed=77", "--out", str(out)])
    assert r.exit_code == 0, r.output
    ds = risk.load_run(out)
    assert ds.attrs["seed"] == 77 and "pricing.elasticity" in json.loads(ds.attrs["overrides"])
    bad = runner.invoke(app, ["run", str(BASE_FILE), "--set", "pricing.elastcity=2"])
    assert bad.exit_code == 2 and "did you mean 'pricing.elasticity'" in bad.output
    malformed = runner.invoke(app, ["run", str(BASE_FILE), "--set", "pricing.elasticity"])
    assert malformed.exit_code == 2 and "expected PATH=VALUE" in malformed.output
