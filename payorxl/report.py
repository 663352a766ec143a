"""Machine-readable results: the figures of one workbook as CSV files for other tools.

Money leaves in dollars with two decimals. By default patient identifiers are never
written (claim IDs identify the rows). `payorxl report --deidentify` instead replaces
every identifier (patient ID, claim ID, payor claim number, line control number) with
a stable pseudonym (pseudonym.py) in everything it prints or writes, and keeps
patient_id as a pseudonymised column so lines can still be grouped by patient.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd

from . import model as m, pipeline
from .codec import external_frame, safe_frame, to_external
from .conversion import ROW
from .errors import DataError
from .pseudonym import IDENTIFIER_COLUMNS, Pseudonyms, canonical
from .workbook.read import read_inputs

# (sheet, column header) -> pseudonym kind, for the values in the Exceptions frame
IDENTIFIER_CELLS = {(t.name, c.name): IDENTIFIER_COLUMNS[c.key]
                    for t in m.INPUT_TABLES for c in t.columns if c.key in IDENTIFIER_COLUMNS}


def result_frames(results, pseudonymised: bool = False) -> dict[str, pd.DataFrame]:
    """Name -> frame for everything a recalculation computes, laid out as model.OUTPUTS
    declares each table (money in dollars).

    patient_id is dropped, unless `pseudonymised` says the results came from
    deidentify(), whose patient_id holds pseudonyms an analyst may group by."""
    from .workbook.sheets import exceptions_frame
    lines = tuple(f for f in m.LINES.fields if pseudonymised or f.key != "patient_id")
    frames = {
        m.LINES.name: external_frame(results.lines, lines),
        m.WORKLIST.name: external_frame(results.worklist, m.WORKLIST.fields),
        m.SCORECARD.name: external_frame(results.scorecard, m.SCORECARD.fields),
        m.AGING.name: external_frame(results.aging, m.AGING.fields),
        m.EXCEPTIONS.name: exceptions_frame(results.errors),
    }
    for by, f in results.denials_by.items():
        frames[f"denials_by_{by}"] = external_frame(f, m.DENIALS.grouped_by(m.DENIAL_GROUPS[by], by).fields)
    frames[m.KPI_TABLE.name] = pd.DataFrame(
        [{"kpi": k, "label": v.label, "value": to_external(v.value, v.kind), "kind": v.kind,
          "definition": v.definition, "source": v.source} for k, v in results.kpis.items()],
        columns=m.KPI_TABLE.keys)
    return frames


def write_frames(results, out: Path, pseudonymised: bool = False) -> list[Path]:
    """Write result_frames(results) as <name>.csv files into the folder `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result_frames(results, pseudonymised).items():
        p = out / f"{name}.csv"
        # text that would open as a formula (=, +, -, @...) is written as text
        safe_frame(frame).to_csv(p, index=False, date_format="%Y-%m-%d")
        written.append(p)
    return written


def write_csv(book: Path, folder: Path, as_of=None) -> list[Path]:
    """Write BOOK's results as CSV files into folder/<book stem>/."""
    return write_frames(pipeline.load(book, as_of), Path(folder) / Path(book).stem)


def load(book: Path, as_of=None, pseudonyms: Pseudonyms | None = None):
    """BOOK's results, as pipeline.load gives them; with `pseudonyms`, deidentified."""
    inputs = read_inputs(book, as_of)
    results = pipeline.evaluate(inputs)
    return deidentify(results, pseudonyms, inputs.frames) if pseudonyms else results


def pseudonymise_frame(frame: pd.DataFrame, pseudonyms: Pseudonyms) -> pd.DataFrame:
    """A copy of `frame` with its identifier columns (if any) replaced by pseudonyms."""
    columns = [c for c in frame.columns if c in IDENTIFIER_COLUMNS]
    if not columns:
        return frame
    out = frame.copy()
    for c in columns:
        out[c] = pseudonyms.series(out[c], IDENTIFIER_COLUMNS[c])
    return out


def deidentify(results, pseudonyms: Pseudonyms, input_frames: dict | None = None):
    """A copy of `results` in which every identifier is a pseudonym: the identifier
    columns of every result frame, and the exceptions' values and messages.

    input_frames (the workbook's tables as read, before validation) let the messages
    be cleaned too: a rule's message may quote its row's claim ID ("duplicate row:
    Claim ID ..."), and that row may have been left out of the results."""
    changes = {}
    for f in dataclasses.fields(results):
        value = getattr(results, f.name)
        if isinstance(value, pd.DataFrame):
            changes[f.name] = pseudonymise_frame(value, pseudonyms)
        elif isinstance(value, dict) and any(isinstance(v, pd.DataFrame) for v in value.values()):
            changes[f.name] = {k: pseudonymise_frame(v, pseudonyms) if isinstance(v, pd.DataFrame) else v
                               for k, v in value.items()}
    rows = _row_identifiers(input_frames or {}, {(e.ref.sheet, e.ref.row) for e in results.errors})
    changes["errors"] = [deidentify_error(e, pseudonyms, rows.get((e.ref.sheet, e.ref.row), []))
                         for e in results.errors]
    return dataclasses.replace(results, **changes)


def _row_identifiers(frames: dict, wanted: set) -> dict:
    """(sheet, Excel row) -> [(kind, identifier)] for the rows in `wanted`."""
    found: dict = {}
    for sheet, frame in frames.items():
        columns = [c for c in frame.columns if c in IDENTIFIER_COLUMNS]
        rows = {row for s, row in wanted if s == sheet}
        if not columns or not rows or ROW not in frame:
            continue
        for record in frame.loc[frame[ROW].isin(rows), [ROW] + columns].to_dict("records"):
            found.setdefault((sheet, int(record[ROW])), []).extend(
                (IDENTIFIER_COLUMNS[c], record[c]) for c in columns)
    return found


def deidentify_error(error: DataError, pseudonyms: Pseudonyms, row_identifiers=()) -> DataError:
    """`error` with its value pseudonymised when it sits in an identifier column, and
    every identifier of its row (and its own value) replaced in the message and fix."""
    kind = IDENTIFIER_CELLS.get((error.ref.sheet, error.ref.column))
    identifiers = list(row_identifiers)
    value, phi = error.value, error.phi
    if kind:
        identifiers.append((kind, value))
        value = pseudonyms(kind, value) or value   # a blank stays as it was: "(blank)"
        phi = False                                # a pseudonym, not the identifier
    # the claim kind last, so that text which is both a claim ID and another ID (quoted
    # in a message as a claim, by the rules that quote IDs) reads as the claim
    replace = {}
    for k, v in sorted(identifiers, key=lambda kv: kv[0] == "claim"):
        if canonical(v):
            replace[canonical(v)] = pseudonyms(k, v)
    return dataclasses.replace(error, value=value, phi=phi, message=_replace(error.message, replace),
                               fix=_replace(error.fix, replace))


def _replace(text: str, replace: dict) -> str:
    """`text` with each key of `replace` that stands as a token of its own (not inside a
    longer word or number) replaced by its value; longer keys first."""
    if not replace or not text:
        return text
    pattern = "|".join(re.escape(k) for k in sorted(replace, key=len, reverse=True))
    return re.sub(rf"(?<![\w])(?:{pattern})(?![\w])", lambda mo: replace[mo.group(0)], text)
