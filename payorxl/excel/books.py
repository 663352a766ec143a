"""Where a button's work is read and written: a workbook open in Excel, or a file on disk.

A button handler (macros.py) does the same whichever workbook it is given: read the
input tables and Settings, run the pipeline, lay the results out with
`workbook.sheets.owned_sheets`, write those cells, maybe select a sheet. `PracticeBook`
is that handful of operations, with two implementations:

- `FileBook`, a workbook file on disk: the reader (python-calamine) and the zip-part
  writer (xlsxpart.write_owned_sheets) the CLI uses. Tests press the buttons through it,
  so every line of a handler's logic runs here, without Excel.
- `ExcelBook`, a workbook open in Excel, through xlwings' open-source API only: the
  same cell lists are written into the owned sheets with ``sheet.range(...).value``. It
  never saves or closes the workbook for a recalculation (Excel owns the open file);
  an import saves it, as Ctrl+S would, because the importer works on a file.

What ExcelBook does with xlwings is kept to plain calls over grids that the pure
functions below (`cells_to_grid`, `style_runs`, `grids_to_inputs`) prepare and that the
tests check; the calls themselves are on docs/excel.md's manual Windows checklist.
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import importer, model as m
from ..errors import PayorxlError
from ..workbook.formulas import INDEX_SHEET, index_names
from ..workbook.index import TITLE_START as INDEX_TITLE_START
from ..workbook.read import LOG_SHEET, Inputs, inputs_from_book, read_inputs
from ..workbook.sheets import STYLES
from ..workbook.xlsxpart import (
    Cell,
    Formula,
    Style,
    expanded,
    file_state,
    rewrite_parts,
    sheet_parts,
    write_owned_sheets,
)


class PracticeBook(Protocol):
    """What a button needs from a practice workbook."""

    name: str

    def read_inputs(self, as_of=None) -> Inputs:
        """The input tables and Settings, read and converted (errors collected), with the
        ImportLog's cells in `grids` (pipeline.log_of)."""

    def write_sheets(self, sheets: dict[str, list[Cell]], heights: dict[str, dict[int, float]] | None = None) -> None:
        """Replace the cells of the named owned sheets; `heights`: row heights (points)
        by sheet and 0-based row."""

    def select(self, sheet: str) -> None:
        """Make `sheet` the one the user sees."""

    def tell(self, message: str) -> None:
        """A one-line outcome for the user."""

    def import_files(self, files: Sequence[Path], allow_unbalanced: bool = False):
        """Import 835/837P files (importer.import_files) and return its result."""


# --- a file on disk ---------------------------------------------------------------------

