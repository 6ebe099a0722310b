"""The quarterly clock (model v2): anchored at the latest reported quarter, years made of quarters."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import risk
from risk.data import ANCHORED, DataError, anchor_data, read_quarterly
from risk.glossary import AGGREGATION, OUTPUTS
from risk.model.clock import quarter_time, step_noise, step_probability, step_rate, steps

from conftest import BASE_FILE, SCENARIOS

REPORTED = {  # 2026Q1 as reported (scenarios/data/quarterly.csv)
    "nvda_revenue": 81.615, "nvda_dc_revenue": 75.246, "aws_revenue": 37.587, "capex_hyperscaler": 129.75,
    "amazon_capex": 44.203, "aws_depreciation": 7.28,
}


def test_rates_convert_exactly():
    assert step_rate(0.21, 0.25) == pytest.approx(1.21**0.25 - 1, rel=1e-15)
    assert (1 + step_rate(0.21, 0.25)) ** 4 == pytest.approx(1.21, rel=1e-14)  # four quarters make the year
    assert step_noise(0.2, 0.25) == pytest.approx(0.1)  # sigma/2 a quarter
    assert 1 - (1 - step_probability(0.3, 0.25)) ** 4 == pytest.approx(0.3, rel=1e-14)
    assert step_rate(0.21, 1.0) == 0.21 and step_noise(0.2, 1.0) == 0.2 and step_probability(0.3, 1.0) == 0.3


def test_quarter_midpoints_average_to_the_year():
    assert [quarter_time(2026, q) for q in (1, 2, 3, 4)] == [2025.625, 2025.875, 2026.125, 2026.375]
    assert np.mean([quarter_time(2026, q) for q in (1, 2, 3, 4)]) == 2026.0
    s = steps(2026, 2, 6)
    assert [(x.year, x.year_start) for x in s] == [(2026, False), (2026, False), (2027, True), (2027, False),
                                                   (2027, False), (2027, False)]
    assert [x.t for x in s[:4]] == [0.25, 0.5, 0.75, 1.0]


@pytest.fixture(scope="module")
def q1_run():
    """The default outlook anchored at 2026Q1, by quarter."""
    from risk.mixture import load_scenario_set

    return risk.simulate(load_scenario_set(SCENARIOS / "outlook.yaml").with_overrides({"as_of": "2026Q1"}),
                         draws=50_000, seed=7, quarterly=True)


def test_anchored_quarter_equals_the_reported_figures_in_every_draw(q1_run):
    for name, value in REPORTED.items():
        np.testing.assert_allclose(q1_run[name].sel(quarter="2026Q1").values, value, rtol=1e-6, err_msg=name)
    om = q1_run["aws_operating_margin"].sel(quarter="2026Q1").values
    np.testing.assert_allclose(om, 14.161 / 37.587, rtol=1e-6)
    assert q1_run.attrs["as_of"] == "2026Q1" and q1_run["reported"].sel(quarter="2026Q1") and \
        not q1_run["reported"].sel(quarter="2026Q2")


def test_nvidia_guidance_for_the_next_quarter_is_inside_p10_p90(q1_run):
    """NVIDIA guided 91.0 for 2026Q2 with its 2026Q1 results; anchored at 2026Q1, the model's
    2026Q2 P10-P90 holds it (and the 96.2 reported since)."""
    lo, hi = np.percentile(q1_run["nvda_revenue"].sel(quarter="2026Q2").values, [10, 90])
    assert lo < 91.0 < hi and lo < 96.221 < hi


def test_years_are_made_of_quarters():
    """A year's flows are the sums of its quarters, its margins ratios of sums, the rest means;
    the annual and the quarterly outputs of one run agree draw by draw."""
    sc = risk.load_scenario(BASE_FILE)
    y = risk.simulate(sc, draws=500, seed=3, dtype="float64")
    q = risk.simulate(sc, draws=500, seed=3, dtype="float64", quarterly=True)
    quarters = {name: q[name].values.reshape(500, -1, 4) for name in OUTPUTS}
    for name, how in AGGREGATION.items():
        if how == "sum":
            want = quarters[name].sum(-1)
        elif how == "mean":
            want = quarters[name].mean(-1)
        elif how == "derived":
            continue
        else:
            w = quarters[how]
            want = (quarters[name] * w).sum(-1) / w.sum(-1)
        np.testing.assert_allclose(y[name].values, want, rtol=1e-12, err_msg=name)
    # 2026: two quarters reported and two simulated; its revenue contains the reported half
    assert list(y["reported_quarters"].values[:3]) == [4, 2, 0]
    h1 = 81.615 + 96.221
    assert (y["nvda_revenue"].sel(year=2026).values > h1).all()


def test_a_new_quarter_re_anchors_the_next_run(tmp_path):
    """Adding a reported quarter to the data moves q* to it: no other change is needed."""
    data = tmp_path / "data"
    shutil.copytree(SCENARIOS / "data", data)
    (tmp_path / "base.yaml").write_text(BASE_FILE.read_text())
    before = risk.load_scenario(tmp_path / "base.yaml")
    assert before.base_data().as_of == "2026Q2"
    q = read_quarterly(data)
    new = q[(q["kind"] == "reported") & (q["calendar_quarter"] == "2026Q2") & q["series"].isin(ANCHORED)].copy()
    new["calendar_quarter"], new["period"] = "2026Q3", "2026Q3"
    new["calendar_end"], new["published"] = "2026-09-30", "2026-11-20"
    new["value"] = new["value"] * 1.1
    new.loc[new["series"] == "nvda_gross_margin", "value"] = 0.741
    raw = pd.read_csv(data / "quarterly.csv", dtype=str, keep_default_na=False)
    raw = raw[~((raw["calendar_quarter"] == "2026Q3") & (raw["kind"] == "reported"))]
    new = new.assign(calendar_end="2026-09-30", published="2026-11-20").astype(str)
    pd.concat([raw, new[raw.columns]]).to_csv(data / "quarterly.csv", index=False)
    after = risk.load_scenario(tmp_path / "base.yaml")
    assert after.base_data().as_of == "2026Q3"
    ds = risk.simulate(after, draws=200, seed=1, quarterly=True)
    nv = float(q[(q["series"] == "nvda_revenue") & (q["calendar_quarter"] == "2026Q2") & (q["kind"] == "reported")]["value"].iloc[0])
    np.testing.assert_allclose(ds["nvda_revenue"].sel(quarter="2026Q3").values, nv * 1.1, rtol=1e-6)
    np.testing.assert_allclose(ds["nvda_gross_margin"].sel(quarter="2026Q3").values, 0.741, rtol=1e-6)


def test_an_as_of_quarter_without_its_figures_is_refused():
    with pytest.raises(DataError, match=r"as_of 2026Q3 lacks reported .*aws_revenue.*the latest with all of them is 2026Q2"):
        anchor_data(SCENARIOS / "data", 2025, "2026Q3")
    with pytest.raises(DataError, match="as_of 2024Q4 is before the first quarter of base_year 2025"):
        anchor_data(SCENARIOS / "data", 2025, "2024Q4")


def test_as_of_must_be_a_quarter(tmp_path):
    (tmp_path / "data").symlink_to(SCENARIOS / "data")
    (tmp_path / "a.yaml").write_text(BASE_FILE.read_text().replace("clock: quarter", "clock: quarter\nas_of: 2026-06"))
    with pytest.raises(risk.ScenarioError, match="as_of"):
        risk.load_scenario(tmp_path / "a.yaml")


def test_the_data_as_known_on_a_date_anchors_earlier():
    """The backtest's view: on 2024-06-01 the latest fully reported quarter was 2024Q1."""
    b = anchor_data(SCENARIOS / "data", 2024, known="2024-06-01")
    assert b.as_of == "2024Q1"
    q = read_quarterly(SCENARIOS / "data")
    row = q[(q["series"] == "nvda_revenue") & (q["calendar_quarter"] == "2024Q1") & (q["kind"] == "reported")]
    assert b.nvda_revenue == float(row["value"].iloc[0])
    assert b.aws_depreciation is not None and b.depreciation_lag == 0  # 2024Q1 is the first quarter of AWS depreciation


