"""What has been reported of a year so far, and the model's distribution for that year beside it.

A year in progress has some quarters reported, perhaps guidance for the next quarter or for
the whole year, and quarters still to come. :func:`implied_year` turns what is known on a
date into one figure for the year, the same way for every series:

* a **flow** (revenue, depreciation, capex) is the sum of its four quarters: each quarter as
  reported, else as guided (the latest guidance published by then); the quarters still to
  come two ways, which bracket the year for a growing series: **flat**, at the run-rate of
  the last quarter known, and **growing**, at that quarter's year-on-year growth applied to
  the same quarters a year earlier (seasonality kept). Where the company has guided the
  whole year (capex), that guidance is the figure: it is the company's own view of the
  quarters to come.
* a **margin** is a ratio of sums, each filled the same way: AWS's operating margin is its
  operating income over its revenue; NVIDIA's gross margin is its quarterly gross margins
  weighted by quarterly revenue.

:func:`beside_model` sets the figures beside the run's P10, P50 and P90 for the year and
their ranks in the run's distribution (the weighted share of draws below each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from . import metrics

__all__ = ["SERIES", "implied_year", "beside_model", "beside", "current_year", "naive_forecasts"]


@dataclass(frozen=True)
class Series:
    """How a model output is read from the quarterly data: a flow, or a ratio of two flows.

    ``numerator`` is the data series of a flow (or of a ratio's numerator); ``denominator``,
    for a ratio, the flow it is divided by; ``weighted``: the numerator is itself a ratio
    (a margin) to be weighted by the denominator.
    """

    numerator: str
    denominator: str | None = None
    weighted: bool = False


#: The model outputs that quarterly data reports, and how.
SERIES: dict[str, Series] = {
    "nvda_revenue": Series("nvda_revenue"),
    "nvda_dc_revenue": Series("nvda_dc_revenue"),
    "nvda_gross_margin": Series("nvda_gross_margin", "nvda_revenue", weighted=True),
    "aws_revenue": Series("aws_revenue"),
    "aws_operating_margin": Series("aws_operating_income", "aws_revenue"),
    "aws_depreciation": Series("aws_depreciation"),
    "amazon_capex": Series("amazon_capex"),
    "capex_hyperscaler": Series("hyperscaler_capex"),
}


def _latest(rows: pd.DataFrame) -> float | None:
    if rows.empty:
        return None
    return float(rows.sort_values("published")["value"].iloc[-1])


def _quarters(quarterly: pd.DataFrame, series: str, year: int) -> tuple[list[float | None], list[str]]:
    """Each quarter of ``year`` as reported, else guided (None if neither), and how it is known."""
    rows = quarterly[quarterly["series"] == series]
    values, kinds = [], []
    for q in range(1, 5):
        at = rows[rows["calendar_quarter"] == f"{year}Q{q}"]
        reported = _latest(at[at["kind"] == "reported"])
        guided = _latest(at[at["kind"] == "guidance"])
        values.append(reported if reported is not None else guided)
        kinds.append("reported" if reported is not None else "guided" if guided is not None else "")
    return values, kinds


def _fill(values: list[float | None], prior: list[float | None] | None = None) -> list[float] | None:
    """The quarters not known yet: at the run-rate of the last quarter known (held flat), or,
    given the same quarters a year earlier (``prior``), at that quarter's year-on-year growth
    applied to them. None if no quarter is known."""
    known = [i for i, v in enumerate(values) if v is not None]
    if not known:
        return None
    last = known[-1]
    growth = None
    if prior is not None and prior[last]:
        growth = values[last] / prior[last]
    out = []
    for i, v in enumerate(values):
        if v is not None:
            out.append(v)
        elif growth is not None and prior[i] is not None:
            out.append(prior[i] * growth)
        else:
            out.append(values[max(k for k in known if k < i)] if i > known[0] else values[known[0]])
    return out


def _basis(kinds: list[str]) -> str:
    parts = []
    for kind in ("reported", "guided"):
        qs = [f"Q{i + 1}" for i, k in enumerate(kinds) if k == kind]
        if qs:
            parts.append(f"{'-'.join([qs[0], qs[-1]]) if len(qs) > 1 else qs[0]} {kind}")
    rest = [i for i, k in enumerate(kinds) if not k]
    if rest:
        parts.append(f"Q{rest[0] + 1}{'-Q4' if len(rest) > 1 else ''} to come")
    return ", ".join(parts)


def implied_year(quarterly: pd.DataFrame, year: int, as_of=None) -> pd.DataFrame:
    """The figure for ``year`` implied by the data as known on ``as_of`` (default: all of it).

    Parameters
    ----------
    quarterly : pandas.DataFrame
        From :func:`risk.data.read_quarterly`.
    year : int
        Calendar year.
    as_of : date-like, optional
        Only figures published on or before it count.

    Returns
    -------
    pandas.DataFrame
        Indexed by model output (:data:`SERIES`, those with data for the year): ``reported
        quarters`` (count), ``so far`` (the reported quarters alone: their sum, or for a
        margin their ratio of sums; NaN with none reported), the year ``flat`` (quarters to
        come at the last known quarter's run-rate) and ``growing`` (quarters to come at the
        last known quarter's year-on-year growth; as ``flat`` where the quarter a year
        earlier is not in the data), in units of the output, and ``basis`` (how the year is
        made up). Where the company guided the whole year, both are that guidance.
    """
    from .data import known_on

    known = quarterly if as_of is None else known_on(quarterly, as_of)
    rows = []
    for output, s in SERIES.items():
        num, kinds = _quarters(known, s.numerator, year)
        reported = [i for i, k in enumerate(kinds) if k == "reported"]
        annual = known[(known["series"] == s.numerator) & (known["calendar_quarter"] == f"CY{year}")]
        if s.denominator is None:
            so_far = float(np.sum([num[i] for i in reported])) if reported else np.nan
            guided_year = _latest(annual)
            if guided_year is not None:
                basis = f"guidance for the year (published {annual['published'].max():%Y-%m-%d})"
                rows.append((output, len(reported), so_far, guided_year, guided_year, basis))
                continue
            flat, growing = _fill(num), _fill(num, _quarters(known, s.numerator, year - 1)[0])
            if flat is None:
                continue
            rows.append((output, len(reported), so_far, float(np.sum(flat)), float(np.sum(growing)), _basis(kinds)))
            continue
        den, den_kinds = _quarters(known, s.denominator, year)
        if _fill(num) is None or _fill(den) is None:
            continue
        prior = (None if s.weighted else _quarters(known, s.numerator, year - 1)[0],
                 _quarters(known, s.denominator, year - 1)[0])
        implied = []
        for n, d in ((_fill(num), _fill(den)), (_fill(num, prior[0]), _fill(den, prior[1]))):
            top = [a * b for a, b in zip(n, d)] if s.weighted else n
            implied.append(float(np.sum(top) / np.sum(d)))
        both = [i for i in reported if den_kinds[i] == "reported"]
        so_far = (float(np.sum([num[i] * den[i] if s.weighted else num[i] for i in both]) / np.sum([den[i] for i in both]))
                  if both else np.nan)
        rows.append((output, len(reported), so_far, *implied, _basis(kinds)))
    return pd.DataFrame(rows, columns=["output", "reported quarters", "so far", "flat", "growing", "basis"]).set_index("output")


def current_year(quarterly: pd.DataFrame, as_of=None) -> int:
    """The calendar year of the latest reported quarter known on ``as_of``."""
    from .data import known_on

    known = quarterly if as_of is None else known_on(quarterly, as_of)
    quarters = known.loc[known["kind"] == "reported", "calendar_quarter"]
    quarters = quarters[quarters.str.match(r"^\d{4}Q[1-4]$")]
    return int(max(quarters).split("Q")[0])


def beside_model(ds: xr.Dataset, quarterly: pd.DataFrame, year: int, as_of=None) -> pd.DataFrame:
    """:func:`implied_year` beside the run's distribution of each output in ``year``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`implied_year`, and the run's ``P10``, ``P50``, ``P90`` (units of
        the output), the ranks of the flat and growing figures in the run's distribution
        (``rank flat``, ``rank growing``: the weighted share of draws below, 0-1) and
        ``overlaps`` (True where the run's P10-P90 meets the range between the two figures);
        outputs the run lacks are left out (:func:`beside`).
    """
    weights = ds["weight"].values if "weight" in ds else None

    def model(output):
        x = ds[output].sel(year=year).values.astype(float)
        p10, p50, p90 = (e.value for e in metrics.quantiles(x, [0.1, 0.5, 0.9], weights))
        return (p10, p50, p90), lambda v: metrics.prob_below(x, v, weights).value

    table = implied_year(quarterly, year, as_of)
    return beside(table.loc[[o for o in table.index if o in ds]], model)


def beside(table: pd.DataFrame, model) -> pd.DataFrame:
    """A table of :func:`implied_year` beside a model's distribution of each of its outputs.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`implied_year` (outputs the model has).
    model : callable
        ``model(output)`` gives ``((P10, P50, P90), rank)``: the percentiles (units of the output)
        and ``rank(value)``, the share of the distribution below ``value`` (0-1).

    Returns
    -------
    pandas.DataFrame
        ``table`` joined with ``P10``, ``P50``, ``P90``, ``rank flat``, ``rank growing`` and
        ``overlaps`` (as :func:`beside_model`).
    """
    stats = []
    for output, row in table.iterrows():
        (p10, p50, p90), rank = model(output)
        lo, hi = sorted((row["flat"], row["growing"]))
        stats.append((p10, p50, p90, rank(row["flat"]), rank(row["growing"]), bool(lo <= p90 and p10 <= hi)))
    extra = pd.DataFrame(stats, index=table.index, columns=["P10", "P50", "P90", "rank flat", "rank growing", "overlaps"])
    return table.join(extra)


def _reported(quarterly: pd.DataFrame, series: str) -> pd.Series:
    """Reported quarters of ``series`` by calendar quarter (a pandas Period), the latest
    published figure of each, in order."""
    rows = quarterly[(quarterly["series"] == series) & (quarterly["kind"] == "reported")
                     & quarterly["calendar_quarter"].str.match(r"^\d{4}Q[1-4]$")]
    rows = rows.sort_values("published").groupby("calendar_quarter")["value"].last()
    rows.index = pd.PeriodIndex(rows.index, freq="Q")
    return rows.sort_index()


def naive_forecasts(quarterly: pd.DataFrame, as_of, output: str, years) -> dict[str, dict[int, float]]:
    """The two naive forecasts a model must beat, from the data as known on ``as_of``.

    * ``flat``: the last reported quarter's run-rate held: four times it for a flow, its
      ratio for a margin;
    * ``trend``: the trailing four quarters, grown at their growth over the four before,
      compounded from the trailing window's middle to the middle of each year (a flow); a
      margin holds its trailing four-quarter value (ratio of sums).

    Parameters
    ----------
    quarterly : pandas.DataFrame
        From :func:`risk.data.read_quarterly`.
    as_of : date-like
    output : str
        A model output of :data:`SERIES`.
    years : iterable of int

    Returns
    -------
    dict
        ``{"flat": {year: value}, "trend": {year: value}}`` in the output's units; ``trend``
        is empty unless eight quarters in a row are reported by ``as_of``, both are with none.
    """
    from .data import known_on

    spec = SERIES[output]
    known = known_on(quarterly, as_of)
    num = _reported(known, spec.numerator)
    if spec.denominator is not None:
        den = _reported(known, spec.denominator)
        common = num.index.intersection(den.index)
        num, den = num[common], den[common]
    if len(num) == 0:
        return {"flat": {}, "trend": {}}
    top = num * den if spec.denominator is not None and spec.weighted else num
    if spec.denominator is None:
        flat = {y: 4 * float(num.iloc[-1]) for y in years}
    else:
        flat = {y: float(top.iloc[-1] / den.iloc[-1]) for y in years}
    if len(num) < 8 or (num.index[-1] - num.index[-8]).n != 7:  # eight quarters in a row
        return {"flat": flat, "trend": {}}
    last = num.index[-1]
    end = last.year + last.quarter / 4  # decimal year at the trailing window's end
    if spec.denominator is None:
        t4, p4 = float(num.iloc[-4:].sum()), float(num.iloc[-8:-4].sum())
        trend = {y: t4 * (t4 / p4) ** ((y + 0.5) - (end - 0.5)) for y in years}
    else:
        trend = {y: float(top.iloc[-4:].sum() / den.iloc[-4:].sum()) for y in years}
    return {"flat": flat, "trend": trend}
