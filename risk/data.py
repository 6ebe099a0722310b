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

__all__ = ["read_actuals", "read_quarterly", "known_on", "BaseData", "base_data", "anchor_data", "latest_quarter",
           "reported_table", "quarter_index", "quarter_of", "ANCHORED", "BIG4"]

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
    step : float
        Length of the model's step: 1 (a year, v1) or 0.25 (a calendar quarter, v2). With a
        quarterly step, every flow above (capex, revenue, opex, depreciation, histories) is
        a quarter's, not a year's. [yr]
    anchor_year, anchor_quarter : int, int or None
        The period the state is anchored at: the base year (quarter None), or the as-of
        quarter q*.
    digestion : float
        The digestion regime of the anchor's calendar year, 0 or 1, when that year goes on
        after the anchor (taken from the data: see :func:`anchor_data`).
    depreciation_lag : int
        Steps from the last period with reported AWS depreciation (the history scale's
        target) to the anchor.
    reported : dict
        Quarterly clock only: ``output -> array`` of the reported quarters from the first
        quarter of the output years to q*, one value a quarter (NaN where the data has none).
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
    step: float = 1.0
    anchor_year: int = 0
    anchor_quarter: int | None = None
    digestion: float = 0.0
    depreciation_lag: int = 0
    reported: dict | None = None

    @property
    def anchor_time(self) -> float:
        """Decimal-year time of the anchor (:func:`risk.model.clock.quarter_time`). [yr]"""
        if self.anchor_quarter is None:
            return float(self.base_year)
        return self.anchor_year + (2 * self.anchor_quarter - 5) / 8

    @property
    def as_of(self) -> str:
        """The anchor as a label: ``2026Q2`` on a quarterly clock, ``2025`` on an annual one."""
        return str(self.base_year) if self.anchor_quarter is None else f"{self.anchor_year}Q{self.anchor_quarter}"

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
        anchor_year=base_year,
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


# --- The quarterly clock (v2): the state at the as-of quarter -------------------------------

#: The companies whose capex makes hyperscaler (Big-4) capex, by series of ``quarterly.csv``.
BIG4 = ("alphabet_capex", "amazon_capex", "meta_capex", "microsoft_capex")
#: Series that must be reported for a quarter to be an as-of quarter q*.
ANCHORED = ("nvda_revenue", "nvda_dc_revenue", "nvda_gross_margin", "nvda_opex", "aws_revenue", "aws_operating_income",
            *BIG4)


def quarter_index(label: str) -> int:
    """``2026Q1`` -> 2026·4 + 0: consecutive quarters have consecutive indices."""
    return int(label[:4]) * 4 + int(label[5]) - 1


def quarter_of(index: int) -> str:
    """The label of :func:`quarter_index`'s ``index``."""
    return f"{index // 4}Q{index % 4 + 1}"


