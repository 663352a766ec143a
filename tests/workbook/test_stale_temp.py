"""A killed writer leaves its temp file `.~payorxl-<pid>-XXXXXXXX.xlsx` beside the workbook
(as large as it, with the same patient data). The next write into that folder removes
such leftovers when they are stale — the PID is not running and the file is older than
the grace period, or the file is older than a day — and nothing else: not a live
writer's file, not a fresh one, not a symlink or folder, not any other name."""
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
from payorxl.workbook import package, xlsxpart

HOUR, DAY = 3600, 24 * 3600
BOOK = "practice.xlsx"
not_windows = pytest.mark.skipif(os.name == "nt", reason="PIDs are not checked on Windows (24-hour rule only)")


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp("stale") / BOOK
    d = generate_demo(claims=40)
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path


@pytest.fixture
def folder(tmp_path, original):
    shutil.copy(original, tmp_path / BOOK)
    return tmp_path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with pytest.raises(ProcessLookupError):   # the premise: no such process any more
        os.kill(proc.pid, 0)
    return proc.pid


def aged(path, age: float, follow: bool = True):
    t = time.time() - age
    os.utime(path, (t, t), follow_symlinks=follow)
    return path


def temps(folder) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(".~payorxl-")}


def leftover(folder, name: str, age: float):
    path = folder / name
    path.write_bytes(b"PK\x03\x04 patient data")
    return aged(path, age)


@pytest.mark.parametrize("name, age, removed", [
    pytest.param(lambda: f".~payorxl-{dead_pid()}-abcd_123.xlsx", HOUR, True, id="dead-pid-1h-old",
                 marks=not_windows),
    pytest.param(lambda: f".~payorxl-{os.getpid()}-abcd_123.xlsx", HOUR, False, id="live-pid-1h-old"),
    pytest.param(lambda: f".~payorxl-{dead_pid()}-abcd_123.xlsx", 0, False, id="dead-pid-fresh"),
    pytest.param(lambda: f".~payorxl-{dead_pid()}-abcd_123.xlsx", 9 * 60, False, id="dead-pid-in-grace"),
    pytest.param(lambda: f".~payorxl-{dead_pid()}-abcd_123.XLSM", HOUR, True, id="dead-pid-xlsm",
                 marks=not_windows),
    pytest.param(lambda: f".~payorxl-{os.getpid()}-abcd_123.xlsx", 2 * DAY, True, id="live-pid-2-days-old"),
    pytest.param(lambda: ".~payorxl-k3x_9qaz.xlsx", 2 * DAY, True, id="old-style-2-days-old"),
    pytest.param(lambda: ".~payorxl-k3x_9qaz.xlsx", HOUR, False, id="old-style-1h-old"),
    pytest.param(lambda: f".~payorxl-{dead_pid()}-abcd_123.xlsx.keep", 2 * DAY, False, id="longer-name"),
    pytest.param(lambda: ".~payorxl-notes.txt", 2 * DAY, False, id="other-payorxl-name"),
    pytest.param(lambda: "~$book.xlsx", 2 * DAY, False, id="excel-lock-file"),
    pytest.param(lambda: ".~other", 2 * DAY, False, id="other-hidden-file"),
])
def test_next_recalc_removes_only_stale_temp_files(folder, name, age, removed):
    path = leftover(folder, name(), age)
    pipeline.recalc(folder / BOOK, as_of="2027-01-15")
    assert path.exists() is not removed
    assert sorted(p.name for p in folder.iterdir()) == sorted([BOOK] + ([] if removed else [path.name]))


