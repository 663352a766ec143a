"""The Index sheet (index.py): each Claims row reads its line's own Payments cells through
it, so one payment posted costs one row's recalculation. LibreOffice, a real spreadsheet
engine, recomputes the Claims columns through it and must agree with the engine: for rows
read by the recalculation (the slots), for a line with more rows than the slots hold, for
payments typed below the table since (the tail); and the Index must say when rows moved
under it (a sort), until a recalculation rewrites it."""
import datetime as dt

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from test_native_formulas import compare, random_practice

from payorxl import libreoffice, model as m, pipeline
from payorxl.codec import datetime_to_serial
from payorxl.conversion import typed_frame
from payorxl.demo import generate_demo
from payorxl.workbook import sheets
from payorxl.workbook.formulas import INDEX_SHEET, K_SLOTS, PAYMENTS_MIRROR
from payorxl.workbook.index import TITLE
from payorxl.workbook.xlsxpart import Formula

pytestmark = pytest.mark.skipif(libreoffice.soffice() is None,
                                reason="LibreOffice (soffice) is not installed: bash .ci/run installs it")
AS_OF = dt.date(2026, 6, 30)


def frames_of(records: dict) -> dict:
    out = {}
    for t in m.INPUT_TABLES:
        converted = typed_frame(t, records.get(t.name, []))
        assert not converted.errors, converted.errors[:3]
        out[t.name] = converted.frame
    return out


def many_payments(cid: str, line: int, payor: str, n: int) -> list[dict]:
    """n partial payments of one line, a day apart: more rows than the Index's slots."""
    return [{"Claim ID": cid, "Line": line, "Payor": payor, "Remit Date": dt.datetime(2026, 1, 1 + i),
             "Check No": f"EFT{i}", "Claim Status": "1", "Payer Seq": "1", "Charge": 100, "Paid": 1.25,
             "Allowed": 80, "Patient Resp": 0, "Contractual Adj": 0.5 if i == 0 else 0} for i in range(n)]


