"""The Index sheet: where each Claims row finds its line's own Payments cells.

The Claims formulas read a line's Payments rows through two parts (formulas.py explains
why): its *slots*, the Index row of the same number, holding side by side a reference to
each of the line's Payments cells (``=Payments!$L$57``); and the *tail*, a column of
TAIL_ROWS rows per Payments column holding the rows of lines with more than K_SLOTS rows,
then the rows below the Payments table, where a payment typed after the recalculation
lands. Every recalculation writes the sheet anew from the rows it read; a Payments row
added, moved or deleted since is counted by the check cells, which the Dashboard shows.

Layout (0-based columns; row numbers are the Claims sheet's):

- A claim ID, B line (as read), C check (0, or 1 when Claims' row no longer holds that
  line or its slots no longer hold its rows), D gate (how many tail rows are the line's:
  the tail is read only when it is not 0), E the number of slots used;
- from INDEX_FIRST_SLOT, K_SLOTS columns for each Payments column of MIRRORED;
- from INDEX_TAIL_COLUMN, one column for each of MIRRORED, rows 2..TAIL_ROWS + 1;
- row 1: A the title, C the sum of the checks plus the Payments rows no part holds, D the
  number of rows typed in the tail window (the gates read it).

Mirrored cells keep what the formulas compare: a claim ID or an Action as text (&""), a
blank Allowed as "" (a blank allowed means "paid + patient resp. + sequestration"), any
other blank as 0, which every criterion the formulas use reads as a blank. Each carries
its value as read (the engine's Action for an Action), so that Excel and LibreOffice,
which recompute only what an edit touches, read the right value from the slots an edit
did not touch. (The Claims formulas' cached values need no recalculation when the Index
is rewritten: its rows name the same Payments cells as the formulas saw before, only in
other places.)
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .. import model as m
from ..codec import datetime_to_serial
from .formulas import INDEX_FIRST_SLOT, INDEX_SHEET, INDEX_TAIL_COLUMN, K_SLOTS, MIRRORED, TAIL_ROWS
from .xlsxpart import Cell, Formula, col_letter

TITLE = "payorxl index: where each Claims row finds its Payments rows (rewritten by every recalculation)"
_TEXT = ("Claim ID", "Action")


def _mirror(header: str, ref: str) -> str:
    if header in _TEXT:
        return f'{ref}&""'
    if header == "Allowed":
        return f'IF(ISBLANK({ref}),"",{ref})'
    return ref


def index_cells(claims: pd.DataFrame, payments: pd.DataFrame, payment_headers: list,
                actions: pd.Series | None = None, claim_headers: list | None = None,
                last_payment_row: int = 0) -> Iterator[Cell] | None:
    """The Index sheet's cells for the Claims and Payments frames as read (with `_row`, the
    sheet row of each; without it, rows from 2 in frame order), or None when the Payments
    sheet lacks a mirrored column (a workbook made before the Index existed: its formulas
    do not read one). actions: each Payments row's Action (engine.payment_actions), the
    value cached in its Action slot. claim_headers: the Claims sheet's header row (default:
    the template's). last_payment_row: the last Payments row read (a row with an error is
    in no frame), if below the frame's last."""
    headers = _lower(payment_headers)
    where = {}
    for h in MIRRORED:
        if h.lower() not in headers:
            return None
        where[h] = col_letter(headers.index(h.lower()))
    claim_names = _lower(claim_headers or [c.name for c in m.CLAIMS.columns])
    if "claim id" not in claim_names or "line" not in claim_names:
        return None
    claim_where = (col_letter(claim_names.index("claim id")), col_letter(claim_names.index("line")))
    claims, payments = _with_rows(claims), _with_rows(payments)
    last = max([last_payment_row, 1] + ([int(payments["_row"].max())] if len(payments) else []))
    return _cells(claims, payments, where, claim_where, last, _cached(payments, actions))


def _lower(headers: list) -> list[str]:
    return [("" if h is None else str(h).strip().lower()) for h in headers]


def _with_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if "_row" in frame:
        return frame
    return frame.assign(_row=np.arange(2, len(frame) + 2, dtype="int64"))


_MONEY = {"Paid": "paid", "Allowed": "allowed", "Patient Resp": "patient_resp", "Sequestration": "sequestration",
          "Contractual Adj": "contractual_adj", "Denied Amount": "denied_amount"}


def _cached(payments: pd.DataFrame, actions: pd.Series | None) -> dict[str, list]:
    """What each mirrored cell of each Payments row holds (the formula's value), by column."""
    out: dict[str, list] = {}

    def text(key: str) -> list:
        return ["" if pd.isna(v) else str(v) for v in payments[key].tolist()]

    def code(key: str) -> list:       # a status or a code: text, as payorxl writes it; a blank is 0
        return [0 if v == "" else v for v in text(key)]

    out["Claim ID"] = text("claim_id")
    out["Line"] = payments["line"].astype("int64").tolist()
    out["Payer Seq"] = code("payer_seq")
    out["Claim Status"] = code("claim_status")
    out["CARC"] = code("carc")
    out["Remit Date"] = [0 if pd.isna(v) else datetime_to_serial(v.to_pydatetime())
                         for v in payments["remit_date"].tolist()]
    for h, key in _MONEY.items():
        cents = payments[key]
        blank = "" if h == "Allowed" else 0
        out[h] = [blank if pd.isna(v) else v / 100 for v in cents.astype(object).tolist()]
    out["Action"] = ([""] * len(payments) if actions is None
                     else ["" if pd.isna(v) else str(v) for v in actions.tolist()])
    return out


