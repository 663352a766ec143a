"""Hostile and broken workbooks get a clear message and nothing is written: a corrupted
zip, a zip bomb, an XML entity bomb, a file that is not a workbook, a sheet of
1,048,576 rows, formulas and wrong types where values are expected."""
import zipfile

import pytest
from click.testing import CliRunner

from payorxl import model as m, pipeline
from payorxl.cli import main
from payorxl.demo import generate_demo
from payorxl.errors import PayorxlError


@pytest.fixture(scope="module")
def good_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "good.xlsx"
    d = generate_demo(claims=40)
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path


def rewrite(src, dst, change):
    """Copy a workbook, passing each part's bytes through change(name, data)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)


def claims_part(book):
    from payorxl.workbook.xlsxpart import sheet_parts
    with zipfile.ZipFile(book) as z:
        return sheet_parts(z)["Claims"]


def refused(book, match):
    before = book.read_bytes()
    with pytest.raises(PayorxlError, match=match):
        pipeline.recalc(book)
    assert book.read_bytes() == before, "nothing may be written"
    result = CliRunner().invoke(main, ["recalc", str(book)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert book.read_bytes() == before


def test_truncated_zip(good_book, tmp_path):
    book = tmp_path / "cut.xlsx"
    book.write_bytes(good_book.read_bytes()[:20000])
    refused(book, "not an .xlsx/.xlsm workbook|could not be read")


def test_not_a_workbook(tmp_path):
    book = tmp_path / "notes.xlsx"
    book.write_text("Claim ID,Line\nA,1\n")
    refused(book, "not an .xlsx/.xlsm workbook")


def test_zip_bomb(good_book, tmp_path):
    book = tmp_path / "bomb.xlsx"
    part = claims_part(good_book)
    # 300 MB of blanks inside the sheet compress to a few hundred kB.
    padding = b" " * (300 * 1024 * 1024)
    rewrite(good_book, book, lambda n, d: d.replace(b"<sheetData>", b"<sheetData>" + padding, 1) if n == part else d)
    assert book.stat().st_size < 5 * 1024 * 1024
    refused(book, "expands")


def test_xml_entity_bomb(good_book, tmp_path):
    book = tmp_path / "laughs.xlsx"
    part = claims_part(good_book)
    doctype = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                          for i in range(1, 10)) + b"]>")

    def bomb(name, data):
        if name in (part, "xl/workbook.xml"):
            data = doctype + data.split(b"?>", 1)[1]
            row = b'<row r="1000"><c r="A1000" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
            return data.replace(b"<sheetData>", b"<sheetData>" + row, 1)
        return data
    rewrite(good_book, book, bomb)
    refused(book, "entit|DTD|could not be read")


def test_a_million_row_sheet_is_read_as_its_rows(tmp_path):
    """A Claims sheet whose last cell is in row 1,048,576: the blank rows between are
    skipped, the stray cell is a row of its own with its problems reported."""
    import xlsxwriter
    book = tmp_path / "tall.xlsx"
    pipeline.new_workbook(book)
    from payorxl.workbook.read import read_inputs
    wb = xlsxwriter.Workbook(tmp_path / "x.xlsx")
    ws = wb.add_worksheet("Claims")
    ws.write_row(0, 0, [c.name for c in m.CLAIMS.columns])
    ws.write_string(1048575, 0, "LAST")
    wb.close()
    part = claims_part(book)
    with zipfile.ZipFile(tmp_path / "x.xlsx") as z:
        tall = z.read("xl/worksheets/sheet1.xml")
    rewrite(book, tmp_path / "tall2.xlsx", lambda n, d: tall if n == part else d)
    inputs = read_inputs(tmp_path / "tall2.xlsx")
    rows = {e.ref.row for e in inputs.errors if e.ref.sheet == "Claims"}
    assert rows == {1048576}
    assert inputs.frames["Claims"].empty


def test_formulas_and_wrong_types_in_every_column_are_reported(tmp_path):
    from payorxl.conversion import typed_frame
    bad = {c.key: ("=1+1" if c.kind in (m.DATE, m.INT, m.MONEY) else True) for c in m.CLAIMS.columns}
    converted = typed_frame(m.CLAIMS, [bad])
    columns = {e.ref.column for e in converted.errors}
    assert columns == {c.name for c in m.CLAIMS.columns}
    assert converted.frame.empty


def _edit_with_openpyxl(src, dst, edit):
    """A copy of the workbook changed through openpyxl, as a script or another program
    would write it (formulas saved without a computed value)."""
    import openpyxl
    wb = openpyxl.load_workbook(src)
    edit(wb)
    wb.save(dst)


def _claims_column(wb, header):
    ws = wb["Claims"]
    return next(c.column_letter for c in ws[1] if c.value == header)


def test_formula_in_an_input_cell_is_refused_naming_the_cell(good_book, tmp_path):
    book = tmp_path / "formula.xlsx"
    cells = {}

    def edit(wb):
        ws = wb["Claims"]
        cells["charge"] = f"{_claims_column(wb, 'Charge')}5"
        cells["filed"] = f"{_claims_column(wb, 'Filed Date')}9"
        ws[cells["charge"]] = "=100*2"                 # no computed value saved with it
        ws[cells["filed"]] = "=DATE(2026,3,14)"
    _edit_with_openpyxl(good_book, book, edit)
    with pytest.raises(PayorxlError) as err:
        pipeline.recalc(book)
    message = str(err.value)
    assert f"Claims!{cells['charge']}, {cells['filed']}" in message
    assert "Charge" in message and "Filed Date" in message and "Paste Special > Values" in message
    refused(book, "formulas where payorxl expects values")


def test_formulas_in_calculated_columns_and_the_users_own_columns_are_fine(good_book, tmp_path):
    """The template's calculated columns are formulas, and a user may add a column of
    their own formulas beside the table: neither is an input."""
    book = tmp_path / "own.xlsx"

    def edit(wb):
        ws = wb["Claims"]
        col = ws.max_column + 1
        ws.cell(1, col, "My note")
        for r in range(2, 12):
            ws.cell(r, col, f"=A{r}&\"-x\"")
    _edit_with_openpyxl(good_book, book, edit)
    pipeline.recalc(book)   # no error


def test_formula_in_a_setting_is_refused(good_book, tmp_path):
    book = tmp_path / "today.xlsx"

    def edit(wb):
        ws = wb[m.SETTINGS_SHEET]
        row = next(c.row for c in ws["A"] if c.value == next(s.name for s in m.SETTINGS if s.key == "as_of"))
        ws.cell(row, 2, "=TODAY()")
    _edit_with_openpyxl(good_book, book, edit)
    refused(book, r"Settings!B\d+ \(Value\)")


def test_a_formula_written_by_many_rows_is_counted_not_listed(good_book, tmp_path):
    book = tmp_path / "many.xlsx"

    def edit(wb):
        ws = wb["Claims"]
        col = _claims_column(wb, "Units")
        for r in range(2, 32):
            ws[f"{col}{r}"] = "=1"
    _edit_with_openpyxl(good_book, book, edit)
    with pytest.raises(PayorxlError, match=r"and 20 more \(Units\)"):
        pipeline.recalc(book)


def test_merged_cells_inside_a_table_are_refused(good_book, tmp_path):
    book = tmp_path / "merged.xlsx"
    where = {}

    def edit(wb):
        col = _claims_column(wb, "Payor")
        where["ref"] = f"{col}5:{col}7"
        wb["Claims"].merge_cells(where["ref"])
    _edit_with_openpyxl(good_book, book, edit)
    with pytest.raises(PayorxlError) as err:
        pipeline.recalc(book)
    assert f"Claims!{where['ref']} (Payor)" in str(err.value) and "Unmerge" in str(err.value)
    refused(book, "merged cells inside the Claims table")


def test_merged_cells_outside_the_input_columns_are_fine(good_book, tmp_path):
    book = tmp_path / "merged-ok.xlsx"

    def edit(wb):
        ws = wb["Claims"]
        col = ws.max_column + 2
        ws.cell(1, col, "Notes")
        ws.merge_cells(start_row=2, start_column=col, end_row=4, end_column=col + 1)
    _edit_with_openpyxl(good_book, book, edit)
    pipeline.recalc(book)


def test_formula_in_an_input_cell_of_a_plain_sheet_without_a_table_is_refused(good_book, tmp_path):
    """Without an Excel table to say where the inputs are, the header row decides."""
    book = tmp_path / "plain.xlsx"
    where = {}

    def edit(wb):
        ws = wb["Claims"]
        for name in list(ws.tables):
            del ws.tables[name]
        where["cell"] = f"{_claims_column(wb, 'Units')}3"
        ws[where["cell"]] = "=2*1"
    _edit_with_openpyxl(good_book, book, edit)
    from payorxl.workbook.read import input_columns
    assert "Claims" not in input_columns(book)
    refused(book, rf"Claims!{where['cell']} \(Units\)")


def test_a_real_row_with_wrong_types_in_every_column(good_book, tmp_path):
    """Wrong types in every input column of one Claims row, in a real file: `check`
    names every cell (patient ID masked) and writes nothing; `recalc` leaves the row out
    of every figure, lists each cell on the Exceptions sheet, and leaves the user's
    sheets byte for byte."""
    import datetime as dt
    book = tmp_path / "types.xlsx"
    wrong = {m.TEXT: True, m.CHOICE: 12.5, m.INT: "many", m.MONEY: "lots", m.DATE: "someday"}

    def edit(wb):
        ws = wb["Claims"]
        header = {c.value: c.column for c in ws[1]}
        for col in m.CLAIMS.columns:
            value = wrong[col.kind]
            if col.key == "patient_id":
                value = dt.datetime(2026, 1, 2)      # a date where the patient ID belongs
            ws.cell(4, header[col.name], value)
    _edit_with_openpyxl(good_book, book, edit)
    before = book.read_bytes()
    result = CliRunner().invoke(main, ["check", str(book), "--json"])
    assert result.exit_code == 1 and book.read_bytes() == before
    import json
    problems = [p for p in json.loads(result.output) if p["row"] == 4 and p["sheet"] == "Claims"]
    assert {p["column"] for p in problems} == {c.name for c in m.CLAIMS.columns}
    assert all("2026" not in str(p["value"]) for p in problems if p["column"] == "Patient ID")

    lines_before = len(pipeline.load(good_book).lines)
    summary = pipeline.recalc(book)
    assert summary.claim_lines == lines_before - 1
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(book))
    listed = set()
    for r in wb.get_sheet_by_name("Exceptions").to_python():
        if "Claims" in r:
            i = r.index("Claims")
            listed.add((r[i + 1], r[i + 2]))
    wb.close()
    assert {(4, c.name) for c in m.CLAIMS.columns} <= listed
    import io

    from payorxl.workbook.xlsxpart import sheet_parts
    with zipfile.ZipFile(io.BytesIO(before)) as z_before, zipfile.ZipFile(book) as z_after:
        parts = sheet_parts(z_before)
        for sheet in ("Claims", "Payments", "Contracts", "Settings"):
            assert z_before.read(parts[sheet]) == z_after.read(parts[sheet]), f"{sheet} changed"


def test_a_sheet_whose_bytes_fail_their_checksum_is_refused(good_book, tmp_path):
    """Bit rot: the zip's CRC-32 of the Claims sheet no longer matches its bytes."""
    import struct
    book = tmp_path / "crc.xlsx"
    part = claims_part(good_book)
    data = bytearray(good_book.read_bytes())
    with zipfile.ZipFile(good_book) as z:
        offset = z.getinfo(part).header_offset
    data[offset + 14:offset + 18] = b"\0\0\0\0"              # local header's CRC
    i = data.find(b"PK\x01\x02")
    while i != -1:                                           # and the central directory's
        n = struct.unpack("<H", data[i + 28:i + 30])[0]
        if data[i + 46:i + 46 + n] == part.encode():
            data[i + 16:i + 20] = b"\0\0\0\0"
        i = data.find(b"PK\x01\x02", i + 4)
    book.write_bytes(bytes(data))
    refused(book, "Claims sheet could not be read|damaged")