def test_symlink_and_folder_with_the_name_are_left_alone(folder, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    victim = elsewhere / "victim.xlsx"
    victim.write_bytes(b"someone else's workbook")
    aged(victim, 2 * DAY)
    link = folder / f".~payorxl-{dead_pid()}-link_123.xlsx"
    link.symlink_to(victim)
    aged(link, 2 * DAY, follow=False)
    dangling = folder / ".~payorxl-dang_123.xlsx"
    dangling.symlink_to(elsewhere / "gone.xlsx")
    aged(dangling, 2 * DAY, follow=False)
    directory = folder / f".~payorxl-{dead_pid()}-dir__123.xlsx"
    directory.mkdir()
    (directory / "inside.xlsx").write_bytes(b"x")
    aged(directory, 2 * DAY)
    pipeline.recalc(folder / BOOK, as_of="2027-01-15")
    assert link.is_symlink() and dangling.is_symlink() and directory.is_dir()
    assert victim.read_bytes() == b"someone else's workbook"
    assert (directory / "inside.xlsx").exists()


@not_windows
def test_sweep_returns_what_it_removed_and_ignores_failures(folder, monkeypatch):
    stale = leftover(folder, f".~payorxl-{dead_pid()}-abcd_123.xlsx", HOUR)
    stuck = leftover(folder, ".~payorxl-stuck_12.xlsx", 2 * DAY)
    kept = leftover(folder, f".~payorxl-{dead_pid()}-abcd_456.xlsx", 0)
    real_unlink = os.unlink

    def refuse(path, *args, **kwargs):
        if os.path.basename(path) == stuck.name:
            raise PermissionError(13, "Permission denied", path)
        return real_unlink(path, *args, **kwargs)
    monkeypatch.setattr(os, "unlink", refuse)
    assert xlsxpart.sweep_stale_temps(folder) == [stale]
    assert stuck.exists() and kept.exists() and not stale.exists()
    # the failed removal does not stop the write
    before = (folder / BOOK).read_bytes()
    pipeline.recalc(folder / BOOK, as_of="2027-01-15")
    assert (folder / BOOK).read_bytes() != before
    assert temps(folder) == {stuck.name, kept.name}
    assert xlsxpart.sweep_stale_temps(folder / "no such folder") == []


def test_temp_files_carry_the_writer_pid(tmp_path, monkeypatch):
    """Every temp file new_workbook writes (its own, from package.new_temp, and those of
    the atomic writes into it) is named so that a sweep recognises it, with this PID."""
    renamed = []
    real_replace = os.replace

    def spy(src, dst):
        renamed.append(os.path.basename(src))
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", spy)
    pipeline.new_workbook(tmp_path / "new.xlsm")
    assert len(renamed) >= 2
    for name in renamed:
        match = xlsxpart._TEMP_NAME.fullmatch(name)
        assert match and match.group(1) == str(os.getpid()), name


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_leftover_of_a_killed_recalc_is_removed_by_the_next(folder, original, tmp_path_factory):
    """The real case: SIGKILL `payorxl recalc` while its temp file exists (at the write's
    "temp-written" point: package.py's test-only kill hook, as in test_kill.py); the
    workbook is the original, the temp file stays; once older than the grace period, the
    next recalc removes it and writes the workbook as usual."""
    book = folder / BOOK
    reference = tmp_path_factory.mktemp("reference") / BOOK   # the same recalc, not killed
    shutil.copy(original, reference)
    pipeline.recalc(reference, as_of="2027-01-15")
    shutil.copy(original, book)
    proc = subprocess.Popen([sys.executable, "-m", "payorxl", "recalc", str(book), "--as-of", "2027-01-15"],
                            env={**os.environ, package.KILL_ENV: "temp-written"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.wait() == -signal.SIGKILL
    left = temps(folder)
    assert len(left) == 1, left
    tmp = folder / left.pop()
    assert tmp.name.startswith(f".~payorxl-{proc.pid}-") and tmp.suffix == ".xlsx"
    assert book.read_bytes() == original.read_bytes(), "the killed recalc changed the workbook"
    pipeline.recalc(book, as_of="2027-01-15")
    assert tmp.exists(), "a fresh leftover is kept for the grace period"
    shutil.copy(original, book)         # as the kill left it
    aged(tmp, xlsxpart.STALE_GRACE + 60)
    pipeline.recalc(book, as_of="2027-01-15")
    assert not tmp.exists() and temps(folder) == set()
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None
    assert digest(book) == digest(reference)
