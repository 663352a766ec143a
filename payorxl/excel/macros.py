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
from collections.abc import Sequence
from pathlib import Path

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
    book.write_sheets(pipeline.lay_out(results, inputs.frames, pipeline.log_of(inputs), inputs.headers), HEIGHTS)
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


# The picked paths reach Python through a list file, not in the command RunPython runs:
# on Mac xlwings' AppleScript splits that command's parameters on "|", and on Windows
# cmd.exe stops at 8,191 characters (Run-time error 53), which 20-odd long paths pass.
# macros/PayorxlButtons.bas writes the list in a new file of its own (Windows: %TEMP%;
# Mac: HOME, the sandbox's folder where xlwings writes its log too), one path a line,
# each as hex of its UTF-16 code units (plain ASCII: no code page can change it, and a
# newline in a name cannot split it), and sends "@" and the hex of the list's own path:
# short, and with nothing a quote, "|", a backslash or a shell could break. Python reads
# the list and deletes it. The older form, the paths' hex joined by "|", is still read.

LIST_PREFIX, LIST_SUFFIX = "payorxl-paths-", ".txt"


def _hex_utf16(text: str) -> str:
    """macros/PayorxlButtons.bas HexUtf16: four hex digits per UTF-16 code unit."""
    return text.encode("utf-16-be").hex().upper()


def _unhex_utf16(text: str) -> str:
    return bytes.fromhex(text).decode("utf-16-be")


def encode_paths(paths: Sequence[str | Path], folder: str | Path | None = None) -> str:
    """What the VBA side sends for these paths: it writes their list file (in `folder`,
    by default the temporary folder) and returns the argument for the button's function.
    For tests and for calling by hand; the function deletes the list when it reads it."""
    import os
    import tempfile
    fd, name = tempfile.mkstemp(prefix=LIST_PREFIX, suffix=LIST_SUFFIX, dir=folder)
    with os.fdopen(fd, "wb") as f:           # as VBA's Print # writes it on Windows
        f.write(b"".join(_hex_utf16(str(p)).encode("ascii") + b"\r\n" for p in paths))
    return "@" + _hex_utf16(name)


def decode_paths(text: str) -> list[Path]:
    """The paths `text` names: "@" and a list file's hex (read, then deleted), or the
    older form, each path's hex joined by "|"."""
    try:
        if not text.startswith("@"):
            return [Path(_unhex_utf16(part)) for part in text.split("|") if part]
        listing = Path(_unhex_utf16(text[1:]))
    except ValueError:
        raise PayorxlError("the file names from Excel could not be read; pick the files again") from None
    try:
        data = listing.read_bytes()
    except OSError as e:
        reason = " ".join((e.strerror or type(e).__name__).split())
        raise PayorxlError(f"the list of files picked in Excel ({listing}) could not be read: {reason}; "
                           "pick the files again") from None
    finally:
        if listing.name.startswith(LIST_PREFIX) and listing.name.endswith(LIST_SUFFIX):
            try:
                listing.unlink()
            except OSError:
                pass
    try:
        return [Path(_unhex_utf16(line.strip())) for line in data.decode("ascii").splitlines() if line.strip()]
    except ValueError:    # UnicodeDecodeError too
        raise PayorxlError(f"the list of files picked in Excel ({listing}) could not be read; "
                           "pick the files again") from None
