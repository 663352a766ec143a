"""Collections: what is still owed, how old it is, and how well claims get paid.

The insurance A/R balance of each claim line (what the payor still owes), its aging from
the date of service, days in A/R, and the collection KPIs a practice is benchmarked on:
net collection rate (MGMA), clean claim rate and first-pass resolution rate (HFMA).

Inputs are the Claims frame and its line summary (``lines.line_summary``: one row per
claim line, same index). Money is integer cents; a rate whose denominator is zero is NaN.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..conversion import filled
from .lines import distinct_counts, frame_claim_codes, str_values

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")
# Upper day of each bucket (inclusive): 0..30, 31..60, 61..90, 91..120, 121 and over.
_EDGES = [-np.inf, 30, 60, 90, 120, np.inf]
CORRECTED = "7"


def _rate(numerator, denominator) -> float:
    """numerator ÷ denominator as float; NaN when the denominator is zero."""
    return float(numerator) / float(denominator) if denominator else float("nan")


def _series(values, column: str) -> pd.Series:
    """A column given either as a Series or inside the frame that produced it."""
    return values[column] if isinstance(values, pd.DataFrame) else values


def _cents(series: pd.Series) -> pd.Series:
    return series.fillna(0).astype("int64")


def ar_balances(claims: pd.DataFrame, lines: pd.DataFrame, written_off) -> pd.DataFrame:
    """Insurance A/R per claim line (index = claims.index).

    balance (cents) = charge − paid (every payer) − contractual adj. (every payer) − the
    patient's share (``patient_share``: the last payer's patient responsibility; none while
    that payer has forwarded the claim to the next one, which owes it) − written off.
    The patient's share leaves insurance A/R (it is billed to the patient); a denied
    line stays in A/R at its full open amount until its denial is written off, because it
    can still be appealed or corrected. The balance is not floored: a negative balance
    is a credit (an overpayment to refund or a posting error) and ``credit`` is True.

    written_off: the `denials.final_denial_writeoff` frame or its ``written_off`` Series.
    """
    balance = (_cents(claims["charge"]) - lines["paid"] - lines["contractual_adj"]
               - lines["patient_share"] - _cents(_series(written_off, "written_off")))
    balance = balance.astype("int64")
    return pd.DataFrame({"balance": balance, "credit": balance < 0}, index=claims.index)


def _age_days(claims: pd.DataFrame, settings) -> pd.Series:
    return (pd.Timestamp(settings.as_of) - claims["dos"]).dt.days


def aging_bucket(claims: pd.DataFrame, balances, settings) -> pd.Series:
    """Aging bucket of each open line (index = claims.index), by days from the date of
    service to the as-of date: "0-30" (0 to 30 days, inclusive), "31-60", "61-90",
    "91-120", "120+" (121 days and more). A date of service after the as-of date counts
    as 0-30. "" where the balance is zero or a credit (nothing to age) or the date of
    service is blank.
    """
    balance = _series(balances, "balance")
    age = _age_days(claims, settings)
    days = age.to_numpy(dtype="float64", na_value=np.nan)
    # the bucket whose upper day (inclusive) is the first at or above the age
    labels = np.array(list(BUCKETS), dtype=object)[np.searchsorted(_EDGES[1:-1], np.nan_to_num(days))]
    aged = ~np.isnan(days) & (balance.to_numpy() > 0)
    return pd.Series(np.where(aged, labels, ""), index=claims.index, dtype=object, name=age.name)


def aging(claims: pd.DataFrame, balances, settings, by: str | None = "payor") -> pd.DataFrame:
    """A/R aging (HFMA: A/R aged from the date of service): open insurance balances
    summed per bucket (`aging_bucket`), one row per `by` value (a Claims column; None for
    one row "All") that has an open balance.

    Columns: the group, "0-30", "31-60", "61-90", "91-120", "120+", total (cents; sums of
    positive balances only, credits are not A/R), open_lines, open_claims (distinct claims:
    claim IDs with case ignored, lines.claim_codes). Sorted by total, largest first.
    """
    name = by or "group"
    bucket = (balances["aging_bucket"] if isinstance(balances, pd.DataFrame) and "aging_bucket" in balances
              else aging_bucket(claims, balances, settings)).to_numpy(dtype=object)
    open_ = bucket != ""
    # Summed on integer codes: each group (sorted, as groupby sorts it) and bucket a number.
    groups = str_values(claims[by])[open_] if by else filled(int(open_.sum()), "All")
    group, names = pd.factorize(groups, sort=True)
    kept = group >= 0                     # a blank group is left out, as groupby leaves it
    group = group[kept]
    column = pd.Index(BUCKETS, dtype=object).get_indexer(bucket[open_][kept])
    balance = _series(balances, "balance").astype("int64").to_numpy()[open_][kept]
    table = np.zeros((len(names), len(BUCKETS)), dtype="int64")
    np.add.at(table, (group, column), balance)
    ids = str_values(claims["claim_id"])[open_][kept]
    claim = frame_claim_codes(claims, np.flatnonzero(open_)[kept])    # (case ignored, as lines are matched)
    known = ~pd.isna(ids)                 # a missing claim ID is not a claim (nunique leaves it out)
    out = pd.DataFrame(table, columns=list(BUCKETS))
    out.insert(0, name, pd.Series(np.asarray(names, dtype=object), dtype=object))
    out["total"] = table.sum(axis=1)
    out["open_lines"] = np.bincount(group, minlength=len(names)).astype("int64")
    out["open_claims"] = distinct_counts(group[known], len(names), claim[known])
    return out.sort_values(["total", name], ascending=[False, True], kind="stable").reset_index(drop=True)


def days_in_ar(claims: pd.DataFrame, balances, settings) -> float:
    """Days in A/R: open insurance A/R ÷ average daily gross charges.

    A/R is the sum of positive balances (credits excluded). Average daily charges are
    the charges of lines whose date of service is in (as-of − N days, as-of], divided by
    N = settings.ar_period_days. This is the gross-charge form used by MGMA and most
    practices; HFMA's MAP Key AR-1 ("Net Days in A/R") divides net A/R by net revenue,
    which the workbook does not hold. NaN when no charges fall in the period.
    """
    balance = _series(balances, "balance")
    receivable = int(balance[balance > 0].sum())
    as_of = pd.Timestamp(settings.as_of)
    period = int(settings.ar_period_days)
    in_period = (claims["dos"] > as_of - pd.Timedelta(days=period)) & (claims["dos"] <= as_of)
    charges = int(_cents(claims["charge"])[in_period].sum())
    if charges == 0 or period <= 0:
        return float("nan")
    return receivable / (charges / period)


def net_collection_rate(claims: pd.DataFrame, lines: pd.DataFrame, by: str | None = None):
    """Net (adjusted) collection rate, MGMA: payments ÷ (charges − contractual adjustments),
    over adjudicated lines.

    Payments are the payor payments posted (net of reversals). Patient payments are not
    recorded in the workbook, so patient responsibility stays in the denominator as not
    yet collected; denied amounts stay in it too (a denial is a collection loss, not a
    contractual adjustment).

    by None: the overall rate as a float (NaN when the denominator is zero). by a Claims
    column (e.g. "payor"): a frame with that column, payments, charges, contractual_adj
    (cents) and net_collection_rate, sorted by charges, largest first.
    """
    adjudicated = lines["adjudicated"].astype(bool).to_numpy()
    frame = pd.DataFrame({
        "payments": lines["paid"].to_numpy(),
        "charges": _cents(claims["charge"]).to_numpy(),
        "contractual_adj": lines["contractual_adj"].to_numpy(),
    })[adjudicated]
    if by is None:
        return _rate(frame["payments"].sum(), frame["charges"].sum() - frame["contractual_adj"].sum())
    # summed on integer codes of the groups (sorted, as groupby sorts them; a blank one left out)
    group, names = pd.factorize(str_values(claims[by])[adjudicated], sort=True)
    kept = group >= 0
    out = pd.DataFrame({by: pd.Series(np.asarray(names, dtype=object), dtype=object)})
    for c in ("payments", "charges", "contractual_adj"):
        sums = np.zeros(len(names), dtype="int64")
        np.add.at(sums, group[kept], frame[c].to_numpy(dtype="int64")[kept])
        out[c] = sums
    net = (out["charges"] - out["contractual_adj"]).astype("float64")
    out["net_collection_rate"] = out["payments"] / net.where(net != 0)
    return out.sort_values(["charges", by], ascending=[False, True], kind="stable").reset_index(drop=True)


def _claim_codes(claims: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each line's claim as an integer code 0..n-1 (`lines.claim_codes`: case ignored), and
    n (the number of claims). Rolling lines up to claims on integers is much faster than
    grouping by text."""
    codes = frame_claim_codes(claims)
    return codes, int(codes.max(initial=-1)) + 1


