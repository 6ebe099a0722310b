"""Reading the data files: reported actuals and history (``scenarios/data/*.csv``).

``actuals.csv`` is tidy: one row per series and calendar year, with ``period`` (the
company's own label: NVIDIA's fiscal year FY(Y+1) ends in late January of Y+1 and is
treated as calendar Y), ``value``, ``units``, ``tag`` (V seen in a source, D derived, R
recalled) and ``source``. To add a year, append rows; no code changes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["read_actuals", "read_quarterly", "known_on", "BaseData", "base_data"]

ACTUALS_COLUMNS = ("series", "year", "period", "value", "units", "tag", "source")
QUARTERLY_COLUMNS = ("series", "period", "calendar_quarter", "calendar_end", "published", "value", "units", "kind", "tag",
                     "source")


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"{path}: cannot be read as CSV: {e}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(columns)}")
    values = pd.to_numeric(df["value"].str.strip(), errors="coerce")
    bad = df.index[values.isna() | ~np.isfinite(values.fillna(0))].tolist()
    if bad:
        row = bad[0]
        raise DataError(f"{path}: row {row + 2} ({df.at[row, 'series']}): value {df.at[row, 'value']!r} is not a number")
    df["value"] = values.astype(float)
    return df


def read_actuals(data_dir: str | Path) -> pd.DataFrame:
    """Read ``actuals.csv`` from ``data_dir`` as a tidy DataFrame.

    Raises
    ------
    DataError
        If the file is missing, lacks a column, has a non-numeric value or a duplicate
        (series, year).
    """
    path = Path(data_dir) / "actuals.csv"
    df = _read(path, ACTUALS_COLUMNS)
    year = pd.to_numeric(df["year"], errors="coerce")
    if year.isna().any() or not (year == year.round()).all():
        row = int(np.flatnonzero(year.isna() | (year != year.round()))[0])
        raise DataError(f"{path}: row {row + 2}: year {df.at[row, 'year']!r} is not a whole number")
    df["year"] = year.astype(int)
    for column, allowed in (("units", QUARTERLY_UNITS), ("tag", TAGS)):
        wrong = np.flatnonzero(~df[column].isin(allowed))
        if len(wrong):
            row = int(wrong[0])
            raise DataError(f"{path}: row {row + 2} ({df.at[row, 'series']} {df.at[row, 'year']}), column {column}: "
                            f"{df.at[row, column]!r} is not one of {', '.join(allowed)}")
    dup = df.duplicated(["series", "year"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise DataError(f"{path}: {r['series']} has more than one row for {r['year']}; keep one")
    return df


#: Values of the columns of ``quarterly.csv`` that take one of a few.
QUARTERLY_KINDS = ("reported", "guidance")
TAGS = ("V", "D", "R")
QUARTERLY_UNITS = ("USD bn", "1")
#: Ratio series checked against their reported year as averages weighted by another series.
RATIO_WEIGHTS = {"nvda_gross_margin": "nvda_revenue"}
#: How far four reported quarters may sit from their reported year (relative).
YEAR_TOLERANCE = 0.005


def read_quarterly(data_dir: str | Path) -> pd.DataFrame:
    """Read and check ``quarterly.csv``: reported quarters and guidance, with the date each was published.

    One row per series and quarter (``kind`` reported) or per guidance given (``kind``
    guidance: a quarter or a calendar year ahead, ``calendar_quarter`` ``2026Q2`` or
    ``CY2026``). ``calendar_quarter`` is the calendar quarter a figure belongs to (NVIDIA's
    fiscal quarter n of FY(Y+1) is calendar quarter n of Y); ``published``, the date it became
    public; ``calendar_end`` and ``published`` are dates (YYYY-MM-DD), parsed.

    Raises
    ------
    DataError
        Naming the file and, for every problem, the row and column: a missing column, a value
        that is not a finite number, a date, quarter, kind, tag or unit that is not one, a
        duplicate row, a reported figure published before its quarter ended, or four
        reported quarters that disagree with the year reported in ``actuals.csv`` by more
        than :data:`YEAR_TOLERANCE`.
    """
    path = Path(data_dir) / "quarterly.csv"
    df = _read(path, QUARTERLY_COLUMNS)
    problems = []

    def bad(row: int, column: str, message: str) -> None:
        problems.append(f"row {row + 2} ({df.at[row, 'series']} {df.at[row, 'period']}), column {column}: {message}")

    for column in ("calendar_end", "published"):
        parsed = pd.to_datetime(df[column].str.strip(), format="%Y-%m-%d", errors="coerce")
        for row in np.flatnonzero(parsed.isna()):
            bad(row, column, f"{df.at[row, column]!r} is not a date YYYY-MM-DD")
        df[column] = parsed
    for column, allowed in (("kind", QUARTERLY_KINDS), ("tag", TAGS), ("units", QUARTERLY_UNITS)):
        for row in np.flatnonzero(~df[column].isin(allowed)):
            bad(row, column, f"{df.at[row, column]!r} is not one of {', '.join(allowed)}")
    quarter = df["calendar_quarter"].str.fullmatch(r"\d{4}Q[1-4]")
    year = df["calendar_quarter"].str.fullmatch(r"CY\d{4}")
    for row in np.flatnonzero(~(quarter | (year & (df["kind"] == "guidance")))):
        bad(row, "calendar_quarter", f"{df.at[row, 'calendar_quarter']!r} is not a calendar quarter such as 2026Q1"
                                     " (or, for guidance of a whole year, CY2026)")
    reported = df["kind"] == "reported"
    early = reported & (df["published"] < df["calendar_end"])
    for row in np.flatnonzero(early):
        bad(row, "published", f"{df.at[row, 'published'].date()} is before the quarter ended ({df.at[row, 'calendar_end'].date()})")
    keys = np.where(reported, "", df["published"].astype(str))
    dup = df.assign(_key=keys).duplicated(["series", "calendar_quarter", "kind", "_key"], keep=False)
    for (series, cq), rows in df[dup].groupby(["series", "calendar_quarter"]).groups.items():
        rows = list(rows)
        problems.append(f"rows {', '.join(str(r + 2) for r in rows)}: {series} {cq} appears {len(rows)} times; keep one")
    if not problems:
        problems += _year_problems(df[reported & quarter], Path(data_dir))
    if problems:
        raise DataError(f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}\n"
                        + "\n".join(f"  - {p}" for p in problems))
    return df


def _year_problems(df: pd.DataFrame, data_dir: Path) -> list[str]:
    """Reported quarters against the years of ``actuals.csv``: sums, and weighted means of ratios."""
    if not (data_dir / "actuals.csv").is_file():
        return []
    annual = read_actuals(data_dir).set_index(["series", "year"])["value"]
    df = df.assign(_year=df["calendar_quarter"].str[:4].astype(int))
    problems = []
    for (series, year), rows in df.groupby(["series", "_year"]):
        if len(rows) != 4 or (series, year) not in annual.index:
            continue
        if series in RATIO_WEIGHTS:
            weights = df[(df["series"] == RATIO_WEIGHTS[series]) & (df["_year"] == year)].set_index("calendar_quarter")["value"]
            if len(weights) != 4:
                continue
            total, what = float((rows.set_index("calendar_quarter")["value"] * weights).sum() / weights.sum()), "average, weighted by " + RATIO_WEIGHTS[series] + ","
        elif rows["units"].iloc[0] == "USD bn":
            total, what = float(rows["value"].sum()), "sum"
        else:
            continue
        reported = float(annual[(series, year)])
        if abs(total - reported) > YEAR_TOLERANCE * abs(reported):
            problems.append(
                f"rows {', '.join(str(r + 2) for r in rows.index)} ({series} {year}Q1-Q4), column value: the quarters' "
                f"{what} {total:.4g} is {abs(total / reported - 1):.1%} from the {reported:g} actuals.csv reports for {year}"
                f" (at most {YEAR_TOLERANCE:.1%}); correct the quarter or the year")
    return problems


def known_on(quarterly: pd.DataFrame, date) -> pd.DataFrame:
    """The rows of :func:`read_quarterly` published on or before ``date``: the data as known then."""
    return quarterly[quarterly["published"] <= pd.Timestamp(date)]


@dataclass(frozen=True)
class BaseData:
    """Base-year figures and history the model is calibrated to. Money in USD bn.

    Attributes
    ----------
    base_year : int
    capex_hyperscaler : float
        Hyperscaler capex in the base year, C_0.
    market_years, market : ndarray
        Calendar years (ascending, ending at the base year) and accelerator spend M_y.
    amazon_capex : float
        Amazon capex in the base year, A_0.
    aws_capex_years, aws_capex : ndarray
        Calendar years (ascending, ending at the base year) and AWS capex history.
    aws_revenue, aws_operating_margin : float
        R_A,0 and OM_A,0.
    aws_depreciation : float or None
        Reported base-year AWS depreciation, the target of the history scale; None if the
        data has none for the base year (the history is then used as it is).
    nvda_revenue, nvda_dc_revenue, nvda_gross_margin, nvda_one_off_charges, nvda_opex : float
        NVIDIA's base (fiscal) year: revenue, data center revenue, GAAP gross margin,
        one-off charges in cost of revenue, and R&D + SG&A.
    sources : dict
        ``series -> "tag: source"`` of each base-year figure, for provenance.
    """

    base_year: int
    capex_hyperscaler: float
    market_years: np.ndarray
    market: np.ndarray
    amazon_capex: float
    aws_capex_years: np.ndarray
    aws_capex: np.ndarray
    aws_revenue: float
    aws_operating_margin: float
    aws_depreciation: float | None
    nvda_revenue: float
    nvda_dc_revenue: float
    nvda_gross_margin: float
    nvda_one_off_charges: float
    nvda_opex: float
    sources: dict

    @property
    def nvda_other_revenue(self) -> float:
        """NVIDIA revenue outside the data center in the base year, R_o,0. [USD bn]"""
        return self.nvda_revenue - self.nvda_dc_revenue

    @property
    def nvda_underlying_gross_margin(self) -> float:
        """Base-year gross margin without one-off charges, GM_0. [1]"""
        return self.nvda_gross_margin + self.nvda_one_off_charges / self.nvda_revenue


def _history(df: pd.DataFrame, series: str, base_year: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    rows = df[(df["series"] == series) & (df["year"] <= base_year)].sort_values("year")
    years = rows["year"].to_numpy()
    if len(years) == 0 or years[-1] != base_year:
        raise DataError(f"{where}: no {series} for the base year {base_year}; add a row to set it")
    gaps = np.flatnonzero(np.diff(years) != 1)
    if len(gaps):
        raise DataError(f"{where}: {series} history has a gap after {years[gaps[0]]}; years must be consecutive")
    return years, rows["value"].to_numpy(float)


def base_data(data_dir: str | Path, base_year: int) -> BaseData:
    """Base-year figures and history for ``base_year`` from the data folder.

    Read once for each version of the file (its path, size and modification time): a run
    asks for them every time, and reading the CSV takes as long as 20,000 draws.

    Raises
    ------
    DataError
        Naming the file and the series and year that are missing.
    """
    path = Path(data_dir) / "actuals.csv"
    try:
        st = path.stat()
    except OSError:
        return _base_data(data_dir, base_year)  # raises the DataError for the missing file
    return _base_data_of(str(path.resolve()), st.st_mtime_ns, st.st_size, data_dir, base_year)


@functools.lru_cache(maxsize=32)
def _base_data_of(resolved: str, mtime_ns: int, size: int, data_dir, base_year: int) -> BaseData:
    return _base_data(data_dir, base_year)


def _base_data(data_dir: str | Path, base_year: int) -> BaseData:
    df = read_actuals(data_dir)
    where = str(Path(data_dir) / "actuals.csv")
    at = df[df["year"] == base_year].set_index("series")

    def one(series, default=None):
        if series in at.index:
            return float(at.at[series, "value"])
        if default is not None:
            return default
        raise DataError(f"{where}: no {series} for the base year {base_year}; add a row to set it")

    market_years, market = _history(df, "accelerator_market", base_year, where)
    aws_years, aws_capex = _history(df, "aws_capex", base_year, where)
    revenue = one("aws_revenue")
    data = BaseData(
        base_year=base_year,
        capex_hyperscaler=one("hyperscaler_capex"),
        market_years=market_years,
        market=market,
        amazon_capex=one("amazon_capex"),
        aws_capex_years=aws_years,
        aws_capex=aws_capex,
        aws_revenue=revenue,
        aws_operating_margin=one("aws_operating_income") / revenue,
        aws_depreciation=float(at.at["aws_depreciation", "value"]) if "aws_depreciation" in at.index else None,
        nvda_revenue=one("nvda_revenue"),
        nvda_dc_revenue=one("nvda_dc_revenue"),
        nvda_gross_margin=one("nvda_gross_margin"),
        nvda_one_off_charges=one("nvda_one_off_charges", 0.0),
        nvda_opex=one("nvda_opex"),
        sources={s: f"{r['tag']}: {r['source']}" for s, r in at.iterrows()},
    )
    for name in ("capex_hyperscaler", "amazon_capex", "aws_revenue", "nvda_revenue", "nvda_dc_revenue"):
        if not getattr(data, name) > 0:
            raise DataError(f"{where}: {name} for {base_year} must be > 0, got {getattr(data, name)}")
    if not data.nvda_dc_revenue < data.nvda_revenue:
        raise DataError(f"{where}: nvda_dc_revenue ({data.nvda_dc_revenue}) must be below nvda_revenue ({data.nvda_revenue})")
    if not 0 < data.nvda_underlying_gross_margin < 1:
        raise DataError(f"{where}: nvda_gross_margin for {base_year} must be in (0, 1)")
    if np.any(market <= 0) or np.any(aws_capex < 0):
        raise DataError(f"{where}: accelerator_market must be > 0 and aws_capex >= 0 in every year")
    return data
