"""The one write layer (payorxl/workbook/package.py), used by every write — recalc
(write_owned_sheets), import (WorkbookEditor.save), `payorxl new` (install) — proven on
real .xlsx/.xlsm files: untouched parts copied raw; a workbook saved by someone else
meanwhile, opened in Excel meanwhile, or read-only is not written; the replaced file's
mode, owner and group are kept (a new file gets the umask default); a symlink is written
through; a macro-enabled workbook is never written under a .xlsx name.
(Killed writes: test_kill.py; disk full, read-only folder: test_faults.py; leftover
temp files: test_stale_temp.py.)"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import zipfile
import zlib

import pytest
from click.testing import CliRunner

from payorxl import importer, pipeline
from payorxl.cli import main
from payorxl.errors import PayorxlError
from payorxl.workbook import package
from payorxl.workbook.append import WorkbookEditor, append_rows
from payorxl.workbook.package import file_state, lock_file, refuse_if_open, write_package
from test_kill import small_835

AS_OF = "2027-01-15"
is_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                             reason="needs root to give a file another owner and group (CI runs as root)")
posix = pytest.mark.skipif(os.name == "nt", reason="POSIX modes and symlinks")
NOBODY = 65534
PAYMENT = {"Claim ID": "C100", "Line": 1, "Payor": "Acme", "Check No": "00981", "Claim Status": "1",
           "CPT": "99213", "Paid": 64.44, "Source": "era.835"}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temps(*folders) -> list[str]:
    return [p.name for f in folders for p in f.iterdir() if p.name.startswith(".~payorxl-")]


def raw(path) -> dict[str, tuple]:
    """Every member as stored: (compression, CRC, the compressed bytes), in zip order."""
    header = struct.Struct("<4s2B4HL2L2H")
    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            f.seek(info.header_offset)
            fields = header.unpack(f.read(header.size))
            f.seek(info.header_offset + header.size + fields[10] + fields[11])
            out[info.filename] = (info.compress_type, info.CRC, f.read(info.compress_size))
    return out


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def one_line(error) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A plain workbook whose deflated parts were compressed at level 1, as another
    program may have: recompressing at zlib's default level gives other bytes."""
    base = tmp_path_factory.mktemp("package")
    built = base / "built.xlsx"
    pipeline.new_workbook(built)
    path = base / "level1.xlsx"
    with zipfile.ZipFile(built) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return path


@pytest.fixture(scope="module")
def recalculated(template, tmp_path_factory):
    """The template as `payorxl recalc --as-of AS_OF` writes it."""
    path = tmp_path_factory.mktemp("reference") / "book.xlsx"
    shutil.copy(template, path)
    pipeline.recalc(path, as_of=AS_OF)
    return path


@pytest.fixture
def book(template, tmp_path):
    path = tmp_path / "book.xlsx"
    shutil.copy(template, path)
    return path


@pytest.fixture
def era(tmp_path):
    path = tmp_path / "era.835"
    path.write_text(small_835("C100", 1, "99213", "120.00", "ACME HEALTH PLAN"))
    return path


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_umask(value):
        os.umask(value)
    yield set_umask
    os.umask(old)


# --- 1. raw copy, replaced parts rewritten, added parts appended ------------------------

