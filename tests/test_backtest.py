"""The rolling-origin backtest (risk/backtest.py): the model judged on its own past forecasts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from risk.backtest import BACKTEST_SERIES, backtest_origin, by_origin, naive_paths, origin_date, origins, summary, to_markdown
from risk.data import read_quarterly
from risk.scenario import load_scenario, read_yaml

from conftest import ROOT, SCENARIOS

BACKTEST_FILE = SCENARIOS / "backtest_2022.yaml"


@pytest.fixture(scope="module")
def quarterly():
    return read_quarterly(SCENARIOS / "data")


def _texts(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("source", "note", "description") and isinstance(v, str):
                yield f"{path}.{k}", v
            else:
                yield from _texts(v, f"{path}.{k}")


def test_the_backtest_scenario_knows_nothing_after_2022():
    """Every source and note of scenarios/backtest_2022.yaml predates the first origin (2023Q1):
    no year after 2022 is named, and no parameter comes from another file."""
    doc = read_yaml(BACKTEST_FILE)[0]
    assert "extends" not in doc
    late = [(where, text) for where, text in _texts(doc) if re.search(r"20(2[3-9]|[3-9]\d)", text)]
    assert not late, late[:3]
    assert load_scenario(BACKTEST_FILE).settings.clock == "quarter"


def test_origins_run_from_2023q1_to_the_quarter_before_the_latest(quarterly):
    o = origins(quarterly)
    assert o[0] == "2023Q1" and o[-1] == "2026Q1" and len(o) == 13
    # a forecast from 2024Q1 could be made once NVIDIA reported that quarter (its last anchored figure)
    assert origin_date(quarterly, "2024Q1") == pd.Timestamp("2024-05-22")


def test_naive_forecasts_by_hand():
    """flat holds the origin's quarter; trend grows it at the trailing four quarters' growth over
    the four before, compounded h/4 years; a margin's trend is its trailing four-quarter ratio."""
    idx = range(8096, 8106)  # 2024Q1 .. 2026Q2
    rev = pd.Series([10, 11, 12, 13, 14, 15, 16, 17, 18, 19], index=idx, dtype=float)
    table = pd.DataFrame({s: rev for s, _ in BACKTEST_SERIES.values()}, index=idx)
    table["nvda_gross_margin"] = 0.7
    table["aws_operating_margin"] = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.4]
    origin = 8103  # 2025Q4
    n = naive_paths(table, origin, 8107)
    g = (14 + 15 + 16 + 17) / (10 + 11 + 12 + 13)
    first = 8100  # 2025Q1: the origin's year's reported quarters come first
    assert list(n["flat"]["nvda_revenue"]) == [14, 15, 16, 17, 17, 17, 17, 17]
    np.testing.assert_allclose(n["trend"]["nvda_revenue"][4:], 17 * g ** (np.arange(1, 5) / 4))
    np.testing.assert_allclose(n["trend"]["aws_operating_margin"][4:], 0.3)
    assert len(n["flat"]["aws_revenue"]) == 8107 - first + 1


@pytest.fixture(scope="module")
def points_2024(quarterly):
    return backtest_origin(load_scenario(BACKTEST_FILE), "2024Q1", quarterly, draws=400, seed=1)


def test_an_origin_scores_every_later_quarter_and_year(points_2024, quarterly):
    p = points_2024
    assert set(p["series"]) == set(BACKTEST_SERIES)
    q = p[(p["series"] == "nvda_revenue") & (p["kind"] == "quarter")]
    assert list(q["period"])[0] == "2024Q2" and list(q["horizon"])[:2] == [1, 2]
    assert q["period"].iloc[-1] == "2026Q2"
    years = p[(p["series"] == "nvda_revenue") & (p["kind"] == "year")]
    assert list(years["period"]) == ["2024", "2025"]  # 2026 is not complete
    assert ((p["pit"] >= 0) & (p["pit"] <= 1)).all() and (p["crps"] >= 0).all()
    assert (p["in50"] <= p["in90"]).all()  # inside the 50% interval implies inside the 90%
    # the actual is what was reported: NVIDIA's 2025 revenue is the sum of its four quarters
    r = quarterly[(quarterly["series"] == "nvda_revenue") & (quarterly["kind"] == "reported")
                  & quarterly["calendar_quarter"].str.startswith("2025")]
    assert years.set_index("period").loc["2025", "actual"] == pytest.approx(r["value"].sum())


