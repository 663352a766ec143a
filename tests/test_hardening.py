"""Issue 16's hardening, each guarantee with its test (SECURITY.md names them):

1. two payorxl runs on one workbook never both write it: import and recalc hold an
   advisory lock (package.workbook_lock) from the read to the write; a second run waits
   for the first or is refused with one line naming it, and no imported row is lost;
2. an input or a workbook that is a FIFO, a device or a folder is refused with one line,
   never read (no hang, no MemoryError);
3. `recalc --backup` replaces the previous backup atomically: on a full disk it stays
   intact;
4. a user's own sheet named like one of payorxl's (Aging) is never overwritten;
5. an import streams the sheets it appends to instead of holding them whole
   (benchmarks/import_bench.py measures the memory).
"""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from payorxl import model as m, pipeline
from payorxl.errors import PayorxlError
from payorxl.importer import FAILED, IMPORTED, FileResult, import_files, read_log
from payorxl.workbook import package
from payorxl.workbook.append import WorkbookEditor, _sheet_events, is_payorxl_sheet, user_sheets
from payorxl.workbook.package import workbook_lock, workbook_lock_file
from payorxl.workbook.read import read_inputs
from payorxl.workbook.xlsxpart import sheet_parts

ROOT = Path(__file__).resolve().parents[1]
# The subprocesses run this checkout's payorxl, whatever is installed.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
PAYORXL = [sys.executable, "-m", "payorxl"]
posix = pytest.mark.skipif(os.name == "nt", reason="FIFOs, devices, flock and SIGKILL are POSIX")


def busy(book: str, command: str = r"(?:import|recalc)", pid: str = r"\d+") -> re.Pattern:
    return re.compile(rf"{re.escape(book)} is being changed by payorxl {command}, process {pid}; nothing was "
                      r"written\. Wait for it to finish, then run the command again")


# --- X12 written here (as tests/test_import.py writes them) --------------------------------

def era(claim_id: str, paid: str, trace: str) -> str:
    """A one-claim, one-line 835 paying `paid` on claim `claim_id` (balanced)."""
    isa = "*".join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
                    "261101", "1200", "^", "00501", "000000042", "0", "P", ":"])
    body = [f"BPR*I*{paid}*C*ACH************20261101", f"TRN*1*{trace}*1999999999", "DTM*405*20261031",
            "N1*PR*ACME HEALTH PLAN*XV*PAYER01", "N1*PE*MAIN STREET CLINIC*XX*1234567893", "LX*1",
            f"CLP*{claim_id}*1*{paid}*{paid}**12*PCLM1", f"SVC*HC:99213*{paid}*{paid}**1", "DTM*472*20261015",
            "REF*6R*1"]
    segments = [isa, "GS*HP*SENDER*RECEIVER*20261101*1200*7*X*005010X221A1", "ST*835*0001", *body,
                f"SE*{len(body) + 2}*0001", "GE*1*7", "IEA*1*000000042"]
    return "~\n".join(segments) + "~\n"


