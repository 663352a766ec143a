"""The Index sheet: where each Claims row finds its line's own Payments rows and its
claim's other lines.

The Claims formulas read a line's Payments rows, and its claim's Claims rows, through two
parts each (formulas.py explains why): its *slots*, the Index row of the same number,
holding side by side a reference to each of those cells (``=Payments!$L$57``); and the
*tail*, a column of TAIL_ROWS rows per mirrored column holding the rows of lines (claims)
with more than K_SLOTS rows, then the rows below the table, where a payment or a claim line
typed after the recalculation lands. Every recalculation writes the sheet anew from the
rows it read; rows added, moved or deleted since are counted by the check cells, which the
Dashboard's note shows.

Layout (0-based columns; row numbers are the Claims sheet's):

- A claim ID, B line (as read), C check (0, or 1 when Claims' row no longer holds that
  line or its slots no longer hold its rows), D and E the Payments gate (how many tail rows
  are the line's: the tail is read only when it is not 0) and slots used, F and G the
  Claims gate and slots used; then the slots and the tails (formulas.MIRRORS);
- row 1: A the title, C the number of rows the live figures miss (the checks, rows
  inserted or deleted among those read, rows typed past the window, claim lines typed for
  a claim already read), D and F the rows typed in each window (the gates read them).

Mirrored cells keep what the formulas compare: an ID or a code as text (&""), a blank
Allowed or Units as "" (criteria tell it from 0), any other blank as 0, which every
criterion the formulas use reads as a blank. Each carries its value as read (the engine's
for a calculated column), so that Excel and LibreOffice, which recompute only what an edit
touches, read the right value from the slots an edit did not touch. (The Claims formulas'
own cached values need no recalculation when the Index is rewritten: its rows name the same
cells as the formulas saw before, only in other places.)
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from .. import model as m
from ..codec import datetime_to_serial, to_excel
from .formulas import CLAIMS_MIRROR, INDEX_SHEET, K_SLOTS, PAYMENTS_MIRROR, TAIL_ROWS, Mirror
from .xlsxpart import _ILLEGAL, Cell, Formula, Run, cached_xml, col_letter, each_distinct

TITLE_START = "payorxl index"
TITLE = f"{TITLE_START}: where each Claims row finds its Payments rows (rewritten by every recalculation)"
_TEXT = {"Claim ID", "Action", "Claim Type", "Frequency", "Payor"}
_BLANK_KEPT = {"Allowed", "Units"}
_CALCULATED = {"Action", "Role", "Multiple Procedure", "Unit Rate"}    # "" when they give nothing
_KEYS = {"Claim ID": "claim_id", "Line": "line", "Payer Seq": "payer_seq", "Claim Status": "claim_status",
         "Remit Date": "remit_date", "Paid": "paid", "Allowed": "allowed", "Patient Resp": "patient_resp",
         "Sequestration": "sequestration", "Contractual Adj": "contractual_adj", "Denied Amount": "denied_amount",
         "CARC": "carc", "Action": "action", "Claim Type": "claim_type", "Frequency": "frequency",
         "Units": "units", "Date of Service": "dos", "Payor": "payor", "Role": "role",
         "Multiple Procedure": "multiple_procedure", "Unit Rate": "unit_rate"}


def _mirror(header: str, ref: str) -> str:
    if header in _TEXT:
        return f'{ref}&""'
    if header in _BLANK_KEPT:
        return f'IF(ISBLANK({ref}),"",{ref})'
    return ref


# Where a cell's sheet row goes in a mirrored cell's formula template (no formula has it).
_ROW = "\u00a7row\u00a7"


def _empty(header: str):
    """What a mirrored blank cell gives."""
    return "" if header in _TEXT or header in _BLANK_KEPT else 0


def _template_headers(table: m.Table) -> list[str]:
    """A sheet's header row as the template writes it: its columns, then the calculated."""
    return [c.name for c in table.columns] + [c.name for c in table.calculated]


