"""Append rows to a table inside a workbook, touching only the XML that must change.

An import adds rows to the user's own tables (Claims, Payments) and to payorxl's
ImportLog. Loading and saving the workbook with a library would rewrite parts the user
cares about (TOOLCHAIN.md, "openpyxl round trip"), so this module edits the zip's XML
text directly, as xlsxpart.py does for the owned sheets:

- the sheet's ``<sheetData>`` gets new ``<row>`` elements (existing rows before them are
  kept byte for byte); text is always an inline string, never a formula, so an imported
  payer name such as ``=HYPERLINK(...)`` stays text; numbers are numbers and dates are
  date serials, each in the column's existing cell style (the last data row's, else the
  column's ``<col style>``, else the table column's number format), so dates show as
  dates and money as money;
- each calculated column gets its ``<calculatedColumnFormula>`` as the cell's ``<f>``,
  with no cached value, and ``xl/workbook.xml`` gets ``fullCalcOnLoad="1"`` so Excel
  and LibreOffice recompute on opening;
- the table's ``ref`` (and its autoFilter's) and the sheet's ``<dimension>`` grow to
  cover the new rows. Blank rows at the end of a table (the template's single empty
  row) are filled before the table grows.

A plain sheet with headers in row 1 and no table (ImportLog) is appended to the same
way, after its last used row. `WorkbookEditor` holds the changed parts and writes the
workbook once through package.py (atomic, every other part copied raw, refused if the
file changed since it was read).

A sheet is never held whole: appending reads it once as a stream (`_sheet_events`),
keeping only its head (``<cols>``, ``<dimension>``), the table's last rows (blank rows to
fill, styles to copy) and any rows below the table; the new sheet is streamed again from
the old one into the zip as the workbook is written. So an import's memory grows with
the rows it appends, not with the size of Claims or Payments.

`is_payorxl_sheet` tells payorxl's own sheets (A2 "… recalculated by payorxl", or a
title payorxl writes in A1, or empty) from a user's sheet that has one of their names;
`refuse_user_sheets` stops a recalculation before it would overwrite the user's data.
"""
from __future__ import annotations

import codecs
import datetime as dt
import itertools
import math
import os
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import escape, unescape

from defusedxml import ElementTree as SafeET

from ..codec import datetime_to_serial
from ..errors import PayorxlError
from .package import write_package
from .xlsxpart import NS, Style, clean_text, col_letter, ensure_styles, sheet_parts, with_full_calc_on_load

REL_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
REL_SHARED_STRINGS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
FMT_DATE = "mm/dd/yyyy"
MAX_ROWS = 1048576
# Number formats Excel knows by id without declaring them (ECMA-376 18.8.30); the date
# and time ones are what make a serial number show as a date.
_BUILTIN_CODES = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
                  11: "0.00E+00", 12: "# ?/?", 13: "# ??/??", 14: "mm-dd-yy", 15: "d-mmm-yy",
                  16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm",
                  21: "h:mm:ss", 22: "m/d/yy h:mm", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)",
                  39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss",
                  46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@"}
_DATE_IDS = set(range(14, 23)) | {27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47} | set(range(50, 59))

_SHEETDATA_OPEN = re.compile(r"<sheetData\b[^>]*?(/?)>")
_ROW_START = re.compile(r"<row\b([^>]*?)(/?)>")
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_DIMENSION = re.compile(r'<dimension ref="([^"]*)"\s*/>')


