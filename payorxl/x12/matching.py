"""Which claim line does each remittance row pay?

Payers echo back what the claim sent, but not always all of it, so a remittance row is
matched to a claim line by the first of four keys that finds exactly one line:

1. "claim_id+line": the patient control number (CLP01 = CLM01) and the line number;
2. "payor_claim_no+line": the payer's claim number (CLP07, kept in Claims.payor_claim_no)
   and the line number;
3. "line_control_no": the line item control number (REF*6R), which identifies one line;
4. "cpt+dos": the procedure code and date of service, among the lines of the same patient
   control number, else of the same payor.

Keys 1 and 2 also require the procedure codes to agree when both are known: a remittance
numbers lines by position when the payer sends no REF*6R, and a payer that drops a line
would otherwise shift every later payment onto the wrong line. A key that finds several
lines is ambiguous and the next key is tried. A reversal (CLP02 = 22) carries the same
identifiers as the payment it reverses, so it matches the same line and nets with it;
one that matches nothing on its own takes the line of the payment it reverses when that
payment is in the same batch. Rows left unmatched come back with the reason.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .segments import clipped

KEYS = ("claim_id+line", "payor_claim_no+line", "line_control_no", "cpt+dos")
REVERSAL = "22"
BY_REVERSAL = "reversal of matched payment"


def _text(frame: pd.DataFrame, column: str, upper: bool = False) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    s = frame[column].fillna("").astype(str).str.strip()
    if upper:
        s = s.str.upper().str.split().str.join(" ")
    return s.astype(object)


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce").dt.normalize()


def match_payments(payments: pd.DataFrame, claims: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(matched, unmatched) for `payments` (Payments rows, as from era835.to_payments)
    against `claims` (Claims rows).

    matched: the payment rows whose claim line was found, with claim_id and line set to
    that claim line's, the remittance's own values kept in remit_claim_id and
    remit_line, and matched_by naming the key (one of KEYS, or "reversal of matched
    payment"). unmatched: the other payment rows, unchanged, with `reason`. Both keep
    the payments' columns and order.
    """
    pay = payments.reset_index(drop=True)
    n = len(pay)
    target = np.full(n, -1, dtype="int64")           # row of `lines` each payment matched
    matched_by = np.full(n, "", dtype=object)
    reasons = np.full(n, "", dtype=object)

    lines = claims.reset_index(drop=True)
    lines = lines[~lines.duplicated(["claim_id", "line"], keep="first")].reset_index(drop=True)
    c = pd.DataFrame({
        "cid": np.arange(len(lines)), "claim_id": _text(lines, "claim_id"),
        "line": lines["line"].astype("Int64") if "line" in lines else pd.array([], "Int64"),
        "pcn": _text(lines, "payor_claim_no"), "lcn": _text(lines, "line_control_no"),
        "cpt": _text(lines, "cpt", upper=True), "dos": _dates(lines, "dos"),
        "through": _dates(lines, "through_date"), "payor": _text(lines, "payor", upper=True)})
    c["through"] = c["through"].fillna(c["dos"])
    billed = _text(pay, "billed_cpt", upper=True)
    p = pd.DataFrame({
        "pid": np.arange(n), "claim_id": _text(pay, "claim_id"),
        "line": pay["line"].astype("Int64") if "line" in pay else pd.array([pd.NA] * n, "Int64"),
        "pcn": _text(pay, "payor_claim_no"), "lcn": _text(pay, "line_control_no"),
        "cpt": billed.where(billed != "", _text(pay, "cpt", upper=True)),
        "date": _dates(pay, "service_date"), "payor": _text(pay, "payor", upper=True)})

    def settle(key: str, candidates: pd.DataFrame, what: str) -> None:
        """Record unique matches for `key`; note ambiguous ones as the reason so far."""
        counts = candidates.groupby("pid")["cid"].nunique()
        unique = counts.index[counts == 1].to_numpy()
        first = candidates.drop_duplicates("pid").set_index("pid")["cid"]
        target[unique] = first.loc[unique].to_numpy()
        matched_by[unique] = key
        several = counts.index[counts > 1].to_numpy()
        reasons[several] = [f"{counts[i]} claim lines have the same {what}" for i in several]

    def open_rows(*required: str) -> pd.DataFrame:
        rows = p[target == -1]
        for column in required:
            rows = rows[rows[column].notna()]
            if rows[column].dtype == object:
                rows = rows[rows[column] != ""]
        return rows

    for key, column in (("claim_id+line", "claim_id"), ("payor_claim_no+line", "pcn")):
        left = open_rows(column, "line")
        cand = left.merge(c, on=[column, "line"], suffixes=("", "_c"))
        if cand.empty:
            continue
        agree = (cand["cpt"] == "") | (cand["cpt_c"] == "") | (cand["cpt"] == cand["cpt_c"])
        for pid, claim_cpt, cpt in zip(cand.loc[~agree, "pid"], cand.loc[~agree, "cpt_c"],
                                       cand.loc[~agree, "cpt"]):
            reasons[pid] = (f"the claim line with the same {key.replace('+', ' and ')} is "
                            f"CPT {clipped(claim_cpt)}, the payment is for CPT {clipped(cpt)}")
        settle(key, cand[agree], key.replace("+", " and "))

    left = open_rows("lcn")
    cand = left.merge(c[c["lcn"] != ""], on="lcn", suffixes=("", "_c"))
    if len(cand):
        settle("line_control_no", cand, "line control number")

    left = open_rows("cpt", "date")
    if len(left):
        on_claim = left.merge(c, on=["claim_id", "cpt"], suffixes=("", "_c"))
        on_claim = on_claim[(on_claim["date"] >= on_claim["dos"]) &
                            (on_claim["date"] <= on_claim["through"])]
        settle("cpt+dos", on_claim, "CPT and date of service for this patient control number")
        left = open_rows("cpt", "date", "payor")
        left = left[~left["pid"].isin(on_claim["pid"])]
        on_payor = left.merge(c, on=["payor", "cpt"], suffixes=("", "_c"))
        on_payor = on_payor[(on_payor["date"] >= on_payor["dos"]) &
                            (on_payor["date"] <= on_payor["through"])]
        settle("cpt+dos", on_payor, "CPT and date of service for this payor")

    _net_reversals(pay, p, target, matched_by, reasons)

    found = target >= 0
    for i in np.flatnonzero(~found & (reasons == "")):
        reasons[i] = ("no claim line has this patient control number and line, payor claim "
                      "number and line, line control number, or CPT and date of service")
    matched = pay[found].copy()
    matched.insert(0, "remit_claim_id", matched["claim_id"] if "claim_id" in matched else "")
    matched.insert(1, "remit_line", matched["line"] if "line" in matched else pd.NA)
    matched["claim_id"] = lines["claim_id"].to_numpy(dtype=object)[target[found]]
    matched["line"] = pd.array(lines["line"].to_numpy()[target[found]], dtype="Int64")
    matched["matched_by"] = matched_by[found]
    unmatched = pay[~found].copy()
    unmatched["reason"] = reasons[~found]
    return matched.reset_index(drop=True), unmatched.reset_index(drop=True)


def _net_reversals(pay, p, target, matched_by, reasons) -> None:
    """An unmatched reversal takes the line of the matched payment it reverses: same
    patient control number (or payor claim number), same CPT, opposite charge."""
    if "claim_status" not in pay or "charge" not in pay:
        return
    status = pay["claim_status"].fillna("").astype(str).str.strip().to_numpy()
    charge = pay["charge"].astype("Int64")
    todo = np.flatnonzero((target == -1) & (status == REVERSAL))
    originals = np.flatnonzero((target >= 0) & (status != REVERSAL))
    if not len(todo) or not len(originals):
        return
    for i in todo:
        for j in originals:
            same_claim = any(p.at[i, key] != "" and p.at[i, key] == p.at[j, key]
                             for key in ("claim_id", "pcn"))
            if same_claim and p.at[i, "cpt"] == p.at[j, "cpt"] \
                    and not pd.isna(charge[i]) and not pd.isna(charge[j]) \
                    and charge[i] == -charge[j]:
                target[i] = target[j]
                matched_by[i] = BY_REVERSAL
                reasons[i] = ""
                break
