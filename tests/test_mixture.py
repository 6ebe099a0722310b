"""Weighted scenario sets: weights honoured, slices equal separate runs, pooled results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import risk
from risk.mixture import allocate, load_scenario_set

from conftest import SCENARIOS

DRAWS = 21_000


@pytest.fixture(scope="module")
def outlook():
    return risk.simulate(SCENARIOS / "outlook.yaml", draws=DRAWS, seed=5)


def test_allocation_is_proportional_to_within_one_draw():
    assert allocate([0.35, 0.15, 0.15, 0.1, 0.1, 0.1, 0.05], 1000) == [350, 150, 150, 100, 100, 100, 50]
    counts = allocate([1, 1, 1], 100)
    assert sum(counts) == 100 and max(counts) - min(counts) <= 1
    w = np.array([0.123, 0.456, 0.421])
    counts = np.array(allocate(w, 12_345))
    assert counts.sum() == 12_345 and np.all(np.abs(counts - w / w.sum() * 12_345) < 1)


def test_weights_are_honoured(outlook):
    sset = load_scenario_set(SCENARIOS / "outlook.yaml")
    share = outlook["scenario"].to_series().value_counts(normalize=True)
    for name, weight in sset.weights.items():
        assert share[name] == pytest.approx(weight, abs=1 / DRAWS)
    assert json.loads(outlook.attrs["scenario_weights"]) == pytest.approx(sset.weights)
    assert outlook.sizes["draw"] == DRAWS and (outlook["draw"].values == np.arange(DRAWS)).all()


def test_slices_equal_separate_runs(outlook):
    draws = json.loads(outlook.attrs["scenario_draws"])
    for name in ("asic_insurgency", "trainium_merchant"):
        alone = risk.simulate(SCENARIOS / f"{name}.yaml", draws=draws[name], seed=5)
        part = outlook.isel(draw=(outlook["scenario"] == name).values)
        np.testing.assert_array_equal(part["nvda_gross_margin"].values, alone["nvda_gross_margin"].values)


def test_slices_match_separate_runs_in_distribution(outlook):
    """With another seed the separate run is independent; two-sample KS does not reject."""
    draws = json.loads(outlook.attrs["scenario_draws"])
    alone = risk.simulate(SCENARIOS / "cuda_moat_holds.yaml", draws=draws["cuda_moat_holds"], seed=99)
    part = outlook.isel(draw=(outlook["scenario"] == "cuda_moat_holds").values)
    for var in ("nvda_gross_margin", "aws_operating_margin"):
        assert stats.ks_2samp(part[var].sel(year=2030).values, alone[var].sel(year=2030).values).pvalue > 0.001


def test_pooled_is_the_weighted_mixture(outlook):
    """P(NVIDIA GM < 65% in 2030) pooled equals the weighted sum of per-scenario probabilities."""
    x = outlook["nvda_gross_margin"].sel(year=2030) < 0.65
    per = x.groupby("scenario").mean()
    weights = json.loads(outlook.attrs["scenario_weights"])
    mixed = sum(weights[n] * float(per.sel(scenario=n)) for n in weights)
    assert float(x.mean()) == pytest.approx(mixed, abs=1e-3)


def test_provenance_names_every_member(outlook):
    members = json.loads(outlook.attrs["scenarios_json"])
    assert set(members) == {"base", "asic_insurgency", "cuda_moat_holds", "capex_digestion", "inference_supercycle",
                            "power_constrained", "trainium_merchant"}
    assert len(outlook.attrs["scenario_hash"]) == 64 and outlook.attrs["scenario"] == "outlook"


def test_bad_set_file(tmp_path):
    (tmp_path / "s.yaml").write_text("name: s\nscenarios:\n  a: {file: nowhere.yaml, weight: 1}\n  b: {file: x.yaml, wieght: 1}\n")
    with pytest.raises(risk.ScenarioError) as info:
        load_scenario_set(tmp_path / "s.yaml")
    text = str(info.value)
    assert "scenarios.b.wieght: unknown key 'wieght' (did you mean 'weight'?)" in text
    (tmp_path / "t.yaml").write_text("name: t\nscenarios:\n  a: {file: nowhere.yaml, weight: -1}\n")
    with pytest.raises(risk.ScenarioError, match=r"scenarios.a.weight: input should be greater than 0 \(got -1\)"):
        load_scenario_set(tmp_path / "t.yaml")
    (tmp_path / "u.yaml").write_text("name: u\nscenarios:\n  a: {file: nowhere.yaml, weight: 1}\n")
    with pytest.raises(risk.ScenarioError, match=r"scenarios.a.file: no scenario file .*nowhere.yaml"):
        load_scenario_set(tmp_path / "u.yaml")


def test_a_set_that_includes_itself_or_another_set_is_refused(tmp_path):
    import shutil

    from conftest import SCENARIOS

    for f in ("base.yaml", "outlook.yaml"):
        shutil.copy(SCENARIOS / f, tmp_path / f)
    (tmp_path / "data").symlink_to(SCENARIOS / "data")
    own = tmp_path / "loop.yaml"
    own.write_text("name: loop\nscenarios:\n  base: {file: base.yaml, weight: 1}\n  me: {file: loop.yaml, weight: 1}\n"
                   "  other: {file: outlook.yaml, weight: 1}\n")
    with pytest.raises(risk.ScenarioError) as info:
        load_scenario_set(own)
    text = str(info.value)
    assert "scenarios.me.file: is this set itself; a set's members are scenario files (got 'loop.yaml')" in text
    assert "scenarios.other.file: is a scenario set; a set's members are scenario files (got 'outlook.yaml')" in text
    assert "missing key" not in text
