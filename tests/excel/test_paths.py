"""The files picked for Import remittance / Import claims, on their way from VBA to Python.

macros/PayorxlButtons.bas writes the picked paths to a list file and sends only "@" and
the hex of that file's path inside the command xlwings' RunPython runs. Two things in
xlwings' own code make that necessary, and are simulated here from the installed xlwings:
- Mac (ExecuteMac + xlwings-<version>.applescript): the command travels in one
  AppleScriptTask parameter whose fields are joined by "|" and split on "|" again, and it
  then sits in double quotes in a `do shell script` command line;
- Windows (ExecuteWindows): the command goes to `cmd.exe /C "..."`, whose command line
  stops at 8,191 characters (Excel reports run-time error 53 beyond it).
"""
import ast
import re
from pathlib import Path

import pytest
import xlwings

from payorxl.errors import PayorxlError
from payorxl.excel import macros
from payorxl.excel.books import FileBook

ROOT = Path(__file__).resolve().parents[2]
BAS = (ROOT / "macros" / "PayorxlButtons.bas").read_text(encoding="utf-8")
XLWINGS = Path(xlwings.__file__).parent
CMD_LIMIT = 8191

AWKWARD = [
    r"C:\Users\o'brien\Downloads\ERA \"May\" 2026.835",       # quotes, backslashes, spaces
    "/Users/zoë/Remits/era 1 | pipe.835",                      # non-ASCII, a "|"
    "C:\\Ä\\Zahlungsavis 🧾 (Kopie).837",                      # a character outside the BMP
    "\\\\server\\share\\claims & more\\%TEMP%\\$HOME `x`.837",  # what cmd.exe and sh would expand
    "/tmp/with\nnewline.835",                                  # a name may hold a newline on a Mac
]


def vba_hex_utf16(text: str) -> str:
    """macros/PayorxlButtons.bas HexUtf16, step for step: Right$("000" & Hex$(AscW(c)
    And &HFFFF&), 4) for each UTF-16 code unit (VBA strings are UTF-16)."""
    data = text.encode("utf-16-be")
    units = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
    return "".join(("000" + format(u & 0xFFFF, "X"))[-4:] for u in units)


def vba_list_file(folder: Path, paths, newline: str = "\r\n") -> Path:
    """PickFiles: Open ... For Output, Print # HexUtf16(path) for each path, Close.
    Print # ends a line with CR LF on Windows (and CR or LF on a Mac)."""
    listing = folder / "payorxl-paths-20260501-093015-123456.txt"
    listing.write_bytes("".join(vba_hex_utf16(p) + newline for p in paths).encode("ascii"))
    return listing


def runpython_command(function: str, list_file: str) -> str:
    """The command the button's sub gives RunPython, evaluated from the .bas text."""
    sub = {"import_remittance": "PayorxlImportRemittance", "import_claims": "PayorxlImportClaims"}[function]
    body = re.search(rf"^Sub {sub}\(\)(.*?)^End Sub", BAS, re.S | re.M).group(1)
    prefix, suffix = re.search(r'^\s*RunPython "([^"]*)" & HexUtf16\(listFile\) & "([^"]*)"\s*$',
                               body, re.M).groups()
    return prefix + vba_hex_utf16(list_file) + suffix


def the_argument(command: str) -> str:
    """What Python receives: the command's one call, with one string literal."""
    call = ast.parse(command).body[-1].value
    assert isinstance(call, ast.Call) and len(call.args) == 1 and not call.keywords
    return call.args[0].value


# --- the command ----------------------------------------------------------------------------

WIN_LIST = r"C:\Users\Maximiliane.Oberndorfer-Schwarzenberg\AppData\Local\Temp" \
           r"\payorxl-paths-20260501-093015-123456.txt"
MAC_LIST = "/Users/maximiliane.oberndorfer/Library/Containers/com.microsoft.Excel/Data" \
           "/payorxl-paths-20260501-093015-123456.txt"


