"""The macro-enabled workbook `payorxl new` builds, read back by two readers that share
no code with the writer (pyOpenVBA): oletools' olevba and LibreOffice's VBA import.
And the consistency of the pieces: every RunPython call names a payorxl function, every
button names a sub, every PX_ formula declared in the workbook or the docs exists with
its arity, and the embedded VBA is macros/*.bas and the installed xlwings' own."""
import inspect
import re
import zipfile
from pathlib import Path

import pytest
import xlwings
from click.testing import CliRunner

from payorxl import pipeline
from payorxl.cli import main
from payorxl.excel import udfs
from payorxl.excel.vba_udfs import udf_module
from payorxl.libreoffice import convert, soffice
from payorxl.workbook import vba
from payorxl.workbook.template import SHEET_ORDER, build_workbook
from vba_helpers import olevba_modules

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")   # oletools on pyparsing 3
ROOT = Path(__file__).resolve().parents[2]
MACROS = ROOT / "macros"
XLWINGS = Path(xlwings.__file__).parent


def lines(text: str) -> list[str]:
    """Source lines without line-ending differences or trailing blank lines."""
    out = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while out and not out[-1].strip():
        out.pop()
    return out


def body(text: str) -> list[str]:
    """Source lines without Attribute lines: the module header and, in a class, member
    attributes (Attribute Item.VB_UserMemId = 0), which the VBA editor hides and
    LibreOffice does not keep."""
    return [line for line in lines(text) if not line.startswith("Attribute ")]


def expected_modules() -> dict[str, str]:
    """What must be embedded: xlwings' installed modules and macros/*.bas."""
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(XLWINGS / "quickstart_standalone.xlsm"))
    quickstart = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    out = {"xlwings": (XLWINGS / "xlwings.bas").read_text(encoding="utf-8"), "Dictionary": quickstart["Dictionary"]}
    for path in sorted(MACROS.glob("*.bas")):
        text = path.read_text(encoding="utf-8")
        out[re.search(r'Attribute VB_Name = "([^"]+)"', text).group(1)] = text
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xlsm") / "practice.xlsm"
    pipeline.new_workbook(path, settings_values={"practice_name": "Test Practice"})
    return path


# --- the package ----------------------------------------------------------------------------

def test_content_types_declare_the_macro_enabled_workbook(template):
    with zipfile.ZipFile(template) as z:
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    assert ('<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>') in types
    assert "spreadsheetml.sheet.main+xml" not in types
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in types
    assert 'Target="vbaProject.bin"' in rels and "relationships/vbaProject" in rels


def test_the_plain_workbook_is_unchanged(tmp_path):
    """.xlsx: no VBA, no buttons, no xlwings.conf, the .xlsx content type."""
    path = tmp_path / "plain.xlsx"
    pipeline.new_workbook(path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        types = z.read("[Content_Types].xml").decode()
        workbook = z.read("xl/workbook.xml").decode()
    assert "xl/vbaProject.bin" not in names
    assert "spreadsheetml.sheet.main+xml" in types and "macroEnabled" not in types
    assert "xlwings.conf" not in workbook
    assert not any("FmlaMacro" in z_read for z_read in _vml_texts(path))


def _vml_texts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".vml")]


def test_buttons_on_the_dashboard_run_subs_that_exist(template):
    with zipfile.ZipFile(template) as z:
        from payorxl.workbook.xlsxpart import sheet_parts
        dashboard = sheet_parts(z)["Dashboard"]
        rels = z.read(dashboard.replace("worksheets/", "worksheets/_rels/") + ".rels").decode()
    vml = [t for t in _vml_texts(template) if "FmlaMacro" in t]
    assert len(vml) == 1 and "vmlDrawing" in rels       # one drawing of buttons, the Dashboard's
    macros_named = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml[0])
    captions = re.findall(r'<font face="Calibri" size="220" color="#000000">([^<]+)</font>', vml[0])
    assert macros_named == [m for _, m in vba.BUTTONS]
    assert captions == [c for c, _ in vba.BUTTONS]
    source = (MACROS / "PayorxlButtons.bas").read_text()
    for name in macros_named:
        assert re.search(rf"^Sub {name}\(\)", source, re.M), name


