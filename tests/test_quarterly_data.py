"""scenarios/data/quarterly.csv: reported quarters since 2022 and guidance, with the date each was
published; its checks name the file, the row and the column."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from risk.data import read_quarterly, known_on
from risk.errors import DataError

from conftest import SCENARIOS

CORE = ["nvda_revenue", "nvda_dc_revenue", "nvda_gross_margin", "nvda_opex", "aws_revenue", "aws_operating_income",
        "amazon_capex", "alphabet_capex", "meta_capex", "microsoft_capex"]


@pytest.fixture(scope="module")
def quarters():
    return read_quarterly(SCENARIOS / "data")


def test_every_quarter_since_2022_of_the_core_series(quarters):
    wanted = {f"{y}Q{q}" for y in range(2022, 2026) for q in range(1, 5)} | {"2026Q1"}
    reported = quarters[quarters["kind"] == "reported"]
    for series in CORE:
        have = set(reported.loc[reported["series"] == series, "calendar_quarter"])
        assert wanted <= have, f"{series} lacks {sorted(wanted - have)}"
    assert reported["published"].notna().all() and (reported["tag"] != "R").mean() > 0.99


def test_figures_seen_in_the_releases(quarters):
    """A few figures against the companies' releases (Amazon 2026-04-29, NVIDIA 2026-05-20 and 2024-05-22)."""
    got = {(r.series, r.period, r.kind): r.value for r in quarters.itertuples()}
    assert got[("aws_revenue", "2026Q1", "reported")] == pytest.approx(37.59, abs=0.01)
    assert got[("aws_operating_income", "2026Q1", "reported")] == pytest.approx(14.16, abs=0.01)
    assert got[("nvda_revenue", "FY2027Q1", "reported")] == pytest.approx(81.6, abs=0.05)
    assert got[("nvda_revenue", "FY2025Q1", "reported")] == pytest.approx(26.04, abs=0.01)
    row = quarters[(quarters["series"] == "nvda_revenue") & (quarters["period"] == "FY2027Q2")].iloc[0]
    assert row["kind"] == "guidance" and row["value"] == pytest.approx(91.0) and row["published"] == pd.Timestamp("2026-05-20")


def test_the_data_as_known_on_a_date(quarters):
    """Rebuilding what was known: on 2024-02-20 NVIDIA had not yet reported FY2024 Q4 (2024-02-21)."""
    before = known_on(quarters, "2024-02-20")
    assert not ((before["series"] == "nvda_revenue") & (before["period"] == "FY2024Q4") & (before["kind"] == "reported")).any()
    after = known_on(quarters, "2024-02-21")
    assert ((after["series"] == "nvda_revenue") & (after["period"] == "FY2024Q4") & (after["kind"] == "reported")).any()
    assert (before["published"] <= pd.Timestamp("2024-02-20")).all()


def _copy(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(SCENARIOS / "data", folder)
    return folder, pd.read_csv(folder / "quarterly.csv", dtype=str, keep_default_na=False)


def _row(df, series, period, kind="reported"):
    return int(df.index[(df["series"] == series) & (df["period"] == period) & (df["kind"] == kind)][0])


@pytest.mark.parametrize("column, value, fragment", [
    ("value", "n/a", "value 'n/a' is not a number"),
    ("value", "inf", "value 'inf' is not a number"),
    ("published", "2026-13-01", "column published: '2026-13-01' is not a date YYYY-MM-DD"),
    ("calendar_end", "March 2026", "column calendar_end: 'March 2026' is not a date YYYY-MM-DD"),
    ("kind", "actual", "column kind: 'actual' is not one of reported, guidance"),
    ("tag", "X", "column tag: 'X' is not one of V, D, R"),
    ("units", "USD m", "column units: 'USD m' is not one of USD bn, 1"),
    ("calendar_quarter", "2026-Q1", "column calendar_quarter: '2026-Q1' is not a calendar quarter such as 2026Q1"),
    ("published", "2026-03-15", "column published: 2026-03-15 is before the quarter ended (2026-03-31)"),
])
def test_a_bad_cell_names_file_row_and_column(tmp_path, column, value, fragment):
    folder, df = _copy(tmp_path)
    row = _row(df, "aws_revenue", "2026Q1")
    df.at[row, column] = value
    df.to_csv(folder / "quarterly.csv", index=False)
    with pytest.raises(DataError) as info:
        read_quarterly(folder)
    message = str(info.value)
    assert str(folder / "quarterly.csv") in message and fragment in message
    assert f"row {row + 2}" in message


def test_a_missing_column_is_named(tmp_path):
    folder, df = _copy(tmp_path)
    df.drop(columns=["published"]).to_csv(folder / "quarterly.csv", index=False)
    with pytest.raises(DataError, match=r"quarterly.csv: missing column\(s\) published"):
        read_quarterly(folder)


def test_a_duplicate_quarter_names_both_rows(tmp_path):
    folder, df = _copy(tmp_path)
    row = _row(df, "aws_revenue", "2025Q2")
    pd.concat([df, df.iloc[[row]]]).to_csv(folder / "quarterly.csv", index=False)
    with pytest.raises(DataError, match=rf"rows {row + 2}, {len(df) + 2}: aws_revenue 2025Q2 appears 2 times; keep one"):
        read_quarterly(folder)


def test_quarters_that_disagree_with_their_year_are_refused(tmp_path):
    """AWS revenue 2024: 107.6 in actuals.csv; a quarter 2 bn off is refused, naming the four rows."""
    folder, df = _copy(tmp_path)
    row = _row(df, "aws_revenue", "2024Q3")
    df.at[row, "value"] = str(float(df.at[row, "value"]) + 2.0)
    df.to_csv(folder / "quarterly.csv", index=False)
    with pytest.raises(DataError, match=r"\(aws_revenue 2024Q1-Q4\), column value: the quarters' sum 109\.6 is 1\.8% from "
                                        r"the 107\.6 actuals\.csv reports for 2024 \(at most 0\.5%\)"):
        read_quarterly(folder)


def test_a_margin_is_checked_as_a_revenue_weighted_average(tmp_path):
    folder, df = _copy(tmp_path)
    row = _row(df, "nvda_gross_margin", "FY2025Q3")
    df.at[row, "value"] = "0.70"
    df.to_csv(folder / "quarterly.csv", index=False)
    with pytest.raises(DataError, match=r"nvda_gross_margin 2024Q1-Q4\), column value: the quarters' average, weighted by "
                                        r"nvda_revenue, 0\.7375 is 1\.7% from the 0\.75"):
        read_quarterly(folder)