def type_below(path, sheet: str, rows: list[dict]) -> None:
    """Rows typed under a table as Excel takes them: the table grows over them and its
    calculated columns get their formulas (copied from its first row)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    table = ws.tables[sheet]
    start, end = table.ref.split(":")
    top = ws.max_row
    formulas = {j: v for j, v in enumerate((c.value for c in ws[2]), start=1)
                if isinstance(v, str) and v.startswith("=")}
    for i, row in enumerate(rows, start=1):
        for name, value in row.items():
            ws.cell(top + i, header.index(name) + 1).value = value
        for j, f in formulas.items():
            ws.cell(top + i, j).value = f
    table.ref = f"{start}:{end.rstrip('0123456789')}{top + len(rows)}"
    wb.save(path)


def stale_count(converted) -> float:
    """Index!C1 as LibreOffice computed it: the rows the live figures miss."""
    return CalamineWorkbook.from_path(str(converted)).get_sheet_by_name(INDEX_SHEET).to_python()[0][2]


def dashboard_note(converted) -> str:
    grid = CalamineWorkbook.from_path(str(converted)).get_sheet_by_name("Dashboard").to_python(skip_empty_area=False)
    return grid[sheets.DASHBOARD_NOTE_ROW][0]


def test_a_line_past_its_slots_and_payments_typed_after_the_recalculation_count_as_the_engine_says(tmp_path):
    records = random_practice(5, n_claims=60)
    line = next(c for c in records["Claims"] if c.get("Claim Type", "Primary") in ("Primary", "", None))
    records["Payments"] = records["Payments"] + many_payments(line["Claim ID"], line["Line"], line["Payor"],
                                                              K_SLOTS + 4)
    # ... and a claim of more lines than the slots hold, some of them ranked procedures
    records["Claims"] = records["Claims"] + [
        {**line, "Claim ID": "BIG-1", "Line": n, "CPT": ("20610", "11042", "99213")[n % 3], "Units": 1 + n % 2}
        for n in range(1, K_SLOTS + 4)]
    later, records["Payments"] = records["Payments"][-12:], records["Payments"][:-12]
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames_of(records), {"practice_name": "Index", "as_of": AS_OF})

    # A clerk types twelve more remittance rows under the table, with no recalculation.
    type_below(path, "Payments", later)

    results, mismatches = compare(path, tmp_path, AS_OF)
    assert results.lines["n_remits"].max() > K_SLOTS             # a line past its slots is there
    big = results.lines[results.lines["claim_id"] == "BIG-1"]
    assert len(big) > K_SLOTS and big["procedure_rank"].max() > K_SLOTS / 3    # ... and a claim past them
    assert mismatches[:10] == []
    converted = libreoffice.convert(path, tmp_path / "again")
    assert stale_count(converted) == 0                           # typed within the window: counted, no notice
    assert not dashboard_note(converted).startswith("Recalculate")


def test_a_sorted_payments_sheet_is_flagged_until_a_recalculation(tmp_path):
    records = random_practice(6, n_claims=40)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames_of(records), {"practice_name": "Index", "as_of": AS_OF})
    wb = openpyxl.load_workbook(path)
    ws = wb["Payments"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=ws.max_row)]
    rows.reverse()                                               # as a sort would move them
    for r, values in enumerate(rows, start=2):
        for j, value in enumerate(values, start=1):
            ws.cell(r, j).value = value
    wb.save(path)

    converted = libreoffice.convert(path, tmp_path / "sorted")
    assert stale_count(converted) > 0
    assert dashboard_note(converted).startswith("Recalculate to bring the live figures up to date")

    pipeline.recalc(path)
    converted = libreoffice.convert(path, tmp_path / "recalculated")
    assert stale_count(converted) == 0
    assert not dashboard_note(converted).startswith("Recalculate")
    _, mismatches = compare(path, tmp_path, AS_OF)
    assert mismatches[:10] == []


def test_the_index_caches_what_libreoffice_computes(tmp_path):
    """Excel and LibreOffice recompute only what an edit touches: every other slot is read
    from its cached value, which must be what the formula gives."""
    d = generate_demo(claims=120)
    path = tmp_path / "demo.xlsx"
    pipeline.new_workbook(path, d.frames(), d.settings)
    cached = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(INDEX_SHEET).to_python(skip_empty_area=False)
    computed = CalamineWorkbook.from_path(str(libreoffice.convert(path, tmp_path / "lo"))).get_sheet_by_name(
        INDEX_SHEET).to_python(skip_empty_area=False)
    assert cached[0][0] == TITLE

    def value(v):         # LibreOffice shows a mirrored date as a date; the cache holds its serial
        if isinstance(v, dt.date):
            v = datetime_to_serial(dt.datetime(v.year, v.month, v.day))
        return "" if v is None else v
    # every slot of every line (the window's rows mirror cells not typed yet: nothing to cache)
    differ = [(r + 1, c + 1, v, computed[r][c]) for r, row in enumerate(cached) if r and row[0]
              for c, v in enumerate(row[:PAYMENTS_MIRROR.tail_column])
              if c < len(computed[r]) and value(v) != value(computed[r][c])]
    assert len(cached) > 100 and differ[:10] == []


def test_a_users_own_index_sheet_is_left_alone(tmp_path):
    """A sheet of the user's named Index (a workbook made before payorxl had one) is theirs:
    recalc does not write it, and the Dashboard's note reads nothing from it."""
    path = tmp_path / "practice.xlsx"
    d = generate_demo(claims=20)
    pipeline.new_workbook(path, d.frames(), d.settings)
    wb = openpyxl.load_workbook(path)
    ws = wb[INDEX_SHEET]
    wb.remove(ws)
    mine = wb.create_sheet(INDEX_SHEET)
    mine["A1"], mine["B2"] = "My own index of patients", 42
    wb.save(path)
    pipeline.recalc(path)
    wb = openpyxl.load_workbook(path)
    assert wb[INDEX_SHEET]["A1"].value == "My own index of patients" and wb[INDEX_SHEET]["B2"].value == 42
    note = wb["Dashboard"].cell(sheets.DASHBOARD_NOTE_ROW + 1, 1).value
    assert note == sheets.DASHBOARD_LIVE_NOTE
    assert not isinstance(note, Formula)


