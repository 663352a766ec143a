"""SIGKILL a write at each of its steps — `payorxl recalc` and an import — and the
workbook on disk is exactly the original before the rename and exactly the complete new
workbook after it, never a partial file.

The kills are deterministic: the writer's test-only hook (package.py,
PAYORXL_TEST_KILL_AT=<point>) makes the process SIGKILL itself at the named point, so
no test depends on where a timed kill happens to land."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from payorxl import pipeline
from payorxl.demo import generate_demo
from payorxl.workbook.package import KILL_ENV, KILL_POINTS

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

AS_OF = "2027-01-15"
RECALC = [sys.executable, "-m", "payorxl", "recalc"]
# `payorxl import` records the current time in ImportLog; this runs the same import with
# a fixed time, so that the complete new workbook is the same bytes on every run.
IMPORT = [sys.executable, "-c",
          "import sys, datetime as dt\n"
          "from payorxl.importer import import_files\n"
          "result = import_files(sys.argv[1], sys.argv[2:], now=dt.datetime(2026, 11, 2, 9, 30))\n"
          "sys.exit(0 if result.ok and result.written else 1)"]
BEFORE_RENAME = {"temp-written", "before-rename"}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temps(folder):
    return sorted(p for p in folder.iterdir() if p.name.startswith(".~payorxl-"))


def killed_at(point, command):
    """Run `command` with the kill hook set to `point`; it must die by SIGKILL there.
    Returns its PID."""
    proc = subprocess.Popen(command, env={**os.environ, KILL_ENV: point},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point} (exit {proc.returncode}): {err[-2000:]!r}"
    return proc.pid


def small_835(claim_id: str, line: int, cpt: str, charge: str, payer: str) -> str:
    """A one-claim 5010 835 paying `charge` in full on one line (written here by hand)."""
    isa = "*".join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
                    "RECEIVER".ljust(15), "261101", "1200", "^", "00501", "000000042", "0", "P", ":"])
    body = [f"BPR*I*{charge}*C*ACH************20261101", "TRN*1*EFT9001*1999999999", "DTM*405*20261031",
            f"N1*PR*{payer}*XV*PAYER01", "N1*PE*RIVERSIDE FAMILY MEDICINE*XX*1234567893", "LX*1",
            f"CLP*{claim_id}*1*{charge}*{charge}**12*PCN9001", f"SVC*HC:{cpt}*{charge}*{charge}**1",
            f"REF*6R*{line}"]
    segments = [isa, "GS*HP*SENDER*RECEIVER*20261101*1200*7*X*005010X221A1", "ST*835*0001", *body,
                f"SE*{len(body) + 2}*0001", "GE*1*7", "IEA*1*000000042"]
    return "~\n".join(segments) + "~\n"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The original workbook, and the complete new one a recalculation (not killed) writes."""
    base = tmp_path_factory.mktemp("kill")
    d = generate_demo(claims=120)
    original = base / "original.xlsx"
    pipeline.new_workbook(original, d.frames(), d.settings)
    done = base / "done.xlsx"
    shutil.copy(original, done)
    started = time.monotonic()
    subprocess.run(RECALC + [str(done), "--as-of", AS_OF], check=True, capture_output=True)
    duration = time.monotonic() - started
    assert digest(done) != digest(original)
    return original, done, duration


@pytest.fixture(scope="module")
def imported(books, tmp_path_factory):
    """An 835 for the original's first claim line, and the complete workbook its import
    (not killed) writes."""
    original, _, _ = books
    base = tmp_path_factory.mktemp("import")
    first = pipeline.load(original).lines.iloc[0]
    era = base / "era.835"
    era.write_text(small_835(first["claim_id"], int(first["line"]), first["cpt"],
                             f"{int(first['charge']) / 100:.2f}", first["payor"]))
    done = base / "done.xlsx"
    shutil.copy(original, done)
    subprocess.run(IMPORT + [str(done), str(era)], check=True, capture_output=True)
    # the premise: the new workbook has the import in it, and the run is reproducible
    from payorxl.importer import read_log
    assert hashlib.sha256(era.read_bytes()).hexdigest() in set(read_log(done)["sha256"].str.lower())
    assert pipeline.load(done).lines.iloc[0]["paid"] == first["paid"] + first["charge"]
    again = base / "again.xlsx"
    shutil.copy(original, again)
    subprocess.run(IMPORT + [str(again), str(era)], check=True, capture_output=True)
    assert digest(again) == digest(done)
    return era, done


