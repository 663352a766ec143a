"""Read a workbook's input tables and Settings into typed frames, fast.

Values come from python-calamine (a Rust reader, several times faster than openpyxl:
TOOLCHAIN.md); structure is known from the template: each input table starts at A1 of
the sheet of the same name, headers in row 1. Columns are found by header, so users may
reorder columns or add their own; calculated columns are ignored (the engine recomputes
them). Every problem becomes a `DataError`; only an unreadable file raises, or one
payorxl must not read: each sheet's XML is scanned before calamine parses it
(`scan_sheet`), for formulas in input cells and for a value far outside a table, which
would make calamine allocate the whole grid out to it.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from .. import model as m
from ..codec import is_blank, serial_to_datetime, to_cents
from ..conversion import ROW, Converted, _Bad, convert_value, empty_frame, header_index, object_grid, typed_columns
from ..errors import WARNING, CellRef, DataError, PayorxlError
from .package import refuse_not_regular
from .xlsxpart import col_letter, sheet_parts


@dataclass
class Inputs:
    """What a workbook holds: typed frames by table name, the settings, and the errors
    found while reading (rows with errors are not in the frames)."""
    frames: dict[str, pd.DataFrame]
    settings: m.Settings
    errors: list[DataError] = field(default_factory=list)
    settings_values: dict = field(default_factory=dict)
    columns: dict[str, dict[str, int]] = field(default_factory=dict)   # table -> key -> column index
    headers: dict[str, list[str]] = field(default_factory=dict)   # table -> its sheet's header row, every column
    grids: dict[str, list] = field(default_factory=dict)   # other sheets asked for: name -> cells


# A part may expand this much (uncompressed / compressed) before the file is taken for a
# zip bomb: real sheets with repeated formulas reach ~45x (a 1,000,000-line Claims sheet
# is 10.6 GB of XML in 239 MB), bombs 1000x and more. The total is a backstop only.
MAX_RATIO = 250
MAX_TOTAL = 64 * 1024 ** 3      # bytes, all parts uncompressed


def check_zip(path: Path) -> None:
    """Refuse a workbook whose parts would expand to an absurd size (a zip bomb), from
    the sizes the zip declares, before anything decompresses them."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise PayorxlError(f"{path.name} is not a readable .xlsx/.xlsm workbook ({e}); "
                           "open it in Excel and save it again, or restore a backup") from None
    total = sum(i.file_size for i in infos)
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > 64 * 1024 ** 2 and ratio > MAX_RATIO:
            raise PayorxlError(f"{path.name}: part {i.filename} expands from {i.compress_size:,} to "
                               f"{i.file_size:,} bytes ({ratio:,.0f}x), which no real workbook does; "
                               "it was not read. Use a copy saved by Excel")
    if total > MAX_TOTAL:
        raise PayorxlError(f"{path.name} expands to {total:,} bytes; it was not read")


