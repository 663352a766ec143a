"""Remittance reconciliation: does the money the payors sent add up, and does every
payment have a claim line to land on?

For each 835 the ImportLog records, the sum of CLP04 (what its claims paid) less the sum
of PLB provider-level adjustments must equal BPR02 (the money sent): X12 005010X221A1's
transaction balancing rule. Then every Payments row whose claim line is not in Claims
(it cannot count toward any claim's figures until the claim is entered). Pure pandas over
the ImportLog frame (workbook.read.import_log) and the typed Payments and Claims.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .. import model as m
from ..conversion import ROW, upper


def _line_keys(frame: pd.DataFrame | None) -> pd.MultiIndex:
    """(claim ID in upper case, as matched; line) of each row."""
    if frame is None or frame.empty:
        return pd.MultiIndex.from_arrays([[], []])
    return pd.MultiIndex.from_arrays([upper(frame["claim_id"]), frame["line"].astype("int64")])


def _n(value) -> str:
    return "?" if value is None or pd.isna(value) else f"{int(value):,}"


def build_reconciliation(log: pd.DataFrame, payments: pd.DataFrame | None,
                         claims: pd.DataFrame | None) -> pd.DataFrame:
    """The Reconciliation view, columns as model.RECONCILIATION declares (money in
    cents): one "835 file" row per imported 835 with paid (ΣCLP04), provider_adj_amount
    (ΣPLB), payment_amount (ΣBPR02) and difference_amount (paid − PLB − payment, zero
    when it balances); one "Balancing failure" row per failure the import logged; one
    "Unmatched payment" row per Payments row with no claim line in Claims."""
    rows = []
    eras = log[log["kind"] == m.KIND_835] if len(log) else log
    when_by_file: dict = {}
    r: Any   # an ImportLog row: its cells are whatever the sheet held (the stubs say Scalar)
    for r in eras.itertuples(index=False):
        when_by_file.setdefault(r.file, r.imported_at)
        balanced = r.balanced.strip().lower() == "yes"
        parts: list[Any] = [pd.NA if pd.isna(x) else int(x) for x in (r.paid_total, r.plb_total, r.bpr_total)]
        difference = pd.NA if any(pd.isna(x) for x in parts) else parts[0] - parts[1] - parts[2]
        detail = f"{_n(r.claims)} claim(s), {_n(r.lines)} service line(s), {_n(r.unmatched)} payment row(s) unmatched"
        if not balanced:
            detail += f"; imported anyway: its Payments rows say {m.UNBALANCED_SOURCE}{r.file} in Source"
        rows.append({"item": "835 file", "status": "Balanced" if balanced else "Does not balance",
                     "file": r.file, "imported_at": r.imported_at, "paid": parts[0],
                     "provider_adj_amount": parts[1], "payment_amount": parts[2],
                     "difference_amount": difference, "detail": detail})
        for line in (x for x in str(r.failures).split("\n") if x.strip()):
            rows.append({"item": "Balancing failure", "status": "Does not balance", "file": r.file,
                         "imported_at": r.imported_at, "detail": line.strip()})
    if payments is not None and len(payments):
        orphan = payments[~_line_keys(payments).isin(_line_keys(claims))]
        for rec in orphan.to_dict("records"):
            source = str(rec["source"])
            file = source[len(m.UNBALANCED_SOURCE):] if source.startswith(m.UNBALANCED_SOURCE) else source
            row = rec.get(ROW)
            rows.append({"item": "Unmatched payment", "status": "No claim line", "file": source,
                         "imported_at": when_by_file.get(file, pd.NaT), "check_no": rec["check_no"],
                         "claim_id": rec["claim_id"], "line": rec["line"], "payor": rec["payor"], "cpt": rec["cpt"],
                         "paid": rec["paid"],
                         "detail": (f"Payments row {row}: " if row is not None else "") +
                                   "no claim line in Claims has this claim ID and line; enter the claim, "
                                   "or correct the payment's Claim ID and Line"})
    frame = pd.DataFrame(rows, columns=m.RECONCILIATION.keys)
    out: dict[str, Any] = {}
    for f in m.RECONCILIATION.fields:
        s = frame[f.key]
        if f.kind in (m.MONEY, m.INT):
            out[f.key] = pd.array([pd.NA if v is None or pd.isna(v) else int(v) for v in s], dtype="Int64")
        elif f.kind == m.DATE:
            out[f.key] = pd.to_datetime(s).astype("datetime64[ns]")
        else:
            out[f.key] = s.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v))
                               else str(v)).astype(object)
    return pd.DataFrame(out, columns=m.RECONCILIATION.keys)