def column_letters(headers: list, wanted) -> dict[str, str]:
    """Each of the `wanted` column names found in a sheet's header row (`headers`, as read:
    case and surrounding blanks ignored) -> its column letter."""
    names = [("" if h is None else str(h).strip().lower()) for h in headers]
    return {h: col_letter(names.index(h.lower())) for h in wanted if h.lower() in names}


def index_cells(claims: pd.DataFrame, payments: pd.DataFrame, payment_headers: list | None = None,
                actions: pd.Series | None = None, claim_headers: list | None = None,
                last_payment_row: int = 0, claim_values: pd.DataFrame | None = None,
                last_claim_row: int = 0, left_out: tuple[int, int] = (0, 0),
                runs: bool = False) -> Iterator[Cell] | None:
    """The Index sheet's cells for the Claims and Payments frames as read (with `_row`, the
    sheet row of each; without it, rows from 2 in frame order), or None when a sheet lacks a
    mirrored column (a workbook made before the Index: its formulas read none).
    actions: each Payments row's Action (engine.payment_actions); claim_values: each Claims
    row's calculated columns (engine Results.claim_rows), the values cached in their slots.
    payment_headers, claim_headers: the sheets' header rows (default: the template's). last_*_row: the
    last row read of each sheet (a row with an error is in no frame), if below the frame's.
    left_out: of Payments and of Claims, how many rows were left out for an error and have a
    Claim ID (past LIVE_TAIL_LINES, Index!C1 counts the IDs in the rows not read beyond them).
    runs: each row's slots and tail cells of each table as one Run (xlsxpart), written as
    XML once: what a writer of the sheet's XML takes (the same cells, `xlsxpart.expanded`)."""
    where = {}
    for mirror, headers in ((PAYMENTS_MIRROR, payment_headers or _template_headers(m.PAYMENTS)),
                            (CLAIMS_MIRROR, claim_headers or _template_headers(m.CLAIMS))):
        where[mirror.table] = column_letters(headers, mirror.columns)
        if len(where[mirror.table]) < len(mirror.columns):
            return None
    claims, payments = _with_rows(claims), _with_rows(payments)
    values = {"Payments": _cached(payments, PAYMENTS_MIRROR, {"action": actions}),
              "Claims": _cached(claims, CLAIMS_MIRROR, _aligned(claim_values, claims))}
    return _cells(claims, payments, where, values, last_payment_row, last_claim_row, left_out, runs)


def _with_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if "_row" in frame:
        return frame
    return frame.assign(_row=np.arange(2, len(frame) + 2, dtype="int64"))


def _aligned(calculated: pd.DataFrame | None, claims: pd.DataFrame) -> dict:
    """The calculated columns, when they are the frame's rows (else their cache is blank)."""
    if calculated is None or len(calculated) != len(claims):
        return {}
    return {k: calculated[k] for k in ("role", "multiple_procedure", "unit_rate") if k in calculated}


def _cached(frame: pd.DataFrame, mirror: Mirror, extra: dict) -> dict[str, list]:
    """What each mirrored cell of each row holds (the formula's value), by column."""
    out: dict[str, list] = {}
    columns = {c.key: c for c in (*m.TABLES[mirror.table].columns, *m.TABLES[mirror.table].calculated)}
    for h in mirror.columns:
        key = _KEYS[h]
        series = extra.get(key) if key in extra else frame.get(key)
        if series is None:
            out[h] = [_empty(h)] * len(frame)
            continue
        kind = columns[key].kind

        def one(v, h=h, kind=kind):
            v = None if pd.isna(v) else to_excel(v, kind)
            if v is None or v == "":
                return "" if h in _CALCULATED else _empty(h)
            if h in _TEXT:
                return str(v)
            if hasattr(v, "year"):
                return _serial(v)
            return v
        out[h] = each_distinct(series.tolist(), one)
    return out


def _serial(v) -> float:
    return datetime_to_serial(v if hasattr(v, "hour") else pd.Timestamp(v).to_pydatetime())


def _upper(ids: pd.Series) -> np.ndarray:
    return ids.astype(str).str.upper().to_numpy()


