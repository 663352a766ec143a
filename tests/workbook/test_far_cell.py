"""A value typed far away from a table (XFD1048576 of a 12-row Payments sheet) would make
python-calamine allocate the whole rectangle from A1 to it (16,384 x 1,048,576 cells,
512 GiB: the process aborts). Each sheet's XML is scanned first (read.scan_sheet) and
the read is refused naming the cell, in little memory; cells that are only formatted
are not values and are read as before (workbook/read.py states the rule)."""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from test_hostile import rewrite

from payorxl import importer, pipeline
from payorxl.errors import PayorxlError
from payorxl.workbook import read
from payorxl.workbook.read import (
    FAR_COLUMNS,
    MAX_COLUMN,
    MAX_ROW,
    col_number,
    columns_after,
    read_inputs,
    rows_after,
    scan_sheets,
    table_end,
)
from payorxl.workbook.xlsxpart import col_letter, sheet_parts

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
PAYORXL = [sys.executable, "-m", "payorxl"]
ADDRESS_SPACE = 3 << 30      # a child whose guard failed dies at once instead of filling the machine
SMALL_MB = 300               # what `payorxl check` of a small workbook needs, with room (about 90 MB here)
posix = pytest.mark.skipif(os.name == "nt", reason="resource limits and wait4 are POSIX")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The shipped template, as `payorxl new` writes it (plain .xlsx)."""
    path = tmp_path_factory.mktemp("far") / "template.xlsx"
    pipeline.new_workbook(path)
    return path


@pytest.fixture(scope="module")
def last_column(template) -> dict[str, str]:
    """Sheet -> the letter of its header row's last column, as the template has it."""
    book = CalamineWorkbook.from_path(str(template))
    try:
        return {name: col_letter(len(book.get_sheet_by_name(name).to_python()[0]) - 1)
                for name in ("Payments", "Claims", "ImportLog")}
    finally:
        book.close()


def with_rows(src: Path, dst: Path, sheet: str, rows: str) -> Path:
    """A copy of the workbook `src` whose `sheet` has the row elements `rows` (XML) added
    at the end of its sheetData, as a program that is not Excel might write them."""
    with zipfile.ZipFile(src) as z:
        part = sheet_parts(z)[sheet]
    rewrite(src, dst, lambda name, data: data.replace(b"</sheetData>", rows.encode() + b"</sheetData>")
            if name == part else data)
    return dst


def far(sheet: str, cell: str, last: str) -> re.Pattern:
    return re.compile(rf"{re.escape(sheet)}!{cell} holds a value far outside the {sheet} table \(which ends at "
                      rf"column {last}\); payorxl reads a sheet as the whole rectangle from A1 to its farthest "
                      r"value.*, so the workbook was not read\. Fix: delete it \(select the cell, press Delete\), "
                      r"save, and run again")


