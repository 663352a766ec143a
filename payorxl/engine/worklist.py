"""One ranked list of what billing staff should do next, with the money and the clock.

Actions, each from a rule computed elsewhere in the engine:
- File claim: an unfiled line whose filing deadline is due soon (Filing Status "Due soon").
- Appeal denial: a denied line whose appeal window is open (Appeal Status "Open"/"Due soon").
- Chase underpayment: an underpaid line, not yet appealed, its appeal window still open
  (the window runs from the last remittance, as for a denial).
- Follow up unpaid claim: a clean claim unpaid past its prompt-pay date (interest accrues).
- Give contract notice: a contract whose notice deadline is due soon.
- Missed items (filing or appeal already past) are listed after every open action, for
  write-off or a proof-of-timely-filing appeal, biggest first.

Ranking: open actions by urgency = dollars at risk ÷ max(days left, 1), what one more
day of delay puts at risk: $300 due tomorrow ($300/day) comes before $2,000 due in ten
days ($200/day). Overdue follow-ups count as one day left.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["rank", "action", "payor", "claim_id", "line", "cpt", "dos", "amount",
           "deadline", "days_left", "status", "detail"]


def _rows(frame: pd.DataFrame, mask, action: str, amount, deadline, days_left, status, detail) -> pd.DataFrame:
    f = frame[mask]

    def pick(v):
        if isinstance(v, pd.Series):
            return v[mask]
        if np.ndim(v) == 0:     # one value for every row: built for the rows picked only
            return pd.Series(v, index=f.index)
        return pd.Series(np.asarray(v)[np.asarray(mask, dtype=bool)], index=f.index)   # the rows picked

    return pd.DataFrame({
        "action": action, "payor": f["payor"], "claim_id": f["claim_id"], "line": f["line"],
        "cpt": f["cpt"], "dos": f["dos"], "amount": pick(amount).astype("Int64"),
        "deadline": pick(deadline), "days_left": pick(days_left).astype("Int64"),
        "status": pick(status), "detail": pick(detail)})


def _text_where(shown: pd.Series, make) -> pd.Series:
    """make(rows) for the rows shown, blank elsewhere: text built for every one of
    100,000 lines would cost more than the rest of the worklist."""
    text = pd.Series("", index=shown.index, dtype=object)
    text[shown] = make(shown)
    return text


def build_worklist(lines: pd.DataFrame, notices: pd.DataFrame, contracts: pd.DataFrame,
                   settings) -> pd.DataFrame:
    """`lines`: the per-claim-line result frame (claims columns plus the engine's
    deadline, reimbursement and denial columns); `notices`: contract_notices() output
    aligned with `contracts`. Returns COLUMNS, ranked (rank 1 = do first)."""
    if lines.empty and contracts.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    value = lines["expected_allowed"].fillna(lines["charge"]).astype("Int64")
    parts = []
    due = lines["filing_status"] == "Due soon"
    parts.append(_rows(lines, due, "File claim", value, lines["filing_deadline"],
                       lines["filing_days_left"], lines["filing_status"], "not yet filed"))
    appeal_open = lines["appeal_status"].isin(["Open", "Due soon"])
    reason = _text_where(appeal_open | (lines["appeal_status"] == "Missed"), lambda rows: (
        "denied " + lines.loc[rows, "denial_group"].astype(str) + "-" + lines.loc[rows, "denial_carc"].astype(str)
        + " " + lines.loc[rows, "denial_category"].astype(str)))
    parts.append(_rows(lines, appeal_open, "Appeal denial", lines["denied_amount"].where(
        lines["denied_amount"] > 0, lines["charge"]), lines["appeal_deadline"],
        lines["appeal_days_left"], lines["appeal_status"], reason))
    under_open = lines["underpaid"] & lines["underpayment_days_left"].ge(0).fillna(False) & ~lines["appealed"]
    parts.append(_rows(lines, under_open, "Chase underpayment", lines["variance"],
                       lines["underpayment_deadline"], lines["underpayment_days_left"], "Underpaid",
                       "allowed below contract"))
    overdue = lines["prompt_pay_status"] == "Overdue"
    parts.append(_rows(lines, overdue, "Follow up unpaid claim", value, lines["prompt_pay_due"],
                       -lines["prompt_pay_days_late"].astype("Int64"), "Overdue",
                       _text_where(overdue, lambda rows: "prompt-pay interest due " + (
                           lines.loc[rows, "prompt_pay_interest"].fillna(0).astype("int64") / 100)
                           .map("${:,.2f}".format).astype(object))))
    missed_filing = lines["filing_status"] == "Missed"
    parts.append(_rows(lines, missed_filing, "Missed filing deadline", value, lines["filing_deadline"],
                       lines["filing_days_left"], "Missed",
                       np.where(lines["carc29"], "denied CO-29: appeal only with proof of timely filing",
                                "never filed: write off, or file with proof of an exception")))
    missed_appeal = lines["appeal_status"] == "Missed"
    parts.append(_rows(lines, missed_appeal, "Missed appeal deadline", lines["denied_amount"],
                       lines["appeal_deadline"], lines["appeal_days_left"], "Missed", reason))
    work = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(columns=COLUMNS[1:])],
                     ignore_index=True)

    c = contracts.join(notices)
    soon = c["notice_status"] == "Due soon"
    if soon.any():
        paid = lines.groupby("payor")["paid"].sum() if not lines.empty else pd.Series(dtype="int64")
        notice = pd.DataFrame({
            "action": "Give contract notice", "payor": c.loc[soon, "payor"], "claim_id": "", "line": pd.NA,
            "cpt": "", "dos": pd.NaT, "amount": c.loc[soon, "payor"].map(paid).fillna(0).astype("Int64"),
            "deadline": c.loc[soon, "notice_deadline"], "days_left": c.loc[soon, "notice_days_left"].astype("Int64"),
            "status": "Due soon",
            "detail": "term ends " + c.loc[soon, "current_term_end"].dt.strftime("%m/%d/%Y")
                      + np.where(c.loc[soon, "renews"], ", renews automatically", "")
                      + "; amount = payments in the period"})
        work = pd.concat([work, notice], ignore_index=True)

    missed = work["status"] == "Missed"
    days = work["days_left"].astype("Float64").clip(lower=1).fillna(1)
    work["_urgency"] = np.where(missed, -1.0, work["amount"].astype("Float64").fillna(0) / days)
    work["_missed"] = missed
    work = work.sort_values(["_missed", "_urgency", "amount"], ascending=[True, False, False],
                            kind="stable").reset_index(drop=True)
    work.insert(0, "rank", np.arange(1, len(work) + 1))
    return work[COLUMNS]