@pytest.mark.parametrize("function", ["import_remittance", "import_claims"])
def test_the_command_survives_xlwings_applescript_on_a_mac(function):
    command = runpython_command(function, MAC_LIST)
    # ExecuteMac: PYTHONPATH;|interpreter|command|workbook|application|log, one parameter ...
    fields = ["true;/Users/me/Practice.xlsm;/Users/me/Practice.xlsm;;;;;", "/usr/local/bin/python3", command,
              "Practice.xlsm", "/Applications/Microsoft Excel.app/Contents",
              "/Users/me/Library/Containers/com.microsoft.Excel/Data/xlwings.log"]
    parameter = "|".join(fields)
    # ... which VbaHandler splits on "|" (its SplitString) into exactly those six.
    applescript = next(XLWINGS.glob("xlwings-*.applescript")).read_text()
    assert 'SplitString(ParameterString, "|")' in applescript
    assert parameter.split("|") == fields
    # In `do shell script` the command sits inside "...": nothing there for sh to expand.
    assert not set(command) & set('"\\$`!|')
    assert the_argument(command).startswith("@")
    assert macros._unhex_utf16(the_argument(command)[1:]) == MAC_LIST


def windows_command_line(command: str) -> str:
    """ExecuteWindows's `cmd.exe /C ...` for `command`, with long real-world settings."""
    python = r"C:\Users\Maximiliane.Oberndorfer-Schwarzenberg\AppData\Local\Programs\Python\Python311\pythonw.exe"
    book = (r"C:\Users\Maximiliane.Oberndorfer-Schwarzenberg\OneDrive - Riverside Family Medicine"
            r"\Billing\Payors\2026\Riverside Family Medicine payor workbook.xlsm")
    pythonpath = ("true;" + book + ";" + book + ";;;;").replace("\\", "\\\\")
    run = (f'"{python}" -B -c "import xlwings.utils;xlwings.utils.prepare_sys_path(\\"{pythonpath}\\"); '
           f'{command}" ')
    drive = 'C: & cd "' + python.rsplit("\\", 1)[0] + '" & '
    log = r"C:\Users\Maximiliane.Oberndorfer-Schwarzenberg\AppData\Local\Temp" \
          r"\xlwings-6F9619FF-8B86-D011-B42D-00C04FC964FF.log"
    return ("cmd.exe /C " + drive + run + ' --wb="' + book.rsplit("\\", 1)[1] + '" --from_xl=1' +
            ' --app="C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" --hwnd="1234567"' +
            ' 2> "' + log + '" ')


def test_the_command_is_short_on_windows_however_many_files(tmp_path):
    command = runpython_command("import_remittance", WIN_LIST)
    line = windows_command_line(command)
    assert len(line) < CMD_LIMIT / 4                           # far under, and ...
    assert not set(command) & set('"%^&<>|')                   # ... nothing cmd.exe would read
    # 500 long paths: the list holds them, the command stays as it was.
    paths = [rf"C:\Users\Maximiliane.Oberndorfer-Schwarzenberg\OneDrive - Riverside Family Medicine"
             rf"\Billing\Remittances\2026\Availity ERA downloads\Medicare Part B\era {i:04d} 'weekly'.835"
             for i in range(500)]
    listing = vba_list_file(tmp_path, paths)
    assert macros.decode_paths("@" + vba_hex_utf16(str(listing))) == [Path(p) for p in paths]
    assert not listing.exists()
    assert len(runpython_command("import_remittance", WIN_LIST)) == len(command)
    # What the paths in the command itself (the older form) came to: past the limit.
    old = command.replace(the_argument(command), "|".join(vba_hex_utf16(p) for p in paths))
    assert len(windows_command_line(old)) > CMD_LIMIT * 10


# --- the list file ---------------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_awkward_paths_survive_the_list_and_the_list_is_removed(tmp_path, newline):
    listing = vba_list_file(tmp_path, AWKWARD, newline)
    argument = the_argument(runpython_command("import_claims", str(listing)))
    assert macros.decode_paths(argument) == [Path(p) for p in AWKWARD]
    assert list(tmp_path.iterdir()) == []


def test_encode_paths_writes_what_the_vba_writes(tmp_path):
    argument = macros.encode_paths(AWKWARD, tmp_path)
    (listing,) = tmp_path.iterdir()
    assert re.fullmatch(r"payorxl-paths-.*\.txt", listing.name)
    assert argument == "@" + vba_hex_utf16(str(listing))
    assert re.fullmatch(r"@[0-9A-F]+", argument)
    assert listing.read_bytes() == "".join(vba_hex_utf16(p) + "\r\n" for p in AWKWARD).encode("ascii")
    assert macros.decode_paths(argument) == [Path(p) for p in AWKWARD]
    assert not listing.exists()


