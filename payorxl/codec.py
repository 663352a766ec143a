"""The one two-way value codec: how a single value crosses between the engine and the
world outside it (Excel cells, sheet XML, CSV, JSON).

Inside the engine money is integer cents, dates are pandas Timestamps at midnight,
counts are ints, rates are float fractions and text is ``str``. Excel holds dollars as
numbers and dates as serial day numbers counted from 1899-12-30 (the epoch that makes
Lotus' phantom 1900-02-29 harmless for every date after March 1900). CSV and JSON hold
dollars with two decimals and ISO dates. Every conversion between these lives here, so
rounding, the epoch and what a blank is are decided once. Column-wise conversion of whole
Excel tables into typed frames (with errors for bad cells) is conversion.py's job; it
uses the scalar rules below.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from . import model as m

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_DATE = EXCEL_EPOCH.date()
CENT = Decimal("0.01")


def is_na(value: Any) -> bool:
    """None, pandas NA/NaT or a float NaN: no value at all."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def is_blank(value: Any) -> bool:
    """No value, or text that is only white space: what an empty cell reads as."""
    return is_na(value) or (isinstance(value, str) and value.strip() == "")


# --- money -----------------------------------------------------------------------------

def to_cents(amount: Any) -> int:
    """Dollars (float, int, str or Decimal) to integer cents, rounding half up (away from
    zero), as a person rounds an amount on paper."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_array(dollars: np.ndarray) -> np.ndarray:
    """Float dollars to cents, vectorised, rounding half away from zero at the cent as
    `to_cents` does: the 6-digit rounding first removes binary noise (2.675 * 100 is
    267.49999...). Returns float64 whole numbers (the caller casts)."""
    scaled = np.round(np.abs(dollars) * 100, 6)
    return np.sign(dollars) * np.floor(scaled + 0.5)


def decimal_cents(amounts: np.ndarray, floats: np.ndarray | None = None) -> np.ndarray:
    """Decimal dollars (a 1-D object array of Decimals, as pywin32 gives currency-formatted
    cells) to cents, vectorised, each exactly as `to_cents` rounds it (half up, on the
    Decimal's own digits, not on a float near it). The amounts go through float and
    `cents_array` in one step; those whose cents lie within 0.001 of a half (0.125,
    2.675, 1.0050), where a float could fall on the wrong side, and any beyond 10^12
    cents, go through `to_cents` one by one (few in real money, which is in whole cents;
    a column of nothing but half cents costs ~1 µs a cell). A NaN or infinite Decimal
    gives NaN or inf, for the caller to reject; an amount of more digits than to_cents takes (1E+30) keeps
    its float cents, for the caller to reject as beyond any amount. floats: the amounts as
    float64, when the caller has them already. Returns float64 whole numbers (the caller
    casts)."""
    if floats is None:
        try:
            floats = amounts.astype("float64")
        except (ValueError, TypeError):    # a signalling NaN refuses float()
            floats = np.array([float("nan") if a.is_snan() else float(a) for a in amounts], dtype="float64")
    cents = cents_array(floats)
    scaled = np.abs(floats) * 100
    with np.errstate(invalid="ignore"):
        exact = (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3) | (scaled >= 1e12)
    exact &= np.isfinite(scaled)
    for i in np.flatnonzero(exact):
        try:
            cents[i] = to_cents(amounts[i])
        except InvalidOperation:       # past 28 digits (1E+30): far beyond any amount, which the
            pass                       # caller rejects (model.MONEY_LIMIT); its float cents stand
    return cents


def dollars(cents: Any) -> float | None:
    """Integer cents to float dollars (None when there is no value)."""
    return None if is_na(cents) else int(cents) / 100


def decimal_dollars(cents: Any) -> Decimal | None:
    """Integer cents to exact Decimal dollars, for text that must not carry float noise
    (sheet XML written by import, CSV)."""
    return None if is_na(cents) else (Decimal(int(cents)) / 100).quantize(CENT)


def dollars_series(cents: pd.Series) -> pd.Series:
    """A Series of cents as nullable float dollars."""
    return cents.astype("Float64") / 100


# --- dates -----------------------------------------------------------------------------

def serial_to_datetime(serial: float) -> dt.datetime:
    """An Excel serial day number (fractions are the time of day) to a datetime."""
    return EXCEL_EPOCH + dt.timedelta(days=float(serial))


def datetime_to_serial(value: dt.date | dt.datetime) -> int | float:
    """A date (whole days) or datetime (with the time as a fraction) as an Excel serial."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EXCEL_EPOCH
        serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
        return int(serial) if serial == int(serial) else round(serial, 10)
    return (value - EXCEL_EPOCH_DATE).days


# --- whole values ----------------------------------------------------------------------

def to_excel(value: Any, kind: str, blank: Any = None) -> Any:
    """An engine value as an Excel cell holds it: cents to dollars, dates to datetime,
    counts to int, rates to float, everything else to text; no value to `blank`."""
    if is_na(value):
        return blank
    if kind == m.MONEY:
        return int(value) / 100
    if kind == m.DATE:
        return pd.Timestamp(value).normalize().to_pydatetime()   # a date: no time of day
    if kind == m.DATETIME:
        return pd.Timestamp(value).to_pydatetime()
    if kind in (m.INT, m.COUNT):
        return int(value)
    if kind in (m.PERCENT, m.NUMBER):
        return float(value)
    if kind == m.BOOL:
        return bool(value)
    return value if isinstance(value, str) else str(value)


def to_cell(value: Any, kind: str) -> Any:
    """An engine value as payorxl writes it into sheet XML itself (rows appended by
    import): as to_excel, but money as exact Decimal dollars (no float noise in the
    file), a date as a date, and empty text as no value."""
    if is_na(value):
        return None
    if kind == m.MONEY:
        return Decimal(int(value)) / 100
    if kind == m.DATE:
        return pd.Timestamp(value).date()
    if kind in (m.TEXT, m.CHOICE, m.STATUS):
        text = str(value)
        return text if text != "" else None
    return to_excel(value, kind)


def to_external(value: Any, kind: str) -> Any:
    """An engine value as JSON and CSV carry it: money in dollars rounded to the cent,
    dates as ISO strings (YYYY-MM-DD), NA as None."""
    if is_na(value):
        return None
    if kind == m.MONEY:
        return round(int(value) / 100, 2)
    if kind == m.DATE:
        return pd.Timestamp(value).date().isoformat()
    return to_excel(value, kind)


# A text cell starting with one of these is taken for a formula by Excel, LibreOffice and
# Google Sheets when a CSV is opened (OWASP "CSV injection"): a claim ID of
# =HYPERLINK("http://…") would become a live link. Such text leaves with a leading
# apostrophe, which the spreadsheet shows as the text itself.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """Text that a spreadsheet opening a CSV or JSON export will show as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_json(value: Any) -> Any:
    """`value` (dicts, lists, scalars, as json.dumps takes them) with every string passed
    through safe_text: JSON is pasted into spreadsheets too."""
    if isinstance(value, dict):
        return {k: safe_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_json(v) for v in value]
    return safe_text(value)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell passed through safe_text (numbers stay numbers)."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_text)
    return out


def external_frame(frame: pd.DataFrame, fields: Iterable[m.Field]) -> pd.DataFrame:
    """The declared columns of a result frame, in order, for CSV: money in dollars,
    other kinds as the engine holds them (pandas writes dates and NA itself)."""
    out = pd.DataFrame(index=frame.index)
    for f in fields:
        s = frame[f.key] if f.key in frame else pd.Series(pd.NA, index=frame.index, dtype=object)
        out[f.key] = dollars_series(s) if f.kind == m.MONEY and not s.dtype == object else s
    return out.reset_index(drop=True)
