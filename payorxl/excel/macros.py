"""The Dashboard's buttons: what RunPython calls (macros/PayorxlButtons.bas).

Each handler takes the workbook whose button was pressed (xlwings' ``Book.caller()``,
wrapped as books.ExcelBook) and runs the pipeline through the small `PracticeBook`
interface, so the same lines run on a file on disk (books.FileBook: the tests, or
Python at a prompt) as in Excel:

    Recalculate       read, validate, calculate, write every owned sheet — the CLI's
                      ``payorxl recalc``, into the open workbook
    Import remittance the files picked in Excel -> importer.import_files -> Recalculate
    Import claims     the same, for 837P claim files
    Check data        validate and write the Exceptions sheet, then show it

From Python: ``recalculate(book=FileBook("practice.xlsm"))``. From Excel (no book given),
a problem with the workbook (PayorxlError) shows as a message box, not a traceback.
"""
from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Sequence

from .. import pipeline
from ..errors import PayorxlError
from ..workbook.sheets import ROW_HEIGHTS, owned_sheets
from .books import FileBook, PracticeBook, caller

HEIGHTS = ROW_HEIGHTS   # as pipeline.recalc writes them

__all__ = ["recalculate", "check_data", "import_remittance", "import_claims", "FileBook",
           "encode_paths", "decode_paths"]


def button(handler):
    """Run `handler(book, *args)` on the given book, or on the calling Excel workbook,
    where a PayorxlError becomes a message box."""
    @functools.wraps(handler)
    def press(*args, book: PracticeBook | None = None):
        if book is not None:
            return handler(book, *args)
        book = caller()
        try:
            return handler(book, *args)
        except PayorxlError as e:
            book.alert(str(e))
    # What RunPython calls: the handler's arguments after the book, and book= for tests.
    signature = inspect.signature(handler)
    press.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:] + [
        inspect.Parameter("book", inspect.Parameter.KEYWORD_ONLY, default=None)])
    return press


@button
def recalculate(book: PracticeBook) -> str:
    """Recalculate: every owned sheet rewritten from the tables, as `payorxl recalc`."""
    inputs = book.read_inputs()
    results = pipeline.evaluate(inputs)
    book.write_sheets(pipeline.lay_out(results, inputs.frames, pipeline.log_of(inputs)), HEIGHTS)
    return _tell(book, pipeline.summarize(book.name, results))


@button
def check_data(book: PracticeBook) -> str:
    """Check data: the Exceptions sheet rewritten with every problem found, and shown."""
    results = pipeline.evaluate(book.read_inputs())
    book.write_sheets({"Exceptions": owned_sheets(results)["Exceptions"]})
    book.select("Exceptions")
    s = pipeline.summarize(book.name, results)
    book.tell(message := f"Check data: {s.errors} error(s), {s.warnings} warning(s) — see Exceptions")
    return message


@button
def import_remittance(book: PracticeBook, files: str | Sequence = "") -> str:
    """Import remittance: the 835 files picked in Excel, then Recalculate."""
    return _import(book, files)


@button
def import_claims(book: PracticeBook, files: str | Sequence = "") -> str:
    """Import claims: the 837P files picked in Excel, then Recalculate."""
    return _import(book, files)


def _import(book: PracticeBook, files) -> str:
    paths = decode_paths(files) if isinstance(files, str) else [Path(f) for f in files]
    if not paths:
        return ""
    result = book.import_files(paths)
    outcome = "; ".join(f"{f.name}: {f.status}" + (f" ({f.message})" if f.message else "") for f in result.files)
    if not result.written:
        raise PayorxlError(f"nothing was imported — {outcome}")
    recalculate(book=book)
    book.tell(outcome)
    return outcome


def _tell(book: PracticeBook, s: pipeline.Summary) -> str:
    left_out = f"; {s.errors} row(s) left out, see Exceptions" if s.errors else ""
    message = f"Recalculated {s.claim_lines:,} claim lines as of {s.as_of}{left_out}"
    book.tell(message)
    return message


# Paths travel from VBA inside the Python command RunPython runs, so they are sent as
# hex of their UTF-16 code units, joined by "|": no quote or backslash in a path can
# break the command (macros/PayorxlButtons.bas, HexUtf16).

def encode_paths(paths: Sequence[str | Path]) -> str:
    """What the VBA side sends for these paths (for tests and for calling by hand)."""
    return "|".join(str(p).encode("utf-16-be").hex().upper() for p in paths)


def decode_paths(text: str) -> list[Path]:
    try:
        return [Path(bytes.fromhex(part).decode("utf-16-be")) for part in text.split("|") if part]
    except ValueError:
        raise PayorxlError("the file names from Excel could not be read; pick the files again") from None