def col_index(letters: str) -> int:
    """'A' -> 0, 'Z' -> 25, 'AA' -> 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def parse_ref(ref: str) -> tuple[int, int, int, int]:
    """'A1:R42' -> (first col, first row, last col, last row): columns 0-based, rows 1-based."""
    parts = ref.split(":")
    cells = []
    for p in (parts[0], parts[-1]):
        found = _REF.match(p.strip())
        if not found:
            raise PayorxlError(f"cannot read the range {ref!r} in the workbook; open it in Excel and save it again")
        cells.append((col_index(found.group(1)), int(found.group(2))))
    (c1, r1), (c2, r2) = cells
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def format_ref(c1: int, r1: int, c2: int, r2: int) -> str:
    return f"{col_letter(c1)}{r1}:{col_letter(c2)}{r2}"


def is_date_format(code: str) -> bool:
    """Whether an Excel number format shows a serial number as a date or time."""
    plain = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", code or "")
    return bool(re.search(r"[dmyhs]", plain, re.I)) and plain.strip().lower() != "general"


CHUNK_CHARS = 4 << 20   # a sheet is streamed in pieces of this many characters


def _decoded(pieces: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 bytes pieces as text pieces (a character may straddle two pieces)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for piece in pieces:
        text = decoder.decode(piece)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _encoded(pieces: Iterable[str]) -> Iterator[bytes]:
    for piece in pieces:
        if piece:
            yield piece.encode("utf-8")


class WorkbookEditor:
    """The parts of one workbook zip, read on demand, changed in memory, written once.

    `read(name)` gives a part's text (as changed so far); `write(name, text)` changes or
    adds it; `write_stream(name, produce)` changes it to what `produce()` yields (bytes
    pieces, made while the workbook is written: a large sheet is never held whole);
    `chunks(name)` gives the text as changed so far in pieces; `save(dst)` writes the
    workbook atomically with only the parts whose bytes differ replaced (and any new
    ones added at the end). Use it as a context manager.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as e:
            raise PayorxlError(f"{self.path.name} is not a readable .xlsx/.xlsm workbook ({e})") from None
        self.names = [i.filename for i in self.zip.infolist()]
        self._texts: dict[str, str] = {}
        self._streams: dict[str, Callable[[], Iterable[bytes]]] = {}
        self._written: list[str] = []
        self._removed: set[str] = set()
        self._sheets: dict[str, str] | None = None
        self._styles_parsed = None

    def __enter__(self) -> WorkbookEditor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    def has(self, name: str) -> bool:
        return name not in self._removed and (name in self._texts or name in self._streams or name in self.names)

    def read(self, name: str) -> str:
        if name in self._streams:          # a streamed change read whole: made once, kept
            self._texts[name] = "".join(_decoded(self._streams.pop(name)()))
        if name not in self._texts:
            try:
                self._texts[name] = self.zip.read(name).decode("utf-8")
            except KeyError:
                raise PayorxlError(f"{self.path.name} has no part {name}; the workbook looks damaged") from None
        return self._texts[name]

    def source(self, name: str) -> Callable[[], Iterator[str]]:
        """A function giving the part's text as changed so far, in pieces, each time it
        is called (a streamed change is made again: nothing is held whole)."""
        if name in self._streams:
            produce = self._streams[name]
            return lambda: _decoded(produce())
        if name in self._texts:
            text = self._texts[name]
            return lambda: iter([text[i:i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""])
        if name not in self.names:
            raise PayorxlError(f"{self.path.name} has no part {name}; the workbook looks damaged")

        def member() -> Iterator[str]:
            with self.zip.open(name) as f:
                yield from _decoded(iter(lambda: f.read(CHUNK_CHARS), b""))
        return member

    def chunks(self, name: str) -> Iterator[str]:
        return self.source(name)()

    def write(self, name: str, text: str) -> None:
        self._removed.discard(name)
        self._texts[name] = text
        self._streams.pop(name, None)
        if name not in self._written:
            self._written.append(name)

    def remove(self, name: str) -> None:
        """Leave the part out of the workbook written (the caller drops its relationship
        and content type)."""
        self._removed.add(name)
        self._texts.pop(name, None)
        self._streams.pop(name, None)
        if name in self._written:
            self._written.remove(name)

    def write_stream(self, name: str, produce: Callable[[], Iterable[bytes]]) -> None:
        """Change the part to what produce() yields, made while the workbook is written."""
        self._removed.discard(name)
        self._streams[name] = produce
        self._texts.pop(name, None)
        if name not in self._written:
            self._written.append(name)

    def sheets(self) -> dict[str, str]:
        """Sheet name -> worksheet part."""
        if self._sheets is None:
            self._sheets = sheet_parts(self.zip)
        return self._sheets

    def changes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(replaced parts whose bytes differ, added parts): bytes, or for a streamed
        change the function that makes its bytes (package.write_package takes both)."""
        replaced: dict[str, Any] = {}
        added: dict[str, Any] = {}
        for name in self._written:
            if name in self._streams:      # streamed: changed (rows were appended); made on writing
                (replaced if name in self.names else added)[name] = self._streams[name]
                continue
            data = self._texts[name].encode("utf-8")
            if name in self.names:
                if data != self.zip.read(name):
                    replaced[name] = data
            else:
                added[name] = data
        return replaced, added

    def save(self, dst: str | Path | None = None, expect: tuple | None = None) -> list[str]:
        """Write the workbook (to `dst`, default in place) atomically with the changes,
        and close the editor; returns the names of the parts that changed or were added.
        Written by package.write_package: every other part is copied raw (its compressed
        bytes, name, order and compression unchanged), changed parts are rewritten in
        place and new ones appended. `expect`: file_state(path) taken before the caller
        read the workbook; if it has changed since (saved by someone else), nothing is
        written and PayorxlError says so. Nothing is written when nothing changed."""
        dst = Path(dst) if dst else self.path
        replaced, added = self.changes()
        removed = self._removed & set(self.names)
        if not replaced and not added and not removed and dst == self.path:
            self.close()
            return []
        write_package(self.zip, dst, replaced, added, expect, removed)   # closes self.zip before the rename
        return sorted(replaced) + list(added) + sorted(removed)

    # --- styles ---------------------------------------------------------------------

    def style_index(self, style: Style) -> int:
        """The cellXfs index of a style (appended to styles.xml when missing)."""
        xml = self.read("xl/styles.xml")
        new, xf = ensure_styles(xml, {"s": style})
        if new != xml:
            self.write("xl/styles.xml", new)
        return xf["s"]

    def _styles(self):
        """styles.xml parsed, once per version of its text (it can be large)."""
        xml = self.read("xl/styles.xml")
        if self._styles_parsed is None or self._styles_parsed[0] is not xml:
            self._styles_parsed = (xml, SafeET.fromstring(xml))
        return self._styles_parsed[1]

    def xf_format(self, xf: int) -> str:
        """The number format code of cellXfs entry `xf`."""
        root = self._styles()
        xfs = root.findall("m:cellXfs/m:xf", NS)
        if not 0 <= xf < len(xfs):
            return "General"
        fmt_id = int(xfs[xf].get("numFmtId", 0))
        for n in root.findall("m:numFmts/m:numFmt", NS):
            if int(n.get("numFmtId")) == fmt_id:
                return n.get("formatCode")
        return _BUILTIN_CODES.get(fmt_id, "mm-dd-yy" if fmt_id in _DATE_IDS else "General")

    def dxf_format(self, dxf: int) -> str | None:
        root = self._styles()
        dxfs = root.findall("m:dxfs/m:dxf", NS)
        if not 0 <= dxf < len(dxfs):
            return None
        fmt = dxfs[dxf].find("m:numFmt", NS)
        return None if fmt is None else fmt.get("formatCode")

    def shared_strings(self) -> list[str]:
        rels = SafeET.fromstring(self.read("xl/_rels/workbook.xml.rels"))
        target = next((r.get("Target") for r in rels.findall("pr:Relationship", NS)
                       if r.get("Type") == REL_SHARED_STRINGS), None)
        if target is None:
            return []
        part = _resolve("xl/workbook.xml", target)
        root = SafeET.fromstring(self.read(part))
        return ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
                for si in root.findall("m:si", NS)]


def _resolve(source_part: str, target: str) -> str:
    """A relationship target, relative to the part that holds it, as a zip part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    path = PurePosixPath(source_part).parent / target
    return os.path.normpath(str(path)).replace(os.sep, "/")


def _rels_part(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


# --- where rows go -------------------------------------------------------------------

@dataclass
class Target:
    """A table (or a plain sheet with headers in row 1) that rows are appended to.

    columns: header names, left to right, from first_col; formulas: column offset ->
    (calculated column formula, is an array formula); formats: column offset -> the
    number format of the table column's own format (dxf); end_row: the table's last row
    (for a plain sheet, the last row used in its columns)."""
    name: str
    sheet: str
    sheet_part: str
    first_col: int
    header_row: int
    end_row: int
    columns: list[str]
    formulas: dict[int, tuple[str, bool]] = field(default_factory=dict)
    formats: dict[int, str] = field(default_factory=dict)
    table_part: str | None = None

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.columns) - 1


def find_table(editor: WorkbookEditor, name: str) -> Target | None:
    """The Excel table (ListObject) called `name` (its own sheet is looked at first)."""
    sheets = editor.sheets()
    order = sorted(sheets, key=lambda s: s.lower() != name.lower())
    for sheet in order:
        part = sheets[sheet]
        rels_part = _rels_part(part)
        if not editor.has(rels_part):
            continue
        rels = SafeET.fromstring(editor.read(rels_part))
        for rel in rels.findall("pr:Relationship", NS):
            if rel.get("Type") != REL_TABLE:
                continue
            table_part = _resolve(part, rel.get("Target"))
            root = SafeET.fromstring(editor.read(table_part))
            if name.lower() not in ((root.get("name") or "").lower(), (root.get("displayName") or "").lower()):
                continue
            if int(root.get("totalsRowCount", "0") or 0):
                raise PayorxlError(f"the {name} table has a totals row; turn it off (Table Design > "
                                   "Total Row) so rows can be added below the data, then import again")
            if root.get("headerRowCount", "1") == "0":
                raise PayorxlError(f"the {name} table has no header row; turn it on (Table Design > "
                                   "Header Row) so payorxl can find its columns")
            c1, r1, c2, r2 = parse_ref(root.get("ref"))
            columns, formulas, formats = [], {}, {}
            for j, tc in enumerate(root.findall("m:tableColumns/m:tableColumn", NS)):
                columns.append(tc.get("name") or "")
                f = tc.find("m:calculatedColumnFormula", NS)
                if f is not None and (f.text or "").strip():
                    formulas[j] = (f.text.strip(), f.get("array") in ("1", "true"))
                if tc.get("dataDxfId") is not None:
                    code = editor.dxf_format(int(tc.get("dataDxfId")))
                    if code:
                        formats[j] = code
            if len(columns) != c2 - c1 + 1:
                raise PayorxlError(f"the {name} table's columns do not match its range {root.get('ref')}; "
                                   "open the workbook in Excel and save it again")
            return Target(name, sheet, part, c1, r1, r2, columns, formulas, formats, table_part)
    return None


def find_sheet_table(editor: WorkbookEditor, sheet: str) -> Target | None:
    """A plain sheet used as a table: headers in row 1 from the first non-blank cell, the
    used rows below them (the sheet is streamed, never held whole)."""
    part = editor.sheets().get(sheet)
    if part is None:
        return None
    first = last_col = None
    columns: list[str] = []
    end = 1
    for kind, item in _sheet_events(editor.chunks(part)):
        if kind != "row":
            continue
        if item.number == 1 and first is None:
            strings = None
            texts: dict[int, str] = {}
            for c in item.cells():
                text = c.text()
                if text is None and c.attrs.get("t") == "s":
                    if strings is None:
                        strings = editor.shared_strings()
                    index = int(c.value_text() or -1)
                    text = strings[index] if 0 <= index < len(strings) else ""
                if text:
                    texts[c.col] = text
            if not texts:
                return None
            first = min(texts)
            columns = [texts.get(col, "") for col in range(first, max(texts) + 1)]
            last_col = first + len(columns) - 1
        elif item.number > 1 and first is not None and item.number > end:
            if any(not c.blank for c in item.cells() if first <= c.col <= last_col):
                end = item.number
    if first is None:
        return None
    return Target(sheet, sheet, part, first, 1, end, columns)


# --- rows and cells as text ----------------------------------------------------------

@dataclass
class _Cell:
    col: int
    attrs: dict
    inner: str | None
    xml: str

    @property
    def blank(self) -> bool:
        if not self.inner:
            return True
        return not re.search(r"<v>[^<]|<is>|<f[\s>]", self.inner)

    def value_text(self) -> str | None:
        found = re.search(r"<v>([^<]*)</v>", self.inner or "")
        return found.group(1) if found else None

    def text(self) -> str | None:
        """Inline or formula-string text of the cell (None for a shared string)."""
        t = self.attrs.get("t")
        if t == "inlineStr":
            return "".join(_unescape(x) for x in re.findall(r"<t[^>]*>([^<]*)</t>", self.inner or ""))
        if t == "str":
            return _unescape(self.value_text() or "")
        return None


def _unescape(text: str) -> str:
    return unescape(text, {"&quot;": '"', "&apos;": "'"})


@dataclass
class _Row:
    number: int
    attrs: str         # the attributes of <row ...> as written
    xml: str           # from <row to the next row (or to </sheetData>)

    def cells(self) -> list[_Cell]:
        out = []
        body_start = self.xml.find(">") + 1
        if self.xml[body_start - 2] == "/":
            return out
        for found in _CELL.finditer(self.xml, body_start):
            attrs = dict(_ATTR.findall(found.group(1)))
            ref = _REF.match(attrs.get("r", ""))
            if not ref:
                raise PayorxlError("a cell in the workbook has no address (r attribute); "
                                   "open the workbook in Excel and save it again")
            out.append(_Cell(col_index(ref.group(1)), attrs, found.group(2), found.group(0)))
        return out


_SHEETDATA_CLOSE = "</sheetData>"


def _sheet_events(chunks: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """A worksheet's XML, given in pieces, as events, holding one piece at a time:
    ("head", text before <sheetData>), then either ("empty", the <sheetData/> tag) or
    ("open", the <sheetData ...> tag), ("gap", text before the first row) and one ("row",
    _Row) per row (its text runs to the next row or to </sheetData>, as _rows cuts it);
    then ("tail", text) pieces from </sheetData> (or after <sheetData/>) to the end.
    Joined back in order, the events are the XML unchanged."""
    it = iter(chunks)
    buf = ""
    done = False

    def more() -> bool:
        nonlocal buf, done
        for piece in it:
            if piece:
                buf += piece
                return True
        done = True
        return False

    while True:
        found = _SHEETDATA_OPEN.search(buf)
        if found is not None:
            break
        if not more():
            raise PayorxlError("a sheet has no <sheetData>; open the workbook in Excel and save it again")
    yield "head", buf[:found.start()]
    if found.group(1) == "/":
        yield "empty", found.group(0)
        if found.end() < len(buf):
            yield "tail", buf[found.end():]
        for piece in it:
            yield "tail", piece
        return
    yield "open", found.group(0)
    buf = buf[found.end():]
    start = 0            # where the item in hand (the gap, then the current row) starts in buf
    row = None           # the current row's (number, attributes), once one has started
    search = 0
    while True:
        safe = len(buf) if done else buf.rfind("<")   # a tag at or after `safe` may be cut off
        close = buf.find(_SHEETDATA_CLOSE, search)
        if close >= 0 and not done and close >= safe:
            close = -1
        limit = close if close >= 0 else max(safe, search)
        while True:
            nxt = _ROW_START.search(buf, search, limit)
            if nxt is None:
                break
            if row is None:
                yield "gap", buf[start:nxt.start()]
            else:
                yield "row", _Row(row[0], row[1], buf[start:nxt.start()])
            number = re.search(r'\br="(\d+)"', nxt.group(1))
            if number is None:
                raise PayorxlError("a row in the workbook has no number (r attribute); "
                                   "open the workbook in Excel and save it again")
            row = (int(number.group(1)), nxt.group(1))
            start, search = nxt.start(), nxt.end()
        if close >= 0:
            if row is None:
                yield "gap", buf[start:close]
            else:
                yield "row", _Row(row[0], row[1], buf[start:close])
            yield "tail", buf[close:]
            for piece in it:
                yield "tail", piece
            return
        if done:
            raise PayorxlError("a sheet's <sheetData> is not closed; the workbook looks damaged")
        search = max(search, limit)      # every row start before `limit` has been seen
        buf, search = buf[start:], max(search - start, 0)
        start = 0
        more()


def _number_text(value) -> str | None:
    if isinstance(value, Decimal):
        return None if not value.is_finite() else format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else repr(value)
    return None


def _serial(value) -> float | int | None:
    return datetime_to_serial(value) if isinstance(value, dt.date) else None


def _plain(value: Any) -> Any:
    """pandas and numpy scalars to plain Python values; every kind of blank to None."""
    if value is None:
        return None
    try:
        if value != value:                     # NaN and NaT compare unequal; pd.NA raises
            return None
    except TypeError:
        return None
    if hasattr(value, "to_pydatetime"):        # pandas Timestamp
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()                    # numpy scalars
    return value


def cell_xml(ref: str, value: Any, style: int | None) -> str | None:
    """One cell: a number, a date serial, TRUE/FALSE, or an inline string (never a
    formula, whatever the text); None when blank and unstyled."""
    s = f' s="{style}"' if style else ""
    value = _plain(value)
    if value is None or (isinstance(value, str) and value == ""):
        return f'<c r="{ref}"{s}/>' if s else None
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    serial = _serial(value)
    if serial is not None:
        return f'<c r="{ref}"{s}><v>{serial}</v></c>'
    number = _number_text(value)
    if number is not None:
        return f'<c r="{ref}"{s}><v>{number}</v></c>'
    if isinstance(value, (int, float, Decimal)):  # NaN or infinite: blank
        return f'<c r="{ref}"{s}/>' if s else None
    text = escape(clean_text(value))
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def formula_xml(ref: str, formula: str, array: bool, style: int | None) -> str:
    s = f' s="{style}"' if style else ""
    kind = f' t="array" ref="{ref}"' if array else ""
    return f'<c r="{ref}"{s}><f{kind}>{escape(formula)}</f></c>'


# --- appending -----------------------------------------------------------------------

@dataclass(frozen=True)
class Appended:
    """Where rows went: sheet, first and last Excel row (1-based); no rows: last < first."""
    name: str
    sheet: str
    first_row: int
    last_row: int
    dropped: tuple[str, ...] = ()      # optional columns the table lacks: their values left out

    @property
    def rows(self) -> list[int]:
        return list(range(self.first_row, self.last_row + 1))


def _norm(text: str) -> str:
    return " ".join(str(text).split()).lower()


class RowChunks:
    """Rows to append given in chunks rather than as one list, so that no list of every
    row's dict is ever held: `count` rows in all, and `produce()` yielding lists of row
    dicts (keyed by header, holding Excel values) that add up to them, in order, each
    time it is called (append_rows calls it once). The importer makes each chunk from a
    slice of a typed frame (importer.excel_records)."""

    def __init__(self, count: int, produce: Callable[[], Iterable[Sequence[Mapping[str, Any]]]]):
        self.count, self.produce = count, produce

    def __len__(self) -> int:
        return self.count


APPEND_CHUNK_ROWS = 10_000   # rows turned into XML (and compressed) at a time


def _row_chunks(rows: Sequence[Mapping[str, Any]] | RowChunks) -> Iterator[Sequence[Mapping[str, Any]]]:
    if isinstance(rows, RowChunks):
        yield from rows.produce()
        return
    for i in range(0, len(rows), APPEND_CHUNK_ROWS):
        yield rows[i:i + APPEND_CHUNK_ROWS]


class _Packed:
    """Text kept zlib-compressed in memory (the new rows' XML compresses about tenfold),
    given back in pieces as often as asked."""

    def __init__(self):
        self._pieces: list[bytes] = []
        self._zip = zlib.compressobj(1)

    def add(self, text: str) -> None:
        data = self._zip.compress(text.encode("utf-8"))
        if data:
            self._pieces.append(data)

    def close(self) -> None:
        self._pieces.append(self._zip.flush())
        self._zip = None

    def text(self) -> Iterator[str]:
        return _decoded(self._unpacked())

    def _unpacked(self) -> Iterator[bytes]:
        """The text's bytes, at most CHUNK_CHARS at a time (a piece compressed from a
        whole chunk of rows would give back tens of MB at once)."""
        unzip = zlib.decompressobj()
        for piece in self._pieces:
            while piece:
                data = unzip.decompress(piece, CHUNK_CHARS)
                if data:
                    yield data
                piece = unzip.unconsumed_tail
        data = unzip.flush()
        if data:
            yield data


def append_rows(editor: WorkbookEditor, name: str, rows: Sequence[Mapping[str, Any]] | RowChunks,
                number_formats: Mapping[str, str | None] | None = None,
                optional: Sequence[str] = (),
                on_chunk: Callable[[Sequence[Mapping[str, Any]], int], None] | None = None) -> Appended:
    """Append `rows` (dicts keyed by column header, holding Excel values: str, int,
    float, Decimal, date, datetime, bool or None) to the table `name` — an Excel table,
    else a plain sheet of that name with headers in row 1.

    rows: a list, or a RowChunks giving them in chunks; either way the new rows' XML is
    made a chunk at a time and kept compressed until the workbook is written, so an
    append holds the compressed XML and one chunk, not every row's cells.
    number_formats: header -> the number format the column should show (a model's
    declaration), used when the column has no style of its own to copy. on_chunk: called
    with each chunk of rows and the Excel row of its first (the importer reads the rows
    back as the reader will from them). Raises PayorxlError when the table is missing,
    lacks a column the rows fill, or cannot grow because cells below it hold data."""
    target = find_table(editor, name) or find_sheet_table(editor, name)
    if target is None:
        raise PayorxlError(f"{editor.path.name} has no table or sheet named {name}; "
                           "start from the template ('payorxl new') or add it")
    by_header = {_norm(h): j for j, h in enumerate(target.columns) if h}
    can_drop = {_norm(k) for k in optional}

    def check_columns(wanted: Iterable[str]) -> tuple[str, ...]:
        """The optional columns to leave out (a column a newer payorxl added that a table
        made before it lacks: left out, and said); PayorxlError for a column the table had
        and lost."""
        missing = sorted(k for k in wanted if _norm(k) not in by_header)
        dropped = tuple(k for k in missing if _norm(k) in can_drop)
        missing = [k for k in missing if _norm(k) not in can_drop]
        if missing:
            raise PayorxlError(f"the {name} table has no column {', '.join(repr(k) for k in missing)}; "
                               "add it back, spelled as in the template, and import again")
        return dropped

    if not isinstance(rows, RowChunks):    # a list: checked before any work (chunks: once made)
        check_columns({k for r in rows for k, v in r.items() if _plain(v) is not None and v != ""})
    if not len(rows):
        return Appended(name, target.sheet, target.end_row + 1, target.end_row, ())

    c1, c2 = target.first_col, target.last_col
    inputs = {j for j in range(len(target.columns)) if j not in target.formulas}
    source = editor.source(target.sheet_part)   # the sheet as it is now, streamed
    head, last_rows, below = _scan(source, target)
    by_number = {r.number: r for r in last_rows}

    def blank_inputs(number: int) -> bool:
        row = by_number.get(number)
        return row is None or all(c.blank for c in row.cells() if c.col - c1 in inputs)

    # Fill blank rows at the end of a table (the template's empty row) before growing it.
    start = target.end_row + 1
    complete = len(last_rows) < _LAST_ROWS      # every row of the table was kept
    if target.table_part:
        while start - 1 > target.header_row and blank_inputs(start - 1):
            start -= 1
            if not complete and start - 1 < last_rows[0].number:
                # more blank rows than were kept: look at every row of the table
                head, last_rows, below = _scan(source, target, keep=None)
                by_number = {r.number: r for r in last_rows}
                complete = True
    end = start + len(rows) - 1
    if end > MAX_ROWS:
        raise PayorxlError(f"the {name} sheet would pass Excel's limit of {MAX_ROWS:,} rows")
    for r in below:
        if target.end_row < r.number <= end and any(not c.blank for c in r.cells() if c1 <= c.col <= c2):
            raise PayorxlError(f"{target.sheet}!{col_letter(c1)}{r.number} and below hold data just under "
                               f"the {name} table, so it cannot grow; move that data elsewhere and "
                               "import again")

    styles = _column_styles(editor, target, last_rows, head, number_formats or {})
    date_style: dict[int, int] = {}

    def style_for(j: int, value) -> int | None:
        style = styles.get(j)
        if isinstance(_plain(value), (dt.date, dt.datetime)):
            if j not in date_style:
                code = editor.xf_format(style) if style is not None else "General"
                if is_date_format(code):
                    date_style[j] = style
                else:
                    declared = (number_formats or {}).get(target.columns[j])
                    fmt = declared if declared and is_date_format(declared) else FMT_DATE
                    date_style[j] = editor.style_index(Style(num_format=fmt))
            return date_style[j]
        return style

    # The rows from `start` on are rebuilt; the rows before them stay as written. A new row
    # on an old one's number (a blank row filled) keeps the old row's cells outside the table.
    tail_rows = [r for r in last_rows if r.number >= start] + below
    old_rows = {r.number: r for r in tail_rows}
    letters = [col_letter(c1 + j) for j in range(len(target.columns))]
    column_of: dict[str, int | None] = {}     # a record's key -> its column (None: not in the table)
    wanted: set[str] = set()                   # keys holding a value
    body = _Packed()
    number = start
    for chunk in _row_chunks(rows):
        if on_chunk is not None:
            on_chunk(chunk, number)
        out = []
        for record in chunk:
            values = {}
            for k, v in record.items():
                j = column_of.get(k, -1)
                if j == -1:
                    j = column_of[k] = by_header.get(_norm(k))
                if k not in wanted and _plain(v) is not None and v != "":
                    wanted.add(k)
                if j is not None:
                    values[j] = v
            cells = []
            for j, letter in enumerate(letters):
                ref = f"{letter}{number}"
                if j in target.formulas:
                    formula, array = target.formulas[j]
                    cells.append((c1 + j, formula_xml(ref, formula, array, styles.get(j))))
                    continue
                value = values.get(j)
                text = cell_xml(ref, value, style_for(j, value))
                if text is not None:
                    cells.append((c1 + j, text))
            out.append(_row_xml(number, cells, old_rows.get(number), c1, c2))
            number += 1
        body.add("".join(out))
    if number - 1 != end:
        raise ValueError(f"append_rows: {len(rows)} rows announced, {number - start} given")
    for old in tail_rows:
        if old.number > end:
            body.add(old.xml)
    body.close()
    dropped = check_columns(wanted)        # once every row is made: nothing is written yet

    def rebuilt() -> Iterator[str]:
        """The sheet again, streamed: rows before `start` as they are, then the new body."""
        placed = False
        for kind, item in _sheet_events(source()):
            if kind == "head":
                yield _grow_dimension(item, c1, c2, end)
            elif kind == "empty":
                yield "<sheetData>"
                yield from body.text()
                yield "</sheetData>"
                placed = True
            elif kind == "row":
                if placed:
                    continue
                if item.number >= start:
                    yield from body.text()
                    placed = True
                else:
                    yield item.xml
            elif kind == "tail" and not placed:
                yield from body.text()
                placed = True
                yield item
            else:
                yield item

    editor.write_stream(target.sheet_part, lambda: _encoded(rebuilt()))
    if target.table_part and end > target.end_row:
        _grow_table(editor, target, end)
    return Appended(name, target.sheet, start, end, dropped)


def _row_xml(number: int, cells: list[tuple[int, str]], old: _Row | None, c1: int, c2: int) -> str:
    attrs = f' r="{number}"'
    if old is not None:
        cells = cells + [(c.col, c.xml) for c in old.cells() if not c1 <= c.col <= c2]
        cells.sort(key=lambda c: c[0])
        attrs = re.sub(r'\s+spans="[^"]*"', "", old.attrs)
    return f"<row{attrs}>" + "".join(x for _, x in cells) + "</row>"


_LAST_ROWS = 256   # the table's last rows kept by _scan: blank ones to fill, styles to copy


def _scan(source: Callable[[], Iterator[str]], target: Target, keep: int | None = _LAST_ROWS
          ) -> tuple[str, list[_Row], list[_Row]]:
    """One streamed pass over the sheet: (the XML before <sheetData>, which holds <cols>;
    the last `keep` rows of the table below its header (all of them: None); every row
    below the table's end)."""
    head = ""
    last: deque[_Row] = deque(maxlen=keep)
    below: list[_Row] = []
    for kind, item in _sheet_events(source()):
        if kind == "head":
            head = item
        elif kind == "row":
            if item.number > target.end_row:
                below.append(item)
            elif item.number > target.header_row:
                last.append(item)
    return head, list(last), below


def _column_styles(editor: WorkbookEditor, target: Target, existing: list[_Row], head: str,
                   declared: Mapping[str, str | None]) -> dict[int, int]:
    """Column offset -> cellXfs index for new cells: the style of the nearest cell above
    (scanning up to 50 rows back from the table's end), else the column's <col style>,
    else the table column's own number format, else the declared format."""
    c1 = target.first_col
    n = len(target.columns)
    styles: dict[int, int] = {}
    last = target.end_row
    for row in reversed(existing):
        if row.number > last or row.number <= target.header_row:
            continue
        if last - row.number > 50 or len(styles) == n:
            break
        for c in row.cells():
            j = c.col - c1
            if 0 <= j < n and j not in styles and "s" in c.attrs:
                styles[j] = int(c.attrs["s"])
    cols_start, cols_end = head.find("<cols>"), head.find("</cols>")
    cols = head[cols_start:cols_end] if 0 <= cols_start < cols_end else ""
    for found in re.finditer(r"<col\b([^>]*)/?>", cols):
        attrs = dict(_ATTR.findall(found.group(1)))
        if "style" not in attrs:
            continue
        lo, hi = int(attrs.get("min", 0)) - 1, int(attrs.get("max", 0)) - 1
        for j in range(n):
            if j not in styles and lo <= c1 + j <= hi:
                styles[j] = int(attrs["style"])
    for j in range(n):
        wanted = declared.get(target.columns[j])
        if j in styles:
            # A copied style that shows General where the model declares a format (a
            # column the user reset) would show money or dates as bare numbers.
            if wanted and editor.xf_format(styles[j]) == "General":
                styles[j] = editor.style_index(Style(num_format=wanted))
            continue
        code = target.formats.get(j) or wanted
        if code:
            styles[j] = editor.style_index(Style(num_format=code))
    return styles


def _grow_dimension(xml: str, c1: int, c2: int, end: int) -> str:
    found = _DIMENSION.search(xml)
    if found is None:
        return xml
    try:
        d1, r1, d2, r2 = parse_ref(found.group(1))
    except PayorxlError:
        d1, r1, d2, r2 = c1, 1, c2, end
    ref = format_ref(min(d1, c1), r1, max(d2, c2), max(r2, end))
    return xml[:found.start()] + f'<dimension ref="{ref}"/>' + xml[found.end():]


def _grow_table(editor: WorkbookEditor, target: Target, end: int) -> None:
    xml = editor.read(target.table_part)
    ref = format_ref(target.first_col, target.header_row, target.last_col, end)

    def grow(found):
        return found.group(1) + ref + '"'
    xml = re.sub(r'(<table\b[^>]*?\sref=")[^"]*"', grow, xml, count=1)
    xml = re.sub(r'(<autoFilter\b[^>]*?\sref=")[^"]*"', grow, xml, count=1)
    editor.write(target.table_part, xml)


def full_calc_on_load(editor: WorkbookEditor) -> None:
    """Make Excel and LibreOffice recalculate every formula when the workbook opens."""
    xml = editor.read("xl/workbook.xml")
    flagged = with_full_calc_on_load(xml)
    if flagged != xml:
        editor.write("xl/workbook.xml", flagged)


def add_sheet(editor: WorkbookEditor, name: str, headers: Sequence[str], widths: Sequence[float] = (),
              formats: Sequence[str | None] = ()) -> str:
    """Add a plain sheet (last in the tab order) with `headers` in bold in row 1, the
    first row frozen, and optional column widths and number formats. Returns its part.
    Used for a workbook made before payorxl kept that sheet (ImportLog)."""
    if name in editor.sheets():
        return editor.sheets()[name]
    number = 1
    while editor.has(f"xl/worksheets/sheet{number}.xml"):
        number += 1
    part = f"xl/worksheets/sheet{number}.xml"
    bold = editor.style_index(Style(bold=True))
    cols = []
    for j in range(len(headers)):
        width = widths[j] if j < len(widths) else 14
        fmt = formats[j] if j < len(formats) else None
        style = f' style="{editor.style_index(Style(num_format=fmt))}"' if fmt else ""
        cols.append(f'<col min="{j + 1}" max="{j + 1}" width="{width}"{style} customWidth="1"/>')
    cells = "".join(cell_xml(f"{col_letter(j)}1", h, bold) or "" for j, h in enumerate(headers))
    last = col_letter(max(len(headers) - 1, 0))
    editor.write(part, (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS["m"]}" xmlns:r="{NS["r"]}"><dimension ref="A1:{last}1"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{"".join(cols)}</cols>'
        f'<sheetData><row r="1">{cells}</row></sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'))

    rels = editor.read("xl/_rels/workbook.xml.rels")
    ids = {int(i) for i in re.findall(r'Id="rId(\d+)"', rels)}
    rid = f"rId{max(ids | {0}) + 1}"
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" '
                                            f'Target="worksheets/sheet{number}.xml"/></Relationships>')
    editor.write("xl/_rels/workbook.xml.rels", rels)

    wb = editor.read("xl/workbook.xml")
    sheet_ids = [int(i) for i in re.findall(r'<sheet\b[^>]*\ssheetId="(\d+)"', wb)]
    entry = f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{max(sheet_ids + [0]) + 1}" r:id="{rid}"/>'
    if "</sheets>" not in wb:
        raise PayorxlError(f"{editor.path.name}: xl/workbook.xml has no <sheets>; the workbook looks damaged")
    editor.write("xl/workbook.xml", wb.replace("</sheets>", entry + "</sheets>", 1))

    types = editor.read("[Content_Types].xml")
    types = types.replace("</Types>", f'<Override PartName="/{part}" ContentType="{CT_WORKSHEET}"/></Types>')
    editor.write("[Content_Types].xml", types)
    editor.sheets()[name] = part
    return part


