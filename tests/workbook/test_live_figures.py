"""The Dashboard's, Aging's and Scorecard's live figures (sheets.py: formulas over the
Claims sheet's calculated columns) recalculated by LibreOffice, a real spreadsheet engine,
equal the engine's figures: as written, and after inputs are edited, with no Python run
in between (the edit a clerk makes, the figures moving by themselves)."""
import math

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from payorxl import libreoffice, model as m, pipeline
from payorxl.demo import generate_demo
from payorxl.workbook import blocks, sheets
from payorxl.workbook.xlsxpart import Formula

pytestmark = pytest.mark.skipif(libreoffice.soffice() is None,
                                reason="LibreOffice (soffice) is not installed: bash .ci/run installs it")
LIVE = ("Dashboard", "Aging", "Scorecard")


def section(sheet: str, row: int) -> str:
    """Where a Dashboard cell is: a tile row, or the block it is in."""
    if sheet != "Dashboard":
        return "table"
    for name, block in sheets.DASHBOARD.items():
        if block.row <= row <= block.last_data_row:
            return name
    return "tiles"


def figures(layout: dict) -> dict:
    """(sheet, section, row label, column) -> the live figure's engine value, for every
    Formula cell: the label is the row's first cell (a payor, "Total", a deadline), or its
    position on the Dashboard's tile rows, so a payor is found again if the rows reorder."""
    out = {}
    for sheet in LIVE:
        first = {c.row: c.value for c in layout[sheet] if c.col == 0}
        for c in layout[sheet]:
            if isinstance(c.value, Formula):
                where = section(sheet, c.row)
                label = c.row if where == "tiles" else first.get(c.row)
                out[(sheet, where, label, c.col)] = c.value.cached
    return out


def recalculated(path, tmp_path, wanted: dict) -> dict:
    """The same cells as LibreOffice computes them (recalculation forced on load), found by
    their labels in the file LibreOffice wrote."""
    book = CalamineWorkbook.from_path(str(libreoffice.convert(path, tmp_path)))
    out = {}
    for sheet in LIVE:
        grid = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        for r, row in enumerate(grid):
            where = section(sheet, r)
            label = r if where == "tiles" else (row[0] if row else None)
            for col, value in enumerate(row):
                if (sheet, where, label, col) in wanted:
                    out[(sheet, where, label, col)] = value
    return out


def same(a, b) -> bool:
    a = 0 if a in ("", None) else a
    b = 0 if b in ("", None) else b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.005)
    return a == b


def mismatches(expected: dict, got: dict) -> list:
    return [(k, v, got.get(k, "missing")) for k, v in expected.items() if not same(v, got.get(k))]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The demo practice, its live figures summed by blocks of 53 Claims rows (blocks.py;
    500 in a real workbook), so the blocks' edges and the tail below the table are
    LibreOffice's to compute too."""
    d = generate_demo(claims=160)
    path = tmp_path_factory.mktemp("live") / "demo.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "BLOCK_ROWS", 53)
        pipeline.new_workbook(path, d.frames(), d.settings)
    index = openpyxl.load_workbook(path)["Index"]
    assert index.cell(3, blocks.FIRST_COLUMN + 2).value.startswith("=IFERROR(")      # a second block
    return path


def layout_of(path):
    results = pipeline.load(path)
    return results, sheets.owned_sheets(results)


