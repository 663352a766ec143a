"""A write that cannot complete — the disk fills up, the folder is read-only — leaves the
original workbook intact, no temporary file behind, and a message that says so."""
import os
import shutil
import subprocess
import sys

import pytest

from payorxl import pipeline
from payorxl.errors import PayorxlError


def can_mount() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount") is not None


pytestmark = pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs (CI runs as root)")


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = []

    def mount(size_kb: int):
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)], check=True)
        mounted.append(mnt)
        return mnt
    yield mount
    for m in mounted:
        subprocess.run(["umount", str(m)], check=False)


@pytest.fixture(scope="module")
def book_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("faults") / "book.xlsx"
    pipeline.new_workbook(path)
    return path.read_bytes()


def test_disk_full_during_recalc(small_disk, book_bytes):
    # Room for the workbook and a little more, not for its rewritten copy.
    disk = small_disk(len(book_bytes) // 1024 + 24)
    book = disk / "book.xlsx"
    book.write_bytes(book_bytes)
    with pytest.raises(PayorxlError, match="was not changed"):
        pipeline.recalc(book, as_of="2027-01-15")
    assert book.read_bytes() == book_bytes
    assert [p.name for p in disk.iterdir()] == ["book.xlsx"]


def test_read_only_folder(small_disk, book_bytes):
    disk = small_disk(len(book_bytes) // 1024 * 4 + 64)
    book = disk / "book.xlsx"
    book.write_bytes(book_bytes)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    from click.testing import CliRunner

    from payorxl.cli import main
    result = CliRunner().invoke(main, ["recalc", str(book), "--as-of", "2027-01-15"])
    assert result.exit_code == 1
    assert "Read-only file system" in result.output and "was not changed" in result.output
    assert "Traceback" not in result.output
    assert book.read_bytes() == book_bytes


def test_disk_full_during_import(small_disk, book_bytes, tmp_path):
    """An import writes through the same layer (WorkbookEditor.save): the same message,
    the original kept, no temp file left."""
    from payorxl.importer import import_files
    from test_kill import small_835
    era = tmp_path / "era.835"
    era.write_text(small_835("C100", 1, "99213", "120.00", "ACME HEALTH PLAN"))
    disk = small_disk(len(book_bytes) // 1024 + 24)
    book = disk / "book.xlsx"
    book.write_bytes(book_bytes)
    with pytest.raises(PayorxlError, match="book.xlsx .*; the workbook was not changed"):
        import_files(book, [era])
    assert book.read_bytes() == book_bytes
    assert [p.name for p in disk.iterdir()] == ["book.xlsx"]


def test_read_only_folder_for_a_new_workbook(small_disk):
    """`payorxl new` into a read-only folder: the message, and nothing left behind."""
    disk = small_disk(1024)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    with pytest.raises(PayorxlError, match="Read-only file system; the workbook was not changed"):
        pipeline.new_workbook(disk / "new.xlsx")
    assert list(disk.iterdir()) == []
