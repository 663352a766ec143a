"""UDF arguments in, UDF results out: what a PX_ formula receives from Excel and gives back.

Excel hands a UDF its arguments raw: a table passed as ``Claims[#All]`` arrives as a 2-D
list whose first row is the header, with ``datetime`` for dates, ``float`` for numbers,
``None`` for empty cells (xlwings with ``ndim=2``; the tests call the functions with
exactly that). On Windows a table comes as pywin32 makes it, xlwings' per-cell clean
pass skipped (udfs.TableValues): a tuple of row tuples, dates with a time zone, a
Currency cell as a Decimal, an error cell as its code (tests/excel/test_table_values.py
holds every formula to reading those as it reads the cleaned lists). Tables are converted by payorxl's own
`conversion.table_from_grid`, the reader every other path uses, so a formula reads a
cell the way a recalculation does, on every platform.

A formula cannot show a footnote, so it is strict: a cell that cannot be read (a date
typed as text, a blank required cell), a table passed without its header row, an option
that names no column — each raises `UdfError`, and `readable_errors` turns it into a
one-line message in the cell instead of a figure computed without that row. Cross-row
checks (a payor with no contract, a duplicated claim line) run as in a recalculation
(udfs._evaluate calls pipeline.evaluate): the rows they reject are left out of the
formula's figures exactly as they are left out of the sheets, and Check data lists them.

Results go back as 2-D lists, header row first: money in dollars, dates as ``datetime``,
rates as fractions, and ``""`` for a blank (an empty Variant would show as 0 in a spill).
"""
from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from .. import codec, model as m
from ..codec import is_blank
from ..conversion import ROW, _Bad, _date, empty_frame, table_from_grid
from ..errors import ERROR, PayorxlError
from ..workbook.read import convert_settings, settings_from_values

MAX_MESSAGE = 255   # Excel shows the start of a long text; keep the point in front


class UdfError(Exception):
    """An argument a PX_ function cannot use; the message is what the cell shows."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off for the block, as it was after. A
    formula's arguments arrive as a list per row (100,000 lists for a Claims table), and
    a per-row formula answers with as many: every 700 new containers the collector runs,
    and every so often it walks all of them, though none is garbage (a formula's work
    makes next to no reference cycles). PX_EXPECTED_ALLOWED over 100,000 lines: 18% less
    CPU, counted over eight calls so that the collections it only puts off are in the
    figure (benchmarks/udf_bench.py)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def readable_errors(func):
    """Decorate a UDF so that a bad argument (or an unexpected failure) returns a short
    message naming the function, never a traceback. The call runs with the garbage
    collector held off (`collector_paused`)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with collector_paused():
                return func(*args, **kwargs)
        except (UdfError, PayorxlError) as e:
            return f"{func.__name__}: {e}"[:MAX_MESSAGE]
        except Exception as e:  # a bug still answers in the cell, with its kind
            return f"{func.__name__}: unexpected {type(e).__name__}: {e}"[:MAX_MESSAGE]
    return wrapper


# --- arguments in ----------------------------------------------------------------------

