"""Machine-readable results: the figures of one workbook as CSV files for other tools.

Money leaves in dollars with two decimals; patient identifiers are never written (claim
IDs identify the rows)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import pipeline

MONEY_HINTS = ("charge", "paid", "allowed", "amount", "balance", "variance", "ar", "underpayment",
               "written_off", "interest", "adj", "resp", "revenue", "rate", "total", "0-30", "31-60",
               "61-90", "91-120", "120+", "change", "gap")


def _dollars(frame: pd.DataFrame, money_columns) -> pd.DataFrame:
    out = frame.copy()
    for c in money_columns:
        if c in out and pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].astype("Float64") / 100
    return out


def result_frames(results) -> dict[str, pd.DataFrame]:
    """Name -> frame (money in dollars) for everything a recalculation computes."""
    from .workbook.sheets import exceptions_frame
    lines = results.lines.drop(columns=[c for c in ("patient_id", "_row") if c in results.lines])
    money = [c for c in lines.columns if any(h in c for h in ("charge", "paid", "allowed", "amount",
             "balance", "variance", "written_off", "interest", "adj", "resp", "unit_rate", "expected"))]
    frames = {
        "lines": _dollars(lines, money),
        "worklist": _dollars(results.worklist, ["amount"]),
        "scorecard": _dollars(results.scorecard, ["charges", "paid", "underpayment", "ar"]),
        "aging": _dollars(results.aging, ["0-30", "31-60", "61-90", "91-120", "120+", "total"]),
        "exceptions": exceptions_frame(results.errors),
    }
    for by, f in results.denials_by.items():
        frames[f"denials_by_{by}"] = _dollars(f, ["charges_adjudicated", "charges_denied"])
    frames["kpis"] = pd.DataFrame([{"kpi": k, "label": v.label,
                                    "value": (v.value / 100 if v.kind == "money" and v.value is not None else v.value),
                                    "kind": v.kind, "definition": v.definition, "source": v.source}
                                   for k, v in results.kpis.items()])
    return frames


def write_csv(book: Path, folder: Path, as_of=None) -> list[Path]:
    """Write BOOK's results as CSV files into folder/<book stem>/."""
    results = pipeline.load(book, as_of)
    out = Path(folder) / Path(book).stem
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result_frames(results).items():
        p = out / f"{name}.csv"
        frame.to_csv(p, index=False, date_format="%Y-%m-%d")
        written.append(p)
    return written