STREAM_CELLS = 50_000   # replace_cells streams a sheet of more cells than this
_REPLACE_CHUNK_ROWS = 5_000


def replace_cells(editor: WorkbookEditor, sheet: str, cells: Iterable, styles: Mapping[str, Style]) -> None:
    """Replace the cells of an owned sheet (as xlsxpart.write_owned_sheets does), in the
    editor, so it is written with the rest of the changes. A sheet of many cells (an
    import's Reconciliation listing every unmatched payment) is made a few thousand rows
    at a time, kept compressed, and streamed into the workbook as it is written: the same
    XML, never held whole.

    `cells` is a list (any order), or an iterator giving them in row order (rows
    ascending, a row's cells together, as sheets.reconciliation_sheet does): then they
    are never held all at once either."""
    from .xlsxpart import calc_chain_changes, replace_sheet_data, sheet_data_xml
    part = editor.sheets().get(sheet)
    if part is None:
        raise PayorxlError(f"{editor.path.name} has no sheet named {sheet}; "
                           "add it or start from the template ('payorxl new')")
    # As write_owned_sheets: no calcChain entry may name a cell of the sheet replaced.
    chain, removed = calc_chain_changes(lambda n: editor.read(n) if editor.has(n) else None, [sheet])
    for name, text in chain.items():
        editor.write(name, text)
    for name in removed:
        editor.remove(name)
    xml = editor.read("xl/styles.xml")
    new_styles, xf = ensure_styles(xml, dict(styles))
    if new_styles != xml:
        editor.write("xl/styles.xml", new_styles)
    if isinstance(cells, list):
        ordered, first = None, cells
    else:
        ordered = iter(cells)
        first = list(itertools.islice(ordered, STREAM_CELLS + 1))
    if len(first) <= STREAM_CELLS:
        data, dim = sheet_data_xml(first, xf)
        editor.write(part, replace_sheet_data(editor.read(part), data, dim))
        return
    body = _Packed()
    if ordered is None:
        # As sheet_data_xml: a blank unstyled cell is left out; rows in order, cells by column.
        rows: dict[int, list] = {}
        max_col = 0
        for c in cells:
            if (c.value is None or c.value == "") and not c.style:
                continue
            rows.setdefault(c.row, []).append(c)
            max_col = max(max_col, c.col)
        del cells, first
        dim = f"A1:{col_letter(max_col)}{max(rows) + 1}" if rows else "A1"
        order = sorted(rows)
        for i in range(0, len(order), _REPLACE_CHUNK_ROWS):
            data, _ = sheet_data_xml([c for r in order[i:i + _REPLACE_CHUNK_ROWS] for c in rows[r]], xf)
            body.add(data[len("<sheetData>"):-len("</sheetData>")])
        del rows, order
    else:
        dim = _packed_in_order(itertools.chain(first, ordered), xf, body)
        del first, ordered
    body.close()
    old = editor.source(part)          # the sheet as it is now (not as it will be written)
    editor.write_stream(part, lambda: _encoded(_replaced_sheet(old(), body, dim)))


