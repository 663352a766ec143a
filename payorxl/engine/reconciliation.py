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

import numpy as np
import pandas as pd

from .. import model as m
from ..conversion import ROW, upper


def _line_keys(frame: pd.DataFrame | None) -> pd.MultiIndex:
    """(claim ID in upper case, as matched; line) of each row."""
    if frame is None or frame.empty:
        return pd.MultiIndex.from_arrays([[], []])
    return pd.MultiIndex.from_arrays([upper(frame["claim_id"]), frame["line"].astype("int64")])


def _file(source: str) -> str:
    """The 835's file name a Source names (an unbalanced file's rows say so before it)."""
    return source[len(m.UNBALANCED_SOURCE):] if source.startswith(m.UNBALANCED_SOURCE) else source


def _n(value) -> str:
    return "?" if value is None or pd.isna(value) else f"{int(value):,}"


# PLB reason codes (X12 005010X221A1, PLB03-1) the Reconciliation names in words.
PLB_REASONS = {"WO": "overpayment recovery", "72": "authorized return", "FB": "forwarding balance",
               "L6": "interest owed", "CS": "adjustment", "J1": "non-reimbursable", "50": "late charge",
               "90": "early payment allowance", "L3": "penalty", "IR": "internal revenue service withholding",
               "BD": "bad debt adjustment", "C5": "temporary allowance", "AP": "acceleration of benefits",
               "B2": "rebate", "E3": "withholding"}


def provider_adjustments(adjustments: pd.DataFrame | None, when_by_file: dict | None = None) -> pd.DataFrame:
    """One row per PLB (Adjustments rows at level "provider"): money the payer took back from
    a payment (a positive amount: a recoupment or takeback) or added to it (negative:
    interest, L6, or another payment). Columns: item, status, file, imported_at, check_no,
    claim_id (when the PLB's payer claim number names a claim), payor, provider_adj_amount
    (cents, as the 835 signs it), detail."""
    rows = []
    if adjustments is not None and len(adjustments):
        plb = adjustments[adjustments["level"].fillna("") == "provider"]
        for rec in plb.to_dict("records"):
            amount = 0 if pd.isna(rec["amount"]) else int(rec["amount"])
            reason = str(rec["reason"] or "").strip().upper()
            words = PLB_REASONS.get(reason, "provider-level adjustment")
            status = "Recoupment" if amount > 0 else ("Interest paid" if reason == "L6" else "Payment added")
            ref = str(rec.get("payor_claim_no") or "").strip()
            claim = str(rec.get("claim_id") or "").strip()
            took = f"the payer took ${amount / 100:,.2f} back" if amount > 0 else \
                f"the payer added ${-amount / 100:,.2f}"
            if amount > 0 and claim:
                follow = f"; it names claim {claim}: check a reversal is posted for it, or dispute"
            elif amount > 0:
                follow = (f"; no claim in the workbook has payer claim number {ref}" if ref else
                          "; it names no claim") + ": ask the payer which claim it recoups"
            else:
                follow = ""
            source = str(rec.get("source") or "")
            rows.append({"item": "Provider adjustment", "status": status, "file": source,
                         "imported_at": (when_by_file or {}).get(_file(source), pd.NaT),
                         "check_no": rec.get("check_no"),
                         "claim_id": claim, "payor": rec.get("payor"), "provider_adj_amount": amount,
                         "detail": f"PLB {reason} ({words}{', ref ' + ref if ref else ''}): {took}{follow}"})
    return pd.DataFrame(rows, columns=["item", "status", "file", "imported_at", "check_no", "claim_id", "payor",
                                       "provider_adj_amount", "detail"])


def build_reconciliation(log: pd.DataFrame, payments: pd.DataFrame | None,
                         claims: pd.DataFrame | None, adjustments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Reconciliation view, columns as model.RECONCILIATION declares (money in
    cents): one "835 file" row per imported 835 with paid (ΣCLP04), provider_adj_amount
    (ΣPLB), payment_amount (ΣBPR02) and difference_amount (paid − PLB − payment, zero
    when it balances); one "Balancing failure" row per failure the import logged; one
    "Unmatched payment" row per Payments row with no claim line in Claims; one "Provider
    adjustment" row per PLB (`provider_adjustments`): recoupments, takebacks, interest."""
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
    # The rows above are few; the unmatched payments may be every row of a large 835: they
    # are made column by column (no dict per row). Each column of the view is its pieces'
    # joined, converted as one.
    pieces = [pd.DataFrame(rows, columns=m.RECONCILIATION.keys)]
    if payments is not None and len(payments):
        pieces.append(_unmatched(payments, ~_line_keys(payments).isin(_line_keys(claims)), when_by_file))
    pieces.append(provider_adjustments(adjustments, when_by_file))
    pieces = [piece.reindex(columns=m.RECONCILIATION.keys) for piece in pieces]
    out: dict[str, Any] = {}
    for f in m.RECONCILIATION.fields:
        s = pd.concat([piece[f.key] for piece in pieces], ignore_index=True)
        if f.kind in (m.MONEY, m.INT):
            out[f.key] = pd.array([pd.NA if v is None or pd.isna(v) else int(v) for v in s], dtype="Int64")
        elif f.kind == m.DATE:
            out[f.key] = pd.to_datetime(s).astype("datetime64[ns]")
        else:
            out[f.key] = s.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v))
                               else str(v)).astype(object)
    return pd.DataFrame(out, columns=m.RECONCILIATION.keys)


def _unmatched(payments: pd.DataFrame, orphan: np.ndarray, when_by_file: dict) -> pd.DataFrame:
    """One "Unmatched payment" row per Payments row where `orphan` is True."""
    rows = payments.loc[orphan, ["source", "check_no", "claim_id", "line", "payor", "cpt", "paid"] +
                        ([ROW] if ROW in payments else [])]
    files = [str(v) for v in rows["source"]]
    numbers = rows[ROW].tolist() if ROW in rows else [None] * len(rows)
    columns = {"item": ["Unmatched payment"] * len(rows), "status": ["No claim line"] * len(rows), "file": files,
               "imported_at": [when_by_file.get(_file(f), pd.NaT) for f in files],
               **{k: rows[k].tolist() for k in ("check_no", "claim_id", "line", "payor", "cpt", "paid")},
               "detail": [(f"Payments row {row}: " if row is not None else "") +
                          "no claim line in Claims has this claim ID and line; enter the claim, "
                          "or correct the payment's Claim ID and Line" for row in numbers]}
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
