"""Rewrite only payorxl's own sheets inside an .xlsx/.xlsm, leaving every other part alone.

A user's workbook holds things no Python library round-trips faithfully (VBA, form
buttons, x14 formatting, add-in bindings, cached values: see TOOLCHAIN.md "openpyxl round
trip"). So a recalculation does not load and save the workbook: it copies the zip part by
part and replaces only the ``<sheetData>`` (and ``<dimension>``) of the owned sheets,
keeping their column widths, views, drawings (charts) and relationships. Cells are
written as values — numbers and inline strings, never formulas — so no calcChain entry
or shared string changes, and no imported text can become a formula.

The styles the owned sheets need are looked up in ``xl/styles.xml`` by meaning (number
format, font, fill); only when one is missing is it appended, so a recalculation of a
workbook payorxl has already written leaves styles.xml byte-identical.

Writes are atomic: a temporary file beside the target, flushed and fsynced, then renamed
over it. A workbook that Excel has open (its ``~$`` lock file is present) is refused.
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import math
import os
import re
import stat
import struct
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from ..errors import PayorxlError

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Characters XML 1.0 forbids; imported text may carry them (X12, pasted data).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_CELL_TEXT = 32767


@dataclass(frozen=True)
class Style:
    """A cell style by meaning: number format code, bold, font size and colour, fill."""
    num_format: str = "General"
    bold: bool = False
    size: float = 11
    color: str | None = None   # font colour, RRGGBB
    fill: str | None = None    # solid fill, RRGGBB
    italic: bool = False
    align: str | None = None   # horizontal alignment: left, center, right
    wrap: bool = False         # wrap text (with vertical centring)


@dataclass(frozen=True)
class Cell:
    row: int          # 0-based
    col: int          # 0-based
    value: Any
    style: str = ""   # key into the styles dict given to the writer


def col_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _excel_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    if isinstance(value, dt.date):
        return float((value - EXCEL_EPOCH).days)
    if isinstance(value, (int, float)):
        return None if (isinstance(value, float) and (math.isnan(value) or math.isinf(value))) else value
    return None


def clean_text(value: Any) -> str:
    text = _ILLEGAL.sub("", str(value))
    return text[:MAX_CELL_TEXT]


def sheet_data_xml(cells: Iterable[Cell], xf: dict[str, int],
                   heights: dict[int, float] | None = None) -> tuple[str, str]:
    """<sheetData> for the cells (row heights in points by 0-based row), and the
    dimension ref."""
    heights = heights or {}
    rows: dict[int, list[Cell]] = {}
    for c in cells:
        if c.value is None or c.value == "":
            if not c.style:
                continue
        rows.setdefault(c.row, []).append(c)
    out = ["<sheetData>"]
    max_row = max_col = 0
    for r in heights:
        rows.setdefault(r, [])
    for r in sorted(rows):
        ht = f' ht="{heights[r]:g}" customHeight="1"' if r in heights else ""
        out.append(f'<row r="{r + 1}"{ht}>')
        for c in sorted(rows[r], key=lambda c: c.col):
            ref = f"{col_letter(c.col)}{r + 1}"
            s = f' s="{xf[c.style]}"' if c.style else ""
            v = c.value
            if hasattr(v, "to_pydatetime"):
                v = v.to_pydatetime()
            if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
                out.append(f'<c r="{ref}"{s}/>')
            elif isinstance(v, bool):
                out.append(f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>')
            elif (n := _excel_number(v)) is not None:
                out.append(f'<c r="{ref}"{s}><v>{repr(float(n)) if isinstance(n, float) else n}</v></c>')
            else:
                text = escape(clean_text(v))
                out.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
            max_col = max(max_col, c.col)
        out.append("</row>")
        max_row = max(max_row, r)
    out.append("</sheetData>")
    dim = f"A1:{col_letter(max_col)}{max_row + 1}" if rows else "A1"
    return "".join(out), dim


# --- workbook structure ---------------------------------------------------------------

def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip part path of its worksheet XML."""
    wb = SafeET.fromstring(zf.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("pr:Relationship", NS)}
    parts = {}
    for sheet in wb.findall("m:sheets/m:sheet", NS):
        target = targets.get(sheet.get(f"{{{NS['r']}}}id"), "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = str(PurePosixPath("xl") / target)
        parts[sheet.get("name")] = os.path.normpath(path).replace(os.sep, "/")
    return parts


_SHEETDATA = re.compile(r"<sheetData\s*/>|<sheetData(?:\s[^>]*)?>.*?</sheetData>", re.S)
_DIMENSION = re.compile(r'<dimension ref="[^"]*"\s*/>')
_MERGES = re.compile(r"<mergeCells[^>]*>.*?</mergeCells>|<mergeCells[^>]*/>", re.S)


def replace_sheet_data(sheet_xml: str, data_xml: str, dimension: str) -> str:
    if not _SHEETDATA.search(sheet_xml):
        raise PayorxlError("an owned sheet has no <sheetData>; rebuild it with 'payorxl new'")
    xml = _SHEETDATA.sub(lambda _m: data_xml, sheet_xml, count=1)
    xml = _DIMENSION.sub(f'<dimension ref="{dimension}"/>', xml, count=1)
    return _MERGES.sub("", xml)


# --- styles ---------------------------------------------------------------------------

_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4,
                    "0%": 9, "0.00%": 10, "mm-dd-yy": 14}


