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

from .. import rules

KEY = ["claim_id", "line"]
MONEY_SUMS = ["paid", "allowed", "patient_resp", "contractual_adj", "sequestration", "denied_amount", "interest"]
DENIED_STATUS = rules.DENIED_STATUS
REVERSAL_STATUS = rules.REVERSAL_STATUS
# The role of a Claims row (its Role column): a claim line counted in every figure; a bill
# of such a line to its next payer (a Secondary or Tertiary row beside the Primary row:
# only its filing is tracked); a line voided (frequency 8 on any of its rows).
LINE, NEXT_PAYER, VOID = "Line", "Next payer", "Void"
CROSSED_OVER = "Crossed over"    # a next payer's Filing Status when the earlier payer forwarded it
FORWARDED_TO = {"Secondary": "19", "Tertiary": "20"}   # the CLP02 that sends a claim on to it
VOID_FREQUENCY = "8"
PAYER_SEQ_OF_TYPE = {"Primary": 1, "": 1, "Secondary": 2, "Tertiary": 3}
FLAGS = ["adjudicated", "denied_first_pass", "denied", "partial_denial", "denial_open", "carc29",
         "forwarded", "awaiting_reprocessing"]


def denial_rows(payments: pd.DataFrame) -> pd.Series:
    """True for a remittance row that denies all or part of a line.

    A row denies when the payor says so (CLP02 = 4) or adjusts an amount for a
    non-patient, non-contractual reason (a Denied Amount: CO/OA/PI/CR other than the
    contractual CARCs and OA-23), whether it pays nothing (a denial) or the rest of the
    line (a partial denial). Contractual write-downs (CO-45) are not denials; a reversal
    (CLP02 = 22) is not one either.
    """
    status = payments["claim_status"].astype(str)
    status4 = status == DENIED_STATUS
    adjusted = payments["denied_amount"].fillna(0) > 0
    return (status4 | adjusted) & (status != REVERSAL_STATUS)


def payer_seqs(payments: pd.DataFrame) -> np.ndarray:
    """The payer sequence of each remittance row as an integer (1, 2, 3): Payer Seq, or 1
    where it is blank."""
    if "payer_seq" not in payments:
        return np.ones(len(payments), dtype="int64")
    seq = pd.to_numeric(payments["payer_seq"].astype(object).where(payments["payer_seq"].notna(), None),
                        errors="coerce")
    return seq.fillna(1).astype("int64").to_numpy()


def adjustment_kinds(adjustments: pd.DataFrame) -> pd.Series:
    """What each Adjustments row does (rules.adjustment_kind, the "Applies To" column),
    worked out once per distinct (group, reason) pair."""
    if adjustments.empty:
        return pd.Series([], index=adjustments.index, dtype=object)
    pairs = pd.Series(list(zip(adjustments["group_code"].fillna("").astype(str),
                               adjustments["reason"].fillna("").astype(str))), index=adjustments.index)
    codes, distinct = pd.factorize(pairs)
    kinds = np.array([rules.adjustment_kind(g, r) for g, r in distinct] + [""], dtype=object)
    return pd.Series(kinds[codes], index=adjustments.index, dtype=object)


def service_codes(claims: pd.DataFrame) -> np.ndarray:
    """One integer per claim line (claim ID, case ignored as Excel's COUNTIFS does, and line
    number), shared by every Claims row of that line."""
    ids = claims["claim_id"].fillna("").astype(str).str.strip().str.upper()
    return pd.factorize(pd.Series(list(zip(ids, claims["line"].astype("Int64").fillna(0).astype("int64")))))[0]


def claim_roles(claims: pd.DataFrame) -> pd.DataFrame:
    """Per Claims row (same index): role (LINE, NEXT_PAYER or VOID; see above) and, on a
    LINE row, next_payer_seq: the highest payer sequence billed for the line (2 for a
    Secondary row, 3 for a Tertiary one, its own included; 0 when none): a payer that may
    still have to adjudicate before the patient owes anything.

    A line is void when any of its rows has frequency 8. Otherwise the row of its first
    payer (Primary, else Secondary, else Tertiary; Claim Type blank is Primary) is the line,
    and a later payer's row is its next payer."""
    if claims.empty:
        return pd.DataFrame({"role": pd.Series([], dtype=object), "next_payer_seq": pd.Series([], dtype="int64")},
                            index=claims.index)
    service = service_codes(claims)
    kind = claims["claim_type"].fillna("").astype(str).str.strip() if "claim_type" in claims else \
        pd.Series("", index=claims.index)
    voided = (claims["frequency"].fillna("").astype(str).str.strip() == VOID_FREQUENCY).to_numpy() \
        if "frequency" in claims else np.zeros(len(claims), dtype=bool)
    n = int(service.max()) + 1
    void_line = np.bincount(service, weights=voided, minlength=n)[service] > 0
    seq = kind.map(PAYER_SEQ_OF_TYPE).fillna(1).astype("int64").to_numpy()
    first_payer = pd.Series(seq).groupby(service).transform("min").to_numpy()
    role = np.where(void_line, VOID, np.where(seq == first_payer, LINE, NEXT_PAYER)).astype(object)
    next_seq = pd.Series(np.where(seq > 1, seq, 0)).groupby(service).transform("max").to_numpy()
    return pd.DataFrame({"role": role, "next_payer_seq": np.where(role == LINE, next_seq, 0)},
                        index=claims.index)