def _packed_in_order(cells: Iterator, xf: dict[str, int], body: _Packed) -> str:
    """The rows of `cells` (in row order: see replace_cells) into `body`, _REPLACE_CHUNK_ROWS
    rows at a time, as the sorted path makes them; returns the dimension ref."""
    from .xlsxpart import sheet_data_xml
    pending: list = []
    rows = 0
    last = -1
    max_row = max_col = -1
    for c in cells:
        if (c.value is None or c.value == "") and not c.style:
            continue
        if c.row != last:
            if c.row < last:
                raise ValueError(f"replace_cells: the cells of row {c.row + 1} come after row {last + 1}; "
                                 "give an iterator in row order, or a list")
            if rows == _REPLACE_CHUNK_ROWS:
                data, _ = sheet_data_xml(pending, xf)
                body.add(data[len("<sheetData>"):-len("</sheetData>")])
                pending, rows = [], 0
            last, rows = c.row, rows + 1
        pending.append(c)
        max_row, max_col = max(max_row, c.row), max(max_col, c.col)
    if pending:
        data, _ = sheet_data_xml(pending, xf)
        body.add(data[len("<sheetData>"):-len("</sheetData>")])
    return f"A1:{col_letter(max_col)}{max_row + 1}" if max_row >= 0 else "A1"


