"""The workbook open in Excel (books.ExcelBook) runs the same handler lines as a file on
disk; what it does differently is prepared by pure functions, tested here. The xlwings
calls themselves need desktop Excel: the mock-caller test below runs them where Excel is
(Windows, Mac) and shows here why it cannot."""
import datetime as dt
import shutil

import pandas as pd
import pytest
import xlwings as xw
from python_calamine import CalamineWorkbook

from excel_helpers import sheet_values
from payorxl import model as m
from payorxl.excel import macros
from payorxl.excel.books import ExcelBook, FileBook, cells_to_grid, column_bands, grids_to_inputs, style_runs
from payorxl.workbook.read import read_inputs
from payorxl.workbook.xlsxpart import Cell, Formula, Run

HAS_EXCEL = "excel" in [e.name for e in xw.engines]


def test_cells_become_one_grid_and_text_is_never_parsed():
    cells = [Cell(0, 0, "Title", "title"), Cell(2, 1, 12.5, "money"), Cell(2, 3, dt.date(2026, 3, 2), "date"),
             Cell(3, 0, "=HYPERLINK(\"http://x\")"), Cell(3, 1, "03-14"), Cell(3, 2, "00123"),
             Cell(3, 3, ""), Cell(1, 0, pd.Timestamp("2026-05-01")), Cell(1, 1, float("nan"))]
    assert cells_to_grid(cells) == [
        ["'Title", None, None, None],
        [dt.datetime(2026, 5, 1), None, None, None],
        [None, 12.5, None, dt.date(2026, 3, 2)],
        # Excel would make a formula, a date and a number of these if written as typed.
        ["'=HYPERLINK(\"http://x\")", "'03-14", "'00123", None]]
    assert cells_to_grid([]) == []


def test_formats_are_applied_by_runs_not_per_cell():
    cells = ([Cell(r, 0, "x", "header" if r == 3 else "") for r in range(3, 8)]
             + [Cell(r, 1, 1.0, "money") for r in range(4, 8)]
             + [Cell(r, 2, s, s) for r, s in zip(range(4, 8), ["missed", "missed", "", "soon"])])
    assert style_runs(cells) == [("header", 3, 0, 3), ("money", 4, 1, 7),
                                 ("missed", 4, 2, 5), ("soon", 7, 2, 7)]


def test_an_open_workbook_is_read_exactly_as_a_file(built):
    """ExcelBook reads grids through xlwings (None for empty cells, datetime, float) and
    hands them to the same reader as a file: same frames, same errors."""
    path = built("small")
    book = CalamineWorkbook.from_path(str(path))
    names = [t.name for t in m.INPUT_TABLES] + [m.SETTINGS_SHEET]
    grids = {n: [[None if v == "" else v for v in row] for row in book.get_sheet_by_name(n).to_python()]
             for n in names}
    book.close()
    from_excel, from_file = grids_to_inputs(grids), read_inputs(path)
    assert from_excel.settings == from_file.settings
    assert from_excel.errors == from_file.errors
    for name in from_file.frames:
        pd.testing.assert_frame_equal(from_excel.frames[name], from_file.frames[name], check_dtype=False)
    # A workbook without a sheet reads as the file reader reads one: an error, not a crash.
    del grids["Appeals"]
    assert any("no 'Appeals' sheet" in e.message for e in grids_to_inputs(grids).errors)


@pytest.mark.skipif(HAS_EXCEL, reason="Excel is here: the next test presses the buttons in it")
def test_mock_caller_needs_desktop_excel(built):
    """xlwings' own way to run a button handler from Python is
    `xw.Book(path).set_mock_caller()`, then the handler. It opens the workbook in Excel;
    on Linux there is no Excel, and open-source xlwings has no other engine (its file
    reader, the calamine engine, is xlwings PRO), so xw.Book cannot be made here."""
    with pytest.raises(xw.XlwingsError, match="only supported on Windows and macOS"):
        xw.Book(str(built("small"))).set_mock_caller()
    # and with no mock set, there is no caller (AttributeError on Linux; the type is xlwings' choice per platform)
    with pytest.raises(Exception):  # noqa: B017
        xw.Book.caller()


@pytest.mark.skipif(not HAS_EXCEL, reason="needs desktop Excel (Windows or Mac): xw.Book opens the "
                                          "workbook in Excel, which Linux does not have")
def test_buttons_through_the_mock_caller(built, tmp_path):
    """In Excel: Recalculate and Check data through xlwings' Book.caller(), then the
    owned sheets hold what the same presses write on a closed copy."""
    in_excel, on_disk = tmp_path / "excel.xlsm", tmp_path / "disk.xlsm"
    shutil.copyfile(built("small"), in_excel)
    shutil.copyfile(built("small"), on_disk)
    app = xw.App(visible=False, add_book=False)
    try:
        book = app.books.open(str(in_excel))
        book.set_mock_caller()
        assert isinstance(macros.caller(), ExcelBook)
        macros.recalculate()
        macros.check_data()
        assert book.sheets.active.name == "Exceptions"
        book.save()
        book.close()
    finally:
        app.quit()
    macros.recalculate(book=FileBook(on_disk))
    macros.check_data(book=FileBook(on_disk))
    names = ["Scorecard", "Aging", "Worklist", "Exceptions"]
    assert sheet_values(in_excel, names) == sheet_values(on_disk, names)


def test_the_index_is_written_in_bands_of_neighbouring_columns():
    """Excel gets the Index's occupied columns only: slots far apart are separate grids."""
    cells = [Cell(0, 0, "title"), Cell(1, 1, 2), Cell(2, 2, Formula("Payments!$A$5", 1)),
             Cell(1, 40, Formula('Payments!$A$9&""', "C1")), Cell(3, 41, 5.5)]
    assert column_bands(cells) == [
        (0, [["'title", None, None], [None, 2, None], [None, None, "=Payments!$A$5"]]),
        (40, [[None, None], ['=Payments!$A$9&""', None], [None, None], [None, 5.5]])]
    assert column_bands([]) == []
    # the Index's slots and tails come as Runs: each is the cells it stands for
    run = Cell(1, 40, Run("<c/>", 41, lambda: [Cell(1, 40, Formula('Payments!$A$9&""', "C1")), Cell(1, 41, 7)]))
    assert column_bands([Cell(0, 0, "title"), run]) == [
        (0, [["'title"]]), (40, [[None, None], ['=Payments!$A$9&""', 7]])]
    # a newer function is written as Excel's formula language names it, without the file's prefix
    assert cells_to_grid([Cell(0, 0, Formula('SUBSTITUTE(A2,_xlfn.UNICHAR(160),"")', ""))]) == [
        ['=SUBSTITUTE(A2,UNICHAR(160),"")']]
