"""What each owned sheet shows: engine results laid out as cells.

The Dashboard has a fixed layout (the charts the template puts on it read fixed ranges,
so their positions live here, in `DASHBOARD`, for the template builder too); the other
owned sheets are titled tables. Every table's headers and kinds come from its declaration
in model.py (model.WORKLIST, model.SCORECARD, ...); values cross into cells through
codec.to_excel (cents to dollars, dates as dates, rates as fractions under a percent
format).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import model as m
from ..codec import to_excel
from ..engine import Results
from .xlsxpart import Cell, Style

NAVY, LIGHT, GREY, RED, AMBER, GREEN = "1F3864", "DDEBF7", "595959", "C00000", "C65911", "375623"
STYLES: dict[str, Style] = {
    "title": Style(bold=True, size=18, color=NAVY),
    "subtitle": Style(italic=True, size=10, color=GREY),
    "section": Style(bold=True, size=13, color=NAVY),
    "header": Style(bold=True, fill=LIGHT),
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
}
KIND_STYLE = {m.MONEY: "money", m.DATE: "date", m.PERCENT: "percent", m.INT: "int",
              m.NUMBER: "number", m.TEXT: "", m.BOOL: "", m.DATETIME: "date"}


@dataclass(frozen=True)
class Block:
    """A titled table on the Dashboard at a fixed place with a fixed number of slots."""
    title: str
    row: int            # 0-based row of the title; header on row+1, data from row+2
    slots: int
    headers: tuple[str, ...]

    @property
    def first_data_row(self) -> int:
        return self.row + 2

    @property
    def last_data_row(self) -> int:
        return self.row + 1 + self.slots


TILE_ROWS = (3, 7)            # label rows of the two tile rows (value below, note below that)
TILES_PER_ROW = 7
DENIALS_BLOCK = m.DENIALS.only("payor", "claims_adjudicated", "claims_denied", "denial_rate", "charges_denied")
AGING_BLOCK = m.AGING.only("payor", *m.AGING_BUCKETS, "total")
CATEGORY_BLOCK = (m.Field("Category", "category", m.TEXT), m.DENIALS.field("claims_denied"),
                  m.Field("Share of adjudicated", "denial_rate", m.PERCENT), m.DENIALS.field("charges_denied"))
DASHBOARD = {
    "denials": Block("Initial denial rate by payor", 11, 10, tuple(f.name for f in DENIALS_BLOCK)),
    "aging": Block(m.AGING.title, 24, 10, tuple(f.name for f in AGING_BLOCK)),
    "categories": Block("Denials by root cause (CARC category)", 37, 13, tuple(f.name for f in CATEGORY_BLOCK)),
    "monthly": Block(m.MONTHLY.title, 53, 12, tuple(m.MONTHLY.headers)),
    "deadlines": Block(m.DEADLINES.title, 68, 4, tuple(m.DEADLINES.headers)),
}
CHART_COLUMN = 8   # charts sit from column I, beside their block
TILE_ORDER = ("initial_denial_rate", "net_collection_rate", "days_in_ar", "ar_total",
              "underpayment", "missed_deadlines", "at_risk",
              "charge_denial_rate", "clean_claim_rate", "first_pass_resolution_rate",
              "appeal_overturn_rate", "final_denial_writeoff_rate", "missed_amount", "at_risk_amount")


# Row heights (points) of the Dashboard's tile rows: label, value, definition.
DASHBOARD_HEIGHTS = {r + k: h for r in TILE_ROWS for k, h in ((0, 28), (1, 34), (2, 46))}
ROW_HEIGHTS = {"Dashboard": DASHBOARD_HEIGHTS}   # by sheet, for every writer of the owned sheets


def _status_style(value) -> str:
    return {"Missed": "missed", "Due soon": "soon", "Filed late": "missed", "Overdue": "missed",
            "Appealed late": "missed"}.get(value, "")


def table_cells(frame: pd.DataFrame, fields: tuple[m.Field, ...], top: int, left: int = 0,
                limit: int | None = None) -> list[Cell]:
    """The declared fields of `frame`: headers at row `top`, data below."""
    cells = [Cell(top, left + j, f.name, "header") for j, f in enumerate(fields)]
    rows = frame if limit is None else frame.head(limit)
    for j, f in enumerate(fields):
        values = rows[f.key].tolist() if f.key in rows else [None] * len(rows)
        for i, v in enumerate(values):
            val = to_excel(v, f.kind)
            style = _status_style(val) if f.kind == m.STATUS else KIND_STYLE.get(f.kind, "")
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

    def block(name, frame, columns):
        b = DASHBOARD[name]
        out = [Cell(b.row, 0, b.title, "section")]
        out += table_cells(frame, columns, b.row + 1, limit=b.slots)
        return out

    cells += block("denials", results.denials_by["payor"], DENIALS_BLOCK)
    aging = results.aging.sort_values("total", ascending=False) if len(results.aging) else results.aging
    cells += block("aging", aging, AGING_BLOCK)
    cells += block("categories", results.denials_by["category"], CATEGORY_BLOCK)
    cells += block("monthly", results.monthly, m.MONTHLY.fields)
    cells += block("deadlines", results.deadlines, m.DEADLINES.fields)
    return cells


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
    sheets = {
        "Dashboard": dashboard(results),
        "Worklist": _sheet(m.WORKLIST.title, results, [("", results.worklist, m.WORKLIST)]),
        "Scorecard": _sheet(m.SCORECARD.title, results, [("", results.scorecard, m.SCORECARD)]),
        "Aging": _sheet(m.AGING.title, results, [("", results.aging, m.AGING)]),
        "Portfolio": _sheet("Payor portfolio — the view to take into a negotiation", results,
                            [(o.title, pf[o.name], o) for o in m.PORTFOLIO]),
        "Exceptions": _sheet(m.EXCEPTIONS.title, results, [("", exceptions_frame(results.errors), m.EXCEPTIONS)]),
    }
    if reconciliation is not None:
        sheets["Reconciliation"] = _sheet(m.RECONCILIATION.title, results,
                                          [("", reconciliation, m.RECONCILIATION)])
    return sheets