def _replaced_sheet(old: Iterable[str], body: _Packed, dim: str) -> Iterator[str]:
    """xlsxpart.replace_sheet_data, streamed: the old sheet with its <sheetData> replaced
    by `body`'s rows, its <dimension> set to `dim` and its <mergeCells> removed."""
    from .xlsxpart import _DIMENSION as DIMENSION, _MERGES as MERGES
    head, tail, dimensioned = "", [], False
    for kind, item in _sheet_events(old):
        if kind == "head":
            head, n = DIMENSION.subn(f'<dimension ref="{dim}"/>', item, count=1)
            dimensioned = bool(n)
            yield MERGES.sub("", head)
            yield "<sheetData>"
            yield from body.text()
            yield "</sheetData>"
        elif kind == "tail":
            tail.append(item)
    rest = "".join(tail)
    if rest.startswith(_SHEETDATA_CLOSE):
        rest = rest[len(_SHEETDATA_CLOSE):]
    if not dimensioned:
        rest = DIMENSION.sub(f'<dimension ref="{dim}"/>', rest, count=1)
    yield MERGES.sub("", rest)


# --- whose sheet is it? --------------------------------------------------------------

# payorxl writes this into A2 of every sheet it owns (workbook/sheets.py's subtitle,
# "<practice> · as of … · recalculated by payorxl"), and has since its first version;
# A1 holds the sheet's title.
PAYORXL_MARK = "recalculated by payorxl"


