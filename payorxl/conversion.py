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
import functools
import numbers
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from . import model as m
from .codec import cents_array, decimal_cents, is_blank, is_na, serial_to_datetime, to_cents
from .errors import CellRef, DataError

ROW = "_row"  # the Excel row each record came from, kept on every frame
# Serial numbers accepted as dates in a date column: 1954-10-06 .. 2099-12-31 (model.LAST_YEAR).
MIN_SERIAL, MAX_SERIAL = 20000, 73050


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
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Number) or isinstance(value, complex):
        what = "text" if isinstance(value, str) else type(value).__name__
        raise _Bad(f"{col.name} is {what}, expected a number",
                   "re-enter it as a number (no quotes or letters); Excel shows numbers stored "
                   "as text with a green corner, use 'Convert to Number'")
    value = _float_or_nan(value)
    if np.isnan(value) or np.isinf(value):
        raise _Bad(f"{col.name} is not a number", "enter a number")
    if col.minimum is not None and value < col.minimum:
        raise _Bad(f"{col.name} is below the minimum of {col.minimum:g}",
                   f"enter a value of at least {col.minimum:g}")
    if col.maximum is not None and value > col.maximum:
        raise _Bad(f"{col.name} is {value:,g}, above the most payorxl takes ({col.maximum:,g})",
                   f"check the cell for a stray digit; enter at most {col.maximum:,g}")
    return value


def _int(value: Any, col: m.Column) -> int:
    number = _number(value, col)
    if not number.is_integer():
        raise _Bad(f"{col.name} is not a whole number", "enter a whole number")
    if abs(number) >= m.INT_LIMIT:
        raise _Bad(f"{col.name} is {number:,.0f}, beyond any real count ({m.INT_LIMIT:,} or more)",
                   "check the cell for a stray digit, or an ID pasted into the column")
    return int(number)


def _money(value: Any, col: m.Column) -> int:
    number = _number(value, col)
    if abs(number) >= m.MONEY_LIMIT:
        raise _Bad(f"{col.name} is {number:,.2f}, beyond any real amount (${m.MONEY_LIMIT:,} or more)",
                   "check the amount for a stray digit, or an ID pasted into the amount column")
    return to_cents(value if isinstance(value, Decimal) else number)   # a Decimal's own digits


def _in_range(day: dt.date, col: m.Column) -> pd.Timestamp:
    if not m.FIRST_YEAR <= day.year <= m.LAST_YEAR:
        raise _Bad(f"{col.name} is {day:%m/%d/%Y}, outside the years payorxl reads ({m.FIRST_YEAR}-{m.LAST_YEAR})",
                   "check the year; for a rate or contract with no end date, leave the end date blank")
    return pd.Timestamp(day)


def _date(value: Any, col: m.Column) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        return _in_range(value.date(), col)
    if isinstance(value, dt.date):
        return _in_range(value, col)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if MIN_SERIAL <= value <= MAX_SERIAL:
            return pd.Timestamp(serial_to_datetime(int(value)))
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


@dataclass
class Converted:
    """A table converted: the good rows as a typed frame, the errors, and the Excel
    rows left out because of them."""
    frame: pd.DataFrame
    errors: list[DataError] = field(default_factory=list)
    rejected: set[int] = field(default_factory=set)
    columns: dict[str, int] = field(default_factory=dict)   # key -> position in the grid read
    headers: list[str] = field(default_factory=list)       # the header row read, every column's


def empty_frame(table: m.Table) -> pd.DataFrame:
    """The table's typed frame with no row (a copy: the caller may add to it)."""
    return _empty_frame(table).copy()


@functools.cache
def _empty_frame(table: m.Table) -> pd.DataFrame:
    return typed_frame(table, []).frame


def _objects(values) -> np.ndarray:
    """A 1-D object array of the values (a list, tuple or array of cells)."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    a = np.empty(len(values), dtype=object)
    a[:] = list(values)
    return a


def filled(n: int, value) -> np.ndarray:
    """An object array of `n` references to `value` (np.full would convert a str to a
    numpy string and back, a new str per cell: 9 ms and 100,000 objects at 100,000 rows,
    which every later pass over the column then reads)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def upper(values: pd.Series) -> pd.Series:
    """A text column in upper case, for matching keys regardless of case; mapped at C
    speed (pandas' .str methods call a Python function per cell)."""
    try:
        out = list(map(str.upper, values.to_numpy(dtype=object)))   # not the Series: its iterator is slower
    except TypeError:   # not all str: a column that did not come through conversion
        out = [str(v).upper() for v in values]
    return pd.Series(out, index=values.index, dtype=object)


