"""payorxl's workbook lock (package.workbook_lock) beyond import and recalc
(tests/test_hardening.py has those):

1. `payorxl new --force` and `payorxl rollup --output` take it before they replace a
   workbook: while another process holds it (an import, a recalc) they are refused
   naming it and the file is left byte for byte; once it is released they succeed;
2. the Windows branch (msvcrt.locking), run here against a stand-in msvcrt that locks as
   the C runtime does (bytes from the descriptor's current position, per handle);
3. the lock file of a read-only workbook stays deletable.

The other process holding the lock is told when to let go over a pipe: no sleeping.
"""
from __future__ import annotations

import errno
import importlib.util
import os
import stat
import subprocess
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from test_hardening import ENV, busy, leftovers

from payorxl import pipeline, rollup
from payorxl.errors import PayorxlError
from payorxl.workbook import package
from payorxl.workbook.package import workbook_lock, workbook_lock_file
from payorxl.workbook.read import read_inputs

posix = pytest.mark.skipif(os.name == "nt", reason="flock, and a stand-in for Windows' msvcrt")

HOLDER = """
import sys
from payorxl.workbook.package import workbook_lock
with workbook_lock(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


@contextmanager
def held_elsewhere(book: Path, command: str):
    """payorxl's lock on `book`, held by another process (as `command`) until the block
    ends; yields that process's PID."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(book), command], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        assert holder.wait(timeout=60) == 0


# `python -m payorxl ARGS`, with the lock's wait (package.LOCK_WAIT, 5 s) cut short so that
# a refusal comes at once; everything else is the command as a user runs it.
CLI = ("import runpy, sys\nfrom payorxl.workbook import package\npackage.LOCK_WAIT = float(sys.argv.pop(1))\n"
       "runpy.run_module('payorxl', run_name='__main__', alter_sys=True)")


def payorxl(*args: str, wait: float = 0.3) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLI, str(wait), *args], capture_output=True, text=True, env=ENV,
                          timeout=300)


def practice_name(book: Path) -> str:
    return read_inputs(book).settings.practice_name


# --- 1. new --force and rollup --------------------------------------------------------------

@posix
def test_new_force_does_not_replace_a_workbook_an_import_is_changing(tmp_path):
    book = tmp_path / "book.xlsx"
    pipeline.new_workbook(book, settings_values={"practice_name": "Old Practice"})
    before = book.read_bytes()
    with held_elsewhere(book, "import") as pid:
        refused = payorxl("new", str(book), "--force", "--practice", "New Practice")
        assert refused.returncode == 1, refused.stderr
        assert busy("book.xlsx", "import", str(pid)).fullmatch(refused.stderr.strip().removeprefix("error: "))
        assert book.read_bytes() == before
        assert leftovers(tmp_path) == [workbook_lock_file(book).name]   # the holder's, and no temp file
    done = payorxl("new", str(book), "--force", "--practice", "New Practice")
    assert done.returncode == 0, done.stderr
    assert practice_name(book) == "New Practice"
    assert leftovers(tmp_path) == []


@posix
def test_new_workbook_takes_the_lock_called_from_python_too(tmp_path, monkeypatch):
    book = tmp_path / "book.xlsx"
    pipeline.new_workbook(book, settings_values={"practice_name": "Old Practice"})
    monkeypatch.setattr(package, "LOCK_WAIT", 0.1)
    with workbook_lock(book, "recalc"):          # a second taker, even this process, is refused
        with pytest.raises(PayorxlError, match=busy("book.xlsx", "recalc", str(os.getpid())).pattern):
            pipeline.new_workbook(book, overwrite=True)
    assert practice_name(book) == "Old Practice"
    with pytest.raises(PayorxlError, match="already exists"):
        pipeline.new_workbook(book)


def practices_in(portfolio: Path) -> list[str]:
    book = CalamineWorkbook.from_path(str(portfolio))
    try:
        rows = book.get_sheet_by_name("Practices").to_python()
    finally:
        book.close()
    header = next(i for i, row in enumerate(rows) if "Practice" in row)
    column = rows[header].index("Practice")
    return [row[column] for row in rows[header + 1:] if row[column] not in ("", None)]


