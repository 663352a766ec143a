"""Make a built practice workbook macro-enabled (.xlsm): payorxl's buttons and formulas.

What goes in:
- form buttons on the Dashboard (Recalculate, Import remittance, Import claims, Check
  data), each running a sub of macros/PayorxlButtons.bas;
- the VBA project: xlwings' open-source standalone modules ``xlwings`` (RunPython and
  the formula bridge) and ``Dictionary`` (a class the xlwings module needs on Mac),
  both taken from the xlwings installed here so that the DLL version the module names
  is the installed one, then payorxl's own modules, macros/*.bas (the buttons, and the
  ``xlwings_udfs`` declarations of the PX_ formulas);
- the ``xlwings.conf`` sheet with ``UDF Modules`` set; the Python interpreter is left to
  the user (a note on the sheet, and docs/excel.md).

The recipe (TOOLCHAIN.md, "VBA in a workbook built on Linux"): xlsxwriter writes the
buttons and the sheet (`add_excel_parts`, before it closes the workbook); pyOpenVBA then
gives the file its VBA project and modules (`embed_vba`); last, the main part's content
type is switched to the macro-enabled one, which pyOpenVBA leaves as an .xlsx's, and the
project's ``_VBA_PROJECT`` stream is written as MS-OVBA 2.3.4.1 says a writer writes it
(`interoperable_vba_project`): version 0xFFFF and no performance cache, so that every
Office version compiles the modules from their source instead of trusting a cache.

`update_vba` (``payorxl update-vba``) brings an existing workbook's embedded modules to
the installed versions, for after an upgrade of xlwings or payorxl: the ``xlwings``
module names the DLL and AppleScript of one xlwings version, which is why pyproject.toml
pins xlwings to the version installed (tests/excel/test_xlwings_pin.py).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PayorxlError
from .package import install, new_temp, rewrite_parts

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CONF_SHEET = "xlwings.conf"
UDF_MODULES = "payorxl.excel.udfs"
# (caption, VBA sub in macros/PayorxlButtons.bas)
BUTTONS = (("Recalculate", "PayorxlRecalculate"),
           ("Import remittance (835)", "PayorxlImportRemittance"),
           ("Import claims (837P)", "PayorxlImportClaims"),
           ("Check data", "PayorxlCheckData"))
BUTTON_WIDTH, BUTTON_HEIGHT, BUTTON_GAP = 150, 28, 8
BUTTON_CELL = (2, 0)    # Dashboard A3: under the title, in the first ~630 px (on a laptop's screen)

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CONTENT_TYPES = "[Content_Types].xml"
VBA_PART = "xl/vbaProject.bin"
# MS-OVBA 2.3.4.1, the whole _VBA_PROJECT stream as written: Reserved1 0x61CC, Version
# 0xFFFF ("MUST be 0xFFFF on write": caches are then ignored and rebuilt), Reserved2 0x00,
# Reserved3 (undefined, ignored) 0x0001 as in the spec's example (3.1.1) and in xlwings'
# quickstart_standalone.xlsm; PerformanceCache "MUST NOT be present on write".
VBA_PROJECT_STREAM = bytes.fromhex("CC61" "FFFF" "00" "0100")

CONF_NOTES = (
    "xlwings reads this sheet's column A (setting) and column B (value), from A1 down to the first blank row.",
    "UDF Modules: the Python module holding the PX_ formulas. Leave it as it is.",
    "Add a row (A2, B2, ...) only for what this workbook needs differently from the xlwings add-in "
    "or your own xlwings.conf file: a setting listed here with a blank value overrides those.",
    "Interpreter_Win / Interpreter_Mac: the Python that has payorxl installed, e.g. "
    r"C:\Users\you\AppData\Local\Programs\Python\Python311\pythonw.exe or /usr/local/bin/python3.",
    "PYTHONPATH: not needed when payorxl is installed with pip.",
    "Use UDF Server: TRUE runs the buttons in the Python process of the formulas (faster; "
    "restart it with the add-in's Restart UDF Server after updating payorxl).",
    "Set-up on Windows and Mac, and what works where: docs/excel.md in payorxl.",
)


@dataclass(frozen=True)
class Module:
    """A VBA module to embed: its name, its source (with its Attribute header, lines
    ending in CRLF) and whether it is a class module."""
    name: str
    source: str
    is_class: bool = False


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _has_bas(folder: Traversable) -> bool:
    return folder.is_dir() and any(f.name.endswith(".bas") for f in folder.iterdir())


def macros_dir() -> Traversable:
    """payorxl's VBA sources, edited in the repository's top-level macros/. Where payorxl
    is imported from a source checkout (run in place or installed editable), that folder
    beside the package, next to pyproject.toml; otherwise the package ``payorxl.macros``,
    which a wheel ships as payorxl/macros/*.bas (pyproject.toml maps the package onto
    macros/), read with importlib.resources. The checkout is asked first so that payorxl
    always reads the modules of the tree it is imported from."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and _has_bas(checkout / "macros"):
        return checkout / "macros"
    try:
        shipped = resources.files("payorxl.macros")
    except ModuleNotFoundError:
        pass
    else:
        if _has_bas(shipped):
            return shipped
    raise PayorxlError("payorxl's VBA modules (payorxl/macros/*.bas) are not installed; reinstall payorxl, "
                       "or build a plain workbook with --no-macros")


_NAME = re.compile(r'^Attribute VB_Name = "([^"]+)"', re.M)


def payorxl_modules() -> list[Module]:
    """macros/*.bas, each named by its Attribute VB_Name, in file-name order."""
    out = []
    for path in sorted((f for f in macros_dir().iterdir() if f.name.endswith(".bas")), key=lambda f: f.name):
        source = path.read_text(encoding="utf-8")
        name = _NAME.search(source)
        if not name:
            raise PayorxlError(f"{path.name} has no 'Attribute VB_Name' line")
        out.append(Module(name.group(1), crlf(source)))
    return out


def xlwings_modules() -> list[Module]:
    """xlwings' standalone VBA, from the installed xlwings: the ``xlwings`` module
    (xlwings/xlwings.bas, the same text its quickstart_standalone.xlsm holds: a test
    checks) and the ``Dictionary`` class (only in quickstart_standalone.xlsm)."""
    import xlwings

    folder = Path(xlwings.__file__).parent
    source = (folder / "xlwings.bas").read_text(encoding="utf-8")
    with _pyopenvba().ExcelFile(folder / "quickstart_standalone.xlsm") as quickstart:
        dictionary = quickstart.vba_modules()["Dictionary"]
    return [Module(_NAME.search(source).group(1), crlf(source)), Module("Dictionary", crlf(dictionary), True)]


def vba_modules() -> list[Module]:
    """Everything embedded, in the order it is added: xlwings' modules, then payorxl's."""
    return xlwings_modules() + payorxl_modules()


def add_excel_parts(wb) -> None:
    """The Dashboard's buttons and the xlwings.conf sheet, into an open xlsxwriter
    workbook (which must already have its Dashboard sheet)."""
    dashboard = wb.get_worksheet_by_name("Dashboard")
    row, col = BUTTON_CELL
    for i, (caption, macro) in enumerate(BUTTONS):
        dashboard.insert_button(row, col, {
            "macro": macro, "caption": caption, "width": BUTTON_WIDTH, "height": BUTTON_HEIGHT,
            "x_offset": 4 + i * (BUTTON_WIDTH + BUTTON_GAP), "y_offset": 2,
            "description": f"Runs payorxl: {caption}"})
    conf = wb.add_worksheet(CONF_SHEET)
    conf.write_string(0, 0, "UDF Modules")
    conf.write_string(0, 1, UDF_MODULES)
    italic = wb.add_format({"italic": True, "font_color": "#595959"})
    for i, note in enumerate(CONF_NOTES):
        conf.write_string(i, 3, note, italic)   # column D: never read as a setting
    conf.set_column(0, 0, 18)
    conf.set_column(1, 1, 36)
    conf.set_column(3, 3, 110)
    conf.set_tab_color("#7F7F7F")


def _pyopenvba():
    try:
        import pyopenvba
    except ImportError:
        raise PayorxlError("building a workbook with buttons and formulas (.xlsm) needs pyOpenVBA: "
                           "pip install pyopenvba; or build a plain .xlsx with --no-macros") from None
    return pyopenvba


def embed_vba(path: str | Path) -> list[str]:
    """Give the closed workbook at `path` (named .xlsm, built without VBA) its VBA
    project and modules, and the macro-enabled content type. Returns the module names."""
    ExcelFile, VBAModuleKind = _pyopenvba().ExcelFile, _pyopenvba().VBAModuleKind

    path = Path(path)
    modules = vba_modules()
    tmp = Path(new_temp(path))       # named as the stale-temp sweep recognises
    try:
        with ExcelFile(path) as book:
            project = book.add_vba_project()
            for module in modules:
                project.add_module(module.name, module.source,
                                   kind=VBAModuleKind.other if module.is_class else VBAModuleKind.standard)
            book.save(tmp)
        rewrite_parts(tmp, tmp, {VBA_PART: interoperable_vba_project(_read_part(tmp, VBA_PART)),
                                 CONTENT_TYPES: macro_enabled_types(tmp)})
        with ExcelFile(tmp) as saved:
            problems = saved.validate()
        if problems:
            raise PayorxlError(f"the VBA project of {path.name} came out inconsistent: {problems[0]}")
        install(tmp, path)
    finally:
        if tmp.exists():
            os.unlink(tmp)
    return [m.name for m in modules]


def interoperable_vba_project(vba_bin: bytes) -> bytes:
    """`vba_bin` (a vbaProject.bin) with its VBA/_VBA_PROJECT stream replaced by
    VBA_PROJECT_STREAM. pyOpenVBA keeps the version of the VBA that saved its template
    and zeroes the cache after it, which a VBA of that version may still try to use."""
    from pyopenvba.cfb import CFB
    cfb = CFB.from_bytes(vba_bin)
    try:
        stream = cfb.get_stream_in_storage("VBA", "_VBA_PROJECT")
    except KeyError:
        raise PayorxlError("the VBA project written has no _VBA_PROJECT stream") from None
    if stream[:2] != VBA_PROJECT_STREAM[:2]:
        raise PayorxlError("the VBA project written has a _VBA_PROJECT stream of an unknown kind")
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    return cfb.to_bytes()


def _read_part(path: Path, name: str) -> bytes:
    import zipfile
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def macro_enabled_types(path: str | Path) -> bytes:
    """[Content_Types].xml of `path` with the workbook part declared macro-enabled."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        xml = z.read(CONTENT_TYPES).decode("utf-8")
    if XLSM_MAIN not in xml and XLSX_MAIN not in xml:
        raise PayorxlError(f"{Path(path).name} declares no workbook part")
    return xml.replace(XLSX_MAIN, XLSM_MAIN).encode("utf-8")


# --- refreshing the VBA of an existing workbook (`payorxl update-vba`) ---------------------

NO_VBA_FIX = "run payorxl new to make a macro-enabled workbook (.xlsm)"


@dataclass(frozen=True)
class VBAUpdate:
    """What `update_vba` did: the modules replaced, added (missing from the workbook)
    and already current, and the file written (None: nothing needed writing)."""
    replaced: list[str]
    added: list[str]
    current: list[str]
    written: Path | None


def _same_source(a: str, b: str) -> bool:
    """The same module text, whatever the line endings or trailing blank lines."""
    def norm(text: str) -> str:
        return crlf(text).rstrip("\r\n \t")
    return norm(a) == norm(b)


def update_vba(book: str | Path, output: str | Path | None = None) -> VBAUpdate:
    """Replace the xlwings and payorxl VBA modules of the macro-enabled workbook `book`
    with the installed versions (`vba_modules`, what `payorxl new` embeds), writing the
    result to `output` (default: `book` itself, in place).

    Only ``xl/vbaProject.bin`` changes: every other part of the package is copied byte
    for byte (package.write_package). In the VBA project, the modules payorxl embeds
    (``xlwings``, ``Dictionary``, macros/*.bas) get the installed text, one missing is
    added, and everything else stays as it is: ThisWorkbook and the sheets' document
    modules, the user's own modules, classes and forms, the references. The
    ``_VBA_PROJECT`` stream is written as `embed_vba` writes it. A workbook whose modules
    are already the installed text is not written (unless `output` is given).

    Refused, with a one-line message and nothing written: a file that is not an .xlsm,
    a workbook with no VBA project or no ``xlwings`` module, a password-protected or
    digitally signed project, a workbook open in Excel or read-only."""
    import zipfile

    from .package import file_state, refuse_if_open, write_package

    pyopenvba = _pyopenvba()
    src = Path(book)
    dst = Path(output) if output is not None else src
    if not src.is_file():
        raise PayorxlError(f"{src}: no such file; check the name and the folder")
    if src.suffix.lower() == ".xlsx":
        raise PayorxlError(f"{src.name} is a plain workbook (.xlsx) with no VBA to update; {NO_VBA_FIX}")
    if src.suffix.lower() != ".xlsm":
        raise PayorxlError(f"{src.name} is not a macro-enabled workbook (.xlsm); give the .xlsm that "
                           f"payorxl new made, or {NO_VBA_FIX}")
    if dst.suffix.lower() != ".xlsm":
        raise PayorxlError(f"{dst.name}: a workbook with VBA is macro-enabled; name it {dst.stem}.xlsm")
    refuse_if_open(dst)                   # before any work: open in Excel, or read-only
    expect = file_state(src)
    try:
        with zipfile.ZipFile(src) as z:
            has_project = VBA_PART in z.namelist()
    except (zipfile.BadZipFile, OSError):
        raise PayorxlError(f"{src.name} is not a workbook payorxl can read (not an .xlsm package); "
                           "give the .xlsm that payorxl new made") from None
    if not has_project:
        raise PayorxlError(f"{src.name} has no VBA project (saved without macros?); {NO_VBA_FIX}")

    modules = vba_modules()
    replaced, added, current = [], [], []
    try:
        with pyopenvba.ExcelFile(src) as wb:
            project = wb.vba_project()
            have = {m.name.casefold(): m for m in project.modules}
            if "xlwings" not in have:
                raise PayorxlError(f"{src.name} has a VBA project but no xlwings module, so it is not a "
                                   f"workbook payorxl new made; {NO_VBA_FIX}")
            if project.protection is not None and project.protection.has_password:
                raise PayorxlError(f"{src.name}'s VBA project is password-protected; remove the password "
                                   "(VBA editor › Tools › VBAProject Properties › Protection), save, close "
                                   "and run the command again")
            if wb.vba_signature().present:
                raise PayorxlError(f"{src.name}'s VBA project is digitally signed, and new modules would "
                                   "void the signature; remove it (VBA editor › Tools › Digital Signature), "
                                   "save, close, run the command again, then sign it anew")
            for module in modules:
                kind = pyopenvba.VBAModuleKind.other if module.is_class else pyopenvba.VBAModuleKind.standard
                old = have.get(module.name.casefold())
                if old is None:
                    project.add_module(module.name, module.source, kind=kind)
                    added.append(module.name)
                elif old.kind != kind:
                    raise PayorxlError(f"{src.name} has a VBA {'module' if module.is_class else 'class'} "
                                       f"named {old.name} where payorxl puts its own "
                                       f"{'class' if module.is_class else 'module'}; rename yours in the "
                                       "VBA editor and run the command again")
                elif _same_source(old.source, module.source):
                    current.append(module.name)
                else:
                    wb.set_module(old.name, module.source)
                    replaced.append(module.name)
            if not replaced and not added and output is None:
                return VBAUpdate(replaced, added, current, None)
            tmp = Path(new_temp(dst))    # beside the result, named as the stale-temp sweep recognises
            try:
                wb.save(tmp)
                vba_bin = interoperable_vba_project(_read_part(tmp, VBA_PART))
            finally:
                if tmp.exists():
                    os.unlink(tmp)
    except pyopenvba.PyOpenVBAError as e:
        raise PayorxlError(f"{src.name}: its VBA project could not be read or rewritten ({e}); the "
                           f"workbook was not changed. Open it in Excel to check it, or {NO_VBA_FIX}") from None
    problems = _project_problems(vba_bin)
    if problems:
        raise PayorxlError(f"the VBA project of {src.name} came out inconsistent ({problems[0]}); the "
                           "workbook was not changed")
    write_package(src, dst, replace={VBA_PART: vba_bin}, expect=expect)
    return VBAUpdate(replaced, added, current, dst)


def _project_problems(vba_bin: bytes) -> list[str]:
    """pyOpenVBA's cross-structure check of a vbaProject.bin (as ExcelFile.validate)."""
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import parse_vba_project
    cfb = CFB.from_bytes(vba_bin)
    return parse_vba_project(cfb).validate(cfb)
