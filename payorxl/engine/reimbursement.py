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

from .. import model as m, rules
from .deadlines import contract_terms, match_codes, match_key, round_half_up

FEE_KEY = ["payor", "cpt", "modifier"]
FEE_SCHEDULE, PCT_OF_MEDICARE = m.FEE_BASES


def _rate_lookup(wanted: list[pd.Series], listed: list[pd.Series], dos: pd.Series,
                 fee_schedule: pd.DataFrame) -> pd.Series:
    """The Allowed of the FeeSchedule row whose key columns (`listed`, case ignored) equal
    `wanted` and whose dates cover the date of service (see `fee_schedule_rate`)."""
    # The key columns as one integer, the same in both frames: a merge on one integer is
    # several times faster than on several text columns.
    n, key = len(dos), np.zeros(len(dos) + len(fee_schedule), dtype=np.int64)
    for wanted_keys, fee_keys in zip(wanted, listed):
        codes = np.concatenate(match_codes(wanted_keys, fee_keys))
        key = pd.factorize(key * (int(codes.max(initial=0)) + 1) + codes)[0].astype(np.int64)
    want = pd.DataFrame({"_key": key[:n], "dos": dos.to_numpy(dtype="datetime64[ns]"), "_pos": np.arange(n)})
    rates = pd.DataFrame({
        "_key": key[n:],
        "effective_from": fee_schedule["effective_from"].to_numpy(dtype="datetime64[ns]"),
        "effective_to": fee_schedule["effective_to"].to_numpy(dtype="datetime64[ns]"),
        "allowed": fee_schedule["allowed"].astype("Int64").to_numpy(),
        "_order": np.arange(len(fee_schedule)),
    })
    hits = want.merge(rates, on="_key", how="inner")
    in_effect = (hits["effective_from"] <= hits["dos"]) & (
        hits["effective_to"].isna() | (hits["dos"] <= hits["effective_to"]))
    hits = hits[in_effect].sort_values(["_pos", "effective_from", "_order"], kind="stable")
    best = hits.drop_duplicates("_pos", keep="last").set_index("_pos")["allowed"]
    return pd.Series(best.reindex(np.arange(n)).astype("Int64").to_numpy(), index=dos.index, dtype="Int64")


def fee_schedule_rate(payor: pd.Series, cpt: pd.Series, modifier: pd.Series, dos: pd.Series,
                      fee_schedule: pd.DataFrame, setting: pd.Series | None = None) -> pd.Series:
    """The FeeSchedule Allowed per unit (cents, Int64; index of `payor`) for each
    (payor, cpt, modifier, date of service): the row with the same payor, CPT and
    modifier (a blank modifier matches a blank modifier only) whose Effective From <=
    date of service <= Effective To (a blank Effective To is open-ended). If several
    rows match (overlapping dates, a data error `overlapping_fee_rows` reports), the one
    with the latest Effective From wins, and among equal Effective From the lower row
    in the sheet. <NA> where no row matches.

    setting (Facility or Non-facility, per claim line): a row of that Setting wins; else a
    row whose Setting is blank. `fee_schedule_setting` says which was used."""
    return fee_schedule_setting(payor, cpt, modifier, dos, fee_schedule, setting)[0]


def fee_schedule_setting(payor, cpt, modifier, dos, fee_schedule, setting=None) -> tuple[pd.Series, pd.Series]:
    """`fee_schedule_rate`, and per line the Setting of the row used ("" for a blank one)."""
    listed = fee_schedule.get("setting")
    listed = (listed.fillna("").astype(str).str.strip() if listed is not None
              else pd.Series("", index=fee_schedule.index))
    blank = (listed == "").to_numpy()
    general = _rate_lookup([payor, cpt, modifier], [fee_schedule[k][blank] for k in FEE_KEY], dos,
                           fee_schedule[blank])
    if setting is None or blank.all():
        return general, pd.Series("", index=payor.index, dtype=object)
    own = fee_schedule[~blank]
    specific = _rate_lookup([payor, cpt, modifier, setting], [own[k] for k in FEE_KEY] + [listed[~blank]], dos, own)
    used = pd.Series(np.where(specific.notna(), setting.astype(str), ""), index=payor.index, dtype=object)
    return specific.fillna(general), used


