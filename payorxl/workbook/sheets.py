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
from ..engine.lines import distinct_claims
from . import blocks as bk
from .blocks import Crit, crit, number_crit, term
from .formulas import INDEX_SHEET, TODAY_CELL, setting_value
from .xlsxpart import Cell, Formula, Style, col_letter

NAVY, LIGHT, GREY, RED, AMBER, GREEN = "1F3864", "DDEBF7", "595959", "C00000", "C65911", "375623"
TOTAL_FILL = "F2F2F2"
# The Dashboard's Today (0-based row, column: G2, at the subtitle's end, over the tiles'
# right edge): what a blank As-of Date stands for (model.Settings.today), a date every
# recalculation writes, which the native formulas read as px_Today (formulas.settings_names).
# One cell, shown as "Today 10/31/2026" by its number format. Its address is part of the
# workbook's format: each workbook's defined name px_Today holds it, so moving it needs
# that name rewritten in every existing workbook. (Declared in formulas.py, which names it.)
TODAY_LABEL = "Today"
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
    "today": Style(num_format=f'"{TODAY_LABEL} "{m.FMT_DATE}', bold=True, size=10, color=NAVY, align="right"),
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


TILE_ROWS = (3, 7)            # label rows of the two tile rows (value below, note below that)
TILES_PER_ROW = 7
DENIALS_BLOCK = m.DENIALS.only("payor", "claims_adjudicated", "claims_denied", "denial_rate", "charges_denied",
                               "charge_denial_rate")
AGING_BLOCK = m.AGING.only("payor", *m.AGING_BUCKETS, "total")
CATEGORY_BLOCK = (m.Field("Category", "category", m.TEXT), m.DENIALS.field("claims_denied"),
                  m.Field("Share of adjudicated", "denial_rate", m.PERCENT), m.DENIALS.field("charges_denied"))
DASHBOARD = {
    "denials": Block("Initial denial rate by payor", 11, 10, DENIALS_BLOCK),
    "aging": Block(m.AGING.title, 24, 10, AGING_BLOCK),
    "categories": Block("Denials by root cause (CARC category)", 37, 13, CATEGORY_BLOCK),
    "monthly": Block(m.MONTHLY.title, 53, 12, m.MONTHLY.fields),
    "deadlines": Block(m.DEADLINES.title, 68, 5, m.DEADLINES.fields),
}
# The line under the deadlines table saying which of the Dashboard's figures are live.
DASHBOARD_NOTE_ROW = DASHBOARD["deadlines"].last_data_row + 1
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


# --- live figures ----------------------------------------------------------------------
# The figures below are formulas over the Claims sheet's calculated columns (each a
# COUNTIFS/SUMIFS over one table: one pass over Claims), so they move as the clerk edits,
# in Excel and LibreOffice alike, with or without Python; each carries the engine's value
# as its cached value, so opening the workbook shows it without recalculating. The rest
# need the engine: they are values, as of the recalculation the subtitle names. A figure is
# live only where the Claims columns define it exactly as the engine does;
# tests/workbook/test_live_figures.py recalculates every one in LibreOffice, before and
# after an edit, against the engine.
#
# Distinct claims (the claims-basis denial rate, Claims, Open Claims) stay values: a claim is
# adjudicated or denied when any of its lines is, and no formula can find a line's claim-mates
# at a cost that does not grow with the table (a COUNTIFS per row over Claims is n² per edit;
# a "first line of its claim" flag read off the row above is right only while every claim's
# lines stay together, which a line added at the bottom for an older claim breaks). The
# charges-basis rate sums lines, so it is live.

LIVE_NOTE = ("Live figures (A/R, aging, lines, charges, paid, adjudicated charges, denial rate ($), "
             "underpayments, missed and due-soon counts) follow Claims and Payments as you edit; the others "
             "(claims, the claims-basis denial rate, collections, recovered) are as of the last recalculation.")
DASHBOARD_LIVE_NOTE = ("Live figures follow Claims and Payments as you edit: A/R, Days in A/R, Initial denial "
                       "rate ($), Underpayments, missed and due-soon deadlines (tiles and this table), the aging and "
                       "the charges denied by payor. The others (claims-basis rates, collections, months, root "
                       "causes) are as of the last recalculation.")
# When the figures are values only: the formulas would count rows the engine left out.
NOT_LIVE_NOTE = ("Every figure is as of the last recalculation: rows with errors are left out of them "
                 "(see Exceptions), and the sheet's formulas would count them; fix the rows to make the "
                 "figures live again.")


