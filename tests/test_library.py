"""The scenario library: every scenario validates, runs, and moves the outputs its story says."""

from __future__ import annotations

import numpy as np
import pytest

import risk

from conftest import SCENARIOS

LIBRARY = ["base", "asic_insurgency", "cuda_moat_holds", "capex_digestion", "inference_supercycle", "power_constrained",
           "trainium_merchant"]
DRAWS = 20_000


@pytest.fixture(scope="module")
def runs():
    return {n: risk.simulate(SCENARIOS / f"{n}.yaml", draws=DRAWS, seed=11) for n in LIBRARY}


def med(ds, var, year):
    return float(ds[var].sel(year=year).median())


@pytest.mark.parametrize("name", LIBRARY)
def test_every_scenario_validates_runs_and_extends_base(name, runs):
    sc = risk.load_scenario(SCENARIOS / f"{name}.yaml")
    assert sc.name == name and sc.settings.description
    if name != "base":
        assert sc.extends == [str(SCENARIOS / "base.yaml")]
        text = (SCENARIOS / f"{name}.yaml").read_text()
        assert text.startswith("#"), "a header comment tells the story"
    ds = runs[name]
    for var in ("nvda_gross_margin", "aws_operating_margin", "nvda_revenue"):
        assert np.isfinite(ds[var].values).all()


@pytest.mark.parametrize("name", LIBRARY[1:])
def test_each_story_changes_only_its_assumptions_with_sources(name):
    base = risk.load_scenario(SCENARIOS / "base.yaml")
    sc = risk.load_scenario(SCENARIOS / f"{name}.yaml")
    changed = [p for p in base.parameters if base.parameters[p].describe() != sc.parameters[p].describe()]
    assert 1 <= len(changed) <= 12
    for p in changed:
        assert sc.parameters[p].source and sc.parameters[p].note
        assert sc.parameters[p].source != base.parameters[p].source or sc.parameters[p].note != base.parameters[p].note


def test_asic_insurgency_lowers_and_cuda_moat_raises_nvidia_gross_margin(runs):
    base = med(runs["base"], "nvda_gross_margin", 2030)
    assert med(runs["asic_insurgency"], "nvda_gross_margin", 2030) < base - 0.03
    assert med(runs["cuda_moat_holds"], "nvda_gross_margin", 2030) > base + 0.01


def test_capex_digestion_lowers_capex_and_nvidia_revenue_in_its_digestion_years(runs):
    dig, base = runs["capex_digestion"], runs["base"]
    assert float(dig["digestion"].sel(year=slice(2027, 2029)).mean()) > 2 * float(base["digestion"].sel(year=slice(2027, 2029)).mean())
    for year in (2027, 2028, 2029):
        assert med(dig, "capex_hyperscaler", year) < med(base, "capex_hyperscaler", year)
        assert med(dig, "nvda_revenue", year) < med(base, "nvda_revenue", year)
    # within the run: draws in digestion in 2028 have lower NVIDIA revenue than those not
    in_dig = dig["digestion"].sel(year=2028) == 1
    rev = dig["nvda_revenue"].sel(year=2028)
    assert float(rev.where(in_dig).median()) < float(rev.where(~in_dig).median())


def test_trainium_merchant_adds_external_chip_revenue_to_aws(runs):
    ext = runs["trainium_merchant"]["aws_external_revenue"]
    assert (ext.sel(year=slice(2025, 2026)) == 0).all()
    assert (ext.sel(year=2032) > 0).all()
    assert float(ext.sel(year=2032).median()) > 10
    assert float((runs["base"]["aws_external_revenue"].sel(year=2032) > 0).mean()) == pytest.approx(0.5, abs=0.02)


def test_inference_supercycle_grows_the_market_and_aws_ai_revenue(runs):
    for var in ("accelerator_market", "aws_ai_revenue"):
        assert med(runs["inference_supercycle"], var, 2030) > med(runs["base"], var, 2030)
    assert med(runs["inference_supercycle"], "inference_share", 2030) > med(runs["base"], "inference_share", 2030)


def test_power_constrained_caps_capex_growth(runs):
    # the cap binds the capex path; what is reported scatters around it (noise.capex), so the path itself is checked
    quiet = risk.load_scenario(SCENARIOS / "power_constrained.yaml").with_overrides(
        {"noise.capex": {"dist": "fixed", "value": 0.0, "source": "test", "note": "the path, without reporting noise"}})
    pc = risk.simulate(quiet, draws=5000, seed=3)
    growth = pc["capex_hyperscaler"].diff("year") / pc["capex_hyperscaler"].shift(year=1).isel(year=slice(1, None))
    # a quarter grows at most (1 + cap)^(1/4): a simulated year at most 1 + cap over the one before
    # (once both are simulated: the reported quarters grew faster than any cap in this story)
    simulated = (pc["reported_quarters"] == 0) & (pc["reported_quarters"].shift(year=1) == 0)
    growth = growth.sel(year=simulated.year[simulated.values])
    assert growth.sizes["year"] >= 4
    cap = pc["capex.power_cap"]
    assert (growth <= cap + 1e-6).all()
    pc = runs["power_constrained"]
    assert med(pc, "capex_hyperscaler", 2030) < med(runs["base"], "capex_hyperscaler", 2030)
    assert med(pc, "utilization", 2030) >= med(runs["base"], "utilization", 2030)


def test_extends_chain_and_errors(tmp_path):
    (tmp_path / "data").symlink_to(SCENARIOS / "data")
    (tmp_path / "base.yaml").write_text((SCENARIOS / "base.yaml").read_text())
    (tmp_path / "mid.yaml").write_text("extends: base.yaml\nname: mid\npricing:\n  elasticity: {dist: fixed, value: 2.0, source: s, note: n}\n")
    (tmp_path / "top.yaml").write_text("extends: mid.yaml\nname: top\ncapex:\n  max_cut: {dist: fixed, value: 0.4, source: s, note: n}\n")
    top = risk.load_scenario(tmp_path / "top.yaml")
    assert top.parameters["pricing.elasticity"].describe() == "fixed(value=2)"
    assert top.parameters["capex.max_cut"].describe() == "fixed(value=0.4)"
    assert [p.rsplit("/", 1)[1] for p in top.extends] == ["mid.yaml", "base.yaml"]
    (tmp_path / "loop.yaml").write_text("extends: loop.yaml\nname: loop\n")
    with pytest.raises(risk.ScenarioError, match="extends: circular"):
        risk.load_scenario(tmp_path / "loop.yaml")
    (tmp_path / "typo.yaml").write_text("extends: base.yaml\nname: typo\npricing:\n  elastcity: {dist: fixed, value: 2.0, source: s, note: n}\n")
    with pytest.raises(risk.ScenarioError, match=r"typo.yaml: 1 problem\n  - pricing.elastcity: unknown key 'elastcity' \(did you mean 'elasticity'\?\)"):
        risk.load_scenario(tmp_path / "typo.yaml")
    (tmp_path / "orphan.yaml").write_text("extends: nowhere.yaml\nname: o\n")
    with pytest.raises(risk.ScenarioError, match=r"extends: no scenario file .*nowhere.yaml"):
        risk.load_scenario(tmp_path / "orphan.yaml")