def open_workbook(path: str | Path) -> CalamineWorkbook:
    path = Path(path)
    if not path.exists():
        raise PayorxlError(f"{path} does not exist; create a workbook with 'payorxl new {path.name}'")
    refuse_not_regular(path)      # a FIFO would hang the reader; a device never ends
    if not zipfile.is_zipfile(path):
        raise PayorxlError(f"{path.name} is not an .xlsx/.xlsm workbook (not a zip file); "
                           "save it from Excel as 'Excel Workbook (*.xlsx)' or 'Macro-Enabled (*.xlsm)'")
    check_zip(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own types for damaged files
        raise PayorxlError(f"{path.name} could not be read as a workbook ({type(e).__name__}: {e}); "
                           "open it in Excel and save it again, or restore a backup") from None


def read_grid(book: CalamineWorkbook, sheet: str, scanned: bool = False) -> list[list] | None:
    """The cells of `sheet` from A1 (None: no such sheet). A calamine workbook's sheet is
    scanned first (scan_sheet) unless the caller has (`scanned`): a value far outside
    its table is refused before calamine builds the grid out to it."""
    if sheet not in book.sheet_names:
        return None
    if not scanned and isinstance(book, CalamineWorkbook) and book.path:
        _refuse_far_in(Path(book.path), sheet)
    try:
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as e:  # calamine's XmlError, ZipError...: the sheet's XML is damaged
        raise _damaged(book, sheet, e) from None


CHUNK = 65_536   # rows converted at a time: the Python cells of one chunk live at once
INPUT_SHEETS = set(m.TABLES) | {m.SETTINGS_SHEET}   # the sheets payorxl reads values from


def _damaged(book, sheet: str, e: Exception) -> PayorxlError:
    return PayorxlError(f"{Path(book.path or 'the workbook').name}: the {sheet} sheet could not be read "
                        f"({type(e).__name__}: {str(e)[:200]}); open the workbook in Excel and "
                        "save it again, or restore a backup")


def _rows(sheet):
    """(first Excel row, iterator of rows that each start at column A) of a sheet:
    calamine's streaming iter_rows when there is one, else the sheet's whole grid."""
    if not hasattr(sheet, "iter_rows"):
        return 1, iter(sheet.to_python(skip_empty_area=False))
    start = sheet.start
    if start is None:
        return 1, iter(())
    top, left = start
    if not left:
        return top + 1, sheet.iter_rows()
    return top + 1, ([None] * left + row for row in sheet.iter_rows())


def refuse_merged(sheet, table: m.Table, index: dict[str, int]) -> None:
    """Raise when merged cells touch the table's input columns: Excel keeps a merged
    range's value in its top-left cell only and blanks the rest, so the other rows would
    be read as blank (or rejected) with nothing on screen to say why."""
    ranges = getattr(sheet, "merged_cell_ranges", None) or []
    refs = []
    for (r0, c0), (r1, c1) in ranges:
        names = [c.name for c in table.columns if c.key in index and c0 <= index[c.key] <= c1]
        if names:
            refs.append(f"{col_letter(c0)}{r0 + 1}:{col_letter(c1)}{r1 + 1} ({', '.join(names)})")
    if refs:
        shown = ", ".join(refs[:10]) + (f" and {len(refs) - 10} more" if len(refs) > 10 else "")
        raise PayorxlError(
            f"{table.name}!{shown}: merged cells inside the {table.name} table, where every row needs "
            "its own value; nothing was written. Fix: select the range, Home > Merge & Center > "
            "Unmerge Cells, and fill the value into each row")


def table_from_sheet(sheet, table: m.Table) -> Converted:
    """Convert a sheet whose header is in row 1, CHUNK rows at a time (a 1,000,000-line
    sheet never exists as Python cells all at once)."""
    first, rows = _rows(sheet)
    header = next(rows, None) if first == 1 else None
    names = {str(h).strip().lower() for h in (header or [])}
    missing = [c.name for c in table.columns if c.required and c.name.lower() not in names]
    if missing:
        return Converted(empty_frame(table), [DataError(
            CellRef(table.name, 1), None,
            f"the header row (row 1) lacks required column(s): {', '.join(missing)}",
            "put the table's headers in row 1, spelled as in the template")])
    index = header_index(table, header)
    width = max(index.values()) + 1
    refuse_merged(sheet, table, index)
    parts, errors, rejected = [], [], set()
    row = 2
    while True:
        chunk = list(islice(rows, CHUNK))
        if not chunk:
            break
        cells = object_grid(chunk, width)
        converted = typed_columns(table, {key: cells[:, i] for key, i in index.items()}, len(chunk),
                                  table.name, np.arange(row, row + len(chunk)), skip_blank_rows=True)
        del cells, chunk
        parts.append(converted.frame)
        errors.extend(converted.errors)
        rejected |= converted.rejected
        row += CHUNK
    frames = [p for p in parts if len(p)]
    frame = (pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0] if frames
             else empty_frame(table))
    # (a blank header keeps its place: index.py finds columns by position)
    return Converted(frame, errors, rejected, index, ["" if h is None else str(h).strip() for h in header])