def test_the_xlwings_conf_sheet(template):
    from python_calamine import CalamineWorkbook
    book = CalamineWorkbook.from_path(str(template))
    rows = book.get_sheet_by_name("xlwings.conf").to_python()
    book.close()
    # xlwings reads A1 down to the first blank row: only UDF Modules, nothing blank
    # that would override the user's own interpreter setting.
    assert rows[0][:2] == ["UDF Modules", "payorxl.excel.udfs"]
    assert all(row[0] == "" and row[1] == "" for row in rows[1:])
    assert any("Interpreter_Win" in str(v) for row in rows for v in row)
    assert vba.UDF_MODULES == udfs.MODULE


# --- the VBA, read back ------------------------------------------------------------------------

def test_olevba_reads_back_exactly_the_modules_given(template):
    found = olevba_modules(template)
    expected = expected_modules()
    sheets = {n for n in found if re.fullmatch(r"ThisWorkbook|Sheet\d+", n)}
    assert set(found) - sheets == set(expected) == {"xlwings", "Dictionary", "PayorxlButtons", "xlwings_udfs"}
    assert len(sheets) == 1 + len(SHEET_ORDER) + 1          # ThisWorkbook and one document module per sheet
    for name, source in expected.items():
        assert lines(found[name]) == lines(source), name


def test_the_vba_project_stream_is_written_as_ms_ovba_says(template):
    """MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version "MUST be 0xFFFF on write" (so Office
    ignores every performance cache and compiles the source), Reserved2 0x00, Reserved3
    undefined (0x0001, as the spec's example 3.1.1 and xlwings' quickstart_standalone.xlsm
    have it), and PerformanceCache "MUST NOT be present on write": seven bytes in all."""
    import io

    import olefile
    with zipfile.ZipFile(template) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    try:
        stream = ole.openstream("VBA/_VBA_PROJECT").read()
        assert not any(name[-1].startswith("__SRP_") for name in ole.listdir())   # no cache streams either
    finally:
        ole.close()
    assert stream[0:2] == b"\xcc\x61"           # Reserved1 0x61CC, little-endian
    assert stream[2:4] == b"\xff\xff"           # Version 0xFFFF
    assert stream[4] == 0x00                    # Reserved2
    assert stream[5:7] == b"\x01\x00"           # Reserved3
    assert len(stream) == 7
    with zipfile.ZipFile(XLWINGS / "quickstart_standalone.xlsm") as z:
        xlwings_own = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    assert xlwings_own.openstream("VBA/_VBA_PROJECT").read() == stream
    xlwings_own.close()


@pytest.mark.libreoffice
def test_libreoffice_reads_back_the_same_modules(template, tmp_path):
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    ods = convert(template, tmp_path, "ods")
    with zipfile.ZipFile(ods) as z:
        library = z.read("Basic/VBAProject/script-lb.xml").decode()
        texts = {n.split("/")[-1][:-4]: z.read(n).decode() for n in z.namelist()
                 if n.startswith("Basic/VBAProject/") and not n.endswith("script-lb.xml")}
    import html
    for name, source in expected_modules().items():
        assert f'library:name="{name}"' in library, name
        module = re.search(r"<script:module[^>]*>(.*)</script:module>", texts[name], re.S).group(1)
        # LibreOffice drops the Attribute lines and puts its own options in front.
        got = [line for line in lines(html.unescape(module))
               if not line.startswith(("Rem Attribute VBA_ModuleType", "Option VBASupport", "Option ClassModule"))]
        assert got == body(source), name


def test_the_embedded_xlwings_is_the_installed_one(template):
    """Its DLL declarations name the installed version (RunPython loads that DLL), and
    xlwings/xlwings.bas is what the installed quickstart_standalone.xlsm holds."""
    from oletools.olevba import VBA_Parser
    code = olevba_modules(template)["xlwings"]
    assert set(re.findall(r'"xlwings(?:32|64)-([\d.]+)\.dll"', code)) == {xlwings.__version__}
    parser = VBA_Parser(str(XLWINGS / "quickstart_standalone.xlsm"))
    quickstart = {n: c for _, _, n, c in parser.extract_macros()}
    parser.close()
    assert lines(quickstart["xlwings.bas"]) == lines((XLWINGS / "xlwings.bas").read_text(encoding="utf-8"))


# --- consistency ----------------------------------------------------------------------------

RUNPYTHON = re.compile(r'RunPython\s+"import ([\w.]+) as (\w+); \2\.(\w+)\((.*?)\)"')


