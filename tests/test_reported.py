"""The year so far (risk/reported.py): the year implied by reported quarters and guidance, by
hand from scenarios/data/quarterly.csv, and beside the model's distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import risk
from risk.data import read_quarterly
from risk.reported import beside_model, current_year, implied_year

from conftest import SCENARIOS


@pytest.fixture(scope="module")
def quarterly():
    return read_quarterly(SCENARIOS / "data")


def test_2026_implied_by_hand(quarterly):
    """As known on 1 July 2026: 2026 Q1 reported everywhere, NVIDIA's Q2 guided."""
    t = implied_year(quarterly, 2026, as_of="2026-07-01")
    aws = {q: v for q, v in zip(("Q1", "Q2", "Q3", "Q4"), (29.267, 30.873, 33.006, 35.579))}  # 2025
    # AWS revenue: Q1 37.587 reported; flat: four times it; growing: 2025's Q2-Q4 at Q1's y/y growth
    assert t.loc["aws_revenue", "flat"] == pytest.approx(4 * 37.587)
    g = 37.587 / aws["Q1"]
    assert t.loc["aws_revenue", "growing"] == pytest.approx(37.587 + g * (aws["Q2"] + aws["Q3"] + aws["Q4"]))
    assert t.loc["aws_revenue", "so far"] == pytest.approx(37.587) and t.loc["aws_revenue", "reported quarters"] == 1
    # AWS operating margin: a ratio of sums; flat, it is Q1's
    assert t.loc["aws_operating_margin", "flat"] == pytest.approx(14.161 / 37.587)
    oi = 14.161 + 14.161 / 11.547 * (10.160 + 11.434 + 12.465)
    assert t.loc["aws_operating_margin", "growing"] == pytest.approx(oi / t.loc["aws_revenue", "growing"])
    # AWS depreciation grown at Q1's +66 %: about 35.6 for the year
    assert t.loc["aws_depreciation", "growing"] == pytest.approx(7.28 + 7.28 / 4.39 * (4.84 + 5.65 + 6.57))
    assert t.loc["aws_depreciation", "growing"] == pytest.approx(35.57, abs=0.01)
    # NVIDIA revenue: Q1 81.615 reported, Q2 guided 91.0; Q3-Q4 at Q2's run-rate, or at Q2's y/y growth
    assert t.loc["nvda_revenue", "flat"] == pytest.approx(81.615 + 3 * 91.0)
    assert t.loc["nvda_revenue", "growing"] == pytest.approx(81.615 + 91.0 + 91.0 / 46.743 * (57.006 + 68.127))
    assert t.loc["nvda_revenue", "basis"] == "Q1 reported, Q2 guided, Q3-Q4 to come"
    # NVIDIA gross margin: weighted by revenue; Q2's guidance 74.9 %, as Q1
    assert t.loc["nvda_gross_margin", "flat"] == pytest.approx(0.749)
    # capex: the latest guidance for the year
    assert t.loc["amazon_capex", "flat"] == t.loc["amazon_capex", "growing"] == 200.0
    assert t.loc["capex_hyperscaler", "flat"] == 710.0 and np.isnan(t.loc["capex_hyperscaler", "so far"])


def test_2026_with_the_second_quarter(quarterly):
    """All the data: Q2 reported by AWS (30 July) and NVIDIA (26 August), NVIDIA's Q3 guided;
    AWS's depreciation for Q2 is not in the data, so it stays on Q1."""
    t = implied_year(quarterly, 2026)
    assert t.loc["aws_revenue", "reported quarters"] == 2 and t.loc["aws_revenue", "so far"] == pytest.approx(37.587 + 42.232)
    assert t.loc["aws_revenue", "flat"] == pytest.approx(37.587 + 3 * 42.232)
    assert t.loc["aws_operating_margin", "so far"] == pytest.approx((14.161 + 16.621) / (37.587 + 42.232))
    assert t.loc["nvda_revenue", "flat"] == pytest.approx(81.615 + 96.221 + 2 * 108.0)
    assert t.loc["nvda_revenue", "basis"] == "Q1-Q2 reported, Q3 guided, Q4 to come"
    assert t.loc["aws_depreciation", "reported quarters"] == 1
    assert t.loc["amazon_capex", "flat"] == 220.0 and t.loc["capex_hyperscaler", "flat"] == 732.5


def test_the_data_as_known_on_a_date(quarterly):
    """On 1 May 2026: Amazon's guidance was 200 (220 came in July); NVIDIA had reported no 2026
    quarter yet (its Q1 came on 20 May), only guided Q1 at 78.0."""
    t = implied_year(quarterly, 2026, as_of="2026-05-01")
    assert t.loc["amazon_capex", "flat"] == 200.0
    assert t.loc["nvda_revenue", "reported quarters"] == 0 and np.isnan(t.loc["nvda_revenue", "so far"])
    assert t.loc["nvda_revenue", "flat"] == pytest.approx(4 * 78.0)
    assert t.loc["nvda_revenue", "basis"] == "Q1 guided, Q2-Q4 to come"
    assert current_year(quarterly) == 2026 and current_year(quarterly, "2025-12-31") == 2025