def _no_sheet(table: m.Table) -> Converted:
    return Converted(empty_frame(table), [DataError(
        CellRef(table.name), None, f"the workbook has no '{table.name}' sheet",
        f"add a sheet named {table.name} with the table's headers in row 1 "
        "(or start from 'payorxl new')")])


def read_table(book, table: m.Table) -> Converted:
    if table.name not in book.sheet_names:
        # A workbook made before an optional table existed: it simply has no rows, or, for a
        # rule table, the rows `payorxl new` seeds (its rules as they were before it existed).
        if table.optional:
            from ..engine.seeds import SEEDS
            seed = SEEDS.get(table.name)
            return Converted(seed() if seed else empty_frame(table), [], set(), {})
        return _no_sheet(table)
    try:
        sheet = book.get_sheet_by_name(table.name)
        return table_from_sheet(sheet, table)
    except PayorxlError:
        raise
    except Exception as e:  # calamine's XmlError, ZipError...: the sheet's XML is damaged
        raise _damaged(book, table.name, e) from None


def settings_from_values(values: dict, as_of=None) -> m.Settings:
    """Settings from converted values by key (money in cents); as_of wins over the sheet
    and is also what a blank As-of Date stands for (Settings.today)."""
    kwargs = {k: v for k, v in values.items() if v is not None and k != "as_of"}
    return m.Settings.make(as_of if as_of is not None else values.get("as_of"), today=as_of, **kwargs)


def convert_settings(raw: dict, sheet_rows: dict | None = None) -> tuple[dict, list[DataError]]:
    """Raw Excel values by setting key -> converted values; bad values fall back to the
    default with a warning naming the Settings row."""
    values, errors = {}, []
    for s in m.SETTINGS:
        if s.key not in raw:
            continue
        col = m.Column(s.name, s.key, s.kind, default=s.default)
        if s.kind == m.MONEY and s.default is not None:
            col = m.Column(s.name, s.key, s.kind, default=to_cents(s.default))
        try:
            values[s.key] = convert_value(raw[s.key], col)
        except _Bad as bad:
            row = (sheet_rows or {}).get(s.key)
            errors.append(DataError(CellRef(m.SETTINGS_SHEET, row, "Value"), raw[s.key],
                                    f"{s.name}: {bad.message}", f"{bad.fix} (blank uses {s.default!r})",
                                    WARNING))
    return values, errors


def read_settings(book: CalamineWorkbook, as_of=None) -> tuple[m.Settings, list[DataError], dict]:
    """Settings by name from column A of the Settings sheet (value in column B)."""
    grid = read_grid(book, m.SETTINGS_SHEET) or []
    by_name = {s.name.lower(): s for s in m.SETTINGS}
    raw, rows = {}, {}
    for r, line in enumerate(grid, start=1):
        if line and str(line[0]).strip().lower() in by_name:
            s = by_name[str(line[0]).strip().lower()]
            raw[s.key] = line[1] if len(line) > 1 else None
            rows[s.key] = r
    values, errors = convert_settings(raw, rows)
    return settings_from_values(values, as_of), errors, values


def inputs_from_book(book, as_of=None, sheets: dict | None = None) -> Inputs:
    """All input tables and the settings of an open book (anything with `sheet_names`
    and `get_sheet_by_name(name).to_python()`: a calamine workbook, or the grids an open
    Excel workbook gives). sheets: name -> a future of the parsed sheet, when another
    thread is already parsing it; those tables are converted as their sheets arrive."""
    settings, errors, values = read_settings(book, as_of)
    sheets = dict(sheets or {})
    converted: dict[str, Converted] = {}
    for table in m.INPUT_TABLES:
        if table.name not in sheets:
            converted[table.name] = read_table(book, table)
    by_future = {future: name for name, future in sheets.items()}
    for future in as_completed(by_future):
        name = by_future[future]
        try:
            converted[name] = table_from_sheet(future.result(), m.TABLES[name])
        except PayorxlError:
            raise
        except Exception as e:
            raise _damaged(book, name, e) from None
    frames, columns = {}, {}
    for table in m.INPUT_TABLES:          # errors in table order, whatever order they came in
        frames[table.name] = converted[table.name].frame
        errors.extend(converted[table.name].errors)
        columns[table.name] = converted[table.name].columns
    return Inputs(frames, settings, errors, values, columns,
                  headers={name: c.headers for name, c in converted.items() if c.headers})