def _payorxl_titles() -> tuple[set[str], tuple[str, ...], tuple[str, ...]]:
    """(A1 titles of the one-table owned sheets, prefixes, suffixes) payorxl writes."""
    from .. import model as m
    titles = {t.title for t in (m.WORKLIST, m.SCORECARD, m.AGING, m.RECONCILIATION, m.EXCEPTIONS)}
    return titles, ("Payor portfolio", "payorxl index"), ("— payor dashboard",)


def _shared_string(editor: WorkbookEditor, index: int) -> str:
    """Shared string `index`, streamed from the shared strings part (it can be large)."""
    from defusedxml.ElementTree import iterparse
    rels = SafeET.fromstring(editor.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.findall("pr:Relationship", NS)
                   if r.get("Type") == REL_SHARED_STRINGS), None)
    if target is None or index < 0:
        return ""
    part = _resolve("xl/workbook.xml", target)
    if part not in editor.names:
        return ""
    si, t = f"{{{NS['m']}}}si", f"{{{NS['m']}}}t"
    seen = 0
    with editor.zip.open(part) as f:
        for _, element in iterparse(f, events=("end",)):
            if element.tag != si:
                continue
            if seen == index:
                return "".join(x.text or "" for x in element.iter(t))
            seen += 1
            element.clear()
    return ""