def claim_setting(pos: pd.Series) -> pd.Series:
    """Facility or Non-facility, by the place of service (rules.FACILITY_POS; "2" is "02";
    a blank or unknown code is Non-facility, the office rate)."""
    codes, distinct = pd.factorize(pos.fillna("").astype(str))     # a few codes over many lines
    def setting(text: str) -> str:
        text = text.strip()
        return rules.FACILITY if ("0" + text if len(text) == 1 else text) in rules.FACILITY_POS else rules.NON_FACILITY
    settings = np.array([setting(t) for t in distinct] + [rules.NON_FACILITY], dtype=object)
    return pd.Series(settings[codes], index=pos.index, dtype=object)


def payment_terms(claims: pd.DataFrame, payment_rules: pd.DataFrame | None) -> pd.DataFrame:
    """Per claim line (index = claims.index): lesser_of (bool), first_pct, second_pct,
    further_pct, npp_pct: the PaymentRules row of the claim's payor (case ignored), a blank
    cell taking the All payors row's, then Medicare's rule (rules.py)."""
    first, second, further = rules.PROCEDURE_PCTS_DEFAULT
    defaults = {"lesser_of": rules.LESSER_OF_DEFAULT, "first_pct": first, "second_pct": second,
                "further_pct": further, "npp_pct": rules.NPP_PCT_DEFAULT}
    table = payment_rules if payment_rules is not None else pd.DataFrame(columns=["payor", *defaults])
    keys = match_key(table["payor"].fillna("").astype(str)) if len(table) else pd.Series([], dtype=object)
    table = table.assign(_payor=keys.to_numpy()).drop_duplicates("_payor").set_index("_payor")
    everyone = rules.ALL.upper()
    payor = match_key(claims["payor"].fillna("").astype(str))
    out = pd.DataFrame(index=claims.index)
    for column, default in defaults.items():
        values = table[column].astype(object).where(table[column].notna() & (table[column].astype(object) != ""))
        fallback = values.get(everyone) if everyone in values.index else None
        if fallback is None or pd.isna(fallback):
            fallback = default
        out[column] = payor.map(values.to_dict()).astype(object).where(lambda v: v.notna(), fallback)
    out["lesser_of"] = out["lesser_of"].astype(str) == "Yes"
    for column in ("first_pct", "second_pct", "further_pct", "npp_pct"):
        out[column] = out[column].astype("float64")
    return out