# Up to this much sheet XML, the input sheets are parsed side by side in threads
# (calamine releases the GIL): faster, but each parsed sheet is held in memory at once.
# Above it (~300,000 claim lines) they are parsed one after the other to bound memory.
PARALLEL_MAX = 3 * 1024 ** 3


def _parse(path: Path, name: str):
    """One sheet parsed by calamine in a worker thread, with its own workbook handle."""
    book = CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(name)
    finally:
        book.close()


def _scan_then_parse(path: Path, name: str, part: str, columns: set[str] | None,
                     scans: dict, stop: threading.Event):
    """In a worker thread: scan one big sheet (refusing a value far outside its table),
    then parse it; not parsed when the read has already failed elsewhere (`stop`)."""
    scans.update(scan_and_refuse(path, {name: part}, {name: columns or set()}))
    return None if stop.is_set() else _parse(path, name)


def read_inputs(path: str | Path, as_of=None, also: tuple[str, ...] = (), parallel: bool = True) -> Inputs:
    """All input tables and the settings of the workbook at `path`; with `also`, the
    cells of those sheets too (in `grids`, when the workbook has them), in the same pass.
    parallel=False parses the sheets one after the other at any size (less memory, as
    above PARALLEL_MAX; `payorxl import` reads so).

    Each sheet's XML is scanned before calamine parses it (scan_sheet: one streamed
    pass), and the read refused (PayorxlError) when a sheet holds a value far outside its
    table, which would make calamine allocate the grid out to it; or formulas in input
    cells, so that no figure rests on a value payorxl cannot see being computed."""
    path = Path(path)
    book = open_workbook(path)
    try:
        try:
            with zipfile.ZipFile(path) as z:
                parts = {name: part for name, part in sheet_parts(z).items()
                         if (name in INPUT_SHEETS or name in also) and part in z.NameToInfo}
                xml_size = sum(z.getinfo(p).file_size for name, p in parts.items() if name in INPUT_SHEETS)
        except Exception as e:   # defusedxml refuses DTDs and entities; a damaged workbook.xml
            raise PayorxlError(f"{path.name}: the workbook's sheet list could not be read "
                               f"({type(e).__name__}: {str(e)[:200]}); open it in Excel and save it "
                               "again, or restore a backup") from None
        expected = input_columns(path)     # sheet -> input column letters, from the table parts
        scans: dict[str, SheetScan] = {}
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="payorxl-read") as pool:
            try:
                sheets = {}
                if parallel and xml_size <= PARALLEL_MAX:
                    # The two big sheets are scanned then parsed on their own threads
                    # (calamine releases the GIL); the small ones are scanned, then read, here.
                    for name in ("Claims", "Payments"):
                        if name in parts and name in book.sheet_names:
                            sheets[name] = pool.submit(_scan_then_parse, path, name, parts[name],
                                                       expected.get(name), scans, stop)
                scans.update(scan_and_refuse(path, {n: p for n, p in parts.items() if n not in sheets}, expected))
                inputs = inputs_from_book(book, as_of, sheets)
                inputs.grids = {name: read_grid(book, name, scanned=True)
                                for name in also if name in book.sheet_names}
            except BaseException:
                stop.set()              # a big sheet still being scanned is then not parsed
                raise
        found = {sheet: (scan.formulas, scan.formula_refs) for sheet, scan in scans.items() if expected.get(sheet)}
        # Where the headers read disagree with the table parts (or there is no table),
        # look again at those sheets for formulas in the columns actually read.
        read = {sheet: {col_letter(i) for i in cols.values()} for sheet, cols in inputs.columns.items()}
        read[m.SETTINGS_SHEET] = {"B"}
        again = {s: read[s] for s in parts if read.get(s) and read[s] != expected.get(s)}
        if again:
            found.update(formula_cells(path, {s: parts[s] for s in again}, again))
        refuse_formulas(path, found, inputs.columns)
        return inputs
    finally:
        book.close()


