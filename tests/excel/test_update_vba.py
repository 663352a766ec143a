"""`payorxl update-vba`: a workbook's embedded xlwings and payorxl VBA replaced by the
installed versions, read back with oletools' olevba (a reader that shares no code with
the writer, pyOpenVBA); the user's own VBA, the document modules and every other part
of the package left byte for byte; and the refusals, each one line."""
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest
import xlwings
from click.testing import CliRunner

from payorxl import pipeline
from payorxl.cli import main
from payorxl.workbook import vba
from vba_helpers import olevba_modules

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")   # oletools on pyparsing 3
XLWINGS = Path(xlwings.__file__).parent
OLD = "0.30.0"       # the xlwings version the 'old' workbook's module names

USER_MODULE = ('Attribute VB_Name = "MyMacros"\r\n'
               "' the user's own macro\r\n"
               "Sub SayHello()\r\n"
               '    MsgBox "Hello from " & ThisWorkbook.Name\r\n'
               "End Sub\r\n")
USER_CLASS = ('Attribute VB_Name = "MyCounter"\r\n'
              'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"\r\n'
              "Attribute VB_GlobalNameSpace = False\r\n"
              "Attribute VB_Creatable = False\r\n"
              "Attribute VB_PredeclaredId = False\r\n"
              "Attribute VB_Exposed = False\r\n"
              "Private n As Long\r\n"
              "Public Sub Add()\r\n"
              "    n = n + 1\r\n"
              "End Sub\r\n")


def lines(text: str) -> list[str]:
    out = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while out and not out[-1].strip():
        out.pop()
    return out


def raw_parts(path: Path) -> list[tuple]:
    """Every part as stored: name, compression, CRC, sizes and its compressed bytes."""
    out = []
    with open(path, "rb") as f, zipfile.ZipFile(path) as z:
        for info in z.infolist():
            f.seek(info.header_offset)
            header = struct.unpack("<4s2B4HL2L2H", f.read(30))
            f.seek(info.header_offset + 30 + header[10] + header[11])
            out.append((info.filename, info.compress_type, info.CRC, info.file_size, info.compress_size,
                        f.read(info.compress_size)))
    return out


def make_old(path: Path) -> None:
    """Turn a fresh workbook into one built with an older payorxl and xlwings, which the
    user has since given VBA of their own: the xlwings module names xlwings OLD, the
    buttons' module is an older text, xlwings_udfs is missing, and there are a user
    module and a user class."""
    import pyopenvba
    with pyopenvba.ExcelFile(path) as book:
        book.set_module("xlwings", book.get_module("xlwings").replace(xlwings.__version__, OLD))
        book.set_module("PayorxlButtons", book.get_module("PayorxlButtons") + "' an older payorxl\r\n")
        project = book.vba_project()
        project.delete_module("xlwings_udfs")
        project.add_module("MyMacros", USER_MODULE)
        project.add_module("MyCounter", USER_CLASS, kind=pyopenvba.VBAModuleKind.other)
        book.save(path)


def run(*args):
    return CliRunner().invoke(main, ["update-vba", *map(str, args)], terminal_width=400)


@pytest.fixture
def old_book(copy_of, tmp_path) -> Path:
    path = copy_of("small", "Riverside FM.xlsm")
    make_old(path)
    return path