def _any_line(codes: np.ndarray, n: int, flags) -> np.ndarray:
    """Per claim: any of its lines has the flag."""
    return np.bincount(codes, weights=np.asarray(flags, dtype="float64"), minlength=n) > 0


def _resubmitted(claims: pd.DataFrame, codes: np.ndarray, n: int) -> np.ndarray:
    """Per claim: some row of its claim ID has frequency 7 (a corrected claim was sent)."""
    return _any_line(codes, n, claims["frequency"].astype(str).to_numpy() == CORRECTED)


def clean_claim_rate(claims: pd.DataFrame, lines: pd.DataFrame) -> float:
    """Clean claim rate: claims whose first adjudication denied no line and that were
    never resubmitted ÷ claims adjudicated (distinct claims, IDs with case ignored, with a remittance).

    HFMA's "Clean Claim Rate" counts claims that pass the clearinghouse and payor edits
    on first submission. The workbook holds no clearinghouse edits, so the payor's first
    adjudication stands in for them: a claim is clean when no line was denied on its
    first remittance (``denied_first_pass``) and no row of the claim ID has frequency 7
    (a replacement, i.e. the claim had to be corrected). NaN when none adjudicated.
    """
    codes, n = _claim_codes(claims)
    adjudicated = _any_line(codes, n, lines["adjudicated"].astype(bool))
    denied = _any_line(codes, n, lines["denied_first_pass"].astype(bool))
    clean = adjudicated & ~denied & ~_resubmitted(claims, codes, n)
    return _rate(int(clean.sum()), int(adjudicated.sum()))