def test_every_live_figure_is_what_libreoffice_computes(book, tmp_path):
    results, layout = layout_of(book)
    expected = figures(layout)
    kinds = {(sheet, where) for sheet, where, _, _ in expected}
    assert kinds >= {("Dashboard", "tiles"), ("Dashboard", "aging"), ("Dashboard", "deadlines"),
                     ("Dashboard", "denials"), ("Aging", "table"), ("Scorecard", "table")}
    assert len(expected) > 60
    # every deadline and every tile the engine's deadline table and columns define is live
    tiles = {k[2:] for k in expected if k[1] == "tiles"}
    assert {tile(key)[2:] for key in ("ar_total", "days_in_ar", "charge_denial_rate", "underpayment",
                                      "missed_deadlines", "missed_amount", "at_risk", "at_risk_amount")} <= tiles
    assert {k[2] for k in expected if k[1] == "deadlines"} == {"Timely filing", "Appeal", "Resubmission",
                                                               "Prompt pay", "Contract notice"}
    live_columns = {m.SCORECARD.keys[k[3]] for k in expected if k[0] == "Scorecard"}
    assert live_columns >= {"charge_denial_rate", "charges_adjudicated", "underpaid_lines", "underpayment",
                            "missed_appeals", "due_soon"}
    assert mismatches(expected, recalculated(book, tmp_path, expected)) == []


def test_the_live_figures_move_with_an_edit_as_the_engine_says(book, tmp_path):
    """A clerk raises a Charge on a line with a balance, another on a paid line of a payor
    with no A/R yet (not on Aging: its totals row must count it all the same), and files a
    due-soon claim late; LibreOffice, with no payorxl run, moves A/R, aging, charges and
    missed filing to what a recalculation then computes."""
    results, layout = layout_of(book)
    lines = results.lines
    due = lines.index[(lines["filing_status"] == "Due soon")][0]
    open_line = lines.index[(lines["balance"] > 0) & (lines.index != due)][0]
    new_payor = sorted(set(results.scorecard["payor"]) - set(results.aging["payor"]))[0]
    settled = lines.index[(lines["payor"] == new_payor) & (lines["balance"] == 0) & (lines.index != due)][0]
    edited = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    due_row = int(lines.at[due, "_row"])
    late = lines.at[due, "filing_deadline"] + pd.Timedelta(days=3)
    ws.cell(due_row, header.index("Filed Date") + 1).value = late.to_pydatetime()
    for line in (open_line, settled):
        charge = ws.cell(int(lines.at[line, "_row"]), header.index("Charge") + 1)
        charge.value = float(charge.value) + 50
    wb.save(edited)

    after, after_layout = layout_of(edited)
    expected = figures(after_layout)
    before = figures(layout)
    moved = {k for k in expected if k in before and not same(expected[k], before[k])}
    # the edit moved the filing, A/R and charge figures (so a figure left as it was would fail)
    assert ("Dashboard", "deadlines", "Timely filing", 1) in moved
    assert any(k[0] == "Aging" for k in moved) and any(k[0] == "Scorecard" for k in moved)
    assert after.kpis["ar_total"].value == results.kpis["ar_total"].value + 10000
    assert new_payor in set(after.aging["payor"])
    assert ("Aging", "table", "Total", 6) in moved                  # Total of all buckets
    got = recalculated(edited, tmp_path / "after", {k: v for k, v in expected.items() if k in before})
    assert mismatches({k: v for k, v in expected.items() if k in before}, got) == []