def live_figures(results: Results) -> bool:
    """Whether the live formulas equal the engine's figures: not when a row was left out of
    them (an error in Exceptions), since Claims' own columns still count it."""
    return not any(e.severity == "error" for e in results.errors)


def _eq(cell: str) -> str:
    """A SUMIFS/COUNTIFS criterion true only for the text in `cell`: its * ? ~ escaped (they
    are wildcards there) and "=" before it (so a leading < > = is not a comparison)."""
    return f'"="&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({cell},"~","~~"),"*","~*"),"?","~?")'


LINE = crit("Role", "Line")     # a line of its own (not a next payer's row, not void)


def _statuses(fn: str, total: str | None, column: str, statuses: tuple[str, ...], *extra: Crit) -> str:
    """fn (COUNTIFS, or SUMIFS of Claims column `total`) over the lines whose Claims `column`
    is one of `statuses`."""
    return "+".join(term(fn, total, LINE, crit(column, st), *extra) for st in statuses)


def _filing(fn: str, total: str | None, statuses: tuple[str, ...]) -> str:
    return _statuses(fn, total, "Filing Status", statuses)


def _at_risk_dollars(statuses: tuple[str, ...], column: str = "Filing Status") -> str:
    """What a filing or prompt-pay deadline puts at risk (engine _deadline_table): the line's
    Expected Allowed, its Charge where it has none (a text "" is not >= 0)."""
    priced = _statuses("SUMIFS", "Charge", column, statuses, number_crit("Expected Allowed", ">=", 0))
    return (f'{_statuses("SUMIFS", "Expected Allowed", column, statuses)}'
            f'+{_statuses("SUMIFS", "Charge", column, statuses)}-({priced})')


MISSED_FILING = ("Missed", "Filed late")
OWED = ("Open", "Sent")    # an underpayment's follow-up still owed (engine OPEN_FOLLOW_UP)


def _by_payor(payor: str | None, name: str | None = None) -> dict[str, str]:
    """Live formulas of a payor's row (`payor`: the cell holding its name, `name`: that
    name, which lets the terms be summed by blocks: blocks.py), by field key; None: of
    every payor (a totals row: the whole table, so a payor the rows above do not list yet
    is in it too)."""
    name = name if bk.literal_ok(name) else None       # else its terms read whole columns
    who = (Crit("Payor", _eq(payor), "=", name, None if name is None else bk.text_literal(name)),) if payor else ()
    positive = number_crit("Balance", ">", 0)
    live = {b: term("SUMIFS", "Balance", *who, crit("Aging Bucket", b)) for b in m.AGING_BUCKETS}
    adjudicated = term("SUMIFS", "Charge", *who, LINE, number_crit("Remittances", ">", 0))
    denied = term("SUMIFS", "Charge", *who, LINE, crit("Denied First Pass", True))
    owed = {fn: "+".join(term(fn, total, *who, crit("Underpaid", True), crit("Follow-up", st)) for st in OWED)
            for fn, total in (("COUNTIFS", None), ("SUMIFS", "Variance"))}
    live.update({
        "open_lines": term("COUNTIFS", None, *who, positive),
        "lines": term("COUNTIFS", None, *who, LINE),
        "charges": term("SUMIFS", "Charge", *who, LINE),
        "paid": term("SUMIFS", "Paid", *who, LINE),
        "ar": term("SUMIFS", "Balance", *who, positive),
        "missed_filing": "+".join(term("COUNTIFS", None, *who, LINE, crit("Filing Status", st))
                                  for st in MISSED_FILING),
        # the initial denial rate, charges basis (denials.initial_denial_rate): blank when
        # nothing was adjudicated
        "charges_adjudicated": adjudicated,
        "charges_denied": denied,
        "charge_denial_rate": f'IF({adjudicated}=0,"",{denied}/{adjudicated})',
        "missed_appeals": term("COUNTIFS", None, *who, LINE, crit("Appeal Status", "Missed")),
        "due_soon": (term("COUNTIFS", None, *who, LINE, crit("Filing Status", "Due soon"))
                     + "+" + term("COUNTIFS", None, *who, LINE, crit("Appeal Status", "Due soon"))),
        "underpaid_lines": owed["COUNTIFS"],
        "underpayment": owed["SUMIFS"],
    })
    return live


