"""The base scenario's 2026 medians against what is reported for 2026 so far (scenarios/data/quarterly.csv)."""

from __future__ import annotations

import pytest

import risk
from risk.data import read_quarterly

from conftest import SCENARIOS


@pytest.fixture(scope="module")
def y2026(quarterly_scenario):
    """The base scenario as it is: anchored at the latest reported quarter."""
    return risk.simulate(quarterly_scenario, draws=20_000, seed=2026).sel(year=2026).median("draw")


@pytest.fixture(scope="module")
def q():
    df = read_quarterly(SCENARIOS / "data").sort_values("published")
    return {(r.series, r.period): r.value for r in df.itertuples()}  # the latest published figure of each


def test_nvidia_gross_margin_near_the_reported_quarters(y2026, q):
    """FY2027 Q1 74.9% GAAP, Q2 guidance 74.9%: the 2026 median within a point of them."""
    low = min(q[("nvda_gross_margin", "FY2027Q1")], q[("nvda_gross_margin", "FY2027Q2")]) - 0.01
    assert low <= float(y2026["nvda_gross_margin"])


def test_nvidia_revenue_near_the_first_half_run_rate(y2026, q):
    """Q1 81.6 and Q2 guidance 91.0 give a first half of about 173; the year within 0.8x-1.25x twice that."""
    half = q[("nvda_revenue", "FY2027Q1")] + q[("nvda_revenue", "FY2027Q2")]
    assert 0.8 * 2 * half <= float(y2026["nvda_revenue"]) <= 1.25 * 2 * half


def test_aws_revenue_near_the_first_quarter_run_rate(y2026, q):
    """Q1 2026 revenue 37.59 (+28% y/y): the year within 1.0x-1.25x four times that."""
    run_rate = 4 * q[("aws_revenue", "2026Q1")]
    assert run_rate <= float(y2026["aws_revenue"]) <= 1.25 * run_rate


def test_capex_near_guidance(y2026, q):
    """Big-4 2026 capex guidance about 710 (the four companies' midpoints after the April 2026 results): median within 10%."""
    assert float(y2026["capex_hyperscaler"]) == pytest.approx(q[("hyperscaler_capex", "2026")], rel=0.10)


def test_aws_margin_and_depreciation_in_a_plausible_band(y2026, q):
    """Q1 2026: operating margin 37.7%, depreciation 7.28 a quarter and rising."""
    assert 0.28 <= float(y2026["aws_operating_margin"]) <= 0.40
    assert 4 * q[("aws_depreciation", "2026Q1")] <= float(y2026["aws_depreciation"]) <= 1.4 * 4 * q[("aws_depreciation", "2026Q1")]
