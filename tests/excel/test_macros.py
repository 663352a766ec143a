"""The Dashboard's buttons, pressed end to end on real workbook files (books.FileBook):
each handler runs the same lines it runs in Excel, and writes what the CLI writes."""
import importlib.util
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from excel_helpers import sheet_values
from payorxl.cli import main
from payorxl.errors import PayorxlError
from payorxl.excel import macros
from payorxl.excel.books import FileBook, select_sheet
from payorxl.model import OWNED_SHEETS
from payorxl.workbook.sheets import STYLES
from payorxl.workbook.xlsxpart import rewrite_parts, sheet_parts, write_owned_sheets

X12 = Path(__file__).resolve().parents[1] / "x12" / "x12_helpers.py"


def x12_helpers():
    spec = importlib.util.spec_from_file_location("x12_helpers_for_excel", X12)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def wipe_owned_sheets(path):
    """Empty every owned sheet, so that a recalculation has to write all of them."""
    write_owned_sheets(path, {name: [] for name in OWNED_SHEETS}, STYLES)


def cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


# --- Recalculate ----------------------------------------------------------------------------

def test_recalculate_writes_exactly_what_payorxl_recalc_writes(copy_of):
    button, command = copy_of("demo", "button.xlsm"), copy_of("demo", "command.xlsm")
    for path in (button, command):
        wipe_owned_sheets(path)
    assert not any(v != "" for row in sheet_values(button, ["Scorecard"])["Scorecard"] for v in row)

    message = macros.recalculate(book=FileBook(button))
    cli("recalc", command)

    assert message == "Recalculated 4,569 claim lines as of 2026-10-31"
    pressed, ran = sheet_values(button, OWNED_SHEETS), sheet_values(command, OWNED_SHEETS)
    assert pressed == ran
    assert [row[0] for row in pressed["Scorecard"][4:12]] == sorted(row[0] for row in pressed["Scorecard"][4:12])
    assert len(pressed["Worklist"]) > 10
    # Not just the same values: the same file, part for part.
    assert parts(button) == parts(command)


def test_recalculate_leaves_everything_else_alone(copy_of):
    path = copy_of("small")
    before = parts(path)
    macros.recalculate(book=FileBook(path))
    after = parts(path)
    with zipfile.ZipFile(path) as z:
        owned = {p for name, p in sheet_parts(z).items() if name in OWNED_SHEETS}
    assert list(after) == list(before)
    assert {name for name in before if before[name] != after[name]} <= owned | {"xl/styles.xml"}
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]


def test_recalculate_refuses_a_file_excel_has_open(copy_of):
    path = copy_of("small")
    (path.parent / ("~$" + path.name)).write_text("lock")
    with pytest.raises(PayorxlError, match="is open in Excel"):
        macros.recalculate(book=FileBook(path))


# --- Check data -----------------------------------------------------------------------------

def type_text_into(path: Path, sheet: str, ref: str, text: str) -> None:
    """What a user does by typing a date as text: cell `ref` becomes an inline string."""
    with zipfile.ZipFile(path) as z:
        part = sheet_parts(z)[sheet]
        xml = z.read(part).decode("utf-8")
    cell = re.compile(rf'<c r="{ref}"( s="\d+")?[^>]*?(/>|>.*?</c>)', re.S)
    new, n = cell.subn(lambda m: f'<c r="{ref}"{m.group(1) or ""} t="inlineStr"><is><t>{text}</t></is></c>', xml,
                       count=1)
    assert n == 1
    rewrite_parts(path, path, {part: new.encode("utf-8")})


def active_sheet(path: Path) -> tuple[str, list[str]]:
    """The sheet Excel shows on opening, and the sheets flagged as selected."""
    with zipfile.ZipFile(path) as z:
        names = list(sheet_parts(z))
        workbook = z.read("xl/workbook.xml").decode()
        selected = [n for n, p in sheet_parts(z).items() if 'tabSelected="1"' in z.read(p).decode()]
    index = re.search(r'<workbookView[^>]*activeTab="(\d+)"', workbook)
    return names[int(index.group(1)) if index else 0], selected


def test_check_data_writes_exceptions_and_shows_them(copy_of):
    path = copy_of("small")
    assert active_sheet(path) == ("Dashboard", ["Dashboard"])
    type_text_into(path, "Claims", "J3", "3/2/26")        # C1 line 2's date of service, as text
    before = parts(path)

    message = macros.check_data(book=FileBook(path))

    # The claim line is left out of the figures, so its payment has no claim line: a warning.
    assert message == "Check data: 1 error(s), 1 warning(s) — see Exceptions"
    exceptions = sheet_values(path, ["Exceptions"])["Exceptions"]
    assert exceptions[3][:7] == ["Severity", "Sheet", "Row", "Column", "Value", "Problem", "Fix"]
    assert exceptions[4][:6] == ["Error", "Claims", 3, "Date of Service", "'3/2/26'",
                                 "Date of Service is text, not a date"]
    assert exceptions[5][:6] == ["Warning", "Payments", 3, "Claim ID", "'C1'", "no claim line C1 / 2 in Claims"]
    assert active_sheet(path) == ("Exceptions", ["Exceptions"])
    with zipfile.ZipFile(path) as z:
        sheets = sheet_parts(z)
    changed = {name for name in before if before[name] != parts(path)[name]}
    assert changed <= {sheets["Exceptions"], sheets["Dashboard"], "xl/workbook.xml", "xl/styles.xml"}
    # The command line finds the same problem.
    result = CliRunner().invoke(main, ["check", str(path)], terminal_width=200)
    assert result.exit_code == 1
    assert "Claims!row 3 [Date of Service]: Date of Service is text, not a date" in result.output