def _live_kpis() -> dict[str, str]:
    ar = term("SUMIFS", "Balance", number_crit("Balance", ">", 0))
    days = setting_value("ar_period_days")
    blocks = bk.active()     # (the period's dates, for the blocks' values)
    as_of = None if blocks is None else blocks.as_of
    since = None if blocks is None else blocks.as_of - blocks.ar_period_days
    charges = term("SUMIFS", "Charge", LINE, Crit("Date of Service", f'">"&(px_AsOf-{days})', ">", since),
                   Crit("Date of Service", '"<="&px_AsOf', "<=", as_of))
    whole = _by_payor(None)
    return {"ar_total": ar, "days_in_ar": f'IF({charges}=0,"",{ar}/({charges}/{days}))',
            "charge_denial_rate": whole["charge_denial_rate"], "underpayment": whole["underpayment"]}


# The deadline tiles: the sum of a column of the deadlines table (engine _kpis).
DEADLINE_TILES = {"missed_deadlines": "missed", "missed_amount": "missed_amount",
                  "at_risk": "due_soon", "at_risk_amount": "due_soon_amount"}


def _live_deadline(key: str, deadline: str) -> str | None:
    """A cell of the deadlines table (engine _deadline_table): the row of `deadline`, the
    column `key`. Dollars: Expected Allowed (else the Charge) for filing and prompt pay, the
    Denied Amount for appeals and resubmissions; a contract notice has none."""
    if deadline == "Timely filing":
        return {"missed": _filing("COUNTIFS", None, MISSED_FILING),
                "missed_amount": _at_risk_dollars(MISSED_FILING),
                "due_soon": _filing("COUNTIFS", None, ("Due soon",)),
                "due_soon_amount": _at_risk_dollars(("Due soon",))}.get(key)
    if deadline in ("Appeal", "Resubmission"):
        column = "Appeal Status" if deadline == "Appeal" else "Resubmit Status"
        status = {"missed": "Missed", "missed_amount": "Missed", "due_soon": "Due soon",
                  "due_soon_amount": "Due soon"}.get(key)
        if status is None:
            return None
        return (term("COUNTIFS", None, crit(column, status)) if key in ("missed", "due_soon")
                else term("SUMIFS", "Denied Amount", crit(column, status)))
    if deadline == "Prompt pay":     # Overdue is its Missed; it has no due-soon window
        return {"missed": term("COUNTIFS", None, crit("Prompt Pay Status", "Overdue")),
                "missed_amount": _at_risk_dollars(("Overdue",), "Prompt Pay Status")}.get(key)
    if deadline == "Contract notice":   # deadlines.contract_notices, on Contracts' Notice Deadline
        soon = setting_value("notice_due_soon_days")
        return {"missed": 'COUNTIFS(Contracts[Notice Deadline],"<"&px_AsOf)',
                "due_soon": (f'COUNTIFS(Contracts[Notice Deadline],">="&px_AsOf,'
                             f'Contracts[Notice Deadline],"<="&(px_AsOf+{soon}))')}.get(key)
    return None


def _live(cells: list[Cell], fields: tuple[m.Field, ...], top: int, left: int, rows: int,
          formula) -> list[Cell]:
    """`cells` (table_cells' with header at `top`), the data cells of `rows` rows whose field
    `formula(key, i, excel_row)` gives a formula for made Formula cells, their value cached
    (0 where the engine has none: a formula shows 0)."""
    keys = {left + j: f.key for j, f in enumerate(fields)}
    kinds = {left + j: f.kind for j, f in enumerate(fields)}
    out = []
    for c in cells:
        if top < c.row <= top + rows and c.col in keys:
            text = formula(keys[c.col], c.row - top - 1, c.row + 1)
            if text is not None:
                c = Cell(c.row, c.col, Formula(text, _cached(c.value, kinds[c.col])), c.style)
        out.append(c)
    return out


def _cached(value, kind: str):
    """The value a live formula's cell holds until it is recalculated: the engine's; where
    the engine has none, what the formula gives then: "" for a rate (no denominator, the
    formula's IF gives ""), 0 for a count or a sum."""
    if value is None or (isinstance(value, float) and value != value):
        return "" if kind == m.PERCENT else 0
    return value


