"""Tables as files: CSV, JSON and Excel exports of what the commands print.

Every command that prints a table can write the same figures as data: real numbers (margins
and probabilities as fractions, money in USD bn, Monte Carlo errors in columns of their own),
never the formatted text. A command builds named pandas DataFrames and the units of their
columns; :func:`write_tables` does the rest with pandas (``to_csv``, ``to_json``,
``to_excel`` through openpyxl), writing files atomically (:func:`risk.io.atomic_path`).

Units of a column are either fixed (``{"achieved": "rank correlation"}``) or :data:`ROW`:
given row by row in the table's ``units`` column (a table of several variables). CSV and
JSON carry fixed units in the column name (``shift [sd]``); Excel also sets each number's
format from its units (``0.0%`` for fractions, ``#,##0.0" bn"`` for USD bn).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Mapping

import pandas as pd

__all__ = ["FORMATS", "ROW", "FRACTION", "unit_name", "number_format", "with_units", "to_text", "write_tables",
           "write_workbook"]

#: Formats of ``--format``: ``table`` is the rich terminal table.
FORMATS = ("table", "csv", "json", "xlsx")
#: Units given row by row, in the table's ``units`` column.
ROW = "(row)"
#: Units of margins, shares and probabilities.
FRACTION = "fraction"

#: Excel number formats by units (others: general).
_FORMATS = {FRACTION: "0.0%", "USD bn": '#,##0.0" bn"', "bp": '#,##0" bp"'}
#: Excel number formats of Monte Carlo errors by units: one digit more.
_ERROR_FORMATS = {FRACTION: "0.00%", "USD bn": '#,##0.00" bn"', "bp": '#,##0.0" bp"'}


def unit_name(units: str, statistic: str = "") -> str:
    """Units as an export names them: ``fraction`` for a variable in units of ``1`` and for a
    probability (a statistic ``P(...)``), else the variable's units (``USD bn``)."""
    return FRACTION if units == "1" or statistic.startswith("P(") else units


def number_format(units: str | None, error: bool = False) -> str:
    """The Excel number format of a value in ``units`` (``error``: a Monte Carlo error)."""
    return (_ERROR_FORMATS if error else _FORMATS).get(units or "", "General")


def _is_error(column: str) -> bool:
    return column == "se" or column.endswith(" se")


def with_units(frame: pd.DataFrame, units: Mapping[str, str] | None) -> pd.DataFrame:
    """``frame`` with each column of fixed units renamed ``column [units]`` (row-wise units stay
    in the ``units`` column)."""
    names = {c: f"{c} [{u}]" for c, u in (units or {}).items() if u and u != ROW and c in frame.columns}
    return frame.rename(columns=names)


def _stacked(tables: Mapping[str, pd.DataFrame], units: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """One table, or several stacked with their name in a first ``table`` column."""
    frames = {name: with_units(df, units.get(name)) for name, df in tables.items()}
    if len(frames) > 1:  # integers stay integers beside the other tables' empty cells
        frames = {name: df.astype({c: "Int64" for c in df.select_dtypes("integer").columns}) for name, df in frames.items()}
    if len(frames) == 1:
        return next(iter(frames.values()))
    return pd.concat([df.assign(table=name)[["table", *df.columns]] for name, df in frames.items()], ignore_index=True)


def to_text(tables: Mapping[str, pd.DataFrame], fmt: str, units: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The tables as CSV (several: stacked, with a ``table`` column) or JSON (an object of
    tables, each a list of records)."""
    units = units or {}
    if fmt == "csv":
        return _stacked(tables, units).to_csv(index=False)
    if fmt == "json":
        import json

        return json.dumps({name: json.loads(with_units(df, units.get(name)).to_json(orient="records", double_precision=15))
                           for name, df in tables.items()}, indent=1) + "\n"
    raise ValueError(f"format must be csv or json for text, got {fmt!r}")


def _sheet_name(name: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "sheet"
    out, i = base, 2
    while out.lower() in taken:
        out = f"{base[:28]} {i}"
        i += 1
    taken.add(out.lower())
    return out


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path,
                   units: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """Write ``tables`` to the Excel workbook ``path``, one sheet each, atomically.

    Values stay numbers; each cell of a column with units gets its number format
    (:func:`number_format`): fixed units by column, :data:`ROW` units from the row's
    ``units`` column. Headers are bold, the header row frozen, columns sized to their text.
    """
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from .io import atomic_path

    path = Path(path)
    units = units or {}
    taken: set[str] = set()
    buffer = io.BytesIO()  # built in memory: a failure part-way leaves no file and no half-saved workbook
    writer = pd.ExcelWriter(buffer, engine="openpyxl")
    for name, df in tables.items():
        sheet = _sheet_name(name, taken)
        shown = with_units(df, units.get(name))
        shown.to_excel(writer, sheet_name=sheet, index=False)
        ws = writer.sheets[sheet]
        col_units = units.get(name, {})
        row_units = df["units"].tolist() if "units" in df.columns else None
        for j, col in enumerate(df.columns, start=1):
            ws.cell(row=1, column=j).font = Font(bold=True)
            width = max([len(str(shown.columns[j - 1]))] + [len(str(v)) for v in df[col].head(200)])
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width + 2))
            u = col_units.get(col)
            if u is None:
                continue
            for i in range(len(df)):
                cell_units = row_units[i] if u == ROW and row_units is not None else u
                fmt = number_format(cell_units, _is_error(col))
                if fmt != "General":
                    ws.cell(row=i + 2, column=j).number_format = fmt
        ws.freeze_panes = "A2"
    writer.close()
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return path


def write_tables(tables: Mapping[str, pd.DataFrame], fmt: str, output: str | Path | None = None,
                 units: Mapping[str, Mapping[str, str]] | None = None) -> str | None:
    """Export named tables as ``fmt`` (csv, json or xlsx).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Table name to its rows (the index is not written: put keys in columns).
    fmt : {'csv', 'json', 'xlsx'}
    output : str or Path, optional
        The file to write (atomically). Without it, CSV and JSON are returned as text;
        xlsx needs a file.
    units : mapping of str to mapping of str to str, optional
        By table, the units of its columns: a units name or :data:`ROW`.

    Returns
    -------
    str or None
        The text when no ``output`` is given.
    """
    from .io import atomic_path

    if fmt not in FORMATS[1:]:
        raise ValueError(f"format must be one of: {', '.join(FORMATS[1:])}, got {fmt!r}")
    if fmt == "xlsx":
        if output is None:
            raise ValueError("xlsx is written to a file: give its path")
        write_workbook(tables, output, units)
        return None
    text = to_text(tables, fmt, units)
    if output is None:
        return text
    with atomic_path(Path(output)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return None
