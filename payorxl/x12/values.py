"""Element text to engine values, and lists of values to typed frames.

X12 amounts are decimal text ("1200.5", "-13.65"); they become integer cents with
integer arithmetic (Decimal, rounding half up, when a value has more than two decimals),
never through a float. Dates are CCYYMMDD text; they become ``datetime64[ns]`` at
midnight, like every date in the engine. A value that is not what its element should
hold raises `BadValue`; the readers turn that into a warning and go on.

`table_frame` builds a frame shaped as one of the tables in ``model.py`` from columns
already converted (money in cents), with the same dtypes ``conversion.typed_frame`` gives:
text as ``object`` str, money and whole numbers as ``Int64``, dates as
``datetime64[ns]``.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter

import numpy as np
import pandas as pd

from .. import model as m

MAX_WHOLE_DIGITS = 13   # X12 R elements hold at most 18 characters; keeps cents in Int64
MIN_YEAR, MAX_YEAR = 1900, 2199


class BadValue(ValueError):
    """An element's text is not the kind of value the element holds."""


def cents(text: str) -> int:
    """Decimal text to integer cents: "1200.5" -> 120050, "-13.65" -> -1365.

    Accepts an optional sign, digits and one decimal point, nothing else (no exponent,
    no thousands separators, no "NaN"); raises BadValue otherwise."""
    s = text.strip()
    negative = s[:1] == "-"
    if negative or s[:1] == "+":
        s = s[1:]
    whole, _, frac = s.partition(".")
    if not s.isascii() or (whole and not whole.isdigit()) or (frac and not frac.isdigit()) \
            or not (whole or frac) or len(whole) > MAX_WHOLE_DIGITS:
        raise BadValue(text)
    if len(frac) <= 2:
        value = int(whole or "0") * 100 + int((frac + "00")[:2])
    else:
        value = int((Decimal(f"{whole or '0'}.{frac}") * 100).quantize(Decimal(1),
                                                                          rounding=ROUND_HALF_UP))
    return -value if negative else value