@posix
def test_a_rollup_does_not_replace_a_portfolio_a_run_is_changing(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    pipeline.new_workbook(a, settings_values={"practice_name": "Practice A"})
    pipeline.new_workbook(b, settings_values={"practice_name": "Practice B"})
    portfolio = tmp_path / "portfolio.xlsx"
    rollup.write_portfolio(rollup.roll_up([rollup.practice_figures(a)]), portfolio)
    before = portfolio.read_bytes()
    with held_elsewhere(portfolio, "recalc") as pid:
        refused = payorxl("rollup", str(a), str(b), "--output", str(portfolio))
        assert refused.returncode == 1, refused.stderr
        assert busy("portfolio.xlsx", "recalc", str(pid)).fullmatch(refused.stderr.strip().removeprefix("error: "))
        assert portfolio.read_bytes() == before
    done = payorxl("rollup", str(a), str(b), "--output", str(portfolio))
    assert done.returncode == 0, done.stderr
    assert practices_in(portfolio)[:2] == ["Practice A", "Practice B"]
    assert leftovers(tmp_path) == []


# --- 2. the Windows branch ----------------------------------------------------------------------

class Msvcrt(types.ModuleType):
    """msvcrt.locking as the Windows C runtime does it: `nbytes` from the descriptor's
    current position (which it leaves where it was), held per handle; LK_NBLCK raises
    OSError(EACCES) at once when another handle holds one of the bytes, LK_UNLCK when
    this one does not."""
    LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4

    def __init__(self):
        super().__init__("msvcrt")
        self.held: dict[tuple, int] = {}
        self.fail: int | None = None      # an errno every call raises (a share without locks)

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        if self.fail is not None:
            raise OSError(self.fail, os.strerror(self.fail))
        st, start = os.fstat(fd), os.lseek(fd, 0, os.SEEK_CUR)
        keys = [(st.st_dev, st.st_ino, start + i) for i in range(nbytes)]
        if mode == self.LK_UNLCK:
            if any(self.held.get(k) != fd for k in keys):
                raise OSError(errno.EACCES, "Permission denied")
            for k in keys:
                del self.held[k]
        elif mode in (self.LK_NBLCK, self.LK_NBRLCK):
            if any(k in self.held for k in keys):
                raise OSError(errno.EACCES, "Permission denied")
            for k in keys:
                self.held[k] = fd
        else:
            raise NotImplementedError("payorxl never waits inside msvcrt.locking")


def windows_unlink(path) -> None:
    """os.unlink as on Windows: a read-only file cannot be deleted."""
    if not os.stat(path, follow_symlinks=False).st_mode & stat.S_IWUSR:
        raise PermissionError(errno.EACCES, "Access is denied", str(path))
    os.unlink(path)


@pytest.fixture
def windows(monkeypatch):
    """package.py loaded as on Windows (no fcntl, msvcrt present), a module of its own;
    its os deletes files as Windows does."""
    fake = Msvcrt()
    monkeypatch.setitem(sys.modules, "fcntl", None)          # import fcntl -> ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    spec = importlib.util.spec_from_file_location("payorxl.workbook._package_on_windows", package.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._UNLINK_WHILE_HELD is False and module.msvcrt is fake
    module.os = types.SimpleNamespace(**{name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
    module.os.unlink = windows_unlink
    return module, fake


@posix
def test_windows_writes_the_holder_at_the_start_of_the_lock_file_and_names_it(windows, tmp_path):
    """msvcrt.locking leaves the position on the locked byte (a gigabyte in): the PID and
    command must still be written at offset 0, where a second run reads them."""
    win, fake = windows
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"PK")
    with win.workbook_lock(book, "recalc") as lock:
        assert lock.stat().st_size < 200, "the text went past the locked byte"
        assert lock.read_text().split()[:2] == [str(os.getpid()), "recalc"]
        assert list(fake.held) == [(lock.stat().st_dev, lock.stat().st_ino, win._WIN_BYTE)]
        with pytest.raises(PayorxlError, match=busy("book.xlsx", "recalc", str(os.getpid())).pattern):
            with win.workbook_lock(book, "import", wait=0.1):
                pass
    assert fake.held == {} and not lock.exists()
    with win.workbook_lock(book, "import") as again:         # free again
        assert again.read_text().split()[:2] == [str(os.getpid()), "import"]


@posix
def test_windows_a_locking_failure_is_not_taken_for_another_run(windows, tmp_path):
    """Only EACCES (and LK_LOCK's EDEADLOCK) means another handle holds the byte; any
    other failure says so at once instead of waiting, then blaming 'another payorxl run'."""
    win, fake = windows
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"PK")
    fake.fail = errno.EINVAL
    with pytest.raises(PayorxlError, match=r"\.payorxl-book\.xlsx\.lock beside book\.xlsx could not be locked"):
        with win.workbook_lock(book, "recalc", wait=60):
            pass


@posix
def test_windows_the_lock_file_of_a_read_only_workbook_is_deleted(windows, tmp_path):
    """The lock file takes the workbook's mode; a read-only one would be left behind on
    Windows (which cannot delete a read-only file), holding a stale PID."""
    win, _ = windows
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"PK")
    book.chmod(0o444)
    with win.workbook_lock(book, "recalc") as lock:
        assert lock.stat().st_mode & stat.S_IWUSR
    assert not lock.exists()


@posix
def test_the_lock_file_of_a_read_only_workbook_is_writable_by_its_owner(tmp_path):
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"PK")
    book.chmod(0o440)
    with workbook_lock(book, "recalc") as lock:
        assert stat.S_IMODE(lock.stat().st_mode) == 0o640
    assert not lock.exists()
