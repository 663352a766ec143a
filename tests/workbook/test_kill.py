"""SIGKILL `payorxl recalc` at many points: the workbook on disk is always either the
original or the complete new one, never a partial file."""
import hashlib
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from payorxl import pipeline
from payorxl.demo import generate_demo

CMD = [sys.executable, "-m", "payorxl", "recalc"]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill")
    d = generate_demo(claims=300)
    original = base / "original.xlsx"
    pipeline.new_workbook(original, d.frames(), d.settings)
    # The complete new version: the same recalculation run to the end on a copy.
    done = base / "done.xlsx"
    shutil.copy(original, done)
    started = time.monotonic()
    subprocess.run(CMD + [str(done), "--as-of", "2027-01-15"], check=True, capture_output=True)
    duration = time.monotonic() - started
    assert digest(done) != digest(original)
    return original, done, duration


def test_killed_recalc_leaves_original_or_complete_workbook(books, tmp_path):
    original, done, duration = books
    valid = {digest(original): "original", digest(done): "new"}
    seen = []
    for i in range(12):
        book = tmp_path / f"book{i}.xlsx"
        shutil.copy(original, book)
        proc = subprocess.Popen(CMD + [str(book), "--as-of", "2027-01-15"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * (0.15 + 0.9 * i / 11))     # from start-up to just after the end
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = valid.get(digest(book))
        assert state is not None, f"kill {i}: the workbook is neither the original nor the new one"
        with zipfile.ZipFile(book) as z:
            assert z.testzip() is None
        seen.append(state)
    # The kills must have landed on both sides of the rename, or the test proved little.
    assert "original" in seen and "new" in seen, seen
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".~payorxl-")]
    assert all(name.endswith(".xlsx") for name in leftovers)   # temp files only, never the book


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
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~payorxl-")]


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


def test_killed_import_leaves_original_or_complete_workbook(books, tmp_path):
    original, _, _ = books
    first = pipeline.load(original).lines.iloc[0]
    era = tmp_path / "era.835"
    era.write_text(small_835(first["claim_id"], int(first["line"]), first["cpt"],
                             f"{int(first['charge']) / 100:.2f}", first["payor"]))
    done = tmp_path / "done.xlsx"
    shutil.copy(original, done)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "payorxl", "import", str(done), str(era)], check=True,
                   capture_output=True)
    duration = time.monotonic() - started
    from payorxl.importer import read_log
    sha = hashlib.sha256(era.read_bytes()).hexdigest()

    def state_of(book):
        if digest(book) == digest(original):
            return "original"
        with zipfile.ZipFile(book) as z:          # a complete file: every member's CRC checks
            assert z.testzip() is None
        log = read_log(book)                      # and the import is in it (its time differs per run)
        paid = pipeline.load(book).lines.iloc[0]["paid"]
        return "new" if sha in set(log["sha256"].str.lower()) and paid == first["paid"] + first["charge"] else None

    assert state_of(done) == "new"
    seen = []
    for i in range(8):
        book = tmp_path / f"book{i}.xlsx"
        shutil.copy(original, book)
        proc = subprocess.Popen([sys.executable, "-m", "payorxl", "import", str(book), str(era)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * (0.15 + 1.35 * i / 7))   # the last ones land after a typical run ends
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = state_of(book)
        assert state is not None, f"kill {i}: the workbook is neither the original nor the imported one"
        seen.append(state)
    assert "original" in seen and "new" in seen, seen
