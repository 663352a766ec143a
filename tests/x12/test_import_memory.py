"""An 835 import's memory is bounded by the rows it appends, not by copies of them (issue 16).

Nothing here is timed and nothing depends on the machine: memory is tracemalloc's count of
Python allocations, which is the same on every run of the same code and data. The bounds
are structural: the new rows' sheet XML and the Reconciliation sheet's XML are made a
chunk at a time and kept compressed, so the peak while appending and writing is a small
fraction of the XML written (it was more than the XML itself, several times over, before);
and making the rows in small chunks or large ones writes the same bytes.
(benchmarks/import_big.py measures the real process: peak RSS and time for a 20 MB and a
100 MB 835.)"""
from __future__ import annotations

import datetime as dt
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from script_helpers import load_script

from payorxl import importer, pipeline
from payorxl.engine.reconciliation import build_reconciliation
from payorxl.workbook import append
from payorxl.workbook.append import RowChunks, WorkbookEditor, append_rows, replace_cells
from payorxl.workbook.read import read_inputs
from payorxl.workbook.sheets import STYLES, reconciliation_sheet
from payorxl.workbook.xlsxpart import Cell, sheet_parts

NOW = dt.datetime(2026, 11, 2, 9, 30)


def _bench():
    return load_script("benchmarks/x12_bench.py")