def _groups(keys: np.ndarray, rows: np.ndarray) -> tuple[dict, dict]:
    """key -> its sheet rows in sheet order; sheet row -> position in the frame."""
    order = np.argsort(rows, kind="stable")
    rows_of: dict = {}
    at: dict[int, int] = {}
    for k, r, i in zip(keys[order], rows[order], order):
        rows_of.setdefault(k, []).append(int(r))
        at[int(r)] = int(i)
    return rows_of, at


WINDOW_ROWS = 500     # rows below a table mirrored in its tail (the rest holds rows read)
# Up to this many claim lines, rows typed below a table since the recalculation count in the
# figures at once: the live part of each tail is read by the gates and the tails that the
# Claims formulas read. Every Claims row then depends on it, so a row typed there makes
# LibreOffice recompute every line (0.8 s of CPU at 2,000 lines, 2.2 s at 5,000, 35 s at
# 50,000). Above it, the live part lies below the tails' named rows and only Index!C1 counts
# it: a row typed below a table costs next to nothing, is counted at the next recalculation,
# and meanwhile the Dashboard's note asks for one.
LIVE_TAIL_LINES = 2000


def _normal(text: str) -> str:
    """A claim ID as the checks compare it: upper case, without spaces (Excel's TRIM and
    Python's strip disagree on some, and no check may fail for good)."""
    return text.upper().replace(" ", "").replace("\xa0", "")


