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

from typing import Any

import numpy as np
import pandas as pd

from .. import model as m, rules
from .deadlines import _floats, _half_up, _int64, _key_codes, contract_terms, key_values, match_codes, match_key
from .lines import _per_distinct_text, text_codes, texts

FEE_KEY = ["payor", "cpt", "modifier"]
FEE_SCHEDULE, PCT_OF_MEDICARE = m.FEE_BASES


class _Keys:
    """A text column ready to be matched case-blind, factorised once: codes (−1 for a
    missing value) into its distinct values. Several lookups of the same column (the
    claims' payor, CPT, setting) share it."""
    __slots__ = ("codes", "distinct")

    def __init__(self, values: pd.Series | None, codes=None, distinct=None):
        if values is not None:
            codes, distinct = pd.factorize(values)
        self.codes = codes
        # a blank (missing) value is matched as "" (match_key), so it is one of the values
        self.distinct = pd.Series(np.append(np.asarray(distinct, dtype=object), ""), dtype=object)

    @classmethod
    def of(cls, codes: np.ndarray, distinct) -> _Keys:
        """The keys of a column already factorised: distinct[codes] is each row's value."""
        return cls(None, codes, distinct)


def _as_keys(values) -> _Keys:
    return values if isinstance(values, _Keys) else _Keys(values)


