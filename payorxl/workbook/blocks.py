"""The live summaries' partial sums: what keeps a posted payment quick at 50,000 lines.

A live figure on the Dashboard, Scorecard or Aging is a sum of COUNTIFS and SUMIFS terms
over Claims columns (sheets.py). Written over whole columns (``COUNTIFS(Claims[Role],
"Line",Claims[Filing Status],"Missed")``), each term reads every Claims row, and an edit that
changes one line's Balance recomputes every term that reads Balance over the whole table:
a few hundred terms × every line, most of the cost of a posted payment (0.7 s of 0.8 s at
10,000 lines in LibreOffice, growing with the lines).

So, in a workbook whose figures are live, each distinct term is computed once per block
of BLOCK_ROWS Claims rows, on the hidden Index sheet (one column per term, one row per
block, from column FIRST_COLUMN on): ``IFERROR(COUNTIFS(Claims!$T$2:$T$501,"Line",
Claims!$W$2:$W$501,"Missed"),0)``, and the figure reads ``SUM(Index!$PA$2:$PA$102)``. An
edit recomputes the terms of its own block (BLOCK_ROWS rows each) and the sums (one cell
per block), not the whole table. The last block runs from the row after the table as
recalculated to the sheet's end: a line added below the table counts at once. A row
inserted inside a block widens its range; a block whose rows are all deleted gives #REF!,
which IFERROR makes 0 (its rows are gone). Sorting moves rows between blocks and changes
no sum.

Each block cell carries its value, worked out here from the Claims values as written
(the engine's), with COUNTIFS' own rules for what each criterion matches: text equal but
for case, TRUE, a number compared. A term this module cannot work out (a criterion with no
Python value) stays a whole-column formula.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import model as m
from ..codec import datetime_to_serial, to_excel
from .formulas import INDEX_COLUMNS, INDEX_SHEET, col as column_ref
from .xlsxpart import _ILLEGAL, Cell, Formula, col_letter, each_distinct

BLOCK_ROWS = 500
SHEET_END = 1_048_576
FIRST_COLUMN = INDEX_COLUMNS + 10     # Index column of the first term (past the slots and tails: formulas.py)
MAX_TERMS = 16_384 - FIRST_COLUMN         # Excel's last column, XFD
LABEL = ("Partial sums of the live figures on Dashboard, Scorecard and Aging: one column per term, one row "
         "per block of Claims rows (the last: the rows below the table). Written by payorxl recalc.")


@dataclass(frozen=True)
class Crit:
    """One criterion of a COUNTIFS/SUMIFS term over a Claims column.

    text: the criterion as the formula writes it; block_text: in a block's formula, when
    different (a payor named by its cell on the summary sheet is named by its text there);
    op and value: how Python reads it ("=" a text, case ignored, or True; ">", ">=", "<",
    "<=" a number); value None: Python cannot, and the term stays whole-column."""
    column: str
    text: str
    op: str = "="
    value: Any = None
    block_text: str | None = None


def crit(column: str, value: str | bool) -> Crit:
    """A criterion equal to a text literal, or TRUE."""
    text = "TRUE" if value is True else f'"{value}"'
    return Crit(column, text, "=", value)


def number_crit(column: str, op: str, number: float) -> Crit:
    """A criterion comparing a number with a constant: ">0"."""
    return Crit(column, f'"{op}{number:g}"', op, float(number))


def text_literal(text: str) -> str:
    """A criterion true only for `text` (as sheets._eq makes of a cell), written as a literal:
    * ? ~ escaped, "=" before it, quotes doubled."""
    escaped = str(text).replace("~", "~~").replace("*", "~*").replace("?", "~?").replace('"', '""')
    return f'"={escaped}"'


def literal_ok(name: str | None) -> bool:
    """Whether a payor name can be written in a block's formula as a literal: not blank (a
    blank criterion matches blank cells, which Python's reading does not), no character XML
    forbids (a line break pasted from Word), within Excel's 255 characters of text in a
    formula."""
    return (name is not None and name != "" and not _ILLEGAL.search(name)
            and len(text_literal(name)) <= 250)


def _call(fn: str, total: str | None, crits: tuple[Crit, ...], ref: Callable[[str], str], block: bool) -> str:
    """fn over the ranges `ref` gives each Claims column, with each criterion's text (its
    block text in a block)."""
    args = ([ref(total)] if total else []) + [
        f"{ref(c.column)},{(c.block_text or c.text) if block else c.text}" for c in crits]
    return f"{fn}({','.join(args)})"


def whole(fn: str, total: str | None, crits: tuple[Crit, ...]) -> str:
    """The term over whole Claims columns, as the workbook writes it without blocks."""
    return _call(fn, total, crits, lambda column: column_ref("Claims", column), block=False)


_ACTIVE: contextvars.ContextVar[Blocks | None] = contextvars.ContextVar("payorxl_blocks", default=None)


def term(fn: str, total: str | None, *crits: Crit) -> str:
    """A COUNTIFS (total None) or SUMIFS (of Claims column `total`) over the Claims rows
    matching `crits`: the sum of its blocks while a Blocks is active (Blocks.active) and can
    work it out, else over whole columns."""
    blocks = _ACTIVE.get()
    if blocks is None or any(c.value is None for c in crits) or not blocks.covers(total, crits):
        return whole(fn, total, crits)
    return blocks.sum_of(fn, total, crits)


def active() -> Blocks | None:
    return _ACTIVE.get()


class Blocks:
    """The terms met while the summary sheets are laid out (inside `active`), and their
    block cells on the Index.

    rows: the sheet row of each Claims row read (the frame's `_row`); last_row: the
    table's last row as read; letters: Claims column name -> its letter in the workbook;
    settings: the calculation's (px_AsOf is its as-of date)."""

    def __init__(self, rows: np.ndarray, last_row: int, letters: dict[str, str], settings: m.Settings):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.last_row = max(int(last_row), int(self.rows.max()) if len(self.rows) else 1, 1)
        self.letters = letters
        self.as_of = float(datetime_to_serial(pd.Timestamp(settings.as_of).to_pydatetime()))
        self.ar_period_days = float(settings.ar_period_days)
        starts = list(range(2, self.last_row + 1, BLOCK_ROWS))
        self.bounds = [(a, min(a + BLOCK_ROWS - 1, self.last_row)) for a in starts] + [(self.last_row + 1, SHEET_END)]
        # The first block's range starts at the header row (which no criterion matches: a
        # header is not "Line", a status or a number), so a row inserted at the top of the
        # table is inside it, as Excel and LibreOffice widen a range for a row inserted
        # within it; one inserted exactly at another block's first row is in none until the
        # recalculation (Index!C1 counts the insertion: the Dashboard asks for one).
        self.ranges = [(1 if k == 0 else a, b) for k, (a, b) in enumerate(self.bounds)]
        self.terms: dict[tuple, tuple[int, str, str | None, tuple[Crit, ...]]] = {}

    @contextlib.contextmanager
    def active(self) -> Iterator[Blocks]:
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def covers(self, total: str | None, crits: tuple[Crit, ...]) -> bool:
        return all(c in self.letters for c in ([total] if total else []) + [c.column for c in crits])

    def sum_of(self, fn: str, total: str | None, crits: tuple[Crit, ...]) -> str:
        # (one column per term as the blocks write it: a payor's terms on Scorecard, Aging and
        # the Dashboard, named there by different cells, are one)
        key = (fn, total, tuple((c.column, c.op, c.value, c.block_text or c.text) for c in crits))
        if key not in self.terms and len(self.terms) >= MAX_TERMS:
            return whole(fn, total, crits)      # the sheet's last column is reached (hundreds of payors)
        if key not in self.terms:
            self.terms[key] = (len(self.terms), fn, total, crits)
        j = self.terms[key][0]
        letter = col_letter(FIRST_COLUMN + j)
        return f"SUM({INDEX_SHEET}!${letter}$2:${letter}${1 + len(self.bounds)})"

    def _rows(self, first: int, last: int) -> Callable[[str], str]:
        """A Claims column's rows first..last: Claims!$T$2:$T$501."""
        return lambda column: f"Claims!${self.letters[column]}${first}:${self.letters[column]}${last}"

    def cells(self, values: Callable[[str], list]) -> list[Cell]:
        """The Index cells of every term met: a label, then each block's formula with its
        value. values(column): the Excel values of that Claims column, one per row of `rows`."""
        if not self.terms:
            return []
        block = np.searchsorted(np.array([a for a, _ in self.bounds]), self.rows, side="right") - 1
        columns: dict[str, _Column] = {}

        def column(name: str) -> _Column:
            if name not in columns:
                columns[name] = _Column(values(name))
            return columns[name]

        masks: dict[Crit, np.ndarray] = {}
        out = [Cell(0, FIRST_COLUMN, LABEL)]
        for j, fn, total, crits in self.terms.values():
            mask = np.ones(len(self.rows), dtype=bool)
            for c in crits:
                if c not in masks:
                    masks[c] = column(c.column).matches(c)
                mask &= masks[c]
            if total:
                amounts = np.where(mask, column(total).numbers, 0.0)
                sums = np.bincount(block, weights=np.nan_to_num(amounts), minlength=len(self.bounds))
            else:
                sums = np.bincount(block, weights=mask.astype(float), minlength=len(self.bounds))
            for k, (first, last) in enumerate(self.ranges):
                cached = round(float(sums[k]), 2) if total else int(sums[k])
                call = _call(fn, total, crits, self._rows(first, last), block=True)
                # (#REF!: the block's rows were all deleted, so nothing; any other error, such
                # as a #N/A pasted into Charge, shows in the figure as it would over whole columns)
                out.append(Cell(1 + k, FIRST_COLUMN + j, Formula(f"IFERROR({call},IF(ERROR.TYPE({call})=4,0,{call}))",
                                                                 cached)))
        return out


class _Column:
    """A Claims column's Excel values, read as COUNTIFS reads them."""

    def __init__(self, cells: list):
        kinds = [type(v) for v in cells]
        self.numbers = np.array([float(v) if k in (int, float) else np.nan for v, k in zip(cells, kinds)])
        self.true = np.array([k is bool and v for v, k in zip(cells, kinds)], dtype=bool)
        self.text = np.array([v.casefold() if k is str else None for v, k in zip(cells, kinds)], dtype=object)

    def matches(self, c: Crit) -> np.ndarray:
        if c.op == "=" and c.value is True:
            return self.true.copy()
        if c.op == "=":
            return self.text == str(c.value).casefold()
        with np.errstate(invalid="ignore"):
            compare = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}[c.op]
            return compare(self.numbers, c.value) & ~np.isnan(self.numbers)


def claims_values(frame: pd.DataFrame, calculated: pd.DataFrame | None) -> Callable[[str], list]:
    """values(column name) for Blocks.cells: the Excel values of a Claims column as the
    workbook holds them (the inputs as read, the calculated columns as the engine cached
    them; "" is a blank), one per row of `frame`."""
    keys = {c.name: c for c in (*m.CLAIMS.columns, *m.CLAIMS.calculated)}

    def values(name: str) -> list:
        c = keys[name]
        source = frame if c.key in frame else calculated

        def one(v):
            v = None if isinstance(v, str) and v == "" else to_excel(v, c.kind)
            if isinstance(v, (dt.datetime, dt.date)):
                v = datetime_to_serial(v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time()))
            return v
        return each_distinct(source[c.key].tolist(), one)
    return values