def _normal_formula(ref: str) -> str:
    # (UNICHAR: LibreOffice's CHAR(160) is not the no-break space in a UTF-8 locale)
    return f'UPPER(SUBSTITUTE(SUBSTITUTE({ref}&""," ",""),_xlfn.UNICHAR(160),""))'


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class _Part:
    """One mirror's rows: its groups and its tail (the formulas of its cells).

    The tail holds, in order: the rows of lines (claims) past K_SLOTS (static: the gate of a
    line counts its own); the rows read of no Claims row (orphan payments, for a claim line
    typed after the recalculation); then, read live by every gate, the rows inside the
    table that were not read (blank, or with an error) and the WINDOW_ROWS rows below it."""

    def __init__(self, mirror: Mirror, sheet_where: dict[str, str], values: dict[str, list],
                 keys: np.ndarray, rows: np.ndarray, wanted: set, last_row: int, read_live: bool = True,
                 left_out: int = 0):
        self.mirror, self.where, self.values, self.read_live = mirror, sheet_where, values, read_live
        self.left_out = left_out     # rows of the table not read for an error, that have an ID
        self.rows_of, self.at = _groups(keys, rows) if len(rows) else ({}, {})
        self.overflow = {k: rs[K_SLOTS:] for k, rs in self.rows_of.items() if k in wanted and len(rs) > K_SLOTS}
        orphans = [r for k, rs in self.rows_of.items() if k not in wanted for r in rs]
        self.last_row = max([last_row, 1] + ([int(rows.max())] if len(rows) else []))
        unread = sorted(set(range(2, self.last_row + 1)) - set(self.at))
        if not read_live:     # (what the live part holds is only counted: as many as a tail holds)
            unread = unread[:TAIL_ROWS]
        static = sorted(r for rs in self.overflow.values() for r in rs) + sorted(orphans)
        live = unread + list(range(self.last_row + 1, self.last_row + 1 + WINDOW_ROWS))
        room = TAIL_ROWS - 1 if read_live else TAIL_ROWS   # (a live part read by the gates keeps one row at least)
        self.dropped = max(0, len(static) - room)     # rows no part holds: C1 counts them
        static = static[:room]
        self.kept = set(static)
        self.frame_rows = len(rows)
        if read_live:  # the live part right after the static rows, inside the tails' named rows
            self.tail_rows = list(enumerate((static + live)[:TAIL_ROWS], start=1))
            self.dropped += max(0, len(static) + len(unread) - TAIL_ROWS)
            first, last = 2 + len(static), TAIL_ROWS + 1   # the Index rows of the live part
        else:          # below them: read by Index!C1 alone
            self.tail_rows = (list(enumerate(static, start=1))
                              + list(enumerate(live, start=TAIL_ROWS + 1)))
            first, last = TAIL_ROWS + 2, TAIL_ROWS + 1 + len(live)
        # (window_first: the Index row of the first row below the table)
        self.window_first, self.live_last = last - WINDOW_ROWS + 1, last
        self.live = {h: self._span(h, first, last) for h in mirror.columns}
        # each column's formula, and its XML, with _ROW where the row goes
        self.templates = {}
        self.first_slot = {h: mirror.slot_columns(h)[0] for h in mirror.columns}
        self.slot_letters = {h: [col_letter(self.first_slot[h] + j) for j in range(K_SLOTS)] for h in mirror.columns}
        self.tail_letter = {h: [col_letter(mirror.tail_column + g)] for g, h in enumerate(mirror.columns)}
        self.rendered: dict = {}      # a text or whole number cached -> its XML (cached_xml)
        for h in mirror.columns:
            text = f'IFERROR({_mirror(h, f"{mirror.table}!${sheet_where[h]}${_ROW}")},"")'
            self.templates[h] = (text, escape(_ILLEGAL.sub("", text)))

    def _span(self, header: str, first: int, last: int) -> str:
        """Index rows first..last of a mirrored column's tail."""
        letter = col_letter(self.mirror.tail_column + self.mirror.columns.index(header))
        return f"${letter}${first}:${letter}${last}"

    def static_count(self, key) -> int:
        if key not in self.overflow:        # (most lines: no rows past the slots)
            return 0
        return sum(1 for r in self.overflow[key] if r in self.kept)

    def _value(self, header: str, x: int):
        i = self.at.get(x)
        return _empty(header) if i is None else self.values[header][i]

    def cell(self, row: int, col: int, header: str, x: int) -> Cell:
        """The mirror of sheet row `x`'s cell in column `header`: its formula (IFERROR: a
        deleted row leaves #REF!, which C1 counts; the line's own cells stay clean)."""
        return Cell(row, col, Formula(self.templates[header][0].replace(_ROW, str(x)), self._value(header, x)))

    def _items(self, xs: list[int], tail: bool) -> list[tuple[int, str, int]]:
        """(column, header, sheet row) of the cells of a row's slots (the sheet rows `xs`),
        or of a tail row (the sheet row xs[0]), in column order."""
        if tail:
            return [(self.mirror.tail_column + g, h, xs[0]) for g, h in enumerate(self.mirror.columns)]
        return [(self.first_slot[h] + j, h, x) for h in self.mirror.columns for j, x in enumerate(xs)]

    def run(self, row: int, xs: list[int], tail: bool) -> Cell:
        """The cells `_items` names, as one Run: the XML the Cells `cell` makes are written as
        (the loop over the cells is the bulk of a large workbook's recalculation: it makes no
        Cell, no tuple, and each distinct text or whole number's XML once)."""
        r, rendered, parts, at, values = str(row + 1), self.rendered, [], self.at, self.values
        for h in self.mirror.columns:
            template, empty, of_h = self.templates[h][1], _empty(h), values[h]
            letters = self.tail_letter[h] if tail else self.slot_letters[h]
            for j, x in enumerate(xs):
                i = at.get(x)
                v = empty if i is None else of_h[i]
                t = type(v)
                if t is str or t is int:
                    key = (t, v)
                    if key not in rendered:
                        rendered[key] = cached_xml(v)
                    kind, value = rendered[key]
                elif t is float and math.isfinite(v):   # (its own repr: -0.0 is not 0.0)
                    kind, value = "", f"<v>{v!r}</v>"
                else:
                    kind, value = cached_xml(v)
                parts.append(f'<c r="{letters[j]}{r}"{kind}><f>{template.replace(_ROW, str(x))}</f>{value}</c>')
        first = self.mirror.tail_column if tail else self.first_slot[self.mirror.columns[0]]
        last = (self.mirror.tail_column + len(self.mirror.columns) - 1 if tail
                else self.first_slot[self.mirror.columns[-1]] + len(xs) - 1)
        return Cell(row, first, Run("".join(parts), last,
                                    lambda: [self.cell(row, *item) for item in self._items(xs, tail)]))

    def slots(self, row: int, key, runs: bool = False) -> list[Cell]:
        mine = self.rows_of.get(key, [])[:K_SLOTS]
        cells = [Cell(row, self.mirror.gate_column + 1, len(mine))]
        if runs:
            return cells + ([self.run(row, mine, False)] if mine else [])
        return cells + [self.cell(row, *item) for item in self._items(mine, False)]

    def tail(self, runs: bool = False) -> Iterator[tuple[int, Cell]]:
        for i, x in self.tail_rows:
            if runs:
                yield i, self.run(i, [x], True)
            else:
                for item in self._items([x], True):
                    yield i, self.cell(i, *item)

    def used(self) -> Cell:
        """Row 1: how many rows of the live part hold an ID (the gates read it)."""
        return Cell(0, self.mirror.gate_column, Formula(f'COUNTIF({self.live["Claim ID"]},"?*")', 0))

    def extent(self) -> Cell:
        """Row 1, beside `used`: the position in the live part of its last row with an ID
        (0: none). A gate counts over the live part up to it only: a payment typed below
        the table makes every line's gate count again, over a row or two, not 500."""
        ids = self.live["Claim ID"]
        return Cell(0, self.mirror.gate_column + 1,
                    Formula(f'SUMPRODUCT(MAX(({ids}<>"")*(ROW({ids})-MIN(ROW({ids}))+1)))', 0))

    def upto(self, header: str) -> str:
        """The live part of a column, up to its last row with an ID (`extent`'s cell)."""
        column, extent = self.live[header], f"${col_letter(self.mirror.gate_column + 1)}$1"
        return f"INDEX({column},1):INDEX({column},{extent})"

    def missed(self) -> str:
        """The rows no part holds: rows inserted or deleted among those read (the row after
        the last read is no longer where it was), rows typed past the window (the table's
        IDs not read and not in the live part), and rows that did not fit."""
        table, letter = self.mirror.table, self.where["Claim ID"]
        after = self.last_row + 1
        used = f"${col_letter(self.mirror.gate_column)}$1"
        moved = f"ABS(ROW({table}!${letter}${after})-{after})"
        if self.read_live:
            return f"{moved}+MAX(0,COUNTA({table}[Claim ID])-{self.frame_rows}-{used})+{self.dropped}"
        # Nothing reads the live part, so each row with an ID there is missed, once: typed
        # below the table (in LibreOffice outside it; in Excel, which grows the table over
        # it, inside it too, so COUNTA counts it as well), or typed into a row of the table
        # that was blank (the IDs in the rows not read, past those left out for an error,
        # which stay out of the figures after a recalculation too).
        typed = f'COUNTIF({self._span("Claim ID", self.window_first, self.live_last)},"?*")'
        inside = f"({used}-{typed})"
        return (f"{moved}+MAX(0,{inside}-{self.left_out})"
                f"+MAX({typed},COUNTA({table}[Claim ID])-{self.frame_rows}-{inside})+{self.dropped}")