def _joint_codes(wanted: list[_Keys], listed: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """One integer per wanted row and per listed row, equal exactly where the match keys
    (`match_codes`) of every column are equal. Each column's distinct values are matched,
    not its rows: the same keys as matching the rows, for a few dozen values."""
    n, f = len(wanted[0].codes), len(listed[0]) if listed else 0
    key = np.zeros(n + f, dtype=np.int64)
    top = 0                                                        # the largest key so far
    for w, fee_keys in zip(wanted, listed):
        distinct, fee_codes = match_codes(w.distinct, fee_keys)
        codes = np.concatenate([distinct[w.codes], fee_codes])    # code −1 (blank) takes the "" at the end
        width = int(codes.max(initial=0)) + 1
        if top >= (2 ** 62) // width:     # the next product could overflow: renumber the keys first
            key = pd.factorize(key)[0].astype(np.int64)
            top = int(key.max(initial=0))
        key = key * width + codes
        top = top * width + width - 1
    return key[:n], key[n:]


def _rate_lookup(wanted: list, listed: list[pd.Series], dos: pd.Series, fee_schedule: pd.DataFrame) -> pd.Series:
    """The Allowed of the FeeSchedule row whose key columns (`listed`, case ignored) equal
    `wanted` (Series, or their `_Keys`) and whose dates cover the date of service (see
    `fee_schedule_rate`).

    The rows of one key cut the calendar into spans at their Effective From and the day
    after their Effective To; within a span the same rows are in effect, so the winner (the
    latest Effective From, then the lower row) is worked out once per span, and each line
    finds its span by a binary search on its date of service."""
    want_key, fee_key = _joint_codes([_as_keys(w) for w in wanted], listed)
    n = len(dos)
    allowed = fee_schedule["allowed"].astype("Int64").array
    start = fee_schedule["effective_from"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    stop = fee_schedule["effective_to"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    nat = np.iinfo(np.int64).min                     # NaT seen as an integer
    when = dos.to_numpy(dtype="datetime64[ns]").view(np.int64)
    found = np.full(n, -1, dtype=np.int64)           # the fee row each line takes
    usable = start != nat                            # no Effective From: in effect on no date
    listed_keys = np.unique(fee_key[usable])
    # Each line's key as its position among the listed keys (len(listed_keys) for none), so
    # that the lines are grouped by a stable sort of small integers (a radix sort).
    at = np.searchsorted(listed_keys, want_key)
    hit = at < len(listed_keys)
    hit[hit] = listed_keys[at[hit]] == want_key[hit]
    at[~hit] = len(listed_keys)
    at = at.astype(np.int16 if len(listed_keys) < 2 ** 15 - 1 else np.int64)
    order = np.argsort(at, kind="stable")
    bounds = np.searchsorted(at[order], np.arange(len(listed_keys) + 1))
    for j, k in enumerate(listed_keys):
        lo, hi = bounds[j], bounds[j + 1]
        if lo == hi:
            continue
        rows = np.flatnonzero(usable & (fee_key == k))
        open_ended = (stop[rows] == nat) | (stop[rows] == np.iinfo(np.int64).max)
        after = np.where(open_ended, 0, stop[rows] + 1)           # the first instant past Effective To
        cuts = np.unique(np.concatenate([start[rows], after[~open_ended]]))
        # the rows in effect at each cut: from <= cut <= to
        covers = (start[rows][None, :] <= cuts[:, None]) & (open_ended[None, :] | (cuts[:, None] < after[None, :]))
        # the winner: the latest Effective From, then the lower row (the larger position)
        rank = np.argsort(np.lexsort((rows, start[rows])))        # 0 = first in (from, row) order
        best = np.where(covers, rank[None, :], -1).max(axis=1)
        winner = np.where(best >= 0, rows[np.argsort(rank)][np.maximum(best, 0)], -1)
        lines = order[lo:hi]
        t = when[lines]
        span = np.searchsorted(cuts, t, side="right") - 1         # the last cut on or before the date
        found[lines] = np.where((span >= 0) & (t != nat), winner[np.maximum(span, 0)], -1)
    values = allowed.take(found, allow_fill=True)
    return pd.Series(values, index=dos.index, dtype="Int64")


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


def fee_schedule_setting(payor, cpt, modifier, dos, fee_schedule, setting=None,
                         setting_keys: _Keys | None = None) -> tuple[pd.Series, pd.Series]:
    """`fee_schedule_rate`, and per line the Setting of the row used ("" for a blank one).
    payor, cpt and modifier may be given as their `_Keys` (setting_keys: the setting's)."""
    listed = fee_schedule.get("setting")
    listed = (listed.fillna("").astype(str).str.strip() if listed is not None
              else pd.Series("", index=fee_schedule.index))
    blank = (listed == "").to_numpy()
    payor, cpt, modifier = _as_keys(payor), _as_keys(cpt), _as_keys(modifier)
    general = _rate_lookup([payor, cpt, modifier], [fee_schedule[k][blank] for k in FEE_KEY], dos,
                           fee_schedule[blank])
    if setting is None or blank.all():
        return general, pd.Series("", index=general.index, dtype=object)
    own = fee_schedule[~blank]
    specific = _rate_lookup([payor, cpt, modifier, setting_keys or _Keys(setting)],
                            [own[k] for k in FEE_KEY] + [listed[~blank]], dos, own)
    used = pd.Series(np.where(specific.notna(), setting.astype(str), ""), index=general.index, dtype=object)
    return specific.fillna(general), used


def claim_setting(pos: pd.Series) -> pd.Series:
    """Facility or Non-facility, by the place of service (rules.FACILITY_POS; "2" is "02";
    a blank or unknown code is Non-facility, the office rate)."""
    codes, settings = _setting_codes(pos)
    return pd.Series(settings[codes], index=pos.index, dtype=object)


def _setting_codes(pos: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """`claim_setting` as codes into its distinct settings (worked out once per distinct code)."""
    def setting(text: str) -> str:
        text = text.strip()
        return rules.FACILITY if ("0" + text if len(text) == 1 else text) in rules.FACILITY_POS else rules.NON_FACILITY
    return text_codes(pos, lambda distinct: [setting(t) for t in distinct])


def payment_terms(claims: pd.DataFrame, payment_rules: pd.DataFrame | None,
                  payors: tuple[np.ndarray, Any] | None = None) -> pd.DataFrame:
    """Per claim line (index = claims.index): lesser_of (bool), first_pct, second_pct,
    further_pct, npp_pct: the PaymentRules row of the claim's payor (case ignored), a blank
    cell taking the All payors row's, then Medicare's rule (rules.py). Worked out once per
    distinct payor. payors: the claims' payor texts (`texts`) factorised, (codes,
    uniques), when the caller has them: a hundred thousand lines are not hashed again."""
    first, second, further = rules.PROCEDURE_PCTS_DEFAULT
    defaults = {"lesser_of": rules.LESSER_OF_DEFAULT, "first_pct": first, "second_pct": second,
                "further_pct": further, "npp_pct": rules.NPP_PCT_DEFAULT}
    table = payment_rules if payment_rules is not None else pd.DataFrame(columns=["payor", *defaults])
    keys = match_key(table["payor"].fillna("").astype(str)) if len(table) else pd.Series([], dtype=object)
    table = table.assign(_payor=keys.to_numpy()).drop_duplicates("_payor").set_index("_payor")
    everyone = rules.ALL.upper()
    if payors is None:
        codes, payor_keys = _key_codes(pd.Series(texts(claims["payor"]), dtype=object))   # [codes]: match_key
    else:
        codes, payor_keys = payors[0], key_values(payors[1])
    out: dict[str, np.ndarray] = {}      # (the frame built once: a column set at a time costs more)
    for column, default in defaults.items():
        # each payor's cell that holds a value (the table has a row a payor: read in Python)
        lookup = {k: v for k, v in zip(table.index.tolist(), table[column].tolist())
                  if not (v is None or pd.isna(v) or (isinstance(v, str) and v == ""))}
        fallback = lookup.get(everyone, default)
        per_payor: list[Any] = [lookup.get(p) for p in payor_keys]
        per_payor = [fallback if v is None or pd.isna(v) else v for v in per_payor]
        if column == "lesser_of":
            out[column] = np.array([str(v) == "Yes" for v in per_payor], dtype=bool)[codes]
        else:
            out[column] = np.array([float(v) for v in per_payor], dtype="float64")[codes]
    return pd.DataFrame(out, index=claims.index, copy=False)


def _modifier_rules(modifier: pd.Series, modifiers: pd.DataFrame | None,
                    factorised: tuple[np.ndarray, Any] | None = None) -> tuple[pd.Series, pd.Series]:
    """Per line: its modifier's Pricing (Modifiers table, case ignored; "" when not listed)
    and Percent (NaN when blank). factorised: `modifier` as (codes, uniques), numbered
    as pd.factorize numbers them, when the caller has them."""
    if modifiers is None or modifiers.empty:
        return pd.Series("", index=modifier.index, dtype=object), pd.Series(np.nan, index=modifier.index)
    table = modifiers.assign(_m=match_key(modifiers["modifier"].fillna("").astype(str).str.strip()).to_numpy())
    table = table.drop_duplicates("_m").set_index("_m")
    codes, keys = (_key_codes(modifier) if factorised is None    # once per distinct modifier
                   else (factorised[0], key_values(factorised[1])))
    pricing = pd.Series(keys).map(table["pricing"].astype(object).to_dict()).fillna("").astype(object)
    pct = pd.Series(keys).map(table["percent"].astype("float64").to_dict()).astype("float64")
    return (pd.Series(pricing.to_numpy()[codes], index=modifier.index, dtype=object),
            pd.Series(pct.to_numpy()[codes], index=modifier.index, dtype="float64"))


def _procedure_ranks(claims: pd.DataFrame, unit_rate: pd.Series, subject: pd.Series, units: pd.Series) -> pd.Series:
    """The rank of each subject line's first unit among the subject lines of its claim, date
    of service and payor: by unit rate, highest first, then by line number; every unit of a
    line takes a rank (a line of 2 units ranked 1 holds ranks 1 and 2). 0 elsewhere."""
    rank = pd.Series(0, index=claims.index, dtype="int64")
    if not subject.any():
        return rank
    on = subject.to_numpy()
    chosen = claims[on]
    rows = pd.DataFrame({"claim": match_key(chosen["claim_id"].fillna("").astype(str)),
                         "payor": match_key(chosen["payor"].fillna("").astype(str)),
                         "dos": chosen["dos"], "rate": unit_rate[on].astype("float64"),
                         "line": chosen["line"].astype("int64"), "units": units[on].astype("int64")})
    rows = rows.sort_values(["claim", "payor", "dos", "rate", "line"], ascending=[True, True, True, False, True],
                            kind="stable")
    before = rows.groupby(["claim", "payor", "dos"], sort=False)["units"].cumsum() - rows["units"]
    rank[rows.index] = (before + 1).astype("int64")
    return rank


def _pricing_text(parts: list[np.ndarray], labels: list) -> np.ndarray:
    """The pricing words of each line, joined with ", ": parts are per-line codes, labels[i]
    maps part i's codes to its words ("" for none). Built once per distinct combination."""
    combined = np.zeros(len(parts[0]), dtype=np.int64)
    for codes, words in zip(parts, labels):
        combined = combined * (len(words) + 1) + codes
    codes, distinct = pd.factorize(combined)
    texts_ = []
    for value in distinct:
        pieces, rest = [], int(value)
        for words in reversed(labels):
            rest, code = divmod(rest, len(words) + 1)
            pieces.append(words[code])
        pieces.reverse()
        text = pieces[0]
        for piece in pieces[1:]:
            if piece != "":
                text = text + ", " + piece
        texts_.append(text)
    out = np.empty(len(texts_), dtype=object)
    out[:] = texts_
    return out[codes]


# The columns that say how a line's expected allowed was priced (expected_allowed's
# with_pricing): the Claims sheet shows them; no figure reads them.
PRICING_COLUMNS = ("fee_source", "setting", "base_rate", "unit_rate", "multiple_procedure", "procedure_rank",
                   "pricing")


def expected_allowed(claims: pd.DataFrame, contracts: pd.DataFrame, fee_schedule: pd.DataFrame,
                     settings: m.Settings, payment_rules: pd.DataFrame | None = None,
                     modifiers: pd.DataFrame | None = None, terms: pd.DataFrame | None = None,
                     with_pricing: bool = True) -> pd.DataFrame:
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
    terms: `contract_terms` of the claims (with fee_basis and pct_of_medicare), when the
        caller has them.
    with_pricing=False: expected_allowed alone, without the columns that say how it was
        priced (PRICING_COLUMNS), for a caller that shows none of them.

    The arithmetic runs on float64 cents (NaN for a blank), exact for any real amount, as
    the nullable Int64/Float64 operations it stands for; text is built once per distinct
    value."""
    index = claims.index
    if terms is None:
        terms = contract_terms(claims, contracts, ["fee_basis", "pct_of_medicare"])
    basis = texts(terms["fee_basis"])
    of_medicare = basis == PCT_OF_MEDICARE
    # Each text column factorised once: the lookups below match its distinct values.
    payor_codes, payors = pd.factorize(texts(claims["payor"]))
    payor_keys = _Keys.of(np.where(of_medicare, len(payors), payor_codes),      # the Medicare payor's rates
                          np.append(np.asarray(payors, dtype=object), settings.medicare_payor))
    setting_codes, settings_ = _setting_codes(claims["pos"] if "pos" in claims else pd.Series("", index=index))
    setting = pd.Series(settings_[setting_codes], index=index, dtype=object)
    setting_keys = _Keys.of(setting_codes, settings_)
    mod_codes, mods = text_codes(claims["modifier"], lambda distinct: [t.strip().upper() for t in distinct])
    modifier = pd.Series(mods[mod_codes], index=index, dtype=object)
    modifier_keys, cpt_keys = _Keys.of(mod_codes, mods), _Keys(claims["cpt"])
    no_modifier = _Keys.of(np.zeros(len(index), dtype=np.intp), np.array([""], dtype=object))
    base, base_setting = fee_schedule_setting(payor_keys, cpt_keys, no_modifier, claims["dos"],
                                              fee_schedule, setting, setting_keys)
    has_mod = (np.asarray(mods, dtype=object) != "")[mod_codes]      # compared once per distinct modifier
    # the rate of the code with its modifier: read on the lines with one only (a blank
    # modifier's is the base rate, and is not read)
    own = pd.Series(pd.NA, index=index, dtype="Int64")
    own_setting = pd.Series("", index=index, dtype=object)
    if has_mod.any():
        def some(keys: _Keys) -> _Keys:
            return _Keys.of(keys.codes[has_mod], keys.distinct.to_numpy()[:-1])
        found, found_setting = fee_schedule_setting(some(payor_keys), some(cpt_keys), some(modifier_keys),
                                                    claims["dos"][has_mod], fee_schedule, setting[has_mod],
                                                    some(setting_keys))
        own[has_mod], own_setting[has_mod] = found.to_numpy(), found_setting.to_numpy()
    pricing_rule, pct = _modifier_rules(modifier, modifiers, (mod_codes, mods))
    base_f, own_f = _floats(base), _floats(own)
    use_own = has_mod & ~np.isnan(own_f)
    rule = pricing_rule.to_numpy()
    at_base = has_mod & ~use_own & (rule == rules.BASE_RATE)
    pct_base = has_mod & ~use_own & (rule == rules.PCT_OF_BASE)
    rate = np.where(~has_mod | at_base, base_f, np.nan)
    rate = np.where(use_own, own_f, rate)
    rate = np.where(pct_base, _half_up(base_f * pct.to_numpy(dtype="float64")), rate)
    used_setting = np.where(use_own, own_setting.to_numpy(), base_setting.to_numpy())

    unit_rate = np.where(basis == FEE_SCHEDULE, rate, np.nan)
    medicare_share = _half_up(rate * _floats(terms["pct_of_medicare"].astype("Float64")))
    unit_rate = np.where(of_medicare, medicare_share, unit_rate)
    pay = payment_terms(claims, payment_rules, (payor_codes, payors))
    npp = (_per_distinct_text(claims["npp"], lambda t: t == "Yes", bool).to_numpy() if "npp" in claims
           else np.zeros(len(index), dtype=bool))
    unit_rate = np.where(npp, _half_up(unit_rate * pay["npp_pct"].to_numpy()), unit_rate)
    units = claims["units"].astype("Int64").fillna(m.CLAIMS.column("units").default).astype("int64")

    subject_codes = fee_schedule.get("multiple_procedure")
    if subject_codes is not None and len(fee_schedule):
        listed = fee_schedule[(subject_codes.astype(str) == "Yes").to_numpy()]
        subject_key, listed_key = _joint_codes([payor_keys, cpt_keys], [listed["payor"], listed["cpt"].astype(str)])
        subject = pd.Series(np.isin(subject_key, listed_key), index=index)
    else:
        subject = pd.Series(False, index=index)
    priced = ~np.isnan(unit_rate)
    subject &= priced
    rank = _procedure_ranks(claims, _int64(unit_rate, index), subject, units)
    on = subject.to_numpy()
    r, u = rank.to_numpy(), units.to_numpy()
    first = (r == 1).astype("int64")
    second = (r == 2).astype("int64") + ((r == 1) & (u >= 2)).astype("int64")
    further = u - first - second
    share = np.where(on, first * pay["first_pct"].to_numpy() + second * pay["second_pct"].to_numpy()
                     + further * pay["further_pct"].to_numpy(), u.astype("float64"))
    contracted = _half_up(unit_rate * share)
    charge = _floats(claims["charge"].astype("Int64"))
    lesser_of = pay["lesser_of"].to_numpy()
    expected = np.where(lesser_of & (charge < contracted), charge, contracted)
    if not with_pricing:
        return pd.DataFrame({"expected_allowed": _int64(np.where(priced, expected, np.nan), index)}, index=index)

    # The pricing words, per distinct combination of the rules used.
    setting_words = ["", "facility", "non-facility"]
    setting_code = np.select([used_setting == rules.FACILITY, used_setting == rules.NON_FACILITY], [1, 2], 0)
    how = np.select([use_own, at_base, pct_base], [0, 1, 2], 3)
    mod_words = [f"modifier {mod} {word}" for word in ("rate", "at base", "% of base") for mod in mods]
    mod_code = np.where(how < 3, how * len(mods) + mod_codes + 1, 0)
    rank_codes, ranks = pd.factorize(r)
    words = [["Fee schedule", "% of Medicare"], setting_words, [""] + mod_words, ["", "NPP"],
             [""] + [f"procedure {k}" for k in ranks], ["", "billed charge"]]
    parts = [of_medicare.astype(np.int64), setting_code, mod_code, npp.astype(np.int64),
             np.where(on, rank_codes + 1, 0), (lesser_of & (expected == charge)).astype(np.int64)]
    pricing = _pricing_text(parts, words)
    return pd.DataFrame({
        "fee_source": pd.Series(np.where(priced, basis, ""), index=index, dtype=object),
        "setting": setting,
        "base_rate": base.astype("Int64"),
        "unit_rate": _int64(unit_rate, index),
        "multiple_procedure": pd.Series(np.where(on, "Yes", ""), index=index, dtype=object),
        "procedure_rank": rank.astype("Int64").where(subject),
        "pricing": pd.Series(np.where(priced, pricing, ""), index=index, dtype=object),
        "expected_allowed": _int64(np.where(priced, expected, np.nan), index),
    }, index=index)


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
    secondary_row = (_per_distinct_text(claims["claim_type"], lambda t: t in ("Secondary", "Tertiary"), bool)
                     .to_numpy()
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
                  modifiers: pd.DataFrame | None = None, terms: pd.DataFrame | None = None,
                  with_pricing: bool = True) -> pd.DataFrame:
    """`expected_allowed` and `underpayments` side by side, one row per claim line
    (index = claims.index): the one call the recalculation makes. terms: the claims'
    `contract_terms`, when the caller has them; with_pricing: expected_allowed's."""
    expected = expected_allowed(claims, contracts, fee_schedule, settings, payment_rules, modifiers, terms,
                                with_pricing)
    return pd.concat([expected, underpayments(claims, expected, lines, settings)], axis=1)
