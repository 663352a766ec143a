"""The payor portfolio: who pays the practice, at what rates, and what a new rate is worth.

These are the figures an accountant takes into a contract renegotiation: the payer mix
(share of charges and of payments), revenue by payor and CPT, each payor's contracted
rate against the Medicare rate, the revenue effect of proposed rates on the last twelve
months' volume, and the calendar of contract renewals and notice deadlines.

Money is integer cents (nullable Int64 where a rate may be missing); a share or ratio
whose denominator is zero is NaN.
"""
from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from .. import model as m

# The reimbursement engine prices claims with these; rates here must match its prices.
from .deadlines import match_key, round_half_up
from .lines import frame_claim_codes

FEE_SCHEDULE, PCT_OF_MEDICARE = m.FEE_BASES
RATE_KEY = ["payor_key", "cpt", "modifier"]
WHAT_IF_DAYS = 365


def _text(series: pd.Series) -> np.ndarray:
    return series.fillna("").astype(str).to_numpy()


def _cents(series: pd.Series) -> np.ndarray:
    return series.fillna(0).astype("int64").to_numpy()


def _share(part: pd.Series) -> pd.Series:
    """Each value's share of the column total; NaN when the total is zero."""
    total = float(part.sum())
    return part.astype("float64") / total if total else part.astype("float64") * np.nan