def line_codes(claims: pd.DataFrame, payments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One integer per (claim ID, line), the same in both frames: claim IDs factorised
    once over both, then combined with the line number. Grouping and matching on it is
    several times faster than on the (text, number) pair."""
    # Case and surrounding blanks ignored, as Excel's SUMIFS and COUNTIFS match them.
    ids = pd.Series(np.concatenate([claims["claim_id"].to_numpy(dtype=object),
                                    payments["claim_id"].to_numpy(dtype=object)]))
    codes = _per_distinct_text(ids, lambda v: v.strip().upper()).pipe(pd.factorize)[0].astype("int64")
    lines = np.concatenate([claims["line"].to_numpy(dtype="int64"), payments["line"].to_numpy(dtype="int64")])
    width = int(lines.max()) + 1 if len(lines) else 1
    key = codes * width + lines
    return key[:len(claims)], key[len(claims):]


def line_summary(claims: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """One row per claim line (same order and index as `claims`) with:

    paid, contractual_adj, sequestration, patient_resp, denied_amount: net sums over every
        payer's remittances, in cents; interest: prompt-pay interest paid (Payments' Interest,
        an 835's AMT*I);
    allowed: the allowed amounts of the remittances from the line's own payer (payer seq 1,
        or 2 for a Secondary claim row): AMT*B6 where given, else paid + patient
        responsibility + sequestration. Underpayment is measured on it, against that payer's
        contract;
    last_payer_seq: the highest payer sequence that has remitted (1 when none);
    forwarded: that payer forwarded the claim to the next one (CLP02 19, 20 or 21): its
        patient responsibility is the next payer's bill, not yet the patient's;
    patient_share: what leaves insurance A/R as the patient's: the last payer's patient
        responsibility, or 0 while the claim is forwarded or a later payer of the line is
        still to adjudicate (claims' next_payer_seq, from `claim_roles`, above the last
        payer's sequence);
    n_remits: remittance rows posted; adjudicated: at least one;
    first_remit_date, last_remit_date;
    first_paid: paid on the first remittance date;
    denied_first_pass: the first adjudication denied the line, in full or in part (HFMA's
        initial denial);
    denied: the line stands denied in full now (net paid is zero and a denial is on file);
    partial_denial: the line is paid but part of it stands denied (a denial on file and a
        net denied amount over zero);
    denial_open: denied or partial_denial: a denial to work (appeal, resubmit, write off);
    awaiting_reprocessing: every adjudication of the line has been reversed (CLP02 22) and
        no corrected one has come yet;
    denial_date, denial_carc, denial_group, denial_rarc: the most recent denial row's remit
        date and reason (CARC as the CARC list spells it: "CO-29" is "29"; its remark codes as
        posted); the appeal clock starts at that date (the latest in the sheet among several
        on that date);
    carc29: a remittance row for the line cites CARC 29 (timely filing expired).
    """
    out = claims[KEY].copy()
    pay = payments.copy()
    if pay.empty:
        for c in MONEY_SUMS + ["received", "first_paid", "n_remits", "patient_share"]:
            out[c] = pd.Series(0, index=out.index, dtype="int64")
        out["last_payer_seq"] = pd.Series(1, index=out.index, dtype="int64")
        for c in ["first_remit_date", "last_remit_date", "denial_date"]:
            out[c] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        for c in ["denial_carc", "denial_group", "denial_rarc"]:
            out[c] = ""
        for c in FLAGS:
            out[c] = False
        return out

    for c in ("sequestration", "interest"):
        if c not in pay:
            pay[c] = 0
    for c in MONEY_SUMS:
        if c != "allowed":
            pay[c] = pay[c].fillna(0).astype("int64")
    pay["allowed"] = pay["allowed"].fillna(pay["paid"] + pay["patient_resp"] + pay["sequestration"]).astype("int64")
    pay["is_denial"] = denial_rows(pay)
    status = pay["claim_status"].astype(str).to_numpy()
    seq = payer_seqs(pay)
    # Group on one integer per claim line (factorised once) rather than on the
    # (claim ID, line) pair: pandas would re-hash the claim ID strings for every groupby.
    claim_key, pay_key = line_codes(claims, pay)
    pay["_line"] = pay_key
    pay["_seq"] = seq
    own = pd.Series(claims["claim_type"].fillna("").astype(str).map(PAYER_SEQ_OF_TYPE).fillna(1)
                    .astype("int64").to_numpy() if "claim_type" in claims else np.ones(len(claims), dtype="int64"),
                    index=claim_key)
    own = own[~own.index.duplicated()]
    pay["_own"] = pay["_line"].map(own).fillna(1).astype("int64").to_numpy() == seq
    pay["_own_allowed"] = pay["allowed"].where(pay["_own"], 0)
    pay["_own_received"] = (pay["paid"] + pay["patient_resp"] + pay["sequestration"]).where(pay["_own"], 0)
    pay["_reversal"] = status == REVERSAL_STATUS
    groups = pay.groupby("_line", sort=False)
    totals = groups[[c for c in MONEY_SUMS if c != "allowed"]].sum()
    totals["allowed"] = groups["_own_allowed"].sum()
    totals["received"] = groups["_own_received"].sum()
    totals["n_remits"] = groups.size()
    totals["first_remit_date"] = groups["remit_date"].min()
    totals["last_remit_date"] = groups["remit_date"].max()
    reversals = groups["_reversal"].sum()
    totals["awaiting_reprocessing"] = (reversals > 0) & (reversals >= totals["n_remits"] - reversals)

    # The last payer: its patient responsibility is the patient's, unless it forwarded
    # the claim to a next payer (CLP02 19/20/21), which then owes it.
    last = groups["_seq"].transform("max").to_numpy() == seq
    pay["_last_pr"] = pay["patient_resp"].where(last, 0)
    # ... as its latest adjudication says (a forwarded one reversed and reissued is not).
    adjudication = pay["remit_date"].where(last & ~pay["_reversal"].to_numpy())
    latest = adjudication.groupby(pay["_line"]).transform("max")
    pay["_forwarded"] = (adjudication == latest).to_numpy() & np.isin(status, rules.FORWARDED)
    by_line = pay.groupby("_line", sort=False)
    totals["last_payer_seq"] = by_line["_seq"].max()
    totals["forwarded"] = by_line["_forwarded"].any()
    next_seq = (pd.Series(claims["next_payer_seq"].to_numpy(), index=claim_key) if "next_payer_seq" in claims
                else pd.Series(0, index=claim_key))
    next_seq = next_seq[~next_seq.index.duplicated()].reindex(totals.index).fillna(0)
    waiting = totals["forwarded"] | (next_seq > totals["last_payer_seq"])
    totals["patient_share"] = by_line["_last_pr"].sum().where(~waiting, 0)

    first = pay[pay["remit_date"] == groups["remit_date"].transform("min")]
    first_groups = first.groupby("_line", sort=False)
    totals["first_paid"] = first_groups["paid"].sum()
    totals["denied_first_pass"] = first_groups["is_denial"].any()

    denials = pay[pay["is_denial"]].sort_values("remit_date", kind="stable")
    last_denial = denials.groupby("_line", sort=False).tail(1).set_index("_line")
    totals["denial_date"] = last_denial["remit_date"]
    totals["denial_carc"] = last_denial["carc"]
    totals["denial_group"] = last_denial["group_code"]
    totals["denial_rarc"] = last_denial["rarc"] if "rarc" in last_denial else ""
    paying = pay[(pay["paid"] > 0) & ~pay["_reversal"]]
    totals["last_paid_date"] = paying.groupby("_line", sort=False)["remit_date"].max()
    # Any remittance row citing CARC 29 ("time limit for filing has expired") marks the
    # line's filing deadline as missed: the payor's word settles it, whatever the dates say.
    # (The text compared once per distinct code; a line is flagged when any of its rows is.)
    codes, distinct = pd.factorize(pay["carc"])
    cites29 = np.append(np.array([str(c).strip().upper() in rules.TIMELY_FILING_FORMS for c in distinct],
                                 dtype=bool), False)[codes]
    totals["carc29"] = totals.index.isin(pay_key[cites29])
    out = out.join(totals.reindex(claim_key).set_axis(out.index))
    for c in MONEY_SUMS + ["received", "first_paid", "n_remits", "patient_share"]:
        out[c] = out[c].fillna(0).astype("int64")
    out["last_payer_seq"] = out["last_payer_seq"].fillna(1).astype("int64")
    out["denial_carc"] = _per_distinct_text(out["denial_carc"], rules.reason_code)
    out["denial_group"] = out["denial_group"].fillna("").astype(object)
    out["denial_rarc"] = out["denial_rarc"].fillna("").astype(object)
    for c in ["denied_first_pass", "carc29", "forwarded", "awaiting_reprocessing"]:
        out[c] = out[c].eq(True)        # a line with no remittance (NaN here) is False
    out["adjudicated"] = out["n_remits"] > 0
    on_file = out["denial_date"].notna()
    out["denied"] = on_file & (out["paid"] <= 0)
    # Paid in part with the rest denied: the latest denial is not followed by a payment (a
    # denial paid on resubmission or appeal is closed, though its denied amount stays).
    not_paid_since = out["last_paid_date"].isna() | (out["denial_date"] >= out["last_paid_date"])
    out["partial_denial"] = on_file & (out["paid"] > 0) & (out["denied_amount"] > 0) & not_paid_since
    out = out.drop(columns="last_paid_date")
    out["denial_open"] = out["denied"] | out["partial_denial"]
    return out


def _per_distinct_text(values: pd.Series, convert) -> pd.Series:
    """convert() of each distinct text (blank for a missing one), spread back."""
    codes, distinct = pd.factorize(values.fillna("").astype(str))
    converted = np.array([convert(v) for v in distinct] + [""], dtype=object)
    return pd.Series(converted[codes], index=values.index, dtype=object)