def test_a_claim_line_typed_for_a_claim_already_read_is_flagged_until_a_recalculation(tmp_path):
    """A line typed under Claims for a claim the Index already holds: its claim's other lines
    are not in its slots (nor it in theirs) until a recalculation, and the Dashboard says so."""
    records = random_practice(7, n_claims=30)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames_of(records), {"practice_name": "Index", "as_of": AS_OF})
    type_below(path, "Claims", [{**records["Claims"][0], "Line": 99}])
    converted = libreoffice.convert(path, tmp_path / "typed")
    assert stale_count(converted) == 1
    assert dashboard_note(converted).startswith("Recalculate to bring the live figures up to date: 1 row(s)")
    pipeline.recalc(path)
    assert stale_count(libreoffice.convert(path, tmp_path / "recalculated")) == 0
    _, mismatches = compare(path, tmp_path, AS_OF)
    assert mismatches[:10] == []


def test_claim_ids_typed_as_numbers_and_payments_read_before_their_claim_line_count(tmp_path):
    """A claim ID typed as a number in Claims and Payments (LibreOffice matches a number only
    to numbers, the text criteria the formulas use to both); and a claim line typed after the
    recalculation whose payment was read before it (an orphan then: the tail holds it)."""
    records = random_practice(8, n_claims=30)
    first = records["Claims"][0]["Claim ID"]
    orphan = next(c for c in records["Claims"] if c["Claim ID"] != first and
                  sum(p["Claim ID"] == c["Claim ID"] for p in records["Payments"]) > 0)
    records["Claims"] = [c for c in records["Claims"] if c["Claim ID"] != orphan["Claim ID"]]
    late = [c for c in random_practice(8, n_claims=30)["Claims"] if c["Claim ID"] == orphan["Claim ID"]]
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames_of(records), {"practice_name": "Index", "as_of": AS_OF})
    wb = openpyxl.load_workbook(path)
    for name in ("Claims", "Payments"):
        ws = wb[name]
        at = [c.value for c in ws[1]].index("Claim ID") + 1
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, at).value == first:
                ws.cell(r, at).value = 12345                 # typed as a number
    wb.save(path)
    pipeline.recalc(path)
    type_below(path, "Claims", late)                   # the orphan's claim lines
    results, mismatches = compare(path, tmp_path, AS_OF)
    assert (results.lines["claim_id"] == "12345").any() and (results.lines["claim_id"] == orphan["Claim ID"]).any()
    assert results.lines.loc[results.lines["claim_id"] == orphan["Claim ID"], "n_remits"].sum() > 0
    assert mismatches[:10] == []


def _claims_values(path, converted=None) -> list:
    """The Claims sheet's calculated columns: as cached in `path`, or as LibreOffice
    computed them in `converted`."""
    book = CalamineWorkbook.from_path(str(converted or path))
    grid = book.get_sheet_by_name("Claims").to_python(skip_empty_area=False)
    first = len(m.CLAIMS.columns)
    return [row[first:first + len(m.CLAIMS.calculated)] for row in grid[1:] if row[0] not in ("", None)]


def large_book(tmp_path, monkeypatch, records: dict):
    """A workbook of `records` written as one of more than index.LIVE_TAIL_LINES claim lines
    (the limit set to 0): nothing a Claims formula reads holds the rows below the tables."""
    from payorxl.workbook import index
    monkeypatch.setattr(index, "LIVE_TAIL_LINES", 0)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames_of(records), {"practice_name": "Index", "as_of": AS_OF})
    return path