def test_update_vba_replaces_xlwings_and_payorxl_modules_and_keeps_the_rest(old_book, tmp_path):
    before_copy = tmp_path / "before.xlsm"
    before_copy.write_bytes(old_book.read_bytes())
    before = olevba_modules(before_copy)
    assert OLD in before["xlwings"] and "xlwings_udfs" not in before          # the set-up took
    os.chmod(old_book, 0o640)

    r = run(old_book)
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "replaced xlwings, PayorxlButtons; added xlwings_udfs" in out, out
    assert f"xlwings {xlwings.__version__}" in out

    after = olevba_modules(old_book)
    # the installed text: xlwings' own file, and what payorxl new embeds
    assert lines(after["xlwings"]) == lines((XLWINGS / "xlwings.bas").read_text(encoding="utf-8"))
    assert OLD not in after["xlwings"]
    for module in vba.vba_modules():
        assert lines(after[module.name]) == lines(module.source), module.name
    # the user's VBA and the document modules exactly as they were
    assert set(after) == set(before) | {"xlwings_udfs"}
    for name in set(before) - {"xlwings", "PayorxlButtons"}:
        assert after[name] == before[name], name
    assert lines(after["MyMacros"]) == lines(USER_MODULE)
    assert "Public Sub Add()" in after["MyCounter"]

    # every part but the VBA project byte for byte, in the same order; the mode kept
    old_parts, new_parts = raw_parts(before_copy), raw_parts(old_book)
    assert [p[0] for p in old_parts] == [p[0] for p in new_parts]
    changed = [o[0] for o, n in zip(old_parts, new_parts) if o != n]
    assert changed == [vba.VBA_PART]
    assert stat.S_IMODE(os.stat(old_book).st_mode) == 0o640

    # the _VBA_PROJECT stream as embed_vba writes it, no performance cache
    import io

    import olefile
    with zipfile.ZipFile(old_book) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read(vba.VBA_PART)))
    try:
        assert ole.openstream("VBA/_VBA_PROJECT").read() == vba.VBA_PROJECT_STREAM
        assert not any(entry[-1].startswith("__SRP_") for entry in ole.listdir())
    finally:
        ole.close()

    # a second run finds nothing to do and writes nothing
    state = os.stat(old_book)
    r = run(old_book)
    assert r.exit_code == 0, r.output
    assert "already the installed version" in r.output and "nothing was written" in " ".join(r.output.split())
    assert (os.stat(old_book).st_ino, os.stat(old_book).st_mtime_ns) == (state.st_ino, state.st_mtime_ns)


def test_output_writes_elsewhere_and_leaves_the_book(old_book, tmp_path):
    original = old_book.read_bytes()
    target = tmp_path / "updated.xlsm"
    r = run(old_book, "--output", target)
    assert r.exit_code == 0, r.output
    assert old_book.read_bytes() == original
    assert lines(olevba_modules(target)["xlwings"]) == lines((XLWINGS / "xlwings.bas").read_text(encoding="utf-8"))


def test_a_fresh_workbook_is_already_current(copy_of):
    path = copy_of("small")
    original = path.read_bytes()
    result = vba.update_vba(path)
    assert result.written is None and not result.replaced and not result.added
    assert result.current == [m.name for m in vba.vba_modules()]
    assert path.read_bytes() == original


def _plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain.xlsx"
    pipeline.new_workbook(path)
    return path


def _no_project(tmp_path: Path) -> Path:
    """An .xlsm package without a VBA project (saved before its first macro)."""
    path = tmp_path / "empty.xlsm"
    path.write_bytes(_plain(tmp_path).read_bytes())
    return path


def _no_xlwings(copy_of, tmp_path: Path) -> Path:
    import pyopenvba
    path = copy_of("small", "other.xlsm")
    with pyopenvba.ExcelFile(path) as book:
        book.vba_project().delete_module("xlwings")
        book.save(path)
    return path


@pytest.mark.parametrize("case, expected", [
    ("xlsx", "plain.xlsx is a plain workbook (.xlsx) with no VBA to update; run payorxl new to make a "
             "macro-enabled workbook (.xlsm)"),
    ("no project", "empty.xlsm has no VBA project (saved without macros?); run payorxl new to make a "
                   "macro-enabled workbook"),
    ("no xlwings", "other.xlsm has a VBA project but no xlwings module"),
    ("missing", "missing.xlsm: no such file"),
    ("open", "is open in Excel (lock file ~$Riverside FM.xlsm is present); the workbook was not changed"),
    ("read-only", "Riverside FM.xlsm is read-only (mode 0444); the workbook was not changed"),
    ("xlsx output", "out.xlsx: a workbook with VBA is macro-enabled; name it out.xlsm"),
])
def test_refusals_are_one_line_and_change_nothing(case, expected, old_book, copy_of, tmp_path):
    args: list = []
    if case == "xlsx":
        path = _plain(tmp_path)
    elif case == "no project":
        path = _no_project(tmp_path)
    elif case == "no xlwings":
        path = _no_xlwings(copy_of, tmp_path)
    elif case == "missing":
        path = tmp_path / "missing.xlsm"
    else:
        path = old_book
        if case == "open":
            (path.parent / ("~$" + path.name)).write_bytes(b"")
        elif case == "read-only":
            os.chmod(path, 0o444)
        elif case == "xlsx output":
            args = ["--output", tmp_path / "out.xlsx"]
    original = path.read_bytes() if path.exists() else None
    r = run(path, *args)
    assert r.exit_code == 1, r.output
    assert r.output.startswith("error: ") and r.output.count("\n") == 1, r.output
    assert expected in r.output, r.output
    if original is not None:
        assert path.read_bytes() == original
    assert not list(tmp_path.glob(".~payorxl-*")) and not (tmp_path / "out.xlsx").exists()