def dollars(amount: int) -> str:
    """Integer cents as dollars text for a message: 120050 -> "1200.50"."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def number(text: str) -> float:
    """Decimal text that is not money (units, quantities) to a float; BadValue when it is
    not plain decimal text."""
    s = text.strip()
    body = s[1:] if s[:1] in "+-" else s
    whole, _, frac = body.partition(".")
    if not body.isascii() or (whole and not whole.isdigit()) or (frac and not frac.isdigit()) \
            or not (whole or frac) or len(whole) > 15:
        raise BadValue(text)
    return float(s)


def whole_number(text: str, low: int = 1, high: int = 99999) -> int | None:
    """Digits-only text within [low, high] to an int, else None (not an error: callers
    use it to decide whether an identifier is also a line number)."""
    s = text.strip()
    if s and len(s) <= 9 and s.isascii() and s.isdigit():
        value = int(s)
        if low <= value <= high:
            return value
    return None


class Dates:
    """CCYYMMDD text checked once per distinct value (remittances repeat the same few
    dates thousands of times)."""

    def __init__(self):
        self._seen: dict[str, bool] = {}

    def check(self, text: str) -> str:
        """`text` if it is a real calendar date between 1900 and 2199, else BadValue."""
        ok = self._seen.get(text)
        if ok is None:
            ok = _is_date(text)
            self._seen[text] = ok
        if not ok:
            raise BadValue(text)
        return text


def _is_date(text: str) -> bool:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return False
    year = int(text[:4])
    if not MIN_YEAR <= year <= MAX_YEAR:
        return False
    try:
        dt.date(year, int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True


def date_series(values) -> pd.Series:
    """Checked CCYYMMDD strings (or None) to datetime64[ns]."""
    s = pd.Series(list(values), dtype=object)
    if s.empty:
        return pd.Series([], dtype="datetime64[ns]")
    return pd.to_datetime(s, format="%Y%m%d", errors="coerce").astype("datetime64[ns]")


def int_series(values) -> pd.Series:
    values = values if isinstance(values, (list, tuple)) else list(values)
    if None not in values:
        return pd.Series(pd.array(np.array(values, dtype="int64"), dtype="Int64"))
    return pd.Series(pd.array(list(values), dtype="Int64"))


def text_series(values) -> pd.Series:
    values = values if isinstance(values, (list, tuple)) else list(values)
    if None in values:
        values = ["" if v is None else v for v in values]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return pd.Series(out, dtype=object)


def float_series(values) -> pd.Series:
    values = values if isinstance(values, (list, tuple)) else list(values)
    if None not in values:
        return pd.Series(pd.array(np.array(values, dtype="float64"), dtype="Float64"))
    return pd.Series(pd.array(list(values), dtype="Float64"))


def column_series(kind: str, values) -> pd.Series:
    """Values of one model column kind (money already in cents) to its engine dtype."""
    if kind in (m.TEXT, m.CHOICE):
        return text_series(values)
    if kind in (m.INT, m.MONEY):
        return int_series(values)
    if kind == m.DATE:
        values = list(values)
        if values and not isinstance(values[0], str) and values[0] is not None:
            return pd.Series(values, dtype="datetime64[ns]")
        return date_series(values)
    return float_series(values)


def object_column(kind: str, values: np.ndarray) -> pd.Series:
    """An object array (None for blank; money in cents; dates as CCYYMMDD text) to the
    engine dtype of a model column kind, vectorised."""
    blank = pd.isna(values)
    if blank.any():
        values = values.copy()
        values[blank] = {m.TEXT: "", m.CHOICE: "", m.DATE: None}.get(kind, 0)
    if kind in (m.TEXT, m.CHOICE):
        return pd.Series(values, dtype=object)
    if kind in (m.INT, m.MONEY):
        return pd.Series(pd.arrays.IntegerArray(values.astype("int64"), blank))
    if kind == m.DATE:
        return date_series(values)
    return pd.Series(pd.arrays.FloatingArray(values.astype("float64"), blank))


def table_frame(table: m.Table, columns: dict, length: int | None = None) -> pd.DataFrame:
    """A frame with `table`'s columns in model order (plus any extra entries of `columns`
    after them). Each entry is a Series (used as is) or a list converted by the column's
    kind; a model column not given takes its default on every row."""
    if length is None:
        length = len(next(iter(columns.values()))) if columns else 0
    out = {}
    for col in table.columns:
        given = columns.get(col.key)
        if given is None:
            given = [col.default] * length
        out[col.key] = (given.reset_index(drop=True) if isinstance(given, pd.Series)
                        else column_series(col.kind, given))
    for key, given in columns.items():
        if key not in out:
            out[key] = given.reset_index(drop=True) if isinstance(given, pd.Series) else \
                pd.Series(list(given), dtype=object)
    return pd.DataFrame(out, index=pd.RangeIndex(length))


# The kinds a reader's record attribute may have, and the model kind each is converted as.
RECORD_KINDS = {"text": m.TEXT, "int": m.INT, "money": m.MONEY, "date": m.DATE, "float": m.NUMBER}


def record_frame(records: list, spec) -> pd.DataFrame:
    """The records an X12 reader built (dataclasses or named tuples) as a typed frame; each
    spec entry is (attribute name, kind): a RECORD_KINDS key, or "bool". One attribute of
    every record goes straight into an object array (numpy >= 1.23): no row tuples."""
    count = len(records)
    columns = {}
    for name, kind in spec:
        values = np.fromiter(map(attrgetter(name), records), dtype=object, count=count)
        columns[name] = pd.Series(values.astype(bool), dtype=bool) if kind == "bool" else \
            object_column(RECORD_KINDS[kind], values)
    return pd.DataFrame(columns, index=pd.RangeIndex(count))
