"""The recalculation pipeline: read, validate, calculate, lay out, write.

Every path that computes figures goes through these functions, so they cannot disagree:
`payorxl recalc` and the Recalculate button (read_inputs → evaluate → lay_out → write),
`payorxl import` (its Reconciliation sheet), `payorxl new`/`demo` (evaluate → lay_out),
and the PX_ formulas (evaluate over the tables they are given). `recalc(path, ...)` is a
plain, picklable function with no global state: the CLI runs it on one workbook or on a
folder of them in a process pool.
"""
from __future__ import annotations

import re
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import model as m
from .engine import Results, calculate, payment_actions
from .engine.lines import with_claim_codes
from .engine.reconciliation import build_reconciliation
from .errors import ERROR, PayorxlError
from .validate import validate
from .workbook.append import has_own_sheet, refuse_user_sheets
from .workbook.blocks import Blocks, claims_values
from .workbook.formulas import INDEX_SHEET, index_names
from .workbook.index import column_letters, index_cells
from .workbook.package import atomic_copy, resolve, workbook_lock
from .workbook.read import LOG_SHEET, Inputs, import_log, read_inputs
from .workbook.sheets import ROW_HEIGHTS, STYLES, TODAY_CELL, live_figures, live_sheets, owned_sheets
from .workbook.xlsxpart import Cell, Formula, file_state, refuse_if_open, write_owned_sheets


@dataclass
class Summary:
    """What one recalculation did, for the terminal, JSON or a roll-up table."""
    path: str
    practice: str = ""
    as_of: str = ""
    claim_lines: int = 0
    errors: int = 0
    warnings: int = 0
    kpis: dict = field(default_factory=dict)
    worklist: int = 0
    output: str = ""
    changed_parts: list = field(default_factory=list)
    failed: str = ""   # the message when the workbook could not be recalculated


def evaluate(inputs: Inputs, given: set[str] | None = None, parts=None, warnings: bool = True,
             fields=None) -> Results:
    """Validate the inputs and run the engine (no file is touched). given: the tables
    the caller really has, when not all (a PX_ formula), so that no rule judges a row
    against a table it was not given. parts: the Results fields wanted besides the lines
    (engine.calculate's `parts`; default all): a PX_ formula asks only for what it shows.
    warnings=False: the checks that can only warn are skipped (validate's `warnings`, and
    the engine's: calculate's `warnings`): the figures are the same, `errors` lacks those
    warnings. fields: the per-line fields a per-row formula reads (calculate's `fields`)."""
    # (every claim ID coded once, for the checks and the engine alike: lines.with_claim_codes)
    frames, rule_errors = validate(with_claim_codes(inputs.frames), inputs.settings, given, warnings)
    return calculate(frames, inputs.settings, inputs.errors + rule_errors, parts, warnings, fields)


def log_of(inputs: Inputs) -> pd.DataFrame:
    """The ImportLog read with the inputs (read_inputs(..., also=(LOG_SHEET,))), typed."""
    return import_log(inputs.grids.get(LOG_SHEET))