def as_grid(value: Any) -> Sequence[Sequence]:
    """A range argument as a 2-D list (or tuple of tuples, as pywin32 gives a range). xlwings
    gives a 2-D list with ``ndim=2``; without it a one-row range is a flat list, and one
    cell, from pywin32 too, a scalar. None (omitted) is empty.
    A 2-D argument is returned as it came, not copied (it is only read): copying 100,000
    rows costs more than converting them, mostly in the garbage collector's passes over
    the new lists."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        if value and (set(map(type, value)) <= {list, tuple}
                      or all(isinstance(row, (list, tuple)) for row in value)):
            return value
        return [list(value)]
    return [[value]]


def _header_problem(table: m.Table, grid: Sequence[Sequence[Any]], arg: str) -> str | None:
    header = {("" if h is None else str(h)).strip().lower() for h in grid[0]}
    known = {c.name.lower() for c in table.columns} | set(table.keys)
    example = f"{table.name}[#All]"
    if not header & known:
        return (f"{arg}: the first row is not the {table.name} table's header row; pass the "
                f"whole table with its headers, e.g. {example}")
    missing = [c.name for c in table.columns
               if c.required and c.name.lower() not in header and c.key not in header]
    if missing:
        return f"{arg}: no '{missing[0]}' column; pass the whole {table.name} table, e.g. {example}"
    return None


def table(tbl: m.Table, value: Any, arg: str) -> pd.DataFrame:
    """A table argument (header row first) as the engine's typed frame; raises UdfError
    on the first cell that cannot be read, naming its row in the argument (row 1 is the
    header, so for a table starting at A1 it is the sheet row)."""
    grid = as_grid(value)
    if not grid:
        return empty_frame(tbl)
    problem = _header_problem(tbl, grid, arg)
    if problem:
        raise UdfError(problem)
    converted = table_from_grid(tbl, grid, tbl.name, first_row=1, unread=UNREAD.get(tbl.name, ()))
    errors = [e for e in converted.errors if e.severity == ERROR]
    if errors:
        e = errors[0]
        more = f" (+{len(errors) - 1} more; Check data lists them)" if len(errors) > 1 else ""
        fix = e.fix.split(";")[0]
        shown = "" if is_blank(e.value) else f" ({e.shown_value()})"
        raise UdfError(f"{tbl.name} row {e.ref.row}: {e.message}{shown}: {fix}{more}")
    return converted.frame


# The optional text columns no PX_ formula's figures read (only the Reconciliation sheet
# of a recalculation does; it shows a payment's CPT beside a payment of no claim line): a
# formula checks them as a recalculation does (a cell neither text nor empty is an error
# either way) but leaves their text unstripped (conversion.typed_columns' `unread`), 6 to
# 30 ms a column over 100,000 rows. tests/excel/test_unread_columns.py holds every formula
# to not reading them.
UNREAD = {"Claims": ("payor_claim_no", "line_control_no"), "Payments": ("check_no", "payor_claim_no", "cpt", "source")}

TABLE_ARGS = {"claims": m.CLAIMS, "payments": m.PAYMENTS, "contracts": m.CONTRACTS,
              "fee_schedule": m.FEE_SCHEDULE, "appeals": m.APPEALS, "payment_rules": m.PAYMENT_RULES,
              "modifiers": m.MODIFIERS, "denial_routing": m.DENIAL_ROUTING}
RULE_ARGS = ("payment_rules", "modifiers", "denial_routing")   # optional: blank takes the seeded table


def given_tables(args: dict[str, Any]) -> set[str]:
    """The names of the tables a formula was given (by its parameter names)."""
    return {TABLE_ARGS[arg].name for arg in args}


def tables(**args: Any) -> dict[str, pd.DataFrame]:
    """Every input table the engine takes, from keyword arguments named like the UDF
    parameters (claims=, payments=, contracts=, fee_schedule=, appeals=); tables not
    given are empty, but for the rule tables (PaymentRules, Modifiers, DenialRouting), which
    take the rules `payorxl new` seeds a workbook with."""
    from ..engine.seeds import SEEDS
    frames = {t.name: SEEDS[t.name]() if t.name in SEEDS else empty_frame(t) for t in m.INPUT_TABLES}
    for arg, value in args.items():
        frames[TABLE_ARGS[arg].name] = table(TABLE_ARGS[arg], value, arg)
    return frames


def date_arg(value: Any, arg: str) -> pd.Timestamp | None:
    """A date argument: a datetime, a date serial number, or blank (None)."""
    if is_blank(value):
        return None
    try:
        return _date(value, m.Column(arg, arg, m.DATE))
    except _Bad as bad:
        raise UdfError(f"{bad.message} ({value!r}); enter a date, or point to a cell "
                       "holding one") from None


def settings(value: Any) -> m.Settings:
    """The `settings` argument: blank (defaults, as of today), an as-of date, or the
    Settings sheet's Setting and Value columns (e.g. Settings!A1:B10), read by name as
    a recalculation reads them."""
    if not isinstance(value, (list, tuple)):
        return m.Settings.make(date_arg(value, "settings"))
    by_name = {s.name.lower(): s.key for s in m.SETTINGS}
    raw = {by_name[str(row[0]).strip().lower()]: (row[1] if len(row) > 1 else None)
           for row in as_grid(value) if row and str(row[0]).strip().lower() in by_name}
    if not raw:
        raise UdfError("settings: pass the Settings sheet's Setting and Value columns "
                       "(Settings!A1:B10) or an as-of date")
    values, problems = convert_settings(raw)
    if problems:
        raise UdfError(f"settings: {problems[0].message} ({problems[0].shown_value()})")
    return settings_from_values(values)


def month_arg(value: Any) -> str | None:
    """A month: blank (all), a date in the month, or text "YYYY-MM"."""
    if is_blank(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() \
                and 1 <= int(text[5:]) <= 12:
            return text
        raise UdfError(f"period: {value!r} is not a month; give a date in the month or text like \"2026-03\"")
    return date_arg(value, "period").strftime("%Y-%m")


def choice_arg(value: Any, arg: str, choices: Sequence[str], default: str) -> str:
    if is_blank(value):
        return default
    for choice in choices:
        if str(value).strip().lower() == choice.lower():
            return choice
    raise UdfError(f"{arg}: {value!r} is not one of {', '.join(choices)}")


def claims_column(value: Any, arg: str, default: str) -> str:
    """A Claims column to group by, named by its header ("Payor", "CPT") or key."""
    allowed = [c for c in m.CLAIMS.columns if c.kind in (m.TEXT, m.CHOICE) and not c.phi
               and c.key not in ("claim_id", "payor_claim_no", "line_control_no")]
    if is_blank(value):
        return default
    text = str(value).strip().lower()
    for c in allowed:
        if text in (c.name.lower(), c.key):
            return c.key
    raise UdfError(f"{arg}: {value!r} is not a Claims column to group by; use one of "
                   + ", ".join(c.name for c in allowed))


def only_payor(claims: pd.DataFrame, payor: Any) -> pd.DataFrame:
    """The claims of one payor (named as in Contracts; case ignored, as MATCH does), or
    all claims when the argument is blank."""
    if is_blank(payor):
        return claims
    mask = claims["payor"].astype(str).str.strip().str.upper() == str(payor).strip().upper()
    return claims[mask].reset_index(drop=True)


# --- results out -----------------------------------------------------------------------

def excel_value(value: Any, kind: str) -> Any:
    """One engine value as Excel should receive it; blanks as ""."""
    return codec.to_excel(value, kind, blank="")


_NUMERIC_OUT = {m.MONEY, m.INT, m.COUNT, m.PERCENT, m.NUMBER}


def excel_column(values: pd.Series, kind: str) -> list:
    """A result column as Excel should receive it, value for value what `excel_value`
    gives, but converted a whole column at a time where its dtype allows (numbers,
    flags, dates, all-text); mixed object columns go cell by cell."""
    dtype = values.dtype
    blank = values.isna().to_numpy()
    floats = pd.api.types.is_float_dtype(dtype)
    if floats and np.isinf(values.to_numpy(dtype="float64", na_value=np.nan)).any():
        return [excel_value(v, kind) for v in values.tolist()]    # as excel_value fails, or not
    if kind in _NUMERIC_OUT and (pd.api.types.is_integer_dtype(dtype) or floats):
        is_int = pd.api.types.is_integer_dtype(dtype)
        if kind in (m.PERCENT, m.NUMBER):
            out = values.to_numpy(dtype="float64", na_value=np.nan).tolist()
        elif is_int:
            whole = values.to_numpy(dtype="int64", na_value=0)
            out = (whole / 100).tolist() if kind == m.MONEY else whole.tolist()
        else:   # int() of a float truncates toward zero
            whole = np.trunc(values.to_numpy(dtype="float64", na_value=0.0))
            whole[~np.isfinite(whole)] = 0
            out = (whole / 100).tolist() if kind == m.MONEY else whole.astype("int64").tolist()
    elif kind == m.BOOL and pd.api.types.is_bool_dtype(dtype):
        out = values.to_numpy(dtype=bool, na_value=False).tolist()
    elif kind in (m.DATE, m.DATETIME) and isinstance(dtype, np.dtype) and dtype.kind == "M":
        stamps = values.to_numpy()
        if kind == m.DATE:                   # a date: no time of day
            stamps = stamps.astype("datetime64[D]")
        # each distinct date made a datetime once (a deadline column holds a few hundred
        # dates over 100,000 rows; NaT becomes None, then "" below)
        codes, distinct = pd.factorize(stamps.astype("datetime64[us]").view("int64"))
        out = np.asarray(distinct).view("datetime64[us]").astype(object)[codes].tolist()
    elif kind not in _NUMERIC_OUT | {m.DATE, m.DATETIME, m.BOOL} and not blank.any() \
            and (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)) \
            and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values.tolist()
    else:
        return [excel_value(v, kind) for v in values.tolist()]
    if blank.any():
        for i in np.flatnonzero(blank):
            out[i] = ""
    return out


def table_out(frame: pd.DataFrame, fields: Iterable[m.Field], limit: int | None = None) -> list[list]:
    """A result frame as a spilled table: the declared fields' headers, then one row per
    frame row."""
    fields = list(fields)
    rows = frame if limit is None else frame.head(limit)
    columns = [excel_column(rows[f.key], f.kind) if f.key in rows else [""] * len(rows) for f in fields]
    return [[f.name for f in fields]] + (list(map(list, zip(*columns))) if columns else [])


def aligned_out(argument: Any, rows: pd.DataFrame, result: pd.DataFrame,
                fields: Iterable[m.Field]) -> list[list]:
    """Per-row results laid out row for row beside the table argument they came from:
    the header, then each argument row's results (blank where the row was empty).
    rows: the converted table (its ``_row`` says where each row was); result: the
    engine's per-row frame, same order."""
    fields = list(fields)
    table_rows = table_out(result, fields)
    height = max(len(as_grid(argument)), 1)
    where = rows[ROW].to_numpy()
    if len(where) == height - 1 and (where == np.arange(2, height + 1)).all():
        return table_rows                  # every row read, in order: nothing to place
    out: list = [table_rows[0]] + [None] * (height - 1)
    for row, values in zip(where.tolist(), table_rows[1:]):
        out[row - 1] = values
    return [[""] * len(fields) if r is None else r for r in out]