def payer_mix(claims: pd.DataFrame, lines: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Payer mix: each payor's share of the practice's gross charges and of its payor
    payments (MGMA reports payer mix by charges).

    Columns: payor, payor_type (from Contracts; "" for a payor without a contract),
    claims (distinct claims, IDs with case ignored), lines, charges, paid (cents, net of reversals),
    share_of_charges, share_of_paid (floats, 0..1). Sorted by charges, largest first.
    """
    frame = pd.DataFrame({"payor": _text(claims["payor"]),
                          "claim_id": frame_claim_codes(claims),   # (case ignored, as lines are matched)
                          "charges": _cents(claims["charge"]),
                          "paid": _cents(lines["paid"])})
    grouped = frame.groupby("payor")
    out = pd.DataFrame({"claims": grouped["claim_id"].nunique(), "lines": grouped.size(),
                        "charges": grouped["charges"].sum(), "paid": grouped["paid"].sum()})
    out = out.astype("int64").reset_index()
    # The first contract row of a payor, matched case-blind as Excel's MATCH does.
    types = pd.Series(_text(contracts["payor_type"]), index=match_key(contracts["payor"]).to_numpy())
    types = types[~types.index.duplicated()]
    out.insert(1, "payor_type", match_key(out["payor"]).map(types).astype(object).fillna(""))
    out["payor"] = out["payor"].astype(object)
    out["share_of_charges"] = _share(out["charges"])
    out["share_of_paid"] = _share(out["paid"])
    out = out.sort_values(["charges", "payor"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def revenue_by_payor_cpt(claims: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Volume and revenue by payor and CPT.

    Columns: payor, cpt, lines, units (billed), charges, paid (cents), paid_per_unit:
    paid ÷ units of the *adjudicated* lines (cents, half up; NA when none adjudicated),
    so claims still waiting for a remittance do not pull the average down. Sorted by
    payor, then charges, largest first.
    """
    adjudicated = lines["adjudicated"].astype(bool).to_numpy()
    units = _cents(claims["units"].fillna(1))
    frame = pd.DataFrame({"payor": _text(claims["payor"]), "cpt": _text(claims["cpt"]),
                          "units": units, "charges": _cents(claims["charge"]),
                          "paid": _cents(lines["paid"]),
                          "units_adjudicated": np.where(adjudicated, units, 0)})
    grouped = frame.groupby(["payor", "cpt"])
    out = pd.DataFrame({"lines": grouped.size()}).join(
        grouped[["units", "charges", "paid", "units_adjudicated"]].sum()).astype("int64")
    out = out.reset_index()
    for c in ("payor", "cpt"):
        out[c] = out[c].astype(object)
    per_unit = out["paid"] / out["units_adjudicated"].where(out["units_adjudicated"] > 0)
    out["paid_per_unit"] = round_half_up(per_unit)
    out = out.drop(columns="units_adjudicated")
    return out.sort_values(["payor", "charges", "cpt"], ascending=[True, False, True],
                           kind="stable").reset_index(drop=True)


def _fee_rows_in_force(fee_schedule: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The fee row in force at `as_of` for each payor, CPT and modifier: effective_from
    ≤ as_of ≤ effective_to (or open-ended); where rows overlap, the latest start wins
    (then the lower row, as `reimbursement.fee_schedule_rate` decides)."""
    in_force = ((fee_schedule["effective_from"] <= as_of)
                & (fee_schedule["effective_to"].isna() | (fee_schedule["effective_to"] >= as_of)))
    rows = fee_schedule[in_force]
    rows = pd.DataFrame({"payor_key": match_key(rows["payor"]).to_numpy(),
                         "cpt": match_key(rows["cpt"]).to_numpy(),
                         "modifier": match_key(rows["modifier"]).to_numpy(),
                         "fee_payor": _text(rows["payor"]),
                         "effective_from": rows["effective_from"].to_numpy(),
                         "allowed": rows["allowed"].astype("Int64").to_numpy(),
                         "proposed_allowed": rows["proposed_allowed"].astype("Int64").to_numpy()})
    rows = rows.sort_values("effective_from", kind="stable").drop_duplicates(RATE_KEY, keep="last")
    return rows.drop(columns="effective_from").reset_index(drop=True)


def _contract_terms(contracts: pd.DataFrame) -> pd.DataFrame:
    """One row per payor (the first, as Excel's MATCH finds it), keyed case-blind."""
    terms = pd.DataFrame({
        "payor_key": match_key(contracts["payor"]).to_numpy(),
        "contract_payor": _text(contracts["payor"]),
        "payor_type": _text(contracts["payor_type"]),
        "fee_basis": pd.Series(_text(contracts["fee_basis"])).replace("", FEE_SCHEDULE).to_numpy(),
        "pct": contracts["pct_of_medicare"].astype("float64").to_numpy(),
        "proposed_pct": contracts["proposed_pct_of_medicare"].astype("float64").to_numpy(),
    })
    return terms.drop_duplicates("payor_key")


def _rates(fee_schedule: pd.DataFrame, contracts: pd.DataFrame, medicare_payor: str,
           as_of: pd.Timestamp) -> pd.DataFrame:
    """Every payor's rate per unit in force at `as_of`, with the Medicare rate beside it.

    Columns: payor_key, payor (as the contract spells it), payor_type, fee_basis, cpt,
    modifier, allowed (current), proposed, medicare_rate (Int64 cents). Payor, CPT and
    modifier match case-blind and a modifier matches only the same modifier, as in
    `reimbursement.expected_allowed`. A "Fee Schedule" payor's rates are its fee rows;
    a "% of Medicare" payor's are its percentage × the Medicare rate (half up to the
    cent), for every code Medicare prices. The proposed rate is the fee row's Proposed
    Allowed, or else the contract's Proposed % of Medicare × the Medicare rate.
    """
    rows = _fee_rows_in_force(fee_schedule, as_of)
    terms = _contract_terms(contracts)
    medicare_key = match_key(pd.Series([medicare_payor])).iloc[0]
    medicare = (rows.loc[rows["payor_key"] == medicare_key, ["cpt", "modifier", "allowed"]]
                .rename(columns={"allowed": "medicare_rate"}))

    pct_terms = terms[(terms["fee_basis"] == PCT_OF_MEDICARE) & (terms["payor_key"] != medicare_key)]
    by_pct = pct_terms[["payor_key"]].merge(medicare[["cpt", "modifier"]], how="cross")
    by_fee = rows[~rows["payor_key"].isin(pct_terms["payor_key"])]
    rates = pd.concat([by_fee, by_pct], ignore_index=True)
    rates = (rates.merge(medicare, on=["cpt", "modifier"], how="left")
             .merge(terms, on="payor_key", how="left"))
    rates["payor"] = rates["contract_payor"].fillna(rates["fee_payor"]).astype(object)
    rates["payor_type"] = rates["payor_type"].fillna("").astype(object)
    rates["fee_basis"] = rates["fee_basis"].fillna(FEE_SCHEDULE).astype(object)

    medicare_rate = rates["medicare_rate"].astype("Float64")
    from_pct = (rates["fee_basis"] == PCT_OF_MEDICARE).to_numpy()
    by_medicare = round_half_up(rates["pct"].astype("Float64") * medicare_rate)
    rates["allowed"] = rates["allowed"].astype("Int64").where(~from_pct, by_medicare)
    proposed_by_medicare = round_half_up(rates["proposed_pct"].astype("Float64") * medicare_rate)
    rates["proposed"] = rates["proposed_allowed"].astype("Int64").fillna(proposed_by_medicare)
    rates["medicare_rate"] = rates["medicare_rate"].astype("Int64")
    return rates[["payor_key", "payor", "payor_type", "fee_basis", "cpt", "modifier", "allowed",
                  "proposed", "medicare_rate"]]


def rates_in_force(fee_schedule: pd.DataFrame, contracts: pd.DataFrame, settings) -> pd.DataFrame:
    """`_rates` at the as-of date: what `rate_comparison` and `what_if` read, worked out
    once when both are wanted (their `rates`)."""
    return _rates(fee_schedule, contracts, settings.medicare_payor, pd.Timestamp(settings.as_of).normalize())


def rate_comparison(fee_schedule: pd.DataFrame, contracts: pd.DataFrame, settings,
                    as_of=None, rates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each payor's contracted rate against the Medicare rate, code by code.

    For every payor except the Medicare reference (settings.medicare_payor) and every
    CPT and modifier with a rate in force at `as_of` (default settings.as_of; in force:
    effective_from ≤ as_of ≤ effective_to, or open-ended): the payor's allowed per unit
    — its fee row, or for a "% of Medicare" contract its percentage × the Medicare rate,
    rounded half up to the cent (as `reimbursement.expected_allowed` prices claims) —
    and the Medicare reference's fee row in force for the same CPT and modifier.

    Columns: payor, payor_type, fee_basis, cpt, modifier (CPT and modifier upper-cased,
    as matched), allowed, medicare_rate (cents, NA when Medicare has no rate),
    pct_of_medicare (allowed ÷ Medicare rate, NaN when there is no or a zero Medicare
    rate), gap_to_medicare (allowed − Medicare rate, cents). Sorted by payor, CPT,
    modifier. rates: `rates_in_force` of the same tables, when worked out already (as_of
    left at the default).
    """
    if rates is None:
        as_of = pd.Timestamp(settings.as_of if as_of is None else as_of).normalize()
        rates = _rates(fee_schedule, contracts, settings.medicare_payor, as_of)
    medicare_key = match_key(pd.Series([settings.medicare_payor])).iloc[0]
    rates = rates[(rates["payor_key"] != medicare_key) & rates["allowed"].notna()]
    medicare = rates["medicare_rate"].astype("float64")
    out = rates.drop(columns=["payor_key", "proposed"]).assign(
        pct_of_medicare=rates["allowed"].astype("float64") / medicare.where(medicare != 0),
        gap_to_medicare=rates["allowed"] - rates["medicare_rate"])
    out = out.astype({"payor": object, "cpt": object, "modifier": object})
    return out.sort_values(["payor", "cpt", "modifier"], kind="stable").reset_index(drop=True)


def what_if(claims: pd.DataFrame, fee_schedule: pd.DataFrame, contracts: pd.DataFrame,
            settings, rates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Revenue effect of the proposed rates on the last twelve months' volume.

    Volume: units billed on claim lines with a date of service in (as-of − 365 days,
    as-of], by payor, CPT and modifier (matched as `rate_comparison` matches them, so a
    line is priced here exactly when `reimbursement.expected_allowed` can price it).
    Current rate: as in `rate_comparison`, in force at the as-of date. Proposed rate:
    the fee row's Proposed Allowed when given, else the contract's Proposed % of
    Medicare × the Medicare rate (half up to the cent). Revenue = units × rate per unit.

    Columns: payor, cpt, modifier, units, current_rate, proposed_rate, current_revenue,
    proposed_revenue, change (proposed − current revenue), all money in cents. Left out:
    codes with no proposal, no current rate, or no units in the period. Sorted by payor,
    CPT, modifier. rates: `rates_in_force` of the same tables, when worked out already.
    """
    as_of = pd.Timestamp(settings.as_of).normalize()
    if rates is None:
        rates = rates_in_force(fee_schedule, contracts, settings)
    rates = rates[rates["allowed"].notna() & rates["proposed"].notna()]

    recent = ((claims["dos"] > as_of - pd.Timedelta(days=WHAT_IF_DAYS))
              & (claims["dos"] <= as_of)).to_numpy()
    volume = pd.DataFrame({"payor_key": match_key(claims["payor"]).to_numpy(),
                           "cpt": match_key(claims["cpt"]).to_numpy(),
                           "modifier": match_key(claims["modifier"]).to_numpy(),
                           "units": _cents(claims["units"].fillna(1))})[recent]
    # as_index=False gives a DataFrame (the stubs type every column-groupby sum a Series)
    volume = cast(pd.DataFrame, volume.groupby(RATE_KEY, as_index=False)["units"].sum())
    out = volume[volume["units"] > 0].merge(rates, on=RATE_KEY, how="inner")

    current = out["allowed"].astype("int64")
    proposed = out["proposed"].astype("int64")
    result = pd.DataFrame({
        "payor": out["payor"].astype(object), "cpt": out["cpt"].astype(object),
        "modifier": out["modifier"].astype(object), "units": out["units"].astype("int64"),
        "current_rate": current, "proposed_rate": proposed,
        "current_revenue": out["units"] * current, "proposed_revenue": out["units"] * proposed,
    })
    result["change"] = result["proposed_revenue"] - result["current_revenue"]
    return result.sort_values(["payor", "cpt", "modifier"], kind="stable").reset_index(drop=True)


def renewal_calendar(contracts: pd.DataFrame, notices: pd.DataFrame) -> pd.DataFrame:
    """Contract renewals and the last day to give notice, soonest first.

    notices: from the deadlines engine, index = contracts.index, with current_term_end,
    notice_deadline, notice_days_left and notice_status.

    Columns: payor, payor_type, term_end, auto_renew, notice_deadline, days_left,
    status. Sorted by notice deadline (contracts without one last), then payor.
    """
    out = pd.DataFrame({
        "payor": _text(contracts["payor"]),
        "payor_type": _text(contracts["payor_type"]),
        "term_end": notices["current_term_end"].to_numpy(),
        "auto_renew": _text(contracts["auto_renew"]),
        "notice_deadline": notices["notice_deadline"].to_numpy(),
        "days_left": notices["notice_days_left"].astype("Int64").to_numpy(),
        "status": _text(notices["notice_status"]),
    })
    out = out.astype({"payor": object, "payor_type": object, "auto_renew": object, "status": object})
    return (out.sort_values(["notice_deadline", "payor"], na_position="last", kind="stable")
            .reset_index(drop=True))
