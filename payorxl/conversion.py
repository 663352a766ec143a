"""Excel values in, typed engine frames out — the one place that knows what Excel sends.

Excel (through python-calamine, openpyxl or an xlwings UDF argument) gives cells as
``str``, ``float``, ``int``, ``bool``, ``datetime``/``date``, ``None`` or ``""``. This module
turns a table of such cells into a frame the engine can trust, column by column as the
model declares it: blanks become the column's default, serial numbers in date columns
become dates, money becomes integer cents, codes typed as numbers (CPT 99213) become text.
Every cell that cannot be converted becomes a `DataError` naming sheet, row, column and
value, and its row is left out of the frame (listed in ``rejected``), so one bad cell
never silently changes a figure.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, ROUND_HALF_UP
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import model as m
from .errors import CellRef, DataError

ROW = "_row"  # the Excel row each record came from, kept on every frame
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Serial numbers accepted as dates in a date column: 1954-10-06 .. 2119-09-16.
MIN_SERIAL, MAX_SERIAL = 20000, 80000


def to_cents(amount: Any) -> int:
    """Dollars (float, int, str or Decimal) to integer cents, rounding half up."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_dollars(cents) -> Any:
    """Integer cents (scalar or Series) back to dollars for Excel."""
    if isinstance(cents, pd.Series):
        return cents.astype("Float64") / 100
    if cents is None or (isinstance(cents, float) and np.isnan(cents)) or cents is pd.NA:
        return None
    return int(cents) / 100


def is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


class _Bad(Exception):
    def __init__(self, message: str, fix: str):
        self.message, self.fix = message, fix


def _text(value: Any, col: m.Column) -> str:
    if isinstance(value, bool):
        raise _Bad("is TRUE/FALSE, expected text", f"type the {col.name.lower()} as text")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # CPT 99213 typed as a number
    if isinstance(value, (dt.date, dt.datetime)):
        raise _Bad("is a date, expected text", f"type the {col.name.lower()} as text")
    return str(value).strip()


def _choice(value: Any, col: m.Column) -> str:
    text = _text(value, col)
    for choice in col.choices:
        if text.lower() == choice.lower():
            return choice
    raise _Bad(f"is not one of the allowed values ({', '.join(col.choices)})",
               f"pick one of: {', '.join(col.choices)}")


def _number(value: Any, col: m.Column) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        what = "text" if isinstance(value, str) else type(value).__name__
        raise _Bad(f"{col.name} is {what}, expected a number",
                   "re-enter it as a number (no quotes or letters); Excel shows numbers stored "
                   "as text with a green corner, use 'Convert to Number'")
    value = float(value)
    if np.isnan(value) or np.isinf(value):
        raise _Bad(f"{col.name} is not a number", "enter a number")
    if col.minimum is not None and value < col.minimum:
        raise _Bad(f"{col.name} is below the minimum of {col.minimum:g}",
                   f"enter a value of at least {col.minimum:g}")
    return value


def _int(value: Any, col: m.Column) -> int:
    number = _number(value, col)
    if not number.is_integer():
        raise _Bad(f"{col.name} is not a whole number", "enter a whole number")
    return int(number)


def _money(value: Any, col: m.Column) -> int:
    return to_cents(_number(value, col))


def _date(value: Any, col: m.Column) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.date())
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if MIN_SERIAL <= value <= MAX_SERIAL:
            return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(value)))
        raise _Bad(f"{col.name} is the number {value:g}, not a date",
                   "enter a date such as 03/14/2026 in a cell formatted as a date")
    if isinstance(value, str):
        raise _Bad(f"{col.name} is text, not a date",
                   "re-type it as a date (e.g. 03/14/2026) so Excel right-aligns it; "
                   "or use Data > Text to Columns > Date to convert a column")
    raise _Bad(f"{col.name} is not a date", "enter a date such as 03/14/2026")


CONVERTERS = {m.TEXT: _text, m.CHOICE: _choice, m.INT: _int, m.MONEY: _money,
              m.DATE: _date, m.PERCENT: _number, m.NUMBER: _number}


def convert_value(value: Any, col: m.Column):
    """One Excel value to its engine type (raises _Bad)."""
    if is_blank(value):
        return col.default
    return CONVERTERS[col.kind](value, col)


