"""The calculation engine: pure functions over typed frames, no I/O and no Excel.

`calculate(frames, settings)` runs every rule once over whole tables and returns a
`Results` with everything the owned sheets, the CLI and the UDFs show. The same inputs
give the same outputs whether the call comes from a formula, a button or the CLI.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import model as m, rules
from . import collections, deadlines, denials, portfolio, reimbursement
from .lines import (
    CLAIM_CODE,
    CROSSED_OVER,
    FORWARDED_TO,
    LINE,
    NEXT_PAYER,
    VOID,
    _per_distinct_text,
    adjustment_kinds,
    claim_roles,
    distinct_counts,
    factorized_texts,
    line_codes,
    line_summary,
    service_codes,
    texts,
    with_claim_codes,
)
from .worklist import build_worklist


@dataclass
class KPI:
    """One headline figure: value (cents for money), kind (percent, money, number, count),
    definition and the source it follows."""
    label: str
    value: float | int | None
    kind: str
    definition: str
    source: str = ""


@dataclass
class Results:
    """What `calculate` gives. The fields after contracts are None when the call did not
    ask for them (calculate's `parts`); a whole calculation has them all."""
    settings: m.Settings
    lines: pd.DataFrame            # one row per claim line: inputs + every per-line result
    contracts: pd.DataFrame        # contracts + notice calendar
    kpis: dict[str, KPI] | None
    denials_by: dict[str, pd.DataFrame] | None
    aging: pd.DataFrame | None
    scorecard: pd.DataFrame | None
    worklist: pd.DataFrame | None
    deadlines: pd.DataFrame | None  # missed / due-soon counts and dollars by deadline type
    portfolio: dict[str, pd.DataFrame] | None
    monthly: pd.DataFrame | None
    errors: list = field(default_factory=list)
    adjustments: pd.DataFrame | None = None   # the Adjustments rows with what each does ("kind")
    claim_rows: pd.DataFrame | None = None    # every Claims row's calculated columns (Role first)
    payment_rows: pd.DataFrame | None = None  # every Payments row's calculated columns (its Action)


def _nan_to_none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x


def _plb_interest(claims: pd.DataFrame, adjustments: pd.DataFrame | None) -> np.ndarray:
    """Interest a payer paid through PLB L6 (a negative amount adds to the payment) on a
    claim it names, put on the claim's first line (same order as claims)."""
    out = np.zeros(len(claims), dtype="int64")
    if adjustments is None or adjustments.empty or claims.empty:
        return out
    interest = _per_distinct_text(adjustments["reason"], lambda v: v.strip().upper() == "L6", bool).to_numpy()
    plb = adjustments[(adjustments["level"].fillna("") == "provider").to_numpy() & interest
                      & (texts(adjustments["claim_id"]) != "")]
    if plb.empty:
        return out
    paid = (-plb["amount"].fillna(0).astype("int64")).groupby(
        plb["claim_id"].astype(str).str.strip().str.upper()).sum()
    ids = claims["claim_id"].astype(str).str.strip().str.upper()
    first = ~ids.duplicated().to_numpy()
    out[first] = ids[first].map(paid).fillna(0).astype("int64").to_numpy()
    return out


# The per-line fields a caller may ask for alone (calculate's `fields`: a per-row PX_
# formula), each worked out by the very step that works it out for every field, from the
# same line summary; any other field takes every step.
FILING_FIELDS = ("filing_deadline", "filing_days_left", "filing_status")
APPEAL_FIELDS = ("appeal_deadline", "appeal_days_left", "appeal_status")
QUICK_FIELDS = frozenset(FILING_FIELDS + APPEAL_FIELDS + ("expected_allowed", "denial_category", "balance"))


def per_line(frames: dict[str, pd.DataFrame], settings: m.Settings,
             fields: Collection[str] | None = None, with_prompt_pay: bool = True,
             with_pricing: bool = True, with_balances: bool = True) -> pd.DataFrame:
    """Every per-claim-line result, side by side with the claim's own columns.

    fields: the results the caller reads, when they are all in QUICK_FIELDS; the frame
    then holds the claim's columns, the line summary (lines.line_summary) and those
    fields (with what their step gives beside them), and none of the later steps run
    (the price, the deadlines, write-offs, balances). None (the default): every result.
    with_prompt_pay=False: every result but the prompt-pay columns (deadlines.prompt_pay),
    which no figure of NO_PROMPT_PAY_PARTS reads; with_pricing=False: nor the columns that
    say how a line was priced (reimbursement.PRICING_COLUMNS), which only the Claims sheet
    shows (PRICING_PARTS); with_balances=False: nor the write-off, the balance and its aging
    bucket (BALANCE_COLUMNS), which only BALANCE_PARTS read."""
    claims, contracts = frames["Claims"], frames["Contracts"]
    terms = deadlines.contract_terms(claims, contracts, deadlines.LINE_TERMS)   # read once for every rule
    if fields is not None and set(fields) == {"expected_allowed"}:    # the price takes no payment
        return _some_per_line(frames, settings, None, terms, None, set(fields))
    lines = line_summary(claims, frames["Payments"])
    lines["interest"] += _plb_interest(claims, frames.get("Adjustments"))
    lines = pd.concat([lines, deadlines.acknowledgements(claims, frames.get("Acknowledgements"))], axis=1)
    # What the latest denial calls for (DenialRouting); a line appealed is worked as an appeal.
    # (routed only where it is read: a line with a denial on file, denied on first pass or
    # open; its category and action are "" elsewhere)
    dated = lines["denial_date"].notna().to_numpy()
    denial = dated | lines["denied_first_pass"].to_numpy(dtype=bool) | lines["denial_open"].to_numpy(dtype=bool)
    routed = denials.route(lines["denial_group"][denial], lines["denial_carc"][denial], lines["denial_rarc"][denial],
                           frames.get("DenialRouting"))
    category, action = np.full(len(lines), "", dtype=object), np.full(len(lines), "", dtype=object)
    category[denial], action[denial] = routed["category"].to_numpy(), routed["action"].to_numpy()
    # (each text column set as an object Series: an object array set on a frame is first
    # inferred to pandas' string type, 1.5 ms a column of 100,000 lines)
    lines["denial_route_category"] = pd.Series(category, index=lines.index, dtype=object, copy=False)
    lines["denial_route_action"] = pd.Series(np.where(dated, action, ""), index=lines.index, dtype=object, copy=False)
    # (an appeal matters only to a line whose denial is open: the others' are not looked up)
    appeal_dates = deadlines.first_appeal_dates(claims, frames["Appeals"], lines["denial_open"])
    appealed = appeal_dates.notna().to_numpy()
    lines["denial_action"] = pd.Series(np.where(lines["denial_open"].to_numpy(dtype=bool),
                                                np.where(appealed, rules.APPEAL, action), ""),
                                       index=lines.index, dtype=object, copy=False)
    if fields is not None and set(fields) <= QUICK_FIELDS:
        return _some_per_line(frames, settings, lines, terms, appeal_dates, set(fields))
    money = reimbursement.reimbursement(claims, contracts, frames["FeeSchedule"], lines, settings,
                                        frames.get("PaymentRules"), frames.get("Modifiers"), terms, with_pricing)
    dl = deadlines.claim_deadlines(claims, contracts, lines, frames["Appeals"],
                                   money["expected_allowed"], settings, terms, appeal_dates, with_prompt_pay)
    pieces = [claims, lines.drop(columns=["claim_id", "line"]), money, dl, denials.denied_lines(claims, lines)]
    if with_balances:
        written = denials.final_denial_writeoff(claims, lines, dl["appeal_status"], frames["Appeals"],
                                                dl["resubmit_status"])
        balances = collections.ar_balances(claims, lines, written["written_off"])
        pieces += [written, balances]
    out = pd.concat(pieces, axis=1)
    out = out.loc[:, ~out.columns.duplicated()].drop(columns=["denial_route_category", "denial_route_action"])
    if with_balances:
        out["aging_bucket"] = collections.aging_bucket(claims, balances, settings)
    # An underpayment is disputed like a denial: the appeal window runs from the last
    # remittance on the line.
    # (worked out on the underpaid lines alone)
    under = out["underpaid"].to_numpy(dtype=bool)
    out["underpayment_deadline"] = deadlines.dispute_deadline(
        claims.loc[under, ["payor"]], contracts, out["last_remit_date"][under], terms.loc[under]
    ).reindex(out.index).astype("datetime64[ns]")
    out["underpayment_days_left"] = ((out["underpayment_deadline"] - settings.as_of).dt.days).astype("Int64")
    out["appealed"] = out["appeal_date"].notna() if "appeal_date" in out else False
    out = pd.concat([out, _follow_up(claims, out["underpaid"], frames.get("Underpayments"))], axis=1)
    return out


def _some_per_line(frames: dict[str, pd.DataFrame], settings: m.Settings, lines: pd.DataFrame | None,
                   terms: pd.DataFrame, appeal_dates: pd.Series | None, fields: set[str]) -> pd.DataFrame:
    """per_line for `fields` (in QUICK_FIELDS) only: each by the call per_line makes for
    it (claim_deadlines' filing, appeal and resubmission parts are its own calls, with the
    same arguments), over the same line summary. The balance takes the write-off, which
    takes the appeal and the resubmission status; none of them takes the price, and the
    price takes no line summary (lines None: the claims' columns and the price alone). The
    price comes without the columns that say how it was priced (reimbursement.PRICING_COLUMNS)."""
    claims, contracts, appeals = frames["Claims"], frames["Contracts"], frames["Appeals"]
    pieces = [claims] if lines is None else [claims, lines.drop(columns=["claim_id", "line"])]
    if "expected_allowed" in fields:
        pieces.append(reimbursement.expected_allowed(claims, contracts, frames["FeeSchedule"], settings,
                                                     frames.get("PaymentRules"), frames.get("Modifiers"), terms,
                                                     with_pricing=False))   # (no per-row formula shows them)
    if lines is None:
        return pd.concat(pieces, axis=1)
    balance = "balance" in fields
    if balance or fields & set(FILING_FIELDS):
        filing, resubmit_by = deadlines.filing_and_resubmission(claims, contracts, lines, settings, terms)
        pieces.append(filing)
    if balance or fields & set(APPEAL_FIELDS):
        appeal = deadlines.appeal_deadlines(claims, contracts, lines, appeals, settings, terms, appeal_dates)
        pieces.append(appeal)
    if balance:
        actions = deadlines.denial_actions(claims, lines, resubmit_by, settings)
        written = denials.final_denial_writeoff(claims, lines, appeal["appeal_status"], appeals,
                                                actions["resubmit_status"])
        pieces += [actions, written, collections.ar_balances(claims, lines, written["written_off"])]
    if "denial_category" in fields:
        pieces.append(denials.denied_lines(claims, lines))
    out = pd.concat(pieces, axis=1)
    return out.loc[:, ~out.columns.duplicated()].drop(columns=["denial_route_category", "denial_route_action"])


OPEN_FOLLOW_UP = ("Open", "Sent")   # an underpayment still owed: not recovered, not found invalid


def _follow_up(claims: pd.DataFrame, underpaid: pd.Series, follow: pd.DataFrame | None) -> pd.DataFrame:
    """The practice's follow-up of each underpaid line (Underpayments sheet, by claim ID, case
    ignored, and line): follow_up (its Status; "Open" for an underpaid line with no row),
    follow_up_date, recovered_underpayment (cents)."""
    out = pd.DataFrame({"follow_up": pd.Series(np.where(underpaid.to_numpy(), "Open", "").astype(object),
                                               index=claims.index, dtype=object),
                        "follow_up_date": pd.Series(pd.NaT, index=claims.index, dtype="datetime64[ns]"),
                        "recovered_underpayment": np.zeros(len(claims), dtype="int64")}, index=claims.index)
    if follow is None or follow.empty or claims.empty:
        return out
    claim_key, row_key = line_codes(claims, follow)
    rows = follow.assign(_key=row_key).drop_duplicates("_key", keep="last").set_index("_key")
    found = pd.Index(rows.index).get_indexer(claim_key)
    has = found >= 0
    out.loc[has, "follow_up"] = rows["status"].astype(object).to_numpy()[found[has]]
    out.loc[has, "follow_up_date"] = rows["status_date"].to_numpy()[found[has]]
    out.loc[has, "recovered_underpayment"] = rows["recovered"].fillna(0).astype("int64").to_numpy()[found[has]]
    return out


def _deadline_table(lines: pd.DataFrame, notices: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Missed and due-soon deadlines, counts and dollars at risk. A claim filed after its
    deadline ("Filed late") missed it. Dollars: the expected allowed (the charge where there
    is no rate) for filing and prompt pay; the denied amount for appeals and resubmissions
    of denials."""
    value = lines["expected_allowed"].fillna(lines["charge"])
    rows = []
    filing = lines["filing_status"].replace({"Filed late": "Missed"})
    for name, status, amount in (("Timely filing", filing, value),
                                 ("Appeal", lines["appeal_status"], lines["denied_amount"]),
                                 ("Resubmission", lines["resubmit_status"], lines["denied_amount"]),
                                 ("Prompt pay", lines["prompt_pay_status"].replace({"Overdue": "Missed"}), value)):
        missed, due_soon = status == "Missed", status == "Due soon"   # each compared once
        rows.append({"deadline": name,
                     "missed": int(missed.sum()),
                     "missed_amount": int(amount[missed].fillna(0).sum()),
                     "due_soon": int(due_soon.sum()),
                     "due_soon_amount": int(amount[due_soon].fillna(0).sum())})
    rows.append({"deadline": "Contract notice",
                 "missed": int((notices["notice_status"] == "Missed").sum()),
                 "missed_amount": 0,
                 "due_soon": int((notices["notice_status"] == "Due soon").sum()),
                 "due_soon_amount": 0})
    return pd.DataFrame(rows)


def _status_masks(status: pd.Series, *wanted: tuple[str, ...]) -> list[np.ndarray]:
    """For each tuple of statuses, the rows whose status is one of them (as
    ``status.isin(statuses)``; a missing status is none), each distinct status compared
    once: a hundred thousand lines hold a handful."""
    codes, distinct = factorized_texts(status.to_numpy(dtype=object))
    return [np.append([v in statuses for v in distinct], False).astype(bool)[codes] for statuses in wanted]


def _scorecard(lines: pd.DataFrame, contracts: pd.DataFrame, rate_frame: pd.DataFrame) -> pd.DataFrame:
    """One row per payor of the lines (model.SCORECARD), sorted by payor. Every figure is
    summed on one integer coding of the payors (a groupby, a join per source and each
    source's own coding cost three times as much), each as the function that defines it
    works it out (tests/engine/test_small_rules.py holds them to it): the net collection
    rate's sums over the adjudicated lines (collections.net_collection_rate), the initial
    denial rates (denials.initial_denial_rate by payor, over `rate_frame`: NaN for a payor
    with nothing adjudicated) and the A/R (collections.aging's total: the positive
    balances of the lines with an aging bucket; $0 for a payor with none)."""
    # (sorted, as groupby sorts them; a line with no payor is in no row)
    codes, payors = pd.factorize(lines["payor"].to_numpy(dtype=object), sort=True)
    payors = np.asarray(payors, dtype=object)
    n, known = len(payors), codes >= 0
    group = codes[known]

    def total(values) -> np.ndarray:
        out = np.zeros(n, dtype="int64")
        np.add.at(out, group, np.asarray(values, dtype="int64")[known])
        return out

    owed = lines["underpaid"].to_numpy(dtype=bool) & _status_masks(lines["follow_up"], OPEN_FOLLOW_UP)[0]
    missed_filing, filing_due = _status_masks(lines["filing_status"], ("Missed", "Filed late"), ("Due soon",))
    missed_appeal, appeal_due = _status_masks(lines["appeal_status"], ("Missed",), ("Due soon",))
    charge = lines["charge"].fillna(0).to_numpy(dtype="int64")
    adjudicated = lines["adjudicated"].to_numpy(dtype=bool)
    sc = pd.DataFrame({
        "payor": pd.Series(pd.Index(payors)),   # (its dtype as groupby makes it)
        "claims": distinct_counts(group, n, rate_frame["claim_id"].to_numpy()[known]),
        "lines": np.bincount(group, minlength=n).astype("int64"),
        "charges": pd.Series(total(charge)).astype(lines["charge"].dtype),
        "paid": total(lines["paid"].fillna(0)),
        "underpaid_lines": total(owed),
        "underpayment": total(lines["variance"].where(owed, 0).fillna(0)),
        "recovered": total(lines["recovered_underpayment"]),
        "missed_filing": total(missed_filing),
        "missed_appeals": total(missed_appeal),
        "due_soon": total(filing_due) + total(appeal_due),
    })
    # (the denial rates' distinct claims and charges as initial_denial_rate counts them)
    claims_adjudicated, charges_adjudicated = denials._counts(codes, n, rate_frame, rate_frame["adjudicated"])
    claims_denied, charges_denied = denials._counts(codes, n, rate_frame, rate_frame["denied"])
    sc["denial_rate"] = denials._rate(pd.Series(claims_denied), pd.Series(claims_adjudicated))
    sc["charge_denial_rate"] = denials._rate(pd.Series(charges_denied), pd.Series(charges_adjudicated))
    sc["charges_adjudicated"] = charges_adjudicated     # (the adjudicated lines' charges, as net collection sums them)
    sc["contractual_adj"] = total(np.where(adjudicated, lines["contractual_adj"].to_numpy(dtype="int64"), 0))
    net = (sc["charges_adjudicated"] - sc["contractual_adj"]).astype("float64")
    paid = total(np.where(adjudicated, lines["paid"].to_numpy(dtype="int64"), 0))
    sc["net_collection_rate"] = paid / net.where(net != 0)      # (as collections.net_collection_rate)
    aged = lines["aging_bucket"].to_numpy(dtype=object) != ""
    sc["ar"] = total(np.where(aged, lines["balance"].to_numpy(dtype="int64"), 0))
    types = contracts.set_index("payor")["payor_type"]
    sc.insert(1, "payor_type", sc["payor"].map(types).astype(object).fillna(""))
    return sc


def _monthly(lines: pd.DataFrame, rate_frame: pd.DataFrame) -> pd.DataFrame:
    """Charges, payments and the initial denial rate by month of service (one basis for
    every column): the rate counts the claims of lines served that month, adjudicated and
    denied on first pass, as denials.initial_denial_rate does. The last 12 months."""
    if lines.empty:
        return pd.DataFrame(columns=["month", "charges", "paid", "denial_rate"])
    month = denials._per_distinct(lines["dos"].dt.to_period("M"), lambda months: months.dt.strftime("%Y-%m"))
    out = pd.DataFrame({"charges": lines["charge"].groupby(month).sum(),
                        "paid": lines["paid"].groupby(month).sum()})
    frame = rate_frame.assign(month=month.to_numpy())
    adjudicated = frame[frame["adjudicated"]].groupby("month")["claim_id"].nunique()
    denied = frame[frame["denied"]].groupby("month")["claim_id"].nunique()
    out["denial_rate"] = denied.reindex(out.index).fillna(0) / adjudicated.reindex(out.index).where(
        lambda n: n > 0)
    out.index.name = "month"
    out = out.reset_index()
    return out.sort_values("month").tail(12).reset_index(drop=True)


def _claim_rows(all_claims: pd.DataFrame, roles: pd.DataFrame, lines: pd.DataFrame,
                next_lines: pd.DataFrame | None) -> pd.DataFrame:
    """The Claims sheet's calculated columns for every Claims row (index = all_claims.index):
    a Line row's from `lines`; a Next payer row's filing and expected allowed (its money
    is on its Line row); a Void row's Filing Status "Void" and nothing else."""
    role = roles["role"].to_numpy()
    n, is_line, is_next, is_void = len(role), role == LINE, role == NEXT_PAYER, role == VOID
    out: dict = {}
    # (each column an array filled by position, then one frame: setting a Series by mask
    # costs more than the rest of the step)
    for c in m.CLAIMS.calculated:
        if c.key == "role":
            out[c.key] = roles["role"].astype(object)
            continue
        column: Any
        if c.kind == m.DATE:
            column = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        elif c.kind in (m.MONEY, m.INT):
            column = pd.arrays.IntegerArray(np.zeros(n, dtype="int64"), np.ones(n, dtype=bool))   # all blank
        else:
            column = np.full(n, "", dtype=object)
        column[is_line] = lines[c.key].to_numpy()
        if next_lines is not None and c.key in NEXT_PAYER_COLUMNS:
            column[is_next] = next_lines[c.key].to_numpy()
        if c.key == "filing_status":
            column[is_void] = VOID
        out[c.key] = pd.Series(column, index=all_claims.index, dtype=column.dtype, copy=False)   # (object stays object)
    return pd.DataFrame(out, index=all_claims.index)


# What a Next payer row of Claims shows: its own filing and its payer's expected allowed.
NEXT_PAYER_COLUMNS = ("filing_deadline", "filing_days_left", "filing_status", "setting", "base_rate", "unit_rate",
                      "multiple_procedure", "procedure_rank", "pricing", "expected_allowed", "denial_date")


def _crossed_over(next_rows: pd.DataFrame, payments: pd.DataFrame) -> np.ndarray:
    """Next payer rows not filed by the practice whose earlier payer forwarded the claim to
    them (CLP02 19 for a Secondary, 20 for a Tertiary: a crossover): nothing to file."""
    wanted = next_rows["claim_type"].astype(str).map(FORWARDED_TO).fillna("").to_numpy()
    if payments.empty:
        return np.zeros(len(next_rows), dtype=bool)
    row_key, pay_key = line_codes(next_rows, payments)
    status = payments["claim_status"].astype(str).str.strip().to_numpy()
    sent = {(k, s) for k, s in zip(pay_key, status) if s in FORWARDED_TO.values()}
    return np.array([(k, w) in sent for k, w in zip(row_key, wanted)], dtype=bool) \
        & next_rows["filed_date"].isna().to_numpy()


def _owed_by_next_payer(claims: pd.DataFrame, lines: pd.DataFrame, next_rows: pd.DataFrame) -> np.ndarray:
    """For each Next payer row: the patient responsibility on its line, what it is billed."""
    both = pd.concat([claims[["claim_id", "line"]], next_rows[["claim_id", "line"]]], ignore_index=True)
    codes = service_codes(both)
    owed = pd.Series(lines["patient_resp"].to_numpy(), index=codes[:len(claims)])
    owed = owed[~owed.index.duplicated()]
    return owed.reindex(codes[len(claims):]).fillna(0).astype("int64").to_numpy()


def _unpriced(lines: pd.DataFrame) -> list:
    """A warning per payor, CPT and modifier whose paid lines have no contracted rate: they
    cannot be checked for underpayment until the rate is in FeeSchedule (or the contract's
    % of Medicare has its Medicare rate). (Each payor's distinct CPT and modifier pairs are
    found once, not read line by line: a workbook without a fee schedule has every paid
    line unpriced.)"""
    from ..errors import WARNING, CellRef, DataError
    paid = lines[(lines["paid"] > 0) & lines["expected_allowed"].isna()]
    if paid.empty or "_row" not in paid:
        return []
    g = paid.groupby("payor", sort=True)
    count, first, first_row = g.size(), g["_row"].idxmin(), g["_row"].min()
    pairs = paid[["payor", "cpt", "modifier"]].drop_duplicates()
    out = []
    for payor, group in pairs.groupby("payor", sort=True):
        codes = sorted({f"{c}{'-' + mod if mod else ''}" for c, mod in zip(group["cpt"], group["modifier"])})
        shown = ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")
        out.append(DataError(CellRef("Claims", int(first_row[payor]), "CPT"), paid.at[first[payor], "cpt"],
                             f"{count[payor]} paid line(s) of {payor} have no contracted rate ({shown}), so their "
                             "payments are not checked for underpayment",
                             f"add {payor}'s rates for them to FeeSchedule (Payor, CPT, Modifier, Effective From, "
                             "Allowed)", WARNING))
    return out


# The Results fields `calculate` may be asked for (its `parts`); lines, contracts and errors
# are always there.
PARTS = ("kpis", "denials_by", "aging", "scorecard", "worklist", "deadlines", "portfolio", "monthly",
         "adjustments", "claim_rows", "payment_rows")
# The parts that show the contracts' notice calendar (a whole calculation has them all:
# the Contracts sheet shows its Results.contracts).
NOTICE_PARTS = frozenset({"kpis", "worklist", "deadlines", "portfolio"})
# The parts none of whose figures reads a line's prompt-pay columns (deadlines.prompt_pay):
# asked for alone (a PX_SCORECARD formula), the lines are worked out without them.
NO_PROMPT_PAY_PARTS = frozenset({"scorecard", "aging", "denials_by", "monthly"})
# The parts that show how each line was priced (reimbursement.PRICING_COLUMNS): the
# Claims sheet's rows. Asked for without them (a PX_SCORECARD or PX_WORKLIST formula),
# the lines are worked out without those columns.
PRICING_PARTS = frozenset({"claim_rows"})
# The parts that read a line's write-off, balance or aging bucket (BALANCE_COLUMNS): asked
# for without them (a PX_WORKLIST formula), the lines are worked out without those columns.
BALANCE_PARTS = frozenset({"kpis", "aging", "scorecard", "claim_rows"})
BALANCE_COLUMNS = ("written_off", "writeoff_reason", "balance", "credit", "aging_bucket")


def calculate(frames: dict[str, pd.DataFrame], settings: m.Settings, errors=None,
              parts: Collection[str] | None = None, warnings: bool = True,
              fields: Collection[str] | None = None) -> Results:
    """Run the whole engine over validated frames.

    Every figure counts each claim line once: the Claims rows whose Role is Line
    (lines.claim_roles). A Next payer row (the line's Secondary or Tertiary bill) adds its
    filing deadline and the worklist's "File claim"; a Void line is left out of every
    figure and the worklist.

    parts: the Results fields wanted (names in PARTS) besides lines, contracts and errors,
    which are always there; None (the default) for all. A field not asked for is None.
    Every part is worked out by the same code from the same per-line results whichever
    others are asked for, so a PX_ formula that asks only for the scorecard gets the very
    figures a whole recalculation shows, without the cost of the worklist or portfolio.
    The contracts carry their notice calendar (contract_notices) when a part asked for
    shows it (NOTICE_PARTS); else they are as given. The lines lack the prompt-pay
    columns when every part asked for is one that reads none (NO_PROMPT_PAY_PARTS), the
    pricing columns when no part asked for shows them (PRICING_PARTS), and the write-off
    and balance columns when none reads them (BALANCE_PARTS).

    warnings=False: the engine's own warnings (`_unpriced`) are not worked out, for a
    caller that shows none (a PX_ formula); the figures are the same.

    fields: with no parts and warnings=False, the per-line fields the caller reads
    (per_line's `fields`): a per-row PX_ formula's few columns, worked out without the
    others. The lines then hold those fields and the line summary; each field's values
    are the ones a whole calculation gives. The contracts are then as given, without
    their notice calendar (contract_notices)."""
    want = set(PARTS if parts is None else parts)
    if not want <= set(PARTS):
        raise ValueError(f"unknown parts {sorted(want - set(PARTS))}; choose from {PARTS}")
    if fields is not None and (want or warnings):
        raise ValueError("fields: only for a calculation with no parts and warnings=False")
    # every claim ID hashed once (kept as pipeline.evaluate coded them for the checks;
    # dropped from the lines returned)
    frames = with_claim_codes(frames, keep=True)
    all_claims = frames["Claims"]
    roles = claim_roles(all_claims)
    is_line = roles["is_line"].to_numpy()
    every_line = bool(is_line.all())
    line_rows = all_claims if every_line else all_claims[is_line]     # (every row a line: no copy)
    frames = {**frames, "Claims": line_rows.assign(
        next_payer_seq=roles["next_payer_seq"].to_numpy()[is_line]).reset_index(drop=True)}
    claims, contracts, appeals = frames["Claims"], frames["Contracts"], frames["Appeals"]
    with_prompt_pay = not want or not want <= NO_PROMPT_PAY_PARTS
    with_pricing = not want or bool(want & PRICING_PARTS)
    with_balances = not want or bool(want & BALANCE_PARTS)
    lines = per_line(frames, settings, fields, with_prompt_pay, with_pricing,
                     with_balances).drop(columns="next_payer_seq")
    if fields is not None:      # a per-row formula: its lines, and no other part
        return Results(settings, lines.drop(columns=CLAIM_CODE), contracts, None, None, None, None, None, None,
                       None, None, list(errors or []))
    next_lines = None
    if want & {"worklist", "claim_rows"}:        # the next payer rows: only these two show them
        next_rows = (all_claims.iloc[:0] if every_line     # (every row a line: none, no texts compared)
                     else all_claims[(roles["role"] == NEXT_PAYER).to_numpy()].reset_index(drop=True))
        next_lines = per_line({**frames, "Claims": next_rows}, settings) if len(next_rows) else None
        if next_lines is not None:
            next_lines["owed"] = _owed_by_next_payer(claims, lines, next_rows)
            crossed = _crossed_over(next_rows, frames["Payments"])
            next_lines.loc[crossed, "filing_status"] = CROSSED_OVER
    notices, contracts_out = pd.DataFrame(index=contracts.index), contracts    # (read by NOTICE_PARTS alone)
    if want & NOTICE_PARTS:
        notices = deadlines.contract_notices(contracts, settings)
        contracts_out = pd.concat([contracts, notices], axis=1)
        contracts_out = contracts_out.loc[:, ~contracts_out.columns.duplicated()]

    rate_frame = (denials._line_frame(claims, lines)   # shared by the five groupings
                  if want & {"kpis", "denials_by", "scorecard", "monthly"} else None)
    groupings = ("payor", "category", "cpt", "month") if "denials_by" in want else ()
    denials_by = {by: denials.initial_denial_rate(claims, lines, by=by, frame=rate_frame) for by in groupings}
    aging_by_payor = (collections.aging(claims, lines[["balance", "aging_bucket"]], settings, by="payor")
                      if "aging" in want else None)
    dl = _deadline_table(lines, notices, contracts) if want & {"kpis", "deadlines"} else None
    kpis = _kpis(claims, lines, appeals, rate_frame, dl, settings) if dl is not None and "kpis" in want else None
    scorecard = (_scorecard(lines, contracts, rate_frame)
                 if rate_frame is not None and "scorecard" in want else None)
    worklist = (build_worklist(lines, notices, contracts, settings, frames.get("Adjustments"), next_lines)
                if "worklist" in want else None)
    rates = portfolio.rates_in_force(frames["FeeSchedule"], contracts, settings) if "portfolio" in want else None
    pf = {
        "payer_mix": portfolio.payer_mix(claims, lines, contracts),
        "revenue_by_payor_cpt": portfolio.revenue_by_payor_cpt(claims, lines),
        "rates": portfolio.rate_comparison(frames["FeeSchedule"], contracts, settings, rates=rates),
        "what_if": portfolio.what_if(claims, frames["FeeSchedule"], contracts, settings, rates=rates),
        "calendar": portfolio.renewal_calendar(contracts, notices),
    } if "portfolio" in want else None
    adjustments = frames.get("Adjustments") if "adjustments" in want else None
    if adjustments is not None:
        adjustments = adjustments.assign(kind=adjustment_kinds(adjustments))
    return Results(settings, lines.drop(columns=CLAIM_CODE), contracts_out, kpis,
                   denials_by if "denials_by" in want else None,
                   aging_by_payor if "aging" in want else None, scorecard,
                   worklist, dl if "deadlines" in want else None, pf,
                   _monthly(lines, rate_frame) if "monthly" in want and rate_frame is not None else None,
                   list(errors or []) + (_unpriced(lines) if warnings else []),
                   adjustments,
                   _claim_rows(all_claims, roles, lines, next_lines) if "claim_rows" in want else None,
                   payment_actions(frames["Payments"], frames.get("DenialRouting"))
                   if "payment_rows" in want else None)


def _kpis(claims: pd.DataFrame, lines: pd.DataFrame, appeals: pd.DataFrame, rate_frame,
          dl: pd.DataFrame, settings: m.Settings) -> dict[str, KPI]:
    """The headline figures (model.KPIS)."""
    overall = denials.initial_denial_rate(claims, lines, by=None, frame=rate_frame)
    summary = collections.collections_summary(claims, lines, lines[["balance"]], settings)
    overturn = denials.appeal_overturn_rate(appeals)
    writeoff_rate = denials.final_denial_writeoff_rate(claims, lines, lines["written_off"])
    under = lines["variance"].where(lines["underpaid"] & lines["follow_up"].isin(OPEN_FOLLOW_UP), 0).fillna(0)

    def first(frame, column):
        return _nan_to_none(float(frame[column].iloc[0])) if len(frame) else None

    values = {
        "initial_denial_rate": first(overall, "denial_rate"),
        "charge_denial_rate": first(overall, "charge_denial_rate"),
        "final_denial_writeoff_rate": _nan_to_none(writeoff_rate),
        "appeal_overturn_rate": first(overturn, "overturn_rate") if isinstance(overturn, pd.DataFrame) else None,
        "clean_claim_rate": _nan_to_none(summary["clean_claim_rate"]),
        "first_pass_resolution_rate": _nan_to_none(summary["first_pass_resolution_rate"]),
        "net_collection_rate": _nan_to_none(summary["net_collection_rate"]),
        "days_in_ar": _nan_to_none(summary["days_in_ar"]),
        "ar_total": summary["ar_total"],
        "underpayment": int(under.sum()),
        "missed_deadlines": int(dl["missed"].sum()),
        "missed_amount": int(dl["missed_amount"].sum()),
        "at_risk": int(dl["due_soon"].sum()),
        "at_risk_amount": int(dl["due_soon_amount"].sum()),
    }
    # Labels, kinds, definitions and sources are declared in model.KPIS.
    return {d.key: KPI(d.label, values[d.key], d.kind,
                       d.definition.format(ar_period_days=settings.ar_period_days), d.source)
            for d in m.KPIS}


def payment_actions(payments: pd.DataFrame, routing: pd.DataFrame | None) -> pd.DataFrame:
    """The Payments sheet's Action column: for a row that denies (lines.denial_rows), the
    action its group, CARC and remark code are routed to (denials.route); "" otherwise."""
    from .lines import denial_rows
    action = pd.Series("", index=payments.index, dtype=object)
    if payments.empty:
        return pd.DataFrame({"action": action})
    denying = denial_rows(payments).to_numpy(dtype=bool)
    if denying.any():
        rows = payments[denying]
        action[denying] = denials.route(rows["group_code"], rows["carc"], rows["rarc"], routing)["action"].to_numpy()
    return pd.DataFrame({"action": action})
