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

__all__ = ["read_actuals", "read_quarterly", "BaseData", "base_data"]

ACTUALS_COLUMNS = ("series", "year", "period", "value", "units", "tag", "source")
QUARTERLY_COLUMNS = ("series", "period", "calendar_end", "value", "units", "tag", "source")


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
    dup = df.duplicated(["series", "year"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise DataError(f"{path}: {r['series']} has more than one row for {r['year']}; keep one")
    return df


def read_quarterly(data_dir: str | Path) -> pd.DataFrame:
    """Read ``quarterly.csv`` (reported quarters and guidance after the base year)."""
    return _read(Path(data_dir) / "quarterly.csv", QUARTERLY_COLUMNS)


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