def input_columns(path: Path) -> dict[str, set[str]]:
    """Sheet -> the column letters of its input columns, from the Excel table (ListObject)
    definitions: small parts, read before the sheets. A sheet without a table is left
    out (its header row decides, once read)."""
    from .append import WorkbookEditor, find_table
    letters: dict[str, set[str]] = {m.SETTINGS_SHEET: {"B"}}
    try:
        with WorkbookEditor(path) as editor:
            for table in m.INPUT_TABLES:
                target = find_table(editor, table.name)
                if target is None or target.sheet != table.name or target.header_row != 1:
                    continue
                names = {c.name.lower() for c in table.columns}
                letters[table.name] = {col_letter(target.first_col + j) for j, name in enumerate(target.columns)
                                       if name.strip().lower() in names}
    except Exception:   # an odd table part: the header rows decide instead
        pass
    return letters


# --- each sheet's XML, scanned before calamine parses it ---------------------------------
#
# python-calamine holds a sheet as one dense grid, from its first value to its last, at
# 32 bytes a cell: one value typed in XFD1048576 of a 12-row Payments sheet asks for
# 16,384 x 1,048,576 cells (512 GiB) and the process aborts without a word. Cells with no
# value (styled, formatted, an empty row element) do not count, and neither does the
# sheet's <dimension>. So before calamine parses a sheet, one streamed pass over its XML
# (scan_sheet) looks at the r="..." of every cell holding a value (<v> or <is>) and
# refuses the read, naming the cell, when one lies:
#
# - more than FAR_COLUMNS columns right of the table's last column: its last header in
#   row 1, counting from A, each header at most FAR_COLUMNS from the one before; or
# - beyond Excel's last row (1,048,576) or column (XFD), where only a hand-made file puts one.
#
# A value far *below* the table (A1048576 under 12 rows) is read: the grid is then at most
# 1,048,576 rows of the table's width (+ FAR_COLUMNS), what a full sheet costs, and that
# row is reported with its problems like any other. The same pass finds the formulas in
# input cells (refuse_formulas). Not covered: cells without an r attribute (calamine
# places them by position; no spreadsheet program writes them).
FAR_COLUMNS = 26
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
_PIECE = 16 << 20   # bytes of sheet XML inflated at a time (a 1,000,000-line sheet is 10 GB)

# The rest of a cell's start tag, then, after an optional formula, a value as calamine
# counts one: a <v> with something in it, an empty one of a text cell (t="str"), an
# inline string (even empty). A cell that is only styled, or an empty number, is none.
_FORMULA = rb'\s*(?:<f\b[^>]*(?:/>|>[^<]*</f>)\s*)?'
_VALUE = (rb'(?:[^>]*?\st="str"[^>]*(?<!/)>' + _FORMULA + rb'<v>|[^>]*(?<!/)>' + _FORMULA
          + rb'(?:<v>(?!</v>)|<is[\s>/]))')


@dataclass
class SheetScan:
    """What one streamed pass over a sheet's XML found (scan_sheet)."""
    sheet: str
    formulas: int = 0                                   # cells of the given columns holding a formula
    formula_refs: list[str] = field(default_factory=list)   # the first few, A1 style
    far: int = 0                                        # values far outside the table (see above)
    far_refs: list[str] = field(default_factory=list)
    last_column: int = 0                                # the table's last column (1 = A; 0: no header)
    widest: int = 0                                     # the far values' last column (1 = A) and row
    deepest: int = 0