def test_untouched_parts_are_copied_raw_replaced_rewritten_added_appended(book):
    before = raw(book)
    sheet = "xl/worksheets/sheet1.xml"
    # the premise: recompressing would have changed the bytes
    assert any(zlib.compress(zlib.decompress(data, -15))[2:-4] != data
               for kind, _, data in before.values() if kind == zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(book) as z:
        new_sheet = z.read(sheet).replace(b"<sheetData", b"<!-- changed --><sheetData", 1)
    write_package(book, book, {sheet: new_sheet}, {"customXml/item1.xml": b"<added/>"})
    after = raw(book)
    assert list(after) == list(before) + ["customXml/item1.xml"]
    assert {n for n in before if after[n] != before[n]} == {sheet}
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None
        assert z.read(sheet) == new_sheet and z.read("customXml/item1.xml") == b"<added/>"


def test_the_editor_save_copies_untouched_parts_raw(book):
    """An import's write (WorkbookEditor.save) no longer recompresses the workbook."""
    before = raw(book)
    with WorkbookEditor(book) as editor:
        append_rows(editor, "Payments", [PAYMENT])
        editor.write("customXml/item1.xml", "<added/>")
        changed = editor.save()
    after = raw(book)
    assert list(after) == list(before) + ["customXml/item1.xml"]
    assert {n for n in before if after[n] != before[n]} | {"customXml/item1.xml"} == set(changed)
    assert len(changed) < len(before) // 2
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None


# --- 2. refuse-if-changed ------------------------------------------------------------------

def test_an_editor_save_refuses_a_workbook_saved_meanwhile(book, recalculated, tmp_path):
    state = file_state(book)
    with WorkbookEditor(book) as editor:
        append_rows(editor, "Payments", [PAYMENT])
        shutil.copy(recalculated, book)              # someone else's save lands now
        with pytest.raises(PayorxlError) as error:
            editor.save(expect=state)
    text = one_line(error)
    assert "book.xlsx changed while payorxl was reading it" in text and "Run the command again" in text
    assert digest(book) == digest(recalculated)
    assert temps(tmp_path) == []


def test_an_import_refuses_a_workbook_saved_meanwhile(book, recalculated, era, tmp_path, monkeypatch):
    real_read_log = importer.read_log

    def save_meanwhile(path):
        log = real_read_log(path)
        shutil.copy(recalculated, book)              # after the import read the workbook
        return log
    monkeypatch.setattr(importer, "read_log", save_meanwhile)
    with pytest.raises(PayorxlError, match="changed while payorxl was reading it"):
        importer.import_files(book, [era])
    assert digest(book) == digest(recalculated)
    assert temps(tmp_path) == []


# --- 3. the Excel lock, before the work and again before the rename --------------------------

def opened_in_excel_once_the_temp_file_is_written(book, monkeypatch):
    real_write_temp = package._write_temp

    def write_temp(target, write):
        tmp = real_write_temp(target, write)
        lock_file(book).write_bytes(b"owner")        # Excel opens it now, just before the rename
        return tmp
    monkeypatch.setattr(package, "_write_temp", write_temp)


@pytest.mark.parametrize("write", ["recalc", "import"])
def test_a_workbook_opened_in_excel_during_a_write_is_not_replaced(book, era, tmp_path, monkeypatch, write):
    before = digest(book)
    opened_in_excel_once_the_temp_file_is_written(book, monkeypatch)
    with pytest.raises(PayorxlError) as error:
        if write == "recalc":
            pipeline.recalc(book, as_of=AS_OF)
        else:
            importer.import_files(book, [era])
    text = one_line(error)
    assert text.startswith("book.xlsx is open in Excel while payorxl was working (lock file ~$book.xlsx")
    assert "the workbook was not changed. Close it in Excel" in text
    assert digest(book) == before
    assert temps(tmp_path) == []


@pytest.mark.parametrize("write", ["recalc", "import"])
def test_a_workbook_open_in_excel_is_refused_before_the_work(book, era, monkeypatch, write):
    lock_file(book).write_bytes(b"owner")
    monkeypatch.setattr(pipeline, "read_inputs", None)      # no work is done
    monkeypatch.setattr(importer, "read_inputs", None)
    with pytest.raises(PayorxlError, match="open in Excel"):
        if write == "recalc":
            pipeline.recalc(book, as_of=AS_OF)
        else:
            importer.import_files(book, [era])


@posix
def test_the_lock_beside_a_symlinks_target_counts(book, tmp_path):
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "shortcut.xlsx"
    link.symlink_to(book)
    refuse_if_open(link)
    lock_file(book).write_bytes(b"owner")
    with pytest.raises(PayorxlError, match=r"shortcut.xlsx is open in Excel \(lock file ~\$book.xlsx"):
        refuse_if_open(link)


# --- 4. mode, owner and group ---------------------------------------------------------------

@posix
@pytest.mark.parametrize("kept", [0o664, 0o640, 0o600, 0o666])
@pytest.mark.parametrize("write", ["recalc", "import"])
def test_the_workbooks_mode_is_kept(book, era, kept, write):
    os.chmod(book, kept)
    if write == "recalc":
        pipeline.recalc(book, as_of=AS_OF)
    else:
        assert importer.import_files(book, [era]).written
    assert mode(book) == kept


@posix
@is_root
@pytest.mark.parametrize("write", ["recalc", "import", "new --force"])
def test_the_workbooks_owner_and_group_are_kept(book, era, write):
    os.chown(book, NOBODY, NOBODY)
    os.chmod(book, 0o664)
    if write == "recalc":
        pipeline.recalc(book, as_of=AS_OF)
    elif write == "import":
        assert importer.import_files(book, [era]).written
    else:
        pipeline.new_workbook(book, overwrite=True)
    st = os.stat(book)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o664)


@posix
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_new_file_gets_the_umask_default(book, tmp_path, umask, mask):
    umask(mask)
    pipeline.new_workbook(tmp_path / "new.xlsx")
    pipeline.recalc(book, as_of=AS_OF, output=tmp_path / "copy.xlsx")
    assert mode(tmp_path / "new.xlsx") == mode(tmp_path / "copy.xlsx") == 0o666 & ~mask