def run_measured(*args: str) -> tuple[int, str, str, int]:
    """Run `python -m payorxl *args` in a child process of at most ADDRESS_SPACE bytes:
    (exit status, stdout, stderr, the child's own peak RSS in MB, from wait4)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(PAYORXL + list(args), stdout=out, stderr=err, env=ENV, preexec_fn=limit)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read().decode(), err.read().decode(), usage.ru_maxrss // 1024


# --- the CLI, end to end, in a child process ------------------------------------------------

@posix
@pytest.mark.parametrize("command", ["recalc", "check"])
def test_a_value_in_xfd1048576_is_refused_naming_the_cell_in_little_memory(template, last_column, tmp_path,
                                                                           command):
    book = with_rows(template, tmp_path / "book.xlsx", "Payments",
                     '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    before = book.read_bytes()
    status, _, err, peak = run_measured(command, str(book))
    assert status == 1, err
    assert "Traceback" not in err and err.startswith("error: book.xlsx: ")
    assert far("Payments", "XFD1048576", last_column["Payments"]).search(" ".join(err.split())), err
    assert "17,179,869,184 cells" in err
    assert peak < SMALL_MB, f"the refused read took {peak} MB"
    assert book.read_bytes() == before


@posix
def test_formatted_but_empty_far_cells_are_read_in_little_memory(template, tmp_path):
    """Cells and rows with a style but no value are not values to calamine (nor is an
    empty number, or a formula with no saved result): nothing to refuse, nothing held."""
    book = with_rows(template, tmp_path / "styled.xlsx", "Payments",
                     '<row r="70000"><c r="XFD70000" s="1"/><c r="XFC70000" s="1"></c></row>'
                     '<row r="80000"><c r="XFD80000" s="1"><v></v></c><c r="XFC80000"><f>1+1</f></c></row>'
                     '<row r="1048576" s="1" customFormat="1"><c r="XFD1048576" s="1"/></row>')
    status, out, err, peak = run_measured("check", str(book))
    assert status == 0 and "styled.xlsx: 0 error(s), 0 warning(s)" in out, err
    assert peak < SMALL_MB, f"reading took {peak} MB"
    assert read_inputs(book).frames["Payments"].empty


# --- the rule, on real workbooks (no calamine grid is ever built for a refused sheet) ------

def scan(book: Path, sheet: str) -> read.SheetScan:
    with zipfile.ZipFile(book) as z:
        part = sheet_parts(z)[sheet]
    return scan_sheets(book, {sheet: part}, {})[sheet]


def test_far_means_more_than_far_columns_right_of_the_last_header(template, last_column, tmp_path):
    end = col_number(last_column["Payments"])
    near, beyond = col_letter(end + FAR_COLUMNS - 1), col_letter(end + FAR_COLUMNS)
    ok = with_rows(template, tmp_path / "near.xlsx", "Payments",
                   f'<row r="5"><c r="{near}5" t="inlineStr"><is><t>a note</t></is></c></row>')
    assert scan(ok, "Payments").far == 0
    assert read_inputs(ok).frames["Payments"].empty   # a value outside the table's columns: not a row
    bad = with_rows(template, tmp_path / "beyond.xlsx", "Payments",
                    f'<row r="5"><c r="{beyond}5" t="inlineStr"><is><t>a note</t></is></c></row>')
    with pytest.raises(PayorxlError, match=far("Payments", f"{beyond}5", last_column["Payments"]).pattern):
        read_inputs(bad)


def test_the_users_own_headed_columns_extend_the_table(template, last_column, tmp_path):
    """A header the user added (Notes, 20 columns past the table) moves the table's end."""
    end = col_number(last_column["Payments"])
    notes, value = col_letter(end + 19), col_letter(end + 19 + FAR_COLUMNS)   # columns end+20, end+20+26
    with zipfile.ZipFile(template) as z:
        part = sheet_parts(z)["Payments"]
    book = tmp_path / "notes.xlsx"
    rewrite(template, book, lambda name, data: data.replace(
        b"</c></row>", f'</c><c r="{notes}1" t="inlineStr"><is><t>Notes</t></is></c></row>'.encode(), 1)
        .replace(b"</sheetData>", f'<row r="3"><c r="{value}3"><v>7</v></c></row></sheetData>'.encode())
        if name == part else data)
    found = scan(book, "Payments")
    assert found.last_column == end + 20 and found.far == 0


@pytest.mark.parametrize("cell, shown", [("xfd7", "XFD7"), ("A1048577", "A1048577"), ("AAAA7", "AAAA7"),
                                         ("B0002000000", "B2000000")])
def test_a_reference_past_excels_grid_or_in_lower_case_is_far(template, last_column, tmp_path, cell, shown):
    row = re.sub(r"\D", "", cell).lstrip("0")
    book = with_rows(template, tmp_path / "odd.xlsx", "Payments", f'<row r="{row}"><c r="{cell}"><v>1</v></c></row>')
    with pytest.raises(PayorxlError, match=far("Payments", shown, last_column["Payments"]).pattern):
        read_inputs(book)


@pytest.mark.parametrize("cell", ['<c r="XFD9" t="str"><v></v></c>', '<c r="XFD9" t="inlineStr"><is/></c>',
                                  '<c r="XFD9" s="1" t="e"><v>#N/A</v></c>',
                                  '<c r="XFD9" t="str"><f>""</f><v></v></c>',
                                  '<c r="XFD9"><f t="shared" si="0"/><v>2</v></c>'])
def test_what_calamine_counts_as_a_value_counts(template, tmp_path, cell):
    """An empty text (t="str" with an empty <v>, an empty inline string) is a value to
    calamine, which would build the grid out to it."""
    book = with_rows(template, tmp_path / "v.xlsx", "Payments", f'<row r="9">{cell}</row>')
    assert scan(book, "Payments").far_refs == ["XFD9"]