def check_killed(book, original, done, point, pid):
    """Before the rename: the original, and the killed writer's temp file holds the
    complete new workbook. After it: the new workbook, no temp file."""
    left = temps(book.parent)
    if point in BEFORE_RENAME:
        assert digest(book) == digest(original), f"killed at {point}: the workbook is not the original"
        assert [p.name.startswith(f".~payorxl-{pid}-") for p in left] == [True], left
        assert digest(left[0]) == digest(done), "the temp file is not the complete new workbook"
    else:
        assert digest(book) == digest(done), f"killed at {point}: the workbook is not the complete new one"
        assert left == []
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None


def test_every_kill_point_is_tested():
    assert set(KILL_POINTS) == BEFORE_RENAME | {"after-rename"}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_recalc_leaves_exactly_the_original_or_the_new_workbook(books, tmp_path, point):
    original, done, _ = books
    book = tmp_path / "book.xlsx"
    shutil.copy(original, book)
    pid = killed_at(point, RECALC + [str(book), "--as-of", AS_OF])
    check_killed(book, original, done, point, pid)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_import_leaves_exactly_the_original_or_the_imported_workbook(books, imported, tmp_path, point):
    original, _, _ = books
    era, done = imported
    book = tmp_path / "book.xlsx"
    shutil.copy(original, book)
    pid = killed_at(point, IMPORT + [str(book), str(era)])
    check_killed(book, original, done, point, pid)


def test_killed_cli_import_before_the_rename_leaves_the_original(books, imported, tmp_path):
    """`payorxl import` itself (its ImportLog time is the clock's, so only the side
    before the rename can be compared byte for byte)."""
    original, _, _ = books
    era, _ = imported
    book = tmp_path / "book.xlsx"
    shutil.copy(original, book)
    killed_at("before-rename", [sys.executable, "-m", "payorxl", "import", str(book), str(era)])
    assert digest(book) == digest(original)
    assert len(temps(tmp_path)) == 1


def test_recalc_killed_at_any_time_leaves_the_original_or_the_new_workbook(books, tmp_path):
    """Kills at timed moments, from start-up to after a typical run ends. Where each one
    lands is luck, so the test asserts only what must hold wherever it lands."""
    original, done, duration = books
    valid = {digest(original), digest(done)}
    for i in range(4):
        book = tmp_path / f"book{i}.xlsx"
        shutil.copy(original, book)
        proc = subprocess.Popen(RECALC + [str(book), "--as-of", AS_OF],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * (0.2 + 0.4 * i))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert digest(book) in valid, f"kill {i}: the workbook is neither the original nor the new one"
    assert all(p.suffix == ".xlsx" for p in temps(tmp_path))


def test_workbook_replaced_while_being_read_is_not_overwritten(books, tmp_path, monkeypatch):
    """Someone saves the workbook while payorxl computes: payorxl must not write its
    sheets into the newer file (they were computed from the older one)."""
    original, done, _ = books
    book = tmp_path / "book.xlsx"
    shutil.copy(original, book)
    real_evaluate = pipeline.evaluate

    def save_meanwhile(inputs):
        results = real_evaluate(inputs)
        shutil.copy(done, book)          # the other person's save lands now
        return results
    monkeypatch.setattr(pipeline, "evaluate", save_meanwhile)
    with pytest.raises(Exception, match="changed while payorxl was reading it"):
        pipeline.recalc(book)
    assert digest(book) == digest(done)
    assert not temps(tmp_path)