def _payor_rows(fields: tuple[m.Field, ...], payors: list, left: int = 0):
    """formula(key, i, excel_row) for a table of payor rows (`payors`, in its first
    column; Total sums the row's buckets). A payor whose name equals another's but for
    case gets none: COUNTIFS and SUMIFS ignore case, the engine does not."""
    first = col_letter(left)
    cols = {f.key: col_letter(left + j) for j, f in enumerate(fields)}
    folded = pd.Series([str(p).casefold() for p in payors], dtype=object)
    clash = folded.duplicated(keep=False).tolist()

    def formula(key: str, i: int, r: int) -> str | None:
        if i < len(clash) and clash[i]:
            return None
        if key == "total" and all(b in cols for b in m.AGING_BUCKETS):
            return f"SUM({cols[m.AGING_BUCKETS[0]]}{r}:{cols[m.AGING_BUCKETS[-1]]}{r})"
        return _by_payor(f"${first}{r}", str(payors[i])).get(key)
    return formula


def _live_totals(cells: list[Cell], fields: tuple[m.Field, ...], row: int) -> list[Cell]:
    """A totals row (at `row`) whose live columns are whole-table formulas (`_by_payor(None)`);
    Total sums the row's buckets."""
    whole = _by_payor(None)
    cols = {f.key: col_letter(j) for j, f in enumerate(fields)}
    if all(b in cols for b in m.AGING_BUCKETS):
        whole["total"] = f"SUM({cols[m.AGING_BUCKETS[0]]}{row + 1}:{cols[m.AGING_BUCKETS[-1]]}{row + 1})"
    out = []
    for c in cells:
        key = fields[c.col].key if c.row == row and 0 < c.col < len(fields) else None
        if key in whole:
            c = Cell(c.row, c.col, Formula(whole[key], _cached(c.value, fields[c.col].kind)), c.style)
        out.append(c)
    return out


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
    cells.append(Cell(row, column, to_excel(s.today if s.today is not None else s.as_of, m.DATE), "today"))
    live = live_figures(results)
    live_kpis = {**_live_kpis(), **_deadline_tiles(results)} if live else {}
    for n, key in enumerate(TILE_ORDER):
        kpi = results.kpis[key]
        row = TILE_ROWS[n // TILES_PER_ROW]
        col = n % TILES_PER_ROW
        style = {"percent": "tile_percent", "money": "tile_money", "number": "tile_number",
                 "count": "tile_count"}[kpi.kind]
        if key.startswith("missed") and kpi.value:
            style = "tile_alert" if kpi.kind == "count" else style
        value = to_excel(kpi.value, kpi.kind)
        if key in live_kpis:
            # (a rate or Days in A/R with no denominator: the formula gives "", as the engine None)
            value = Formula(live_kpis[key], _cached(value, m.PERCENT if kpi.kind in ("percent", "number")
                                                    else kpi.kind))
        cells += [Cell(row, col, kpi.label, "tile_label"), Cell(row + 1, col, value, style),
                  Cell(row + 2, col, (kpi.source + ": " if kpi.source else "") + kpi.definition, "tile_note")]

    aging = results.aging.sort_values("total", ascending=False) if len(results.aging) else results.aging
    by_payor = results.denials_by["payor"]
    names = results.deadlines["deadline"].tolist() if len(results.deadlines) else []
    formulas = {"aging": _payor_rows(AGING_BLOCK, aging["payor"].tolist() if len(aging) else []),
                "denials": _payor_rows(DENIALS_BLOCK, by_payor["payor"].tolist() if len(by_payor) else []),
                "deadlines": lambda key, i, _r: _live_deadline(key, names[i])}
    for name, frame in (("denials", by_payor), ("aging", aging),
                        ("categories", results.denials_by["category"]), ("monthly", results.monthly),
                        ("deadlines", results.deadlines)):
        block = DASHBOARD[name]
        made = block.cells(frame)
        if live and name in formulas:
            made = _live(made, block.fields, block.row + 1, 0, min(len(frame), block.slots), formulas[name])
        cells += made
    cells.append(Cell(DASHBOARD_NOTE_ROW, 0, Formula(stale_note(DASHBOARD_LIVE_NOTE), DASHBOARD_LIVE_NOTE)
                      if live else NOT_LIVE_NOTE, "note"))
    return cells


# The Index sheet's count of rows the live figures miss (index.py): rows of Claims or
# Payments sorted, inserted or deleted since the recalculation, or added past its window.
STALE_CELL = f"{INDEX_SHEET}!$C$1"


def stale_note(note: str) -> str:
    """A formula for a live-figures note: the note, preceded by a call to recalculate while
    the Index says rows are missed."""
    quoted = note.replace('"', '""')
    missed = f"IFERROR(N({STALE_CELL}),1)"
    return (f'IF({missed}=0,"{quoted}","Recalculate to bring the live figures up to date: "'
            f'&TEXT({missed},"#,##0")&" row(s) of Claims or Payments are not in them: sorted, inserted, '
            f'deleted or added since the last recalculation, or past what the Index holds (README, Limits). '
            f'{quoted}")')


def _deadline_tiles(results: Results) -> dict[str, str]:
    """The deadline tiles as sums of the deadlines table's live columns (each tile is the
    table's column total: engine _kpis), when the table shows every row."""
    block = DASHBOARD["deadlines"]
    frame = results.deadlines
    if frame is None or not len(frame) or len(frame) > block.slots:
        return {}
    if not all(_live_deadline(key, name) is not None or not frame[key].iloc[i]
               for i, name in enumerate(frame["deadline"]) for key in DEADLINE_TILES.values()):
        return {}    # a figure the table holds as a value (not 0) would not move with the rest
    cols = {f.key: col_letter(j) for j, f in enumerate(block.fields)}
    first, last = block.first_data_row + 1, block.first_data_row + len(frame)
    return {tile: f"SUM({cols[key]}{first}:{cols[key]}{last})" for tile, key in DEADLINE_TILES.items()}


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
    balance (a claim is counted once even where its lines sit with two payors, or its ID is
    typed in two cases: lines.distinct_claims), not a sum."""
    aging = results.aging
    totals = {key: _sum(aging, key) for key in (*m.AGING_BUCKETS, "total", "open_lines")}
    lines = results.lines
    if "aging_bucket" in lines and "claim_id" in lines:
        totals["open_claims"] = distinct_claims(lines.loc[lines["aging_bucket"].astype(str) != "", "claim_id"])
    return totals


def scorecard_totals(results: Results) -> dict:
    """The Scorecard's totals row. Counts and dollars are the column sums (each payor's
    claims are its own, so Claims sums too). The three rates are never averaged over the
    payors: they are the engine's all-payor figures (the Dashboard's KPIs), computed from
    the sums of their numerators and denominators over every line."""
    sc = results.scorecard
    totals = {key: _sum(sc, key) for key in ("claims", "lines", "charges", "paid", "charges_adjudicated",
                                             "contractual_adj", "ar", "underpaid_lines", "underpayment",
                                             "recovered", "missed_filing", "missed_appeals", "due_soon")}
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


def _live_table(cells: list[Cell], output: m.Output, frame: pd.DataFrame, live: bool) -> list[Cell]:
    """A one-table sheet of payor rows (`_one_table`'s cells of `frame`) with its live
    figures as formulas, in the rows and in the totals row, and LIVE_NOTE under them (or,
    when not `live`, values and NOT_LIVE_NOTE)."""
    n = len(frame)
    if not n:
        return cells
    totals_row = TABLE_HEADER_ROW + 1 + n + 1
    if not live:
        return cells + [Cell(totals_row + 2, 0, NOT_LIVE_NOTE, "note")]
    cells = _live(cells, output.fields, TABLE_HEADER_ROW, 0, n, _payor_rows(output.fields, frame["payor"].tolist()))
    cells = _live_totals(cells, output.fields, totals_row)
    return cells + [Cell(totals_row + 2, 0, LIVE_NOTE, "note")]


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


def live_sheets(results: Results) -> dict[str, list[Cell]]:
    """The owned sheets with live figures: Dashboard, Scorecard and Aging."""
    return {
        "Dashboard": dashboard(results),
        "Scorecard": _live_table(_one_table(m.SCORECARD.title, results, results.scorecard, m.SCORECARD,
                                            scorecard_totals(results), none_note="No claim lines yet."),
                                 m.SCORECARD, results.scorecard, live_figures(results)),
        "Aging": _live_table(_one_table(m.AGING.title, results, results.aging, m.AGING, aging_totals(results),
                                        none_note="No open insurance balances."),
                             m.AGING, results.aging, live_figures(results)),
    }


def owned_sheets(results: Results, reconciliation: pd.DataFrame | None = None) -> dict[str, list[Cell]]:
    """Cells for every owned sheet."""
    pf = results.portfolio
    exceptions = exceptions_frame(results.errors)
    live = live_sheets(results)
    sheets = {
        "Dashboard": live["Dashboard"],
        "Worklist": _one_table(m.WORKLIST.title, results, results.worklist, m.WORKLIST,
                               ok_note="" if len(results.worklist) else NOTHING_TO_DO),
        "Scorecard": live["Scorecard"],
        "Aging": live["Aging"],
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