def test_selecting_a_sheet_twice_changes_nothing_more(copy_of):
    path = copy_of("small")
    select_sheet(path, "Scorecard")
    once = parts(path)
    select_sheet(path, "Scorecard")
    assert parts(path) == once
    assert active_sheet(path) == ("Scorecard", ["Scorecard"])
    with pytest.raises(PayorxlError, match="no sheet named Nowhere"):
        select_sheet(path, "Nowhere")


# --- Import remittance, Import claims --------------------------------------------------------

@pytest.fixture
def importer():
    return pytest.importorskip("payorxl.importer", reason="payorxl/importer.py (import_files) is not there yet")


def claim_file(tmp_path) -> Path:
    """An 837P with one new claim for Acme Health (two lines) — C6, as the practice bills."""
    h = x12_helpers()
    text = h.interchange(h.transaction([
        "BHT*0019*00*B1*20260420*1200*CH",
        "NM1*41*2*SMALL PRACTICE*****46*S1",
        "NM1*40*2*CLEARINGHOUSE*****46*R1",
        "HL*1**20*1",
        "NM1*85*2*SMALL PRACTICE*****XX*1234567893",
        "HL*2*1*22*0",
        "SBR*P*18*******CI",
        "NM1*IL*1*DOE*JANE****MI*MEM001",
        "NM1*PR*2*ACME HEALTH*****PI*ACME01",
        "CLM*C6*250***11:B:1*Y*A*Y*Y",
        "HI*ABK:E119",
        "LX*1", "SV1*HC:99213*150*UN*1***1", "DTP*472*D8*20260415",
        "LX*2", "SV1*HC:36415*100*UN*1***1", "DTP*472*D8*20260415",
    ], kind="837", extra="005010X222A1"), kind="837", gs_version="005010X222A1")
    path = tmp_path / "claims 'april'.837"          # a quote in the name travels safely
    path.write_text(text)
    return path


def remittance_file(tmp_path) -> Path:
    """An 835 from Medicare paying C3 (36415, charge $20): paid $2.40, CO-45 $17.00, PR-2 $0.60."""
    h = x12_helpers()
    text = h.era("2.4", ["CLP*C3*1*20*2.4*0.6*MB*PCN9", "NM1*QC*1*DOE*JOHN",
                         "SVC*HC:36415*20*2.4", "DTM*472*20260401", "CAS*CO*45*17", "CAS*PR*2*0.6",
                         "AMT*B6*3"], payer="MEDICARE")
    path = tmp_path / "era-0502.835"
    path.write_text(text)
    return path


def without_times(values: dict) -> dict:
    """Sheet values with datetimes that carry a time of day (when a file was imported)
    replaced, so two imports a second apart compare equal."""
    import datetime as dt

    def clean(v):
        return "<time>" if isinstance(v, dt.datetime) and v.time() != dt.time() else v
    return {name: [[clean(v) for v in row] for row in grid] for name, grid in values.items()}


@pytest.mark.parametrize("kind", ["claims", "remittance"])
def test_import_button_equals_payorxl_import_then_recalc(importer, copy_of, tmp_path, kind):
    file = claim_file(tmp_path) if kind == "claims" else remittance_file(tmp_path)
    handler = macros.import_claims if kind == "claims" else macros.import_remittance
    button, command = copy_of("small", "button.xlsm"), copy_of("small", "command.xlsm")

    message = handler(macros.encode_paths([file], tmp_path), book=FileBook(button))
    assert not list(tmp_path.glob("payorxl-paths-*"))          # the list of picked files is gone
    cli("import", command, file)
    cli("recalc", command)

    assert message == f"{file.name}: imported"
    sheets = ["Claims", "Payments"] + list(OWNED_SHEETS)
    assert without_times(sheet_values(button, sheets)) == without_times(sheet_values(command, sheets))
    claims = sheet_values(button, ["Claims"])["Claims"]
    ids = [row[0] for row in claims[1:] if row[0]]
    assert ids.count("C6") == (2 if kind == "claims" else 0)
    payments = sheet_values(button, ["Payments"])["Payments"]
    paid = payments[0].index("Paid")
    assert any(row[0] == "C3" and row[paid] == 2.4 for row in payments[1:]) == (kind == "remittance")

    # The same file again changes nothing, and says so.
    before = parts(button)
    with pytest.raises(PayorxlError, match="nothing was imported .*already imported"):
        handler(macros.encode_paths([file]), book=FileBook(button))
    assert parts(button) == before


def test_the_rows_an_import_wrote_are_where_the_open_workbook_takes_them_from(importer, copy_of, tmp_path):
    """ExcelBook imports into a copy and brings over the rows `written_rows` names; on a
    file, those rows are exactly the ones the import added."""
    from payorxl.excel.books import rows_of, written_rows
    path = copy_of("small")
    before = sheet_values(path, ["Claims", "ImportLog"])
    result = importer.import_files(path, [claim_file(tmp_path)])
    after = sheet_values(path, ["Claims", "ImportLog"])
    spans = written_rows(result, importer.LOG_SHEET, len(before["ImportLog"]))
    assert [s[0] for s in spans] == ["Claims", "ImportLog"]
    for name, first, last in spans:
        new_rows = [row for row in after[name] if row not in before[name]]
        width = len(new_rows[0])
        got = rows_of(after[name], first, last, width)
        assert [[("" if v is None else v) for v in row] for row in got] == new_rows


# --- paths from VBA: tests/excel/test_paths.py ------------------------------------------------