def _font_xml(s: Style) -> str:
    parts = []
    if s.bold:
        parts.append("<b/>")
    if s.italic:
        parts.append("<i/>")
    parts.append(f'<sz val="{s.size:g}"/>')
    parts.append(f'<color rgb="FF{s.color}"/>' if s.color else '<color theme="1"/>')
    parts.append('<name val="Calibri"/><family val="2"/><scheme val="minor"/>')
    return "<font>" + "".join(parts) + "</font>"


def _fill_xml(s: Style) -> str:
    return (f'<fill><patternFill patternType="solid"><fgColor rgb="FF{s.fill}"/>'
            f'<bgColor indexed="64"/></patternFill></fill>')


def _font_matches(font, s: Style) -> bool:
    def has(tag):
        return font.find(f"m:{tag}", NS) is not None
    size = font.find("m:sz", NS)
    color = font.find("m:color", NS)
    rgb = (color.get("rgb") or "").upper()[-6:] if color is not None else ""
    return (has("b") == s.bold and has("i") == s.italic
            and size is not None and float(size.get("val")) == float(s.size)
            and (rgb == (s.color or "").upper() if s.color else (color is None or not color.get("rgb")))
            and not has("u") and not has("strike"))


def _fill_matches(fill, s: Style) -> bool:
    pattern = fill.find("m:patternFill", NS)
    if pattern is None:
        return False
    if s.fill is None:
        return pattern.get("patternType") in (None, "none")
    fg = pattern.find("m:fgColor", NS)
    return (pattern.get("patternType") == "solid" and fg is not None
            and (fg.get("rgb") or "").upper()[-6:] == s.fill.upper())


def _alignment_xml(s: Style) -> str:
    if not (s.align or s.wrap):
        return ""
    attrs = (f' horizontal="{s.align}"' if s.align else "") + (' vertical="center" wrapText="1"' if s.wrap else "")
    return f"<alignment{attrs}/>"


def _alignment_matches(alignment, s: Style) -> bool:
    if alignment is None:
        return not (s.align or s.wrap)
    return (alignment.get("horizontal") == s.align
            and (alignment.get("wrapText") in ("1", "true")) == s.wrap
            and (alignment.get("vertical") == "center") == s.wrap
            and set(alignment.keys()) <= {"horizontal", "vertical", "wrapText"})


