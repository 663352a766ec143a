"""One ranked list of what billing staff should do next, with the money and the clock.

Actions, each from a rule computed elsewhere in the engine:
- File claim: an unfiled line whose filing deadline is due soon (Filing Status "Due soon").
- Correct and resubmit: a filed claim the clearinghouse or payer rejected (277CA), its
  filing window still open: it was never received, its clock runs on.
- Appeal denial: a denied line routed to an appeal (DenialRouting) whose appeal window is
  open (Appeal Status "Open"/"Due soon"); at a later level, "Appeal denial (level N)".
- Correct and resubmit, Rebill other payer: a denied line routed to a resubmission, its
  resubmission window (the filing window) open; Bill patient: a denial routed to the patient.
- Chase underpayment: an underpaid line, not yet appealed, its appeal window still open
  (the window runs from the last remittance, as for a denial), whose follow-up (the
  Underpayments sheet) is Open; Sent ones are listed as "Follow up underpayment";
  Recovered and Invalid ones are done.
- Follow up unpaid claim: a clean claim unpaid past its prompt-pay date (interest accrues).
- Awaiting reprocessing: a payment the payer reversed (CLP02 22) with no corrected one
  yet; the line is back in A/R; follow up 30 days after the reversal.
- Give contract notice: a contract whose notice deadline is due soon.
- Claim prompt-pay interest: a claim paid late whose interest owed (Prompt Pay Interest of
  its lines) exceeds the interest paid with it (AMT*I, PLB L6) by more than the
  Underpayment Tolerance $, while the appeal window from its last remittance is open.
- Verify recoupment: money a payer took back from a payment (a PLB with a positive amount:
  overpayment recovery WO, authorized return 72, forwarding balance FB...), while the
  contract's appeal window from that payment is open: check the reversal it pays for, or
  dispute it.
- Missed items (filing or appeal already past) are listed after every open action, for
  write-off or a proof-of-timely-filing appeal, biggest first.

Ranking: open actions by urgency = dollars at risk ÷ max(days left, 1), what one more
day of delay puts at risk: $300 due tomorrow ($300/day) comes before $2,000 due in ten
days ($200/day). Overdue follow-ups count as one day left.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..rules import BILL_PATIENT, CORRECT, REBILL, RESUBMIT_ACTIONS
from .deadlines import dispute_deadline
from .lines import frame_claim_codes
from .reconciliation import provider_adjustments

REPROCESS_FOLLOW_UP_DAYS = 30
NEXT_STEP = {CORRECT: "correct the claim and resubmit it (no appeal needed)",
             REBILL: "bill the payer that covers it, within its filing limit"}
COLUMNS = ["rank", "action", "payor", "claim_id", "line", "cpt", "dos", "amount",
           "deadline", "days_left", "status", "detail"]


# The rows of a kind with none: one empty frame, made once (pandas takes half a millisecond
# to make one, and most kinds have no row on a given day); never changed, only left out.
NO_ROWS = pd.DataFrame(columns=COLUMNS[1:])


def _joined(before: str, texts: pd.Series, after: str) -> pd.Series:
    """before + each text + after, joined in Python (a few hundred texts: pandas' text
    arithmetic costs a millisecond a step)."""
    return pd.Series([before + t + after for t in texts.tolist()], index=texts.index, dtype=object)


def _rows(frame: pd.DataFrame, mask, action: str, amount, deadline, days_left, status, detail) -> pd.DataFrame:
    if not np.asarray(mask, dtype=bool).any():    # (a kind with no row: the worklist leaves it out)
        return NO_ROWS
    f = frame.loc[mask, ["payor", "claim_id", "line", "cpt", "dos"]]   # (the columns shown: not every line column)

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
    if shown.any():
        text[shown] = make(shown)
    return text


def _recoupments(adjustments: pd.DataFrame | None, contracts: pd.DataFrame, settings) -> pd.DataFrame:
    """Worklist rows for the recoupments still open to dispute (see the module docstring)."""
    plb = provider_adjustments(adjustments)
    if adjustments is None or plb.empty:
        return NO_ROWS
    provider = adjustments[adjustments["level"].fillna("") == "provider"].reset_index(drop=True)
    took = plb["provider_adj_amount"].astype("int64").to_numpy() > 0
    deadline = dispute_deadline(provider, contracts, provider["remit_date"])
    days_left = (deadline - settings.as_of).dt.days
    shown = took & (days_left >= 0).fillna(False).to_numpy()
    status = np.where(days_left <= settings.appeal_due_soon_days, "Due soon", "Open")
    return pd.DataFrame({
        "action": "Verify recoupment", "payor": provider["payor"], "claim_id": plb["claim_id"], "line": pd.NA,
        "cpt": "", "dos": pd.NaT, "amount": plb["provider_adj_amount"].astype("Int64"), "deadline": deadline,
        "days_left": days_left.astype("Int64"), "status": status, "detail": plb["detail"]})[shown]


def _interest_owed(lines: pd.DataFrame, contracts: pd.DataFrame, settings) -> pd.DataFrame:
    """Worklist rows for claims paid less prompt-pay interest than owed (module docstring)."""
    if lines.empty or "interest" not in lines:
        return NO_ROWS
    paid_late = lines["prompt_pay_status"].isin(["Paid late"]).to_numpy(dtype=bool)   # (isin: see may_be_listed)
    owed = pd.Series(np.where(paid_late, lines["prompt_pay_interest"].fillna(0).to_numpy(dtype="int64"), 0),
                     index=lines.index)
    # Only a claim with interest owed (or a negative interest paid) can be short of it: the
    # lines of the others are left out before anything is worked out per claim.
    # (with a negative tolerance, which no practice means, a claim owed nothing is short too)
    maybe = ((owed > 0) | (lines["interest"] < 0)).to_numpy() | (settings.tolerance_amount < 0)
    if not maybe.any():
        lines, owed = lines.iloc[:0], owed.iloc[:0]
    claim = frame_claim_codes(lines)
    if maybe.any() and not maybe.all():
        keep = np.isin(claim, claim[maybe])
        lines, owed, claim = lines[keep], owed[keep], claim[keep]
    owed_claim = owed.groupby(claim).transform("sum")
    paid_claim = lines["interest"].astype("int64").groupby(claim).transform("sum")
    short = owed_claim - paid_claim
    first = pd.Series(~pd.Series(claim).duplicated().to_numpy(), index=lines.index)
    short_first = first & (short > settings.tolerance_amount)
    if not short_first.any():      # (no claim short of interest: no row, and no deadline to work out)
        return NO_ROWS
    # (the deadline of the claims short of interest only: NaT elsewhere, where it is not read)
    last = lines["last_remit_date"].groupby(claim).transform("max")
    deadline = dispute_deadline(lines.loc[short_first, ["payor"]], contracts, last[short_first]).reindex(lines.index) \
        .astype("datetime64[ns]")
    days_left = (deadline - settings.as_of).dt.days
    shown = short_first & (days_left >= 0).fillna(False)
    detail = _text_where(shown, lambda rows: (
        "prompt-pay interest owed " + (owed_claim[rows] / 100).map("${:,.2f}".format).astype(str) + ", paid "
        + (paid_claim[rows] / 100).map("${:,.2f}".format).astype(str) + " (AMT*I, PLB L6): claim the difference"))
    status = pd.Series(np.where(days_left <= settings.appeal_due_soon_days, "Due soon", "Open"), index=lines.index)
    return _rows(lines, shown, "Claim prompt-pay interest", short, deadline, days_left, status, detail)


# Every line column line_actions (and _rows) reads; tests/engine/test_small_rules.py holds
# the list to the names the functions' source quotes.
LINE_ACTION_COLUMNS = frozenset({
    "payor", "claim_id", "line", "cpt", "dos", "charge", "expected_allowed", "variance", "denied_amount",
    "filing_status", "filing_deadline", "filing_days_left", "rejected", "rejected_on", "rejection",
    "appeal_status", "appeal_deadline", "appeal_days_left", "appeal_level", "appealed",
    "denial_action", "denial_group", "denial_carc", "denial_rarc", "denial_category", "partial_denial", "carc29",
    "resubmit_status", "resubmit_deadline", "resubmit_days_left",
    "underpaid", "underpayment_deadline", "underpayment_days_left", "follow_up", "follow_up_date",
    "prompt_pay_status", "prompt_pay_due", "prompt_pay_days_late", "prompt_pay_interest",
    "awaiting_reprocessing", "last_remit_date"})


def may_be_listed(lines: pd.DataFrame) -> np.ndarray:
    """The lines `line_actions` can list: each of its kinds needs one of these (a filing
    open, due soon or missed; an appeal open, due soon or missed; a denial action or a
    resubmission status; an underpayment; prompt pay overdue; a reversal awaiting
    reprocessing). The others are left out before its tests, each a pass over every
    line: on a practice's usual day, most lines are none of these."""
    # (isin: a status column holds a handful of texts, each one object, and isin hashes each
    # object once, where == compares every cell; the texts compared as an object array:
    # pandas' own comparisons cost five times as much)
    may = (lines["filing_status"].isin(["Open", "Due soon", "Missed"]).to_numpy(dtype=bool)
           | lines["appeal_status"].isin(["Open", "Due soon", "Missed"]).to_numpy(dtype=bool)
           | lines["underpaid"].to_numpy(dtype=bool) | lines["prompt_pay_status"].isin(["Overdue"]).to_numpy(dtype=bool)
           | lines["awaiting_reprocessing"].to_numpy(dtype=bool))
    for column in ("denial_action", "resubmit_status"):
        if column in lines:
            text = lines[column].to_numpy(dtype=object)
            try:
                listed = text != ""                    # (as fillna("") != "": a missing one is not,
            except TypeError:                          # looked for among the few texts alone; <NA>
                listed = lines[column].fillna("").to_numpy(dtype=object) != ""   # refuses a comparison)
            else:
                at = np.flatnonzero(listed)
                listed[at] = pd.notna(text[at])
            may |= listed
    return may