def test_in_a_large_workbook_rows_typed_below_wait_for_the_recalculation(tmp_path, monkeypatch):
    """Past index.LIVE_TAIL_LINES claim lines nothing a Claims formula reads holds the rows
    below the tables (so a row typed there does not make every line recompute): the typed
    payments leave every Claims figure as it was, Index!C1 counts them, once each, and the
    Dashboard asks for a recalculation; after it, LibreOffice and the engine agree again."""
    records = random_practice(9, n_claims=60)
    line = next(c for c in records["Claims"] if c.get("Claim Type", "Primary") in ("Primary", "", None))
    records["Payments"] = records["Payments"] + many_payments(line["Claim ID"], line["Line"], line["Payor"],
                                                              K_SLOTS + 4)          # a line past its slots
    later, records["Payments"] = records["Payments"][-5:], records["Payments"][:-5]
    path = large_book(tmp_path, monkeypatch, records)
    wb = openpyxl.load_workbook(path)
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for c in wb[INDEX_SHEET]["D"][1:])
    cached = _claims_values(path)

    type_below(path, "Payments", later)
    converted = libreoffice.convert(path, tmp_path / "typed")
    assert _claims_values(path, converted) == cached      # nothing moved, LibreOffice recomputing all
    assert stale_count(converted) == len(later)
    assert dashboard_note(converted).startswith(
        f"Recalculate to bring the live figures up to date: {len(later)} row(s)")

    pipeline.recalc(path)
    assert stale_count(libreoffice.convert(path, tmp_path / "recalculated")) == 0
    results, mismatches = compare(path, tmp_path, AS_OF)
    assert results.lines["n_remits"].max() > K_SLOTS and mismatches[:10] == []


def test_in_a_large_workbook_a_claim_line_typed_below_is_missed_once_and_a_bad_row_never(tmp_path, monkeypatch):
    """Past LIVE_TAIL_LINES: a claim line typed for a claim already read is one row missed
    (not one for the row and one for its claim); a Payments row the recalculation left out
    for an error is not a row to recalculate for."""
    records = random_practice(7, n_claims=30)
    path = large_book(tmp_path, monkeypatch, records)
    wb = openpyxl.load_workbook(path)
    ws = wb["Payments"]
    ws.cell(3, [c.value for c in ws[1]].index("Paid") + 1).value = "twelve dollars"
    wb.save(path)
    summary = pipeline.recalc(path)
    assert summary.errors                                   # the row is left out ...
    assert stale_count(libreoffice.convert(path, tmp_path / "bad")) == 0     # ... and not waiting
    type_below(path, "Claims", [{**records["Claims"][0], "Line": 99}])
    assert stale_count(libreoffice.convert(path, tmp_path / "typed")) == 1
    # (the Dashboard's figures are not live at all while a row has an error: its note says so)


def test_in_a_large_workbook_a_payment_typed_into_a_blank_row_of_the_table_is_missed(tmp_path, monkeypatch):
    """Past LIVE_TAIL_LINES, a row of the Payments table that was blank at the recalculation
    (nothing reads it) and is typed into after: Index!C1 counts it, and the Dashboard asks
    for a recalculation, which then counts it."""
    path = large_book(tmp_path, monkeypatch, random_practice(9, n_claims=30))
    wb = openpyxl.load_workbook(path)
    ws = wb["Payments"]
    inputs = len(m.PAYMENTS.columns)
    kept = [ws.cell(5, j).value for j in range(1, inputs + 1)]
    for j in range(1, inputs + 1):
        ws.cell(5, j).value = None                  # a blank row inside the table
    wb.save(path)
    pipeline.recalc(path)
    assert stale_count(libreoffice.convert(path, tmp_path / "blank")) == 0
    wb = openpyxl.load_workbook(path)
    for j, value in enumerate(kept, start=1):
        wb["Payments"].cell(5, j).value = value     # the payment typed back into it
    wb.save(path)
    converted = libreoffice.convert(path, tmp_path / "typed")
    assert stale_count(converted) == 1
    assert dashboard_note(converted).startswith("Recalculate to bring the live figures up to date: 1 row(s)")
    pipeline.recalc(path)
    assert stale_count(libreoffice.convert(path, tmp_path / "recalculated")) == 0
