"""Expected reimbursement and underpayments.

What should the payor have allowed for a claim line? The contract says how: either its
own fee schedule (the FeeSchedule rows of that payor, by CPT/HCPCS and modifier,
effective-dated by date of service), or a percentage of what Medicare allows for the
same service (the rows of the Medicare reference payor named in Settings). Expected
allowed is that rate per unit × units billed. Comparing it with what the remittance
allowed, or with what was actually paid plus what was left to the patient, finds the
underpayments worth chasing — beyond a tolerance, so rounding pennies are not.

Lookups are one merge over all claim lines (never a loop per claim): a practice or a
billing company may hold a million lines. Keys match as the workbook's formulas do
(case ignored). Money is integer cents throughout.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import model as m
from .deadlines import contract_terms, match_codes, match_key, round_half_up

FEE_KEY = ["payor", "cpt", "modifier"]
FEE_SCHEDULE, PCT_OF_MEDICARE = m.FEE_BASES


def fee_schedule_rate(payor: pd.Series, cpt: pd.Series, modifier: pd.Series, dos: pd.Series,
                      fee_schedule: pd.DataFrame) -> pd.Series:
    """The FeeSchedule Allowed per unit (cents, Int64; index of `payor`) for each
    (payor, cpt, modifier, date of service): the row with the same payor, CPT and
    modifier (a blank modifier matches a blank modifier only) whose Effective From <=
    date of service <= Effective To (a blank Effective To is open-ended). If several
    rows match (overlapping dates, a data error `overlapping_fee_rows` reports), the one
    with the latest Effective From wins, and among equal Effective From the lower row
    in the sheet. <NA> where no row matches."""
    # (payor, CPT, modifier) as one integer, the same in both frames: a merge on one
    # integer is several times faster than on three text columns.
    n, key = len(payor), np.zeros(len(payor) + len(fee_schedule), dtype=np.int64)
    for wanted_keys, fee_keys in ((payor, fee_schedule["payor"]), (cpt, fee_schedule["cpt"]),
                                  (modifier, fee_schedule["modifier"])):
        codes = np.concatenate(match_codes(wanted_keys, fee_keys))
        key = pd.factorize(key * (int(codes.max(initial=0)) + 1) + codes)[0].astype(np.int64)
    wanted = pd.DataFrame({
        "_key": key[:n],
        "dos": dos.to_numpy(dtype="datetime64[ns]"),
        "_pos": np.arange(len(payor)),
    })
    rates = pd.DataFrame({
        "_key": key[n:],
        "effective_from": fee_schedule["effective_from"].to_numpy(dtype="datetime64[ns]"),
        "effective_to": fee_schedule["effective_to"].to_numpy(dtype="datetime64[ns]"),
        "allowed": fee_schedule["allowed"].astype("Int64").to_numpy(),
        "_order": np.arange(len(fee_schedule)),
    })
    hits = wanted.merge(rates, on="_key", how="inner")
    in_effect = (hits["effective_from"] <= hits["dos"]) & (
        hits["effective_to"].isna() | (hits["dos"] <= hits["effective_to"]))
    hits = hits[in_effect].sort_values(["_pos", "effective_from", "_order"], kind="stable")
    best = hits.drop_duplicates("_pos", keep="last").set_index("_pos")["allowed"]
    rate = best.reindex(np.arange(len(payor))).astype("Int64")
    return pd.Series(rate.to_numpy(), index=payor.index, dtype="Int64")


def expected_allowed(claims: pd.DataFrame, contracts: pd.DataFrame, fee_schedule: pd.DataFrame,
                     settings: m.Settings) -> pd.DataFrame:
    """What the contract says the payor should allow, per claim line (index = claims.index):

    fee_source: the contract's Fee Basis used — "Fee Schedule" or "% of Medicare" — or
        "" when no rate was found (no contract, no matching FeeSchedule row, or a
        "% of Medicare" contract without its percentage).
    unit_rate: cents per unit. "Fee Schedule": the payor's own FeeSchedule rate (see
        `fee_schedule_rate`). "% of Medicare": the rate of the Medicare reference payor
        (Settings) for the same CPT, modifier and date of service × the contract's
        % of Medicare, rounded half up to the cent.
    expected_allowed: unit_rate × units (cents), but never more than the billed charge:
        Medicare and most contracts pay the lesser of the fee and the charge (a $10 lab
        billed under a $15 fee is expected at $10, not underpaid by $5).
    """
    terms = contract_terms(claims, contracts, ["fee_basis", "pct_of_medicare"])
    basis = terms["fee_basis"].fillna("").astype(str)
    of_medicare = (basis == PCT_OF_MEDICARE).to_numpy()
    lookup_payor = claims["payor"].astype(str).where(~of_medicare, settings.medicare_payor)
    schedule = fee_schedule_rate(lookup_payor, claims["cpt"], claims["modifier"], claims["dos"], fee_schedule)

    unit_rate = schedule.where(basis == FEE_SCHEDULE)
    medicare_share = round_half_up(schedule.astype("Float64") * terms["pct_of_medicare"].astype("Float64"))
    unit_rate = unit_rate.where(~of_medicare, medicare_share).astype("Int64")
    units = claims["units"].astype("Int64").fillna(m.CLAIMS.column("units").default)
    source = basis.where(unit_rate.notna(), "")
    return pd.DataFrame({
        "fee_source": pd.Series(source.to_numpy(), index=claims.index, dtype=object),
        "unit_rate": unit_rate,
        "expected_allowed": (unit_rate * units).clip(upper=claims["charge"].astype("Int64")).astype("Int64"),
    }, index=claims.index)


def overlapping_fee_rows(fee_schedule: pd.DataFrame) -> pd.DataFrame:
    """FeeSchedule rows whose Effective From..Effective To range (a blank Effective To
    is open-ended) shares a date with another row of the same payor, CPT and modifier,
    so that a date of service would have two rates. One row per offending row: its
    columns (with `_row`, its Excel row), and `overlaps_row`, the Excel row (or index,
    without `_row`) of the first other row it overlaps."""
    rows = fee_schedule.assign(
        _payor=match_key(fee_schedule["payor"]), _cpt=match_key(fee_schedule["cpt"]),
        _modifier=match_key(fee_schedule["modifier"]),
        _where=fee_schedule["_row"] if "_row" in fee_schedule else fee_schedule.index.to_series(),
        _pos=np.arange(len(fee_schedule)))
    key = ["_payor", "_cpt", "_modifier"]
    cols = key + ["_pos", "_where", "effective_from", "effective_to"]
    pairs = rows[cols].merge(rows[cols], on=key, suffixes=("", "_other"))
    far_future = pd.Timestamp.max.normalize()
    end = pairs["effective_to"].fillna(far_future)
    other_end = pairs["effective_to_other"].fillna(far_future)
    overlap = ((pairs["_pos"] != pairs["_pos_other"])
               & (pairs["effective_from"] <= other_end) & (pairs["effective_from_other"] <= end))
    first_other = (pairs[overlap].sort_values(["_pos", "_pos_other"])
                   .drop_duplicates("_pos").set_index("_pos")["_where_other"])
    out = fee_schedule.iloc[first_other.index.to_numpy()].copy()
    out["overlaps_row"] = first_other.to_numpy()
    return out


def underpayments(claims: pd.DataFrame, expected: pd.DataFrame | pd.Series, lines: pd.DataFrame,
                  settings: m.Settings) -> pd.DataFrame:
    """Underpayment per claim line (index = claims.index), measured on lines with an
    expected allowed that have been adjudicated and are not denied in full or in part (a
    denial is worked as a denial, never as an underpayment), not awaiting reprocessing (a
    reversed payment with no correction yet), and not a Secondary claim row (a secondary
    pays what the primary left; its contract rate is not what it allows):

    variance: expected_allowed − allowed (the allowed amount of the line's own payer's
        remittances, net of reversals; positive: the payor allowed less than the
        contract says).
    variance_vs_paid: expected_allowed − what the line's own payer paid, left to the
        patient and sequestered (``received``): catches a payor that reports the contracted
        allowed but pays less.
    underpaid: variance > Underpayment Tolerance $ and variance > Underpayment
        Tolerance % × expected_allowed (both must be exceeded, so neither rounding on a
        small line nor cents on a large one is flagged).
    Elsewhere variance and variance_vs_paid are <NA> and underpaid is False.
    `expected` is the frame `expected_allowed` returns, or its expected_allowed column.
    """
    if isinstance(expected, pd.DataFrame):
        expected = expected["expected_allowed"]
    expected = expected.astype("Int64")
    secondary_row = (claims["claim_type"].astype(str).isin(["Secondary", "Tertiary"]).to_numpy()
                     if "claim_type" in claims else False)
    measurable = (expected.notna() & lines["adjudicated"].astype(bool) & ~lines["denial_open"].astype(bool)
                  & ~lines["awaiting_reprocessing"].astype(bool) & ~secondary_row)
    variance = (expected - lines["allowed"].astype("Int64")).where(measurable)
    received = lines["received"].astype("Int64")
    variance_vs_paid = (expected - received).where(measurable)
    underpaid = ((variance > settings.tolerance_amount)
                 & (variance.astype("Float64") > settings.tolerance_pct * expected.astype("Float64")))
    return pd.DataFrame({
        "variance": variance.astype("Int64"),
        "variance_vs_paid": variance_vs_paid.astype("Int64"),
        "underpaid": underpaid.fillna(False).astype(bool),
    }, index=claims.index)


def reimbursement(claims: pd.DataFrame, contracts: pd.DataFrame, fee_schedule: pd.DataFrame,
                  lines: pd.DataFrame, settings: m.Settings) -> pd.DataFrame:
    """`expected_allowed` and `underpayments` side by side, one row per claim line
    (index = claims.index): the one call the recalculation makes."""
    expected = expected_allowed(claims, contracts, fee_schedule, settings)
    return pd.concat([expected, underpayments(claims, expected, lines, settings)], axis=1)