def test_every_runpython_call_names_a_payorxl_function():
    calls = []
    for path in MACROS.glob("*.bas"):
        for line in path.read_text().splitlines():
            if "RunPython" in line and not line.lstrip().startswith("'"):
                match = RUNPYTHON.search(line)
                assert match, f"{path.name}: a RunPython call of another shape: {line.strip()}"
                calls.append(match.groups())
    assert sorted(c[2] for c in calls) == ["check_data", "import_claims", "import_remittance", "recalculate"]
    import importlib
    for module, _, function, args in calls:
        assert module.startswith("payorxl.")
        func = getattr(importlib.import_module(module), function)
        n = 0 if not args else 1          # no argument, or the one string of picked files
        inspect.signature(func).bind(*(["x"] * n))


def test_the_udf_declarations_are_current():
    """macros/xlwings_udfs.bas is what udfs.py declares (regenerate it with
    `python -m payorxl.excel.vba_udfs`)."""
    assert (MACROS / "xlwings_udfs.bas").read_bytes().decode() == udf_module()


def arities(func) -> tuple[int, int]:
    params = inspect.signature(func).parameters.values()
    return (sum(p.default is inspect.Parameter.empty for p in params), len(params))


def test_every_udf_declared_in_the_workbook_exists_with_its_arity(template):
    declared = {}
    for name, args in re.findall(r"^Function (PX_\w+)\((.*)\)", olevba_modules(template)["xlwings_udfs"], re.M):
        params = [a.strip() for a in args.split(",")]
        declared[name] = (sum(not p.startswith("Optional ") for p in params), len(params))
        # The wrapper passes every argument on, in order.
        names = [p.replace("Optional ", "") for p in params]
        assert f'"{name}", Array({", ".join(names)})' in olevba_modules(template)["xlwings_udfs"]
    assert declared == {f.__name__: arities(f) for f in udfs.UDFS}
    assert "Application.Volatile" not in olevba_modules(template)["xlwings_udfs"]


def test_every_formula_in_the_docs_calls_a_udf_with_a_valid_number_of_arguments():
    text = (ROOT / "docs" / "excel.md").read_text()
    by_name = {f.__name__: f for f in udfs.UDFS}
    seen = set()
    for name, args in re.findall(r"=(PX_\w+)\(((?:[^()]|\([^()]*\))*)\)", text):
        assert name in by_name, name
        depth, count = 0, 1 if args.strip() else 0
        for ch in args:   # top-level commas only: Settings!A1:B10, "x,y" are single arguments
            depth += ch in "([{" or -(ch in ")]}")
            count += ch == "," and depth == 0
        low, high = arities(by_name[name])
        assert low <= count <= high, f"{name}({args})"
        seen.add(name)
    assert seen == set(by_name), "every UDF has an example in docs/excel.md"


def test_a_workbook_with_its_own_vba_keeps_it(tmp_path):
    """`customize` may bring a VBA project of its own (tests/workbook does): the template
    then adds neither payorxl's VBA nor its buttons."""
    source = XLWINGS / "quickstart_standalone.xlsm"
    bin_path = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(source) as z:
        bin_path.write_bytes(z.read("xl/vbaProject.bin"))
    path = tmp_path / "own.xlsm"
    build_workbook(path, customize=lambda wb: wb.add_vba_project(str(bin_path)))
    assert set(olevba_modules(path)) >= {"Module1", "xlwings"} and "PayorxlButtons" not in olevba_modules(path)


def test_cli_new_and_demo_choose_by_suffix_and_flag(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["new", str(tmp_path / "a")], terminal_width=400)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "a.xlsm").exists() and "press Recalculate in Excel" in " ".join(r.output.split())
    r = runner.invoke(main, ["new", str(tmp_path / "b"), "--no-macros"])
    assert r.exit_code == 0 and (tmp_path / "b.xlsx").exists()
    r = runner.invoke(main, ["new", str(tmp_path / "c.xlsx")])          # as today
    assert r.exit_code == 0 and "xl/vbaProject.bin" not in zipfile.ZipFile(tmp_path / "c.xlsx").namelist()
    r = runner.invoke(main, ["new", str(tmp_path / "d.xlsm"), "--no-macros"], terminal_width=400)
    assert r.exit_code == 1
    assert "d.xlsm: with --no-macros the workbook is a plain one; name it d.xlsx" in " ".join(r.output.split())
    r = runner.invoke(main, ["new", str(tmp_path / "e.xlsx"), "--macros"], terminal_width=400)
    assert r.exit_code == 1
    assert "e.xlsx: a workbook with buttons and formulas is macro-enabled; name it e.xlsm" in \
        " ".join(r.output.split())
    assert "--no-macros" in runner.invoke(main, ["demo", "--help"]).output