def lay_out(results: Results, frames: dict[str, pd.DataFrame], log: pd.DataFrame | None = None,
            headers: dict[str, list[str]] | None = None) -> dict[str, list[Cell]]:
    """The cells of every owned sheet: the results, the Reconciliation of the ImportLog
    `log` (see import_log) with the Payments and Claims `frames` as read, and the Index of
    those frames (index.py; left out when the Payments sheet lacks a column it mirrors).
    headers: each input table's header row as read (Inputs.headers; default: the
    template's); a live formula that names a column the workbook's table lacks becomes its
    value (`known_columns_only`)."""
    reconciliation = build_reconciliation(import_log([]) if log is None else log,
                                          frames.get("Payments"), frames.get("Claims"), frames.get("Adjustments"))
    payments, claims = frames.get("Payments"), frames.get("Claims")
    index = blocks = None
    if payments is not None and claims is not None:
        def last_error_row(sheet: str) -> int:
            return max((e.ref.row for e in results.errors if e.ref.sheet == sheet and e.ref.row), default=0)

        def left_out_with_id(sheet: str) -> int:   # rows left out for an error whose Claim ID is not blank
            rows = {e.ref.row for e in results.errors if e.ref.sheet == sheet and e.ref.row and e.severity == ERROR}
            blank = {e.ref.row for e in results.errors if e.ref.sheet == sheet and e.ref.column == "Claim ID"
                     and (e.value is None or str(e.value) == "")}
            return len(rows - blank)
        index = index_cells(claims, payments, (headers or {}).get("Payments"),
                            payment_actions(payments, frames.get("DenialRouting"))["action"],
                            (headers or {}).get("Claims"), last_error_row("Payments"), results.claim_rows,
                            last_error_row("Claims"), (left_out_with_id("Payments"), left_out_with_id("Claims")),
                            runs=True)
        if index is not None:
            blocks = summary_blocks(results, claims, (headers or {}).get("Claims"), last_error_row("Claims"))
    with blocks.active() if blocks is not None else nullcontext():
        sheets = owned_sheets(results, reconciliation=reconciliation)
    if blocks is not None:      # each live figure also over whole columns, for a workbook with no Index
        for name, cells in live_sheets(results).items():
            whole = {(c.row, c.col): c.value.text for c in cells if isinstance(c.value, Formula)}
            sheets[name] = [Cell(c.row, c.col, Formula(c.value.text, c.value.cached, whole[(c.row, c.col)]), c.style)
                            if isinstance(c.value, Formula) and whole.get((c.row, c.col), c.value.text) != c.value.text
                            else c for c in sheets[name]]
    if index is not None:
        sheets[INDEX_SHEET] = list(index)
        if blocks is not None:
            sheets[INDEX_SHEET] += blocks.cells(claims_values(claims, results.claim_rows))
    return known_columns_only(sheets, headers) if headers else sheets


def summary_blocks(results: Results, claims: pd.DataFrame, claim_headers: list | None,
                   last_claim_row: int) -> Blocks | None:
    """The live summaries' partial sums by block of Claims rows (workbook/blocks.py), when
    the figures are live (no row left out) and every Claims row's calculated values are
    known; None: the summaries read whole columns."""
    if not live_figures(results) or results.claim_rows is None or len(results.claim_rows) != len(claims):
        return None
    letters = column_letters(claim_headers or m.CLAIMS.headers, m.CLAIMS.headers)
    rows = claims["_row"].to_numpy() if "_row" in claims else np.arange(2, len(claims) + 2)
    return Blocks(rows, last_claim_row, letters, results.settings)


def without_foreign_index(path: str | Path, sheets: dict[str, list[Cell]]) -> dict[str, list[Cell]]:
    """The sheets to write to the workbook at `path`: the Index only where it has one of
    payorxl's, with the names the formulas read it by (a workbook made before the Index has
    neither, and its formulas read none; a sheet of the user's named Index is theirs)."""
    if INDEX_SHEET in sheets and not has_own_sheet(path, INDEX_SHEET, index_names()):
        return without_index(sheets)
    return sheets


def without_index(sheets: dict[str, list[Cell]]) -> dict[str, list[Cell]]:
    """The sheets without the Index, and the formulas that read it as their values (the
    Dashboard's note), or over whole columns (a live figure: Formula.whole)."""
    def own(c: Cell) -> Cell:
        if not isinstance(c.value, Formula) or f"{INDEX_SHEET}!" not in c.value.text:
            return c
        if c.value.whole is not None and f"{INDEX_SHEET}!" not in c.value.whole:
            return Cell(c.row, c.col, Formula(c.value.whole, c.value.cached), c.style)
        return Cell(c.row, c.col, c.value.cached, c.style)
    return {name: [own(c) for c in cells] for name, cells in sheets.items() if name != INDEX_SHEET}


_TABLE_REF = re.compile(r"\b([A-Za-z_][\w.]*)\[")