def first_pass_resolution_rate(claims: pd.DataFrame, lines: pd.DataFrame) -> float:
    """First-pass resolution rate: claims resolved by their first remittance ÷ claims
    adjudicated (distinct claims, IDs with case ignored, with a remittance).

    A claim is resolved on first pass when it was never resubmitted (no frequency 7 row)
    and every one of its lines was adjudicated on one and the same remittance date (no
    later remittance: no reversal, no reprocessing), was not denied on it, and has a zero
    insurance balance after it (charge = paid + contractual adj. + patient resp.): the
    payor settled its share in one pass. A line fully applied to the deductible counts
    as resolved (the payor adjudicated it correctly; the patient owes it). NaN when none
    adjudicated.
    """
    codes, n = _claim_codes(claims)
    first = lines["first_remit_date"]
    # Every line must be on the claim's earliest remittance date.
    claim_first = first.groupby(codes, sort=False).transform("min")
    settled = (_cents(claims["charge"]) - lines["paid"] - lines["contractual_adj"]
               - lines["patient_share"]) == 0
    line_resolved = (lines["adjudicated"].astype(bool) & (first == lines["last_remit_date"])
                     & (first == claim_first) & ~lines["denied_first_pass"].astype(bool)
                     & settled)
    adjudicated = _any_line(codes, n, lines["adjudicated"].astype(bool))
    resolved = (adjudicated & ~_any_line(codes, n, ~line_resolved)
                & ~_resubmitted(claims, codes, n))
    return _rate(int(resolved.sum()), int(adjudicated.sum()))


def collections_summary(claims: pd.DataFrame, lines: pd.DataFrame, balances,
                        settings) -> dict:
    """The collection figures for the Dashboard, overall, as plain Python numbers:

    ar_total (cents, positive balances), credit_total (cents, sum of credit balances,
    negative or 0), open_lines, aging ({bucket: cents}), days_in_ar,
    net_collection_rate, clean_claim_rate, first_pass_resolution_rate (floats, NaN when
    undefined; see each function for its definition and source).
    """
    balance = _series(balances, "balance")
    by_bucket = aging(claims, balances, settings, by=None)
    bucket_totals = {b: int(by_bucket[b].sum()) for b in BUCKETS}
    return {
        "ar_total": int(balance[balance > 0].sum()),
        "credit_total": int(balance[balance < 0].sum()),
        "open_lines": int((balance > 0).sum()),
        "aging": bucket_totals,
        "days_in_ar": days_in_ar(claims, balances, settings),
        "net_collection_rate": net_collection_rate(claims, lines),
        "clean_claim_rate": clean_claim_rate(claims, lines),
        "first_pass_resolution_rate": first_pass_resolution_rate(claims, lines),
    }