@dataclass
class FileBook:
    """A practice workbook file (.xlsx or .xlsm) that Excel does not have open."""
    path: Path
    messages: list[str] = field(default_factory=list)
    read_state: tuple | None = None   # the file as it was read: a save since then is not overwritten
    today_cell: tuple | None = None   # the Today the formulas count from (pipeline.today_read_by_formulas)

    def __post_init__(self):
        self.path = Path(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    def read_inputs(self, as_of=None) -> Inputs:
        from ..pipeline import today_read_by_formulas
        self.read_state = file_state(self.path)
        inputs = read_inputs(self.path, as_of, also=(LOG_SHEET,))
        self.today_cell = today_read_by_formulas(inputs)
        return inputs

    def write_sheets(self, sheets, heights=None):
        # as `payorxl recalc` writes: refused if the file changed since it was read, and
        # Excel recalculates on opening when the Today the formulas count from moved
        from ..pipeline import without_foreign_index
        write_owned_sheets(self.path, without_foreign_index(self.path, sheets), STYLES, None, heights,
                           self.read_state, self.today_cell)
        self.read_state = self.today_cell = None

    def select(self, sheet: str) -> None:
        select_sheet(self.path, sheet)

    def tell(self, message: str) -> None:
        self.messages.append(message)

    def import_files(self, files, allow_unbalanced=False):
        return importer.import_files(self.path, files, allow_unbalanced=allow_unbalanced)


_SHEET_VIEW = re.compile(r"<sheetView\b[^>]*?/?>")
_WORKBOOK_VIEW = re.compile(r"<workbookView\b[^>]*?/?>")


def select_sheet(path: str | Path, sheet: str) -> None:
    """Make `sheet` the active, only selected tab of the workbook file: what Excel
    shows on opening. Changes the workbook view's activeTab and the tabSelected flag of
    the sheets that had it (several selected tabs would be a group, and an edit would
    go to all of them)."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        parts = sheet_parts(zf)
        if sheet not in parts:
            raise PayorxlError(f"{path.name} has no sheet named {sheet}")
        names = list(parts)
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
        xml = {name: zf.read(part).decode("utf-8") for name, part in parts.items()}
    replace: dict[str, bytes] = {}

    index = names.index(sheet)

    def view(match):
        tag = re.sub(r'\sactiveTab="\d+"', "", match.group(0))
        return tag.replace("<workbookView", f'<workbookView activeTab="{index}"', 1)
    new = _WORKBOOK_VIEW.sub(view, workbook, count=1)
    if new != workbook:
        replace["xl/workbook.xml"] = new.encode("utf-8")
    for name, text in xml.items():
        def flag(match, chosen=(name == sheet)):
            tag = re.sub(r'\stabSelected="(1|true)"', "", match.group(0))
            return tag.replace("<sheetView", '<sheetView tabSelected="1"', 1) if chosen else tag
        new = _SHEET_VIEW.sub(flag, text, count=1)
        if new != text:
            replace[parts[name]] = new.encode("utf-8")
    if replace:
        rewrite_parts(path, path, replace)


# --- a workbook open in Excel -------------------------------------------------------------

def cells_to_grid(cells: Iterable[Cell]) -> list[list]:
    """The cells of an owned sheet as one rectangular grid from A1, for a single
    ``range("A1").value = grid`` write. Gaps are None. Text is written with Excel's
    text prefix (') so that nothing is parsed as it would be if typed: not "=..." as a
    formula (imported text must never become one), not "03-14" as a date, not "00123"
    as a number; the prefix is not part of the value. Only a `Formula` (payorxl's own
    live figures) is written as "=...", and Excel computes it."""
    cells = list(cells)
    if not cells:
        return []
    rows = max(c.row for c in cells) + 1
    cols = max(c.col for c in cells) + 1
    grid: list[list] = [[None] * cols for _ in range(rows)]
    for c in cells:
        v = c.value
        if isinstance(v, Formula):          # payorxl's own live figure: set as a formula
            # (as typed: the file's "_xlfn." prefix of a newer function is not Excel's language)
            grid[c.row][c.col] = "=" + v.text.replace("_xlfn.", "")
            continue
        if hasattr(v, "to_pydatetime"):
            v = v.to_pydatetime()
        if isinstance(v, float) and v != v:
            v = None
        if isinstance(v, str):
            v = "'" + v if v else None
        grid[c.row][c.col] = v
    return grid


def column_bands(cells: Iterable[Cell]) -> list[tuple[int, list[list]]]:
    """The cells as grids of neighbouring columns, each (its first column, its grid from
    row 0; cells_to_grid's values): the Index's slots leave most columns empty, and one grid
    from A1 would send Excel every empty cell between them. (The slots and tails come as
    Runs, xlsxpart's: each as the cells it stands for.)"""
    by_col: dict[int, list[Cell]] = {}
    for c in expanded(cells):
        by_col.setdefault(c.col, []).append(c)
    bands: list[list[int]] = []
    for col in sorted(by_col):
        if bands and col == bands[-1][-1] + 1:
            bands[-1].append(col)
        else:
            bands.append([col])
    out = []
    for band in bands:
        first = band[0]
        grid = cells_to_grid([Cell(c.row, c.col - first, c.value, c.style) for col in band for c in by_col[col]])
        out.append((first, grid))
    return out


def style_runs(cells: Iterable[Cell]) -> list[tuple[str, int, int, int]]:
    """(style, first row, column, last row) for each vertical run of cells with the
    same style (0-based), so formats are applied one range at a time, not per cell."""
    by_col: dict[int, list[Cell]] = {}
    for c in cells:
        if c.style:
            by_col.setdefault(c.col, []).append(c)
    runs = []
    for col in sorted(by_col):
        run = None
        for c in sorted(by_col[col], key=lambda c: c.row):
            if run and run[0] == c.style and run[3] == c.row - 1:
                run[3] = c.row
            else:
                if run:
                    runs.append(tuple(run))
                run = [c.style, c.row, col, c.row]
        runs.append(tuple(run))
    return runs


class _Grids:
    """The calls workbook.read makes on a python-calamine workbook, answered from grids
    already read from Excel, so the open workbook is read by the very same code."""

    def __init__(self, grids: dict[str, list[list] | None]):
        self._grids = {k: v for k, v in grids.items() if v is not None}
        self.sheet_names = list(self._grids)

    def get_sheet_by_name(self, name: str):
        grid = self._grids[name]

        class _Sheet:
            def to_python(self, skip_empty_area=False):
                return grid
        return _Sheet()


def grids_to_inputs(grids: dict[str, list[list] | None], as_of=None) -> Inputs:
    """Inputs from sheet grids (name -> 2-D values from A1; None: no such sheet), read
    exactly as `workbook.read.read_inputs` reads a file."""
    return inputs_from_book(_Grids(grids), as_of)


_XL_ALIGN = {"left": -4131, "center": -4108, "right": -4152}   # Excel's xlLeft, xlCenter, xlRight


def _apply_style(rng, style: Style) -> None:
    if style.num_format != "General":
        rng.number_format = style.num_format
    if style.bold:
        rng.font.bold = True
    if style.italic:
        rng.font.italic = True
    if style.size != 11:
        rng.font.size = style.size
    if style.color:
        rng.font.color = "#" + style.color
    if style.fill:
        rng.color = "#" + style.fill
    if getattr(style, "wrap", False):
        rng.wrap_text = True
    align = getattr(style, "align", None)
    if align and sys.platform.startswith("win"):   # xlwings has no portable alignment call
        rng.api.HorizontalAlignment = _XL_ALIGN[align]


class ExcelBook:
    """A practice workbook open in Excel (an xlwings Book)."""

    def __init__(self, book):
        self.book = book

    @property
    def name(self) -> str:
        return self.book.name

    def _grid(self, name: str) -> list[list] | None:
        if name not in [s.name for s in self.book.sheets]:
            return None
        sheet = self.book.sheets[name]
        last = sheet.used_range.last_cell
        return sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value

    def read_inputs(self, as_of=None) -> Inputs:
        names = [t.name for t in m.INPUT_TABLES] + [m.SETTINGS_SHEET]
        inputs = grids_to_inputs({name: self._grid(name) for name in names}, as_of)
        inputs.grids = {LOG_SHEET: self._grid(LOG_SHEET)}
        return inputs

    def write_sheets(self, sheets, heights=None):
        app = self.book.app
        updating, app.screen_updating = app.screen_updating, False
        try:
            if INDEX_SHEET in sheets and not self._own_index():
                from ..pipeline import without_index
                sheets = without_index(sheets)
            for name, cells in sheets.items():
                sheet = self.book.sheets[name]
                sheet.used_range.clear()           # values and formats; charts and buttons stay
                if name == INDEX_SHEET:
                    cells = list(cells)
                    for first, grid in column_bands(cells):
                        sheet.range((1, first + 1)).value = grid
                else:
                    grid = cells_to_grid(cells)
                    if grid:
                        sheet.range((1, 1)).value = grid
                for style, first, col, last in style_runs(cells):
                    _apply_style(sheet.range((first + 1, col + 1), (last + 1, col + 1)), STYLES[style])
                for row, points in (heights or {}).get(name, {}).items():
                    sheet.range((row + 1, 1)).row_height = points
        finally:
            app.screen_updating = updating

    def _own_index(self) -> bool:
        """Whether the book has payorxl's Index sheet and the names its formulas read it by
        (pipeline.without_foreign_index): A1 holds its title, or the sheet is empty."""
        if INDEX_SHEET not in [s.name for s in self.book.sheets]:
            return False
        if not set(index_names()) <= {n.name for n in self.book.names}:
            return False
        sheet = self.book.sheets[INDEX_SHEET]
        a1 = sheet.range("A1").value
        if a1 is not None:
            return str(a1).startswith(INDEX_TITLE_START)
        used = sheet.used_range
        return used.address == "$A$1"

    def select(self, sheet: str) -> None:
        self.book.sheets[sheet].activate()

    def tell(self, message: str) -> None:
        self.book.app.status_bar = message

    def alert(self, message: str) -> None:
        self.book.app.alert(message, title="payorxl", mode="critical")

    def import_files(self, files, allow_unbalanced=False):
        """The importer works on a file: save the workbook (as Ctrl+S would), import into
        a copy of it, then bring the rows the import wrote into the open workbook."""
        self.book.save()
        with tempfile.TemporaryDirectory(prefix="payorxl-import-") as tmp:
            copy = Path(tmp) / Path(self.book.fullname).name
            shutil.copyfile(self.book.fullname, copy)
            log_rows = len(self._grid(LOG_SHEET) or [])
            result = importer.import_files(copy, files, allow_unbalanced=allow_unbalanced)
            if result.written:
                for name, first, last in written_rows(result, LOG_SHEET, log_rows):
                    self._copy_rows(copy, name, first, last)
        return result

    def _copy_rows(self, copy: Path, name: str, first: int, last: int) -> None:
        from ..workbook.read import open_workbook, read_grid
        wb = open_workbook(copy)
        try:
            grid = read_grid(wb, name) or []
        finally:
            wb.close()
        rows = rows_of(grid, first, last, _input_width(name, grid))
        sheet = self.book.sheets[name]
        sheet.range((first, 1)).value = [[("'" + v) if isinstance(v, str) and v else v for v in row]
                                         for row in rows]
        tables = [t for t in sheet.tables if t.name == name]
        if tables and tables[0].range.last_cell.row < last:
            # grow the Excel table: its calculated columns fill the new rows
            tables[0].resize(sheet.range((1, 1), (last, tables[0].range.columns.count)))


def written_rows(result, log_sheet: str, log_rows_before: int) -> list[tuple[str, int, int]]:
    """(sheet, first Excel row, last Excel row) of what an import wrote: each file's
    rows (Payments for an 835, Claims for an 837P) and the ImportLog rows after the
    ones there before."""
    out = []
    for f in result.files:
        if f.rows and f.first_row:
            out.append(("Payments" if f.kind == "835" else "Claims", f.first_row, f.last_row))
    logged = sum(1 for f in result.files if f.status == "imported")
    if logged:
        first = max(log_rows_before, 1) + 1
        out.append((log_sheet, first, first + logged - 1))
    return out


def _input_width(name: str, grid: Sequence[Sequence[Any]]) -> int:
    """Columns to copy: an input table's own columns (its calculated columns are
    formulas the table fills itself), or the whole row of another sheet."""
    table = m.TABLES.get(name)
    return len(table.columns) if table else (len(grid[0]) if grid else 0)


def rows_of(grid: Sequence[Sequence[Any]], first: int, last: int, width: int) -> list[list]:
    """Excel rows first..last (1-based) of a sheet grid read from A1, cut or padded to
    `width` columns, with calamine's empty strings as None."""
    out = []
    for line in list(grid[first - 1:last]) + [[]] * max(0, last - len(grid)):
        row = [(None if v == "" else v) for v in list(line[:width])]
        out.append(row + [None] * (width - len(row)))
    return out


def caller() -> ExcelBook:
    """The workbook whose button ran the Python call (xlwings' Book.caller)."""
    import xlwings as xw
    return ExcelBook(xw.Book.caller())