def line_actions(lines: pd.DataFrame, settings) -> list[pd.DataFrame]:
    """The worklist rows that come from one claim line each (every kind but recoupments,
    interest short on a claim and contract notices), kind by kind, in the order they are
    listed. Only lines `may_be_listed` give any."""
    value = lines["expected_allowed"].fillna(lines["charge"]).astype("Int64")
    parts = []
    rejected = lines["rejected"].astype(bool) if "rejected" in lines else pd.Series(False, index=lines.index)
    due = (lines["filing_status"] == "Due soon") & ~rejected
    parts.append(_rows(lines, due, "File claim", value, lines["filing_deadline"],
                       lines["filing_days_left"], lines["filing_status"], "not yet filed"))
    resubmit = rejected & lines["filing_status"].isin(["Open", "Due soon"])
    parts.append(_rows(lines, resubmit, "Correct and resubmit", value, lines["filing_deadline"],
                       lines["filing_days_left"], lines["filing_status"], _text_where(resubmit, lambda rows: (
                           "Rejected on " + lines.loc[rows, "rejected_on"].dt.strftime("%m/%d/%Y") + " ("
                           + lines.loc[rows, "rejection"].astype(str) + "): correct and resubmit"))))
    # A timely-filing denial (CARC 29) is worked as the missed filing it is (below), not as
    # an appeal: its only appeal is a proof of timely filing, said on that row.
    filing_denial = lines["carc29"].astype(bool)
    appeal_open = lines["appeal_status"].isin(["Open", "Due soon"]) & ~filing_denial
    action = lines["denial_action"] if "denial_action" in lines else pd.Series("", index=lines.index)
    resubmit_status = lines["resubmit_status"] if "resubmit_status" in lines else pd.Series("", index=lines.index)
    routed = (action.isin(RESUBMIT_ACTIONS) & resubmit_status.isin(["Open", "Due soon", "Missed"])) \
        | ((action == BILL_PATIENT) & ~filing_denial)

    def why(rows):
        """"denied CO-16 MA130 Missing Information": the denial, its remark codes, its category.
        (Each text formatted in Python: a few hundred rows, where pandas' text arithmetic
        costs a millisecond a step.)"""
        take = np.asarray(rows, dtype=bool)

        def cells(column):
            return lines[column].to_numpy(dtype=object)[take].tolist()
        rarcs = cells("denial_rarc") if "denial_rarc" in lines else [""] * int(take.sum())
        rarcs = ["" if pd.isna(r) else str(r) for r in rarcs]      # (as fillna("").astype(str))
        text = [f"{'partly denied ' if partial else 'denied '}{group}-{carc}{' ' + rarc if rarc else ''} {category}"
                for partial, group, carc, rarc, category in zip(cells("partial_denial"), cells("denial_group"),
                                                                 cells("denial_carc"), rarcs,
                                                                 cells("denial_category"))]
        return pd.Series(text, index=lines.index[take], dtype=object)
    reason = _text_where(appeal_open | (lines["appeal_status"] == "Missed") | routed, why)
    at_risk = lines["denied_amount"].where(lines["denied_amount"] > 0, lines["charge"])
    level = lines["appeal_level"].fillna(1).astype("int64") if "appeal_level" in lines else \
        pd.Series(1, index=lines.index)
    parts.append(_rows(lines, appeal_open & (level <= 1), "Appeal denial", at_risk, lines["appeal_deadline"],
                       lines["appeal_days_left"], lines["appeal_status"], reason))
    for n in sorted(set(level[appeal_open & (level > 1)])):
        parts.append(_rows(lines, appeal_open & (level == n), f"Appeal denial (level {n})", at_risk,
                           lines["appeal_deadline"], lines["appeal_days_left"], lines["appeal_status"],
                           _text_where(appeal_open & (level == n), lambda rows, n=n: (
                               _joined("level " + str(n - 1) + " upheld; ", reason[rows], "")))))
    # A denial routed to a resubmission runs against the filing window (DenialRouting).
    for name in RESUBMIT_ACTIONS:
        due = (action == name) & resubmit_status.isin(["Open", "Due soon"])
        parts.append(_rows(lines, due, name, at_risk, lines.get("resubmit_deadline"), lines.get("resubmit_days_left"),
                           resubmit_status, _text_where(due, lambda rows, name=name: (
                               _joined("", reason[rows], ": " + NEXT_STEP[name])))))
    bill = (action == BILL_PATIENT) & ~filing_denial
    parts.append(_rows(lines, bill, BILL_PATIENT, at_risk, pd.NaT, pd.NA, "Open",
                       _text_where(bill, lambda rows: _joined("", reason[rows], ": the patient's to pay"))))
    window_open = lines["underpaid"] & lines["underpayment_days_left"].ge(0).fillna(False) & ~lines["appealed"]
    follow_up = lines["follow_up"] if "follow_up" in lines else pd.Series("Open", index=lines.index)
    under_open = window_open & (follow_up == "Open")
    parts.append(_rows(lines, under_open, "Chase underpayment", lines["variance"],
                       lines["underpayment_deadline"], lines["underpayment_days_left"], "Underpaid",
                       "allowed below contract"))
    sent = window_open & (follow_up == "Sent")
    parts.append(_rows(lines, sent, "Follow up underpayment", lines["variance"], lines["underpayment_deadline"],
                       lines["underpayment_days_left"], "Sent", _text_where(sent, lambda rows: (
                           "sent to the payor " + lines.loc[rows, "follow_up_date"].dt.strftime("on %m/%d/%Y")
                           .fillna("(no date)") + ": ask for its answer"))))
    overdue = (lines["prompt_pay_status"] == "Overdue") & ~lines["awaiting_reprocessing"].astype(bool)
    parts.append(_rows(lines, overdue, "Follow up unpaid claim", value, lines["prompt_pay_due"],
                       -lines["prompt_pay_days_late"].astype("Int64"), "Overdue",
                       _text_where(overdue, lambda rows: "prompt-pay interest due " + (
                           lines.loc[rows, "prompt_pay_interest"].fillna(0).astype("int64") / 100)
                           .map("${:,.2f}".format).astype(object))))
    awaiting = lines["awaiting_reprocessing"].astype(bool)
    follow_up = lines["last_remit_date"] + pd.Timedelta(days=REPROCESS_FOLLOW_UP_DAYS)
    parts.append(_rows(lines, awaiting, "Awaiting reprocessing", value, follow_up,
                       (follow_up - settings.as_of).dt.days, "Open", _text_where(awaiting, lambda rows: (
                           "payment reversed (CLP02 22) on " + lines.loc[rows, "last_remit_date"].dt.strftime(
                               "%m/%d/%Y") + "; no corrected payment yet: ask the payer to reprocess"))))
    missed_filing = lines["filing_status"] == "Missed"
    parts.append(_rows(lines, missed_filing, "Missed filing deadline", value, lines["filing_deadline"],
                       lines["filing_days_left"], "Missed",
                       np.where(lines["carc29"], "denied CO-29: appeal only with proof of timely filing",
                                "never filed: write off, or file with proof of an exception")))
    missed_resubmit = action.isin(RESUBMIT_ACTIONS) & (resubmit_status == "Missed") & ~filing_denial
    parts.append(_rows(lines, missed_resubmit, "Missed resubmission deadline", lines["denied_amount"],
                       lines.get("resubmit_deadline"), lines.get("resubmit_days_left"), "Missed", reason))
    missed_appeal = (lines["appeal_status"] == "Missed") & ~filing_denial
    parts.append(_rows(lines, missed_appeal, "Missed appeal deadline", lines["denied_amount"],
                       lines["appeal_deadline"], lines["appeal_days_left"], "Missed", reason))
    return parts


