"""What each owned sheet shows: engine results laid out as cells.

The Dashboard has a fixed layout (the charts the template puts on it read fixed ranges,
so their positions live here, in `DASHBOARD`, for the template builder too); the other
owned sheets are titled tables. Every table's headers and kinds come from its declaration
in model.py (model.WORKLIST, model.SCORECARD, ...); values cross into cells through
codec.to_excel (cents to dollars, dates as dates, rates as fractions under a percent
format).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from .. import model as m
from ..codec import to_excel
from ..engine import Results
from .xlsxpart import Cell, Style

NAVY, LIGHT, GREY, RED, AMBER, GREEN = "1F3864", "DDEBF7", "595959", "C00000", "C65911", "375623"
TOTAL_FILL = "F2F2F2"
STYLES: dict[str, Style] = {
    "title": Style(bold=True, size=18, color=NAVY),
    "subtitle": Style(italic=True, size=10, color=GREY),
    "section": Style(bold=True, size=13, color=NAVY),
    "header": Style(bold=True, fill=LIGHT, wrap=True),   # a long header wraps; the column keeps its width
    "header_num": Style(bold=True, fill=LIGHT, wrap=True, align="right"),   # over a column of figures
    "header_center": Style(bold=True, fill=LIGHT, wrap=True, align="center"),
    "int_center": Style(num_format="#,##0", align="center"),
    "center": Style(align="center"),
    "money": Style(num_format=m.FMT_MONEY),
    "date": Style(num_format=m.FMT_DATE),
    "percent": Style(num_format=m.FMT_PERCENT),
    "int": Style(num_format="#,##0"),
    "number": Style(num_format="0.0"),
    "missed": Style(bold=True, color=RED),
    "soon": Style(bold=True, color=AMBER),
    "tile_label": Style(bold=True, size=10, color="FFFFFF", fill=NAVY, align="center", wrap=True),
    "tile_percent": Style(num_format=m.FMT_PERCENT, bold=True, size=20, color=NAVY, fill=LIGHT, align="center"),
    "tile_money": Style(num_format='"$"#,##0', bold=True, size=20, color=NAVY, fill=LIGHT, align="center"),
    "tile_number": Style(num_format="0.0", bold=True, size=20, color=NAVY, fill=LIGHT, align="center"),
    "tile_count": Style(num_format="#,##0", bold=True, size=20, color=NAVY, fill=LIGHT, align="center"),
    "tile_alert": Style(num_format="#,##0", bold=True, size=20, color=RED, fill=LIGHT, align="center"),
    "tile_note": Style(italic=True, size=8, color=GREY, wrap=True),
    # The totals row under a table (totals_cells), and the line a table shows when it
    # has nothing to list ("No problems found", "Nothing to do").
    "total": Style(bold=True, fill=TOTAL_FILL),
    "total_money": Style(num_format=m.FMT_MONEY, bold=True, fill=TOTAL_FILL),
    "total_percent": Style(num_format=m.FMT_PERCENT, bold=True, fill=TOTAL_FILL),
    "total_int": Style(num_format="#,##0", bold=True, fill=TOTAL_FILL),
    "ok": Style(bold=True, color=GREEN),
    "note": Style(italic=True, color=GREY),
    "today_label": Style(italic=True, size=10, color=GREY, align="right"),
    "today": Style(num_format=m.FMT_DATE, italic=True, size=10, color=GREY, align="right"),
}
KIND_STYLE = {m.MONEY: "money", m.DATE: "date", m.PERCENT: "percent", m.INT: "int",
              m.NUMBER: "number", m.TEXT: "", m.BOOL: "", m.DATETIME: "date"}
RIGHT_ALIGNED = (m.MONEY, m.DATE, m.PERCENT, m.INT, m.NUMBER, m.DATETIME)   # figures: their header too
# Short codes and small counts, centred (with their header): a right-aligned line number
# beside a left-aligned CPT code would read as one figure ("1 99214").
CENTERED = {"rank": "int_center", "line": "int_center", "days_left": "int_center", "cpt": "center",
            "modifier": "center"}


@dataclass(frozen=True)
class Block:
    """A titled table on a Dashboard (the practice's, the portfolio's) at a fixed place with
    a fixed number of slots: the charts the template puts beside it read those rows."""
    title: str
    row: int            # 0-based row of the title; header on row+1, data from row+2
    slots: int
    fields: tuple[m.Field, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def cells(self, frame: pd.DataFrame) -> list[Cell]:
        """The title, the header row and at most `slots` rows of `frame`."""
        return [Cell(self.row, 0, self.title, "section"),
                *table_cells(frame, self.fields, self.row + 1, limit=self.slots)]

    @property
    def first_data_row(self) -> int:
        return self.row + 2

    @property
    def last_data_row(self) -> int:
        return self.row + 1 + self.slots


# The Dashboard's Today (0-based row, column: R2, the print area's right edge, beside the
# subtitle): what a blank As-of Date stands for (model.Settings.today), a date every
# recalculation writes, which the native formulas read as px_Today (formulas.settings_names).
TODAY_CELL = (1, 17)
TODAY_LABEL = "Today"
TILE_ROWS = (3, 7)            # label rows of the two tile rows (value below, note below that)
TILES_PER_ROW = 7
DENIALS_BLOCK = m.DENIALS.only("payor", "claims_adjudicated", "claims_denied", "denial_rate", "charges_denied")
AGING_BLOCK = m.AGING.only("payor", *m.AGING_BUCKETS, "total")
CATEGORY_BLOCK = (m.Field("Category", "category", m.TEXT), m.DENIALS.field("claims_denied"),
                  m.Field("Share of adjudicated", "denial_rate", m.PERCENT), m.DENIALS.field("charges_denied"))
DASHBOARD = {
    "denials": Block("Initial denial rate by payor", 11, 10, DENIALS_BLOCK),
    "aging": Block(m.AGING.title, 24, 10, AGING_BLOCK),
    "categories": Block("Denials by root cause (CARC category)", 37, 13, CATEGORY_BLOCK),
    "monthly": Block(m.MONTHLY.title, 53, 12, m.MONTHLY.fields),
    "deadlines": Block(m.DEADLINES.title, 68, 4, m.DEADLINES.fields),
}
CHART_COLUMN = 8   # charts sit from column I, beside their block
CHART_COLUMNS = 10  # ... and span about ten default-width columns (I:R): the print area's right edge
BUTTON_ROW = 2      # the .xlsm's buttons: a bar under the subtitle, from column A (template.py)
TABLE_HEADER_ROW = 3  # a one-table sheet: title, subtitle, a blank row, then the header row
TILE_ORDER = ("initial_denial_rate", "net_collection_rate", "days_in_ar", "ar_total",
              "underpayment", "missed_deadlines", "at_risk",
              "charge_denial_rate", "clean_claim_rate", "first_pass_resolution_rate",
              "appeal_overturn_rate", "final_denial_writeoff_rate", "missed_amount", "at_risk_amount")


# Row heights (points) of the Dashboard's tile rows: label, value, definition; and of the
# button bar (buttons 28 px high, 2 px below the row's top: 26 pt is 35 px).
DASHBOARD_HEIGHTS = {BUTTON_ROW: 26, **{r + k: h for r in TILE_ROWS for k, h in ((0, 28), (1, 34), (2, 46))}}
# By sheet, for every writer of the owned sheets (and the template, for its anchors):
# the Dashboard's, and two lines for the header rows whose long headers wrap.
ROW_HEIGHTS = {"Dashboard": DASHBOARD_HEIGHTS,
               "Worklist": {TABLE_HEADER_ROW: 30}, "Scorecard": {TABLE_HEADER_ROW: 30}}


def _status_style(value) -> str:
    return {"Missed": "missed", "Due soon": "soon", "Filed late": "missed", "Overdue": "missed",
            "Appealed late": "missed"}.get(value, "")


def table_cells(frame: pd.DataFrame, fields: tuple[m.Field, ...], top: int, left: int = 0,
                limit: int | None = None) -> list[Cell]:
    """The declared fields of `frame`: headers at row `top`, data below."""
    def centered(f: m.Field) -> bool:
        return f.key in CENTERED and f.kind in (m.INT, m.TEXT)

    cells = [Cell(top, left + j, f.name, "header_center" if centered(f) else
                  "header_num" if f.kind in RIGHT_ALIGNED else "header") for j, f in enumerate(fields)]
    rows = frame if limit is None else frame.head(limit)
    for j, f in enumerate(fields):
        values = rows[f.key].tolist() if f.key in rows else [None] * len(rows)
        for i, v in enumerate(values):
            val = to_excel(v, f.kind)
            style = (_status_style(val) if f.kind == m.STATUS else CENTERED[f.key] if centered(f)
                     else KIND_STYLE.get(f.kind, ""))
            cells.append(Cell(top + 1 + i, left + j, val, style))
    return cells


def _titled(title: str, subtitle: str) -> list[Cell]:
    return [Cell(0, 0, title, "title"), Cell(1, 0, subtitle, "subtitle")]


def _subtitle(results: Results) -> str:
    s = results.settings
    name = s.practice_name or "Practice"
    n_err = sum(1 for e in results.errors if e.severity == "error")
    note = f" · {n_err} row(s) left out: see Exceptions" if n_err else ""
    return (f"{name} · as of {s.as_of:%m/%d/%Y} · {len(results.lines):,} claim lines"
            f" · recalculated by payorxl{note}")


def dashboard(results: Results) -> list[Cell]:
    s = results.settings
    cells = _titled(f"{s.practice_name or 'Practice'} — payor dashboard", _subtitle(results))
    row, column = TODAY_CELL
    cells += [Cell(row, column - 1, TODAY_LABEL, "today_label"),
              Cell(row, column, to_excel(s.today if s.today is not None else s.as_of, m.DATE), "today")]
    for n, key in enumerate(TILE_ORDER):
        kpi = results.kpis[key]
        row = TILE_ROWS[n // TILES_PER_ROW]
        col = n % TILES_PER_ROW
        style = {"percent": "tile_percent", "money": "tile_money", "number": "tile_number",
                 "count": "tile_count"}[kpi.kind]
        if key.startswith("missed") and kpi.value:
            style = "tile_alert" if kpi.kind == "count" else style
        value = to_excel(kpi.value, kpi.kind)
        cells += [Cell(row, col, kpi.label, "tile_label"), Cell(row + 1, col, value, style),
                  Cell(row + 2, col, (kpi.source + ": " if kpi.source else "") + kpi.definition, "tile_note")]

    aging = results.aging.sort_values("total", ascending=False) if len(results.aging) else results.aging
    for name, frame in (("denials", results.denials_by["payor"]), ("aging", aging),
                        ("categories", results.denials_by["category"]), ("monthly", results.monthly),
                        ("deadlines", results.deadlines)):
        cells += DASHBOARD[name].cells(frame)
    return cells


def totals_cells(totals: dict, fields: tuple[m.Field, ...], row: int, label: str = "Total") -> list[Cell]:
    """A totals row: `label` in the first column, each field's total (a value as the
    engine holds it: cents, counts, fractions) through codec.to_excel; a field not in
    `totals` is left blank (but shaded, so the row reads as one)."""
    cells = []
    for j, f in enumerate(fields):
        value = label if j == 0 else (to_excel(totals[f.key], f.kind) if f.key in totals else None)
        kind = {m.MONEY: "total_money", m.PERCENT: "total_percent", m.INT: "total_int"}.get(f.kind, "total")
        cells.append(Cell(row, j, value, kind))
    return cells


def _sum(frame: pd.DataFrame, key: str) -> int:
    return int(pd.to_numeric(frame[key], errors="coerce").fillna(0).sum())


def aging_totals(results: Results) -> dict:
    """Every bucket, Total and Open Lines summed over the payors (Total is the A/R KPI,
    ar_total, to the cent); Open Claims is the number of distinct claims with an open
    balance (a claim is counted once even where its lines sit with two payors), not a sum."""
    aging = results.aging
    totals = {key: _sum(aging, key) for key in (*m.AGING_BUCKETS, "total", "open_lines")}
    lines = results.lines
    if "aging_bucket" in lines and "claim_id" in lines:
        totals["open_claims"] = int(lines.loc[lines["aging_bucket"].astype(str) != "", "claim_id"].nunique())
    return totals


def scorecard_totals(results: Results) -> dict:
    """The Scorecard's totals row. Counts and dollars are the column sums (each payor's
    claims are its own, so Claims sums too). The three rates are never averaged over the
    payors: they are the engine's all-payor figures (the Dashboard's KPIs), computed from
    the sums of their numerators and denominators over every line."""
    sc = results.scorecard
    totals = {key: _sum(sc, key) for key in ("claims", "lines", "charges", "paid", "ar", "underpaid_lines",
                                             "underpayment", "missed_filing", "missed_appeals", "due_soon")}
    for key, kpi in (("denial_rate", "initial_denial_rate"), ("charge_denial_rate", "charge_denial_rate"),
                     ("net_collection_rate", "net_collection_rate")):
        totals[key] = results.kpis[kpi].value
    return totals


def _one_table(title: str, results: Results, frame: pd.DataFrame, output: m.Output,
               totals: dict | None = None, none_note: str = "", ok_note: str = "") -> list[Cell]:
    """A titled sheet of one table, header on TABLE_HEADER_ROW. Under the rows, after a
    blank row (so that sorting the table, which takes the block around the cursor,
    leaves it out), the `totals` row; an empty table shows `none_note` instead. A
    non-empty `ok_note` is a line saying all is well ("No problems found"): in green,
    where the rows would be, or under them."""
    cells = _titled(title, _subtitle(results)) + table_cells(frame, output.fields, TABLE_HEADER_ROW)
    below = TABLE_HEADER_ROW + 1 + len(frame) + (1 if len(frame) else 0)
    if ok_note:
        cells.append(Cell(below, 0, ok_note, "ok"))
    elif not len(frame) and none_note:
        cells.append(Cell(below, 0, none_note, "note"))
    elif totals is not None and len(frame):
        cells += totals_cells(totals, output.fields, below)
    return cells


NO_PROBLEMS = "No problems found"
NOTHING_TO_DO = ("Nothing to do: no deadline missed or due soon, no denial to appeal, "
                 "no underpayment or unpaid claim to chase.")


def reconciliation_ok(reconciliation: pd.DataFrame) -> bool:
    """Every imported 835 balances and every payment has its claim line."""
    items = reconciliation["item"].astype(str) if len(reconciliation) else pd.Series(dtype=object)
    return bool((items == "835 file").all()
                and (reconciliation.loc[items == "835 file", "status"].astype(str) == "Balanced").all())


def _sheet(title: str, results: Results, blocks: list[tuple[str, pd.DataFrame, m.Output]]) -> list[Cell]:
    cells = _titled(title, _subtitle(results))
    row = 3
    for heading, frame, output in blocks:
        if heading:
            cells.append(Cell(row, 0, heading, "section"))
            row += 1
        cells += table_cells(frame, output.fields, row)
        row += len(frame) + 3
    return cells


def exceptions_frame(errors, show_phi: bool = False) -> pd.DataFrame:
    return pd.DataFrame([{"severity": e.severity.title(), "sheet": e.ref.sheet, "row": e.ref.row,
                          "column": e.ref.column or "", "value": e.shown_value(show_phi),
                          "problem": e.message, "fix": e.fix} for e in errors],
                        columns=m.EXCEPTIONS.keys)


def owned_sheets(results: Results, reconciliation: pd.DataFrame | None = None) -> dict[str, list[Cell]]:
    """Cells for every owned sheet."""
    pf = results.portfolio
    exceptions = exceptions_frame(results.errors)
    sheets = {
        "Dashboard": dashboard(results),
        "Worklist": _one_table(m.WORKLIST.title, results, results.worklist, m.WORKLIST,
                               ok_note="" if len(results.worklist) else NOTHING_TO_DO),
        "Scorecard": _one_table(m.SCORECARD.title, results, results.scorecard, m.SCORECARD,
                                scorecard_totals(results), none_note="No claim lines yet."),
        "Aging": _one_table(m.AGING.title, results, results.aging, m.AGING, aging_totals(results),
                            none_note="No open insurance balances."),
        "Portfolio": _sheet("Payor portfolio — the view to take into a negotiation", results,
                            [(o.title, pf[o.name], o) for o in m.PORTFOLIO]),
        "Exceptions": _one_table(m.EXCEPTIONS.title, results, exceptions, m.EXCEPTIONS,
                                 ok_note="" if len(exceptions) else
                                 f"{NO_PROBLEMS}: every row of every table is in the figures."),
    }
    if reconciliation is not None:
        sheets["Reconciliation"] = list(reconciliation_sheet(results, reconciliation))
    return sheets


RECONCILIATION_CHUNK_ROWS = 5_000   # rows of Reconciliation cells made at a time


def reconciliation_sheet(results: Results, reconciliation: pd.DataFrame) -> Iterator[Cell]:
    """The Reconciliation sheet's cells (as `_one_table` lays out a one-table sheet),
    made a few thousand rows at a time and in row order (a row's cells together, rows
    ascending): an import's Reconciliation lists every unmatched payment, millions of
    cells for a large remittance, and append.replace_cells writes such an iterator
    without holding it. owned_sheets takes them as a list. The title, the note and the
    checks are made here, at once; only `reconciliation` is kept for the rows."""
    ok = ""
    if reconciliation_ok(reconciliation):
        files = int((reconciliation["item"].astype(str) == "835 file").sum()) if len(reconciliation) else 0
        ok = (f"{NO_PROBLEMS}: every imported 835 balances and every payment has its claim line." if files
              else f"{NO_PROBLEMS}: every payment has its claim line (no 835 imported yet).")
    head = _titled(m.RECONCILIATION.title, _subtitle(results)) + \
        table_cells(reconciliation.iloc[:0], m.RECONCILIATION.fields, TABLE_HEADER_ROW)
    n = len(reconciliation)
    below = TABLE_HEADER_ROW + 1 + n + (1 if n else 0)
    note = [Cell(below, 0, ok, "ok")] if ok else []
    return _table_rows(head, reconciliation, m.RECONCILIATION.fields, TABLE_HEADER_ROW, note)


def _table_rows(head: list[Cell], frame: pd.DataFrame, fields: tuple[m.Field, ...], top: int,
                tail: list[Cell]) -> Iterator[Cell]:
    """`head`, then table_cells' data cells of `frame` (header at `top`) row by row, a
    chunk of rows at a time, then `tail`."""
    yield from head
    styles = []
    for f in fields:
        centered = f.key in CENTERED and f.kind in (m.INT, m.TEXT)
        styles.append(None if f.kind == m.STATUS else CENTERED[f.key] if centered else KIND_STYLE.get(f.kind, ""))
    for start in range(0, len(frame), RECONCILIATION_CHUNK_ROWS):
        rows = frame.iloc[start:start + RECONCILIATION_CHUNK_ROWS]
        columns = []
        for f, style in zip(fields, styles):
            values = [to_excel(v, f.kind) for v in rows[f.key].tolist()] if f.key in rows \
                else [to_excel(None, f.kind)] * len(rows)
            columns.append((values, style))
        for i in range(len(rows)):
            row = top + 1 + start + i
            for j, (values, style) in enumerate(columns):
                val = values[i]
                yield Cell(row, j, val, _status_style(val) if style is None else style)
        del rows, columns
    yield from tail
