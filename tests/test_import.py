"""`payorxl import`: 835 remittances and 837P claims into real workbooks.

Workbooks are built by pipeline.new_workbook (empty, or filled with a slice of the
generated demo practice); the X12 files are the public samples in ../shared/data/x12
(skipped when absent) and small files written here. Each test reads the workbook back
(python-calamine, the zip's XML) rather than trusting the import's own report.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from payorxl import pipeline
from payorxl.cli import main
from payorxl.demo import generate_demo
from payorxl.errors import PayorxlError
from payorxl.importer import (
    FAILED,
    HELD,
    IMPORTED,
    LOG_COLUMNS,
    REFUSED,
    UNBALANCED,
    WOULD_IMPORT,
    FileResult,
    import_files,
    read_log,
    reconciliation_frame,
)
from payorxl.workbook import template
from payorxl.workbook.append import WorkbookEditor, append_rows
from payorxl.workbook.read import read_inputs
from payorxl.workbook.xlsxpart import sheet_parts

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "x12"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"sample X12 files not found in {SAMPLES} "
                                                                 "(the shared data folder next to the repository)")
BALANCED_835 = "LinuxForHealth_x12__src_tests_resources_835_005010X221A1_managed-care.835"
UNBALANCED_835 = "affect-therapeutics_edi-835-parser__tests_test_edi_835_files_sample_835.txt"
SAMPLE_837 = "LinuxForHealth_x12__src_tests_resources_837_005010X222A2_demo.example1.837"
NOW = dt.datetime(2026, 11, 2, 9, 30)


# --- X12 written here ----------------------------------------------------------------

def isa() -> str:
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
              "261101", "1200", "^", "00501", "000000042", "0", "P", ":"]
    return "*".join(fields)


def interchange(segments: list[str], kind: str = "835") -> str:
    version = "005010X221A1" if kind == "835" else "005010X222A1"
    body = [f"ST*{kind}*0001" + ("" if kind == "835" else f"*{version}"), *segments,
            f"SE*{len(segments) + 2}*0001"]
    out = [isa(), f"GS*{'HP' if kind == '835' else 'HC'}*SENDER*RECEIVER*20261101*1200*7*X*{version}",
           *body, "GE*1*7", "IEA*1*000000042"]
    return "~\n".join(out) + "~\n"


def era(claims: list[str], paid: str, payer: str = "ACME HEALTH PLAN", payer_id: str = "PAYER01",
        trace: str = "EFT1001") -> str:
    return interchange([f"BPR*I*{paid}*C*ACH************20261101", f"TRN*1*{trace}*1999999999",
                        "DTM*405*20261031", f"N1*PR*{payer}*XV*{payer_id}",
                        "N1*PE*MAIN STREET CLINIC*XX*1234567893", "LX*1", *claims])


def payment(claim_id: str, cpt: str, charge: str, paid: str, dos: str, line: int = 1,
            payer_claim_no: str = "PCLM1") -> list[str]:
    write_down = Decimal(charge) - Decimal(paid)
    return [f"CLP*{claim_id}*1*{charge}*{paid}**12*{payer_claim_no}",
            f"SVC*HC:{cpt}*{charge}*{paid}**1", f"DTM*472*{dos}", f"REF*6R*{line}"] + \
           ([f"CAS*CO*45*{write_down}"] if write_down else [])


def claim_file(payer: str = "ACME HEALTH PLAN", member_id: str = "MEM001", pcn: str = "PCN100") -> str:
    return interchange([
        "BHT*0019*00*B1*20261020*1200*CH", "NM1*41*2*MAIN STREET CLINIC*****46*S1",
        "NM1*40*2*CLEARINGHOUSE*****46*R1", "HL*1**20*1", "NM1*85*2*MAIN STREET CLINIC*****XX*1234567893",
        "HL*2*1*22*0", "SBR*P*18*******CI", f"NM1*IL*1*DOE*JANE****MI*{member_id}",
        f"NM1*PR*2*{payer}*****PI*PAYER01", f"CLM*{pcn}*250***11:B:1*Y*A*Y*Y", "HI*ABK:E119",
        "LX*1", "SV1*HC:99214*150*UN*1***1", "DTP*472*D8*20261015",
        "LX*2", "SV1*HC:36415*100*UN*2***1", "DTP*472*D8*20261015",
    ], kind="837")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# --- workbooks -----------------------------------------------------------------------

def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def sheet_xml(path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(sheet_parts(z)[sheet]).decode()


def grid(path, sheet: str) -> list[list]:
    book = CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(sheet).to_python()
    finally:
        book.close()


@pytest.fixture
def empty_book(tmp_path) -> Path:
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, settings_values={"practice_name": "Main Street", "as_of": "2026-11-02"})
    return path


@pytest.fixture(scope="module")
def demo_slice(tmp_path_factory):
    """A workbook filled with a slice of the demo practice (all its contracts and fees,
    the first 40 claims with their payments and appeals, and one claim line nobody has
    paid yet), and that unpaid line. Built once: the full demo takes minutes to build."""
    demo = generate_demo()
    frames = demo.frames()
    claims, pays = frames["Claims"], frames["Payments"]
    paid_keys = set(zip(pays["claim_id"], pays["line"]))
    never_paid = pd.Series([k not in paid_keys for k in zip(claims["claim_id"], claims["line"])], index=claims.index)
    unpaid = claims[never_paid & claims["filed_date"].notna() & (claims["frequency"] == "1")]
    target = unpaid.iloc[0]
    ids = set(claims["claim_id"].drop_duplicates().head(40)) | {target["claim_id"]}
    sliced = {name: (f[f["claim_id"].isin(ids)].reset_index(drop=True) if "claim_id" in f else f)
              for name, f in frames.items()}
    path = tmp_path_factory.mktemp("demo") / "demo-slice.xlsx"
    pipeline.new_workbook(path, sliced, demo.settings)
    return path, target


@pytest.fixture
def demo_book(demo_slice, tmp_path):
    path, target = demo_slice
    copy = tmp_path / "riverside.xlsx"
    copy.write_bytes(path.read_bytes())
    return copy, target


def hand_clp04_total(text: str) -> int:
    """Sum of CLP04 in cents, by splitting the file here (not with the reader)."""
    sep = text[3]
    total = Decimal(0)
    for seg in text.replace("\n", "").split("~"):
        e = seg.strip().split(sep)
        if e[0] == "CLP":
            total += Decimal(e[4])
    return int(total * 100)


# --- 835 -----------------------------------------------------------------------------

@needs_samples
def test_a_sample_835_appends_rows_whose_paid_adds_up_to_its_clp04(empty_book):
    sample = SAMPLES / BALANCED_835
    result = import_files(empty_book, [sample], now=NOW)
    (f,) = result.files
    assert f.status == IMPORTED and result.written and f.balanced
    payments = read_inputs(empty_book).frames["Payments"]
    expected = hand_clp04_total(sample.read_text())
    assert int(payments["paid"].sum()) == expected == f.paid
    assert set(payments["source"]) == {sample.name}
    assert len(payments) == f.rows == f.unmatched, "an empty workbook has no claims to match"
    log = read_log(empty_book)
    assert len(log) == 1
    row = log.iloc[0]
    assert row["sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    assert (row["kind"], row["file"], row["balanced"]) == ("835", sample.name, "Yes")
    assert row["paid_total"] == expected and row["imported_at"] == pd.Timestamp(NOW)
    assert (row["st_count"], row["claims"], row["lines"]) == (1, f.claims, f.lines)
    assert row["isa13"] and row["gs06"]
    header = grid(empty_book, "ImportLog")[0]
    assert header[:len(LOG_COLUMNS)] == [c.name for c in LOG_COLUMNS]


@needs_samples
def test_the_same_file_twice_is_refused_and_changes_nothing(empty_book, tmp_path):
    sample = SAMPLES / BALANCED_835
    import_files(empty_book, [sample], now=NOW)
    before = empty_book.read_bytes()
    renamed = write(tmp_path, "renamed.835", sample.read_bytes())   # same bytes, other name
    result = import_files(empty_book, [sample, renamed])
    assert [f.status for f in result.files] == [REFUSED, REFUSED]
    assert [f.reason for f in result.files] == [FileResult.ALREADY_IMPORTED, FileResult.ALREADY_IMPORTED]
    assert not any(f.failed for f in result.files), "already imported is not a failure"
    assert result.files[0].message.startswith("already imported on 11/02/2026 09:30 (ImportLog row 2)")
    assert not result.written and result.ok    # nothing to do is not a failure
    assert empty_book.read_bytes() == before


@needs_samples
def test_an_unbalanced_file_is_refused_unless_allowed_and_then_marked(empty_book):
    sample = SAMPLES / UNBALANCED_835
    before = empty_book.read_bytes()
    result = import_files(empty_book, [sample])
    (f,) = result.files
    failure = ("segment 3, transaction 1 (check 081000607720126): sum of CLP04 paid − sum of PLB amounts "
               "should equal BPR02; the payer reports $1.78, the parts add up to $-3.22 (difference $-5.00)")
    assert f.status == REFUSED and f.reason == FileResult.UNBALANCED and f.failed and f.failures == [failure]
    assert f.message.startswith(f"does not balance (1 failure: {failure}); ask the payer for a corrected file, "
                                "or import it anyway with --allow-unbalanced")
    assert empty_book.read_bytes() == before

    result = import_files(empty_book, [sample], allow_unbalanced=True)
    assert result.files[0].status == IMPORTED
    payments = read_inputs(empty_book).frames["Payments"]
    assert set(payments["source"]) == {UNBALANCED + sample.name}
    assert read_log(empty_book)["balanced"].tolist() == ["No"]
    recon = grid(empty_book, "Reconciliation")
    text = "\n".join(str(c) for row in recon for c in row)
    assert "Does not balance" in text and "sum of CLP04 paid − sum of PLB amounts should equal BPR02" in text


@needs_samples
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_malformed_file_changes_nothing_and_names_the_segment(empty_book, tmp_path, damage):
    text = (SAMPLES / BALANCED_835).read_text()
    if damage == "truncated":
        bad = write(tmp_path, "cut.835", text[: len(text) // 2])
        segment = re.compile(r"^is not readable X12: segment \d+: the file ends in the middle of this segment")
    else:
        bad = write(tmp_path, "report.835", b"%PDF-1.4\n\x00\x01\x02 binary stream")
        segment = re.compile(r"^is not readable X12: segment 1: this is not an X12 file: it holds binary data")
    good = SAMPLES / SAMPLE_837
    before = parts(empty_book)
    result = import_files(empty_book, [good, bad])
    assert [f.status for f in result.files] == [HELD, FAILED]
    assert [f.reason for f in result.files] == [FileResult.HELD_BACK, FileResult.UNREADABLE]
    assert segment.search(result.files[1].message), result.files[1].message
    assert result.files[0].message.startswith(f"nothing was imported because {bad.name} was refused")
    assert not result.written
    assert parts(empty_book) == before


def test_formula_like_text_is_stored_as_text(empty_book, tmp_path):
    payer = '=HYPERLINK("http://example.com","pay")'
    claims = write(tmp_path, "claims.837", claim_file(payer="=SUM(1,2)", member_id="=2+3", pcn="+PCN7"))
    remit = write(tmp_path, "remit.835", era(payment("+PCN7", "99214", "150", "90", "20261015"), "90",
                                             payer=payer))
    result = import_files(empty_book, [claims, remit])
    assert [f.status for f in result.files] == [IMPORTED, IMPORTED]
    assert result.files[1].matched == 1
    for sheet, texts in (("Claims", ["=SUM(1,2)", "=2+3", "+PCN7"]), ("Payments", [payer, "+PCN7"])):
        xml = sheet_xml(empty_book, sheet)
        for text in texts:
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            cell = rf'<c r="[A-Z]+\d+"[^>]*t="inlineStr"><is><t xml:space="preserve">{re.escape(escaped)}</t>'
            assert re.search(cell, xml), (sheet, text)
        input_cells = re.findall(r'<c r="[A-Q]\d+"[^>]*?(?:/>|>.*?</c>)', xml[xml.find('<row r="2"'):], re.S)
        assert input_cells and not any("<f>" in c for c in input_cells)
    frames = read_inputs(empty_book).frames
    assert frames["Claims"]["payor"].tolist() == ["=SUM(1,2)"] * 2
    assert frames["Claims"]["patient_id"].tolist() == ["=2+3"] * 2
    assert frames["Payments"]["payor"].tolist() == [payer]


def test_claims_and_their_payments_in_one_command_match(empty_book, tmp_path):
    claims = write(tmp_path, "claims.837", claim_file())
    remit = write(tmp_path, "remit.835", era(payment("PCN100", "99214", "150", "120", "20261015") +
                                             payment("PCN100", "36415", "100", "0", "20261015", line=2) +
                                             payment("PCN999", "99213", "80", "80", "20261015"), "200"))
    result = import_files(empty_book, [remit, claims], now=NOW)     # order given does not matter
    era_result, claim_result = result.files
    assert (claim_result.rows, claim_result.first_row, claim_result.last_row) == (2, 2, 3)
    assert (era_result.matched, era_result.unmatched) == (2, 1)
    payments = read_inputs(empty_book).frames["Payments"]
    assert payments["claim_id"].tolist() == ["PCN100", "PCN100", "PCN999"]
    assert payments["line"].tolist() == [1, 2, 1]
    # The unmatched row is kept (claim ID = the remittance's patient control number) and
    # listed in Reconciliation, by the import and again by every recalculation.
    recon = reconciliation_frame(empty_book)
    unmatched = recon[recon["item"] == "Unmatched payment"]
    assert unmatched[["claim_id", "line", "paid"]].values.tolist() == [["PCN999", 1, 8000]]
    assert unmatched["detail"].iloc[0].startswith("Payments row 4: no claim line")
    files = recon[recon["item"] == "835 file"]
    assert files[["status", "paid", "payment_amount", "difference_amount"]].values.tolist() == \
        [["Balanced", 20000, 20000, 0]]
    shown = grid(empty_book, "Reconciliation")
    assert any("PCN999" in [str(c) for c in row] for row in shown)
    pipeline.recalc(empty_book)
    assert grid(empty_book, "Reconciliation") == shown
    # The user enters the missing claim; the next recalculation drops it from the view.
    with WorkbookEditor(empty_book) as editor:
        append_rows(editor, "Claims", [{"Claim ID": "PCN999", "Line": 1, "Patient ID": "P9", "Payor": "Acme",
                                        "CPT": "99213", "Date of Service": dt.date(2026, 10, 15),
                                        "Charge": Decimal(80)}])
        editor.save()
    pipeline.recalc(empty_book)
    assert not any("PCN999" in [str(c) for c in row] for row in grid(empty_book, "Reconciliation"))
    assert (reconciliation_frame(empty_book)["item"] == "Unmatched payment").sum() == 0


def test_rows_are_imported_even_when_the_reconciliation_cannot_be_laid_out(empty_book, tmp_path, monkeypatch):
    def broken(inputs):
        raise ValueError("engine trouble")
    monkeypatch.setattr(pipeline, "evaluate", broken)
    remit = write(tmp_path, "remit.835", era(payment("PCN1", "99213", "80", "80", "20261015"), "80"))
    result = import_files(empty_book, [remit])
    assert result.written and result.files[0].status == IMPORTED
    assert result.notes == ["the Reconciliation sheet was not refreshed (ValueError: engine trouble); "
                            "run 'payorxl recalc' after fixing the workbook's data"]
    assert len(read_inputs(empty_book).frames["Payments"]) == 1


def test_files_payorxl_does_not_import_are_refused(empty_book, tmp_path):
    institutional = write(tmp_path, "hospital.837", claim_file().replace("X222A1", "X223A2"))
    ack = write(tmp_path, "ack.997", interchange(["AK1*HC*1", "AK9*A*1*1*1"], kind="997"))
    before = empty_book.read_bytes()
    result = import_files(empty_book, [institutional, ack])
    assert [f.status for f in result.files] == [REFUSED, REFUSED]
    assert [f.reason for f in result.files] == [FileResult.UNSUPPORTED, FileResult.UNSUPPORTED]
    assert result.files[0].message.startswith("is an 837I (institutional) claim file")
    assert result.files[1].message.startswith("holds transaction set 997; payorxl imports 835 remittances")
    assert empty_book.read_bytes() == before


def test_claim_lines_already_in_claims_are_left_out(empty_book, tmp_path):
    first = write(tmp_path, "claims.837", claim_file())
    import_files(empty_book, [first])
    again = write(tmp_path, "resent.837", claim_file() + "\n")     # same claims, other bytes
    result = import_files(empty_book, [again])
    (f,) = result.files
    assert f.status == IMPORTED and f.skipped == 2 and f.rows == 0
    assert "2 claim line(s) already in Claims" in f.notes[0]
    assert len(read_inputs(empty_book).frames["Claims"]) == 2
    assert len(read_log(empty_book)) == 2


def test_imported_payments_change_the_engines_figures(demo_book, tmp_path):
    path, line = demo_book
    contract = read_inputs(path).frames["Contracts"].set_index("payor").loc[line["payor"]]
    charge = Decimal(int(line["charge"])) / 100
    paid = (charge * Decimal("0.6")).quantize(Decimal("0.01"))
    remit = write(tmp_path, "era.835", era(payment(line["claim_id"], line["cpt"], str(charge), str(paid),
                                                   f"{line['dos']:%Y%m%d}", line=int(line["line"]),
                                                   payer_claim_no=line["payor_claim_no"]),
                                           str(paid), payer=line["payor"].upper(),
                                           payer_id=contract["payor_id"]))
    before = pipeline.load(path)
    key = (before.lines["claim_id"] == line["claim_id"]) & (before.lines["line"] == line["line"])
    assert int(before.lines.loc[key, "paid"].iloc[0]) == 0
    errors_before = sum(e.severity == "error" for e in before.errors)

    result = import_files(path, [remit])
    assert result.files[0].matched == 1 and result.files[0].unmatched == 0

    payments = read_inputs(path).frames["Payments"]
    assert payments["payor"].iloc[-1] == line["payor"], "the payer ID names the contract's payor"
    after = pipeline.load(path)
    key = (after.lines["claim_id"] == line["claim_id"]) & (after.lines["line"] == line["line"])
    assert int(after.lines.loc[key, "paid"].iloc[0]) == int(paid * 100)
    assert int(after.lines.loc[key, "contractual_adj"].iloc[0]) == int((charge - paid) * 100)
    summary = pipeline.recalc(path)
    assert not summary.failed and summary.errors == errors_before
    runner = CliRunner()
    out = runner.invoke(main, ["recalc", str(path)])
    assert out.exit_code == 0, out.output


def test_every_part_the_import_does_not_need_is_byte_identical(demo_book, tmp_path):
    path, line = demo_book
    remit = write(tmp_path, "era.835", era(payment("NOSUCH1", "99213", "80", "80", "20261015"), "80"))
    before = parts(path)
    result = import_files(path, [remit])
    after = parts(path)
    assert list(after) == list(before)
    with zipfile.ZipFile(path) as z:
        names = sheet_parts(z)
    changed = {n for n in before if before[n] != after[n]}
    assert changed == set(result.changed_parts)
    assert changed <= {names["Payments"], "xl/tables/table2.xml", names["ImportLog"], names["Reconciliation"],
                       "xl/styles.xml", "xl/workbook.xml"}
    assert {names["Payments"], names["ImportLog"], names["Reconciliation"]} <= changed
    assert after[names["Claims"]] == before[names["Claims"]]


def test_dry_run_writes_nothing(empty_book, tmp_path):
    remit = write(tmp_path, "remit.835", era(payment("PCN1", "99213", "80", "80", "20261015"), "80"))
    before = empty_book.read_bytes()
    result = import_files(empty_book, [remit], dry_run=True)
    assert result.files[0].status == WOULD_IMPORT and result.files[0].rows == 1 and result.ok
    assert not result.written and empty_book.read_bytes() == before


def test_a_workbook_open_in_excel_is_refused(empty_book, tmp_path):
    remit = write(tmp_path, "remit.835", era(payment("PCN1", "99213", "80", "80", "20261015"), "80"))
    empty_book.with_name("~$" + empty_book.name).write_bytes(b"owner")
    before = empty_book.read_bytes()
    with pytest.raises(PayorxlError, match=r"practice.xlsx is open in Excel \(lock file ~\$practice.xlsx is "
                                           r"present\); close it in Excel, then import again"):
        import_files(empty_book, [remit])
    assert empty_book.read_bytes() == before


def test_a_workbook_made_before_the_import_log_gets_one(tmp_path, monkeypatch):
    monkeypatch.setattr(template, "SHEET_ORDER", tuple(s for s in template.SHEET_ORDER if s != "ImportLog"))
    path = tmp_path / "old.xlsx"
    pipeline.new_workbook(path)
    monkeypatch.undo()
    assert "ImportLog" not in CalamineWorkbook.from_path(str(path)).sheet_names
    remit = write(tmp_path, "remit.835", era(payment("PCN1", "99213", "80", "80", "20261015"), "80"))
    assert import_files(path, [remit]).files[0].status == IMPORTED
    assert import_files(path, [remit]).files[0].status == REFUSED
    assert grid(path, "ImportLog")[0][:3] == ["Imported At", "File", "SHA-256"]
    assert not pipeline.recalc(path).failed


# --- the command ---------------------------------------------------------------------

def test_cli_imports_reports_and_refuses_a_second_time(empty_book, tmp_path):
    claims = write(tmp_path, "claims.837", claim_file(member_id="MEM001", pcn="PCN100"))
    remit = write(tmp_path, "remit.835", era(payment("PCN100", "99214", "150", "120", "20261015") +
                                             payment("PCN555", "99213", "80", "80", "20261015"), "200"))
    runner = CliRunner()
    out = runner.invoke(main, ["import", str(empty_book), str(claims), str(remit)])
    assert out.exit_code == 0, out.output
    assert "claims.837 (837P): imported 1 claim(s), 2 line(s), charges $250.00 → Claims rows 2–3" in out.output
    assert ("remit.835 (835): imported 2 claim(s), 2 line(s), paid $200.00, balanced, 1 matched, 1 unmatched "
            "→ Payments rows 2–3") in out.output
    assert "payer 'ACME HEALTH PLAN' (ID PAYER01) has no row in Contracts" in out.output
    assert "wrote practice.xlsx" in out.output
    for identifier in ("MEM001", "PCN100", "PCN555", "DOE"):
        assert identifier not in out.output, "patient identifiers are never printed"

    out = runner.invoke(main, ["import", str(empty_book), str(remit)])
    assert out.exit_code == 0, "a file already imported is reported, not a failure (cron: import && recalc)"
    assert re.search(r"remit\.835 \(835\): skipped: already imported on \d\d/\d\d/\d{4} \d\d:\d\d "
                     r"\(ImportLog row 3\); nothing to do", out.output)
    assert "nothing was written to practice.xlsx" in out.output

    bad = write(tmp_path, "ack.997", interchange(["AK1*HC*1", "AK9*A*1*1*1"], kind="997"))
    out = runner.invoke(main, ["import", str(empty_book), str(remit), str(bad)])
    assert out.exit_code == 1, "a real refusal still fails the command"
    assert "remit.835 (835): skipped: already imported on" in out.output
    assert "ack.997: refused: holds transaction set 997" in out.output


@needs_samples
def test_cli_unbalanced_dry_run_and_json(empty_book):
    sample = SAMPLES / UNBALANCED_835
    runner = CliRunner()
    before = empty_book.read_bytes()
    out = runner.invoke(main, ["import", str(empty_book), str(sample)])
    assert out.exit_code == 1
    assert (f"{sample.name} (835): refused: does not balance (1 failure: segment 3, transaction 1 "
            "(check 081000607720126): sum of CLP04 paid") in out.output
    out = runner.invoke(main, ["import", str(empty_book), str(sample), "--allow-unbalanced", "--dry-run"])
    assert out.exit_code == 0 and "would import" in out.output and "dry run: nothing was written" in out.output
    assert "    × segment 3, transaction 1 (check 081000607720126)" in out.output
    assert empty_book.read_bytes() == before
    out = runner.invoke(main, ["import", str(empty_book), str(sample), "--allow-unbalanced", "--json"])
    assert out.exit_code == 0
    data = json.loads(out.output)
    (f,) = data["files"]
    assert data["written"] and f["status"] == "imported" and f["balanced"] is False
    assert f["paid"] == 142.91 and f["unmatched"] == f["rows"] and isinstance(f["reader_warnings"], int)
    assert "patient_control_number" not in out.output


def test_cli_a_malformed_file_exits_1_naming_the_segment(empty_book, tmp_path):
    text = era(payment("PCN1", "99213", "80", "80", "20261015"), "80")
    cut = write(tmp_path, "cut.835", text[: text.index("SVC") + 6])
    before = empty_book.read_bytes()
    out = CliRunner().invoke(main, ["import", str(empty_book), str(cut)])
    assert out.exit_code == 1
    assert ("cut.835: failed: is not readable X12: segment 11 (SVC): the file ends in the middle of this "
            "segment") in out.output
    assert "nothing was written to practice.xlsx" in out.output
    assert empty_book.read_bytes() == before