def build_worklist(lines: pd.DataFrame, notices: pd.DataFrame, contracts: pd.DataFrame,
                   settings, adjustments: pd.DataFrame | None = None,
                   next_payer: pd.DataFrame | None = None) -> pd.DataFrame:
    """`lines`: the per-claim-line result frame (claims columns plus the engine's
    deadline, reimbursement and denial columns); `notices`: contract_notices() output
    aligned with `contracts`; `adjustments`: the Adjustments rows (PLB recoupments);
    `next_payer`: the per-line frame of the Next payer rows of Claims (their filing), with
    "owed", the patient responsibility they are billed for. Returns COLUMNS, ranked (rank 1
    = do first)."""
    if lines.empty and contracts.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    # (the lines that may be listed, with the columns line_actions reads alone: a copy of
    # every line column costs twice as much)
    parts = line_actions(lines.loc[may_be_listed(lines), [c for c in lines.columns if c in LINE_ACTION_COLUMNS]],
                         settings)
    parts.append(_recoupments(adjustments, contracts, settings))
    parts.append(_interest_owed(lines, contracts, settings))     # (per claim: every line)
    if next_payer is not None and len(next_payer):
        later = next_payer["claim_type"].astype(str).str.lower() + " claim to " + next_payer["payor"].astype(str)
        due = next_payer["filing_status"] == "Due soon"
        parts.append(_rows(next_payer, due, "File claim", next_payer["owed"], next_payer["filing_deadline"],
                           next_payer["filing_days_left"], next_payer["filing_status"], later + " not yet filed"))
        missed = next_payer["filing_status"] == "Missed"
        parts.append(_rows(next_payer, missed, "Missed filing deadline", next_payer["owed"],
                           next_payer["filing_deadline"], next_payer["filing_days_left"], "Missed",
                           later + " never filed: write off, or file with proof of an exception"))
    work = pd.concat([p for p in parts if not p.empty] or [NO_ROWS],
                     ignore_index=True)

    c = contracts.join(notices)
    soon = c["notice_status"] == "Due soon"
    if soon.any():
        # (the paid of the payors whose notice is due alone: a few of 100,000 lines)
        theirs = lines["payor"].isin(c.loc[soon, "payor"]).to_numpy(dtype=bool)
        paid = lines[["payor", "paid"]][theirs].groupby("payor")["paid"].sum()
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