def _modifier_rules(modifier: pd.Series, modifiers: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Per line: its modifier's Pricing (Modifiers table, case ignored; "" when not listed)
    and Percent (NaN when blank)."""
    if modifiers is None or modifiers.empty:
        return pd.Series("", index=modifier.index, dtype=object), pd.Series(np.nan, index=modifier.index)
    table = modifiers.assign(_m=match_key(modifiers["modifier"].fillna("").astype(str).str.strip()).to_numpy())
    table = table.drop_duplicates("_m").set_index("_m")
    key = match_key(modifier)
    pricing = key.map(table["pricing"].astype(object).to_dict()).fillna("").astype(object)
    pct = key.map(table["percent"].astype("float64").to_dict()).astype("float64")
    return pricing, pct


def _procedure_ranks(claims: pd.DataFrame, unit_rate: pd.Series, subject: pd.Series, units: pd.Series) -> pd.Series:
    """The rank of each subject line's first unit among the subject lines of its claim, date
    of service and payor: by unit rate, highest first, then by line number; every unit of a
    line takes a rank (a line of 2 units ranked 1 holds ranks 1 and 2). 0 elsewhere."""
    rank = pd.Series(0, index=claims.index, dtype="int64")
    if not subject.any():
        return rank
    rows = pd.DataFrame({"claim": match_key(claims["claim_id"].fillna("").astype(str)),
                         "payor": match_key(claims["payor"].fillna("").astype(str)),
                         "dos": claims["dos"], "rate": unit_rate.astype("float64"),
                         "line": claims["line"].astype("int64"), "units": units.astype("int64")})[subject.to_numpy()]
    rows = rows.sort_values(["claim", "payor", "dos", "rate", "line"], ascending=[True, True, True, False, True],
                            kind="stable")
    before = rows.groupby(["claim", "payor", "dos"], sort=False)["units"].cumsum() - rows["units"]
    rank[rows.index] = (before + 1).astype("int64")
    return rank


def expected_allowed(claims: pd.DataFrame, contracts: pd.DataFrame, fee_schedule: pd.DataFrame,
                     settings: m.Settings, payment_rules: pd.DataFrame | None = None,
                     modifiers: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the contract says the payor should allow, per claim line (index = claims.index).

    The rate: the contract's Fee Basis — its own FeeSchedule ("Fee Schedule"), or the
    Medicare reference payor's (Settings) × the contract's % of Medicare — looked up by CPT,
    modifier, date of service and setting (the claim's place of service: a Facility or
    Non-facility row wins over a row with a blank Setting; `fee_schedule_setting`).

    A modifier: a FeeSchedule row with it wins (26, TC: "modifier 26 rate"); else its
    Modifiers row says: Base rate (informational, 25, 59...: the code's rate without a
    modifier), % of base (50: 150% of it, rounded to the cent) or Own rate (none listed: no
    rate). A modifier not in Modifiers and with no FeeSchedule row has no rate (`check`
    warns).

    setting: Facility or Non-facility (`claim_setting`).
    base_rate: the rate of the code without a modifier (cents per unit; the Medicare payor's for
        a % of Medicare contract), by setting; <NA> where none.
    unit_rate: the line's rate in cents, × % of Medicare, then × the NPP % for a line rendered by a
        non-physician practitioner (NPP Yes), each step rounded half up to the cent.
    multiple_procedure: "Yes" for a priced line whose code is subject to the multiple-
        procedure reduction (a FeeSchedule row of the payor, or the Medicare payor for a %
        of Medicare contract, and the CPT says Multiple Procedure Yes); "" otherwise.
    procedure_rank: its rank (`_procedure_ranks`); <NA> for other lines.
    expected_allowed: unit_rate × units, each unit at its rank's percentage for a subject
        line (PaymentRules: first, second, further; Medicare 100/50/50), rounded half up to
        the cent; then, where the payor's Lesser Of Charge is Yes (the default), never more
        than the billed charge.
    pricing: the rules used, in order: "Fee schedule" or "% of Medicare", "facility" or
        "non-facility" (a row of that Setting), "modifier M rate" / "modifier M at base" /
        "modifier M % of base", "NPP", "procedure N", "billed charge" (the expected allowed is the charge:
        it was not more than the contracted amount); joined with ", "; blank without a rate.
    fee_source: the Fee Basis when a rate was found, else "".
    """
    terms = contract_terms(claims, contracts, ["fee_basis", "pct_of_medicare"])
    basis = terms["fee_basis"].fillna("").astype(str)
    of_medicare = (basis == PCT_OF_MEDICARE).to_numpy()
    lookup_payor = claims["payor"].astype(str).where(~of_medicare, settings.medicare_payor)
    setting = claim_setting(claims["pos"] if "pos" in claims else pd.Series("", index=claims.index))
    codes, distinct = pd.factorize(claims["modifier"].fillna("").astype(str))
    modifier = pd.Series(np.array([t.strip().upper() for t in distinct] + [""], dtype=object)[codes],
                         index=claims.index, dtype=object)
    no_modifier = pd.Series("", index=claims.index, dtype=object)
    base, base_setting = fee_schedule_setting(lookup_payor, claims["cpt"], no_modifier, claims["dos"],
                                              fee_schedule, setting)
    own, own_setting = fee_schedule_setting(lookup_payor, claims["cpt"], modifier, claims["dos"],
                                            fee_schedule, setting)
    pricing_rule, pct = _modifier_rules(modifier, modifiers)
    has_mod = modifier != ""
    use_own = has_mod & own.notna()
    at_base = has_mod & ~use_own & (pricing_rule == rules.BASE_RATE)
    pct_base = has_mod & ~use_own & (pricing_rule == rules.PCT_OF_BASE)
    rate = base.where(~has_mod | at_base)
    rate = rate.where(~use_own, own)
    rate = rate.where(~pct_base, round_half_up(base.astype("Float64") * pd.Series(pct, dtype="Float64")))
    used_setting = base_setting.where(~use_own, own_setting)

    unit_rate = rate.where(basis == FEE_SCHEDULE)
    medicare_share = round_half_up(rate.astype("Float64") * terms["pct_of_medicare"].astype("Float64"))
    unit_rate = unit_rate.where(~of_medicare, medicare_share).astype("Int64")
    pay = payment_terms(claims, payment_rules)
    npp = (claims["npp"].astype(str) == "Yes") if "npp" in claims else pd.Series(False, index=claims.index)
    unit_rate = unit_rate.where(~npp, round_half_up(unit_rate.astype("Float64") * pay["npp_pct"].astype("Float64")))
    unit_rate = unit_rate.astype("Int64")
    units = claims["units"].astype("Int64").fillna(m.CLAIMS.column("units").default).astype("int64")

    subject_codes = fee_schedule.get("multiple_procedure")
    if subject_codes is not None and len(fee_schedule):
        listed = fee_schedule[(subject_codes.astype(str) == "Yes").to_numpy()]
        payor_codes = match_codes(lookup_payor, listed["payor"])
        cpt_codes = match_codes(claims["cpt"].fillna("").astype(str), listed["cpt"].astype(str))
        width = int(max(cpt_codes[0].max(initial=0), cpt_codes[1].max(initial=0))) + 1
        subject = pd.Series(np.isin(payor_codes[0] * width + cpt_codes[0], payor_codes[1] * width + cpt_codes[1]),
                            index=claims.index)
    else:
        subject = pd.Series(False, index=claims.index)
    subject &= unit_rate.notna()
    rank = _procedure_ranks(claims, unit_rate, subject, units)
    r, u = rank.to_numpy(), units.to_numpy()
    first = (r == 1).astype("int64")
    second = (r == 2).astype("int64") + ((r == 1) & (u >= 2)).astype("int64")
    further = u - first - second
    share = np.where(subject.to_numpy(), first * pay["first_pct"].to_numpy() + second * pay["second_pct"].to_numpy()
                     + further * pay["further_pct"].to_numpy(), u.astype("float64"))
    contracted = round_half_up(unit_rate.astype("Float64") * pd.Series(share, index=claims.index, dtype="Float64"))
    charge = claims["charge"].astype("Int64")
    lesser = pay["lesser_of"].to_numpy() & (charge < contracted).fillna(False).to_numpy()
    expected = contracted.where(~pd.Series(lesser, index=claims.index), charge).astype("Int64")

    priced = unit_rate.notna()
    parts = [np.where(of_medicare, "% of Medicare", "Fee schedule"),
             np.where(used_setting == rules.FACILITY, "facility",
                      np.where(used_setting == rules.NON_FACILITY, "non-facility", "")),
             np.where(use_own, "modifier " + modifier + " rate",
                      np.where(at_base, "modifier " + modifier + " at base",
                               np.where(pct_base, "modifier " + modifier + " % of base", ""))),
             np.where(npp, "NPP", ""),
             np.where(subject, "procedure " + rank.astype(str), ""),
             np.where(pay["lesser_of"].to_numpy() & (expected == charge).fillna(False).to_numpy(), "billed charge", "")]
    pricing = parts[0].astype(object)
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        pricing = np.where(part != "", pricing + ", " + part, pricing)
    return pd.DataFrame({
        "fee_source": pd.Series(basis.where(priced, "").to_numpy(), index=claims.index, dtype=object),
        "setting": setting,
        "base_rate": base.astype("Int64"),
        "unit_rate": unit_rate,
        "multiple_procedure": pd.Series(np.where(subject, "Yes", ""), index=claims.index, dtype=object),
        "procedure_rank": rank.astype("Int64").where(subject),
        "pricing": pd.Series(np.where(priced.to_numpy(), pricing, ""), index=claims.index, dtype=object),
        "expected_allowed": expected.where(priced),
    }, index=claims.index)


def overlapping_fee_rows(fee_schedule: pd.DataFrame) -> pd.DataFrame:
    """FeeSchedule rows whose Effective From..Effective To range (a blank Effective To
    is open-ended) shares a date with another row of the same payor, CPT, modifier and Setting,
    so that a date of service would have two rates. One row per offending row: its
    columns (with `_row`, its Excel row), and `overlaps_row`, the Excel row (or index,
    without `_row`) of the first other row it overlaps."""
    setting = fee_schedule["setting"] if "setting" in fee_schedule else pd.Series("", index=fee_schedule.index)
    rows = fee_schedule.assign(
        _payor=match_key(fee_schedule["payor"]), _cpt=match_key(fee_schedule["cpt"]),
        _modifier=match_key(fee_schedule["modifier"]), _setting=match_key(setting.fillna("").astype(str)),
        _where=fee_schedule["_row"] if "_row" in fee_schedule else fee_schedule.index.to_series(),
        _pos=np.arange(len(fee_schedule)))
    key = ["_payor", "_cpt", "_modifier", "_setting"]
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
                  lines: pd.DataFrame, settings: m.Settings, payment_rules: pd.DataFrame | None = None,
                  modifiers: pd.DataFrame | None = None) -> pd.DataFrame:
    """`expected_allowed` and `underpayments` side by side, one row per claim line
    (index = claims.index): the one call the recalculation makes."""
    expected = expected_allowed(claims, contracts, fee_schedule, settings, payment_rules, modifiers)
    return pd.concat([expected, underpayments(claims, expected, lines, settings)], axis=1)