def test_summary_coverage_and_skill_by_hand():
    p = pd.DataFrame({
        "series": ["a", "a", "a", "a"], "kind": ["quarter"] * 4, "period": ["x"] * 4, "origin": ["o"] * 4,
        "horizon": [1, 2, 3, 9], "actual": [1.0, 2.0, 4.0, 4.0], "pit": [0.5, 0.9, 0.99, 0.3],
        "in50": [True, False, False, True], "in90": [True, True, False, True],
        "crps": [0.1, 0.2, 0.3, 0.4], "crps_flat": [0.2, 0.2, 0.6, 1.0], "crps_trend": [0.1, 0.1, 0.3, 0.5],
    })
    s = summary(p)
    assert s.loc[("a", "all"), "cover50"] == 0.5 and s.loc[("a", "all"), "cover90"] == 0.75
    assert s.loc[("a", "all"), "skill_flat"] == pytest.approx(1 - 1.0 / 2.0)
    assert s.loc[("a", "all"), "skill_trend"] == pytest.approx(1 - 1.0 / 1.0)
    assert s.loc[("a", "1-2 q"), "points"] == 2 and s.loc[("a", "9+ q"), "points"] == 1
    assert s.loc[("a", "all"), "crps_rel"] == pytest.approx(np.mean([0.1, 0.1, 0.075, 0.1]))


def test_coverage_by_origin_by_hand():
    p = pd.DataFrame({"origin": ["2023Q2", "2023Q1", "2023Q1", "2023Q2", "2023Q2"],
                      "in50": [True, False, True, False, False], "in90": [True, True, True, False, True],
                      "pit": [0.5, 1.0, 0.4, 0.99, 0.8]})
    t = by_origin(p)
    assert list(t.index) == ["2023Q1", "2023Q2"]  # in time order
    assert t.loc["2023Q1"].tolist() == pytest.approx([2, 0.5, 1.0, 0.7])
    assert t.loc["2023Q2"].tolist() == pytest.approx([3, 1 / 3, 2 / 3, (0.5 + 0.99 + 0.8) / 3])


@pytest.mark.slow
def test_docs_backtest_is_regenerated_by_the_command(tmp_path):
    """docs/backtest.md is what `make backtest` writes now (seeded: the same numbers)."""
    from typer.testing import CliRunner

    from risk.cli import app

    out = tmp_path / "backtest.md"
    r = CliRunner().invoke(app, ["backtest", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text() == (ROOT / "docs" / "backtest.md").read_text(), "regenerate: make backtest"
    points = pd.read_csv(tmp_path / "backtest.csv")
    assert points["origin"].nunique() >= 12 and len(points) >= 100


def test_the_command_exports_its_tables_and_refuses_a_bad_origin():
    import json

    from typer.testing import CliRunner

    from risk.cli import app

    r = CliRunner().invoke(app, ["backtest", "--first", "2025Q4", "--draws", "200", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {p["origin"] for p in data["points"]} == {"2025Q4", "2026Q1"}
    keys = set(data["summary"][0])
    assert {"series", "bucket", "skill_flat", "skill_trend"} <= keys and {"cover50 [fraction]", "cover90 [fraction]"} <= keys
    bad = CliRunner().invoke(app, ["backtest", "--first", "2025-10"])
    assert bad.exit_code == 2 and "--first: must be a calendar quarter such as 2023Q1 (got '2025-10')" in " ".join(bad.output.split())
