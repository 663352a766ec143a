"""A recalculation rewrites only payorxl's own sheets: every other zip part of the
workbook — the user's sheet, chart, form button, VBA project, data validation,
conditional formatting, defined names, comments — is byte-identical afterwards."""
import zipfile
from pathlib import Path

import pytest
import xlsxwriter.workbook
import xlwings

from chain_helpers import sheet_id, with_calc_chain
from payorxl import pipeline
from payorxl.errors import PayorxlError
from payorxl.model import OWNED_SHEETS
from payorxl.workbook.formulas import INDEX_SHEET
from payorxl.workbook.template import build_workbook
from payorxl.workbook.xlsxpart import sheet_parts

QUICKSTART = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


def vba_project_bin(tmp_path) -> Path:
    """The vbaProject.bin of xlwings' own standalone quickstart workbook."""
    out = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(QUICKSTART) as z:
        out.write_bytes(z.read("xl/vbaProject.bin"))
    return out


def users_own_content(vba: Path):
    def customize(wb: xlsxwriter.workbook.Workbook):
        ws = wb.add_worksheet("My Notes")
        ws.write_row(0, 0, ["Month", "Visits"])
        for i, (month, visits) in enumerate([("Jan", 410), ("Feb", 388), ("Mar", 452)], start=1):
            ws.write_string(i, 0, month)
            ws.write_number(i, 1, visits)
        ws.write_formula(4, 1, "=SUM(B2:B4)", None, 1250)
        chart = wb.add_chart({"type": "line"})
        chart.add_series({"categories": "='My Notes'!$A$2:$A$4", "values": "='My Notes'!$B$2:$B$4"})
        ws.insert_chart("D2", chart)
        ws.insert_button("D20", {"macro": "MyMacro", "caption": "My button"})
        ws.data_validation("C2:C10", {"validate": "list", "source": ["yes", "no"]})
        ws.conditional_format("B2:B4", {"type": "cell", "criteria": ">", "value": 400,
                                         "format": wb.add_format({"bg_color": "#FFC7CE"})})
        ws.write_comment("A1", "my own note")
        wb.define_name("MyVisits", "='My Notes'!$B$2:$B$4")
        wb.add_vba_project(str(vba))
    return customize


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def owned_parts(path) -> set[str]:
    with zipfile.ZipFile(path) as z:
        names = sheet_parts(z)
    return {names[s] for s in (*OWNED_SHEETS, INDEX_SHEET) if s in names}


@pytest.fixture
def user_book(tmp_path):
    path = tmp_path / "practice.xlsm"
    build_workbook(path, settings={"practice_name": "Test Practice", "as_of": "2026-10-31"},
                   customize=users_own_content(vba_project_bin(tmp_path)))
    return path


def test_recalc_changes_only_owned_sheets_and_styles(user_book):
    before = parts(user_book)
    summary = pipeline.recalc(user_book)
    after = parts(user_book)
    owned = owned_parts(user_book)
    assert list(after) == list(before), "same parts in the same order"
    changed = {name for name in before if before[name] != after[name]}
    # The first recalculation of a freshly built book adds payorxl's cell styles.
    assert changed <= owned | {"xl/styles.xml"}
    assert set(summary.changed_parts) == changed
    for name in ("xl/vbaProject.bin", "xl/workbook.xml", "[Content_Types].xml", "xl/vmlDrawing1.vml"):
        if name in before:
            assert after[name] == before[name]
    assert "xl/vbaProject.bin" in after


def test_second_recalc_with_other_date_touches_only_owned_sheet_xml(user_book):
    pipeline.recalc(user_book)
    before = parts(user_book)
    pipeline.recalc(user_book, as_of="2027-01-15")
    after = parts(user_book)
    changed = {name for name in before if before[name] != after[name]}
    assert changed, "the as-of date is on every owned sheet, so they must change"
    assert changed <= owned_parts(user_book)
    user_sheet = sheet_parts(zipfile.ZipFile(user_book))["My Notes"]
    assert after[user_sheet] == before[user_sheet]


def test_recalc_is_idempotent(user_book):
    pipeline.recalc(user_book)
    before = parts(user_book)
    summary = pipeline.recalc(user_book)
    assert summary.changed_parts == []
    assert parts(user_book) == before


def test_refuses_workbook_open_in_excel(user_book):
    lock = user_book.with_name("~$" + user_book.name)
    lock.write_bytes(b"owner")
    before = user_book.read_bytes()
    with pytest.raises(PayorxlError, match="open in Excel"):
        pipeline.recalc(user_book)
    assert user_book.read_bytes() == before


def test_output_leaves_original_untouched_and_backup_keeps_previous(user_book, tmp_path):
    original = user_book.read_bytes()
    out = tmp_path / "out.xlsm"
    pipeline.recalc(user_book, output=out)
    assert user_book.read_bytes() == original
    assert out.exists() and out.read_bytes() != original
    pipeline.recalc(user_book, backup=True)
    assert user_book.with_name("practice.backup.xlsm").read_bytes() == original


def test_recalc_drops_the_calc_chain_entries_of_the_sheets_it_rewrites(user_book):
    """The owned sheets hold live formulas, which Excel lists in calcChain.xml when it saves;
    a recalculation may put a value where a formula was, and Excel refuses (a repair prompt)
    an entry whose cell holds none. So it drops the rewritten sheets' entries (Excel rebuilds
    them) and keeps the others', each naming its sheet (an entry without i is on the sheet
    of the entry before it)."""
    aging, notes, claims = (sheet_id(user_book, s) for s in ("Aging", "My Notes", "Claims"))
    with_calc_chain(user_book, f'<c r="B5" i="{aging}"/><c r="B6"/><c r="B5" i="{notes}" l="1"/>'
                               f'<c r="C9" i="{aging}"/><c r="T2" i="{claims}"/><c r="T3"/>')
    pipeline.recalc(user_book)
    with zipfile.ZipFile(user_book) as z:
        chain = z.read("xl/calcChain.xml").decode()
    assert chain.endswith(f'<c r="B5" l="1" i="{notes}"/><c r="T2" i="{claims}"/>'
                          f'<c r="T3" i="{claims}"/></calcChain>')


def test_a_calc_chain_left_empty_is_removed_with_its_relationship(user_book):
    aging = sheet_id(user_book, "Aging")
    with_calc_chain(user_book, f'<c r="B5" i="{aging}"/><c r="B6"/>')
    pipeline.recalc(user_book)
    with zipfile.ZipFile(user_book) as z:
        assert "xl/calcChain.xml" not in z.namelist()
        assert "calcChain" not in z.read("xl/_rels/workbook.xml.rels").decode()
        assert "calcChain" not in z.read("[Content_Types].xml").decode()
    pipeline.recalc(user_book)           # and the workbook stays readable