def test_a_far_cell_whose_r_is_not_its_first_attribute_is_found_past_the_first_megabyte(template, tmp_path):
    """Most writers put r= first, and the scan looks only for that form when the first
    megabyte has it; a cell written otherwise later in the sheet sends it round again."""
    filler = "".join(f'<row r="{r}"><c r="A{r}" s="1"/><c r="B{r}" s="1"/></row>' for r in range(2, 30_000))
    book = with_rows(template, tmp_path / "late.xlsx", "Payments",
                     filler + '<row r="40000"><c s="1" t="n" r="XFD40000"><v>3</v></c></row>')
    with zipfile.ZipFile(book) as z:
        assert z.getinfo(sheet_parts(z)["Payments"]).file_size > 1 << 20
    assert scan(book, "Payments").far_refs == ["XFD40000"]


def test_a_value_far_below_the_table_is_not_far(template, tmp_path):
    """A1048576 under the table costs at most a full sheet of the table's width, which
    payorxl reads (tests/test_hostile.py: the stray row is reported with its problems)."""
    book = with_rows(template, tmp_path / "tall.xlsx", "Payments",
                     '<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
    found = scan(book, "Payments")
    assert found.far == 0 and found.last_column > 0


def test_many_far_values_are_counted_and_the_first_named(template, last_column, tmp_path):
    rows = "".join(f'<row r="{r}"><c r="ZZ{r}"><v>{r}</v></c></row>' for r in range(2, 40))
    book = with_rows(template, tmp_path / "many.xlsx", "Claims", rows)
    with pytest.raises(PayorxlError) as error:
        read_inputs(book)
    assert re.search(r"Claims!ZZ2, Claims!ZZ3, .*Claims!ZZ11 and 28 more hold values far outside the Claims "
                     rf"table \(which ends at column {last_column['Claims']}\).*delete them", str(error.value))


def test_every_sheet_read_is_scanned_first(template, last_column, tmp_path):
    """The ImportLog too (recalc reads it, and import reads it alone: read_grid), and with
    parallel=False (import) as with the threads (recalc)."""
    log = with_rows(template, tmp_path / "log.xlsx", "ImportLog", '<row r="3"><c r="XFD3"><v>1</v></c></row>')
    with pytest.raises(PayorxlError, match=far("ImportLog", "XFD3", last_column["ImportLog"]).pattern):
        importer.read_log(log)
    with pytest.raises(PayorxlError, match="ImportLog!XFD3"):
        pipeline.recalc(log)
    payments = with_rows(template, tmp_path / "pay.xlsx", "Payments", '<row r="3"><c r="XFD3"><v>1</v></c></row>')
    for parallel in (True, False):
        with pytest.raises(PayorxlError, match="Payments!XFD3"):
            read_inputs(payments, parallel=parallel)


# --- the regular expressions the scan is built from -----------------------------------------

def test_columns_after_and_rows_after_match_exactly_what_comes_after():
    for n in (1, 18, 26, 27, 52, 701, 702, 703, 16_383, MAX_COLUMN):
        after = re.compile(columns_after(n) + rb"\Z")
        for k in [*range(1, 760), *range(16_300, 16_400), 18_278, 18_279]:
            for letters in (col_letter(k - 1), col_letter(k - 1).lower()):
                assert bool(after.match(letters.encode())) == (k > n), (n, letters)
    for n in (9, 10, 99, 1_000, MAX_ROW):
        after = re.compile(rows_after(n) + rb"\Z")
        for k in [*range(0, 1_100), *range(max(n - 1_100, 0), n + 1_100), 10**8, 4_294_967_295]:
            for text in (str(k), f"00{k}"):
                assert bool(after.match(text.encode())) == (k > n), (n, text)


def test_the_table_ends_at_the_last_header_of_the_run_from_a():
    assert table_end([1, 2, 3, 18]) == 18
    assert table_end([1, 2, 18, 16_384]) == 18                     # a value in XFD1 is no header
    assert table_end([1, 1 + FAR_COLUMNS, 1 + 2 * FAR_COLUMNS]) == 1 + 2 * FAR_COLUMNS
    assert table_end([16_384]) == table_end([]) == 0
