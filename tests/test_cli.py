"""What a user of `payorxl` sees, exactly: user text printed as typed (never as rich
markup), one-line errors at any width when the output is not a terminal, full table
cells, money in dollars in every JSON, `import` of a file already imported exiting 0,
and the note on rows left out of the figures.

Workbooks are real files made by pipeline.new_workbook (as `payorxl new` makes them),
some filled with a small generated practice, and edited with openpyxl as a user's
program would."""
from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from payorxl import model as m, pipeline
from payorxl.cli import main
from payorxl.demo import generate_demo

MARKUP_PAYOR = "Medicare [/primary]"
MARKUP_CELL = "[bold]x"
MARKUP_PRACTICE = "[red]Riverside[/red] :smile: Clinic"


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def good_book(tmp_path_factory):
    """A small practice whose practice name and first payor are rich markup."""
    path = tmp_path_factory.mktemp("cli") / "good.xlsx"
    d = generate_demo(claims=40)
    frames = d.frames()
    old = frames["Contracts"]["payor"].iloc[0]
    for frame in frames.values():
        if "payor" in frame:
            frame["payor"] = frame["payor"].replace(old, MARKUP_PAYOR)
    pipeline.new_workbook(path, frames, {**d.settings, "practice_name": MARKUP_PRACTICE})
    return path


@pytest.fixture(scope="module")
def bad_book(good_book, tmp_path_factory):
    """good_book with two bad Claims cells, typed in with openpyxl: a payor that is
    markup and not in Contracts (row 3), and a date of service that is markup (row 4)."""
    path = tmp_path_factory.mktemp("cli-bad") / "bad.xlsx"
    wb = openpyxl.load_workbook(good_book)
    ws = wb["Claims"]
    header = {c.value: c.column for c in ws[1]}
    ws.cell(3, header["Payor"], "Medicare [/primary] [/]")
    ws.cell(4, header["Date of Service"], MARKUP_CELL)
    wb.save(path)
    return path


# --- 1. user text is never markup ------------------------------------------------------

def test_check_prints_markup_in_cells_as_typed(bad_book):
    result = run("check", bad_book)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:4] == [
        "error Claims!row 4 [Date of Service]: Date of Service is text, not a date (value: '[bold]x')",
        "    fix: re-type it as a date (e.g. 03/14/2026) so Excel right-aligns it; or use Data > Text to Columns "
        "> Date to convert a column",
        "error Claims!row 3 [Payor]: payor has no row in Contracts (value: 'Medicare [/primary] [/]')",
        "    fix: add the payor to Contracts, or correct the spelling to match it"]
    # the payments of the two claim lines left out are warnings, and so is each of the four
    # payors whose paid lines have no contracted rate (their payments cannot be checked)
    assert sum("have no contracted rate" in line for line in lines) == 4
    assert lines[-1] == "bad.xlsx: 2 error(s), 6 warning(s)"


def test_report_prints_payor_and_practice_names_as_typed(good_book):
    results = pipeline.load(good_book)
    assert MARKUP_PAYOR in set(results.worklist["payor"]), "the test needs a worklist row of that payor"
    result = run("report", good_book, "--top", "1000")
    assert result.exit_code == 0, result.output
    assert f"{MARKUP_PRACTICE} — as of {results.settings.as_of:%m/%d/%Y}" in result.output
    rows = [line for line in result.output.splitlines() if f"│ {MARKUP_PAYOR} " in line]
    assert len(rows) == (results.worklist["payor"] == MARKUP_PAYOR).sum()


def test_markup_in_a_path_prints_as_typed(tmp_path):
    folder = tmp_path / "[bold]clinic :smile:"   # a file name cannot hold "/"
    folder.mkdir()
    path = folder / "[red]book.xlsx"
    result = run("new", path)
    assert result.exit_code == 0, result.output
    assert result.output == (f"created {path}: fill in Contracts, FeeSchedule and Claims, then run "
                             f"'payorxl recalc \"{path}\"'\n")
    result = run("new", path)
    assert result.exit_code == 1
    assert result.output == (f"error: {path} already exists; choose another name, or pass --force to "
                             "replace it\n")


# --- 2. one line at any width when not a terminal --------------------------------------

def test_an_error_is_one_whole_line_however_narrow_the_columns(tmp_path):
    path = tmp_path / ("a-folder-with-a-rather-long-name-" * 4) / "Riverside Family Medicine 2026.xlsx"
    result = run("recalc", path, env={"COLUMNS": "20"})
    assert result.exit_code == 1
    assert result.output == (f"error: {path}: no such file; check the name and the folder, or make the "
                             f"workbook with 'payorxl new \"{path}\"'\n")