def _columns_named(formula: str) -> list[tuple[str, str]]:
    """(table, column) of every structured reference in a formula: ``Claims[Paid]``,
    ``Claims[[#This Row],[Paid]]``; special items (``#All``, ``#This Row``) left out."""
    out = []
    for found in _TABLE_REF.finditer(formula):
        depth, i = 0, found.end() - 1
        while i < len(formula):
            depth += {"[": 1, "]": -1}.get(formula[i], 0)
            if depth == 0:
                break
            i += 1
        inner = formula[found.end():i]
        items = re.findall(r"\[([^\[\]]*)\]", inner) if "[" in inner else [inner]
        out += [(found.group(1), item.strip()) for item in items if item.strip() and not item.strip().startswith("#")]
    return out


def known_columns_only(sheets: dict[str, list[Cell]], headers: dict[str, list[str]]) -> dict[str, list[Cell]]:
    """The owned sheets' cells with every live formula that names a column its table lacks
    (a workbook made before payorxl added the column to Claims) written as its value
    instead: Excel would take such a formula for damaged content."""
    known = {table.lower(): {h.lower() for h in names} for table, names in headers.items()}

    seen: dict[str, bool] = {}

    def fine(formula: str) -> bool:
        if "[" not in formula:        # no structured reference (the Index's cells): nothing to check
            return True
        if formula not in seen:       # (the live figures repeat a few hundred texts)
            seen[formula] = all(column.lower() in known[table.lower()] for table, column in _columns_named(formula)
                                if table.lower() in known)
        return seen[formula]

    def kept(c: Cell) -> Cell:
        if not isinstance(c.value, Formula):
            return c
        if not fine(c.value.text):
            return Cell(c.row, c.col, c.value.cached, c.style)
        if c.value.whole is not None and not fine(c.value.whole):
            return Cell(c.row, c.col, Formula(c.value.text, c.value.cached), c.style)
        return c
    return {name: [kept(c) for c in cells] for name, cells in sheets.items()}


def load(path: str | Path, as_of=None) -> Results:
    """Read a workbook and calculate everything, without writing."""
    return evaluate(read_inputs(path, as_of))


def summarize(path, results: Results, output="", changed=()) -> Summary:
    return Summary(
        path=str(path), practice=results.settings.practice_name,
        as_of=results.settings.as_of.date().isoformat(), claim_lines=len(results.lines),
        errors=sum(e.severity == "error" for e in results.errors),
        warnings=sum(e.severity == "warning" for e in results.errors),
        kpis={k: v.value for k, v in results.kpis.items()}, worklist=len(results.worklist),
        output=str(output), changed_parts=list(changed))


def backup_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.backup{path.suffix}")


def recalc(path: str | Path, as_of=None, output: str | Path | None = None,
           backup: bool = False) -> Summary:
    """Recalculate one workbook and rewrite its owned sheets (in place, or to `output`)."""
    path = Path(path)
    target = Path(output) if output else path
    refuse_if_open(target)                      # before any work: Excel would lose our write
    with ExitStack() as held:                   # one payorxl run at a time per workbook (package.py)
        for book in sorted({resolve(path), resolve(target)}):
            held.enter_context(workbook_lock(path if book == resolve(path) else target, "recalc"))
        before = file_state(path)               # to notice a save by someone else meanwhile
        inputs = read_inputs(path, as_of, also=(LOG_SHEET,))   # read
        refuse_user_sheets(path, m.OWNED_SHEETS, "recalc")   # never over a sheet of the user's own
        results = evaluate(inputs)              # validate + calculate
        sheets = without_foreign_index(path, lay_out(results, inputs.frames, log_of(inputs), inputs.headers))
        if backup and target.exists():          # atomic: a failed copy keeps the previous backup
            atomic_copy(target, backup_path(target))
        changed = write_owned_sheets(path, sheets, STYLES, target, ROW_HEIGHTS, before,   # atomic
                                     today_read_by_formulas(inputs))
    return summarize(path, results, target, changed)