def _key(frame: pd.DataFrame) -> pd.Series:
    """A line's key as COUNTIFS matches it: the claim ID without case, and the line."""
    return frame["claim_id"].astype(str).str.upper() + "\x1f" + frame["line"].astype("int64").astype(str)


_EMPTY = {h: "" if h in _TEXT or h == "Allowed" else 0 for h in MIRRORED}   # a blank row's


def _cells(claims: pd.DataFrame, payments: pd.DataFrame, where: dict[str, str], claim_where: tuple[str, str],
           last_payment_row: int, cached: dict[str, list]) -> Iterator[Cell]:
    yield Cell(0, 0, TITLE)
    rows_of: dict[str, list[int]] = {}
    at: dict[int, int] = {}            # sheet row -> position in the frame
    if len(payments):
        order = np.argsort(payments["_row"].to_numpy(), kind="stable")
        keys = _key(payments).to_numpy()[order]
        sheet_rows = payments["_row"].to_numpy()[order]
        for k, r, i in zip(keys, sheet_rows, order):
            rows_of.setdefault(k, []).append(int(r))
            at[int(r)] = int(i)

    def value(h: str, x: int):
        i = at.get(x)
        return _EMPTY[h] if i is None else cached[h][i]
    claimed = set(_key(claims)) if len(claims) else set()
    # The tail: the rows past K_SLOTS of each line (in sheet order), then the window.
    overflow = [r for k, rows in rows_of.items() if k in claimed for r in rows[K_SLOTS:]]
    overflow.sort()
    overflow = overflow[:TAIL_ROWS]
    window = range(last_payment_row + 1, last_payment_row + 1 + TAIL_ROWS - len(overflow))
    tail_rows = overflow + list(window)
    first_window = 2 + len(overflow)          # Index row of the window's first row
    last_tail = TAIL_ROWS + 1
    id_col, line_col = col_letter(INDEX_TAIL_COLUMN), col_letter(INDEX_TAIL_COLUMN + 1)
    window_ids = f"${id_col}${first_window}:${id_col}${last_tail}"
    window_lines = f"${line_col}${first_window}:${line_col}${last_tail}"
    yield Cell(0, 3, Formula(f'COUNTIF({window_ids},"?*")', 0))
    # The rows the live figures miss (the Dashboard says to recalculate when not 0): each
    # row's check (C); Payments rows inserted or deleted among those read (the row after
    # the last read no longer where it was); and rows below the window.
    pid = where["Claim ID"]
    after = last_payment_row + 1
    beyond = (f'MAX(0,COUNTA(Payments[Claim ID])-COUNTA(Payments!${pid}$2:${pid}${last_payment_row})-$D$1)'
              if last_payment_row >= 2 else 'MAX(0,COUNTA(Payments[Claim ID])-$D$1)')
    last_claim_row = int(claims["_row"].max()) if len(claims) else 1
    checks = f'SUM($C$2:$C${last_claim_row})+' if last_claim_row >= 2 else ""
    yield Cell(0, 2, Formula(f'{checks}ABS(ROW(Payments!${pid}${after})-{after})+{beyond}', 0))
    n_overflow = {}
    for k, rows in rows_of.items():
        if k in claimed and len(rows) > K_SLOTS:
            n_overflow[k] = min(len(rows) - K_SLOTS, TAIL_ROWS)
    # The rows, in sheet order: each Claims row's (row 0 is the title's), then the tail's.
    claim_rows = claims[["_row", "claim_id", "line"]].sort_values("_row", kind="stable") if len(claims) else None
    out_rows: dict[int, list[Cell]] = {}
    if claim_rows is not None:
        for (r, cid, line), k in zip(claim_rows.itertuples(index=False, name=None), _key(claim_rows)):
            i = int(r) - 1
            mine = rows_of.get(k, [])[:K_SLOTS]
            cid_cell, line_cell = (f"Claims!${c}${r}" for c in claim_where)
            check = (f'IF(AND(UPPER(TRIM({cid_cell}&""))=UPPER($A{r}),{line_cell}=$B{r},'
                     f'COUNTIFS(px_p_ClaimID,$A{r},px_p_Line,$B{r})=$E{r}),0,1)')
            cells = [Cell(i, 0, str(cid)), Cell(i, 1, int(line)), Cell(i, 2, Formula(check, 0)),
                     Cell(i, 3, Formula(f'{n_overflow.get(k, 0)}+IF($D$1=0,0,COUNTIFS({window_ids},$A{r},'
                                        f'{window_lines},$B{r}))', n_overflow.get(k, 0))),
                     Cell(i, 4, len(mine))]
            for g, h in enumerate(MIRRORED):
                first = INDEX_FIRST_SLOT + g * K_SLOTS
                cells += [Cell(i, first + j, Formula(_mirror(h, f"Payments!${where[h]}${x}"), value(h, x)))
                          for j, x in enumerate(mine)]
            out_rows[i] = cells
    for t, x in enumerate(tail_rows):
        i = 1 + t
        out_rows.setdefault(i, []).extend(
            Cell(i, INDEX_TAIL_COLUMN + g, Formula(_mirror(h, f"Payments!${where[h]}${x}"), value(h, x)))
            for g, h in enumerate(MIRRORED))
    for i in sorted(out_rows):
        yield from out_rows[i]


__all__ = ["INDEX_SHEET", "TITLE", "index_cells"]
