"""Errors are values: each bad cell, row or file becomes a `DataError` that says where it
is (sheet, row, column), what the value was, what is wrong and how to fix it. Readers and
checks collect them and keep computing the rows that are fine; the Exceptions sheet and
`payorxl check` show them."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR, WARNING = "error", "warning"
# Longest a quoted value, or a whole message, may print: a 40,000-character cell or a
# 100 MB X12 element must not become a 100 MB line on the screen or in a log.
MAX_VALUE, MAX_MESSAGE, MAX_COMMAND_MESSAGE = 120, 600, 2000


def cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class CellRef:
    """Where a value came from: sheet name, 1-based Excel row, column header."""
    sheet: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        text = self.sheet
        if self.row is not None:
            text += f"!row {self.row}"
        if self.column:
            text += f" [{self.column}]"
        return text


@dataclass(frozen=True)
class DataError:
    """One problem found in the input, with the fix.

    ref: where it is; value: the offending value as the user typed it (repr'd on
    output, never evaluated); message: what is wrong; fix: what to do about it;
    severity: 'error' (the row is left out of the figures) or 'warning' (it is kept).
    phi: the value identifies a patient; it is masked unless the user asks to see it.
    """
    ref: CellRef
    value: Any
    message: str
    fix: str
    severity: str = ERROR
    phi: bool = False

    def __post_init__(self):
        # A message may quote what it found; keep it, and the fix, to a readable length.
        object.__setattr__(self, "message", cut(str(self.message), MAX_MESSAGE))
        object.__setattr__(self, "fix", cut(str(self.fix), MAX_MESSAGE))

    def shown_value(self, show_phi: bool = False) -> str:
        if self.phi and not show_phi:
            return "<hidden: patient identifier>"
        if self.value is None or self.value == "":
            return "(blank)"
        if isinstance(self.value, str):
            return repr(cut(self.value, MAX_VALUE))
        return cut(str(self.value), MAX_VALUE)

    def format(self, show_phi: bool = False) -> str:
        return f"{self.ref}: {self.message} (value: {self.shown_value(show_phi)})\n    fix: {self.fix}"

    def __str__(self) -> str:
        return self.format()

    def as_dict(self, show_phi: bool = False) -> dict:
        d = asdict(self)
        d["value"] = self.shown_value(show_phi)
        d.pop("phi")
        ref = d.pop("ref")
        return {**ref, **d}


class PayorxlError(Exception):
    """A problem that stops a whole command (unreadable file, workbook open in Excel).
    Its message names the file and says what to do; the CLI prints it without a
    traceback. The message is cut to MAX_COMMAND_MESSAGE characters (it may quote a
    value, and a list of cells with its fix runs to a few hundred)."""

    def __init__(self, message: str = "", *args):
        super().__init__(cut(str(message), MAX_COMMAND_MESSAGE), *args)
