"""xlwings is pinned to one version, and it is the version the embedded VBA names.

The `xlwings` VBA module a workbook carries names the xlwings DLL of one version
(``xlwings64-<version>.dll``, loaded from beside python.exe: the formulas and, on
Windows, the buttons) and the AppleScript of one version (``xlwings-<version>.applescript``,
the buttons on a Mac). An xlwings of another version installs other file names, and
every workbook's formulas and Mac buttons fail. So pyproject.toml pins xlwings exactly,
and these tests fail when the pin, the installed xlwings and the VBA of a freshly built
workbook drift apart. To move to a new xlwings: change the pin, reinstall, then
`payorxl update-vba` each workbook (docs/excel.md)."""
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import xlwings

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")   # oletools on pyparsing 3
ROOT = Path(__file__).resolve().parents[2]


def pinned_xlwings() -> str:
    """The version pyproject.toml's [project] dependencies pin xlwings to (==)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", text, re.S | re.M)
    assert deps, "pyproject.toml has no [project] dependencies list"
    specs = re.findall(r'"(xlwings\b[^"]*)"', deps.group(1))
    assert len(specs) == 1, f"one xlwings requirement expected, found {specs}"
    pin = re.fullmatch(r"xlwings\s*==\s*([0-9][0-9A-Za-z.]*)", specs[0])
    assert pin, f"xlwings must be pinned to one version (xlwings==X.Y.Z), not {specs[0]!r}"
    return pin.group(1)


def embedded_xlwings(path: Path) -> str:
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}["xlwings"]
    finally:
        parser.close()


def test_the_pin_is_the_installed_xlwings():
    pin = pinned_xlwings()
    assert xlwings.__version__ == version("xlwings") == pin, (
        f"pyproject.toml pins xlwings=={pin} but xlwings {xlwings.__version__} is installed: "
        "reinstall (pip install -e .), or move the pin deliberately (see this module's docstring)")


def test_a_fresh_workbook_names_the_pinned_xlwings(built):
    """Every DLL the embedded module declares, its version header and constant, and the
    AppleScript it calls on a Mac, all name the pinned version; the AppleScript of that
    version is the one the installed xlwings ships (`xlwings runpython install` copies it)."""
    pin = pinned_xlwings()
    code = embedded_xlwings(built("small"))
    dlls = re.findall(r'"xlwings(32|64)-([^"]+)\.dll"', code)
    assert {bits for bits, _ in dlls} == {"32", "64"}            # 64-bit and 32-bit Office
    assert {v for _, v in dlls} == {pin}
    assert re.search(r"^'Version: (\S+)", code, re.M).group(1) == pin
    assert re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', code, re.M).group(1) == pin
    assert '"xlwings-" & XLWINGS_VERSION & ".applescript"' in code
    assert (Path(xlwings.__file__).parent / f"xlwings-{pin}.applescript").is_file()
