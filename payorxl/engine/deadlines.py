"""Deadlines: timely filing, appeals, prompt pay and contract notice.

Every deadline here is a start date plus a window, both read from the claim's contract
(the Contracts row whose payor is the claim's payor): the filing limit runs from the
date of service (or the through date, or the primary payor's remittance), the appeal
window from the denial's remittance date, the prompt-pay window from the filing date,
and the notice period backwards from the contract's term end. Each result is a date, the
days left until it (from the Settings as-of date) and a status a biller can act on.

The workbook computes the same columns with native formulas (EDATE, INDEX/MATCH, IF),
so each rule is kept to what one formula can say. Claim-line results have the index of
the `claims` frame; claims whose payor has no contract get blanks (NaT, <NA>, "") —
validation reports the missing contract.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import model as m, rules
from .lines import _given_codes, _per_distinct_text, key_columns, line_codes, texts

KEY = ["claim_id", "line"]

# Contract vocabulary (model.FILING_UNITS, FILING_CLOCKS, CLAIM_TYPES, FREQUENCIES).
MONTHS = "months"
CLOCK_DOS, CLOCK_THROUGH, CLOCK_PRIMARY, CLOCK_LATER = m.FILING_CLOCKS
LATER_PAYERS = ("Secondary", "Tertiary")   # billed after a primary: the clock may start at its remit
UPHELD = "Upheld"          # the final level of appeal upheld: the denial is final
CORRECTED = "7"  # CLM05-3 frequency 7: replacement of a prior claim
YES = "Yes"

# Statuses, as billing staff read them on the worklist.
FILED_ON_TIME, FILED_LATE = "Filed on time", "Filed late"
APPEALED_ON_TIME, APPEALED_LATE = "Appealed on time", "Appealed late"
PAID_ON_TIME, PAID_LATE, OVERDUE, PENDING = "Paid on time", "Paid late", "Overdue", "Pending"
OPEN, DUE_SOON, MISSED = "Open", "Due soon", "Missed"


# --- shared helpers (reimbursement.py uses them too) ------------------------------------

def match_key(values: pd.Series) -> pd.Series:
    """Text as a lookup key: Excel's MATCH, COUNTIFS and SUMIFS ignore case, and the
    workbook's formulas must find the same rows as the engine, so keys are upper-cased.
    Blanks become "". (Upper-cases each distinct value once: a million claim lines hold
    a few dozen payors.)"""
    codes, keys = _key_codes(values)
    return pd.Series(keys[codes], index=values.index, dtype=object)  # code −1 (blank) picks the ""


def _key_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """`match_key` as codes into its distinct keys: keys[codes] is match_key(values)."""
    codes, distinct = pd.factorize(values)
    return codes, key_values(distinct)


def key_values(distinct) -> np.ndarray:
    """The `match_key` of each of a column's distinct values (pd.factorize's uniques),
    then "" for code −1 (blank): what `_key_codes` gives, for a caller that has factorised
    the column already."""
    texts = np.asarray(distinct, dtype=object)
    if pd.api.types.infer_dtype(texts, skipna=False) == "string":     # text: upper-cased at C speed
        upper = np.empty(len(texts) + 1, dtype=object)
        upper[:-1] = list(map(str.upper, texts))
        upper[-1] = ""
        return upper
    return np.append(pd.Index(texts, dtype=object).astype(str).str.upper().to_numpy(dtype=object), "")


def match_codes(*columns: pd.Series) -> list[np.ndarray]:
    """One integer array per Series, int64 codes of their `match_key`s taken together:
    equal codes, equal keys. (Matching on integers is much faster than on text.)"""
    codes, keys = _key_codes(pd.concat(columns, ignore_index=True))
    codes = pd.factorize(keys)[0].astype(np.int64)[codes]      # keys equal but for case: one code
    return np.split(codes, np.cumsum([len(c) for c in columns])[:-1])


def contract_terms(claims: pd.DataFrame, contracts: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The claim's contract terms, one row per claim line (index = claims.index).

    The contract is the Contracts row whose payor is the claim's payor (case ignored,
    as Excel's MATCH does; if a payor is listed twice, the first row, which is also what
    MATCH finds). A blank optional term takes the model's default (Mailing Days 0,
    Renewal Months 12, ...). `has_contract` is False where no contract matches; the
    terms there are blank.
    """
    table = contracts.assign(_payor=match_key(contracts["payor"]))
    table = table.drop_duplicates("_payor").set_index("_payor")[columns].copy()
    for key in columns:
        default = m.CONTRACTS.column(key).default
        if default is not None:
            # (a row a contract: compared as numpy arrays, pandas' steps cost more than the rows)
            blank = table[key].isna().to_numpy() | (table[key].to_numpy(dtype=object) == "")
            if blank.any():
                table[key] = table[key].mask(blank, default)
    # one hash lookup per distinct payor; position -1 (no contract) gives blank terms
    codes, keys = _key_codes(claims["payor"])
    position = table.index.get_indexer(pd.Index(keys, dtype=object))[codes]
    has_contract = pd.Series(position >= 0, index=claims.index)
    padded = table.reset_index(drop=True).reindex(range(len(table) + 1))  # last row: all blank
    terms = padded.take(np.where(position >= 0, position, len(table)))
    terms.index = claims.index
    terms["has_contract"] = has_contract
    return terms


def round_half_up(values) -> pd.Series:
    """Amounts in (fractional) cents to whole cents, halves away from zero, as Excel's
    ROUND does. Values are first rounded to 6 decimals so that binary noise (2.675
    stored as 2.67499999...) does not turn a half down, which Excel avoids the same way
    by working to 15 significant digits. Returns Int64 (NA stays NA)."""
    values = pd.Series(values, dtype="Float64")
    return _int64(_half_up(_floats(values)), values.index)