def pick_rate(rates: pd.DataFrame, month: str | None, basis: str, payor: Any = None) -> float:
    """The one rate asked for from an `initial_denial_rate` frame (grouped by month, or
    the single "All" row)."""
    row = rates[rates["month"] == month] if month else rates
    adjudicated, rate = (("claims_adjudicated", "denial_rate") if basis == "claims"
                         else ("charges_adjudicated", "charge_denial_rate"))
    if row.empty or not row[adjudicated].iloc[0]:
        who = "" if is_blank(payor) else f" for payor {str(payor).strip()!r}"
        raise UdfError(f"no claims adjudicated{who}{' in ' + month if month else ''}")
    return float(row[rate].iloc[0])


def count_arg(value: Any, arg: str) -> int | None:
    """A row count: blank or 0 for all."""
    if is_blank(value) or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise UdfError(f"{arg}: {value!r} is not a whole number of rows")
    return int(value)


def excel_grid(tbl: m.Table, records: Iterable[dict]) -> list[list]:
    """Records (keyed by column key, as `demo.records_from_frame` gives them) as Excel
    sends a table to a UDF: the header row, then ``datetime`` for dates, ``float`` for
    numbers, ``None`` for empty cells. For tests and benchmarks."""
    out = [[c.name for c in tbl.columns]]
    for rec in records:
        row = []
        for c in tbl.columns:
            v = rec.get(c.key)
            if v is None or v == "":
                row.append(None)
            elif isinstance(v, dt.datetime):
                row.append(v)
            elif isinstance(v, dt.date):
                row.append(dt.datetime(v.year, v.month, v.day))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                row.append(float(v))
            else:
                row.append(v)
        out.append(row)
    return out