def one_line_error(argument: str) -> str:
    with pytest.raises(PayorxlError) as raised:
        macros.decode_paths(argument)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    assert message.endswith("pick the files again")
    return message


def test_a_missing_list_is_one_line(tmp_path):
    missing = tmp_path / "payorxl-paths-gone.txt"
    message = one_line_error("@" + vba_hex_utf16(str(missing)))
    assert message == (f"the list of files picked in Excel ({missing}) could not be read: "
                       "No such file or directory; pick the files again")
    with pytest.raises(PayorxlError, match="could not be read"):
        macros.import_claims("@" + vba_hex_utf16(str(missing)), book=FileBook(tmp_path / "x.xlsm"))


def test_an_unreadable_or_garbled_list_is_one_line_and_removed(tmp_path):
    folder = tmp_path / "payorxl-paths-a-folder.txt"           # cannot be read as a file
    folder.mkdir()
    assert "could not be read" in one_line_error("@" + vba_hex_utf16(str(folder)))
    garbled = tmp_path / "payorxl-paths-garbled.txt"
    garbled.write_bytes(b"C:\\not hex.835\r\n")
    assert "could not be read" in one_line_error("@" + vba_hex_utf16(str(garbled)))
    assert not garbled.exists()
    not_utf16 = tmp_path / "payorxl-paths-half.txt"            # a lone surrogate
    not_utf16.write_bytes(b"D83D\r\n")
    one_line_error("@" + vba_hex_utf16(str(not_utf16)))
    assert "could not be read" in one_line_error("@ZZ")
    assert "could not be read" in one_line_error("@")


def test_only_a_list_the_buttons_name_is_deleted(tmp_path):
    """A list made by hand, named otherwise, is read and left where it is."""
    mine = tmp_path / "my files.txt"
    mine.write_text(vba_hex_utf16("/data/era.835") + "\n")
    assert macros.decode_paths("@" + vba_hex_utf16(str(mine))) == [Path("/data/era.835")]
    assert mine.exists()


def test_the_older_form_is_still_read():
    sent = "|".join(vba_hex_utf16(p) for p in AWKWARD)
    assert macros.decode_paths(sent) == [Path(p) for p in AWKWARD]
    assert macros.decode_paths("") == []
    with pytest.raises(PayorxlError, match="could not be read"):
        macros.decode_paths("ZZ")


# --- the VBA ----------------------------------------------------------------------------------

def test_the_vba_writes_the_list_as_plain_vba_on_windows_and_mac():
    """Open/Print #/Close (Mac VBA has no Scripting.FileSystemObject), in the temporary
    folder on Windows and in the sandbox's HOME on a Mac (as xlwings puts its log there),
    named as decode_paths deletes it, and removed again on Windows if Python did not run."""
    code = "\n".join(line.split("'")[0] for line in BAS.splitlines())   # without comments
    assert not re.search(r"CreateObject|FileSystemObject|ADODB|Declare ", code)
    assert re.search(r"Open listFile For Output As #f\s+For i = LBound\(chosen\) To UBound\(chosen\)\s+"
                     r"Print #f, HexUtf16\(CStr\(chosen\(i\)\)\)\s+Next i\s+Close #f", code)
    assert 'folder = Environ("TEMP")' in code and 'folder = Environ("HOME")' in code
    assert f'"{macros.LIST_PREFIX}"' in code and f'"{macros.LIST_SUFFIX}"' in code
    assert "Environ(\"HOME\") + \"/xlwings.log\"" in (XLWINGS / "xlwings.bas").read_text(encoding="utf-8")
    assert re.search(r"#If Not Mac Then\s+On Error Resume Next\s+If Dir\(listFile\) <> \"\" Then Kill listFile\s+"
                     r"#End If", code)
    for sub in ("PayorxlImportRemittance", "PayorxlImportClaims"):
        body = re.search(rf"^Sub {sub}\(\)(.*?)^End Sub", code, re.S | re.M).group(1)
        assert "RemoveList listFile" in body.split("RunPython")[1]
    assert "|" not in "".join(re.findall(r'RunPython "[^\n]*', code))