def _floats(values) -> np.ndarray:
    """Cents (Int64, Float64 or plain) as float64, NaN for <NA>: exact for any amount of
    cents below 2**53, so arithmetic on them is what the nullable types would do."""
    return pd.Series(values).to_numpy(dtype="float64", na_value=np.nan)


def _half_up(values: np.ndarray) -> np.ndarray:
    """`round_half_up` on float64 (NaN for <NA>), kept as float64 whole numbers."""
    return np.sign(values) * np.floor(np.abs(np.round(values, 6)) + 0.5)


def _int64(values: np.ndarray, index) -> pd.Series:
    """Whole-number floats (NaN for <NA>) as an Int64 Series."""
    missing = np.isnan(values)
    return pd.Series(pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing), index=index)


_DAY = 86_400_000_000_000            # nanoseconds
_NAT = np.iinfo(np.int64).min         # NaT as an integer


def _stamps(dates) -> np.ndarray:
    """Dates (a datetime Series) as int64 nanoseconds, NaT as _NAT."""
    return np.asarray(dates.to_numpy(dtype="datetime64[ns]")).view(np.int64)


def add_days(dates: pd.Series, days) -> pd.Series:
    """dates + days (a number or a Series of Int64 aligned to dates); NaT where either is blank.
    (Whole days, added as nanoseconds: what adding a timedelta of that many days does.)"""
    days = pd.Series(days, index=dates.index, dtype="Int64")
    stamps = _stamps(dates)
    valid = (stamps != _NAT) & days.notna().to_numpy()
    added = stamps + days.to_numpy(dtype="int64", na_value=0) * _DAY
    name = dates.name if dates.name == days.name else None      # as pandas names a sum
    return pd.Series(np.where(valid, added, _NAT).view("datetime64[ns]"), index=dates.index, name=name)