def _dtype_series(values: list, col: m.Column) -> pd.Series:
    if col.kind in (m.TEXT, m.CHOICE):
        return pd.Series([("" if v is None else v) for v in values], dtype=object)
    if col.kind == m.DATE:
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ns]")
    if col.kind in (m.INT, m.MONEY):
        return pd.Series(values, dtype="Int64")
    return pd.Series(values, dtype="Float64")


@dataclass
class Converted:
    """A table converted: the good rows as a typed frame, the errors, and the Excel
    rows left out because of them."""
    frame: pd.DataFrame
    errors: list[DataError] = field(default_factory=list)
    rejected: set[int] = field(default_factory=set)


def empty_frame(table: m.Table) -> pd.DataFrame:
    return typed_frame(table, []).frame


def typed_frame(table: m.Table, records: Iterable[dict], sheet: str | None = None,
                rows: Sequence[int] | None = None) -> Converted:
    """Convert records (dicts keyed by column key *or* header name, holding raw Excel
    values) into the engine frame for `table`.

    rows: the Excel row of each record (for error references); default 2, 3, ...
    Missing optional columns take their default; a missing required column is one error
    for the whole table.
    """
    records = list(records)
    sheet = sheet or table.name
    rows = list(rows) if rows is not None else list(range(2, 2 + len(records)))
    by_name = {c.name: c.key for c in table.columns}
    records = [{by_name.get(k, k): v for k, v in r.items()} for r in records]
    errors: list[DataError] = []
    rejected: set[int] = set()
    columns: dict[str, list] = {}
    present = set().union(*[r.keys() for r in records]) if records else set()
    for col in table.columns:
        if records and col.key not in present and col.required:
            errors.append(DataError(CellRef(sheet, 1, col.name), None,
                                    f"the required column '{col.name}' is missing",
                                    f"add a column headed '{col.name}' to the {table.name} table"))
            rejected.update(rows)
        out = []
        for rec, row in zip(records, rows):
            raw = rec.get(col.key)
            if is_blank(raw):
                if col.required:
                    errors.append(DataError(CellRef(sheet, row, col.name), raw,
                                            f"{col.name} is required and blank",
                                            f"fill in the {col.name.lower()}: {col.description}",
                                            phi=col.phi))
                    rejected.add(row)
                out.append(col.default)
                continue
            try:
                out.append(CONVERTERS[col.kind](raw, col))
            except _Bad as bad:
                errors.append(DataError(CellRef(sheet, row, col.name), raw, bad.message, bad.fix,
                                        phi=col.phi))
                rejected.add(row)
                out.append(col.default)
        columns[col.key] = out
    frame = pd.DataFrame({k: _dtype_series(v, table.column(k)) for k, v in columns.items()})
    frame[ROW] = pd.Series(rows, dtype="int64")
    if rejected:
        frame = frame[~frame[ROW].isin(rejected)].reset_index(drop=True)
    return Converted(frame, errors, rejected)


def table_from_grid(table: m.Table, grid: Sequence[Sequence[Any]], sheet: str | None = None,
                    first_row: int = 1) -> Converted:
    """A 2-D grid whose first row is the header (as an Excel range or UDF argument
    arrives) to a typed frame. Unknown headers (the user's own columns, calculated
    columns) are ignored; trailing empty rows are dropped."""
    sheet = sheet or table.name
    if not grid:
        return Converted(empty_frame(table))
    header = [("" if h is None else str(h).strip()) for h in grid[0]]
    known = {c.name.lower(): c.key for c in table.columns}
    known.update({c.key: c.key for c in table.columns})
    index = {known[h.lower()]: i for i, h in enumerate(header) if h.lower() in known}
    records, rows = [], []
    for offset, line in enumerate(grid[1:], start=1):
        if all(is_blank(line[i]) for i in index.values() if i < len(line)):
            continue  # an empty row (calculated columns alone do not make a record)
        records.append({key: (line[i] if i < len(line) else None) for key, i in index.items()})
        rows.append(first_row + offset)
    if not records:
        return Converted(empty_frame(table))
    return typed_frame(table, records, sheet, rows)


def money_frame_to_dollars(frame: pd.DataFrame, money_columns: Iterable[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in money_columns:
        out[c] = cents_to_dollars(out[c])
    return out