def ensure_styles(styles_xml: str, styles: dict[str, Style]) -> tuple[str, dict[str, int]]:
    """Find (or append) a cellXfs entry for each style. Returns the possibly changed
    styles.xml text and name -> xf index. Unchanged text when all were found."""
    root = SafeET.fromstring(styles_xml)
    numfmts = {n.get("formatCode"): int(n.get("numFmtId")) for n in root.findall("m:numFmts/m:numFmt", NS)}
    fonts = root.findall("m:fonts/m:font", NS)
    fills = root.findall("m:fills/m:fill", NS)
    xfs = root.findall("m:cellXfs/m:xf", NS)
    add_numfmts, add_fonts, add_fills, add_xfs = [], [], [], []
    next_fmt = max([163] + list(numfmts.values())) + 1
    result = {}
    for name, s in styles.items():
        fmt_id = _BUILTIN_FORMATS.get(s.num_format, numfmts.get(s.num_format))
        if fmt_id is None:
            fmt_id = next_fmt
            next_fmt += 1
            numfmts[s.num_format] = fmt_id
            add_numfmts.append(f'<numFmt numFmtId="{fmt_id}" formatCode="{escape(s.num_format, {chr(34): "&quot;"})}"/>')
        font_id = next((i for i, f in enumerate(fonts) if _font_matches(f, s)), None)
        if font_id is None:
            font_id = len(fonts)
            add_fonts.append(_font_xml(s))
            fonts = list(fonts) + [SafeET.fromstring(
                _font_xml(s).replace("<font>", f'<font xmlns="{NS["m"]}">'))]
        fill_id = 0 if s.fill is None else next((i for i, f in enumerate(fills) if _fill_matches(f, s)), None)
        if fill_id is None:
            fill_id = len(fills)
            add_fills.append(_fill_xml(s))
            fills = list(fills) + [SafeET.fromstring(_fill_xml(s).replace("<fill>", f'<fill xmlns="{NS["m"]}">'))]
        xf_id = next((i for i, x in enumerate(xfs)
                      if int(x.get("numFmtId", 0)) == fmt_id and int(x.get("fontId", 0)) == font_id
                      and int(x.get("fillId", 0)) == fill_id and int(x.get("borderId", 0)) == 0
                      and _alignment_matches(x.find("m:alignment", NS), s)), None)
        if xf_id is None:
            xf_id = len(xfs)
            align = _alignment_xml(s)
            applied = "".join(f' apply{what}="1"' for what, used in
                              (("NumberFormat", fmt_id), ("Font", font_id), ("Fill", fill_id),
                               ("Alignment", align)) if used)
            xml = (f'<xf numFmtId="{fmt_id}" fontId="{font_id}" fillId="{fill_id}" borderId="0" '
                   f'xfId="0"{applied}' + (f">{align}</xf>" if align else "/>"))
            add_xfs.append(xml)
            xfs = list(xfs) + [SafeET.fromstring(xml.replace("<xf ", f'<xf xmlns="{NS["m"]}" '))]
        result[name] = xf_id
    if not (add_numfmts or add_fonts or add_fills or add_xfs):
        return styles_xml, result
    xml = styles_xml
    xml = _append(xml, "numFmts", add_numfmts, before=("<fonts",))
    xml = _append(xml, "fonts", add_fonts)
    xml = _append(xml, "fills", add_fills)
    xml = _append(xml, "cellXfs", add_xfs)
    return xml, result


def _append(xml: str, tag: str, items: list[str], before: tuple[str, ...] = ()) -> str:
    if not items:
        return xml
    block = re.search(rf"<{tag}(\s[^>]*)?>(.*?)</{tag}>", xml, re.S)
    if block is None:
        empty = re.search(rf"<{tag}(\s[^>]*)?/>", xml)
        if empty is not None:
            xml = xml[:empty.start()] + f"<{tag}>" + f"</{tag}>" + xml[empty.end():]
        else:
            anchor = min((xml.find(b) for b in before if xml.find(b) >= 0), default=-1)
            if anchor < 0:
                raise PayorxlError(f"styles.xml has no <{tag}>; the workbook looks damaged")
            xml = xml[:anchor] + f"<{tag}></{tag}>" + xml[anchor:]
        block = re.search(rf"<{tag}(\s[^>]*)?>(.*?)</{tag}>", xml, re.S)
    count = len(re.findall(rf"<{tag[:-1] if tag != 'cellXfs' else 'xf'}[\s>/]", block.group(2)))
    inner = block.group(2) + "".join(items)
    attrs = re.sub(r'\s?count="\d+"', "", block.group(1) or "")
    new = f'<{tag} count="{count + len(items)}"{attrs}>{inner}</{tag}>'
    return xml[:block.start()] + new + xml[block.end():]