def _cell_text(editor: WorkbookEditor, cell: _Cell) -> str:
    text = cell.text()
    if text is None and cell.attrs.get("t") == "s":
        try:
            text = _shared_string(editor, int(cell.value_text() or -1))
        except ValueError:
            text = ""
    return " ".join((text if text is not None else (cell.value_text() or "")).split())


def is_payorxl_sheet(editor: WorkbookEditor, sheet: str) -> bool:
    """Whether the sheet is payorxl's own, so that payorxl may rewrite its cells: its A2
    says "recalculated by payorxl", or its A1 holds a title payorxl writes, or it holds
    no value at all (an empty sheet made for payorxl to fill). A sheet with anything else
    holds the user's own data. The sheet is streamed only until that is decided."""
    part = editor.sheets().get(sheet)
    if part is None:
        return True
    titles, prefixes, suffixes = _payorxl_titles()
    a1 = a2 = ""
    found = False
    events = _sheet_events(editor.chunks(part))
    try:
        for kind, row in events:
            if kind != "row":
                continue
            if found and row.number > 2:
                break
            cells = [c for c in row.cells() if not c.blank]
            if not cells:
                continue
            found = True
            if row.number > 2:
                break
            first = next((c for c in cells if c.col == 0), None)
            if first is not None:
                if row.number == 1:
                    a1 = _cell_text(editor, first)
                else:
                    a2 = _cell_text(editor, first)
    except PayorxlError:           # not a worksheet (a chart sheet): not one payorxl writes
        return False
    finally:
        events.close()
    if not found:
        return True
    return (PAYORXL_MARK in a2.lower() or a1 in titles or a1.startswith(prefixes) or a1.endswith(suffixes))