@pytest.mark.parametrize("life", [5, 6])
def test_the_depreciation_schedule_reproduces_the_reported_quarters(life):
    """Straight line with the half-quarter convention over the quarterly AWS capex history,
    scaled to 2026Q1 (the history scale), gives 2024Q1-2025Q4 within 0.35 bn of what AWS
    reported: the schedule is not why 2026 rises faster than the first quarter annualised."""
    from risk.model import aws, compute

    b = anchor_data(SCENARIOS / "data", 2025, "2026Q1")
    Lq, Lo, theta = 4 * life, 80, 0.6
    ws = np.array([aws.half_year_weight(a, Lq) for a in range(Lq + 1)])
    wo = np.array([aws.half_year_weight(a, Lo) for a in range(Lo + 1)])
    n = len(b.aws_capex)
    d = np.array([aws.depreciation(compute.vintage_sum(theta * b.aws_capex, c, ws),
                                   compute.vintage_sum((1 - theta) * b.aws_capex, c, wo), Lq, Lo) for c in range(n - 9, n)],
                 dtype=float)
    d *= 7.28 / d[-1]
    reported = [2.84, 3.08, 3.54, 3.86, 4.39, 4.84, 5.65, 6.57, 7.28]
    np.testing.assert_allclose(d, reported, atol=0.35)


def test_a_run_by_quarter_counts_its_quarter_columns_in_memory(monkeypatch):
    """Outputs by quarter take 4·(H + 1) columns: the memory check refuses on that, not on years."""
    import risk.run as run
    from risk.glossary import CALIBRATED

    sc = risk.load_scenario(BASE_FILE)
    by_year, by_quarter = run.bytes_per_draw(sc), run.bytes_per_draw(sc, quarterly=True)
    assert by_quarter - by_year == 4 * len(OUTPUTS) * 3 * 8  # 32 columns instead of 8, float32
    assert by_year == 4 * (len(OUTPUTS) * 8 + len(sc.parameters) + len(CALIBRATED))
    monkeypatch.setattr(run, "available_memory", lambda: 1000 * (by_year + by_quarter) // 2)
    run.check_fits(sc, 1000, "mc", "float32")  # by year: fits
    with pytest.raises(risk.ScenarioError, match="takes"):
        run.check_fits(sc, 1000, "mc", "float32", quarterly=True)