def _missing(a: np.ndarray) -> np.ndarray:
    """The cells that are no value at all (None, NaN, NaT, NA), as `is_na` says. pandas
    finds them in one C pass; it also counts a Decimal or numpy NaN/NaT as missing,
    which `is_na` does not, so those few are checked again one by one."""
    na = pd.isna(a)
    if not na.any():
        return na
    if na.all():                       # an empty column: one comparison with None for it all
        suspects = np.flatnonzero(a != None)  # noqa: E711 (elementwise; None is blank)
    else:
        suspects = np.flatnonzero(na)
        suspects = suspects[a[suspects] != None]  # noqa: E711 (elementwise; None is blank)
    if len(suspects):
        kept = np.fromiter((not is_na(v) or _is_nan(v) for v in a[suspects]), dtype=bool, count=len(suspects))
        na[suspects[kept]] = False
    return na


def _is_nan(value) -> bool:
    """A float NaN in a cell: a value that is not a number (a file written by another
    program), not an empty cell — reported as such, never taken for a blank."""
    return isinstance(value, float) and value != value


# What pandas infers for a column that holds no missing value at all (None, NaN, NaT).
_NO_MISSING = ("string", "integer", "decimal", "empty")
# What pandas infers for a column that holds no text (so no empty "" cell either).
_NO_TEXT = ("floating", "integer", "mixed-integer-float", "decimal", "date", "datetime", "empty")


_DATE_TYPES = (dt.datetime, dt.date, pd.Timestamp)


