"""Read a workbook's input tables and Settings into typed frames, fast.

Values come from python-calamine (a Rust reader, several times faster than openpyxl:
TOOLCHAIN.md); structure is known from the template: each input table starts at A1 of
the sheet of the same name, headers in row 1. Columns are found by header, so users may
reorder columns or add their own; calculated columns are ignored (the engine recomputes
them). Every problem becomes a `DataError`; only an unreadable file raises.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from .. import model as m
from ..conversion import Converted, convert_value, empty_frame, table_from_grid, _Bad
from ..errors import CellRef, DataError, PayorxlError, WARNING


@dataclass
class Inputs:
    """What a workbook holds: typed frames by table name, the settings, and the errors
    found while reading (rows with errors are not in the frames)."""
    frames: dict[str, pd.DataFrame]
    settings: m.Settings
    errors: list[DataError] = field(default_factory=list)
    settings_values: dict = field(default_factory=dict)


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
    if not zipfile.is_zipfile(path):
        raise PayorxlError(f"{path.name} is not an .xlsx/.xlsm workbook (not a zip file); "
                           "save it from Excel as 'Excel Workbook (*.xlsx)' or 'Macro-Enabled (*.xlsm)'")
    check_zip(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own types for damaged files
        raise PayorxlError(f"{path.name} could not be read as a workbook ({type(e).__name__}: {e}); "
                           "open it in Excel and save it again, or restore a backup") from None


def read_grid(book: CalamineWorkbook, sheet: str) -> list[list] | None:
    if sheet not in book.sheet_names:
        return None
    try:
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as e:  # calamine's XmlError, ZipError...: the sheet's XML is damaged
        raise PayorxlError(f"{Path(book.path).name}: the {sheet} sheet could not be read "
                           f"({type(e).__name__}: {str(e)[:200]}); open the workbook in Excel and "
                           "save it again, or restore a backup") from None


def read_table(book: CalamineWorkbook, table: m.Table) -> Converted:
    grid = read_grid(book, table.name)
    if grid is None:
        return Converted(empty_frame(table), [DataError(
            CellRef(table.name), None, f"the workbook has no '{table.name}' sheet",
            f"add a sheet named {table.name} with the table's headers in row 1 "
            "(or start from 'payorxl new')")])
    header = {str(h).strip().lower() for h in (grid[0] if grid else [])}
    missing = [c.name for c in table.columns if c.required and c.name.lower() not in header]
    if missing:
        return Converted(empty_frame(table), [DataError(
            CellRef(table.name, 1), None,
            f"the header row (row 1) lacks required column(s): {', '.join(missing)}",
            "put the table's headers in row 1, spelled as in the template")])
    return table_from_grid(table, grid, table.name, first_row=1)


def settings_from_values(values: dict, as_of=None) -> m.Settings:
    """Settings from converted values by key (money in cents); as_of wins over the sheet."""
    kwargs = {k: v for k, v in values.items() if v is not None and k != "as_of"}
    return m.Settings.make(as_of if as_of is not None else values.get("as_of"), **kwargs)


def convert_settings(raw: dict, sheet_rows: dict | None = None) -> tuple[dict, list[DataError]]:
    """Raw Excel values by setting key -> converted values; bad values fall back to the
    default with a warning naming the Settings row."""
    values, errors = {}, []
    for s in m.SETTINGS:
        if s.key not in raw:
            continue
        col = m.Column(s.name, s.key, s.kind, default=s.default)
        if s.kind == m.MONEY and s.default is not None:
            col = m.Column(s.name, s.key, s.kind, default=int(round(s.default * 100)))
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


def inputs_from_book(book, as_of=None) -> Inputs:
    """All input tables and the settings of an open book (anything with `sheet_names`
    and `get_sheet_by_name(name).to_python()`: a calamine workbook, or the grids an open
    Excel workbook gives)."""
    settings, errors, values = read_settings(book, as_of)
    frames = {}
    for table in m.INPUT_TABLES:
        converted = read_table(book, table)
        frames[table.name] = converted.frame
        errors.extend(converted.errors)
    return Inputs(frames, settings, errors, values)


def read_inputs(path: str | Path, as_of=None) -> Inputs:
    """All input tables and the settings of the workbook at `path`."""
    book = open_workbook(path)
    try:
        return inputs_from_book(book, as_of)
    finally:
        book.close()