def today_read_by_formulas(inputs: Inputs) -> tuple[str, int, int] | None:
    """The Dashboard's Today cell, when the native formulas count from it (Settings' As-of
    Date blank: `px_AsOf` is `px_Today`, which recalc writes with the run's date, `--as-of`
    or today), for write_owned_sheets to set fullCalcOnLoad when a recalculation moves it to
    another day: the formulas' cached values on Claims (days left, statuses) were worked out
    for the old day, and Excel would show them so. None when the As-of Date is filled in:
    the formulas count from it, whatever Today says."""
    if inputs.settings_values.get("as_of") is not None:
        return None
    return ("Dashboard", *TODAY_CELL)


def recalc_safely(path: str | Path, as_of=None, output=None, backup=False) -> Summary:
    """`recalc` that reports a failure in the summary instead of raising, so one bad
    workbook in a batch does not stop the others."""
    try:
        return recalc(path, as_of, output, backup)
    except PayorxlError as e:
        return Summary(path=str(path), failed=str(e))
    except Exception as e:  # an unexpected failure is still reported per workbook
        return Summary(path=str(path), failed=f"unexpected {type(e).__name__}: {e}")


def _calculated_for_cache(results: Results) -> dict:
    calc = {}
    for table in m.INPUT_TABLES:
        if table.calculated:
            source = {m.CLAIMS.name: results.claim_rows, m.CONTRACTS.name: results.contracts,
                      m.ADJUSTMENTS.name: results.adjustments, m.PAYMENTS.name: results.payment_rows}[table.name]
            calc[table.name] = source[[c.key for c in table.calculated]]
    return calc


def new_workbook(path: str | Path, frames: dict | None = None, settings_values: dict | None = None,
                 overwrite: bool = False, as_of=None, created=None) -> Summary:
    """Build the practice workbook at `path` — the empty template, or filled with
    `frames` (typed, valid) — recalculated, written atomically. A path ending in .xlsm
    gives the macro-enabled workbook (Dashboard buttons, PX_ formulas); .xlsx the plain one.
    An existing workbook (`overwrite`) is replaced under its workbook lock, as recalc and
    import hold it: never in the middle of one of theirs."""
    import os

    from .conversion import empty_frame
    from .workbook.read import convert_settings, settings_from_values
    from .workbook.template import build_workbook

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise PayorxlError(f"{path.name}: payorxl writes .xlsm workbooks (with buttons and formulas) "
                           f"or plain .xlsx ones; name it {path.stem}.xlsm or {path.stem}.xlsx")
    if path.exists() and not overwrite:
        raise PayorxlError(f"{path} already exists; choose another name, or pass --force to replace it")
    refuse_if_open(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from .engine.seeds import SEEDS
    # The rule tables start seeded (Medicare's payment rules, the modifiers, the CARC routing)
    # unless rows of them are given.
    given = frames or {}
    frames = {t.name: given[t.name] if t.name in given and (len(given[t.name]) or t.name not in SEEDS)
              else SEEDS[t.name]() if t.name in SEEDS else empty_frame(t) for t in m.INPUT_TABLES}
    raw = {s.key: s.default for s in m.SETTINGS}
    raw.update(settings_values or {})
    values, _ = convert_settings(raw)
    # as_of: the date the owned sheets are first computed for (Settings' own As-of Date
    # is left as given); created: the file's creation stamp (a fixed one makes the
    # shipped template reproducible byte for byte).
    results = evaluate(Inputs(frames, settings_from_values(values, as_of)))
    from .workbook.package import install, new_temp
    # The workbook lock, as recalc and import take it: --force never replaces a workbook
    # while an import or recalc of it is between its read and its write (it waits for
    # it, or is refused naming it).
    with workbook_lock(path, "new"):
        if path.exists() and not overwrite:     # made by another run while this one waited
            raise PayorxlError(f"{path} already exists; choose another name, or pass --force to replace it")
        tmp = new_temp(path)                    # beside the real file (through a symlink)
        try:
            build_workbook(tmp, frames, raw, _calculated_for_cache(results), created=created, index=False)
            changed = write_owned_sheets(tmp, lay_out(results, frames), STYLES, tmp, ROW_HEIGHTS)
            install(tmp, path)                  # the one write layer: permissions, Excel's lock, rename
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return summarize(path, results, path, changed)
