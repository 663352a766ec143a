"""The calculated columns are native formulas; LibreOffice (a real spreadsheet engine,
recalculation forced on load) must compute exactly what the engine computes, for every
row of the demo practice — and again after an input is edited."""
import datetime as dt

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from payorxl import libreoffice, model as m, pipeline
from payorxl.codec import EXCEL_EPOCH
from payorxl.demo import generate_demo

pytestmark = pytest.mark.skipif(libreoffice.soffice() is None,
                                reason="LibreOffice (soffice) is not installed: bash .ci/run installs it")


def as_date(v):
    if v in ("", None):
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return pd.Timestamp(v).normalize()
    return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(v)))


def engine_value(v, kind):
    """The engine's value as it should appear in the sheet."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)) or v == "":
        return None
    if kind == m.MONEY:
        return round(int(v) / 100, 2)
    if kind == m.DATE:
        return pd.Timestamp(v)
    if kind == m.INT:
        return int(v)
    return str(v)


def sheet_value(v, kind):
    if v in ("", None):
        return None
    if kind == m.MONEY:
        return round(float(v), 2)
    if kind == m.DATE:
        return as_date(v)
    if kind == m.INT:
        return int(round(float(v)))
    return str(v)


def recalculated_table(book: CalamineWorkbook, table: m.Table) -> pd.DataFrame:
    grid = book.get_sheet_by_name(table.name).to_python(skip_empty_area=False)
    frame = pd.DataFrame(grid[1:], columns=grid[0])
    return frame[frame[table.columns[0].name].astype(str) != ""].reset_index(drop=True)


def compare(path, tmp_path, as_of):
    results = pipeline.load(path, as_of)
    book = CalamineWorkbook.from_path(str(libreoffice.convert(path, tmp_path / "lo")))
    mismatches = []
    for table, engine in ((m.CLAIMS, results.lines), (m.CONTRACTS, results.contracts)):
        lo = recalculated_table(book, table)
        assert len(lo) == len(engine), table.name
        for c in table.calculated:
            ours = [engine_value(v, c.kind) for v in engine[c.key]]
            theirs = [sheet_value(v, c.kind) for v in lo[c.name]]
            for i, (a, b) in enumerate(zip(ours, theirs)):
                if a != b:
                    mismatches.append((table.name, i + 2, c.name, a, b))
    return results, mismatches


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory):
    # The demo practice at 300 claims: LibreOffice's COUNTIFS/SUMIFS cost grows with
    # claim lines x payments, and the full demo (2,500 claims) takes minutes there.
    d = generate_demo(claims=300)
    path = tmp_path_factory.mktemp("lo") / "demo.xlsx"
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path


def test_every_calculated_cell_equals_the_engine(demo_book, tmp_path):
    results, mismatches = compare(demo_book, tmp_path, None)
    assert len(results.lines) > 500
    assert mismatches[:10] == []


def test_edited_inputs_recalculate_as_the_engine_says(demo_book, tmp_path):
    results = pipeline.load(demo_book)
    lines = results.lines
    # Pick an unfiled line that is "Due soon" and a paid, not denied line.
    due = lines.index[lines["filing_status"] == "Due soon"][0]
    paid = lines.index[(lines["paid"] > 0) & ~lines["denied"]][0]
    edited = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(demo_book)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    filed_col = header.index("Filed Date") + 1
    charge_col = header.index("Charge") + 1
    due_row, paid_row = int(lines.at[due, "_row"]), int(lines.at[paid, "_row"])
    late = lines.at[due, "filing_deadline"] + pd.Timedelta(days=3)
    ws.cell(due_row, filed_col).value = late.to_pydatetime()          # filed 3 days late
    ws.cell(paid_row, charge_col).value = float(lines.at[paid, "charge"]) / 100 + 50   # charge +$50
    wb.save(edited)

    after, mismatches = compare(edited, tmp_path, None)
    assert mismatches[:10] == []
    a = after.lines.set_index("_row")
    b = lines.set_index("_row")
    assert a.at[due_row, "filing_status"] == "Filed late" and b.at[due_row, "filing_status"] == "Due soon"
    assert a.at[paid_row, "balance"] == b.at[paid_row, "balance"] + 5000