def test_tables_keep_every_cell_whole_when_not_a_terminal(good_book, tmp_path):
    result = run("report", good_book, "--top", "3", env={"COLUMNS": "20"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    rows = {line.split("│")[1].strip(): line.split("│")[3].strip()
            for line in result.output.splitlines() if line.count("│") == 4}
    for d in m.KPIS:
        assert d.label in rows
        assert rows[d.label].endswith(d.definition.replace("{ar_period_days}", "90")), d.key

    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(good_book.read_bytes())
    result = run("recalc", copy, env={"COLUMNS": "20"})
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "Workbook" in line)
    assert [h.strip() for h in header.strip("┃").split("┃")] == [
        "Workbook", "Practice", "As of", "Lines", "Errors", "Denial rate", "Missed", "Due soon", "Underpaid",
        "Result"]
    assert f"│ copy.xlsx │ {MARKUP_PRACTICE} │" in result.output


# --- 3. recalc of a missing file --------------------------------------------------------

def test_recalc_of_a_missing_file_is_one_line(tmp_path):
    result = run("recalc", tmp_path / "X.xlsx")
    assert result.exit_code == 1
    assert result.output == (f"error: {tmp_path / 'X.xlsx'}: no such file; check the name and the folder, "
                             f"or make the workbook with 'payorxl new \"{tmp_path / 'X.xlsx'}\"'\n")


def test_a_missing_file_in_a_batch_fails_its_row_with_the_reason(good_book, tmp_path):
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(good_book.read_bytes())
    missing = tmp_path / "gone.xlsx"
    result = run("recalc", copy, missing)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("│ copy.xlsx ") and line.endswith("│ ok     │") for line in lines), result.output
    assert any(line.startswith("│ gone.xlsx ") and line.endswith("│ failed │") for line in lines), result.output
    assert lines[-1] == (f"error: {missing}: no such file; check the name and the folder, or make the workbook "
                         f"with 'payorxl new \"{missing}\"'")
    assert "unexpected" not in result.output
    data = json.loads(run("recalc", copy, missing, "--json").stdout)
    assert [bool(s["failed"]) for s in data] == [False, True]
    assert data[1]["failed"].startswith("no such file; ")


def test_recalc_of_an_empty_folder_says_so(tmp_path):
    result = run("recalc", tmp_path)
    assert result.exit_code == 1
    assert result.output == (f"error: {tmp_path}: no workbook (.xlsx or .xlsm) in this folder; give a workbook "
                             "or a folder holding some\n")


# --- 4. money in dollars in every JSON --------------------------------------------------

def test_recalc_json_money_is_in_dollars(good_book, tmp_path):
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(good_book.read_bytes())
    cents = {k: v.value for k, v in pipeline.load(copy).kpis.items()}
    assert cents["ar_total"] > 10_000, "the test needs A/R beyond $100"
    result = run("recalc", copy, "--json")
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    kpis = summary["kpis"]
    assert kpis["ar_total"] == cents["ar_total"] / 100          # e.g. 284700 cents -> 2847.0 dollars
    for d in m.KPIS:
        if d.kind == m.MONEY:
            assert kpis[d.key] == round(cents[d.key] / 100, 2), d.key
            assert round(kpis[d.key], 2) == kpis[d.key], d.key
        elif cents[d.key] is not None:
            assert kpis[d.key] == pytest.approx(cents[d.key]), d.key      # rates and counts as they are
    # the same figure as report --csv writes (kpis.csv, dollars)
    out = tmp_path / "csv"
    assert run("report", copy, "--csv", out).exit_code == 0
    csv = pd.read_csv(out / "copy" / "kpis.csv").set_index("kpi")["value"]
    assert float(csv["ar_total"]) == kpis["ar_total"]


def test_check_json_is_plain_json(bad_book):
    result = run("check", bad_book, "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert {(p["row"], p["column"], p["value"]) for p in problems if p["severity"] == "error"} == {
        (3, "Payor", "'Medicare [/primary] [/]'"), (4, "Date of Service", "'[bold]x'")}


# --- 5. import: already imported is not a failure ---------------------------------------