def tile(key: str) -> tuple:
    """The label figures() gives a Dashboard tile's value cell: its row, its column."""
    n = sheets.TILE_ORDER.index(key)
    return ("Dashboard", "tiles", sheets.TILE_ROWS[n // sheets.TILES_PER_ROW] + 1, n % sheets.TILES_PER_ROW)


def test_a_denial_posted_and_an_underpayment_recovered_move_the_rates_and_deadlines(book, tmp_path):
    """A clerk reposts a paid line's only remittance as a denial (CO-50, nothing paid), and
    marks an underpaid line Recovered on the Underpayments sheet; with no payorxl run,
    LibreOffice moves the denial rate ($) overall and of that payor, the appeal deadlines
    and the underpayments to what a recalculation then computes."""
    results, layout = layout_of(book)
    lines = results.lines
    paid = lines.index[(lines["n_remits"] == 1) & (lines["paid"] > 0) & lines["denial_date"].isna()][0]
    owed = lines.index[lines["underpaid"] & (lines["follow_up"] == "Open")][0]
    edited = tmp_path / "denied.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Payments"]
    header = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1)
               if ws.cell(r, header.index("Claim ID") + 1).value == lines.at[paid, "claim_id"]
               and ws.cell(r, header.index("Line") + 1).value == lines.at[paid, "line"])
    for column, value in (("Claim Status", "4"), ("Paid", 0), ("Allowed", None), ("Contractual Adj", 0),
                          ("Patient Resp", 0), ("Denied Amount", float(lines.at[paid, "charge"]) / 100),
                          ("Group Code", "CO"), ("CARC", "50")):
        ws.cell(row, header.index(column) + 1).value = value
    up = wb["Underpayments"]
    up_header = [c.value for c in up[1]]
    assert up.cell(2, 1).value in (None, "")                        # the template's empty row
    for column, value in (("Claim ID", lines.at[owed, "claim_id"]), ("Line", int(lines.at[owed, "line"])),
                          ("Status", "Recovered"), ("Amount Recovered", 5.0)):
        up.cell(2, up_header.index(column) + 1).value = value
    wb.save(edited)

    after, after_layout = layout_of(edited)
    assert not any(e.severity == "error" for e in after.errors)
    expected = figures(after_layout)
    before = figures(layout)
    moved = {k for k in expected if k in before and not same(expected[k], before[k])}
    payor = lines.at[paid, "payor"]
    assert {tile("charge_denial_rate"), tile("underpayment")} <= moved
    assert ("Scorecard", "table", payor, m.SCORECARD.keys.index("charge_denial_rate")) in moved
    assert ("Dashboard", "denials", payor, sheets.DENIALS_BLOCK.index(m.DENIALS.field("charges_denied"))) in moved
    assert any(k[:3] == ("Dashboard", "deadlines", "Appeal") for k in moved)
    assert after.kpis["initial_denial_rate"].value != results.kpis["initial_denial_rate"].value   # a value: as written
    kept = {k: v for k, v in expected.items() if k in before}
    got = recalculated(edited, tmp_path / "after", kept)
    assert mismatches(kept, got) == []


def test_a_claim_line_typed_below_the_table_counts_in_the_last_block(book, tmp_path):
    """A new claim line typed in the row under the Claims table, its calculated columns
    filled as Excel fills a table's new row: with no payorxl run, LibreOffice counts it in
    A/R and the aging (the last block of each term runs to the sheet's end), as a
    recalculation then does."""
    from payorxl.workbook.formulas import table_formulas

    results, layout = layout_of(book)
    lines = results.lines
    model = lines.index[lines["balance"] > 0][0]
    edited = tmp_path / "typed.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    source = int(lines.at[model, "_row"])
    row = max(int(r) for r in lines["_row"]) + 1
    assert all(ws.cell(row, j + 1).value is None for j in range(len(header)))
    for j in range(len(m.CLAIMS.columns)):
        ws.cell(row, j + 1).value = ws.cell(source, j + 1).value
    ws.cell(row, header.index("Claim ID") + 1).value = "TYPED-1"
    ws.cell(row, header.index("Charge") + 1).value = 123.0
    formulas = table_formulas()["Claims"]
    for j, c in enumerate(m.CLAIMS.calculated):
        ws.cell(row, len(m.CLAIMS.columns) + j + 1).value = "=" + formulas[c.key]
    wb.save(edited)

    after, after_layout = layout_of(edited)
    assert len(after.lines) == len(lines) + 1
    assert after.kpis["ar_total"].value == results.kpis["ar_total"].value + 12300
    expected = figures(after_layout)
    before = figures(layout)
    assert tile("ar_total") in {k for k in expected if k in before and not same(expected[k], before[k])}
    kept = {k: v for k, v in expected.items() if k in before}
    assert mismatches(kept, recalculated(edited, tmp_path / "after", kept)) == []
