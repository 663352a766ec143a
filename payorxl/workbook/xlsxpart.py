"""Rewrite only payorxl's own sheets inside an .xlsx/.xlsm, leaving every other part alone.

A user's workbook holds things no Python library round-trips faithfully (VBA, form
buttons, x14 formatting, add-in bindings, cached values: see TOOLCHAIN.md "openpyxl round
trip"). So a recalculation does not load and save the workbook: it copies the zip part by
part and replaces only the ``<sheetData>`` (and ``<dimension>``) of the owned sheets,
keeping their column widths, views, drawings (charts) and relationships. Cells are
written as values — numbers and inline strings — so no shared string changes and no
imported text can become a formula; the only formulas are payorxl's own live summary
figures, given as `Formula` objects (never a string that happens to start with "="), each
with the engine's value cached. Excel lists the formula cells it last calculated in
``xl/calcChain.xml``, and refuses (a repair prompt) an entry whose cell no longer holds
a formula: a rewritten owned sheet's entries are dropped (`calc_chain_without`), which
Excel rebuilds.

The styles the owned sheets need are looked up in ``xl/styles.xml`` by meaning (number
format, font, fill); only when one is missing is it appended, so a recalculation of a
workbook payorxl has already written leaves styles.xml byte-identical.

Every write goes through package.py, the one write layer (atomic, raw copy of untouched
parts, refuse-if-changed, Excel lock, permissions, symlinks, read-only and .xlsm checks);
its names (rewrite_parts, file_state, refuse_if_open, ...) stay importable from here.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from ..codec import datetime_to_serial
from ..errors import PayorxlError
from .package import (  # noqa: F401
    _TEMP_NAME,
    STALE_ALWAYS,
    STALE_GRACE,
    TEMP_PREFIX,
    _commit,
    _copy_raw,
    _os_errors,
    _pid_alive,
    _unlink,
    _write_temp,
    atomic_write_bytes,
    file_state,
    lock_file,
    refuse_if_open,
    rewrite_parts,
    sweep_stale_temps,
    temp_prefix,
    write_package,
)

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}
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


@dataclass(frozen=True)
class Formula:
    """A cell formula of payorxl's own (``text`` without the leading "="), with the value
    it has now (the engine's) cached, so a workbook opens showing it without recalculating.
    whole: the same figure over whole Claims columns, where `text` sums the Index's partial
    sums (workbook/blocks.py): what a workbook without payorxl's Index gets instead."""
    text: str
    cached: Any = None
    whole: str | None = None


@dataclass(frozen=True, eq=False)
class Run:
    """Formula cells of one row, in column order (first at the Cell's column, the last at
    `last_col`), already written as the XML `sheet_data_xml` would write them for the
    Cells `cells()` gives: the Index's slots and tails, a million and more cells in a large
    workbook, each otherwise a Cell and a Formula made, grouped, sorted and written one by
    one. A writer that needs the Cells themselves (Excel's, through xlwings) takes them
    from `expanded`."""
    xml: str
    last_col: int
    cells: Callable[[], list[Cell]]


def expanded(cells: Iterable[Cell]) -> Iterator[Cell]:
    """The cells, each Run as the Cells it stands for."""
    for c in cells:
        if isinstance(c.value, Run):
            yield from c.value.cells()
        else:
            yield c


def each_distinct(values: Iterable, convert: Callable[[Any], Any]) -> list:
    """[convert(v) for v in values], convert called once per distinct value (by type and
    value; a float each time: -0.0 and NaN are their own): a column of a large workbook
    holds few distinct codes, dates and amounts."""
    seen: dict = {}
    out = []
    for v in values:
        if type(v) is float:
            out.append(convert(v))
            continue
        k = (type(v), v)
        if k not in seen:
            seen[k] = convert(v)
        out.append(seen[k])
    return out


@functools.cache
def col_letter(col: int) -> str:
    """A 0-based column number's letters (0: A, 26: AA); the few hundred a workbook uses
    are worked out once."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _excel_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.date):      # datetime too: a serial day number (codec)
        return float(datetime_to_serial(value))
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
            if isinstance(v, Formula):
                out.append(_formula_xml(ref, s, v))
                max_col = max(max_col, c.col)
                continue
            if isinstance(v, Run):
                out.append(v.xml)
                max_col = max(max_col, v.last_col)
                continue
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


def _formula_xml(ref: str, s: str, formula: Formula) -> str:
    # (a character XML forbids, such as a claim ID's pasted line break in the Index's
    # check, is left out: the formula then finds no such ID and the check says so, where
    # the character would make the whole sheet unreadable)
    kind, value = cached_xml(formula.cached)
    return f'<c r="{ref}"{s}{kind}><f>{escape(_ILLEGAL.sub("", formula.text))}</f>{value}</c>'


def cached_xml(cached: Any) -> tuple[str, str]:
    """A formula's cached value as its cell writes it: the type attribute (none for a
    number), and the <v> element (none for no value)."""
    v = cached
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "", ""
    if isinstance(v, bool):
        return ' t="b"', f"<v>{int(v)}</v>"
    if (n := _excel_number(v)) is not None:
        return "", f"<v>{repr(float(n)) if isinstance(n, float) else n}</v>"
    return ' t="str"', f"<v>{escape(clean_text(v))}</v>"


# --- workbook structure ---------------------------------------------------------------

CALC_CHAIN = "xl/calcChain.xml"
_CHAIN_ENTRY = re.compile(r"<c\b([^>]*?)\s*/>")
_CHAIN_SHEET = re.compile(r"""\si=["'](\d+)["']""")


def sheet_ids(workbook_xml: str) -> dict[str, str]:
    """Sheet name -> its sheetId (what calcChain.xml's entries name a sheet by)."""
    wb = SafeET.fromstring(workbook_xml)
    return {s.get("name"): s.get("sheetId") for s in wb.findall("m:sheets/m:sheet", NS)}


def calc_chain_without(xml: str, ids: set[str]) -> str | None:
    """calcChain.xml without the entries of the sheets with sheetId in `ids` (None: no
    entry left, so the part must go). An entry without ``i`` is on the sheet of the entry
    before it; the entries kept each say their sheet, as one may follow a dropped one."""
    kept, sheet = [], None
    for entry in _CHAIN_ENTRY.finditer(xml):
        attrs = entry.group(1)
        found = _CHAIN_SHEET.search(attrs)
        sheet = found.group(1) if found else sheet
        if sheet in ids:
            continue
        kept.append(entry.group(0) if sheet is None else f'<c{_CHAIN_SHEET.sub("", attrs)} i="{sheet}"/>')
    if not kept:
        return None
    head = xml[:xml.index(">", xml.index("<calcChain")) + 1]
    return head + "".join(kept) + "</calcChain>"


def calc_chain_changes(read, sheets: Iterable[str]) -> tuple[dict[str, str], set[str]]:
    """The part changes that take the calcChain entries of `sheets` out: (parts to
    replace -> new text, parts to remove). `read(name)` gives a part's text, or None when
    the workbook has no such part. An emptied chain is removed with its relationship and
    content type."""
    xml = read(CALC_CHAIN)
    if xml is None:
        return {}, set()
    names = set(sheets)
    ids = {i for name, i in sheet_ids(read("xl/workbook.xml")).items() if name in names}
    new = calc_chain_without(xml, ids)
    if new == xml:
        return {}, set()
    if new is not None:
        return {CALC_CHAIN: new}, set()
    rels = re.sub(r"""<Relationship\b[^>]*Target=["']/?(?:xl/)?calcChain\.xml["'][^>]*/>""", "",
                  read("xl/_rels/workbook.xml.rels"))
    types = re.sub(r"""<Override\b[^>]*PartName=["']/xl/calcChain\.xml["'][^>]*/>""", "", read("[Content_Types].xml"))
    return {"xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": types}, {CALC_CHAIN}

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


_SHEETDATA_OPEN = re.compile(r"<sheetData\s*/>|<sheetData(?:\s[^>]*)?>")


def replace_sheet_data(sheet_xml: str, data_xml: str, dimension: str) -> str:
    """The sheet with its <sheetData> replaced by `data_xml`, its <dimension> set and its
    <mergeCells> removed."""
    # The usual sheet (dimension before the data, merges after) is cut at the data's two
    # tags, and the regular expressions read only the small parts around it: a large
    # sheet's old data (100 MB for the Index of 50,000 lines) is scanned once, by find.
    found = _SHEETDATA_OPEN.search(sheet_xml)
    if found and not found.group().endswith("/>"):
        end = sheet_xml.find("</sheetData>", found.end())
        if end >= 0 and "<mergeCells" not in sheet_xml[:found.start()]:
            head, tail = sheet_xml[:found.start()], sheet_xml[end + len("</sheetData>"):]
            dim = f'<dimension ref="{dimension}"/>'
            if _DIMENSION.search(head):
                head = _DIMENSION.sub(dim, head, count=1)
            else:
                tail = _DIMENSION.sub(dim, tail, count=1)
            return head + data_xml + _MERGES.sub("", tail)
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
            code = escape(s.num_format, {chr(34): "&quot;"})
            add_numfmts.append(f'<numFmt numFmtId="{fmt_id}" formatCode="{code}"/>')
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


# --- writing: package.py is the one write layer; its names are re-exported above ---


def with_full_calc_on_load(xml: str) -> str:
    """``xl/workbook.xml`` with ``fullCalcOnLoad="1"`` on its ``<calcPr>`` (added if it has
    none): Excel recalculates every formula when it opens the workbook (and drops the flag
    when it saves it)."""
    found = re.search(r"<calcPr\b([^>]*?)(/?)>", xml)
    if found is None:
        anchor = min(i for i in (xml.find(t) for t in ("<oleSize", "<customWorkbookViews", "<pivotCaches",
                                                         "<smartTagPr", "<smartTagTypes", "<webPublishing",
                                                         "<fileRecoveryPr", "<webPublishObjects", "<extLst",
                                                         "</workbook>")) if i >= 0)
        return xml[:anchor] + '<calcPr fullCalcOnLoad="1"/>' + xml[anchor:]
    attrs = found.group(1)
    if re.search(r'\sfullCalcOnLoad="(1|true)"', attrs):
        return xml
    attrs = re.sub(r'\s+fullCalcOnLoad="[^"]*"', "", attrs) + ' fullCalcOnLoad="1"'
    return xml[:found.start()] + f"<calcPr{attrs}{found.group(2)}>" + xml[found.end():]


def cached_number(sheet_xml: str, row: int, col: int) -> float | None:
    """The number a sheet's cell holds (0-based row and column), or None (no such cell,
    an empty one, or one holding text, a flag or an error)."""
    found = re.search(rf'<c r="{col_letter(col)}{row + 1}"(\s[^>]*?)?(?:/>|>(.*?)</c>)', sheet_xml, re.S)
    if found is None or found.group(2) is None:
        return None
    kind = re.search(r'\st="([^"]*)"', found.group(1) or "")
    value = re.search(r"<v>([^<]*)</v>", found.group(2))
    if value is None or (kind is not None and kind.group(1) != "n"):
        return None
    try:
        return float(value.group(1))
    except ValueError:
        return None


def _number_of(value: Any) -> float | None:
    """The number a cell value is written as (a formula's cached value), as sheet_data_xml writes it."""
    if isinstance(value, Formula):
        value = value.cached
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    n = _excel_number(value)
    return None if n is None else float(n)


def write_owned_sheets(src: str | Path, sheets: dict[str, list[Cell]], styles: dict[str, Style],
                       dst: str | Path | None = None,
                       heights: dict[str, dict[int, float]] | None = None,
                       expect: tuple | None = None,
                       recalc_if_moved: tuple[str, int, int] | None = None) -> list[str]:
    """Replace the cells of the named sheets (which must exist) and write the workbook to
    `dst` (default: in place); `heights`: row heights by sheet. Returns the zip parts
    that changed. `expect`: file_state(src) when its inputs were read; if the file
    has changed since, nothing is written.

    recalc_if_moved: (sheet, row, column) of a cell the workbook's formulas read, such as
    the Dashboard's Today: when the value written there differs from the one the file
    held, ``fullCalcOnLoad`` is set, because the cached values of the formulas that read it
    (Claims' days left, the statuses) were worked out from the old value, and Excel shows
    cached values as they are until it recalculates."""
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
        moved = False
        for name, cells in sheets.items():
            part = parts[name]
            old = zf.read(part).decode("utf-8")
            if recalc_if_moved is not None and name == recalc_if_moved[0]:
                _, row, col = recalc_if_moved
                now = next((_number_of(c.value) for c in cells if (c.row, c.col) == (row, col)), None)
                moved = now is not None and cached_number(old, row, col) != now
            data, dim = sheet_data_xml(cells, xf, (heights or {}).get(name))
            new = replace_sheet_data(old, data, dim)
            if new != old:
                replace[part] = new.encode("utf-8")
        listed = set(zf.namelist())
        chain, remove = calc_chain_changes(
            lambda n: zf.read(n).decode("utf-8") if n in listed else None, sheets)
        replace.update({n: text.encode("utf-8") for n, text in chain.items()})
        if moved:
            book = zf.read("xl/workbook.xml").decode("utf-8")
            flagged = with_full_calc_on_load(book)
            if flagged != book:
                replace["xl/workbook.xml"] = flagged.encode("utf-8")
    write_package(src, dst, replace, None, expect, remove)
    return sorted(replace) + sorted(remove)