def eras(folder: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        path = folder / f"era{i}.835"
        path.write_text(era(f"C{i:03d}", f"{100 + i}.00", f"EFT{i:04d}"))
        out.append(path)
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hardening") / "template.xlsx"
    pipeline.new_workbook(path, settings_values={"practice_name": "Main Street", "as_of": "2026-11-02"})
    return path


@pytest.fixture
def book(template, tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(template, path)
    return path


def leftovers(folder: Path) -> list[str]:
    """payorxl's temp and lock files left in the folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".~payorxl-", ".payorxl-")))


def run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(PAYORXL + args, capture_output=True, text=True, env=ENV, timeout=timeout)


# --- 1. one run at a time ------------------------------------------------------------------

@posix
def test_concurrent_imports_are_serialised_or_refused_and_no_row_is_lost(book, tmp_path):
    """Six `payorxl import` processes of six different 835s into one workbook at once:
    each either imported its file or was refused with the one-line message naming the
    run that held the workbook; the ImportLog holds exactly the imported files and
    Payments exactly their rows. (Before the lock, 1 of 3 such runs lost an import that
    had exited 0: refuse-if-changed checks the file, then renames, and another run's
    rename can land in between.)"""
    files = eras(tmp_path, 6)
    procs = [subprocess.Popen(PAYORXL + ["import", str(book), str(f)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV) for f in files]
    imported = []
    for f, proc in zip(files, procs):
        out, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            assert f"{f.name} (835): imported 1 claim(s)" in out and "wrote book.xlsx" in out, out
            imported.append(f)
        else:
            assert proc.returncode == 1, err
            lines = err.strip().splitlines()
            assert len(lines) == 1 and busy("book.xlsx", "import").fullmatch(lines[0][len("error: "):]), err
    assert imported, "at least the first run imports"
    log = read_log(book)
    assert sorted(log["file"]) == sorted(f.name for f in imported)
    payments = read_inputs(book).frames["Payments"]
    assert sorted(payments["claim_id"]) == sorted(f"C{int(f.stem[3:]):03d}" for f in imported)
    assert len(payments) == len(imported), "0 rows lost, none twice"
    assert leftovers(tmp_path) == []


@posix
def test_imports_and_recalcs_at_once_lose_nothing(book, tmp_path):
    """Imports and recalculations of one workbook side by side: each finishes or is
    refused, and what the imports that finished wrote is all there."""
    files = eras(tmp_path, 3)
    commands = [["import", str(book), str(files[0])], ["recalc", str(book)], ["import", str(book), str(files[1])],
                ["recalc", str(book)], ["import", str(book), str(files[2])]]
    procs = [subprocess.Popen(PAYORXL + c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
             for c in commands]
    imported = []
    for command, proc in zip(commands, procs):
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            if command[0] == "import":
                imported.append(Path(command[2]).name)
        else:
            assert busy("book.xlsx").search(err), err
    assert sorted(read_log(book)["file"]) == sorted(imported)
    assert len(read_inputs(book).frames["Payments"]) == len(imported)
    assert not pipeline.recalc(book).failed
    assert leftovers(tmp_path) == []


def hold_lock(book: Path, command: str, seconds: float) -> tuple[threading.Thread, threading.Event]:
    """Hold the workbook's lock for `seconds` in a thread, as a run in progress does."""
    taken = threading.Event()

    def hold():
        with workbook_lock(book, command):
            taken.set()
            time.sleep(seconds)
    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    return thread, taken


@posix
def test_a_recalc_during_an_import_waits_for_it(book):
    thread, _ = hold_lock(book, "import", 1.0)
    started = time.monotonic()
    summary = pipeline.recalc(book)
    waited = time.monotonic() - started
    thread.join()
    assert not summary.failed and waited >= 0.8, "the recalculation ran once the import was done"
    assert not workbook_lock_file(book).exists()


@posix
@pytest.mark.parametrize("holder, second", [("import", "recalc"), ("recalc", "import"), ("import", "import")])
def test_a_run_that_waits_too_long_is_refused_naming_the_other(book, tmp_path, monkeypatch, holder, second):
    monkeypatch.setattr(package, "LOCK_WAIT", 0.3)
    before = book.read_bytes()
    (era_file,) = eras(tmp_path, 1)
    thread, _ = hold_lock(book, holder, 1.5)
    try:
        with pytest.raises(PayorxlError) as error:
            if second == "recalc":
                pipeline.recalc(book, backup=True)
            else:
                import_files(book, [era_file])
    finally:
        thread.join()
    assert busy("book.xlsx", holder, str(os.getpid())).fullmatch(str(error.value))
    assert book.read_bytes() == before
    assert leftovers(tmp_path) == [] and not pipeline.backup_path(book).exists()


@posix
def test_a_dry_run_does_not_wait_for_the_lock(book, tmp_path, monkeypatch):
    monkeypatch.setattr(package, "LOCK_WAIT", 0.1)
    (era_file,) = eras(tmp_path, 1)
    thread, _ = hold_lock(book, "import", 1.0)
    try:
        result = import_files(book, [era_file], dry_run=True)
    finally:
        thread.join()
    assert result.files[0].status == "would import"


@posix
def test_the_lock_of_a_killed_run_is_taken_over(book, tmp_path):
    """A run SIGKILLed while it holds the lock leaves its lock file (with its PID); the
    OS dropped the lock itself, so the next run takes the file over at once."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom payorxl.workbook.package import workbook_lock\n"
                               "lock = workbook_lock(sys.argv[1], 'import')\nlock.__enter__()\n"
                               "print('held', flush=True)\ntime.sleep(120)", str(book)],
        stdout=subprocess.PIPE, text=True, env=ENV)
    assert holder.stdout.readline().strip() == "held"
    lock = workbook_lock_file(book)
    assert lock.read_text().split()[:2] == [str(holder.pid), "import"]
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert lock.exists(), "a killed run leaves its lock file"
    (era_file,) = eras(tmp_path, 1)
    started = time.monotonic()
    result = import_files(book, [era_file])
    assert result.files[0].status == IMPORTED and time.monotonic() - started < package.LOCK_WAIT
    assert not lock.exists()


@posix
def test_the_lock_is_beside_a_symlinks_target(book, tmp_path):
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "shortcut.xlsx"
    link.symlink_to(book)
    assert workbook_lock_file(link) == tmp_path / ".payorxl-book.xlsx.lock"
    with workbook_lock(link, "recalc"):
        with pytest.raises(PayorxlError, match=busy("book.xlsx", "recalc").pattern):
            with workbook_lock(book, "import", wait=0.1):
                pass


# --- 2. FIFOs, devices, folders --------------------------------------------------------------

@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")

    def make(name: str) -> Path:
        path = tmp_path / name
        os.mkfifo(path)
        return path
    return make


@posix
def test_non_regular_inputs_are_refused_in_one_line(book, tmp_path, fifo):
    folder = tmp_path / "folder.835"
    folder.mkdir()
    (good,) = eras(tmp_path, 1)
    before = book.read_bytes()
    inputs = [fifo("pipe.835"), Path("/dev/zero"), folder, good]

    def hung(*_):
        raise TimeoutError("the import hung on a FIFO")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)            # a FIFO opened for reading would wait for a writer forever
    try:
        result = import_files(book, inputs)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    pipe, zero, directory, held = result.files
    assert (pipe.status, pipe.reason, pipe.message) == (FAILED, FileResult.CANNOT_OPEN,
                                                         "is a FIFO (named pipe), not a file; give the X12 file itself")
    assert zero.message == "is a character device, not a file; give the X12 file itself"
    assert directory.message == "is a folder, not a file; give the X12 file itself"
    assert held.reason == FileResult.HELD_BACK and not result.written
    assert book.read_bytes() == before


@posix
def test_the_cli_refuses_a_fifo_and_dev_zero_without_hanging(book, fifo):
    before = book.read_bytes()
    done = run(["import", str(book), str(fifo("pipe.835")), "/dev/zero"], timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "pipe.835: failed: is a FIFO (named pipe), not a file; give the X12 file itself" in done.stdout
    assert "zero: failed: is a character device, not a file; give the X12 file itself" in done.stdout
    assert book.read_bytes() == before


@posix
@pytest.mark.parametrize("command", [["recalc"], ["import"], ["import", "--dry-run"]])
def test_a_workbook_that_is_a_fifo_is_refused_without_hanging(tmp_path, fifo, command):
    book = fifo("book.xlsx")
    (good,) = eras(tmp_path, 1)
    args = [command[0], str(book)] + ([str(good)] + command[1:] if command[0] == "import" else [])
    done = run(args, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("error: book.xlsx is a FIFO (named pipe), not a workbook file; nothing was "
                                   "read or written. Give the .xlsx/.xlsm file itself")
    assert stat.S_ISFIFO(os.stat(book).st_mode) and leftovers(tmp_path) == []


def test_a_file_too_large_for_memory_is_refused_not_a_traceback(book, tmp_path, monkeypatch):
    from payorxl import importer
    (good,) = eras(tmp_path, 1)

    def no_memory(data, name):
        raise MemoryError
    monkeypatch.setattr(importer, "_envelope", no_memory)
    result = import_files(book, [good])
    (f,) = result.files
    assert (f.status, f.reason) == (FAILED, FileResult.CANNOT_OPEN) and not result.written
    assert f.message == "is too large to read into memory; ask the sender to split it into smaller files"


# --- 3. --backup is atomic ---------------------------------------------------------------------

@posix
def test_backup_is_the_previous_workbook_with_its_mode(book, tmp_path):
    os.chmod(book, 0o640)
    pipeline.recalc(book, as_of="2026-12-01")
    previous = book.read_bytes()
    pipeline.backup_path(book).write_bytes(b"an older backup")
    pipeline.recalc(book, as_of="2027-01-15", backup=True)
    backup = pipeline.backup_path(book)
    assert backup.read_bytes() == previous and book.read_bytes() != previous
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o640, "the backup holds the same patient data"
    assert leftovers(tmp_path) == []


def can_mount() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs (CI runs as root)")
def test_a_full_disk_keeps_the_previous_backup_intact(tmp_path):
    """The disk holds the workbook and the previous backup, with room for less than a
    new copy. Copying over the old backup (shutil.copy2, before) truncated it first and
    then failed: no backup at all. Now the copy goes to a temp file and fails there."""
    from payorxl.demo import generate_demo
    source = tmp_path / "source.xlsx"
    demo = generate_demo(claims=120)
    pipeline.new_workbook(source, demo.frames(), demo.settings)
    data = source.read_bytes()
    old_backup = random.Random(16).randbytes(len(data) // 4)       # the previous good backup
    page = 4096
    pages = -(-len(data) // page) + -(-len(old_backup) // page) + 1 + len(data) // 2 // page
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={pages * 4}k", "tmpfs", str(mnt)], check=True)
    try:
        book = mnt / "book.xlsx"
        book.write_bytes(data)
        backup = pipeline.backup_path(book)
        backup.write_bytes(old_backup)
        with pytest.raises(PayorxlError, match=r"could not write book\.backup\.xlsx in .*: No space left on "
                                               r"device; the workbook was not changed"):
            pipeline.recalc(book, as_of="2027-01-15", backup=True)
        assert backup.read_bytes() == old_backup, "the previous backup is intact"
        assert book.read_bytes() == data
        assert sorted(p.name for p in mnt.iterdir()) == ["book.backup.xlsx", "book.xlsx"]
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# --- 4. a user's sheet named like one of payorxl's -----------------------------------------------

def with_user_sheet(source: Path, dst: Path, name: str, rows: list[list]) -> Path:
    """The workbook with payorxl's sheet `name` deleted and a user's own sheet of that name
    (openpyxl: as a user who did this in Excel)."""
    wb = openpyxl.load_workbook(source)
    if name in wb.sheetnames:
        del wb[name]
    ws = wb.create_sheet(name)
    for row in rows:
        ws.append(row)
    wb.save(dst)
    return dst


def test_a_workbook_payorxl_made_has_only_its_own_sheets(template, tmp_path):
    with WorkbookEditor(template) as editor:
        assert user_sheets(editor, m.OWNED_SHEETS) == []
        assert all(is_payorxl_sheet(editor, s) for s in m.OWNED_SHEETS)
        assert not is_payorxl_sheet(editor, "Claims")
    resaved = tmp_path / "resaved.xlsx"          # saved by another program: shared strings
    openpyxl.load_workbook(template).save(resaved)
    with WorkbookEditor(resaved) as editor:
        assert user_sheets(editor, m.OWNED_SHEETS) == []
    assert not pipeline.recalc(resaved).failed


def test_a_user_sheet_named_aging_is_not_overwritten(template, tmp_path):
    book = with_user_sheet(template, tmp_path / "book.xlsx", "Aging",
                           [["Payer", "Owed"], ["Acme", 120.5], ["Blue Cross", 99]])
    before = book.read_bytes()
    with pytest.raises(PayorxlError) as error:
        pipeline.recalc(book)
    assert str(error.value) == ("Aging is not a payorxl sheet (it holds your own data); rename it, "
                                "then run recalc again")
    assert book.read_bytes() == before and leftovers(tmp_path) == []
    done = run(["recalc", str(book)])
    assert done.returncode == 1 and done.stderr.strip() == (
        f"error: {book}: Aging is not a payorxl sheet (it holds your own data); rename it, then run recalc again")
    assert book.read_bytes() == before


def test_a_user_sheet_with_data_further_down_is_not_overwritten(template, tmp_path):
    book = with_user_sheet(template, tmp_path / "book.xlsx", "Worklist", [[None], [None], [None], ["call Acme"]])
    with pytest.raises(PayorxlError, match="^Worklist is not a payorxl sheet"):
        pipeline.recalc(book)


def test_an_empty_sheet_of_that_name_is_filled(template, tmp_path):
    book = with_user_sheet(template, tmp_path / "book.xlsx", "Aging", [])
    assert not pipeline.recalc(book).failed
    with zipfile.ZipFile(book) as z:
        xml = z.read(sheet_parts(z)["Aging"]).decode()
    assert m.AGING.title in xml


def test_an_import_leaves_a_user_reconciliation_sheet_alone(template, tmp_path):
    book = with_user_sheet(template, tmp_path / "book.xlsx", "Reconciliation", [["my notes"], ["check 123"]])
    with zipfile.ZipFile(book) as z:
        part = sheet_parts(z)["Reconciliation"]
        mine = z.read(part)
    (era_file,) = eras(tmp_path, 1)
    result = import_files(book, [era_file])
    assert result.written and result.files[0].status == IMPORTED
    assert result.notes == ["the Reconciliation sheet was not refreshed: it is not a payorxl sheet (it holds your "
                            "own data); rename it, then run 'payorxl recalc'"]
    with zipfile.ZipFile(book) as z:
        assert z.read(part) == mine
    assert len(read_inputs(book).frames["Payments"]) == 1


# --- 5. an import streams the sheets it appends to ---------------------------------------------

def test_an_import_never_holds_a_big_sheet_whole(book, tmp_path, monkeypatch):
    """Claims and Payments are streamed through (read once to find where rows go, then
    copied into the new zip with the rows added); they are never read as one string."""
    with zipfile.ZipFile(book) as z:
        big = {sheet_parts(z)[s] for s in ("Claims", "Payments")}
    real_read = WorkbookEditor.read

    def read(self, name):
        assert name not in big, f"{name} read whole"
        return real_read(self, name)
    monkeypatch.setattr(WorkbookEditor, "read", read)
    claims = tmp_path / "claims.837"
    claims.write_text(claim_837())
    files = eras(tmp_path, 2)
    result = import_files(book, [claims, *files])
    assert result.written and [f.status for f in result.files] == [IMPORTED] * 3
    monkeypatch.undo()
    frames = read_inputs(book).frames
    assert frames["Claims"]["claim_id"].tolist() == ["PCN100", "PCN100"]
    assert sorted(frames["Payments"]["claim_id"]) == ["C000", "C001"]


def claim_837() -> str:
    isa = "*".join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
                    "261101", "1200", "^", "00501", "000000043", "0", "P", ":"])
    body = ["BHT*0019*00*B1*20261020*1200*CH", "NM1*41*2*MAIN STREET CLINIC*****46*S1",
            "NM1*40*2*CLEARINGHOUSE*****46*R1", "HL*1**20*1", "NM1*85*2*MAIN STREET CLINIC*****XX*1234567893",
            "HL*2*1*22*0", "SBR*P*18*******CI", "NM1*IL*1*DOE*JANE****MI*MEM001",
            "NM1*PR*2*ACME HEALTH PLAN*****PI*PAYER01", "CLM*PCN100*250***11:B:1*Y*A*Y*Y", "HI*ABK:E119",
            "LX*1", "SV1*HC:99214*150*UN*1***1", "DTP*472*D8*20261015",
            "LX*2", "SV1*HC:36415*100*UN*2***1", "DTP*472*D8*20261015"]
    segments = [isa, "GS*HC*SENDER*RECEIVER*20261101*1200*8*X*005010X222A1", "ST*837*0001*005010X222A1", *body,
                f"SE*{len(body) + 2}*0001", "GE*1*8", "IEA*1*000000043"]
    return "~\n".join(segments) + "~\n"


def test_a_sheet_streamed_in_any_pieces_is_the_same_xml(template):
    """The streaming reader cuts a sheet into the same rows whatever the pieces it
    arrives in, and gives back every character."""
    rng = random.Random(16)
    with zipfile.ZipFile(template) as z:
        xmls = [z.read(p).decode() for p in sheet_parts(z).values()]
    xmls.append('<worksheet><dimension ref="A1"/><sheetData/><pageMargins/></worksheet>')
    for xml in xmls:
        expected = [int(n) for n in re.findall(r'<row\b[^>]*?\br="(\d+)"', xml)]
        for _ in range(20):
            pieces, i = [], 0
            while i < len(xml):
                k = rng.choice([1, 2, 3, 11, 64, 4096, 1 << 20])
                pieces.append(xml[i:i + k])
                i += k
            events = list(_sheet_events(pieces))
            assert "".join(item.xml if kind == "row" else item for kind, item in events) == xml
            assert [item.number for kind, item in events if kind == "row"] == expected


def test_money_still_lands_as_money(book, tmp_path):
    """The streamed append writes what the whole-sheet one did (tests/workbook/test_append.py
    checks styles and formulas; this checks the values read back)."""
    (era_file,) = eras(tmp_path, 1)
    import_files(book, [era_file])
    payments = read_inputs(book).frames["Payments"]
    assert payments["paid"].tolist() == [int(Decimal("100.00") * 100)]


@pytest.mark.parametrize("command", ["check", "report"])
def test_check_and_report_refuse_a_fifo_named_like_a_workbook(tmp_path, command):
    from click.testing import CliRunner

    from payorxl.cli import main
    fifo = tmp_path / "book.xlsx"
    os.mkfifo(fifo)
    result = CliRunner().invoke(main, [command, str(fifo)])
    assert result.exit_code == 1
    assert "book.xlsx is a FIFO" in result.output and "Traceback" not in result.output
