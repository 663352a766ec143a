"""Does a remittance add up? The 835's three balancing rules, checked and reported.

The 835 implementation guide (005010X221A1, section 1.10.2) requires every remittance to
balance at three levels, and a payer's file that does not is either damaged or wrong:

- service line: SVC02 charge − the line's CAS amounts = SVC03 paid;
- claim: CLP03 charge − the claim's and its lines' CAS amounts (+ its AMT*I interest, when
  the payer includes it) = CLP04 paid;
- transaction: sum of CLP04 − sum of PLB amounts = BPR02 (a positive PLB amount, such
  as a recoupment, reduces the payment; interest paid, PLB L6, is negative). A debit
  remittance (BPR03 = D) moves money the other way, so BPR02 counts as negative.

`balance_835` lists every failure with what was expected (the total the payer reports)
and what the parts add up to; an empty frame means the file balances. Amounts the reader
could not read (see the remittance's warnings) count as 0.
"""
from __future__ import annotations

import pandas as pd

from .era835 import Remittance

FAILURE_COLUMNS = ("level", "st", "trace_number", "claim_id", "claim_seq", "line", "what",
                   "expected", "actual", "difference", "segment")


def balance_835(remittance: Remittance) -> pd.DataFrame:
    """One row per balancing failure, in file order, with columns:

    level: "line", "claim" or "transaction"; st: the transaction (1-based);
    trace_number: its check or EFT number; claim_id (CLP01) and claim_seq (1-based across
    the file; blank and 0 for a transaction); line: the service line's position in the
    claim (0 above line level); what: the rule, in words; expected: the total the payer
    reports (SVC03, CLP04 or BPR02); actual: what the parts add up to; difference:
    actual − expected; all amounts in cents; segment: where the total is in the file.
    """
    r = remittance
    adj = r.adjustments.assign(amount=r.adjustments["amount"].fillna(0).astype("int64"))
    failures = []

    sl = r.service_lines
    if len(sl):
        line_adj = adj[adj["level"] == "line"].groupby(["claim_seq", "line_seq"])["amount"].sum()
        keys = pd.MultiIndex.from_frame(sl[["claim_seq", "line_seq"]])
        actual = sl["charge"].fillna(0).astype("int64").to_numpy() - \
            line_adj.reindex(keys, fill_value=0).to_numpy()
        failures.append(pd.DataFrame({
            "level": "line", "st": sl["st"], "claim_id": sl["claim_id"],
            "claim_seq": sl["claim_seq"], "line": sl["line_seq"],
            "what": "SVC02 charge − line CAS should equal SVC03 paid",
            "expected": sl["paid"].fillna(0).astype("int64"), "actual": actual,
            "segment": sl["segment"]}))

    claims = r.claims
    if len(claims):
        claim_adj = adj.groupby("claim_seq")["amount"].sum()
        actual = claims["charge"].fillna(0).astype("int64") - \
            claims["claim_seq"].map(claim_adj).fillna(0).astype("int64")
        # Payers that pay prompt-pay interest with the claim (AMT*I) include it in CLP04.
        interest = claims["interest"].fillna(0).astype("int64")
        paid = claims["paid"].fillna(0).astype("int64")
        actual = actual.where(~((interest != 0) & (actual + interest == paid)), actual + interest)
        failures.append(pd.DataFrame({
            "level": "claim", "st": claims["st"], "claim_id": claims["claim_id"],
            "claim_seq": claims["claim_seq"], "line": 0,
            "what": "CLP03 charge − claim and line CAS (+ AMT*I interest, when included) should equal CLP04 paid",
            "expected": claims["paid"].fillna(0).astype("int64"), "actual": actual,
            "segment": claims["segment"]}))

    checks = r.checks[r.checks["bpr_amount"].notna()]
    if len(checks):
        paid = claims.assign(paid=claims["paid"].fillna(0).astype("int64")) \
            .groupby("st")["paid"].sum()
        plb = r.plb.assign(amount=r.plb["amount"].fillna(0).astype("int64")) \
            .groupby("st")["amount"].sum()
        sign = checks["credit_debit"].map(lambda code: -1 if code == "D" else 1)
        actual = checks["st"].map(paid).fillna(0).astype("int64") - \
            checks["st"].map(plb).fillna(0).astype("int64")
        failures.append(pd.DataFrame({
            "level": "transaction", "st": checks["st"], "claim_id": "", "claim_seq": 0,
            "line": 0, "what": "sum of CLP04 paid − sum of PLB amounts should equal BPR02",
            "expected": checks["bpr_amount"].astype("int64") * sign, "actual": actual,
            "segment": checks["segment"]}))

    if not failures:
        return _empty()
    out = pd.concat(failures, ignore_index=True)
    out = out[out["expected"] != out["actual"]]
    if out.empty:
        return _empty()
    traces = r.checks.set_index("st")["trace_number"]
    out = out.assign(trace_number=out["st"].map(traces).fillna("").astype(object),
                     difference=out["actual"] - out["expected"])
    out = out.sort_values("segment", kind="stable").reset_index(drop=True)
    out = out[list(FAILURE_COLUMNS)]
    for c in ("expected", "actual", "difference"):
        out[c] = out[c].astype("Int64")
    for c in ("st", "claim_seq", "line", "segment"):
        out[c] = out[c].astype("int64")
    for c in ("level", "claim_id", "what"):
        out[c] = out[c].astype(object)
    return out


def _empty() -> pd.DataFrame:
    types = {"st": "int64", "claim_seq": "int64", "line": "int64", "segment": "int64",
             "expected": "Int64", "actual": "Int64", "difference": "Int64"}
    return pd.DataFrame({c: pd.Series([], dtype=types.get(c, object)) for c in FAILURE_COLUMNS})