def add_months(dates: pd.Series, months) -> pd.Series:
    """Excel's EDATE(date, months), vectorised: the same day of the month `months` later
    (or earlier), clamped to the last day of that month — 2024-01-31 + 1 month =
    2024-02-29, 2023-01-31 + 1 month = 2023-02-28. NaT where the date or months is blank."""
    months = pd.Series(months, index=dates.index, dtype="Int64")
    stamps = dates.to_numpy(dtype="datetime64[ns]")
    valid = ~np.isnat(stamps) & months.notna().to_numpy()
    stamps = np.where(valid, stamps, np.datetime64("2000-01-01", "ns"))
    first_of_month = stamps.astype("datetime64[M]")
    day_index = (stamps.astype("datetime64[D]") - first_of_month.astype("datetime64[D]")).astype("int64")
    target = first_of_month + months.fillna(0).to_numpy(dtype="int64")
    last_day_index = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype("int64") - 1
    result = target.astype("datetime64[D]") + np.minimum(day_index, last_day_index)
    result = np.where(valid, result.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(result, index=dates.index, dtype="datetime64[ns]")


def days_between(later: pd.Series, earlier) -> pd.Series:
    """later − earlier in whole days (Int64; NA where either is blank). Dates are at
    midnight, so this is Excel's plain subtraction of two dates. (As dividing the
    timedelta by one day and rounding: nanoseconds ÷ a day's, half to even.)"""
    if isinstance(earlier, pd.Series):
        if not earlier.index.equals(later.index):      # aligned by label: as pandas does it
            return _timedelta_days(later, earlier)
        start = _stamps(earlier)
        name = later.name if later.name == earlier.name else None
    elif isinstance(earlier, pd.Timestamp) and earlier.tz is None:
        start = np.full(len(later), earlier.as_unit("ns").value, dtype=np.int64)
        name = later.name
    else:
        return _timedelta_days(later, earlier)
    end = _stamps(later)
    blank = (end == _NAT) | (start == _NAT)
    days = np.round((end - start) / _DAY)
    return pd.Series(pd.arrays.IntegerArray(np.where(blank, 0, days).astype("int64"), blank), index=later.index,
                     name=name)


def _timedelta_days(later, earlier):
    return ((later - earlier) / pd.Timedelta(days=1)).round().astype("Int64")


def choose(conditions: list, choices: list[str], default: str, index) -> pd.Series:
    """The first choice whose condition holds, else `default` (Excel's nested IF), as a
    text Series. Choices are object scalars so the result is built as object directly
    (numpy's own string arrays are slow to turn into a text column)."""
    picked = np.select([np.asarray(c, dtype=bool) for c in conditions],
                       [np.array(c, dtype=object) for c in choices], default=np.array(default, dtype=object))
    return pd.Series(picked, index=index, dtype=object)


def _deadline_status(deadline: pd.Series, days_left: pd.Series, as_of, due_soon_days: int,
                     done: pd.Series, done_date: pd.Series, on_time: str, late: str) -> pd.Series:
    """The status shared by filing and appeal deadlines: blank without a deadline; once
    done (filed, appealed) on time or late by the date it was done; otherwise Missed
    after the deadline, Due soon within `due_soon_days` of it (the deadline day itself
    included), else Open."""
    # On int64 nanoseconds: a comparison with a blank date (NaT) is False, as in pandas.
    due, when = _stamps(deadline), _stamps(pd.Series(done_date, index=deadline.index))
    is_done = pd.Series(done, index=deadline.index).to_numpy(dtype=bool)
    known = due != _NAT
    conditions = [
        ~known,
        is_done & known & (when != _NAT) & (when <= due),
        is_done,
        known & (pd.Timestamp(as_of).as_unit("ns").value > due),
        days_left.fillna(0).astype("int64").to_numpy() <= due_soon_days,
    ]
    return choose(conditions, ["", on_time, late, MISSED, DUE_SOON], OPEN, deadline.index)


def _spread_rows(sub: pd.DataFrame, rows: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """A frame worked out on the lines of `rows` (a mask) as one of every line (`index`),
    each column blank elsewhere as it would be: "" for text, NaT for a date, <NA> for Int64."""
    out: dict[str, pd.Series] = {}
    for c in sub.columns:
        values = sub[c]
        if values.dtype == object:
            text = np.empty(len(rows), dtype=object)
            text.fill("")
            text[rows] = values.to_numpy()
            column = pd.Series(text, index=index, dtype=object)    # object, not inferred as str
        elif values.dtype == "datetime64[ns]":
            stamps = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
            stamps[rows] = values.to_numpy()
            column = pd.Series(stamps, index=index)
        elif isinstance(values.dtype, pd.Int64Dtype):
            data, missing = np.zeros(len(rows), dtype="int64"), np.ones(len(rows), dtype=bool)
            data[rows] = values.to_numpy(dtype="int64", na_value=0)
            missing[rows] = values.isna().to_numpy()
            column = pd.Series(pd.arrays.IntegerArray(data, missing), index=index)
        else:
            raise TypeError(f"{c}: no blank for {values.dtype}")
        out[c] = column
    return pd.DataFrame(out, index=index)


def _as_of(settings: m.Settings) -> pd.Timestamp:
    return pd.Timestamp(settings.as_of).normalize()


# --- timely filing -------------------------------------------------------------------

def filing_clock_start(claims: pd.DataFrame, filing_clock: pd.Series) -> pd.Series:
    """The date the timely-filing clock starts, by the contract's Filing Clock:

    "DOS": the date of service (professional claims; Medicare, 42 CFR 424.44);
    "Through Date": the through/discharge date, or the date of service if blank;
    "Primary Remit": for a secondary claim with a primary remittance date, that date
        (the secondary payor's limit runs from the primary's payment); else the DOS;
    "Later of DOS and Primary Remit": the later of the two (the DOS if no remit date).
    A blank or unknown clock counts as "DOS", the model's default.
    """
    dos, remit, through = _stamps(claims["dos"]), _stamps(claims["primary_remit_date"]), _stamps(claims["through_date"])
    through = np.where(through != _NAT, through, dos)
    later_payer = _per_distinct_text(claims["claim_type"], lambda t: t in LATER_PAYERS, bool).to_numpy()
    from_remit = np.where(later_payer & (remit != _NAT), remit, dos)
    later = np.where((remit != _NAT) & (dos != _NAT) & (remit > dos), remit, dos)   # no remit date: the DOS
    clock = texts(filing_clock)
    start = np.where(clock == CLOCK_THROUGH, through, dos)
    start = np.where(clock == CLOCK_PRIMARY, from_remit, start)
    start = np.where(clock == CLOCK_LATER, later, start)
    return pd.Series(start.view("datetime64[ns]"), index=claims.index, name=claims["dos"].name)


def filing_deadlines(claims: pd.DataFrame, contracts: pd.DataFrame, lines: pd.DataFrame,
                     settings: m.Settings, terms: pd.DataFrame | None = None) -> pd.DataFrame:
    """Timely filing, per claim line (index = claims.index):

    clock_start: see `filing_clock_start`.
    filing_deadline: clock_start + Filing Limit, in days, or in months as Excel's EDATE
        counts them (Medicare: 12 months after the date of service, 42 CFR 424.44(a)).
        A corrected claim (frequency 7) with an Original Remit Date, under a contract
        with Corrected Claim Days: Original Remit Date + Corrected Claim Days instead.
    filing_days_left: filing_deadline − as-of date, in days (negative once passed).
    filing_status: filed (Filed Date present, and not rejected since: `acknowledgements`):
        "Filed on time" if filed on or before the deadline, else "Filed late"; not filed,
        or rejected: "Missed" after the deadline, "Due
        soon" with Filing Due Soon Days or fewer left, else "Open". A line the payor
        denied for timely filing (CARC 29) is "Missed" whatever the dates say.
    Claims whose payor has no contract: NaT, <NA> and "".
    """
    as_of = _as_of(settings)
    if terms is None:
        terms = contract_terms(claims, contracts, ["filing_limit", "filing_unit", "filing_clock", "corrected_days"])
    has_contract = terms["has_contract"]
    clock_start = filing_clock_start(claims, terms["filing_clock"]).where(has_contract)

    in_months = texts(terms["filing_unit"]) == MONTHS
    deadline = add_days(clock_start, terms["filing_limit"])
    if in_months.any():                         # EDATE on the lines whose limit is in months
        stamps = _stamps(deadline).copy()
        stamps[in_months] = _stamps(add_months(clock_start[in_months], terms["filing_limit"][in_months]))
        deadline = pd.Series(stamps.view("datetime64[ns]"), index=deadline.index, name=deadline.name)
    corrected = ((texts(claims["frequency"]) == CORRECTED) & claims["original_remit_date"].notna()
                 & terms["corrected_days"].notna() & has_contract)
    if corrected.any():
        deadline = deadline.where(~corrected, add_days(claims["original_remit_date"], terms["corrected_days"]))

    days_left = days_between(deadline, as_of)
    filed = claims["filed_date"].notna()
    if "rejected" in lines:                     # a rejected claim was never received
        filed &= ~lines["rejected"].astype(bool).to_numpy()
    status = _deadline_status(deadline, days_left, as_of, settings.filing_due_soon_days,
                              filed, claims["filed_date"], FILED_ON_TIME, FILED_LATE)
    carc29 = lines["carc29"].astype(bool) & deadline.notna()
    status = status.mask(carc29, MISSED)
    return pd.DataFrame({
        "clock_start": clock_start,
        "filing_deadline": deadline,
        "filing_days_left": days_left,
        "filing_status": status,
    }, index=claims.index)


def acknowledgements(claims: pd.DataFrame, acks: pd.DataFrame | None) -> pd.DataFrame:
    """What the clearinghouse and payer said of each filed claim line (index =
    claims.index), from the Acknowledgements rows of its claim ID (case ignored) dated on
    or after its Filed Date (an earlier one answered an earlier submission):

    rejected: the latest such answer is a rejection (on the same date, a rejection wins):
        the claim was never received, so it counts as not filed and its clock runs on;
    rejected_on, rejection: that rejection's date and its category:code and message;
    accepted_on: the latest acceptance, when the claim is not rejected.
    A claim filed again after a rejection (a later Filed Date) is judged afresh."""
    out = pd.DataFrame({"rejected": False, "rejected_on": pd.Series(pd.NaT, index=claims.index,
                                                                      dtype="datetime64[ns]"),
                        "rejection": "", "accepted_on": pd.Series(pd.NaT, index=claims.index,
                                                                  dtype="datetime64[ns]")}, index=claims.index)
    if acks is None or acks.empty or claims.empty:
        return out
    a = acks[acks["claim_id"].fillna("").astype(str) != ""]
    # An answer from a payor is about the bill to that payor (a secondary's rejection does not
    # un-file the primary); one naming no payor (a clearinghouse) is about every bill.
    if a.empty:
        return out
    ids = pd.Index(a["claim_id"].astype(str).str.strip().str.upper())
    claim_ids = claims["claim_id"].astype(str).str.strip().str.upper()
    pairs = pd.DataFrame({"_claim": np.arange(len(claims)), "claim_id": claim_ids.to_numpy(),
                          "filed": claims["filed_date"].to_numpy(),
                          "_payor": claims["payor"].astype(str).str.strip().str.upper().to_numpy()})
    acked = pd.DataFrame({"claim_id": ids, "date": a["status_date"].to_numpy(), "result": a["result"].to_numpy(),
                          "payor": a["payor"].fillna("").astype(str).str.strip().str.upper().to_numpy(),
                          "why": (a["category"].fillna("").astype(str) + ":" + a["status_code"].fillna("").astype(str)
                                  + " " + a["message"].fillna("").astype(str)).str.strip(" :").to_numpy()})
    rows = pairs.merge(acked, on="claim_id")
    rows = rows[rows["filed"].notna() & (rows["date"] >= rows["filed"])
                & ((rows["payor"] == "") | (rows["payor"] == rows["_payor"]))]
    rows = rows.sort_values(["_claim", "date"], kind="stable")
    rejections = rows[rows["result"] == "Rejected"].groupby("_claim").tail(1).set_index("_claim")
    acceptances = rows[rows["result"] == "Accepted"].groupby("_claim")["date"].max()
    last_rej = pd.Series(rejections["date"]).reindex(range(len(claims)))
    last_acc = acceptances.reindex(range(len(claims)))
    rejected = (last_rej.notna() & (last_acc.isna() | (last_rej >= last_acc))).to_numpy()
    out["rejected"] = rejected
    out["rejected_on"] = last_rej.where(rejected).to_numpy()
    out["rejection"] = pd.Series(rejections["why"]).reindex(range(len(claims))).where(rejected, "").fillna("") \
        .astype(object).to_numpy()
    out["accepted_on"] = last_acc.where(~rejected).to_numpy()
    return out


# --- appeals -------------------------------------------------------------------------

def first_appeal_dates(claims: pd.DataFrame, appeals: pd.DataFrame, rows=None) -> pd.Series:
    """The earliest Appeal Date filed for each claim line (NaT if none); index = claims.index.
    rows: a mask of the lines wanted (each line is looked up on its own), NaT for the others."""
    if rows is not None:
        rows = np.asarray(rows, dtype=bool)
        out = pd.Series(pd.NaT, index=claims.index, dtype="datetime64[ns]")
        if rows.any():
            out[rows] = first_appeal_dates(claims.loc[rows, key_columns(claims)], appeals).to_numpy()
        return out
    # One integer per (claim ID as matched, line), the same in both frames: grouping and
    # looking up integers is several times faster than merging on the (text, number) pair.
    given = _given_codes(claims, appeals)     # (the claim IDs coded once: lines.with_claim_codes)
    claim_ids, appeal_ids = match_codes(claims["claim_id"], appeals["claim_id"]) if given is None else given
    lines, _ = pd.factorize(pd.concat([claims["line"].astype("Int64"), appeals["line"].astype("Int64")],
                                      ignore_index=True))
    ids = np.concatenate([claim_ids, appeal_ids])
    pair = np.where(lines >= 0, ids * (int(lines.max(initial=0)) + 1) + lines, -1)
    n = len(claims)
    dates = pd.Series(appeals["appeal_date"].astype("datetime64[ns]").to_numpy(), dtype="datetime64[ns]")
    first = dates[pair[n:] >= 0].groupby(pair[n:][pair[n:] >= 0]).min()    # a blank line matches nothing
    found = first.reindex(pair[:n]).to_numpy(dtype="datetime64[ns]")
    return pd.Series(found, index=claims.index, dtype="datetime64[ns]")


def appeal_deadlines(claims: pd.DataFrame, contracts: pd.DataFrame, lines: pd.DataFrame,
                     appeals: pd.DataFrame, settings: m.Settings, terms: pd.DataFrame | None = None,
                     appeal_dates: pd.Series | None = None) -> pd.DataFrame:
    """Appeal windows for denied claim lines, denied in full or in part (``denial_open``;
    index = claims.index):

    appeal_deadline: denial date (the remittance date of the line's most recent
        denial, from `line_summary`) + Mailing Days + Appeal Days. Medicare allows 120
        days from receipt of the initial determination and presumes receipt 5 days
        after the notice date (42 CFR 405.942(a)): Appeal Days 120, Mailing Days 5.
    appeal_days_left: appeal_deadline − as-of date, in days.
    appeal_date: the earliest Appeal Date in the Appeals table for the line.
    appeal_status: appealed: "Appealed on time" if on or before the deadline, else
        "Appealed late"; not appealed: "Missed" after the deadline, "Due soon" with
        Appeal Due Soon Days or fewer left, else "Open".
    appeal_level: the level the line stands at. A line whose highest appeal was upheld
        with levels left (`appeal_levels`: the contract's, else Medicare's five, else two)
        stands at the next level: its deadline is that decision (else its appeal date) +
        Mailing Days + `next_level_days`, its status as for a line not appealed. Upheld at
        the final level: "Upheld".
    Lines not denied now, or whose denial is routed to another action (`denial_actions`), or
    whose payor has no contract: NaT, <NA> and "".
    """
    as_of = _as_of(settings)
    if terms is None:
        terms = contract_terms(claims, contracts, ["appeal_days", "mailing_days", "appeal_levels",
                                                   "next_level_days", "payor_type"])
    denied = lines["denial_open"].astype(bool) & terms["has_contract"]
    if "denial_action" in lines:       # routed to an appeal (or appealed: the practice chose to)
        denied &= lines["denial_action"].isin([rules.APPEAL])   # (isin: pandas' == costs 4 ms at 100,000 lines)
    rows = denied.to_numpy(dtype=bool)
    if not rows.all() and claims.index.is_unique:
        # Worked out on the lines it concerns (a tenth of them, typically); the others blank.
        wanted = ["appeal_days", "mailing_days", "appeal_levels", "next_level_days", "payor_type", "has_contract"]
        sub = appeal_deadlines(claims.loc[rows, ["claim_id", "line"]], contracts,
                               lines.loc[rows, ["denial_open", "denial_date"]], appeals, settings,
                               terms.loc[rows, wanted], None if appeal_dates is None else appeal_dates[rows])
        return _spread_rows(sub, rows, claims.index)
    window = terms["appeal_days"] + terms["mailing_days"]
    deadline = add_days(lines["denial_date"], window).where(denied)
    appeal_date = (first_appeal_dates(claims, appeals, denied) if appeal_dates is None
                   else appeal_dates).where(denied)
    # The level a line stands at: its highest appeal, upheld with levels left -> the next.
    # (Each line's is looked up on its own; only a denied line's is used.)
    top = top_appeals(claims, appeals, denied)
    medicare = _medicare(terms)
    levels = appeal_levels(terms, medicare)
    upheld = top["outcome"].eq("Upheld") & denied
    next_level = upheld & (top["level"] < levels)
    final = upheld & (top["level"] >= levels)
    level = (top["level"] + next_level.astype("int64")).where(top["level"] > 0, 1)
    # from the upheld decision, or the line's latest denial when it came after it
    decided = top["decided"].where(~(top["decided"] < lines["denial_date"]), lines["denial_date"])
    later = add_days(decided, next_level_days(terms, level, medicare) + terms["mailing_days"])
    deadline = deadline.where(~next_level, later.where(next_level))
    days_left = days_between(deadline, as_of)
    status = _deadline_status(deadline, days_left, as_of, settings.appeal_due_soon_days,
                              appeal_date.notna() & ~next_level, appeal_date, APPEALED_ON_TIME, APPEALED_LATE)
    status = status.mask(final, UPHELD)
    return pd.DataFrame({
        "appeal_deadline": deadline,
        "appeal_days_left": days_left,
        "appeal_date": appeal_date.astype("datetime64[ns]"),
        "appeal_level": level.where(denied).astype("Int64"),
        "appeal_status": status,
    }, index=claims.index)


RESUBMITTED, RESUBMITTED_LATE = "Resubmitted", "Resubmitted late"


def resubmission_deadline(claims: pd.DataFrame, contracts: pd.DataFrame, lines: pd.DataFrame,
                          filing_deadline: pd.Series, terms: pd.DataFrame | None = None) -> pd.Series:
    """The last day to resubmit after the line's latest denial: the later of that denial +
    the contract's Corrected Claim Days and the line's filing deadline (a payer's corrected
    claim window never shortens the filing window); the filing deadline where the contract
    has no Corrected Claim Days. NaT without a denial on file."""
    if terms is None:
        terms = contract_terms(claims, contracts, ["corrected_days"])
    corrected = _stamps(add_days(lines["denial_date"], terms["corrected_days"]))
    # the later of the two, a blank one left out (NaT is the smallest integer)
    later = np.maximum(corrected, _stamps(filing_deadline.astype("datetime64[ns]")))
    keep = lines["denial_date"].notna().to_numpy() & terms["has_contract"].to_numpy(dtype=bool)
    return pd.Series(np.where(keep, later, _NAT).view("datetime64[ns]"), index=claims.index)


def denial_actions(claims: pd.DataFrame, lines: pd.DataFrame, resubmit_by: pd.Series,
                   settings: m.Settings) -> pd.DataFrame:
    """The clock of a denial routed to a resubmission (Correct and resubmit, Rebill other
    payer: `lines.denial_action`), per claim line (index = claims.index):

    resubmit_deadline: `resubmit_by` (`resubmission_deadline`): a claim returned as
        unprocessable is a new claim to the payer, due within the filing window (it has no
        appeal rights).
    resubmit_days_left: resubmit_deadline − as-of date.
    resubmit_status: filed again (a Filed Date after the denial): "Resubmitted" on or before
        the deadline, "Resubmitted late" after it; else "Missed" after the deadline, "Due
        soon" within Filing Due Soon Days of it, else "Open".
    Other lines: NaT, <NA> and "".
    """
    as_of = _as_of(settings)
    action = lines["denial_action"] if "denial_action" in lines else pd.Series("", index=claims.index)
    routed = action.isin(rules.RESUBMIT_ACTIONS) & lines["denial_open"].astype(bool)
    rows = routed.to_numpy(dtype=bool)
    if not rows.all() and claims.index.is_unique:
        # Worked out on the lines routed to a resubmission (a few); the others blank.
        wanted = [c for c in ("denial_open", "denial_date", "denial_action") if c in lines]
        sub = denial_actions(claims.loc[rows, ["filed_date"]], lines.loc[rows, wanted], resubmit_by[rows], settings)
        return _spread_rows(sub, rows, claims.index)
    deadline = resubmit_by.where(routed)
    days_left = days_between(deadline, as_of)
    resubmitted = (claims["filed_date"] > lines["denial_date"]).fillna(False)
    status = _deadline_status(deadline, days_left, as_of, settings.filing_due_soon_days,
                              resubmitted, claims["filed_date"], RESUBMITTED, RESUBMITTED_LATE)
    return pd.DataFrame({"resubmit_deadline": deadline.astype("datetime64[ns]"), "resubmit_days_left": days_left,
                         "resubmit_status": status}, index=claims.index)


def dispute_deadline(rows: pd.DataFrame, contracts: pd.DataFrame, start: pd.Series,
                     terms: pd.DataFrame | None = None) -> pd.Series:
    """The last day to dispute what a remittance did (an underpayment, a recoupment, unpaid
    interest), as a denial is appealed: `start` + the row's payor's Appeal Days + Mailing
    Days (index = rows.index); NaT where the payor has no contract."""
    if terms is None:
        terms = contract_terms(rows, contracts, ["appeal_days", "mailing_days"])
    window = terms["appeal_days"].astype("Float64").fillna(0) + terms["mailing_days"].astype("Float64").fillna(0)
    deadline = pd.Series(start.to_numpy(), index=rows.index) + pd.to_timedelta(window.astype(float), unit="D")
    return deadline.where(terms["has_contract"])


def _medicare(terms: pd.DataFrame) -> np.ndarray:
    """The lines whose contract's Payor Type is Medicare or Medicare Advantage."""
    return _per_distinct_text(terms["payor_type"], lambda t: t in rules.MEDICARE_TYPES, bool).to_numpy()


def appeal_levels(terms: pd.DataFrame, medicare: np.ndarray | None = None) -> pd.Series:
    """Levels of appeal a contract allows: its Appeal Levels, else 5 for Medicare and
    Medicare Advantage, 2 otherwise (rules.py). medicare: `_medicare(terms)`, when the
    caller has it."""
    medicare = _medicare(terms) if medicare is None else medicare
    default = pd.Series(np.where(medicare, rules.MEDICARE_LEVELS, rules.DEFAULT_LEVELS), index=terms.index)
    return terms["appeal_levels"].astype("Float64").fillna(default.astype("Float64")).astype("int64")


def next_level_days(terms: pd.DataFrame, level: pd.Series, medicare: np.ndarray | None = None) -> pd.Series:
    """Days to appeal at `level` (2 and up) from the previous level's decision: the
    contract's Next Level Days, else Medicare's schedule or 60 (rules.py). medicare:
    `_medicare(terms)`, when the caller has it."""
    medicare = _medicare(terms) if medicare is None else medicare
    levels = pd.Series(level).to_numpy(dtype="float64", na_value=np.nan)
    schedule = np.full(len(levels), float(rules.DEFAULT_NEXT_LEVEL_DAYS))
    for at, days in rules.MEDICARE_NEXT_LEVEL_DAYS.items():    # a blank level: the default
        schedule[levels == at] = days
    default = np.where(medicare, schedule, rules.DEFAULT_NEXT_LEVEL_DAYS)
    return terms["next_level_days"].astype("Float64").fillna(pd.Series(default, index=terms.index, dtype="Float64"))


def top_appeals(claims: pd.DataFrame, appeals: pd.DataFrame, rows=None) -> pd.DataFrame:
    """Per claim line (index = claims.index): level (the highest Level appealed, a blank
    level being 1; 0 when none), its outcome and decided (its Decision Date, else its
    Appeal Date). rows: a mask of the lines wanted; the others as with no appeal."""
    out = pd.DataFrame({"level": 0, "outcome": "", "decided": pd.Series(pd.NaT, index=claims.index,
                                                                      dtype="datetime64[ns]")}, index=claims.index)
    if appeals is None or appeals.empty or claims.empty:
        return out
    wanted = np.ones(len(claims), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    if not wanted.all():
        if wanted.any():
            some = top_appeals(claims.loc[wanted, key_columns(claims)], appeals)   # the key columns alone
            return _top_frame(claims.index, wanted, some["level"].to_numpy(dtype="int64"),
                              some["outcome"].to_numpy(dtype=object), some["decided"].to_numpy(dtype="datetime64[ns]"))
        return out
    claim_key, appeal_key = line_codes(claims, appeals)
    a = pd.DataFrame({"_key": appeal_key, "level": appeals["level"].fillna(1).astype("int64").to_numpy(),
                      "outcome": appeals["outcome"].fillna("").astype(str).to_numpy(),
                      "decided": appeals["decision_date"].fillna(appeals["appeal_date"]).to_numpy()})
    a = a.sort_values("level", kind="stable").drop_duplicates("_key", keep="last").set_index("_key")
    found = a.index.get_indexer(pd.Index(claim_key))
    has = found >= 0
    return _top_frame(claims.index, has, a["level"].to_numpy(dtype="int64")[found[has]],
                      a["outcome"].to_numpy(dtype=object)[found[has]],
                      a["decided"].to_numpy(dtype="datetime64[ns]")[found[has]])


def _top_frame(index: pd.Index, rows: np.ndarray, level, outcome, decided) -> pd.DataFrame:
    """`top_appeals`' frame: the given level, outcome and decided on `rows` (a mask), no
    appeal (0, "", NaT) on the others."""
    levels = np.zeros(len(index), dtype="int64")
    outcomes = np.full(len(index), "", dtype=object)
    dates = np.full(len(index), np.datetime64("NaT"), dtype="datetime64[ns]")
    levels[rows], outcomes[rows], dates[rows] = level, outcome, decided
    return pd.DataFrame({"level": levels, "outcome": outcomes, "decided": dates}, index=index)


# --- prompt pay ----------------------------------------------------------------------

def prompt_pay(claims: pd.DataFrame, contracts: pd.DataFrame, lines: pd.DataFrame,
               expected_allowed: pd.Series | None, settings: m.Settings,
               terms: pd.DataFrame | None = None) -> pd.DataFrame:
    """Prompt payment of clean claims (state prompt-pay statutes or the contract), per
    claim line (index = claims.index), for lines filed (Filed Date present, not rejected
    since), not denied, whose contract has Prompt Pay Days:

    prompt_pay_due: Filed Date + Prompt Pay Days.
    prompt_pay_status: processed — first remittance on file with a payment or a
        patient responsibility (a line applied in full to the deductible is processed,
        not unpaid) — on or before the due date: "Paid on time"; after it: "Paid late";
        not processed: "Overdue" once the as-of date is past the due date, else "Pending".
    prompt_pay_days_late: days from the due date to the first remittance ("Paid late")
        or to the as-of date ("Overdue").
    prompt_pay_interest: simple interest, amount × Prompt Pay Interest (annual) ×
        days late / 365, rounded half up to the cent; the amount is the line's net paid
        for "Paid late" and, for "Overdue", its expected allowed (the charge where
        there is none).
    Other lines: NaT, <NA> and "".
    """
    as_of = _as_of(settings)
    if terms is None:
        terms = contract_terms(claims, contracts, ["prompt_pay_days", "prompt_pay_interest"])
    eligible = (claims["filed_date"].notna() & terms["prompt_pay_days"].notna()
                & ~lines["denied"].astype(bool) & terms["has_contract"])
    if "rejected" in lines:           # never received: no prompt-pay clock
        eligible &= ~lines["rejected"].astype(bool)
    due = add_days(claims["filed_date"], terms["prompt_pay_days"]).where(eligible)

    remit_date = lines["first_remit_date"]
    processed = remit_date.notna() & ((lines["paid"] > 0) | (lines["patient_resp"] > 0))
    conditions = [np.asarray(c, dtype=bool) for c in (~eligible, processed & (remit_date <= due), processed,
                                                       as_of > due)]
    status = choose(conditions, ["", PAID_ON_TIME, PAID_LATE, OVERDUE], PENDING, claims.index)

    # the status each line took, read off the conditions (the first that holds picks it)
    before = conditions[0] | conditions[1]
    paid_late = pd.Series(~before & conditions[2], index=claims.index)
    overdue = pd.Series(~before & ~conditions[2] & conditions[3], index=claims.index)
    days_late = days_between(remit_date, due).where(paid_late, days_between(pd.Series(as_of, index=claims.index), due))
    days_late = days_late.where(paid_late | overdue)

    # On float64 cents (NaN for a blank), exact for any real amount: the arithmetic the
    # nullable Int64/Float64 columns would do, without their masks at every step.
    unpaid_amount = _floats(claims["charge"])
    if expected_allowed is not None:
        expected = _floats(pd.Series(expected_allowed, index=claims.index))
        unpaid_amount = np.where(np.isnan(expected), unpaid_amount, expected)
    amount = np.where(paid_late.to_numpy(), _floats(lines["paid"]), unpaid_amount)
    rate = _floats(terms["prompt_pay_interest"])
    rate = np.where(np.isnan(rate), 0.0, rate)
    interest = _half_up(amount * rate * _floats(days_late) / 365)
    return pd.DataFrame({
        "prompt_pay_due": due,
        "prompt_pay_status": status,
        "prompt_pay_days_late": days_late,
        "prompt_pay_interest": _int64(np.where((paid_late | overdue).to_numpy(), interest, np.nan), claims.index),
    }, index=claims.index)


# --- contract notice -----------------------------------------------------------------

def current_term_end(term_end: pd.Series, renews: pd.Series, renewal_months: pd.Series, as_of) -> pd.Series:
    """The end of the term in force on the as-of date: for an auto-renewing contract
    whose Term End has passed, EDATE(Term End, k × Renewal Months) with k the fewest
    renewals that bring it on or after the as-of date; otherwise the Term End itself.
    Renewals count from the Term End, not from the last renewal, so a Jan 31 term with
    monthly renewals ends on Feb 29, Mar 31, Apr 30..., not on a drifting 29th."""
    as_of = pd.Timestamp(as_of)
    step = renewal_months.astype("Int64").fillna(12).clip(lower=1).to_numpy(dtype="int64")
    months_behind = (as_of.year - term_end.dt.year) * 12 + (as_of.month - term_end.dt.month)
    months_behind = months_behind.fillna(0).astype("int64").clip(lower=0).to_numpy()
    # EDATE(term_end, j) >= as_of for every j > months_behind (a later month), and for
    # j == months_behind when the day allows, so k is ceil(months_behind/step), or one more.
    k = -(-months_behind // step)
    rolled = renews.to_numpy(dtype=bool) & (term_end < as_of).to_numpy()
    k = np.where(rolled, k, 0)
    end = add_months(term_end, pd.Series(k * step, index=term_end.index))
    short = (end < as_of).to_numpy() & rolled
    return end.where(~short, add_months(term_end, pd.Series((k + 1) * step, index=term_end.index)))


def contract_notices(contracts: pd.DataFrame, settings: m.Settings) -> pd.DataFrame:
    """Renewal and notice calendar, per contract (index = contracts.index):

    renews: Auto Renew is "Yes".
    current_term_end: see `current_term_end` (a contract that does not renew keeps its
        Term End, even once passed).
    notice_deadline: current_term_end − Notice Days: the last day to give notice of
        renegotiation or termination before the term renews or ends.
    notice_days_left: notice_deadline − as-of date, in days.
    notice_status: "" without a Term End; "Missed" once the as-of date is past the
        notice deadline (the term will renew or end as written); "Due soon" with
        Notice Due Soon Days or fewer left; else "Open".
    """
    as_of = _as_of(settings)
    renews = contracts["auto_renew"].astype(str) == YES
    notice_days = contracts["notice_days"].astype("Int64").fillna(m.CONTRACTS.column("notice_days").default)
    term_end = current_term_end(contracts["term_end"].astype("datetime64[ns]"), renews,
                                contracts["renewal_months"], as_of)
    notice_deadline = add_days(term_end, -notice_days)
    days_left = days_between(notice_deadline, as_of)
    conditions = [notice_deadline.isna(), as_of > notice_deadline,
                  days_left.fillna(0).astype("int64") <= settings.notice_due_soon_days]
    status = choose(conditions, ["", MISSED, DUE_SOON], OPEN, contracts.index)
    return pd.DataFrame({
        "renews": renews.astype(bool),
        "current_term_end": term_end,
        "notice_deadline": notice_deadline,
        "notice_days_left": days_left,
        "notice_status": status,
    }, index=contracts.index)


# --- all claim-line deadlines --------------------------------------------------------

# Every contract term a claim line's deadlines and price read (claim_deadlines, reimbursement).
LINE_TERMS = ["filing_limit", "filing_unit", "filing_clock", "corrected_days", "appeal_days", "mailing_days",
              "appeal_levels", "next_level_days", "payor_type", "prompt_pay_days", "prompt_pay_interest",
              "fee_basis", "pct_of_medicare"]


def filing_and_resubmission(claims: pd.DataFrame, contracts: pd.DataFrame, lines: pd.DataFrame,
                            settings: m.Settings, terms: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """`filing_deadlines`, with a line filed again after a denial routed to a resubmission
    judged by the resubmission's window, not the original filing deadline (which it may
    well be past); and that window (`resubmission_deadline`). The filing part of
    `claim_deadlines`, which a PX_FILING_DEADLINE formula asks for alone."""
    filing = filing_deadlines(claims, contracts, lines, settings, terms)
    routed = lines.get("denial_route_action", pd.Series("", index=claims.index)).isin(rules.RESUBMIT_ACTIONS)
    again = routed & (claims["filed_date"] > lines["denial_date"]).fillna(False) \
        & filing["filing_status"].isin([FILED_ON_TIME, FILED_LATE])
    by = resubmission_deadline(claims, contracts, lines, filing["filing_deadline"], terms)
    if again.any():
        filing.loc[again, "filing_status"] = np.where(claims.loc[again, "filed_date"] <= by[again],
                                                      FILED_ON_TIME, FILED_LATE)
    return filing, by


def claim_deadlines(claims: pd.DataFrame, contracts: pd.DataFrame, lines: pd.DataFrame,
                    appeals: pd.DataFrame, expected_allowed: pd.Series | None,
                    settings: m.Settings, terms: pd.DataFrame | None = None,
                    appeal_dates: pd.Series | None = None, with_prompt_pay: bool = True) -> pd.DataFrame:
    """`filing_deadlines`, `appeal_deadlines` and `prompt_pay` side by side, one row per
    claim line (index = claims.index): the one call the recalculation makes. terms: the
    claims' `contract_terms` (LINE_TERMS) and appeal_dates their `first_appeal_dates`,
    when the caller has them already. with_prompt_pay=False: without `prompt_pay`'s
    columns, for a caller that reads none of them (a PX_SCORECARD formula)."""
    if terms is None:
        terms = contract_terms(claims, contracts, LINE_TERMS)
    filing, by = filing_and_resubmission(claims, contracts, lines, settings, terms)
    return pd.concat([
        filing,
        appeal_deadlines(claims, contracts, lines, appeals, settings, terms, appeal_dates),
        denial_actions(claims, lines, by, settings),
        *([prompt_pay(claims, contracts, lines, expected_allowed, settings, terms)] if with_prompt_pay else []),
    ], axis=1)