def era(amount: str = "80", trace: str = "EFT1001") -> str:
    """A one-line 835 that balances: paid in full, `amount` dollars."""
    segments = [f"BPR*I*{amount}*C*ACH************20261101", f"TRN*1*{trace}*1999999999", "DTM*405*20261031",
                "N1*PR*ACME HEALTH PLAN*XV*PAYER01", "N1*PE*MAIN STREET CLINIC*XX*1234567893", "LX*1",
                f"CLP*PCN1*1*{amount}*{amount}**12*PCLM1", f"SVC*HC:99213*{amount}*{amount}**1", "DTM*472*20261015",
                "REF*6R*1"]
    return "~".join(["ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261101*1200*^*00501"
                     "*000000042*0*P*:", "GS*HP*SENDER*RECEIVER*20261101*1200*7*X*005010X221A1", "ST*835*0001",
                     *segments, f"SE*{len(segments) + 2}*0001", "GE*1*7", "IEA*1*000000042"]) + "~"


def test_import_of_a_file_already_imported_exits_0(tmp_path):
    book = tmp_path / "practice.xlsx"
    pipeline.new_workbook(book)
    remit = tmp_path / "era.835"
    remit.write_text(era())
    first = run("import", book, remit)
    assert first.exit_code == 0, first.output
    again = run("import", book, remit)
    assert again.exit_code == 0, again.output
    lines = again.output.splitlines()
    assert lines[0].startswith("era.835 (835): skipped: already imported on ")
    assert lines[0].endswith(" (ImportLog row 2); nothing to do")
    assert lines[1:] == ["nothing was written to practice.xlsx"]
    data = json.loads(run("import", book, remit, "--json").stdout)
    assert [(f["status"], f["reason"]) for f in data["files"]] == [("refused", "already_imported")]

    twice = tmp_path / "copy.835"
    twice.write_text(era(trace="EFT1002"))
    result = run("import", book, twice, twice)
    assert result.exit_code == 0, result.output
    assert "copy.835 (835): skipped: same content as copy.835, given earlier in this command" in result.output

    garbage = tmp_path / "notes.835"
    garbage.write_text("hello")
    result = run("import", book, remit, garbage)
    assert result.exit_code == 1, "a file that is not X12 is a real failure"
    assert result.output.splitlines()[1].startswith("notes.835: failed: is not readable X12: ")


def test_import_json_money_is_in_dollars(tmp_path):
    book = tmp_path / "practice.xlsx"
    pipeline.new_workbook(book)
    remit = tmp_path / "era.835"
    remit.write_text(era("1234.5"))
    data = json.loads(run("import", book, remit, "--json", "--dry-run").stdout)
    (f,) = data["files"]
    assert f["paid"] == 1234.5 and f["bpr"] == 1234.5 and f["status"] == "would import"


# --- 6. rows left out of the figures ----------------------------------------------------

def test_recalc_and_report_say_how_many_rows_were_left_out(bad_book, tmp_path):
    copy = tmp_path / "bad copy.xlsx"
    copy.write_bytes(bad_book.read_bytes())
    result = run("recalc", copy)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == ('bad copy.xlsx: 2 rows with errors were left out of the figures: '
                                              f'see the Exceptions sheet (or run payorxl check "{copy}")')
    result = run("report", copy, "--top", "1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == ('bad copy.xlsx: 2 rows with errors were left out of the figures: '
                                              f'run payorxl check "{copy}" to list them')


def test_no_note_when_no_row_was_left_out(good_book):
    result = run("report", good_book, "--top", "1")
    assert result.exit_code == 0 and "left out" not in result.output


# --- help -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["new", "demo", "recalc", "check", "report", "import"])
def test_help_reads_well(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and result.output.startswith("Usage: main " + command)
    assert "[/" not in result.output and "\\b" not in result.output


def test_recalc_log_for_cron_has_a_line_per_workbook_and_no_identifiers(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    d = generate_demo(claims=30)
    pipeline.new_workbook(folder / "a.xlsx", d.frames(), d.settings)
    (folder / "b.xlsx").write_text("not a workbook")
    log = tmp_path / "recalc.log"
    result = CliRunner().invoke(main, ["recalc", str(folder), "--jobs", "1", "--log", str(log)])
    assert result.exit_code == 1                      # b.xlsx failed
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert " ok a.xlsx " in lines[0] and lines[0].endswith(f"{len(d.frames()['Claims']):,} lines 0 left out")
    assert " failed b.xlsx: " in lines[1]
    ids = set(d.frames()["Claims"]["patient_id"]) | set(d.frames()["Claims"]["claim_id"])
    assert not any(i in log.read_text() for i in ids)