# --- 5. symlinks ----------------------------------------------------------------------------------

@pytest.fixture
def linked(book, tmp_path):
    """links/practice.xlsx -> ../shared/practice.xlsx (mode 0664)."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "shared" / "practice.xlsx"
    shutil.move(book, target)
    os.chmod(target, 0o664)
    link = tmp_path / "links" / "practice.xlsx"
    link.symlink_to(os.path.join("..", "shared", "practice.xlsx"))
    return link, target


@posix
@pytest.mark.parametrize("write", ["recalc", "import", "new --force"])
def test_a_symlinked_workbook_is_written_through(linked, recalculated, era, tmp_path, write):
    link, target = linked
    before = digest(target)
    if write == "recalc":
        pipeline.recalc(link, as_of=AS_OF)
        assert digest(target) == digest(recalculated)
    elif write == "import":
        assert importer.import_files(link, [era]).written
        assert len(importer.read_log(target)) == 1
    else:
        pipeline.new_workbook(link, overwrite=True, as_of=AS_OF)
    assert digest(target) != before
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "shared", "practice.xlsx")
    assert mode(target) == 0o664
    assert temps(link.parent, target.parent) == []
    assert sorted(p.name for p in link.parent.iterdir()) == ["practice.xlsx"]


@posix
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_the_temp_file_goes_beside_the_symlinks_target(linked):
    """So that the rename stays in one folder (and one file system)."""
    link, target = linked
    before = digest(target)
    proc = subprocess.run([sys.executable, "-m", "payorxl", "recalc", str(link), "--as-of", AS_OF],
                          env={**os.environ, package.KILL_ENV: "before-rename"}, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert temps(link.parent) == [] and len(temps(target.parent)) == 1
    assert digest(target) == before and link.is_symlink()


# --- 6. a read-only workbook -----------------------------------------------------------------

@posix
@pytest.mark.parametrize("write", ["recalc", "import", "new --force"])
def test_a_read_only_workbook_is_refused_and_left_as_it_is(book, era, tmp_path, write):
    os.chmod(book, 0o444)
    before = digest(book)
    with pytest.raises(PayorxlError) as error:
        if write == "recalc":
            pipeline.recalc(book, as_of=AS_OF)
        elif write == "import":
            importer.import_files(book, [era])
        else:
            pipeline.new_workbook(book, overwrite=True)
    text = one_line(error)
    assert text.startswith("book.xlsx is read-only (mode 0444); the workbook was not changed.")
    assert "chmod u+w" in text
    assert digest(book) == before and mode(book) == 0o444
    assert temps(tmp_path) == []


@posix
def test_a_read_only_workbook_can_be_written_elsewhere(book, recalculated, tmp_path, umask):
    umask(0o022)
    os.chmod(book, 0o444)
    before = digest(book)
    result = CliRunner().invoke(main, ["recalc", str(book), "--as-of", AS_OF])
    assert result.exit_code == 1 and "book.xlsx is read-only" in result.output
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, ["recalc", str(book), "--as-of", AS_OF, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert digest(out) == digest(recalculated) and mode(out) == 0o644
    assert digest(book) == before


# --- 7. a macro-enabled workbook is never written as .xlsx --------------------------------------

@pytest.fixture(scope="module")
def macro_book(tmp_path_factory):
    pytest.importorskip("pyopenvba")
    path = tmp_path_factory.mktemp("xlsm") / "practice.xlsm"
    pipeline.new_workbook(path)
    return path


def test_an_xlsm_is_not_written_to_a_name_ending_xlsx(macro_book, tmp_path):
    book = tmp_path / "practice.xlsm"
    shutil.copy(macro_book, book)
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, ["recalc", str(book), "--as-of", AS_OF, "--output", str(out)])
    assert result.exit_code == 1
    assert "practice.xlsm is a macro-enabled workbook" in result.output
    assert "Name it out.xlsm" in result.output and "nothing was written" in result.output
    assert not out.exists() and temps(tmp_path) == []
    with WorkbookEditor(book) as editor:
        append_rows(editor, "Payments", [PAYMENT])
        with pytest.raises(PayorxlError, match="Name it copy.xlsm"):
            editor.save(tmp_path / "copy.XLSX")
    assert not (tmp_path / "copy.XLSX").exists()
    result = CliRunner().invoke(main, ["recalc", str(book), "--as-of", AS_OF, "--output",
                                       str(tmp_path / "out.xlsm")])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "out.xlsm") as z:
        assert "xl/vbaProject.bin" in z.namelist()