def user_sheets(editor: WorkbookEditor, names: Iterable[str]) -> list[str]:
    """Those of the sheets `names` (payorxl's owned sheets) that hold the user's own data."""
    return [n for n in names if n in editor.sheets() and not is_payorxl_sheet(editor, n)]


def has_own_sheet(path: str | Path, sheet: str, names: Iterable[str] = ()) -> bool:
    """Whether the workbook has a sheet `sheet` that is payorxl's (is_payorxl_sheet), and
    the defined `names` (those its formulas read)."""
    with WorkbookEditor(path) as editor:
        if sheet not in editor.sheets() or not is_payorxl_sheet(editor, sheet):
            return False
        defined = set(re.findall(r'<definedName\b[^>]*\bname="([^"]+)"', editor.read("xl/workbook.xml")))
        return set(names) <= defined


def user_sheet_message(sheet: str, command: str) -> str:
    return f"{sheet} is not a payorxl sheet (it holds your own data); rename it, then run {command} again"


def refuse_user_sheets(path: str | Path, names: Iterable[str], command: str) -> None:
    """Refuse, before any work, to overwrite a sheet named like one of payorxl's own
    (`names`) that holds the user's data (a user who deleted payorxl's Aging and made a
    sheet of their own with that name): PayorxlError, nothing is written."""
    with WorkbookEditor(path) as editor:
        try:
            found = user_sheets(editor, names)
        except PayorxlError:
            raise
        except Exception as e:   # defusedxml refuses DTDs and entities; damaged XML
            raise PayorxlError(f"{Path(path).name}: the workbook's structure could not be read "
                               f"({type(e).__name__}); it was not changed") from None
    if found:
        raise PayorxlError(user_sheet_message(found[0], command))