def _cells(claims: pd.DataFrame, payments: pd.DataFrame, where: dict, values: dict,
           last_payment_row: int, last_claim_row: int, left_out: tuple[int, int] = (0, 0),
           runs: bool = False) -> Iterator[Cell]:
    claim_ids = _upper(claims["claim_id"]) if len(claims) else np.array([], dtype=object)
    claim_keys = claim_ids + "\x1f" + claims["line"].astype("int64").astype(str).to_numpy() if len(claims) \
        else np.array([], dtype=object)
    pay_keys = (_upper(payments["claim_id"]) + "\x1f" + payments["line"].astype("int64").astype(str).to_numpy()
                if len(payments) else np.array([], dtype=object))
    live = len(claims) <= LIVE_TAIL_LINES
    pays = _Part(PAYMENTS_MIRROR, where["Payments"], values["Payments"], pay_keys,
                 payments["_row"].to_numpy(), set(claim_keys), last_payment_row, live, left_out[0])
    lines = _Part(CLAIMS_MIRROR, where["Claims"], values["Claims"], claim_ids,
                  claims["_row"].to_numpy(), set(claim_ids), last_claim_row, live, left_out[1])

    out: dict[int, list[Cell]] = {0: [Cell(0, 0, TITLE), pays.used(), lines.used()]
                                  + ([pays.extent(), lines.extent()] if live else [])}
    cw = lines.live
    cid, cline = (f"Claims!${where['Claims'][h]}$" for h in ("Claim ID", "Line"))
    last_claims = int(claims["_row"].max()) if len(claims) else 1
    for r, claim_id, line, pk, ck in zip(claims["_row"].to_numpy(), claims["claim_id"].tolist(),
                                         claims["line"].tolist(), claim_keys, claim_ids):
        i, r = int(r) - 1, int(r)
        # The row still holds the line (not moved by a sort, an insertion or a deletion), and
        # its slots still hold the line's rows and its claim's.
        norm = _quoted(_normal(str(claim_id)))
        if str(claim_id).isdigit() and len(str(claim_id)) > 15:
            # (a number of more than 15 digits: Excel writes it as 1.23E+17, never as read)
            check = f'IFERROR(IF(AND(ROW({cline}{r})=ROW(),{cline}{r}=$B{r}),0,1),1)'
        else:
            check = (f'IFERROR(IF(AND(ROW({cline}{r})=ROW(),{_normal_formula(cid + str(r))}={norm},'
                     f'{cline}{r}=$B{r},'
                     f'SUMPRODUCT(({_normal_formula("px_p_ClaimID")}={norm})*(px_p_Line=$B{r}))=$E{r},'
                     f'SUMPRODUCT(--({_normal_formula("px_q_ClaimID")}={norm}))=$G{r}),0,1),1)')
        pay_static, claim_static = pays.static_count(pk), lines.static_count(ck)
        pay_gate: Formula | int = pay_static
        claim_gate: Formula | int = claim_static
        if live:      # (else the gates count the static rows alone: nothing typed since is read)
            pay_gate = Formula(f'{pay_static}+IF($D$1=0,0,COUNTIFS({pays.upto("Claim ID")},$A{r},'
                               f'{pays.upto("Line")},$B{r}))', pay_static)
            claim_gate = Formula(f'{claim_static}+IF($F$1=0,0,COUNTIF({lines.upto("Claim ID")},$A{r}))',
                                 claim_static)
        cells = [Cell(i, 0, str(claim_id)), Cell(i, 1, int(line)), Cell(i, 2, Formula(check, 0)),
                 Cell(i, 3, pay_gate), Cell(i, 5, claim_gate)]
        out[i] = cells + pays.slots(i, pk, runs) + lines.slots(i, ck, runs)
    for part in (pays, lines):
        for i, c in part.tail(runs):
            out.setdefault(i, []).append(c)
    # C1: the rows the live figures miss (any error in working it out counts as one)
    checks = f"SUM($C$2:$C${last_claims})+" if last_claims >= 2 else ""
    # ... and the claim lines in Claims' live part for a claim already read (its slots do
    # not hold the claim's other lines, nor theirs it, until a recalculation)
    # (when the live parts are read; else every row typed is missed already)
    joined = (f'+SUMPRODUCT(({cw["Claim ID"]}<>"")*(COUNTIF($A$2:$A${last_claims},{cw["Claim ID"]})>0))'
              if last_claims >= 2 and live else "")
    out[0].append(Cell(0, 2, Formula(f"IFERROR({checks}{pays.missed()}+{lines.missed()}{joined},1)", 0)))
    for i in sorted(out):
        yield from sorted(out[i], key=lambda c: c.col)


__all__ = ["INDEX_SHEET", "TITLE", "index_cells"]
