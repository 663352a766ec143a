"""What each owned sheet shows: engine results laid out as cells.

The Dashboard has a fixed layout (the charts the template puts on it read fixed ranges,
so their positions live here, in `DASHBOARD`, for the template builder too); the other
owned sheets are titled tables. Money arrives in cents and leaves in dollars; dates as
dates; rates as fractions under a percent format.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import model as m
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
KIND_STYLE = {"money": "money", "date": "date", "percent": "percent", "int": "int",
              "number": "number", "text": ""}


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
DASHBOARD = {
    "denials": Block("Initial denial rate by payor", 11, 10,
                     ("Payor", "Claims adjudicated", "Claims denied", "Denial rate", "Charges denied")),
    "aging": Block("Insurance A/R aging by payor (days from date of service)", 24, 10,
                   ("Payor", "0-30", "31-60", "61-90", "91-120", "120+", "Total")),
    "categories": Block("Denials by root cause (CARC category)", 37, 13,
                        ("Category", "Claims denied", "Share of adjudicated", "Charges denied")),
    "monthly": Block("Charges, payments and denial rate by month of service", 53, 12,
                     ("Month", "Charges", "Paid", "Denial rate")),
    "deadlines": Block("Deadlines", 68, 4,
                       ("Deadline", "Missed", "Missed $", "Due soon", "Due soon $")),
}
CHART_COLUMN = 8   # charts sit from column I, beside their block
TILE_ORDER = ("initial_denial_rate", "net_collection_rate", "days_in_ar", "ar_total",
              "underpayment", "missed_deadlines", "at_risk",
              "charge_denial_rate", "clean_claim_rate", "first_pass_resolution_rate",
              "appeal_overturn_rate", "final_denial_writeoff_rate", "missed_amount", "at_risk_amount")


# Row heights (points) of the Dashboard's tile rows: label, value, definition.
DASHBOARD_HEIGHTS = {r + k: h for r in TILE_ROWS for k, h in ((0, 28), (1, 34), (2, 46))}
ROW_HEIGHTS = {"Dashboard": DASHBOARD_HEIGHTS}   # by sheet, for every writer of the owned sheets


def dollars(cents):
    if cents is None or cents is pd.NA or (isinstance(cents, float) and pd.isna(cents)):
        return None
    return int(cents) / 100


def _value(v, kind: str):
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return None
    if kind == "money":
        return dollars(v)
    if kind == "date":
        return v.date() if hasattr(v, "date") else v
    if kind in ("int",):
        return int(v)
    if kind in ("percent", "number"):
        return float(v)
    return v if isinstance(v, str) else str(v)


def _status_style(value) -> str:
    return {"Missed": "missed", "Due soon": "soon", "Filed late": "missed", "Overdue": "missed",
            "Appealed late": "missed"}.get(value, "")


def table_cells(frame: pd.DataFrame, columns: list[tuple[str, str, str]], top: int, left: int = 0,
                limit: int | None = None) -> list[Cell]:
    """columns: (header, frame column, kind). Header at row `top`, data below."""
    cells = [Cell(top, left + j, h, "header") for j, (h, _, _) in enumerate(columns)]
    rows = frame if limit is None else frame.head(limit)
    for j, (_, key, kind) in enumerate(columns):
        values = rows[key].tolist() if key in rows else [None] * len(rows)
        for i, v in enumerate(values):
            val = _value(v, kind)
            style = KIND_STYLE.get(kind, "")
            if kind == "status":
                style = _status_style(val)
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
        value = dollars(kpi.value) if kpi.kind == "money" else kpi.value
        cells += [Cell(row, col, kpi.label, "tile_label"), Cell(row + 1, col, value, style),
                  Cell(row + 2, col, (kpi.source + ": " if kpi.source else "") + kpi.definition, "tile_note")]

    def block(name, frame, columns):
        b = DASHBOARD[name]
        out = [Cell(b.row, 0, b.title, "section")]
        out += table_cells(frame, columns, b.row + 1, limit=b.slots)
        return out

    cells += block("denials", results.denials_by["payor"],
                   [("Payor", "payor", "text"), ("Claims adjudicated", "claims_adjudicated", "int"),
                    ("Claims denied", "claims_denied", "int"), ("Denial rate", "denial_rate", "percent"),
                    ("Charges denied", "charges_denied", "money")])
    aging = results.aging.sort_values("total", ascending=False) if len(results.aging) else results.aging
    cells += block("aging", aging, [("Payor", "payor", "text")] +
                   [(b, b, "money") for b in ("0-30", "31-60", "61-90", "91-120", "120+")] +
                   [("Total", "total", "money")])
    cells += block("categories", results.denials_by["category"],
                   [("Category", "category", "text"), ("Claims denied", "claims_denied", "int"),
                    ("Share of adjudicated", "denial_rate", "percent"),
                    ("Charges denied", "charges_denied", "money")])
    cells += block("monthly", results.monthly,
                   [("Month", "month", "text"), ("Charges", "charges", "money"), ("Paid", "paid", "money"),
                    ("Denial rate", "denial_rate", "percent")])
    cells += block("deadlines", results.deadlines,
                   [("Deadline", "deadline", "text"), ("Missed", "missed", "int"),
                    ("Missed $", "missed_amount", "money"), ("Due soon", "due_soon", "int"),
                    ("Due soon $", "due_soon_amount", "money")])
    return cells


WORKLIST_COLUMNS = [("Rank", "rank", "int"), ("Action", "action", "text"), ("Payor", "payor", "text"),
                    ("Claim ID", "claim_id", "text"), ("Line", "line", "int"), ("CPT", "cpt", "text"),
                    ("Date of Service", "dos", "date"), ("Amount at Risk", "amount", "money"),
                    ("Deadline", "deadline", "date"), ("Days Left", "days_left", "int"),
                    ("Status", "status", "status"), ("Detail", "detail", "text")]
SCORECARD_COLUMNS = [("Payor", "payor", "text"), ("Payor Type", "payor_type", "text"),
                     ("Claims", "claims", "int"), ("Lines", "lines", "int"), ("Charges", "charges", "money"),
                     ("Paid", "paid", "money"), ("Initial Denial Rate", "denial_rate", "percent"),
                     ("Denial Rate ($)", "charge_denial_rate", "percent"),
                     ("Net Collection Rate", "net_collection_rate", "percent"), ("A/R", "ar", "money"),
                     ("Underpaid Lines", "underpaid_lines", "int"), ("Underpayment", "underpayment", "money"),
                     ("Missed Filing", "missed_filing", "int"), ("Missed Appeals", "missed_appeals", "int"),
                     ("Due Soon", "due_soon", "int")]


def _sheet(title: str, results: Results, blocks: list[tuple[str, pd.DataFrame, list]]) -> list[Cell]:
    cells = _titled(title, _subtitle(results))
    row = 3
    for heading, frame, columns in blocks:
        if heading:
            cells.append(Cell(row, 0, heading, "section"))
            row += 1
        cells += table_cells(frame, columns, row)
        row += len(frame) + 3
    return cells


def exceptions_frame(errors, show_phi: bool = False) -> pd.DataFrame:
    return pd.DataFrame([{"severity": e.severity.title(), "sheet": e.ref.sheet, "row": e.ref.row,
                          "column": e.ref.column or "", "value": e.shown_value(show_phi),
                          "problem": e.message, "fix": e.fix} for e in errors],
                        columns=["severity", "sheet", "row", "column", "value", "problem", "fix"])


def owned_sheets(results: Results, reconciliation: pd.DataFrame | None = None) -> dict[str, list[Cell]]:
    """Cells for every owned sheet."""
    pf = results.portfolio
    aging_cols = [("Payor", "payor", "text")] + [(b, b, "money") for b in
                                                 ("0-30", "31-60", "61-90", "91-120", "120+")] + \
                 [("Total", "total", "money")]
    sheets = {
        "Dashboard": dashboard(results),
        "Worklist": _sheet("Worklist — what to do next, most urgent first", results,
                           [("", results.worklist, WORKLIST_COLUMNS)]),
        "Scorecard": _sheet("Payor scorecard", results, [("", results.scorecard, SCORECARD_COLUMNS)]),
        "Aging": _sheet("Insurance A/R aging by payor (days from date of service)", results,
                        [("", results.aging, aging_cols)]),
        "Portfolio": _sheet("Payor portfolio — the view to take into a negotiation", results, [
            ("Payer mix", pf["payer_mix"], _auto_columns(pf["payer_mix"])),
            ("Contract renewal and notice calendar", pf["calendar"], _auto_columns(pf["calendar"])),
            ("Rates in force compared with Medicare", pf["rates"], _auto_columns(pf["rates"])),
            ("What-if: proposed rates on the last 12 months' volume", pf["what_if"], _auto_columns(pf["what_if"])),
            ("Revenue and volume by payor and CPT", pf["revenue_by_payor_cpt"],
             _auto_columns(pf["revenue_by_payor_cpt"])),
        ]),
        "Exceptions": _sheet("Exceptions — rows left out of the figures, and warnings", results,
                             [("", exceptions_frame(results.errors),
                               [("Severity", "severity", "text"), ("Sheet", "sheet", "text"),
                                ("Row", "row", "int"), ("Column", "column", "text"),
                                ("Value", "value", "text"), ("Problem", "problem", "text"),
                                ("Fix", "fix", "text")])]),
    }
    if reconciliation is not None:
        sheets["Reconciliation"] = _sheet("Remittance reconciliation (835 balancing)", results,
                                          [("", reconciliation, _auto_columns(reconciliation))])
    return sheets


_MONEY_WORDS = ("charges", "paid", "revenue", "rate_", "change", "gap", "amount", "allowed", "medicare_rate",
                "current_rate", "proposed_rate", "per_unit")


def _auto_columns(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Headers and kinds for a portfolio frame from its column names and dtypes."""
    cols = []
    for c in frame.columns:
        s = frame[c]
        header = c.replace("_", " ").title().replace("Cpt", "CPT").replace("Pct", "%")
        if pd.api.types.is_datetime64_any_dtype(s):
            kind = "date"
        elif c.startswith("share") or c.startswith("pct") or c.endswith("_rate") and "per_unit" not in c \
                and not c.startswith("current") and not c.startswith("proposed") and c != "medicare_rate":
            kind = "percent"
        elif pd.api.types.is_integer_dtype(s) and any(w in c for w in _MONEY_WORDS):
            kind = "money"
        elif pd.api.types.is_integer_dtype(s):
            kind = "int"
        elif pd.api.types.is_float_dtype(s):
            kind = "number"
        elif pd.api.types.is_bool_dtype(s):
            kind = "text"
        else:
            kind = "text"
        if c in ("status", "notice_status"):
            kind = "status"
        cols.append((header, c, kind))
    return cols
