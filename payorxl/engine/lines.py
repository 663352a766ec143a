"""What happened to each claim line: the payments posted to it, summed and dated.

Every other engine module starts here. A claim line's remittance history (first and
later adjudications, reversals, corrections) is folded into one row per line: totals
(net of reversals, which an 835 reports as CLP02 = 22 with negative amounts), the first
adjudication (what "initial denial" and "first pass" are measured on), and the most
recent denial (what the appeal clock runs from).

All money is integer cents; dates are datetime64 at midnight.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["claim_id", "line"]
MONEY_SUMS = ["paid", "allowed", "patient_resp", "contractual_adj", "denied_amount"]
DENIED_STATUS = "4"
REVERSAL_STATUS = "22"


def denial_rows(payments: pd.DataFrame) -> pd.Series:
    """True for a remittance row that denies (all or part of) a line.

    A row denies when the payor says so (CLP02 = 4), or pays nothing and adjusts an
    amount for a non-patient reason (a CARC under group CO, OA or PI with a denied
    amount). Contractual write-downs (CO-45) on a paid line are not denials.
    """
    status4 = payments["claim_status"].astype(str) == DENIED_STATUS
    unpaid_adjusted = (payments["paid"].fillna(0) <= 0) & (payments["denied_amount"].fillna(0) > 0)
    not_reversal = payments["claim_status"].astype(str) != REVERSAL_STATUS
    return (status4 | unpaid_adjusted) & not_reversal


def line_codes(claims: pd.DataFrame, payments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One integer per (claim ID, line), the same in both frames: claim IDs factorised
    once over both, then combined with the line number. Grouping and matching on it is
    several times faster than on the (text, number) pair."""
    ids = np.concatenate([claims["claim_id"].to_numpy(dtype=object), payments["claim_id"].to_numpy(dtype=object)])
    codes = pd.factorize(ids)[0].astype("int64")
    lines = np.concatenate([claims["line"].to_numpy(dtype="int64"), payments["line"].to_numpy(dtype="int64")])
    width = int(lines.max()) + 1 if len(lines) else 1
    key = codes * width + lines
    return key[:len(claims)], key[len(claims):]


def line_summary(claims: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """One row per claim line (same order and index as `claims`) with:

    paid, allowed, patient_resp, contractual_adj, denied_amount: net sums in cents
        (allowed: AMT*B6 where given, else paid + patient responsibility);
    n_remits: remittance rows posted; adjudicated: at least one;
    first_remit_date, last_remit_date;
    first_paid: paid on the first remittance date;
    denied_first_pass: the first adjudication denied the line (HFMA's initial denial);
    denied: the line stands denied now (net paid is zero and a denial is on file);
    denial_date, denial_carc, denial_group: the most recent denial row's remit date
        and reason (the appeal clock starts here);
    carc29: a remittance row for the line cites CARC 29 (timely filing expired).
    """
    out = claims[KEY].copy()
    pay = payments.copy()
    if pay.empty:
        for c in MONEY_SUMS + ["first_paid", "n_remits"]:
            out[c] = pd.Series(0, index=out.index, dtype="int64")
        for c in ["first_remit_date", "last_remit_date", "denial_date"]:
            out[c] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        for c in ["denial_carc", "denial_group"]:
            out[c] = ""
        for c in ["adjudicated", "denied_first_pass", "denied", "carc29"]:
            out[c] = False
        return out

    pay["allowed"] = pay["allowed"].fillna(pay["paid"].fillna(0) + pay["patient_resp"].fillna(0))
    for c in MONEY_SUMS:
        pay[c] = pay[c].fillna(0).astype("int64")
    pay["is_denial"] = denial_rows(pay)
    # Group on one integer per claim line (factorised once) rather than on the
    # (claim ID, line) pair: pandas would re-hash the claim ID strings for every groupby.
    claim_key, pay_key = line_codes(claims, pay)
    pay["_line"] = pay_key
    groups = pay.groupby("_line", sort=False)
    totals = groups[MONEY_SUMS].sum()
    totals["n_remits"] = groups.size()
    totals["first_remit_date"] = groups["remit_date"].min()
    totals["last_remit_date"] = groups["remit_date"].max()

    first = pay[pay["remit_date"] == groups["remit_date"].transform("min")]
    first_groups = first.groupby("_line", sort=False)
    totals["first_paid"] = first_groups["paid"].sum()
    totals["denied_first_pass"] = first_groups["is_denial"].any() & (first_groups["paid"].sum() <= 0)

    denials = pay[pay["is_denial"]].sort_values("remit_date", kind="stable")
    last_denial = denials.groupby("_line", sort=False).tail(1).set_index("_line")
    totals["denial_date"] = last_denial["remit_date"]
    totals["denial_carc"] = last_denial["carc"]
    totals["denial_group"] = last_denial["group_code"]
    # Any remittance row citing CARC 29 ("time limit for filing has expired") marks the
    # line's filing deadline as missed: the payor's word settles it, whatever the dates say.
    # (The text compared once per distinct code; a line is flagged when any of its rows is.)
    codes, distinct = pd.factorize(pay["carc"])
    cites29 = np.append((pd.Series(distinct, dtype=object).astype(str) == "29").to_numpy(dtype=bool), False)[codes]
    totals["carc29"] = totals.index.isin(pay_key[cites29])
    out = out.join(totals.reindex(claim_key).set_axis(out.index))
    for c in MONEY_SUMS + ["first_paid", "n_remits"]:
        out[c] = out[c].fillna(0).astype("int64")
    for c in ["denial_carc", "denial_group"]:
        out[c] = out[c].fillna("").astype(object)
    for c in ["denied_first_pass", "carc29"]:
        out[c] = out[c].eq(True)        # a line with no remittance (NaN here) is False
    out["adjudicated"] = out["n_remits"] > 0
    out["denied"] = out["denial_date"].notna() & (out["paid"] <= 0)
    return out
