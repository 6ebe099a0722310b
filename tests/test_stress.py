"""Stress tests, events and reverse stress with PRIM."""

from __future__ import annotations


import numpy as np
import pytest

import risk
from risk.convergence import simulate_until
from risk.stress import parse_event, parse_pin, prim_box, reverse_stress, stress_test


def test_prim_finds_a_planted_cause():
    """Only x3 and x7 can produce the event; the box restricts exactly those two."""
    rng = np.random.default_rng(0)
    n = 20_000
    x = {f"x{i}": rng.random(n) for i in range(10)}
    x["binary"] = rng.integers(0, 2, n).astype(float)
    x["choice"] = rng.choice([5.0, 6.0], n)
    y = (x["x3"] > 0.7) & (x["x7"] < 0.4)
    box = prim_box(x, y)
    assert set(box.limits) == {"x3", "x7"}
    assert box.limits["x3"][0] == pytest.approx(0.7, abs=0.02) and box.limits["x7"][1] == pytest.approx(0.4, abs=0.03)
    assert box.density > 0.95 and box.coverage > 0.9


def test_prim_with_a_noisy_event():
    rng = np.random.default_rng(1)
    n = 30_000
    x = {f"x{i}": rng.random(n) for i in range(8)}
    y = rng.random(n) < np.where((x["x1"] > 0.8) & (x["x5"] > 0.5), 0.6, 0.02)
    box = prim_box(x, y)
    assert set(box.limits) == {"x1", "x5"}
    assert box.density > 0.4


def test_parse_pin_and_event_wording(base_scenario):
    assert parse_pin("pricing.elasticity=P90").band == (0.9, 0.9)
    assert parse_pin("pricing.elasticity = P80-P100").band == (0.8, 1.0)
    assert parse_pin("capex.max_cut=0.3").value == 0.3
    with pytest.raises(risk.ScenarioError, match=r"unknown parameter 'pricing.elastcity' \(did you mean 'pricing.elasticity'\?\)"):
        parse_pin("pricing.elastcity=P90")
    with pytest.raises(risk.ScenarioError, match="expected a number, P<percentile> or P<lo>-P<hi>"):
        parse_pin("pricing.elasticity=high")
    ds = risk.simulate(base_scenario, draws=100)
    ev = parse_event("nvda_gross_margin[2030] < 60% and aws_operating_margin[2030] >= 0.1", ds)
    assert ev.conditions == (("nvda_gross_margin", 2030, "<", 0.6), ("aws_operating_margin", 2030, ">=", 0.1))
    with pytest.raises(risk.ScenarioError, match=r"no output named 'nvda_gros_margin' \(did you mean 'nvda_gross_margin'\?\)"):
        parse_event("nvda_gros_margin[2030] < 0.6", ds)
    with pytest.raises(risk.ScenarioError, match=r"year 2040 is not in the run \(2025-2032\)"):
        parse_event("nvda_gross_margin[2040] < 0.6", ds)
    with pytest.raises(risk.ScenarioError, match=r"expected VARIABLE\[YEAR\] < VALUE"):
        parse_event("gross margin below 60%", ds)


def test_stress_pins_move_the_metrics(base_scenario):
    df = stress_test(base_scenario, [parse_pin("pricing.elasticity=P90-P100")], draws=10_000, seed=1, years=[2030])
    df = df.sort_index()
    gm = df.loc[("nvda_gross_margin", 2030)]
    assert gm.loc["mean", "shift"] < -5 * gm.loc["mean", "shift se"]
    assert gm.loc["P(< 0.65)", "shift"] > 0.1
    aws = df.loc[("aws_operating_margin", 2030, "mean")]
    assert abs(aws["shift"]) < 0.01  # NVIDIA's pricing barely moves AWS's margin
    same = stress_test(base_scenario, [parse_pin("capex.max_cut=0.5")], draws=2000, seed=1)
    assert (same["shift"].abs() < 1e-12).all()  # pinning a fixed parameter at its value changes nothing


def test_reverse_stress_on_the_model(base_scenario):
    ds = risk.simulate(base_scenario, draws=40_000, seed=6)
    r = reverse_stress(ds, "nvda_gross_margin[2030] < 0.60")
    manual = float((ds["nvda_gross_margin"].sel(year=2030) < 0.60).mean())
    assert r.probability.value == pytest.approx(manual)
    # a glut: demand grows slower than supply (slow demand, fast hardware progress), utilization
    # falls and the scarcity term cuts the premium; and ASIC pricing pressure
    shifts = r.shifts["shift (sd)"]
    assert shifts.index[0] == "demand.inference_growth_first" and shifts.iloc[0] < -0.4
    assert shifts["compute.hardware_progress"] > 0.3 and shifts["pricing.elasticity"] > 0.3
    assert {"pricing.scarcity", "demand.inference_growth_first"} <= set(r.box.limits)
    assert len(r.box.limits) <= 5
    assert r.box.density > 1.5 * r.probability.value and r.box.coverage >= 0.7
    with pytest.raises(ValueError, match="never happens"):
        reverse_stress(ds, "nvda_gross_margin[2030] < -1")  # would need unit costs to double, net of pass-through


def test_convergence_reaches_the_target(base_scenario):
    r = simulate_until(base_scenario, "nvda_gross_margin", 2028, "below:0.65", 0.0006, start=5000, sampling="mc")
    assert r.converged and r.estimate.se <= 0.0006 and r.draws == r.run.sizes["draw"]
    assert [h[0] for h in r.history] == sorted(h[0] for h in r.history) and len(r.history) >= 2
    with pytest.warns(UserWarning, match="max_draws reached"):
        r2 = simulate_until(base_scenario, "nvda_gross_margin", 2030, "P5", 1e-6, start=2000, max_draws=4000)
    assert not r2.converged and r2.draws == 4000
    with pytest.raises(ValueError, match="statistic 'median' is not one of"):
        simulate_until(base_scenario, "nvda_gross_margin", 2030, "median", 0.01)
