"""SIGKILL `payorxl recalc` at many points: the workbook on disk is always either the
original or the complete new one, never a partial file."""
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
