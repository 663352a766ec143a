"""Import 835 remittances and 837P claim files into a practice workbook.

`import_files(book, files)` reads every file first, then writes once. An 835 becomes
Payments rows (era835.to_payments), each matched to its claim line in Claims
(matching.match_payments; a row that matches nothing keeps the remittance's patient
control number and line, and is listed in Reconciliation); an 837P becomes Claims rows.
Every imported file is recorded in the ImportLog sheet with its SHA-256, so a file
already imported is refused and importing it again changes nothing.

Nothing is written unless every file given is either importable or already imported: a
file that is not readable X12 (the message names the segment), not an 835 or 837P, or an
835 that does not balance (unless ``allow_unbalanced``: then its rows are imported with
Source "UNBALANCED: <file>") stops the whole command before any write. The workbook is
changed the way TOOLCHAIN.md requires — no library round trip: rows are appended to the
tables' XML (workbook/append.py), the Reconciliation sheet is rewritten, and the whole
workbook is written once, atomically; every other part stays byte for byte.

One import at a time: the workbook's lock (workbook/package.py) is held from the read to
the write, so another import or a recalc waits or is refused; a file given that is a FIFO,
a device or a folder is refused, never read. The appended sheets are streamed, never held
whole, and the tables are read one sheet at a time: an import needs less memory than a
recalculation of the same workbook (benchmarks/import_bench.py). A user's own sheet
named Reconciliation is left alone (said in the result's notes).

`reconciliation_frame(book)` rebuilds the Reconciliation view from the ImportLog and the
Payments rows whose claim line is not in Claims; the import and every recalculation
use it, so the sheet is always current.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import model as m, pipeline, remits
from .codec import dollars, is_na, to_cell
from .conversion import ROW, typed_frame
from .engine.reconciliation import build_reconciliation
from .errors import DataError, PayorxlError
from .workbook import sheets
from .workbook.append import (
    RowChunks,
    WorkbookEditor,
    add_sheet,
    append_rows,
    full_calc_on_load,
    is_payorxl_sheet,
    replace_cells,
)
from .workbook.package import file_kind, refuse_not_regular, workbook_lock
from .workbook.read import LOG_SHEET, Inputs, import_log, open_workbook, read_grid, read_inputs
from .workbook.sheets import STYLES
from .workbook.xlsxpart import file_state, lock_file
from .x12 import X12Error, balance_835, match_payments, read_835, read_837, remittance_rows
from .x12.acks import read_277ca, read_999
from .x12.era835 import concat_rows
from .x12.segments import Segments, load_text

RECONCILIATION_SHEET = "Reconciliation"
UNBALANCED = m.UNBALANCED_SOURCE
KIND_835, KIND_837, KIND_999, KIND_277CA = m.KIND_835, m.KIND_837, m.KIND_999, m.KIND_277CA
ACK_KINDS = (KIND_999, KIND_277CA)
MAX_LOGGED_FAILURES = 50   # one ImportLog cell holds at most 32,767 characters

# What each file's status means.
IMPORTED = "imported"          # rows appended, file logged
WOULD_IMPORT = "would import"  # --dry-run: everything checked, nothing written
REFUSED = "refused"            # already imported, does not balance, or not an 835/837P
FAILED = "failed"              # not readable (X12Error, missing file)
HELD = "not imported"          # fine, but another file of the command was refused

LOG_COLUMNS = m.IMPORT_LOG.fields   # the ImportLog sheet's columns, declared in the model
LOG_HEADERS = {c.key: c.name for c in LOG_COLUMNS}


# --- results -------------------------------------------------------------------------

@dataclass
class FileResult:
    """What happened to one file. Money in integer cents. Nothing here identifies a
    patient: balancing failures name claims by their position in the file (#3), not by
    patient control number.

    status: imported, would import, refused, failed or not imported (see the constants);
    message: why, for every status but imported; claims / lines: in the file; paid,
    bpr, plb: 835 totals (CLP04, BPR02, PLB); charges: 837 total of line charges;
    balanced: 835 only; failures: balancing failures, described; rows: rows appended
    (Payments for an 835, Claims for an 837) at Excel rows first_row..last_row;
    matched / unmatched: payment rows matched to a claim line or not; skipped: 837
    claim lines already in Claims; notes: what needs the user's attention, safe to
    print (a payer with no contract, claim lines skipped, rows the figures will leave
    out until fixed); reader_warnings: what the X12 reader noticed (its messages may
    quote values such as a patient control number, so the CLI prints only their count).

    reason: why a file was not imported, as a code (one of the constants below), for
    programs to decide on instead of the message's words. ALREADY_IMPORTED and
    DUPLICATE_IN_BATCH are not failures: the file's content is, or is being, in the
    workbook, so they neither hold the other files back nor fail the command."""
    # reason codes
    ALREADY_IMPORTED = "already_imported"      # its SHA-256 is in the ImportLog: nothing to do
    DUPLICATE_IN_BATCH = "duplicate_in_batch"  # same bytes as a file given earlier in the command
    UNBALANCED = "unbalanced"                  # an 835 that does not balance, without allow_unbalanced
    UNREADABLE = "unreadable"                  # not readable X12 (the message names the segment)
    CANNOT_OPEN = "cannot_open"                # the file cannot be opened (missing, a folder, no permission)
    UNSUPPORTED = "unsupported"                # an 837I or 837D, or not an 835 or 837 at all
    HELD_BACK = "held_back"                    # fine, but another file of the command was refused
    NOT_FAILURES = frozenset({ALREADY_IMPORTED, DUPLICATE_IN_BATCH})

    file: str
    name: str
    kind: str = ""
    sha256: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""
    claims: int = 0
    lines: int = 0
    paid: int | None = None
    bpr: int | None = None
    plb: int | None = None
    charges: int | None = None
    balanced: bool | None = None
    failures: list[str] = field(default_factory=list)
    rows: int = 0
    first_row: int | None = None
    last_row: int | None = None
    matched: int = 0
    unmatched: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    reader_warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (IMPORTED, WOULD_IMPORT)

    @property
    def failed(self) -> bool:
        """Refused or failed for a real problem (not merely already imported or given
        twice): such a file holds the others back, and the command exits 1."""
        return self.status in (REFUSED, FAILED) and self.reason not in self.NOT_FAILURES

    def refuse(self, status: str, reason: str, message: str) -> None:
        self.status, self.reason, self.message = status, reason, message

    def as_dict(self) -> dict:
        """For JSON: money in dollars, reader warnings as a count (see above)."""
        d = asdict(self)
        for key in ("paid", "bpr", "plb", "charges"):
            d[key] = dollars(d[key])
        d["reader_warnings"] = len(self.reader_warnings)
        return d


@dataclass
class ImportResult:
    """The whole command: one FileResult per file given, in order; written: the
    workbook was changed; changed_parts: the zip parts that changed; notes: about the
    workbook as a whole (a sheet that could not be refreshed)."""
    book: str
    files: list[FileResult]
    dry_run: bool = False
    written: bool = False
    changed_parts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def refused(self) -> list[FileResult]:
        """Files refused or failed for a real problem (a command with any exits 1); a
        file merely imported before, or given twice, is not one."""
        return [f for f in self.files if f.failed]

    @property
    def ok(self) -> bool:
        return not self.refused

    def as_dict(self) -> dict:
        return {"book": self.book, "dry_run": self.dry_run, "written": self.written,
                "changed_parts": self.changed_parts, "notes": self.notes,
                "files": [f.as_dict() for f in self.files]}


# --- reading the files ---------------------------------------------------------------

@dataclass
class _Envelope:
    kind: str
    isa13: str
    gs06: str
    st_count: int
    version: str
    created: pd.Timestamp | None = None    # GS04 of the first group: when the file was made


def _envelope(data: bytes, name: str) -> _Envelope:
    """The interchange's control numbers and transaction kind, walking every segment
    (which also checks the envelope: X12Error names the segment that breaks it)."""
    text, _ = load_text(data)
    isa13, gs06, kinds, versions, st = [], [], [], [], 0
    created: list[str] = []
    for e in Segments(text, name, []).lists():
        sid = e[0]
        if sid == "ISA":
            isa13.append(e[13].strip() if len(e) > 13 else "")
        elif sid == "GS":
            gs06.append(e[6] if len(e) > 6 else "")
            created.append(e[4] if len(e) > 4 else "")
            versions.append(e[8] if len(e) > 8 else "")
        elif sid == "ST":
            st += 1
            kinds.append(e[1] if len(e) > 1 else "")
            versions.append(e[3] if len(e) > 3 else "")
    found = sorted(set(kinds))
    if found == ["835"]:
        kind = KIND_835
    elif found == ["837"]:
        kind = KIND_837
    elif found == ["999"]:
        kind = KIND_999
    elif found == ["277"]:
        kind = KIND_277CA
    else:
        kind = "/".join(found) or "none"
    return _Envelope(kind, ",".join(dict.fromkeys(i for i in isa13 if i)),
                     ",".join(dict.fromkeys(g for g in gs06 if g)), st,
                     ",".join(dict.fromkeys(v for v in versions if v)),
                     pd.to_datetime(created[0], format="%Y%m%d", errors="coerce") if created else None)


@dataclass
class _Parsed:
    """One file on its way in: its result, what the readers made of it, and the rows
    (Excel values by header) it will append."""
    result: FileResult
    envelope: _Envelope | None = None
    remittance: Any = None
    payments: pd.DataFrame | None = None       # remittance_rows' Payments rows (before matching)
    adjustments: pd.DataFrame | None = None    # ... and its Adjustments rows
    acks: pd.DataFrame | None = None           # read_999 / read_277ca rows
    ack_records: list[dict] = field(default_factory=list)   # Excel rows for Acknowledgements
    failures: pd.DataFrame | None = None
    claims: pd.DataFrame | None = None         # read_837 rows (new lines only)
    records: _Rows | None = None               # rows to append (Claims for an 837, Payments for an 835)
    adjustment_rows: _Rows | None = None       # an 835's Adjustments rows
    log_failures: list[str] = field(default_factory=list)


def _money(cents) -> str:
    return "(blank)" if is_na(cents) else f"${dollars(cents):,.2f}"


def describe_failure(f, with_claim_id: bool = False) -> str:
    """One balancing failure in words. Claims are named by their position in the file
    (#3); with_claim_id adds the patient control number (for the workbook only)."""
    if f.level == "line":
        where = f"service line {f.line} of claim #{f.claim_seq}"
    elif f.level == "claim":
        where = f"claim #{f.claim_seq}"
    else:
        where = f"transaction {f.st}" + (f" (check {f.trace_number})" if f.trace_number else "")
    if with_claim_id and f.claim_id:
        where += f" [{f.claim_id}]"
    return (f"segment {f.segment}, {where}: {f.what}; the payer reports {_money(f.expected)}, "
            f"the parts add up to {_money(f.actual)} (difference {_money(f.difference)})")


def _read_file(path: Path, allow_unbalanced: bool) -> _Parsed:
    """Hash, read and (835) balance one file; its result says what is wrong, if anything."""
    result = FileResult(file=str(path), name=path.name)
    parsed = _Parsed(result)
    try:
        data = read_regular_file(path)
    except NotRegularFile as e:
        result.refuse(FAILED, result.CANNOT_OPEN, f"is {e.kind}, not a file; give the X12 file itself")
        return parsed
    except OSError as e:
        result.refuse(FAILED, result.CANNOT_OPEN, f"cannot be read ({e.strerror or e}); check the path")
        return parsed
    except MemoryError:
        result.refuse(FAILED, result.CANNOT_OPEN, "is too large to read into memory; ask the sender to split it "
                      "into smaller files")
        return parsed
    result.sha256 = hashlib.sha256(data).hexdigest()
    try:
        return _parse_file(parsed, data, path, allow_unbalanced)
    except MemoryError:
        del data
        result.refuse(FAILED, result.CANNOT_OPEN, "is too large to read into memory; ask the sender to split it "
                      "into smaller files")
        return _Parsed(result)


class NotRegularFile(OSError):
    """An input that is not a regular file: a FIFO, a device, a socket, a folder."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def read_regular_file(path: Path) -> bytes:
    """The bytes of the regular file `path` (through a symlink). A FIFO, a device
    (/dev/zero), a socket or a folder raises NotRegularFile instead of being read: the
    file is opened without waiting (O_NONBLOCK: opening a FIFO would wait for a writer
    forever) and its type checked on the open descriptor, so nothing can be swapped in
    between the check and the read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotRegularFile("a folder") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(file_kind(st.st_mode))
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def _parse_file(parsed: _Parsed, data: bytes, path: Path, allow_unbalanced: bool) -> _Parsed:
    result = parsed.result
    try:
        env = parsed.envelope = _envelope(data, path.name)
        if env.kind == KIND_835:
            result.kind = KIND_835
            rem = parsed.remittance = read_835(data, path.name)
        elif env.kind == KIND_837:
            result.kind = KIND_837
            if "X223" in env.version or "X224" in env.version:
                what = "837I (institutional)" if "X223" in env.version else "837D (dental)"
                result.refuse(REFUSED, result.UNSUPPORTED, f"is an {what} claim file; payorxl imports 837P "
                              "professional claims: enter these claims by hand")
                return parsed
            claims = read_837(data, path.name)
        elif env.kind in ACK_KINDS:
            result.kind = env.kind
            parsed.acks = (read_999 if env.kind == KIND_999 else read_277ca)(data, path.name)
            result.reader_warnings += [w.message for w in parsed.acks.attrs.get("warnings", [])]
            result.claims = len(parsed.acks)
            return parsed
        else:
            result.refuse(REFUSED, result.UNSUPPORTED,
                          f"holds {'transaction set ' + env.kind if env.kind != 'none' else 'no transaction'}"
                          "; payorxl imports 835 remittances, 837P claims and their 999/277CA "
                          "acknowledgements: choose one of those")
            return parsed
    except X12Error as e:
        where = ""
        if e.segment is not None:
            where = f"segment {e.segment}" + (f" ({e.segment_id})" if e.segment_id else "") + ": "
        result.refuse(FAILED, result.UNREADABLE,
                      f"is not readable X12: {where}{e.message}" + (f"; {e.fix}" if e.fix else ""))
        return parsed
    if result.kind == KIND_835:
        result.reader_warnings += [w.message for w in rem.warnings]
        parsed.failures = balance_835(rem)
        parsed.payments, parsed.adjustments = remittance_rows(rem, path.name)
        claims_frame = rem.claims
        result.claims, result.lines = len(claims_frame), len(rem.service_lines)
        result.paid = int(claims_frame["paid"].fillna(0).sum())
        checks = rem.checks[rem.checks["bpr_amount"].notna()]
        if len(checks):
            sign = checks["credit_debit"].map(lambda code: -1 if code == "D" else 1)
            result.bpr = int((checks["bpr_amount"].astype("int64") * sign).sum())
        result.plb = int(rem.plb["amount"].fillna(0).sum())
        result.balanced = parsed.failures.empty
        failures = list(parsed.failures.itertuples(index=False))
        result.failures = [describe_failure(f) for f in failures]
        parsed.log_failures = [describe_failure(f, with_claim_id=True) for f in failures]
        if not result.balanced and not allow_unbalanced:
            more = f"; and {len(failures) - 1} more" if len(failures) > 1 else ""
            result.refuse(REFUSED, result.UNBALANCED,
                          f"does not balance ({len(failures)} failure{'s' if len(failures) != 1 else ''}: "
                          f"{result.failures[0]}{more}); ask the payer for a corrected file, or import "
                          "it anyway with --allow-unbalanced (its rows are then marked UNBALANCED in "
                          "Payments' Source)")
    else:
        result.reader_warnings += [w.message for w in claims.attrs.get("warnings", [])]
        parsed.claims = claims
        result.claims, result.lines = int(claims["claim_id"].nunique()), len(claims)
        result.charges = int(claims["charge"].fillna(0).sum())
    return parsed


# --- Excel values --------------------------------------------------------------------

def excel_records(table: m.Table, frame: pd.DataFrame) -> list[dict]:
    """Rows of a typed frame (model keys, money in cents) as Excel values keyed by the
    table's headers — what append_rows writes and conversion.typed_frame reads back."""
    keys = [c for c in table.columns if c.key in frame]
    columns = [[to_cell(v, c.kind) for v in frame[c.key].tolist()] for c in keys]
    return [{c.name: col[i] for c, col in zip(keys, columns)} for i in range(len(frame))]


class _Rows:
    """Rows on their way to a table, kept as their typed frame (model keys, money in
    cents: far smaller than a dict per row) and turned into Excel values (excel_records)
    a chunk at a time as they are appended: see append.RowChunks. A chunk's Excel values,
    its sheet XML (about 4.5 KB a Payments row) and its rows read back are held at once:
    2,000 rows cost some 30 MB."""

    CHUNK = 2_000

    def __init__(self, table: m.Table, frame: pd.DataFrame):
        self.table = table
        self.frame = frame[[c.key for c in table.columns if c.key in frame]].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.frame)

    def chunks(self) -> Iterator[list[dict]]:
        for i in range(0, len(self.frame), self.CHUNK):
            yield excel_records(self.table, self.frame.iloc[i:i + self.CHUNK])


def _batch(group: list[_Rows]) -> RowChunks:
    """The rows of several files as one append, file after file."""
    return RowChunks(sum(len(r) for r in group), lambda: (c for r in group for c in r.chunks()))


def number_formats(table: m.Table) -> dict[str, str]:
    return {c.name: c.number_format for c in table.columns if c.number_format}


# --- payors --------------------------------------------------------------------------

class _Payors:
    """The Contracts payor an X12 payer is: by payer ID (Contracts' Payor ID), else by
    name (case and spacing ignored), else the name as the file sends it."""

    def __init__(self, contracts: pd.DataFrame):
        def norm(s):
            return " ".join(str(s).split()).upper()
        self.norm = norm
        self.by_id = {norm(i): p for p, i in zip(contracts["payor"], contracts["payor_id"]) if norm(i)}
        self.by_name = {norm(p): p for p in contracts["payor"]}
        self.unknown: dict[tuple[str, str], None] = {}

    def __call__(self, name: str, payer_id: str) -> str:
        found = self.by_id.get(self.norm(payer_id)) if self.norm(payer_id) else None
        found = found or self.by_name.get(self.norm(name))
        if found is None:
            self.unknown[(name, payer_id)] = None
            return name
        return found

    def warnings(self) -> list[str]:
        out = [f"payer {name!r}{f' (ID {pid})' if pid else ''} has no row in Contracts: add it (with its "
               "payer ID in Payor ID), or its rows are left out of the figures" for name, pid in self.unknown]
        self.unknown = {}
        return out


# --- the import ----------------------------------------------------------------------

def read_log(book: str | Path) -> pd.DataFrame:
    """The ImportLog sheet of the workbook file `book` as a frame (workbook.read.import_log);
    empty when the sheet is missing."""
    wb = open_workbook(book)
    try:
        grid = read_grid(wb, LOG_SHEET)
    finally:
        wb.close()
    return import_log(grid or [])


def _claim_keys(frame: pd.DataFrame) -> set:
    """The keys of Claims rows, as validate.duplicate_keys compares them: claim ID (case
    ignored), line and claim type; a void (frequency 8) row is keyed as a void of its line."""
    if frame is None or frame.empty:
        return set()
    return set(_keys(frame))


def _keys(frame: pd.DataFrame) -> list[tuple]:
    kinds = frame["claim_type"].fillna("").astype(str).replace("", "Primary") if "claim_type" in frame else \
        pd.Series("Primary", index=frame.index)
    void = frame["frequency"].astype(str) == "8" if "frequency" in frame else pd.Series(False, index=frame.index)
    return list(zip(frame["claim_id"].astype(str).str.strip().str.upper(), frame["line"].astype("int64"),
                    kinds.where(~void, "void").str.upper()))


def import_files(book: str | Path, files: Iterable[str | Path], allow_unbalanced: bool = False,
                 dry_run: bool = False, now: dt.datetime | None = None) -> ImportResult:
    """Import 835 and 837P files into the workbook `book`; see the module docstring.

    dry_run: check everything and report what would be imported, writing nothing.
    now: the time recorded in ImportLog (default: the current local time).
    Raises PayorxlError for a problem with the workbook itself (missing, not a
    workbook, open in Excel, a table it cannot grow); problems with files are reported
    in the result, file by file."""
    book = Path(book)
    refuse_not_regular(book)                 # a FIFO named book.xlsx would hang the reader
    if not dry_run and lock_file(book).exists():   # before any work: Excel would lose our write
        raise PayorxlError(f"{book.name} is open in Excel (lock file {lock_file(book).name} is present); "
                           "close it in Excel, then import again")
    # One payorxl run at a time on a workbook, from the read to the write (package.py):
    # another import or a recalc waits for this one, or is refused naming it.
    with nullcontext() if dry_run else workbook_lock(book, "import"):
        return _import(book, list(files), allow_unbalanced, dry_run,
                       (now or dt.datetime.now()).replace(microsecond=0))


def _import(book: Path, files: list, allow_unbalanced: bool, dry_run: bool, now: dt.datetime) -> ImportResult:
    before = file_state(book)                # to notice a save by someone else meanwhile
    # Claims to match, Contracts to name payers; the sheets one after the other, so
    # that at most one is held parsed at a time (an import's memory stays under a recalc's).
    inputs = read_inputs(book, parallel=False)
    log = read_log(book)                     # what was imported before
    parsed = [_read_file(Path(f), allow_unbalanced) for f in files]   # every file, before any write
    result = ImportResult(str(book), [p.result for p in parsed], dry_run=dry_run)
    _refuse_repeats(parsed, log)             # the same bytes again change nothing
    todo = [p for p in parsed if not p.result.status]
    if _hold_if_any_refused(parsed, todo) or not todo:
        return result
    payors = _Payors(inputs.frames["Contracts"])
    # Claims first, so that payments in the same command match the claims they pay.
    new_claims = _claim_rows(todo, inputs.frames["Claims"], payors)
    _payment_rows(todo, pd.concat([inputs.frames["Claims"], *new_claims], ignore_index=True), payors,
                  inputs.frames["Payments"])
    _ack_rows(todo, payors, log, now)
    with WorkbookEditor(book) as editor:
        typed, errors = _append_rows(editor, todo)
        for p in todo:                       # appended (and read back into `typed`): not needed again
            p.records = p.adjustment_rows = p.claims = None
        new_log = _append_log(editor, todo, now)
        if not dry_run:
            result.notes += _rewrite_reconciliation(editor, inputs, typed, errors, pd.concat([log, new_log]))
            result.changed_parts = editor.save(expect=before)   # one atomic write; not over a newer save
            result.written = True
    for p in todo:
        p.result.status = WOULD_IMPORT if dry_run else IMPORTED
    return result


def _refuse_repeats(parsed: list[_Parsed], log: pd.DataFrame) -> None:
    """A file whose SHA-256 is in the ImportLog, or given twice, is refused (reason
    ALREADY_IMPORTED or DUPLICATE_IN_BATCH: not a failure, see FileResult)."""
    logged = {sha.lower(): (when, row) for sha, when, row in zip(log["sha256"], log["imported_at"], log[ROW])
              if sha}
    first_seen: dict[str, str] = {}
    for p in parsed:
        r = p.result
        if not r.sha256 or r.status == FAILED:
            continue
        if r.sha256 in logged:
            when, row = logged[r.sha256]
            stamp = f"{when:%m/%d/%Y %H:%M}" if not pd.isna(when) else "an earlier date"
            r.refuse(REFUSED, r.ALREADY_IMPORTED, f"already imported on {stamp} (ImportLog row {row}); nothing to do")
        elif r.sha256 in first_seen:
            r.refuse(REFUSED, r.DUPLICATE_IN_BATCH, f"same content as {first_seen[r.sha256]}, given earlier in "
                     "this command")
        else:
            first_seen[r.sha256] = r.name


def _hold_if_any_refused(parsed: list[_Parsed], todo: list[_Parsed]) -> bool:
    """Nothing is written unless every file is importable or already imported: a file
    that failed, or was refused for any other reason (FileResult.failed, by its reason
    code), holds the others back."""
    blocking = [p.result for p in parsed if p.result.failed]
    if not blocking:
        return False
    names = ", ".join(b.name for b in blocking)
    which, it = (f"{names} was", "it") if len(blocking) == 1 else (f"{names} were", "them")
    for p in todo:
        p.result.refuse(HELD, p.result.HELD_BACK,
                        f"nothing was imported because {which} refused: fix {it} or leave {it} out, and run again")
    return True


def _claim_rows(todo: list[_Parsed], claims: pd.DataFrame, payors: _Payors) -> list[pd.DataFrame]:
    """Claims rows of each 837 (payer named as in Contracts), leaving out claim lines
    already in Claims or earlier in the command; returns the new lines."""
    known = _claim_keys(claims)
    new_claims = []
    for p in todo:
        if p.result.kind != KIND_837:
            continue
        frame = p.claims.copy()
        frame["payor"] = [payors(n, i) for n, i in zip(frame["payor"], frame["payer_id"])]
        keys = _keys(frame)
        fresh, seen = [], set()
        for k in keys:
            fresh.append(k not in known and k not in seen)
            seen.add(k)
        p.result.skipped = len(keys) - sum(fresh)
        if p.result.skipped:
            p.result.notes.append(f"{p.result.skipped} claim line(s) already in Claims (same claim ID, line and "
                                  "claim type) were left out")
        lines_known = {k[:2] for k in known}
        later = sum(f and k[2] in ("SECONDARY", "TERTIARY") and k[:2] in lines_known for k, f in zip(keys, fresh))
        if later:
            p.result.notes.append(f"{later} secondary or tertiary claim line(s) of lines already in Claims were kept "
                                  "as those lines' next payer (Role: Next payer), not as new lines")
        voids = sum(f and k[2] == "VOID" for k, f in zip(keys, fresh))
        if voids:
            p.result.notes.append(f"{voids} void claim line(s) (frequency 8): those lines leave A/R and the "
                                  "Worklist (Role: Void)")
        frame = frame[fresh].reset_index(drop=True)
        known.update(k for k, f in zip(keys, fresh) if f)
        p.claims = frame
        p.records = _Rows(m.CLAIMS, frame)
        p.result.rows = len(frame)
        p.result.notes += payors.warnings()
        new_claims.append(frame)
    return new_claims


def _payment_rows(todo: list[_Parsed], claims: pd.DataFrame, payors: _Payors,
                  posted: pd.DataFrame | None = None) -> None:
    """Payments and Adjustments rows of each 835, matched to `claims`, in the file's order;
    an unmatched row keeps the remittance's patient control number and line. A claim paid
    without service lines is spread over its lines in Claims (remits.spread_claim_rows);
    each adjustment follows its payment row; a PLB naming a payer claim number takes that
    claim's ID; a remittance whose CLP02 does not say its payer sequence takes the one the
    line's earlier remittances from the same payor have (remits.fill_payer_seq)."""
    kept = ["claim_id", "line", "payor", "payer_seq", "payor_claim_no"]
    history = posted[kept] if posted is not None else pd.DataFrame(columns=kept)
    for p in todo:
        if p.result.kind != KIND_835:
            continue
        # The rows are taken over (shallow copies: the columns replaced below are new
        # ones) and the remittance let go now: one copy of the file's rows at a time.
        pays = p.payments.copy(deep=False)
        adjs = p.adjustments.copy(deep=False)
        payer_ids = dict(zip(p.remittance.checks["st"], p.remittance.checks["payer_id"]))
        p.payments = p.adjustments = p.remittance = None
        pays["payor"] = [payors(n, payer_ids.get(s, "")) for n, s in zip(pays["payor"], pays["st"])]
        adjs["payor"] = pd.Series([payors(n, payer_ids.get(s, "")) for n, s in zip(adjs["payor"], adjs["st"])],
                                  index=adjs.index, dtype=object)
        if not p.result.balanced:
            pays["source"] = UNBALANCED + p.result.name
            adjs["source"] = UNBALANCED + p.result.name
        pays["_order"] = range(len(pays))
        matched, unmatched = match_payments(pays, claims)
        del pays
        p.result.matched, p.result.unmatched = len(matched), len(unmatched)
        rows = pd.concat([matched, unmatched], ignore_index=True).sort_values("_order", kind="stable")
        del matched, unmatched
        rows, adjs = remits.spread_claim_rows(rows.reset_index(drop=True), adjs, claims)
        rows = remits.fill_payer_seq(rows, claims, history)
        adjs = remits.follow_payments(adjs, pd.concat([rows, history], ignore_index=True), claims)
        history = pd.concat([history, rows[kept]], ignore_index=True)
        p.result.rows = len(rows)
        p.records = _Rows(m.PAYMENTS, rows)
        del rows
        p.adjustment_rows = _Rows(m.ADJUSTMENTS, adjs)
        del adjs
        p.result.notes += payors.warnings()


def _ack_rows(todo: list[_Parsed], payors: _Payors, log: pd.DataFrame, now: dt.datetime) -> None:
    """Acknowledgements rows of each 999 and 277CA. A 277CA gives one row per claim-level
    status (its line-level statuses are counted in the notes): Rejected for categories A3,
    A4, A6, A7, A8 (or action U), Accepted for A1, A2, A5 (or WQ), else Pending. A 999 gives
    a row per claim its rejected transaction sets name (CTX), else one row with no claim ID
    naming the 837 file (by GS06, from the ImportLog): its claims were never received. A
    status without a date takes the file's (GS04), else the import's."""
    files_by_group: dict[str, list[str]] = {}
    for file, group, kind in zip(log["file"], log["gs06"], log["kind"]):
        if kind == KIND_837:
            for g in str(group or "").split(","):
                files_by_group.setdefault(g.strip(), []).append(str(file))
    for p in todo:
        if p.result.kind not in ACK_KINDS:
            continue
        # A status without a date of its own (every 999's) is dated when the file was made
        # (GS04), not when it was imported: a late import must not un-file a later refiling.
        made = p.envelope.created if p.envelope is not None else None
        today = made if made is not None and not pd.isna(made) else pd.Timestamp(now.date())
        a = p.acks
        rows: list[dict] = []
        if p.result.kind == KIND_277CA:
            claim_level = a[a["line"] == 0]
            if len(a) > len(claim_level):
                p.result.notes.append(f"{len(a) - len(claim_level)} line-level status(es) read; the claim's own "
                                      "status decides")
            for rec in claim_level.to_dict("records"):
                result = "Rejected" if rec["rejected"] else "Accepted" if rec["accepted"] else "Pending"
                rows.append({"claim_id": rec["claim_id"], "payor": payors(rec["payer_name"] or "", ""),
                             "status_date": rec["status_date"] if not pd.isna(rec["status_date"]) else today,
                             "result": result, "category": rec["status_category"],
                             "status_code": rec["status_code"], "message": rec["message"],
                             "payor_claim_no": rec["payer_claim_no"], "kind": KIND_277CA, "source": p.result.name})
        else:
            for rec in a[~a["accepted"].astype(bool)].to_dict("records"):
                files = files_by_group.get(str(rec["group_control"]).strip(), [])
                which = (f"837 set {rec['set_control'] or '(all)'} of group {rec['group_control']}"
                         + (f" ({', '.join(files)})" if files else ""))
                message = f"999 rejected {which}: {rec['errors'] or 'no reason given'}"
                ids = [c for c in str(rec["claim_ids"] or "").split(",") if c.strip()] or [""]
                for claim_id in ids:
                    rows.append({"claim_id": claim_id.strip(), "status_date": today, "result": "Rejected",
                                 "category": str(rec["status"]), "message": message[:500], "kind": KIND_999,
                                 "source": p.result.name})
                if ids == [""]:
                    p.result.notes.append(f"{which} was rejected by the clearinghouse: none of its claims was "
                                          "received; correct the file and send it again")
        p.ack_records = excel_records(m.ACKNOWLEDGEMENTS, pd.DataFrame(rows, columns=m.ACKNOWLEDGEMENTS.keys))
        rejected = sum(1 for r in rows if r["result"] == "Rejected" and r.get("claim_id"))
        if rejected:
            p.result.notes.append(f"{rejected} claim(s) rejected: not received, so not filed; the Worklist says "
                                  "'Correct and resubmit'")
        p.result.notes += payors.warnings()


def _append_rows(editor: WorkbookEditor, todo: list[_Parsed]) -> tuple[dict, list[DataError]]:
    """Append every file's rows (one append per table) and return them typed as the
    reader will read them (by table name: a frame per chunk, in order), with the conversion
    errors they raise. The rows go a chunk at a time (append.RowChunks): each chunk of Excel
    values is made, written into the sheet's (compressed) new XML, read back typed, and let go."""
    typed: dict[str, list[pd.DataFrame]] = {"Claims": [], "Payments": []}
    errors: list[DataError] = []
    for table, kind in ((m.CLAIMS, KIND_837), (m.PAYMENTS, KIND_835)):
        group = [p for p in todo if p.result.kind == kind]
        filled = [p for p in group if p.records is not None and len(p.records)]
        if not filled:
            continue
        owner = [p for p in filled for _ in range(-(-len(p.records) // _Rows.CHUNK))]   # the file of each chunk
        mine: dict[int, list[DataError]] = {}

        def read_back(records, row, table=table, owner=owner, mine=mine):
            p = owner.pop(0)
            converted = typed_frame(table, records, table.name, rows=range(row, row + len(records)))
            typed[table.name].append(converted.frame)
            mine.setdefault(id(p), []).extend(converted.errors)
        where = append_rows(editor, table.name, _batch([p.records for p in filled]), number_formats(table),
                            _optional(table), on_chunk=read_back)
        row = where.first_row
        for p in group:
            if where.dropped:
                p.result.notes.append(_dropped_note(table, where.dropped))
            if any(p is f for f in filled):
                p.result.first_row, p.result.last_row = row, row + len(p.records) - 1
                errors += mine.get(id(p), [])
                p.result.notes += _left_out(mine.get(id(p), []), table.name)
                row += len(p.records)
    for table, group in ((m.ADJUSTMENTS, [p.adjustment_rows for p in todo if p.adjustment_rows is not None]),
                         (m.ACKNOWLEDGEMENTS, [p.ack_records for p in todo if p.ack_records])):
        if not sum(len(g) for g in group):
            continue
        if table.name not in editor.sheets():     # a workbook made before payorxl kept them
            add_sheet(editor, table.name, [c.name for c in table.columns], [c.width for c in table.columns],
                      [c.number_format for c in table.columns])
        frames: list[pd.DataFrame] = []

        def read_back(records, row, table=table, frames=frames):
            converted = typed_frame(table, records, table.name, rows=range(row, row + len(records)))
            frames.append(converted.frame)
            errors.extend(converted.errors)
        rows = _batch(group) if table is m.ADJUSTMENTS else [r for records in group for r in records]
        append_rows(editor, table.name, rows, number_formats(table), on_chunk=read_back)
        typed[table.name] = frames
    for p in todo:
        if p.result.kind in ACK_KINDS:
            p.result.rows = len(p.ack_records)
    if any(typed.values()):
        full_calc_on_load(editor)            # the tables' formulas see the new rows on opening
    return typed, errors


def _optional(table: m.Table) -> list[str]:
    """The headers of a table's optional columns: a workbook made before payorxl added one may
    lack it (its values are then left out, and said)."""
    return [c.name for c in table.columns if not c.required]


def _dropped_note(table: m.Table, dropped: tuple[str, ...]) -> str:
    names = ", ".join(repr(d) for d in dropped)
    return (f"the {table.name} table has no {names} column (it was made by an earlier payorxl): those values were "
            f"left out; add the column(s) at the table's end, headed as in the template, to keep them")


def _append_log(editor: WorkbookEditor, todo: list[_Parsed], now: dt.datetime) -> pd.DataFrame:
    """One ImportLog row per file (the sheet is added to a workbook made without it)."""
    log_rows = [_log_record(p, now) for p in todo]
    if LOG_SHEET not in editor.sheets():
        add_sheet(editor, LOG_SHEET, [c.name for c in LOG_COLUMNS], [c.width for c in LOG_COLUMNS],
                  [c.excel_format for c in LOG_COLUMNS])
    where = append_rows(editor, LOG_SHEET, log_rows, {c.name: c.excel_format for c in LOG_COLUMNS})
    new_log = import_log([[c.name for c in LOG_COLUMNS]] + [[r.get(c.name) for c in LOG_COLUMNS] for r in log_rows])
    new_log[ROW] = range(where.first_row, where.first_row + len(log_rows))
    return new_log


def _rewrite_reconciliation(editor: WorkbookEditor, inputs: Inputs, typed: dict, errors: list,
                            log: pd.DataFrame) -> list[str]:
    """Lay out the Reconciliation sheet as a recalculation of the imported workbook
    would (pipeline.evaluate and lay_out: the same cells), from the frames read plus the
    rows appended. Returns notes."""
    if RECONCILIATION_SHEET not in editor.sheets():
        return []
    if not is_payorxl_sheet(editor, RECONCILIATION_SHEET):
        return [f"the {RECONCILIATION_SHEET} sheet was not refreshed: it is not a payorxl sheet (it holds your "
                "own data); rename it, then run 'payorxl recalc'"]
    frames = dict(inputs.frames)
    for name, extra in typed.items():
        if extra:                            # joined a column at a time: one copy of the new rows, not two
            frames[name] = concat_rows([frames[name].copy(deep=False), *extra])
    try:
        results = pipeline.evaluate(Inputs(frames, inputs.settings, inputs.errors + errors,
                                           inputs.settings_values))
        recon = build_reconciliation(log.reset_index(drop=True), frames.get("Payments"), frames.get("Claims"),
                                     frames.get("Adjustments"))
        # The cells are made as they are written (sheets.reconciliation_sheet: a few
        # thousand rows at a time), from the reconciliation frame alone.
        cells = _guarded(sheets.reconciliation_sheet(results, recon))
        del results, frames, recon
    except Exception as e:   # the rows are imported all the same; the sheet waits for a recalc
        return _not_refreshed(e)
    styles = editor.read("xl/styles.xml")
    try:
        replace_cells(editor, RECONCILIATION_SHEET, cells, STYLES)
    except _LayoutFailed as e:               # as if never laid out: the sheet and the styles as they were
        editor.write("xl/styles.xml", styles)
        return _not_refreshed(e.__cause__)
    return []


def _not_refreshed(e: BaseException) -> list[str]:
    return [f"the Reconciliation sheet was not refreshed ({type(e).__name__}: {e}); "
            "run 'payorxl recalc' after fixing the workbook's data"]


class _LayoutFailed(Exception):
    """Laying out the Reconciliation cells failed (its cause says why)."""


def _guarded(cells: Iterator) -> Iterator:
    """`cells`, with a failure to make one raised as _LayoutFailed (the sheet is then left
    as it was and a note says so), apart from a failure to write them."""
    while True:
        try:
            cell = next(cells)
        except StopIteration:
            return
        except Exception as e:
            raise _LayoutFailed() from e
        yield cell


def _left_out(errors: list[DataError], sheet: str) -> list[str]:
    """The table's own conversion errors on new rows, one line per message (values are
    not quoted: they may identify a patient)."""
    by_message: dict[str, list[int]] = {}
    for e in errors:
        if e.severity == "error":
            by_message.setdefault(e.message, []).append(e.ref.row)
    return [f"{len(rows)} row(s) will be left out of the figures until fixed ({sheet} row "
            f"{rows[0]}{'…' if len(rows) > 1 else ''}): {message}" for message, rows in by_message.items()]


def _log_record(p: _Parsed, now: dt.datetime) -> dict:
    r, env = p.result, p.envelope
    is_835 = r.kind == KIND_835
    failures = p.log_failures[:MAX_LOGGED_FAILURES]
    if len(p.log_failures) > MAX_LOGGED_FAILURES:
        failures.append(f"… and {len(p.log_failures) - MAX_LOGGED_FAILURES} more")

    def dollars(cents):
        return to_cell(cents, m.MONEY)
    values = {
        "imported_at": now, "file": r.name, "sha256": r.sha256, "kind": r.kind,
        "isa13": env.isa13 or None, "gs06": env.gs06 or None, "st_count": env.st_count,
        "claims": r.claims, "lines": r.lines,
        "paid_total": dollars(r.paid) if is_835 else None,
        "bpr_total": dollars(r.bpr) if is_835 else None,
        "plb_total": dollars(r.plb) if is_835 else None,
        "balanced": ("Yes" if r.balanced else "No") if is_835 else None,
        "unmatched": r.unmatched if is_835 else None,
        "failures": "\n".join(failures) or None,
    }
    return {LOG_HEADERS[k]: v for k, v in values.items()}


# --- reconciliation ------------------------------------------------------------------

def reconciliation_frame(book: str | Path, frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The Reconciliation view of the workbook file `book` (engine.reconciliation);
    frames: its input frames when the caller has read them already."""
    if frames is None:
        frames = read_inputs(book).frames
    return build_reconciliation(read_log(book), frames.get("Payments"), frames.get("Claims"),
                                frames.get("Adjustments"))