def _day_numbers(dates: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of date/datetime objects (the date only, as written: a
    time of day and a time zone are dropped). `date.toordinal` mapped at C speed reads
    each object's own year, month and day: faster than pd.to_datetime and its casts, and
    the same for any year and any mix of time zones. Raises TypeError for a cell that is
    not a date (None, a number); pd.NaT, a datetime underneath, reads as day 1 of year 1."""
    return np.fromiter(map(dt.date.toordinal, dates.tolist()), dtype=np.int64, count=len(dates)) - _UNIX_ORDINAL


def _floats(numbers: np.ndarray) -> np.ndarray:
    """Decimals as float64 in one step (NaN for one that refuses, a signalling NaN)."""
    try:
        return numbers.astype("float64")
    except (ValueError, TypeError, OverflowError):
        return np.array([_float_or_nan(v) for v in numbers], dtype="float64")


def _decimal_floats(decimals: np.ndarray) -> np.ndarray:
    """`_floats` of a column of Decimals. A long column whose first _SAMPLE cells are nearly
    all zero (interest, sequestration, a denied amount: zero on most lines) converts only
    its nonzero cells: telling a zero Decimal is a flag test, converting one goes through
    its text, so such a column of 100,000 new cells costs 6-7 ms instead of 9-10. (A pass
    over cells new from Excel is dear whatever it does, each cell a cache miss: with more
    than one cell in eight nonzero, the extra pass costs more than it saves.) The floats
    are the same either way: a zero is 0.0 (pywin32 makes no negative zero; one reads as
    0 cents all the same)."""
    if len(decimals) < _CODES_FROM or np.count_nonzero(decimals[:_SAMPLE].astype(bool)) * 8 > _SAMPLE:
        return _floats(decimals)
    nonzero = np.flatnonzero(decimals.astype(bool))   # (a NaN Decimal is nonzero: converted, refused later)
    out = np.zeros(len(decimals), dtype="float64")
    out[nonzero] = _floats(decimals[nonzero])
    return out


def _float_or_nan(value) -> float:
    try:
        return float(value)
    except (ValueError, TypeError, OverflowError):
        return float("nan")


def _whole_column(a: np.ndarray, inferred: str, col: m.Column) -> tuple[pd.Series, np.ndarray] | None:
    """The column converted in one pass when every cell is a float or Decimal (a numeric
    column) or a date or blank (a date column) and none is out of range, exactly as
    `_column` would convert it, with its blank cells; None for any other column, which
    `_column` converts as usual. (Each series is made of a new array: it need not copy it.)"""
    n = len(a)
    if not n:
        return None
    none = np.zeros(n, dtype=bool)    # no cell blank
    if inferred in ("date", "datetime") and col.kind == m.DATE:
        # Dates and blanks, the commonest date column. Its cells are dates, or None, NaN or
        # NaT (what pandas infers so): each compares with None as itself.
        none = a == None  # noqa: E711 (elementwise)
        dated = np.flatnonzero(~none) if none.any() else None
        try:
            days = _day_numbers(a if dated is None else a[dated])
        except TypeError:              # a NaN among the dates
            return None
        if ((days < _FIRST_DAY) | (days > _LAST_DAY)).any():   # (pd.NaT among them too)
            return None
        stamps = days.astype("datetime64[D]").astype("datetime64[ns]")
        if dated is not None:
            stamps, converted = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"), stamps
            stamps[dated] = converted
        return pd.Series(stamps, copy=False), none
    if inferred == "decimal" and col.kind == m.MONEY:   # currency-formatted cells through pywin32
        # (each Decimal converted on its own: one made by pywin32 for each cell of each
        # call has no hash worked out yet, and hashing it costs four times its float)
        nums = _decimal_floats(a)
        if not _in_bounds(nums, col).all():
            return None
        # the cents of each Decimal itself, as to_cents rounds it
        cents = decimal_cents(a, nums).astype("int64")
        return pd.Series(pd.arrays.IntegerArray(cents, np.zeros(n, dtype=bool))), none
    if inferred != "floating" or col.kind not in (m.MONEY, m.INT, m.NUMBER, m.PERCENT):
        return None
    nums = a.astype("float64")
    ok = _in_bounds(nums, col)
    if not ok.all():
        return None
    fine = np.zeros(n, dtype=bool)    # no cell missing
    if col.kind == m.MONEY:
        return pd.Series(pd.arrays.IntegerArray(cents_array(nums).astype("int64"), fine)), none
    if col.kind == m.INT:
        return pd.Series(pd.arrays.IntegerArray(nums.astype("int64"), fine)), none
    return pd.Series(pd.arrays.FloatingArray(nums, fine)), none


def _text_column(a: np.ndarray, default: str) -> tuple[pd.Series, np.ndarray] | None:
    """A text column whose every cell is text or None (an empty cell), none of the text
    white space only, stripped in one pass, with its blank cells (the None ones, which
    hold `default`): exactly as `_column` would read it; None for any other (str.strip
    refuses a cell that is neither, as pandas would infer). Tried before pandas infers the
    column's type: this pass tells it, and a column's first pass over its cells is its
    dearest."""
    distinct = _sample_distinct(a)
    if distinct is not None and len(distinct) == 1 and all_equal(a, next(iter(distinct))):
        text = a[0].strip()           # one text throughout (a place of service, a claim type)
        return (pd.Series(filled(len(a), text or default), dtype=object, copy=False),
                np.full(len(a), text == "", dtype=bool))
    if distinct is not None and len(distinct) <= _FEW:
        coded = _coded_text_column(a, default)
        if coded is not None:
            return coded
    blank = np.zeros(len(a), dtype=bool)
    try:
        stripped = _stripped(a)
    except TypeError:                  # a cell not text: None (an optional column), a number
        try:
            blank = np.asarray(a == None, dtype=bool)  # noqa: E711 (elementwise: None is an empty cell)
            stripped = _stripped(a[~blank])
        except (TypeError, ValueError):   # a number, a date, pd.NA...: read cell by cell, which says what
            return None
    if not stripped.astype(bool).all():   # a cell of white space only: blank
        return None
    if blank.any():
        out = filled(len(a), default)
        out[~blank] = stripped
        stripped = out
    return pd.Series(stripped, dtype=object, copy=False), blank


# A text column of at least this many cells whose first _SAMPLE cells hold at most
# _FEW distinct values (a payor, CPT, place of service: a code column) is read through its
# distinct values (_coded_text_column).
_CODES_FROM, _SAMPLE, _FEW = 4096, 1024, 64


def _sample_distinct(a: np.ndarray) -> set | None:
    """The distinct values of a long column's (at least _CODES_FROM cells) first _SAMPLE
    cells; None for a shorter column, or a cell that refuses a hash (read as usual, which
    says what is wrong)."""
    if len(a) < _CODES_FROM:
        return None
    try:
        return set(a[:_SAMPLE].tolist())
    except TypeError:
        return None


def all_equal(a: np.ndarray, value) -> bool:
    """Whether every cell is text equal to `value`, a str (one comparison a cell, at C
    speed: half the cost of hashing each, which a column of cells that are each a new
    object from Excel pays in full)."""
    if type(value) is not str:  # noqa: E721 (exactly str, as str.strip takes)
        return False
    try:
        return bool(np.all(a == value))
    except (TypeError, ValueError):   # pd.NA refuses a truth value: read as usual, which names it
        return False


def _coded_text_column(a: np.ndarray, default: str) -> tuple[pd.Series, np.ndarray] | None:
    """`_text_column` for a column of few distinct texts, read through them: each distinct
    text is stripped once, and the column holds one str object per distinct text. Cells
    arrive from Excel as a new object each, scattered over memory in row order; every later
    pass over the column (each grouping and match of the checks and the engine) then reads
    a handful of objects instead of 100,000. Each cell reads as `_column` reads it on its own
    (a cell of white space only, or "", is blank); None for a column holding anything but
    text and empty cells (None), which `_column` reads cell by cell and says what is wrong."""
    try:
        codes, distinct = pd.factorize(a)  # None (an empty cell), NaN, NaT, pd.NA: code -1
    except TypeError:                  # a cell that refuses a hash (a signalling NaN Decimal)
        return None
    distinct = np.asarray(distinct, dtype=object)
    if not all(type(t) is str for t in distinct.tolist()):   # noqa: E721 (exactly str, as str.strip takes)
        return None
    one: dict[str, str] = {}           # (" Aetna" and "Aetna" strip to one object too)
    stripped = [one.setdefault(t, t) for t in map(str.strip, distinct.tolist())]
    missing = codes < 0
    if missing.any() and not (a[missing] == None).all():   # noqa: E711 (elementwise: a NaN, NaT or NA)
        return None
    # (code -1, the last entry: an empty cell; "" or white space only is an empty cell too,
    # as python-calamine reads one: each takes the default)
    empty = np.array([t == "" for t in stripped] + [True], dtype=bool)
    values = np.array([default if t == "" else t for t in stripped] + [default], dtype=object)
    return pd.Series(values[codes], dtype=object, copy=False), empty[codes]


def _unread_text_column(a: np.ndarray) -> tuple[pd.Series, np.ndarray] | None:
    """An optional text column its caller never reads (typed_columns' `unread`), when every
    cell is text or empty (None): no such cell can be an error, so the cells are checked
    for that alone (a pass over their types) and kept as they came, not stripped (a
    str.strip call per cell: the dearest part of reading a text column). The blank mask
    holds the None cells only: a cell of white space is blank too, which typed_columns
    works out for the few rows where it matters. None for any other column, which
    `_column` reads as usual and says what is wrong."""
    if pd.api.types.infer_dtype(a, skipna=False) == "string":   # every cell text: a pass over their types
        return pd.Series(a, dtype=object, copy=False), np.zeros(len(a), dtype=bool)
    # (pd.isna would also find NaN, NaT and NA, which must be read to be named, but costs
    # three times this comparison: 15 ms a column of 100,000 new objects against 5)
    try:
        none = np.asarray(a == None, dtype=bool)  # noqa: E711 (elementwise: None is an empty cell)
    except (TypeError, ValueError):   # pd.NA refuses a truth value: read cell by cell, which names it
        return None
    if not none.all() and pd.api.types.infer_dtype(a[~none], skipna=False) != "string":
        return None                   # a NaN, a number, a date...: read cell by cell, which says what
    return pd.Series(a, dtype=object, copy=False), none


def _stripped(strings: np.ndarray) -> np.ndarray:
    """Every string stripped: str.strip mapped at C speed over the array's list (iterating
    an object array itself costs twice as much). TypeError for a cell that is not text."""
    return np.fromiter(map(str.strip, strings.tolist()), dtype=object, count=len(strings))


def _in_bounds(nums: np.ndarray, col: m.Column) -> np.ndarray:
    """The numbers the per-cell converters take as they are (finite, within the column's
    minimum and maximum and the money or count limit, whole for a count); the others go
    through them, which say what is wrong."""
    ok = np.isfinite(nums)
    if col.kind == m.MONEY:
        ok &= np.abs(nums) < m.MONEY_LIMIT
    if col.minimum is not None:
        ok &= nums >= col.minimum
    if col.maximum is not None:
        ok &= nums <= col.maximum
    if col.kind == m.INT:
        ok &= (nums == np.floor(nums)) & (np.abs(nums) < m.INT_LIMIT)
    return ok


# Excel's cell errors as pywin32 hands them over (an int: the error's SCODE), which the PX_
# formulas receive as they come (excel.udfs.TableValues): #DIV/0!, #N/A, #NAME?, #NULL!,
# #NUM!, #REF!, #VALUE! (the codes of xlwings' own table, xlwings/_xlwindows.py).
EXCEL_ERRORS = frozenset({-2146826281, -2146826246, -2146826259, -2146826288, -2146826252, -2146826265,
                          -2146826273})
# What pandas infers for a column that may hold an int (no other column can hold an error code).
_MAY_HOLD_INTS = ("integer", "integer-na", "mixed-integer", "mixed-integer-float", "mixed")


def _excel_errors_blank(a: np.ndarray, inferred: str) -> tuple[np.ndarray, str]:
    """The column with each Excel error code as None, an empty cell, as xlwings' default
    converter reads an error cell and as a saved workbook reads one (calamine gives ""),
    with what pandas infers of it then; the column itself when it holds none."""
    ints = np.flatnonzero(np.fromiter(map(type, a.tolist()), dtype=object, count=len(a)) == int)  # noqa: E721
    errors = ints[np.fromiter((v in EXCEL_ERRORS for v in a[ints].tolist()), dtype=bool, count=len(ints))]
    if not len(errors):
        return a, inferred
    a = a.copy()
    a[errors] = None
    return a, pd.api.types.infer_dtype(a, skipna=False)


def _shown(value):
    """A cell as an error message names it: an Excel error code as the empty cell it reads as."""
    return None if type(value) is int and value in EXCEL_ERRORS else value  # noqa: E721


def _column(values, col: m.Column, read: bool = True) -> tuple[pd.Series, dict[int, _Bad], np.ndarray]:
    """Convert one column of raw Excel values. Returns the typed series (blanks and bad
    cells hold the default), the bad cells by position, and a mask of the blank cells.

    read=False: the caller never reads the column's values (typed_columns' `unread`); an
    optional text column of text and empty cells is then only checked
    (`_unread_text_column`: its values as they came, its None cells as the blank mask).

    The common cases — numbers (float, int, Decimal) in numeric columns, dates in date
    columns, text in text columns, blanks anywhere — are converted a whole column at a
    time with pandas/numpy; any other cell (a number in a text column, text in a date
    column, a bool, a whitespace-only cell) goes through the per-cell converters, which
    also say what is wrong."""
    a = _objects(values)
    n = len(a)
    if not read and n and col.kind == m.TEXT and not col.required:
        unread = _unread_text_column(a)
        if unread is not None:
            return unread[0], {}, unread[1]
    text = _text_column(a, "" if col.default is None else col.default) if n and col.kind == m.TEXT else None
    if text is not None:              # the commonest column: every cell text (or empty)
        return text[0], {}, text[1]
    if n and col.kind == m.CHOICE:   # one choice throughout (a claim type, a frequency): no hashing
        distinct = _sample_distinct(a)
        if distinct is not None and len(distinct) == 1:
            value = next(iter(distinct))
            choice = ({c.lower(): c for c in col.choices}.get(value.strip().lower())
                      if type(value) is str else None)  # noqa: E721 (exactly str)
            if choice is not None and all_equal(a, value):
                return pd.Series(filled(n, choice), dtype=object, copy=False), {}, np.zeros(n, dtype=bool)
    inferred = pd.api.types.infer_dtype(a, skipna=False) if n else "empty"
    whole = _whole_column(a, inferred, col)
    if whole is not None:             # every cell of the kind (or blank), none out of range
        return whole[0], {}, whole[1]
    if inferred in _MAY_HOLD_INTS:
        a, inferred = _excel_errors_blank(a, inferred)
    if inferred in _NO_MISSING:       # one type throughout and no None: no blank cell to look for
        blank, rest, present = np.zeros(n, dtype=bool), np.arange(n), a
    else:
        blank = _missing(a)
        rest = np.flatnonzero(~blank)
        present = a[rest]
        inferred = pd.api.types.infer_dtype(present, skipna=False) if len(present) else "empty"
    if inferred not in _NO_TEXT and not (inferred == "string" and col.kind in (m.TEXT, m.CHOICE)):
        empty = present == ""                              # calamine's empty cell
        if empty.any():
            blank[rest[empty]] = True
            rest, present = rest[~empty], present[~empty]
            inferred = pd.api.types.infer_dtype(present, skipna=False) if len(present) else "empty"
    bad: dict[int, _Bad] = {}

    def slow(i):
        i = int(i)
        if _is_nan(a[i]):
            blank[i] = False
            bad[i] = _Bad(f"{col.name} is NaN (not a number), not a value",
                          "type the value, or clear the cell if it has none")
            return col.default
        if is_blank(a[i]):
            blank[i] = True
            return col.default
        try:
            return CONVERTERS[col.kind](a[i], col)
        except _Bad as b:
            bad[i] = b
            return col.default

    if col.kind in (m.TEXT, m.CHOICE):
        default = "" if col.default is None else col.default
        # (calamine's "" cells are blank here because they strip to "")
        if inferred == "string":
            text, odd = rest, np.zeros(0, dtype=np.int64)
        else:
            kinds = np.fromiter(map(type, present), dtype=object, count=len(present))
            is_str = kinds == str  # noqa: E721 (elementwise, over the cells' types)
            text, odd = rest[is_str], rest[~is_str]
        whole = len(text) == n                             # every cell text
        numbers = np.zeros(0, dtype=np.int64)
        if col.kind == m.TEXT and len(odd):
            # Numbers in a text column (CPT 99213, a payor claim number typed as a number)
            # are read by _text itself, without the per-cell checks of `slow` (a number
            # other than NaN is never blank; a NaN still goes through `slow`, an error).
            other = kinds[~is_str]
            number = (other == float) | (other == int)  # noqa: E721 (elementwise)
            number[number] = np.fromiter((v == v for v in a[odd[number]]), dtype=bool, count=int(number.sum()))
            numbers, odd = odd[number], odd[~number]
        if col.kind == m.TEXT:
            stripped = _stripped(a if whole else a[text])
            if not stripped.astype(bool).all():            # white space only: blank
                empty = stripped == ""
                blank[text[empty]] = True
                text, stripped = text[~empty], stripped[~empty]
            if len(text) == n:
                out = stripped                             # every cell text: nothing to fill
            else:
                out = filled(n, default)
                out[text] = stripped
                if len(numbers):
                    out[numbers] = [_text(v, col) for v in a[numbers]]
        else:
            # A handful of distinct choices: each distinct text stripped and looked up once,
            # then spread by its code. (One hashing pass over the cells: each arrives from
            # Excel as an object of its own, and reading it is the cost.)
            lookup = {c.lower(): c for c in col.choices}
            codes, distinct = pd.factorize(a if whole else a[text])    # (every cell text: no code -1)
            stripped = [t.strip() for t in distinct.tolist()]
            found = [lookup.get(t.lower()) for t in stripped]
            mapped = np.array(found, dtype=object)[codes]
            empty = np.zeros(len(codes), dtype=bool)
            if "" in stripped:
                empty = np.array([t == "" for t in stripped], dtype=bool)[codes]
                blank[text[empty]] = True
            if whole and None not in found:
                out = mapped                               # every cell a choice: nothing to fill
            else:
                known = mapped != None  # noqa: E711 (elementwise: a choice, or None)
                out = filled(n, default)
                out[text[known]] = mapped[known]
                odd = np.concatenate([odd, text[~known & ~empty]])
        for i in odd:
            v = slow(i)
            out[i] = default if v is None else v
        return pd.Series(out, dtype=object, copy=False), bad, blank   # (a new array)

    if col.kind == m.DATE:
        stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        if inferred in ("date", "datetime"):
            dated, odd = rest, np.zeros(0, dtype=np.int64)
        else:
            is_date = np.fromiter((isinstance(v, _DATE_TYPES) for v in present), dtype=bool,
                                  count=len(present))
            dated, odd = rest[is_date], rest[~is_date]
        if len(dated):
            days = _day_numbers(a[dated] if len(dated) < n else a)
            # A year outside FIRST_YEAR..LAST_YEAR is a data error (the per-cell converter
            # says so), never a date wrapped round past the engine's range.
            outside = (days < _FIRST_DAY) | (days > _LAST_DAY)
            days = np.where(outside, 0, days)
            converted = days.astype("datetime64[D]").astype("datetime64[ns]")
            converted[outside] = np.datetime64("NaT")
            if len(dated) == n:
                stamps = converted
            else:
                stamps[dated] = converted
            odd = np.concatenate([odd, (dated if len(dated) < n else np.arange(n))[outside]])
        for i in odd:
            v = slow(i)
            if v is not None and v is not pd.NaT and int(i) not in bad:
                stamps[i] = np.datetime64(pd.Timestamp(v).to_datetime64(), "ns")
        return pd.Series(stamps, copy=False), bad, blank   # (a new array)

    # Numeric kinds: floats and ints (not bools), and Decimals (currency-formatted cells
    # through pywin32), each kind in one vectorised pass.
    nums = np.zeros(n, dtype="float64")
    numeric = np.zeros(n, dtype=bool)
    decimals = np.zeros(0, dtype=np.int64)
    if inferred in ("floating", "integer", "mixed-integer-float"):
        floats = rest
    elif inferred == "decimal":
        floats, decimals = np.zeros(0, dtype=np.int64), rest
    elif len(present):
        kinds = np.fromiter((1 if t is float or t is int else 2 if t is Decimal else 0
                             for t in map(type, present)), dtype=np.int8, count=len(present))
        floats, decimals = rest[kinds == 1], rest[kinds == 2]
    else:
        floats = rest
    nums[floats] = a[floats].astype("float64")
    numeric[floats] = True
    exact_cents = None
    if len(decimals):
        nums[decimals] = _floats(a[decimals])
        numeric[decimals] = True
        if col.kind == m.MONEY:      # the cents of the Decimal itself, as to_cents rounds it
            exact_cents = decimal_cents(a[decimals], nums[decimals])
    ok = numeric & _in_bounds(nums, col)
    overrides = {}
    for i in np.flatnonzero(~ok & ~blank):
        value = slow(i)  # says why the cell is bad, or converts an odd type (a numpy bool...)
        if int(i) not in bad and not blank[i]:
            overrides[int(i)] = value
    default = col.default
    if col.kind in (m.INT, m.MONEY):
        if col.kind == m.MONEY:
            default = None if default is None else to_cents(default)
            whole = cents_array(nums)   # half away from zero, as to_cents rounds
            if exact_cents is not None:
                whole[decimals] = exact_cents
        else:
            whole = nums
        data = np.where(ok, whole, 0 if default is None else default).astype("int64")
        series = pd.Series(pd.arrays.IntegerArray(data, ~ok if default is None else np.zeros(n, dtype=bool)))
        for i, v in overrides.items():
            series.iat[i] = v
        return series, bad, blank
    data = np.where(ok, nums, np.nan if default is None else default)
    series = pd.Series(pd.arrays.FloatingArray(data, ~ok if default is None else np.zeros(n, dtype=bool)))
    for i, v in overrides.items():
        series.iat[i] = v
    return series, bad, blank


_UNIX_ORDINAL = dt.date(1970, 1, 1).toordinal()
_FIRST_DAY = dt.date(m.FIRST_YEAR, 1, 1).toordinal() - _UNIX_ORDINAL
_LAST_DAY = dt.date(m.LAST_YEAR, 12, 31).toordinal() - _UNIX_ORDINAL


def typed_frame(table: m.Table, records: Iterable[dict], sheet: str | None = None,
                rows: Sequence[int] | None = None) -> Converted:
    """Convert records (dicts keyed by column key *or* header name, holding raw Excel
    values) into the engine frame for `table`.

    rows: the Excel row of each record (for error references); default 2, 3, ...
    Missing optional columns take their default; a missing required column is one error
    for the whole table.
    """
    records = list(records)
    by_name = {c.name: c.key for c in table.columns}
    records = [{by_name.get(k, k): v for k, v in r.items()} for r in records]
    return typed_columns(table, {c.key: [r.get(c.key) for r in records] for c in table.columns
                                 if any(c.key in r for r in records)},
                         len(records), sheet, rows)


def typed_columns(table: m.Table, columns: dict[str, Sequence], n: int, sheet: str | None = None,
                  rows: Sequence[int] | None = None, skip_blank_rows: bool = False,
                  unread: Collection[str] = ()) -> Converted:
    """Like `typed_frame`, from raw values column by column (the fast path for a grid).
    skip_blank_rows: leave out, silently, rows whose every given column is blank.
    unread: keys of columns the caller never reads (a PX_ formula's figures never read a
    payor's claim number): each is checked for errors as every column is, but an optional
    text column's values may be left as they came, unstripped (`_column`'s read=False).
    The rows kept and the errors are the same either way."""
    sheet = sheet or table.name
    rows = np.asarray(rows if rows is not None else range(2, 2 + n), dtype=np.int64)
    converted = {}
    for col in table.columns:
        values = columns.get(col.key)
        converted[col.key] = _column([None] * n if values is None else values, col, col.key not in unread)
    empty = np.zeros(n, dtype=bool)
    if skip_blank_rows and columns:
        empty = np.logical_and.reduce([converted[k][2] for k in columns if k in converted])
        # An unread column's blank mask holds its None cells only: on a row whose every
        # column read is blank, its cells of white space are blank too (as they read when read).
        skimmed = [k for k in columns if k in unread and k in converted]
        if skimmed:
            read_blank = np.logical_and.reduce([converted[k][2] for k in columns if k in converted
                                                and k not in unread] + [np.ones(n, dtype=bool)])
            for i in np.flatnonzero(read_blank & ~empty):
                empty[i] = all(converted[k][2][i] or (type(columns[k][i]) is str   # noqa: E721 (exactly str)
                                                      and columns[k][i].strip() == "") for k in skimmed)
        if empty.all():
            return Converted(empty_frame(table))

    errors: list[tuple[int, int, DataError]] = []
    order = {c.key: j for j, c in enumerate(table.columns)}
    for col in table.columns:
        _, bad, blank = converted[col.key]
        if columns.get(col.key) is None:
            if n and col.required:
                errors.append((0, -1, DataError(CellRef(sheet, 1, col.name), None,
                                                f"the required column '{col.name}' is missing",
                                                f"add a column headed '{col.name}' to the {table.name} table")))
                errors.extend((int(r), order[col.key], None) for r in rows)   # rejects every row
            continue
        values = columns[col.key]
        if col.required:
            for i in np.flatnonzero(blank & ~empty):
                errors.append((int(rows[i]), order[col.key], DataError(
                    CellRef(sheet, int(rows[i]), col.name), _shown(values[i]), f"{col.name} is required and blank",
                    f"fill in the {col.name.lower()}: {col.description}", phi=col.phi)))
        for i, b in bad.items():
            errors.append((int(rows[i]), order[col.key], DataError(
                CellRef(sheet, int(rows[i]), col.name), _shown(values[i]), b.message, b.fix, phi=col.phi)))
    rejected = {r for r, _, e in errors if r}
    errors.sort(key=lambda t: (t[0], t[1]))

    # (each column a new array of its own: no copy needed to make it the frame's)
    frame = pd.DataFrame({key: c[0] for key, c in converted.items()}, copy=False)
    frame[ROW] = pd.Series(rows, dtype="int64")
    keep = ~empty
    if rejected:
        keep &= ~np.isin(rows, list(rejected))
    if not keep.all():
        frame = frame[keep].reset_index(drop=True)
    return Converted(frame, [e for _, _, e in errors if e is not None], rejected)


def table_from_grid(table: m.Table, grid: Sequence[Sequence[Any]], sheet: str | None = None,
                    first_row: int = 1, unread: Collection[str] = ()) -> Converted:
    """A 2-D grid whose first row is the header (as an Excel range or UDF argument
    arrives) to a typed frame. Unknown headers (the user's own columns, calculated
    columns) are ignored; trailing empty rows are dropped. unread: typed_columns'."""
    sheet = sheet or table.name
    if not grid:
        return Converted(empty_frame(table))
    index = header_index(table, grid[0])
    body = grid[1:]
    if not body or not index:
        return Converted(empty_frame(table))
    cells = object_grid(body, max(index.values()) + 1)
    rows = np.arange(first_row + 1, first_row + 1 + len(body))
    # Empty rows (calculated columns alone do not make a record) are skipped by typed_columns.
    return typed_columns(table, {key: cells[:, i] for key, i in index.items()}, len(body), sheet,
                         rows, skip_blank_rows=True, unread=unread)


def header_index(table: m.Table, header: Sequence[Any]) -> dict[str, int]:
    """Column key -> position, for the headers of `table` found in a header row (by
    header name or key, any case); other headers are ignored."""
    known = {c.name.lower(): c.key for c in table.columns}
    known.update({c.key: c.key for c in table.columns})
    names = [("" if h is None else str(h).strip().lower()) for h in header]
    return {known[h]: i for i, h in enumerate(names) if h in known}


def object_grid(body: Sequence[Sequence[Any]], width: int) -> np.ndarray:
    """Rows of cells as a 2-D object array at least `width` wide (short rows padded
    with None), laid out in one C pass by pandas' own list-of-lists reader (the first
    step of ``pd.DataFrame(rows)``, without the frame's blocks and length checks)."""
    try:
        from pandas._libs.lib import to_object_array
    except ImportError:     # a pandas without it: the same array through a frame
        lengths = set(map(len, body))
        if len(lengths) > 1 or min(lengths, default=width) < width:
            width = max(width, *lengths)
            body = [list(r) + [None] * (width - len(r)) for r in body]
        return pd.DataFrame(body, dtype=object, copy=False).to_numpy(dtype=object)
    return to_object_array(body if isinstance(body, list) else list(body), min_width=width)
