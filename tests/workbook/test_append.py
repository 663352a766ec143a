"""Appending rows to a table inside a real workbook, without loading and saving it:
the new rows are in the sheet XML with the column's styles (dates as dates, money as
money), text as inline strings (never formulas), calculated columns as their formulas;
the table and the sheet's dimension grow; the template's blank row is filled first; and
every other part of the zip is byte-identical."""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlwings
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_col_to_name

from payorxl import model as m
from payorxl.errors import PayorxlError
from payorxl.pipeline import new_workbook
from payorxl.workbook.append import WorkbookEditor, add_sheet, append_rows, full_calc_on_load, is_date_format
from payorxl.workbook.read import read_inputs
from payorxl.workbook.template import build_workbook
from payorxl.workbook.xlsxpart import sheet_parts

QUICKSTART = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
PAYMENT = {"Claim ID": "C100", "Line": 1, "Payor": "Acme", "Remit Date": dt.date(2026, 3, 14),
           "Check No": "00981", "Claim Status": "1", "CPT": "99213", "Charge": Decimal("120.00"),
           "Allowed": Decimal("80.55"), "Paid": Decimal("64.44"), "Patient Resp": Decimal("16.11"),
           "Source": "era.835"}


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def part_of(path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        return sheet_parts(z)[sheet]


def xml(path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode()


def row_xml(sheet_xml: str, number: int) -> str:
    found = re.search(rf'<row r="{number}"[^>]*>.*?</row>', sheet_xml, re.S)
    assert found, f"row {number} not found"
    return found.group(0)


def cell(row: str, ref: str) -> str:
    found = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', row, re.S)
    assert found, f"cell {ref} not found in {row[:200]}"
    return found.group(0)


def append(path, table, rows, formats=None, dst=None):
    with WorkbookEditor(path) as editor:
        where = append_rows(editor, table, rows, formats)
        full_calc_on_load(editor)
        changed = editor.save(dst)
    return where, changed


@pytest.fixture
def empty_book(tmp_path) -> Path:
    path = tmp_path / "practice.xlsx"
    new_workbook(path, settings_values={"practice_name": "Test"})
    return path


def test_the_template_blank_row_is_filled_then_the_table_grows(empty_book):
    where, _ = append(empty_book, "Payments", [PAYMENT])
    assert (where.first_row, where.last_row) == (2, 2), "the template's blank row is used"
    where, _ = append(empty_book, "Payments", [dict(PAYMENT, Line=2), dict(PAYMENT, Line=3)])
    assert (where.first_row, where.last_row) == (3, 4)
    table = xml(empty_book, "xl/tables/table2.xml")
    assert 'ref="A1:V4"' in table and '<autoFilter ref="A1:V4"/>' in table   # V: its Action column
    sheet = xml(empty_book, part_of(empty_book, "Payments"))
    assert '<dimension ref="A1:V4"/>' in sheet
    frame = read_inputs(empty_book).frames["Payments"]
    assert frame["line"].tolist() == [1, 2, 3]
    assert frame["paid"].tolist() == [6444] * 3 and frame["allowed"].tolist() == [8055] * 3
    assert frame["check_no"].tolist() == ["00981"] * 3, "leading zeros kept: text stays text"
    assert frame["remit_date"].dt.date.tolist() == [dt.date(2026, 3, 14)] * 3


def test_dates_show_as_dates_and_money_as_money(empty_book):
    append(empty_book, "Payments", [PAYMENT], {c.name: c.number_format for c in m.PAYMENTS.columns
                                               if c.number_format})
    sheet = xml(empty_book, part_of(empty_book, "Payments"))
    row = row_xml(sheet, 2)
    with WorkbookEditor(empty_book) as editor:
        def fmt(ref):
            return editor.xf_format(int(re.search(r's="(\d+)"', cell(row, ref)).group(1)))
        assert is_date_format(fmt("D2")), fmt("D2")              # Remit Date
        assert fmt("L2") == m.FMT_MONEY                             # Paid
        assert fmt("B2") == m.FMT_INT                               # Line
    assert "<v>46095</v>" in cell(row, "D2"), "2026-03-14 as an Excel serial"
    assert "<v>64.44</v>" in cell(row, "L2")
    # Read back through openpyxl too: the cell is a date to any reader.
    ws = openpyxl.load_workbook(empty_book, read_only=True)["Payments"]
    assert next(ws.iter_rows(min_row=2, max_row=2, values_only=True))[3] == dt.datetime(2026, 3, 14)


def test_styles_are_copied_from_the_last_data_row(tmp_path):
    """A workbook whose Payments column formats are the user's own (a date shown as
    'd mmm yyyy'): new rows take the style of the row above, not the template's."""
    path = tmp_path / "own.xlsx"

    def customize(wb):
        ws = wb.get_worksheet_by_name("Payments")
        ws.write_datetime(1, 3, dt.datetime(2026, 1, 2), wb.add_format({"num_format": "d mmm yyyy"}))
        ws.write_number(1, 10, 5, wb.add_format({"num_format": "#,##0.000"}))
        ws.write_string(1, 0, "C1")
    build_workbook(path, customize=customize)
    append(path, "Payments", [PAYMENT])
    row = row_xml(xml(path, part_of(path, "Payments")), 3)
    with WorkbookEditor(path) as editor:
        def fmt(ref):
            return editor.xf_format(int(re.search(r's="(\d+)"', cell(row, ref)).group(1)))
        assert fmt("D3") == "d mmm yyyy"
        assert fmt("K3") == "#,##0.000"


def test_text_is_always_an_inline_string_never_a_formula(empty_book):
    evil = ['=HYPERLINK("http://example.com","click")', "=1+1", "+SUM(A1)", "@cmd", "-2", "<b>&amp;</b>"]
    rows = [dict(PAYMENT, **{"Claim ID": f"C{i}", "Payor": text}) for i, text in enumerate(evil)]
    append(empty_book, "Payments", rows)
    sheet = xml(empty_book, part_of(empty_book, "Payments"))
    for i in range(len(evil)):
        c = cell(row_xml(sheet, 2 + i), f"C{2 + i}")
        assert 't="inlineStr"' in c and "<f>" not in c
    # the only formulas are those of the table's calculated column (Action, column V)
    assert re.findall(r'<c r="([A-Z]+)\d+"[^>]*><f>', sheet) == ["V"] * len(evil)
    book = CalamineWorkbook.from_path(str(empty_book))
    payors = [r[2] for r in book.get_sheet_by_name("Payments").to_python()[1:]]
    assert payors == evil
    assert read_inputs(empty_book).frames["Payments"]["payor"].tolist() == evil


def test_calculated_columns_get_their_formula_without_a_cached_value(empty_book):
    claim = {"Claim ID": "C1", "Line": 1, "Patient ID": "P1", "Payor": "Acme", "CPT": "99213",
             "Date of Service": dt.date(2026, 2, 3), "Charge": Decimal("150")}
    where, _ = append(empty_book, "Claims", [claim, dict(claim, Line=2)])
    assert (where.first_row, where.last_row) == (2, 3)
    table = xml(empty_book, "xl/tables/table1.xml")
    formulas = re.findall(r"<calculatedColumnFormula>(.*?)</calculatedColumnFormula>", table, re.S)
    assert len(formulas) == len(m.CLAIMS.calculated)
    sheet = xml(empty_book, part_of(empty_book, "Claims"))
    for number in (2, 3):
        row = row_xml(sheet, number)
        cells = re.findall(r"<f>(.*?)</f>", row, re.S)
        assert cells == formulas, "each calculated column's formula, in column order"
        assert not re.search(r"<f>[^<]*</f><v>", row), "no cached value: Excel computes it"
    last = xl_col_to_name(len(m.CLAIMS.headers) - 1)
    assert f'ref="A1:{last}3"' in table
    assert 'fullCalcOnLoad="1"' in xml(empty_book, "xl/workbook.xml")
    # openpyxl sees the formulas as formulas of the table's own column.
    ws = openpyxl.load_workbook(empty_book)["Claims"]
    fifth = xl_col_to_name(len(m.CLAIMS.columns) + 4)
    assert ws[f"{fifth}3"].value == "=" + formulas[4].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    assert ws.tables["Claims"].ref == f"A1:{last}3"


def users_content(vba: Path):
    def customize(wb):
        ws = wb.add_worksheet("My Notes")
        ws.write_row(0, 0, ["Month", "Visits"])
        ws.write_row(1, 0, ["Jan", 410])
        ws.write_formula(2, 1, "=SUM(B2:B2)", None, 410)
        chart = wb.add_chart({"type": "line"})
        chart.add_series({"values": "='My Notes'!$B$2:$B$2"})
        ws.insert_chart("D2", chart)
        ws.insert_button("D20", {"macro": "MyMacro", "caption": "My button"})
        wb.define_name("MyVisits", "='My Notes'!$B$2")
        # The user's own note beside the Payments table (column T, outside it).
        wb.get_worksheet_by_name("Payments").write_string(2, 22, "call payer")
        wb.add_vba_project(str(vba))
    return customize


@pytest.fixture
def user_book(tmp_path) -> Path:
    vba = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(QUICKSTART) as z:
        vba.write_bytes(z.read("xl/vbaProject.bin"))
    path = tmp_path / "practice.xlsm"
    build_workbook(path, customize=users_content(vba))
    return path


def test_every_other_part_is_byte_identical(user_book):
    before = parts(user_book)
    _, changed = append(user_book, "Payments", [PAYMENT, dict(PAYMENT, Line=2)])
    after = parts(user_book)
    assert list(after) == list(before), "same parts, same order"
    differ = {name for name in before if before[name] != after[name]}
    payments = part_of(user_book, "Payments")
    # the table's sheet and its table part, and workbook.xml: the first append turns
    # fullCalcOnLoad on, so the calculated columns fill the new rows when Excel opens it
    assert differ == {payments, "xl/tables/table2.xml", "xl/workbook.xml"} == set(changed)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    # The user's note in W3 shares a row with the new cells, and is kept.
    row = row_xml(after[payments].decode(), 3)
    assert "<c r=\"W3\"" in row and "<c r=\"A3\"" in row
    assert re.findall(r'<c r="([A-Z]+)3"', row) == sorted(re.findall(r'<c r="([A-Z]+)3"', row),
                                                          key=lambda s: (len(s), s))
    wb = openpyxl.load_workbook(user_book, keep_vba=True)
    assert wb["Payments"]["W3"].value == "call payer" and wb["Payments"]["A3"].value == "C100"


def test_workbook_xml_changes_only_to_turn_on_full_recalculation(empty_book, tmp_path):
    plain = tmp_path / "no-full-calc.xlsx"
    with WorkbookEditor(empty_book) as editor:
        wb = editor.read("xl/workbook.xml")
        assert 'fullCalcOnLoad="1"' not in wb     # a new workbook's cached values are current
        editor.write("xl/workbook.xml", wb + " ")  # a copy of it, saved elsewhere
        editor.save(plain)
    append(plain, "Payments", [PAYMENT])
    text = xml(plain, "xl/workbook.xml")
    assert re.search(r'<calcPr calcId="\d+" fullCalcOnLoad="1"/>', text)
    before = parts(plain)
    append(plain, "Payments", [PAYMENT])
    assert parts(plain)["xl/workbook.xml"] == before["xl/workbook.xml"]


def test_a_table_cannot_grow_into_data_below_it(tmp_path):
    path = tmp_path / "below.xlsx"
    build_workbook(path, customize=lambda wb: wb.get_worksheet_by_name("Payments").write_string(3, 0, "totals"))
    before = path.read_bytes()
    with WorkbookEditor(path) as editor:
        with pytest.raises(PayorxlError, match=r"Payments!A4 and below hold data just under the Payments table"):
            append_rows(editor, "Payments", [PAYMENT] * 3)
    assert path.read_bytes() == before
    where, _ = append(path, "Payments", [PAYMENT])       # the blank row 2 is free
    assert where.first_row == 2
    assert read_inputs(path).frames["Payments"]["claim_id"].tolist() == ["C100"]


def test_a_missing_column_is_refused_rather_than_dropped(empty_book):
    with WorkbookEditor(empty_book) as editor:
        with pytest.raises(PayorxlError, match="no column 'Memo'"):
            append_rows(editor, "Payments", [dict(PAYMENT, Memo="x")])


def test_a_plain_sheet_is_added_and_appended_to(tmp_path):
    path = tmp_path / "old.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Data").write_string(0, 0, "x")
    wb.close()
    before = parts(path)
    with WorkbookEditor(path) as editor:
        add_sheet(editor, "ImportLog", ["Imported At", "File", "Paid Total"], [17, 30, 14],
                  ["yyyy-mm-dd hh:mm", None, m.FMT_MONEY])
        append_rows(editor, "ImportLog", [{"Imported At": dt.datetime(2026, 11, 2, 9, 30), "File": "a.835",
                                           "Paid Total": Decimal("10.5")}])
        editor.save()
    with WorkbookEditor(path) as editor:
        where = append_rows(editor, "ImportLog", [{"File": "b.835", "Paid Total": Decimal("-1")}])
        editor.save()
    assert where.first_row == 3
    after = parts(path)
    assert set(before) < set(after)
    unchanged = {n for n in before if before[n] == after[n]}
    assert set(before) - unchanged <= {"xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                       "[Content_Types].xml", "xl/styles.xml"}
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Data", "ImportLog"]
    ws = book["ImportLog"]
    assert [c.value for c in ws[1]] == ["Imported At", "File", "Paid Total"]
    assert ws["A2"].value == dt.datetime(2026, 11, 2, 9, 30) and ws["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["C2"].value == 10.5 and ws["C2"].number_format == m.FMT_MONEY
    assert ws["B3"].value == "b.835" and ws["C3"].value == -1