def reported_table(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Reported quarters as a table: a row per quarter index, a column per series (and
    ``hyperscaler_capex``, the Big-4 sum where all four are reported). [USD bn or 1]"""
    rows = quarterly[(quarterly["kind"] == "reported") & quarterly["calendar_quarter"].str.fullmatch(r"\d{4}Q[1-4]")]
    table = rows.assign(q=rows["calendar_quarter"].map(quarter_index)).pivot(index="q", columns="series", values="value")
    table = table.reindex(range(table.index.min(), table.index.max() + 1))
    if all(c in table for c in BIG4):
        table["hyperscaler_capex"] = table[list(BIG4)].sum(axis=1, min_count=len(BIG4))
    return table


def latest_quarter(quarterly: pd.DataFrame) -> str | None:
    """The latest quarter with every series of :data:`ANCHORED` reported, or None."""
    table = reported_table(quarterly)
    have = [c for c in ANCHORED if c in table]
    if len(have) < len(ANCHORED):
        return None
    full = table.index[table[list(ANCHORED)].notna().all(axis=1)]
    return quarter_of(int(full.max())) if len(full) else None


def _spread(annual_years, annual, weights: pd.Series, first: int, last: int, ratio_to=None) -> np.ndarray:
    """A quarterly history from ``first`` to ``last`` (quarter indices) of a series reported by year.

    A year with its four quarters of ``weights`` is split in their proportions; a year
    without, evenly; a quarter after the last reported year is ``weights`` times the ratio of
    the series to ``weights`` in that year. [USD bn a quarter]
    """
    by_year = dict(zip((int(y) for y in annual_years), (float(v) for v in annual)))
    last_year = max(by_year)
    out = np.empty(last - first + 1)
    for i, q in enumerate(range(first, last + 1)):
        y = q // 4
        quarters = weights.reindex(range(y * 4, y * 4 + 4))
        if y in by_year:
            out[i] = by_year[y] * quarters.loc[q] / quarters.sum() if quarters.notna().all() else by_year[y] / 4
        else:
            base = weights.reindex(range(last_year * 4, last_year * 4 + 4))
            if not base.notna().all() or pd.isna(weights.get(q)):
                raise DataError(f"quarterly.csv: no {weights.name} for {quarter_of(q)} and {quarter_of(q)} is after the last "
                                f"year of its annual history ({last_year}): add the quarter's figures")
            out[i] = weights.loc[q] * by_year[last_year] / base.sum()
    return out


def anchor_data(data_dir: str | Path, base_year: int, as_of: str | None = None, known=None) -> BaseData:
    """The state a quarterly run starts from (:func:`_anchor_data`), read once per version of the data files."""
    stamps = []
    for name in ("quarterly.csv", "actuals.csv"):
        try:
            st = (Path(data_dir) / name).stat()
            stamps.append((st.st_mtime_ns, st.st_size))
        except OSError:
            return _anchor_data(data_dir, base_year, as_of, known)  # raises the DataError for the missing file
    key = None if known is None else str(pd.Timestamp(known).date())
    return _anchor_of(str(Path(data_dir).resolve()), tuple(stamps), base_year, as_of, key)


@functools.lru_cache(maxsize=64)
def _anchor_of(resolved: str, stamps, base_year: int, as_of, known) -> BaseData:
    return _anchor_data(resolved, base_year, as_of, known)


def _anchor_data(data_dir: str | Path, base_year: int, as_of: str | None = None, known=None) -> BaseData:
    """The state a quarterly run starts from: the reported quarter ``as_of`` (q*) and quarterly history.

    Parameters
    ----------
    data_dir : path
        Folder with ``actuals.csv`` and ``quarterly.csv``.
    base_year : int
        First year of the run's outputs; its quarters up to q* are reported.
    as_of : str, optional
        The as-of quarter (``2026Q2``); default the latest quarter with every series of
        :data:`ANCHORED` reported (in the data as known on ``known``).
    known : date, optional
        Use only the rows published on or before this date (:func:`known_on`), and annual
        history only for years before q*'s year: the data as known then (the backtest).

    Returns
    -------
    BaseData
        With ``step`` 0.25: flows are those of q* (one quarter: a run-rate), histories one
        column a quarter (accelerator spend split by the quarters of Big-4 capex; AWS capex by
        those of Amazon's), and ``reported`` the quarters from ``base_year``Q1 to q*.

    Raises
    ------
    DataError
        Naming the file, the series and the quarter that are missing.
    """
    where = str(Path(data_dir) / "quarterly.csv")
    quarterly = read_quarterly(data_dir)
    if known is not None:
        quarterly = known_on(quarterly, known)
    table = reported_table(quarterly)
    if as_of is None:
        as_of = latest_quarter(quarterly)
        if as_of is None:
            raise DataError(f"{where}: no quarter has every anchored series reported ({', '.join(ANCHORED)})"
                            + (f" in the data as known on {pd.Timestamp(known).date()}" if known is not None else ""))
    qs = quarter_index(as_of)
    row = table.loc[qs] if qs in table.index else pd.Series(dtype=float)
    missing = [c for c in ANCHORED if pd.isna(row.get(c))]
    if missing:
        raise DataError(f"{where}: as_of {as_of} lacks reported {', '.join(missing)}; every one of {', '.join(ANCHORED)} "
                        f"is needed for an as-of quarter (the latest with all of them is {latest_quarter(quarterly)})")
    first = base_year * 4
    if first > qs:
        raise DataError(f"{where}: as_of {as_of} is before the first quarter of base_year {base_year}; "
                        f"set base_year to {qs // 4} or earlier")
    needed = ["nvda_revenue", "nvda_gross_margin", "nvda_opex", "aws_revenue", "aws_operating_income", "hyperscaler_capex",
              "amazon_capex", "nvda_dc_revenue"]
    span = table.reindex(range(first, qs + 1))
    for c in needed:
        gap = span.index[span[c].isna()] if c in span else span.index
        if len(gap):
            raise DataError(f"{where}: no reported {c} for {quarter_of(int(gap[0]))}; the quarters from base_year "
                            f"{base_year} to as_of {as_of} are outputs of the run and must be reported")
    actuals = read_actuals(data_dir)
    if known is not None:
        actuals = actuals[actuals["year"] < qs // 4]
    awhere = str(Path(data_dir) / "actuals.csv")
    market_years, market = _history(actuals, "accelerator_market", int(actuals[actuals["series"] == "accelerator_market"]["year"].max()), awhere)
    aws_years, aws_capex = _history(actuals, "aws_capex", int(actuals[actuals["series"] == "aws_capex"]["year"].max()), awhere)
    big4 = table["hyperscaler_capex"].rename("hyperscaler_capex")
    amazon = table["amazon_capex"].rename("amazon_capex")
    market_q = _spread(market_years, market, big4, int(market_years[0]) * 4, qs)
    aws_q = _spread(aws_years, aws_capex, amazon, int(aws_years[0]) * 4, qs)
    dep = table["aws_depreciation"] if "aws_depreciation" in table else pd.Series(dtype=float)
    dep = dep[(dep.index <= qs) & dep.notna()]
    charges = float(row["nvda_one_off_charges"]) if not pd.isna(row.get("nvda_one_off_charges")) else 0.0
    revenue = float(row["aws_revenue"])
    # the regime of q*'s year, when it goes on after q*: digestion if its reported quarters fell y/y
    year_q = range(qs - qs % 4, qs + 1)
    now, before = big4.reindex(year_q), big4.reindex([q - 4 for q in year_q])
    digestion = float(now.notna().all() and before.notna().all() and now.sum() < before.sum())
    nv_rev = span["nvda_revenue"].to_numpy(float)
    ch = span["nvda_one_off_charges"].fillna(0.0).to_numpy(float) if "nvda_one_off_charges" in span else np.zeros(len(span))
    gm = span["nvda_gross_margin"].to_numpy(float)
    reported = {
        "capex_hyperscaler": span["hyperscaler_capex"].to_numpy(float),
        "amazon_capex": span["amazon_capex"].to_numpy(float),
        "accelerator_market": market_q[first - int(market_years[0]) * 4:],
        "nvda_revenue": nv_rev, "nvda_dc_revenue": span["nvda_dc_revenue"].to_numpy(float),
        "nvda_gross_margin": gm, "nvda_one_off_charges": ch, "nvda_gross_margin_underlying": gm + ch / nv_rev,
        "nvda_operating_margin": gm - span["nvda_opex"].to_numpy(float) / nv_rev,
        "aws_revenue": span["aws_revenue"].to_numpy(float),
        "aws_operating_margin": (span["aws_operating_income"] / span["aws_revenue"]).to_numpy(float),
        "aws_depreciation": (span["aws_depreciation"].to_numpy(float) if "aws_depreciation" in span
                             else np.full(len(span), np.nan)),
    }
    at = quarterly[(quarterly["kind"] == "reported") & (quarterly["calendar_quarter"] == as_of)]
    data = BaseData(
        base_year=base_year,
        capex_hyperscaler=float(row["hyperscaler_capex"]),
        market_years=np.arange(int(market_years[0]) * 4, qs + 1) / 4,
        market=market_q,
        amazon_capex=float(row["amazon_capex"]),
        aws_capex_years=np.arange(int(aws_years[0]) * 4, qs + 1) / 4,
        aws_capex=aws_q,
        aws_revenue=revenue,
        aws_operating_margin=float(row["aws_operating_income"]) / revenue,
        aws_depreciation=float(dep.iloc[-1]) if len(dep) else None,
        nvda_revenue=float(row["nvda_revenue"]),
        nvda_dc_revenue=float(row["nvda_dc_revenue"]),
        nvda_gross_margin=float(row["nvda_gross_margin"]),
        nvda_one_off_charges=charges,
        nvda_opex=float(row["nvda_opex"]),
        sources={r["series"]: f"{r['tag']}: {r['source']}" for _, r in at.iterrows()},
        step=0.25, anchor_year=qs // 4, anchor_quarter=qs % 4 + 1, digestion=digestion,
        depreciation_lag=int(qs - dep.index[-1]) if len(dep) else 0, reported=reported,
    )
    if not 0 < data.nvda_underlying_gross_margin < 1:
        raise DataError(f"{where}: nvda_gross_margin for {as_of} must be in (0, 1)")
    return data