def col_number(letters: str) -> int:
    """The column number of A1-style letters: A -> 1, Z -> 26, AA -> 27, XFD -> 16,384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def columns_after(n: int) -> bytes:
    """A regular expression matching the letters of every column after column `n`
    (1 = A), in either case (calamine reads a1 as A1): longer ones, then those of its
    length that sort after it."""
    if n <= 0:
        return rb"[A-Za-z]+"
    text = col_letter(n - 1).encode()
    alts = [b"[A-Z]{%d,}" % (len(text) + 1)] + _same_length_above(text, b"A", b"Z")
    return b"(?i:" + b"|".join(alts) + b")"


def rows_after(n: int) -> bytes:
    """A regular expression matching every row number after `n` (leading zeros allowed)."""
    text = str(n).encode()
    alts = [b"[1-9][0-9]{%d,}" % len(text)] + _same_length_above(text, b"0", b"9")
    return b"0*(?:" + b"|".join(alts) + b")"


def _same_length_above(text: bytes, low: bytes, high: bytes) -> list[bytes]:
    """Alternatives matching every string as long as `text`, over the characters low..high,
    that sorts after it: its first i characters, a greater one, then anything."""
    alts = []
    for i, ch in enumerate(text):
        if ch < high[0]:
            rest = len(text) - i - 1
            alts.append(text[:i] + b"[%c-%c]" % (ch + 1, high[0])
                        + (b"[%c-%c]{%d}" % (low[0], high[0], rest) if rest else b""))
    return alts


def _cell(loose: bool) -> bytes:
    """The start of a cell up to its reference's letters: r= first (Excel and most
    writers), or anywhere among the attributes."""
    return rb'<c (?:[^>]*? )?r="' if loose else rb'<c r="'


def _scan_pattern(loose: bool, formula_columns: set[str], last_column: int) -> re.Pattern:
    """One regular expression for a sheet's pass: a formula in one of `formula_columns`
    (fc, fr); a value right of column last_column + FAR_COLUMNS (xc, xr) or below
    MAX_ROW (yc, yr); and, for an r-first scan, a cell whose r is not first (odd: scan
    again, loosely). Each alternative matches almost nothing in a normal sheet, and all
    start with the literal '<c ', so the search runs at scanning speed."""
    alts = []
    if formula_columns:
        letters = b"|".join(sorted((c.encode() for c in formula_columns), key=len, reverse=True))
        alts.append(rb'(?P<fc>' + letters + rb')(?P<fr>[0-9]+)"[^>]*><f[\s>/]')
    far = columns_after(min(last_column + FAR_COLUMNS, MAX_COLUMN))
    alts.append(rb'(?P<xc>' + far + rb')(?P<xr>[0-9]+)"' + _VALUE)
    # (the lookahead turns away a row of fewer than 7 digits at once)
    alts.append(rb'(?P<yc>[A-Za-z]+)(?=0*[1-9][0-9]{6})(?P<yr>' + rows_after(MAX_ROW) + rb')"' + _VALUE)
    refs = b'r="(?:' + b"|".join(alts) + b")"
    if loose:
        return re.compile(rb'<c (?:[^>]*? )?' + refs)
    return re.compile(rb'<c (?:' + refs + rb'|(?P<odd>(?!r=)))')


def _header_columns(data: bytes, loose: bool) -> list[int]:
    """The columns (1 = A) of the values in row 1 found in `data`."""
    pattern = re.compile(_cell(loose) + rb'([A-Za-z]+)0*1"' + _VALUE)
    return sorted({col_number(c.decode()) for c in pattern.findall(data)})


def table_end(headers: list[int]) -> int:
    """The table's last column (1 = A; 0: none) from the columns of its header row's
    values: tables start at A1, and each header is at most FAR_COLUMNS columns from the
    one before it (a lone value at XFD1 is no header)."""
    last = 0
    for col in headers:
        if col - last > FAR_COLUMNS:
            break
        last = col
    return last


def scan_sheet(z: zipfile.ZipFile, sheet: str, part: str, formula_columns: set[str] | None = None,
               limit: int = 10, loose: bool | None = None) -> SheetScan:
    """One streamed pass over the XML of `sheet` (the zip part `part`), in _PIECE pieces:
    the cells of `formula_columns` (letters) that hold a formula, and the values far
    outside the table (see above), each counted with the first `limit` named. The
    regular expression names the columns it looks for, so it matches almost nothing
    and runs at scanning speed."""
    scan = SheetScan(sheet)
    pattern, tail, odd = None, b"", False
    with z.open(part) as f:
        while True:
            piece = f.read(_PIECE)
            data = tail + piece
            cut = data.rfind(b"<c ") if piece else len(data)   # a cell never straddles a cut
            cut = len(data) if cut < 0 else cut
            if pattern is None:   # Excel and most writers put r= first in a cell
                if loose is None:
                    loose = bool(re.search(rb"<c (?!r=)", data[:1 << 20]))
                scan.last_column = table_end(_header_columns(data[:cut], loose))
                pattern = _scan_pattern(loose, formula_columns or set(), scan.last_column)
            for hit in pattern.finditer(data, 0, cut):
                kind = hit.lastgroup
                if kind == "fr":
                    scan.formulas += 1
                    if len(scan.formula_refs) < limit:
                        scan.formula_refs.append((hit["fc"] + hit["fr"]).decode())
                elif kind in ("xr", "yr"):
                    col, row = (hit["xc"], hit["xr"]) if kind == "xr" else (hit["yc"], hit["yr"])
                    scan.far += 1
                    scan.widest = max(scan.widest, col_number(col.decode()))
                    scan.deepest = max(scan.deepest, int(row))
                    if len(scan.far_refs) < limit:
                        scan.far_refs.append(f"{col.decode().upper()}{int(row)}")
                elif kind == "odd":
                    odd = True
            tail = data[cut:]
            if not piece:
                break
    if odd:   # a cell with attributes before r=, past the first megabyte: look at every cell so
        return scan_sheet(z, sheet, part, formula_columns, limit, loose=True)
    return scan


def scan_sheets(path: Path, parts: dict[str, str], formula_columns: dict[str, set[str]],
                limit: int = 10) -> dict[str, SheetScan]:
    """scan_sheet for each sheet -> part of `parts`, in one open of the zip; a damaged
    part (a bad CRC, a cut stream) is refused with a message saying so."""
    try:
        with zipfile.ZipFile(path) as z:
            return {sheet: scan_sheet(z, sheet, part, formula_columns.get(sheet), limit)
                    for sheet, part in parts.items()}
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:   # e.g. a bad CRC
        raise PayorxlError(f"{path.name}: a sheet of the workbook is damaged ({type(e).__name__}: "
                           f"{str(e)[:200]}); open it in Excel and save it again, or restore a backup") from None


def formula_cells(path: Path, parts: dict[str, str], columns: dict[str, set[str]],
                  limit: int = 10) -> dict[str, tuple[int, list[str]]]:
    """Sheet -> (how many cells, the first `limit` as A1 references) of the cells in the
    given columns (letters) that hold a formula (scan_sheets)."""
    scans = scan_sheets(path, {s: p for s, p in parts.items() if columns.get(s)}, columns, limit)
    return {sheet: (scan.formulas, scan.formula_refs) for sheet, scan in scans.items()}


def refuse_far_cells(path: Path, scans) -> None:
    """Raise when a sheet holds a value far outside its table (scan_sheet), before
    calamine would build the grid out to it."""
    for scan in scans:
        if not scan.far:
            continue
        refs = ", ".join(f"{scan.sheet}!{ref}" for ref in scan.far_refs)
        more = f" and {scan.far - len(scan.far_refs):,} more" if scan.far > len(scan.far_refs) else ""
        one = scan.far == 1
        end = (f"which ends at column {col_letter(scan.last_column - 1)}" if scan.last_column
               else "whose header row 1 is empty")
        cells = max(scan.widest, scan.last_column) * scan.deepest
        size = f", here at least {cells:,} cells" if cells >= 10_000_000 else ""
        raise PayorxlError(
            f"{path.name}: {refs}{more} {'holds a value' if one else 'hold values'} far outside the "
            f"{scan.sheet} table ({end}); payorxl reads a sheet as the whole rectangle from A1 to its "
            f"farthest value{size}, so the workbook was not read. Fix: delete {'it' if one else 'them'} "
            "(select the cell, press Delete), save, and run again")


def scan_and_refuse(path: Path, parts: dict[str, str], formula_columns: dict[str, set[str]]
                    ) -> dict[str, SheetScan]:
    """scan_sheets, refusing a sheet with values far outside its table (refuse_far_cells)."""
    scans = scan_sheets(path, parts, formula_columns)
    refuse_far_cells(path, scans.values())
    return scans


def _refuse_far_in(path: Path, sheet: str) -> None:
    """scan_and_refuse the one sheet `sheet` of the workbook file `path` (read_grid)."""
    try:
        with zipfile.ZipFile(path) as z:
            part = sheet_parts(z).get(sheet)
            if part not in z.NameToInfo:
                return                  # calamine says what is wrong
    except Exception:                   # a damaged zip or workbook.xml: likewise
        return
    scan_and_refuse(path, {sheet: part}, {})


def refuse_formulas(path: Path, found: dict[str, tuple[int, list[str]]],
                    inputs_columns: dict[str, dict[str, int]]) -> None:
    """Raise when a formula sits where payorxl expects a value: an input column of a
    table, or a Settings value. payorxl reads the result Excel saved with the formula;
    a workbook written by another program may hold none, or a stale one."""
    described = []
    for sheet, (count, refs) in found.items():
        if not count:
            continue
        names_by_letter = {col_letter(i): m.TABLES[sheet].column(key).name
                           for key, i in inputs_columns.get(sheet, {}).items()}
        names = sorted({names_by_letter.get(ref.rstrip("0123456789"), "Value") for ref in refs})
        more = f" and {count - len(refs):,} more" if count > len(refs) else ""
        described.append(f"{sheet}!{', '.join(refs)}{more} ({', '.join(names)})")
    if described:
        raise PayorxlError(
            f"{path.name}: formulas where payorxl expects values: {'; '.join(described)}. payorxl reads "
            "the values Excel saved, and a formula's saved result may be stale or missing; nothing was "
            "written. Fix: select those cells, Copy, then Paste Special > Values (or type the values)")


# --- the ImportLog ----------------------------------------------------------------------

LOG_SHEET = m.IMPORT_LOG.title


def _log_value(value, kind: str):
    """One ImportLog cell as the frame holds it (lenient: the log is payorxl's own record,
    and a cell a person edited must not stop an import or a recalculation)."""
    if kind == m.DATETIME:
        if isinstance(value, (dt.datetime, dt.date)):
            return pd.Timestamp(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            return pd.Timestamp(serial_to_datetime(float(value)))
        if isinstance(value, str) and value.strip():
            try:
                return pd.Timestamp(value.strip())
            except ValueError:
                pass
        return pd.NaT
    if kind in (m.MONEY, m.INT):
        if is_blank(value) or isinstance(value, bool):
            return pd.NA
        try:
            return to_cents(value) if kind == m.MONEY else int(float(value))
        except (TypeError, ValueError, ArithmeticError):
            return pd.NA
    if is_blank(value):
        return ""
    return (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)).strip()


def import_log(grid) -> pd.DataFrame:
    """The ImportLog from its cells (a 2-D grid, header row first, as a reader or an
    xlwings range gives them): the keys of model.IMPORT_LOG (money in cents,
    imported_at a Timestamp) plus _row; columns are found by header, blank rows skipped."""
    fields = m.IMPORT_LOG.fields
    grid = grid or []
    header = [" ".join(str(h).split()).lower() if h is not None else "" for h in (grid[0] if grid else [])]
    index = {f.key: header.index(f.name.lower()) for f in fields if f.name.lower() in header}
    records = []
    for r, line in enumerate(grid[1:], start=2):
        values = {k: (line[i] if i < len(line) else None) for k, i in index.items()}
        if all(is_blank(v) for v in values.values()):
            continue
        records.append((r, values))
    dtypes = {m.DATETIME: "datetime64[ns]", m.MONEY: "Int64", m.INT: "Int64"}
    out = {f.key: pd.Series([_log_value(v.get(f.key), f.kind) for _, v in records],
                            dtype=dtypes.get(f.kind, object)) for f in fields}
    out[ROW] = pd.Series([r for r, _ in records], dtype="int64")
    return pd.DataFrame(out)