# --- the atomic rewrite ---------------------------------------------------------------

def lock_file(path: Path) -> Path:
    return path.with_name("~$" + path.name)


def refuse_if_open(path: Path) -> None:
    lock = lock_file(path)
    if lock.exists():
        raise PayorxlError(f"{path.name} is open in Excel (lock file {lock.name} is present); "
                           "close it in Excel, or write elsewhere with --output")


TEMP_PREFIX = ".~payorxl-"
# A temp file is TEMP_PREFIX + the writer's PID + "-" + mkstemp's 8 random characters +
# the workbook's suffix; before the PID was in the name: TEMP_PREFIX + the 8 characters.
_TEMP_NAME = re.compile(r"\.~payorxl-(?:([0-9]{1,10})-)?[a-z0-9_]{8}(?i:\.xls[xm])")
STALE_GRACE = 10 * 60          # seconds: a dead writer's temp file is kept this long
STALE_ALWAYS = 24 * 60 * 60    # seconds: any temp file this old is stale, writer or not
log = logging.getLogger(__name__)


def temp_prefix() -> str:
    """The prefix of this process's temp files: the PID lets a later run tell a leftover."""
    return f"{TEMP_PREFIX}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    """Whether `pid` may be a running process on this machine; unknown counts as alive.
    On Windows os.kill(pid, 0) is not a probe (0 is CTRL_C_EVENT there: it would send
    Ctrl+C), so there the answer is always 'maybe' and only the 24-hour rule applies."""
    if os.name == "nt" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):   # PermissionError: alive, another user's
        return True
    return True


def sweep_stale_temps(folder: Path, now: float | None = None) -> list[Path]:
    """Remove payorxl temp files left in `folder` by a writer that was killed (SIGKILL,
    power loss) before it could rename or delete them: they can be as large as the
    workbook and hold the same patient data, and nothing else would ever remove them.

    A file is removed only if its name is exactly a payorxl temp name, it is a regular
    file (symlinks, folders are left alone, never followed), and either its writer's PID
    is not running here and it is older than STALE_GRACE (the grace covers a writer on
    another machine sharing the folder), or it is older than STALE_ALWAYS whatever its
    PID (old-style names without a PID go only by this rule). A removal that fails (no
    permission, already gone) is skipped: the sweep never makes a write fail. Returns the
    files removed; only their names are logged (never the folder, which may name a
    patient or practice)."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if not match:
            continue
        try:
            st = os.lstat(entry.path)
            if not stat.S_ISREG(st.st_mode):
                continue
            age = now - st.st_mtime
            pid = match.group(1)
            if age > STALE_ALWAYS or (pid is not None and age > STALE_GRACE and not _pid_alive(int(pid))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
                log.info("removed stale temporary file %s", entry.name)
        except OSError:
            continue
    return removed


def _write_temp(target: Path, write) -> str:
    """Call write(fileobj) on a temp file beside `target`, flushed and fsynced. Stale
    temp files of killed writers in that folder are removed first (sweep_stale_temps)."""
    sweep_stale_temps(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=target.suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _commit(tmp: str, target: Path) -> None:
    """Rename the finished temp file over `target` and make the rename durable."""
    try:
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise
    try:
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write_bytes(target: Path, write) -> None:
    """Call write(fileobj) on a temp file beside `target`, fsync, then rename over it."""
    target = Path(target)
    with _os_errors(target):
        _commit(_write_temp(target, write), target)


class _os_errors:
    """Turn a failed write (disk full, read-only folder, no permission) into a message
    that says the workbook was left as it was."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if isinstance(error, OSError):
            raise PayorxlError(f"could not write {self.target.name} in {self.target.parent}: "
                               f"{error.strerror or error}; the workbook was not changed. Free some "
                               "space or choose a writable folder (--output)") from None
        return False


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_DATA_DESCRIPTOR = 0x08


def _copy_raw(zin: zipfile.ZipFile, zout: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Copy one member's compressed bytes unchanged (no inflate, no deflate): most of a
    large workbook is the user's own sheets, and recompressing them is most of the cost
    of a write. The CRC and sizes travel with it, so readers still verify the data."""
    zin.fp.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(zin.fp.read(_LOCAL_HEADER.size))
    if header[0] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    zin.fp.seek(info.header_offset + _LOCAL_HEADER.size + header[10] + header[11])
    out = copy.copy(info)
    out.flag_bits &= ~_DATA_DESCRIPTOR      # sizes go in the local header instead
    out.extra = b""                          # FileHeader() writes a zip64 extra if needed
    out.header_offset = zout.fp.tell()
    zout.fp.write(out.FileHeader(zip64=out.file_size > zipfile.ZIP64_LIMIT
                                 or out.compress_size > zipfile.ZIP64_LIMIT))
    remaining = info.compress_size
    while remaining:
        chunk = zin.fp.read(min(remaining, 1 << 20))
        if not chunk:
            raise zipfile.BadZipFile(f"{info.filename} is truncated")
        zout.fp.write(chunk)
        remaining -= len(chunk)
    zout.filelist.append(out)
    zout.NameToInfo[out.filename] = out
    zout.start_dir = zout.fp.tell()
    zout._didModify = True


def file_state(path: Path) -> tuple:
    """What identifies this version of a file: inode, size and modification time."""
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def rewrite_parts(src: Path, dst: Path, replace: dict[str, bytes], expect: tuple | None = None) -> None:
    """Copy the zip `src` to `dst` atomically, with the named parts' contents replaced.
    Every other part keeps its name, order, compression and compressed bytes. The
    source is closed before the rename (Windows cannot replace an open file)."""
    dst = Path(dst)
    with zipfile.ZipFile(src) as zin:
        def write(f):
            with zipfile.ZipFile(f, "w") as zout:
                for info in zin.infolist():
                    data = replace.get(info.filename)
                    if data is None:
                        _copy_raw(zin, zout, info)
                    else:
                        zout.writestr(info, data, compress_type=info.compress_type)
        with _os_errors(dst):
            tmp = _write_temp(dst, write)
    if expect is not None and file_state(src) != expect:
        _unlink(tmp)
        raise PayorxlError(f"{Path(src).name} changed while payorxl was reading it (saved by "
                           "someone else?); nothing was written. Run the command again")
    with _os_errors(dst):
        _commit(tmp, dst)


def write_owned_sheets(src: str | Path, sheets: dict[str, list[Cell]], styles: dict[str, Style],
                       dst: str | Path | None = None,
                       heights: dict[str, dict[int, float]] | None = None,
                       expect: tuple | None = None) -> list[str]:
    """Replace the cells of the named sheets (which must exist) and write the workbook to
    `dst` (default: in place); `heights`: row heights by sheet. Returns the zip parts
    that changed. `expect`: file_state(src) when its inputs were read; if the file
    has changed since, nothing is written."""
    src = Path(src)
    dst = Path(dst) if dst else src
    refuse_if_open(dst)
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as e:
        raise PayorxlError(f"{src.name} is not a readable .xlsx/.xlsm workbook ({e})") from None
    with zf:
        try:
            parts = sheet_parts(zf)
        except Exception as e:  # defusedxml refuses DTDs and entities; damaged XML
            raise PayorxlError(f"{src.name}: the workbook's structure could not be read "
                               f"({type(e).__name__}); it was not changed") from None
        missing = [s for s in sheets if s not in parts]
        if missing:
            raise PayorxlError(f"{src.name} has no sheet named {', '.join(missing)}; "
                               "add it or start from the template ('payorxl new')")
        styles_xml = zf.read("xl/styles.xml").decode("utf-8")
        new_styles, xf = ensure_styles(styles_xml, styles)
        replace: dict[str, bytes] = {}
        if new_styles != styles_xml:
            replace["xl/styles.xml"] = new_styles.encode("utf-8")
        for name, cells in sheets.items():
            part = parts[name]
            old = zf.read(part).decode("utf-8")
            data, dim = sheet_data_xml(cells, xf, (heights or {}).get(name))
            new = replace_sheet_data(old, data, dim)
            if new != old:
                replace[part] = new.encode("utf-8")
    rewrite_parts(src, dst, replace, expect)
    return sorted(replace)