def test_a_run_beside_the_implied_figures():
    """Uniform draws 0, 1, ..., 999 of AWS revenue in 2026: percentiles and ranks by hand."""
    q = pd.DataFrame({"series": ["aws_revenue"], "period": ["2026Q1"], "calendar_quarter": ["2026Q1"],
                      "published": [pd.Timestamp("2026-04-29")], "value": [100.0], "kind": ["reported"]})
    ds = xr.Dataset({"aws_revenue": (("draw", "year"), np.arange(1000.0)[:, None] * np.ones(2))},
                    coords={"year": [2025, 2026]})
    t = beside_model(ds, q, 2026)
    assert list(t.index) == ["aws_revenue"]
    assert t.loc["aws_revenue", "flat"] == 400.0 and t.loc["aws_revenue", "growing"] == 400.0  # no 2025 quarter
    assert t.loc["aws_revenue", "rank flat"] == pytest.approx(0.4)
    assert t.loc["aws_revenue", "P50"] == pytest.approx(499.5, abs=1)
    assert bool(t.loc["aws_revenue", "overlaps"])


@pytest.fixture(scope="module")
def outlook_2026(quarterly):
    """The default outlook (200,000 draws) on the quarterly clock, anchored at the latest quarter."""
    return beside_model(risk.simulate(SCENARIOS / "outlook.yaml", draws=200_000, seed=2026), quarterly, 2026)


_DEPRECIATION = (
    "the model's AWS depreciation rises 1.1-1.7 bn a quarter after q* as Amazon's guided capex (220 for 2026, 61-69 a "
    "quarter in the second half) enters service, against 0.45-0.9 a quarter in 2025; the year so far extrapolates Q1's "
    "66% growth, so 2026 comes to 36.4-37.6 in the model against 29.1-35.6 implied (docs/model.md, 'Where the model and "
    "the year so far disagree'); the schedule reproduces 2024Q1-2026Q1 within 0.3")


@pytest.mark.slow
@pytest.mark.parametrize("output", [
    "nvda_revenue", "aws_revenue", "capex_hyperscaler", "amazon_capex", "nvda_gross_margin",
    pytest.param("aws_depreciation", marks=pytest.mark.xfail(strict=True, reason=_DEPRECIATION)),
    pytest.param("aws_operating_margin", marks=pytest.mark.xfail(strict=True, reason=(
        "Q1-Q2 at 38.6% put 2026 at 39.0-40.2%; the model's P90 is 38.9%: its depreciation rises with Amazon's guided "
        "capex faster than the first quarter annualised (see aws_depreciation)"))),
])
def test_the_2026_figures_implied_so_far_meet_the_models_p10_p90(outlook_2026, output):
    """The range between the flat and the growing 2026 figure (docs/model.md, "The year so far")
    meets the default outlook's 2026 P10-P90 (200,000 draws)."""
    row = outlook_2026.loc[output]
    assert row["overlaps"], row.to_dict()


def test_naive_forecasts_by_hand(quarterly):
    """At the end of February 2024, from AWS's 2022-2023 quarters."""
    from risk.reported import naive_forecasts

    rev = naive_forecasts(quarterly, "2024-02-28", "aws_revenue", [2024, 2025])
    y23 = 21.354 + 22.140 + 23.059 + 24.204
    y22 = 18.441 + 19.739 + 20.538 + 21.378
    assert rev["flat"] == {2024: pytest.approx(4 * 24.204), 2025: pytest.approx(4 * 24.204)}
    assert rev["trend"][2024] == pytest.approx(y23 * y23 / y22)  # one year from the window's middle
    assert rev["trend"][2025] == pytest.approx(y23 * (y23 / y22) ** 2)
    om = naive_forecasts(quarterly, "2024-02-28", "aws_operating_margin", [2024])
    assert om["flat"][2024] == pytest.approx(7.167 / 24.204)
    assert om["trend"][2024] == pytest.approx((5.123 + 5.365 + 6.976 + 7.167) / y23)
    # a day before AWS's 2023Q4 release, the last quarter known is 2023Q3; seven quarters: no trend
    early = naive_forecasts(quarterly, "2024-01-31", "aws_revenue", [2024])
    assert early == {"flat": {2024: pytest.approx(4 * 23.059)}, "trend": {}}
    assert naive_forecasts(quarterly, "2022-01-31", "aws_revenue", [2024]) == {"flat": {}, "trend": {}}


@pytest.mark.slow
def test_no_draw_contradicts_the_quarters_already_reported(quarterly):
    """A year's flow is at least the sum of its quarters already reported, in every draw of every
    library scenario: the reported quarters are part of every draw."""
    t = implied_year(quarterly, 2026)
    flows = [o for o in t.index if o not in ("nvda_gross_margin", "aws_operating_margin") and t.loc[o, "reported quarters"]]
    ds = risk.simulate(SCENARIOS / "outlook.yaml", draws=20_000, seed=1)
    below = {o: float((ds[o].sel(year=2026) < t.loc[o, "so far"] * (1 - 1e-6)).mean()) for o in flows}
    assert all(v == 0 for v in below.values()), below