@pytest.fixture(scope="module")
def era_600(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("era") / "big.835"
    path.write_text(_bench().generate_835(600))
    return path


@pytest.fixture(scope="module")
def blank_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "blank.xlsx"
    pipeline.new_workbook(path, settings_values={"practice_name": "Test"})
    return path


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def _sheet(path: Path, sheet: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(sheet_parts(z)[sheet])


def _payment(i: int) -> dict:
    return {"Claim ID": f"PCN{i:07d}", "Line": 1 + i % 3, "Payor": "Acme Health Plan",
            "Remit Date": dt.date(2026, 3, 1 + i % 28), "Check No": f"EFT{i // 50:05d}", "Claim Status": "1",
            "CPT": "99213", "Charge": Decimal("120.00"), "Allowed": Decimal("80.55"), "Paid": Decimal("64.44"),
            "Patient Resp": Decimal("16.11"), "Source": "big.835"}


def _peak(run) -> int:
    """tracemalloc's peak of run() above what was allocated before it, in bytes."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_appended_rows_are_never_held_whole(blank_book, tmp_path, monkeypatch):
    """Payments rows given in chunks: ten times the rows (over 7 MB more sheet XML)
    raise the peak while appending and writing them by a small fraction of that XML (the
    rows' XML is compressed as it is made, and streamed into the zip); and the sheet is
    byte for byte what one list of the same rows gives."""
    monkeypatch.setattr(append, "APPEND_CHUNK_ROWS", 500)

    def chunks(n: int) -> RowChunks:
        return RowChunks(n, lambda: ([_payment(i) for i in range(k, min(k + 500, n))] for k in range(0, n, 500)))

    def appended(n: int) -> tuple[int, int]:
        book = _copy(blank_book, tmp_path / f"chunks-{n}.xlsx")

        def run():
            with WorkbookEditor(book) as editor:
                where = append_rows(editor, "Payments", chunks(n))
                editor.save()
            assert (where.first_row, where.last_row) == (2, n + 1)
        return _peak(run), len(_sheet(book, "Payments"))
    (small_peak, small_xml), (large_peak, large_xml) = appended(1_000), appended(10_000)
    assert large_xml - small_xml > 7 * 2**20
    assert large_peak - small_peak < (large_xml - small_xml) / 6, \
        f"peak {small_peak / 2**20:.1f} -> {large_peak / 2**20:.1f} MB for {small_xml / 2**20:.1f} -> " \
        f"{large_xml / 2**20:.1f} MB of XML"

    by_list = _copy(blank_book, tmp_path / "list.xlsx")
    with WorkbookEditor(by_list) as editor:
        append_rows(editor, "Payments", [_payment(i) for i in range(1_200)])
        editor.save()
    by_chunks = _copy(blank_book, tmp_path / "chunks.xlsx")
    with WorkbookEditor(by_chunks) as editor:
        append_rows(editor, "Payments", chunks(1_200))
        editor.save()
    assert _sheet(by_chunks, "Payments") == _sheet(by_list, "Payments")


def test_a_large_owned_sheet_is_streamed_and_the_same(blank_book, tmp_path, monkeypatch):
    """replace_cells of 60,000 cells: the same sheet as made whole, at less than half the
    peak of making it whole (the cells themselves are the caller's; what is left is the
    fixed cost of streaming the old sheet in 4 MB pieces)."""
    cells = [Cell(0, 0, "Reconciliation", "title"), Cell(1, 0, "as of today", "subtitle")]
    cells += [Cell(r, c, f"PCN{r:07d}-{c}" if c % 2 else r * 1.25, "money" if c == 3 else "")
              for r in range(3, 6_003) for c in range(10)]
    whole = _copy(blank_book, tmp_path / "whole.xlsx")
    monkeypatch.setattr(append, "STREAM_CELLS", 10**9)

    def whole_run():
        with WorkbookEditor(whole) as editor:
            replace_cells(editor, "Reconciliation", cells, STYLES)
            editor.save()
    whole_peak = _peak(whole_run)
    monkeypatch.setattr(append, "STREAM_CELLS", 0)
    monkeypatch.setattr(append, "_REPLACE_CHUNK_ROWS", 1_000)
    streamed = _copy(blank_book, tmp_path / "streamed.xlsx")

    def run():
        with WorkbookEditor(streamed) as editor:
            replace_cells(editor, "Reconciliation", cells, STYLES)
            editor.save()
    peak = _peak(run)
    written = _sheet(streamed, "Reconciliation")
    assert written == _sheet(whole, "Reconciliation")
    assert len(written) > 3 * 2**20
    assert peak < whole_peak / 2, \
        f"peak {peak / 2**20:.1f} MB (whole: {whole_peak / 2**20:.1f} MB) for {len(written) / 2**20:.1f} MB of XML"


def test_chunk_size_does_not_change_what_an_import_writes(blank_book, era_600, tmp_path, monkeypatch):
    """The same 600-claim 835 imported with the rows made 10,000 at a time (one chunk)
    and 100 at a time: every part of the workbook written is the same, and the result too."""
    def run(chunk: int, name: str):
        monkeypatch.setattr(importer._Rows, "CHUNK", chunk)
        monkeypatch.setattr(append, "APPEND_CHUNK_ROWS", chunk)
        monkeypatch.setattr(append, "_REPLACE_CHUNK_ROWS", chunk)
        book = _copy(blank_book, tmp_path / name)
        result = importer.import_files(book, [era_600], now=NOW)
        with zipfile.ZipFile(book) as z:
            return result.as_dict()["files"], {i.filename: z.read(i) for i in z.infolist()}
    big, small = run(10_000, "big.xlsx"), run(100, "small.xlsx")
    assert big[0] == small[0] and big[0][0]["status"] == importer.IMPORTED
    assert big[0][0]["rows"] > 600
    assert big[1] == small[1]


def test_the_import_lays_out_reconciliation_as_a_recalculation_does(blank_book, era_600, tmp_path):
    """The import lays out only the Reconciliation sheet (not Exceptions, as large for an
    835 of unmatched rows): the cells are those pipeline.lay_out gives."""
    book = _copy(blank_book, tmp_path / "book.xlsx")
    importer.import_files(book, [era_600], now=NOW)
    inputs = read_inputs(book, also=(importer.LOG_SHEET,))
    results = pipeline.evaluate(inputs)
    log = pipeline.log_of(inputs)
    recon = build_reconciliation(log, inputs.frames["Payments"], inputs.frames["Claims"], inputs.frames["Adjustments"])
    mine = list(reconciliation_sheet(results, recon))
    assert mine == pipeline.lay_out(results, inputs.frames, log)["Reconciliation"]
    assert len(mine) > 5_000
    assert isinstance(inputs.frames["Payments"], pd.DataFrame)


def test_cells_given_in_row_order_are_written_as_a_list_of_them_is(blank_book, tmp_path, monkeypatch):
    """replace_cells of an iterator (sheets.reconciliation_sheet's, made as it is written):
    the same sheet as the same cells given as a list in any order; an iterator out of row
    order is refused, not written wrong."""
    monkeypatch.setattr(append, "STREAM_CELLS", 1_000)
    monkeypatch.setattr(append, "_REPLACE_CHUNK_ROWS", 70)
    cells = [Cell(0, 0, "Title", "title")] + [Cell(r, c, f"v{r}-{c}" if c else r * 1.5, "money" if c == 0 else "")
                                             for r in range(3, 800) for c in range(4)]
    written = {}
    for name, given in (("list", cells[::-1]), ("iter", iter(cells))):
        book = _copy(blank_book, tmp_path / f"{name}.xlsx")
        with WorkbookEditor(book) as editor:
            replace_cells(editor, "Reconciliation", given, STYLES)
            editor.save()
        written[name] = _sheet(book, "Reconciliation")
    assert written["iter"] == written["list"]
    with WorkbookEditor(_copy(blank_book, tmp_path / "bad.xlsx")) as editor, pytest.raises(ValueError):
        replace_cells(editor, "Reconciliation", iter(cells + [Cell(5, 9, "late")]), STYLES)
