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
from ..conversion import all_equal, filled

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
    codes, distinct = factorized_texts(payments["payer_seq"].to_numpy(dtype=object))   # read once per value
    seq = pd.to_numeric(pd.Series(distinct, dtype=object), errors="coerce")
    return np.append(seq.fillna(1).astype("int64").to_numpy(), 1)[codes]


def adjustment_kinds(adjustments: pd.DataFrame) -> pd.Series:
    """What each Adjustments row does (rules.adjustment_kind, the "Applies To" column),
    worked out once per distinct (group, reason) pair."""
    if adjustments.empty:
        return pd.Series([], index=adjustments.index, dtype=object)
    groups, group_texts = pd.factorize(texts(adjustments["group_code"]))
    reasons, reason_texts = pd.factorize(texts(adjustments["reason"]))
    # each (group, reason) pair as one integer: the pairs found, each worked out once
    codes, pairs = pd.factorize(groups.astype(np.int64) * (len(reason_texts) + 1) + reasons)
    kinds = np.array([rules.adjustment_kind(group_texts[p // (len(reason_texts) + 1)],
                                            reason_texts[p % (len(reason_texts) + 1)]) for p in pairs] + [""],
                     dtype=object)
    return pd.Series(kinds[codes], index=adjustments.index, dtype=object)


# The engine's own column: each row's claim as an integer, the claim ID as lines are
# matched (`claim_codes`), in one code space over every frame of one calculation that
# names claim lines (`with_claim_codes`). Matching and counting claims then reads these
# integers instead of hashing 100,000 claim IDs again at every step.
CLAIM_CODE = "_claim_code"
CLAIM_TABLES = ("Claims", "Payments", "Appeals", "Underpayments")


def with_claim_codes(frames: dict[str, pd.DataFrame], keep: bool = False) -> dict[str, pd.DataFrame]:
    """The frames, those of CLAIM_TABLES with a CLAIM_CODE column: every claim ID coded
    once, over all of them together, so that equal codes are equal IDs as matched (case
    and surrounding blanks ignored, a missing ID as "") in any two of them. Codes a frame
    had already are replaced, unless keep and every one of those frames has them (frames
    coded by this function, then cut down to some of their rows: pipeline.evaluate codes
    the tables once for the checks and the engine)."""
    names = [n for n in CLAIM_TABLES if frames.get(n) is not None and "claim_id" in frames[n]]
    if not names or (keep and all(CLAIM_CODE in frames[n] for n in names)):
        return frames
    codes = _joint_claim_codes(*(frames[n] for n in names))
    out, start = dict(frames), 0
    for n in names:
        size = len(frames[n])
        out[n] = frames[n].assign(**{CLAIM_CODE: codes[start:start + size]})
        start += size
    return out


def _joint_claim_codes(*frames: pd.DataFrame) -> np.ndarray:
    """`claim_codes` of the frames' claim IDs, one after another, in one code space over
    them all (int64)."""
    ids = pd.Series(np.concatenate([f["claim_id"].to_numpy(dtype=object) for f in frames]), dtype=object)
    return text_codes(ids, _match_texts)[0].astype(np.int64)


def _given_codes(*frames: pd.DataFrame) -> list[np.ndarray] | None:
    """Each frame's CLAIM_CODE column, when every one has it (with_claim_codes); else None."""
    if all(CLAIM_CODE in f for f in frames):
        return [f[CLAIM_CODE].to_numpy(dtype=np.int64) for f in frames]
    return None


def frame_claim_codes(frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """`claim_codes` of the frame's claim IDs (codes 0..n-1 in order of first appearance),
    from its CLAIM_CODE column when it has one: integers, not 100,000 texts, hashed.
    rows: the positions (or a mask) of the rows wanted, when not all: only those coded."""
    given = _given_codes(frame)
    if given is None:
        ids = frame["claim_id"]
        return claim_codes(ids if rows is None else ids.iloc[rows])
    return pd.factorize(given[0] if rows is None else given[0][rows])[0]


def key_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a claim line is matched on: claim ID and line, and the claim codes when
    the frame has them (with_claim_codes), for a lookup on some of its rows."""
    return ["claim_id", "line"] + ([CLAIM_CODE] if CLAIM_CODE in frame else [])


def service_codes(claims: pd.DataFrame) -> np.ndarray:
    """One integer per claim line (claim ID, case ignored as Excel's COUNTIFS does, and line
    number), shared by every Claims row of that line."""
    given = _given_codes(claims)
    ids = text_codes(claims["claim_id"], _match_texts)[0] if given is None else given[0]
    numbers = pd.factorize(claims["line"].astype("Int64").fillna(0).astype("int64").to_numpy())[0]
    # the (ID, line) pairs numbered in order of first appearance, as factorising the pairs does
    return pd.factorize(ids * (int(numbers.max(initial=0)) + 1) + numbers)[0]


def claim_roles(claims: pd.DataFrame) -> pd.DataFrame:
    """Per Claims row (same index): role (LINE, NEXT_PAYER or VOID; see above) and, on a
    LINE row, next_payer_seq: the highest payer sequence billed for the line (2 for a
    Secondary row, 3 for a Tertiary one, its own included; 0 when none): a payer that may
    still have to adjudicate before the patient owes anything; is_line: role is LINE (a
    mask, without comparing 100,000 texts: 3 ms).

    A line is void when any of its rows has frequency 8. Otherwise the row of its first
    payer (Primary, else Secondary, else Tertiary; Claim Type blank is Primary) is the line,
    and a later payer's row is its next payer."""
    if claims.empty:
        return pd.DataFrame({"role": pd.Series([], dtype=object), "next_payer_seq": pd.Series([], dtype="int64"),
                             "is_line": pd.Series([], dtype=bool)}, index=claims.index)
    voided = (_per_distinct_text(claims["frequency"], lambda v: v.strip() == VOID_FREQUENCY, bool).to_numpy()
              if "frequency" in claims else np.zeros(len(claims), dtype=bool))
    seq = own_payer_seqs(claims, strip=True)
    if not voided.any() and (seq == 1).all():    # every row the first payer's, none void: each is its line
        return pd.DataFrame({"role": pd.Series(filled(len(claims), LINE), index=claims.index, dtype=object),
                             "next_payer_seq": np.zeros(len(claims), dtype="int64"),
                             "is_line": np.ones(len(claims), dtype=bool)}, index=claims.index)
    service = service_codes(claims)
    n = int(service.max()) + 1
    void_line = np.bincount(service, weights=voided, minlength=n)[service] > 0
    first_payer = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_payer, service, seq)
    is_line = ~void_line & (seq == first_payer[service])
    role = np.where(void_line, VOID, np.where(is_line, LINE, NEXT_PAYER)).astype(object)
    next_seq = np.zeros(n, dtype="int64")
    np.maximum.at(next_seq, service, np.where(seq > 1, seq, 0))
    next_seq = next_seq[service]
    return pd.DataFrame({"role": pd.Series(role, index=claims.index, dtype=object),   # (object: not inferred as str)
                         "next_payer_seq": np.where(is_line, next_seq, 0), "is_line": is_line}, index=claims.index)


def line_codes(claims: pd.DataFrame, payments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One integer per (claim ID, line), the same in both frames: claim IDs factorised
    once over both, then combined with the line number. Grouping and matching on it is
    several times faster than on the (text, number) pair."""
    # Case and surrounding blanks ignored, as Excel's SUMIFS and COUNTIFS match them.
    given = _given_codes(claims, payments)   # (coded once for the whole calculation: with_claim_codes)
    codes = _joint_claim_codes(claims, payments) if given is None else np.concatenate(given)
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
    pay = payments
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

    n_pay = len(pay)
    money = {c: (pay[c].fillna(0).astype("int64").to_numpy() if c in pay else np.zeros(n_pay, dtype="int64"))
             for c in MONEY_SUMS if c != "allowed"}
    allowed = pay["allowed"].fillna(pd.Series(money["paid"] + money["patient_resp"] + money["sequestration"],
                                              index=pay.index)).astype("int64").to_numpy()
    status = texts(pay["claim_status"])
    # denial_rows, on the arrays at hand
    is_denial = (((status == DENIED_STATUS) | (money["denied_amount"] > 0)) & (status != REVERSAL_STATUS))
    seq = payer_seqs(pay)
    # Group on one integer per claim line (factorised once) rather than on the
    # (claim ID, line) pair, and aggregate each column with numpy over the rows sorted by
    # line: one pass per figure, no frame built per step.
    claim_key, pay_key = line_codes(claims, pay)
    group, keys = pd.factorize(pay_key)
    n_groups = len(keys)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]]) if n_pay else np.zeros(0, np.intp)

    def total(values) -> np.ndarray:          # per line: the sum over its rows
        return np.add.reduceat(np.asarray(values)[order], starts)

    def most(values) -> np.ndarray:           # per line: the largest value over its rows
        return np.maximum.reduceat(np.asarray(values)[order], starts)

    nat = np.iinfo(np.int64).min              # NaT as an integer: below every date
    remit = pay["remit_date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    dated = remit != nat
    first_remit = np.minimum.reduceat(np.where(dated, remit, np.iinfo(np.int64).max)[order], starts)
    first_remit = np.where(first_remit == np.iinfo(np.int64).max, nat, first_remit)   # all undated: NaT
    last_remit = most(remit)                  # NaT is the smallest, so a date wins over it

    # Each line's first Claims row (-1 for a line no Claims row has): its payer sequence
    # and next payer are the line's.
    found = pd.Index(keys).get_indexer(claim_key)
    has = found >= 0
    first_claim = np.full(n_groups + 1, len(claims), dtype=np.int64)
    np.minimum.at(first_claim, found[has], np.flatnonzero(has))   # the first row wins
    first_claim[first_claim == len(claims)] = -1                  # [-1]: the rows of no line
    claim_of = first_claim[group]
    # (a payment of no line, claim_of -1, takes the appended default: payer 1, no next payer)
    is_own = np.append(own_payer_seqs(claims), 1)[claim_of] == seq
    reversal = status == REVERSAL_STATUS
    n_remits = np.bincount(group, minlength=n_groups)
    reversals = total(reversal.astype("int64"))
    # The last payer: its patient responsibility is the patient's, unless it forwarded
    # the claim to a next payer (CLP02 19/20/21), which then owes it.
    last_seq = most(seq)
    last = last_seq[group] == seq
    # ... as its latest adjudication says (a forwarded one reversed and reissued is not).
    adjudication = np.where(last & ~reversal, remit, nat)
    latest = most(adjudication)[group]
    forwarded_row = (adjudication != nat) & (adjudication == latest) & np.isin(status, rules.FORWARDED)
    forwarded = total(forwarded_row.astype("int64")) > 0
    next_seq = (np.append(claims["next_payer_seq"].fillna(0).to_numpy(dtype="int64"), 0)[first_claim[:n_groups]]
                if "next_payer_seq" in claims else np.zeros(n_groups, dtype="int64"))
    waiting = forwarded | (next_seq > last_seq)
    patient_share = np.where(waiting, 0, total(np.where(last, money["patient_resp"], 0)))
    # The first adjudication: the rows on the line's earliest remittance date.
    first = dated & (remit == first_remit[group])
    first_paid = total(np.where(first, money["paid"], 0))
    denied_first_pass = total((first & is_denial).astype("int64")) > 0
    # The latest denial: the last denial row by remittance date (undated last), then by row.
    denial_order = np.where(is_denial, np.where(dated, remit, np.iinfo(np.int64).max), nat)
    ranked = np.lexsort((np.arange(n_pay), denial_order, group))
    last_row = ranked[np.r_[starts[1:], n_pay] - 1] if n_pay else np.zeros(0, np.intp)   # per line
    has_denial = is_denial[last_row]
    paying = (money["paid"] > 0) & ~reversal
    last_paid = most(np.where(paying, remit, nat))
    # Any remittance row citing CARC 29 ("time limit for filing has expired") marks the
    # line's filing deadline as missed: the payor's word settles it, whatever the dates say.
    # (The text compared once per distinct code; a line is flagged when any of its rows is.)
    # (each distinct CARC text, a blank one as "", read once here and for the denial's CARC below)
    carc_codes, carcs = pd.factorize(texts(pay["carc"]))
    cites29 = np.array([c.strip().upper() in rules.TIMELY_FILING_FORMS for c in carcs], dtype=bool)[carc_codes]
    carc29 = total(cites29.astype("int64")) > 0

    # Each claim line's figures: its payments' (found), or none.
    at = np.where(has, found, 0)

    def spread(values, missing, dtype=None) -> np.ndarray:     # per line value -> per claim line
        values = np.asarray(values)
        taken = values[at] if len(values) else np.empty(len(at), dtype=values.dtype)
        return np.where(has, taken, missing).astype(dtype or values.dtype)

    def spread_dates(values) -> np.ndarray:
        return spread(values, nat, "int64").view("datetime64[ns]")

    line_denied = spread(has_denial, False, bool)

    def spread_text(values) -> pd.Series:     # the latest denial row's value: "" where none
        cells = values.to_numpy(dtype=object)
        if not (len(cells) and pd.api.types.infer_dtype(cells, skipna=False) == "string"):
            cells = np.where(pd.isna(cells), "", cells)        # a blank is "", other values as they are
        picked = np.append(cells[last_row], "")                # [-1]: ""
        return pd.Series(picked[np.where(line_denied, at, -1)], index=out.index, dtype=object)

    # Every column worked out as an array first and the frame built once: a column set on a
    # frame of 100,000 rows one at a time costs half a millisecond each.
    cols: dict[str, np.ndarray | pd.Series] = {c: spread(total(money[c]), 0, "int64")
                            for c in ("paid", "patient_resp", "contractual_adj", "sequestration", "denied_amount",
                                      "interest")}
    cols["allowed"] = spread(total(np.where(is_own, allowed, 0)), 0, "int64")
    cols["received"] = spread(total(np.where(is_own, money["paid"] + money["patient_resp"]
                                             + money["sequestration"], 0)), 0, "int64")
    cols["n_remits"] = spread(n_remits, 0, "int64")
    cols["first_remit_date"] = spread_dates(first_remit)
    cols["last_remit_date"] = spread_dates(last_remit)
    cols["awaiting_reprocessing"] = spread((reversals > 0) & (reversals >= n_remits - reversals), False, bool)
    cols["last_payer_seq"] = spread(last_seq, 1, "int64")
    cols["forwarded"] = spread(forwarded, False, bool)
    cols["patient_share"] = spread(patient_share, 0, "int64")
    cols["first_paid"] = spread(first_paid, 0, "int64")
    cols["denied_first_pass"] = spread(denied_first_pass, False, bool)
    denial_date = spread(np.where(has_denial, remit[last_row], nat), nat, "int64")
    cols["denial_date"] = denial_date.view("datetime64[ns]")
    # the CARC as the CARC list spells it, read once per distinct code ("" where no denial)
    read = np.array([rules.reason_code(c) for c in carcs] + [rules.reason_code("")], dtype=object)
    cols["denial_carc"] = pd.Series(read[np.where(line_denied, spread(carc_codes[last_row], -1, "int64"), -1)],
                                    index=out.index, dtype=object)
    cols["denial_group"] = spread_text(pay["group_code"])
    cols["denial_rarc"] = (spread_text(pay["rarc"]) if "rarc" in pay
                           else pd.Series("", index=out.index, dtype=object))
    cols["carc29"] = spread(carc29, False, bool)
    cols["adjudicated"] = cols["n_remits"] > 0
    on_file = denial_date != nat
    cols["denied"] = on_file & (cols["paid"] <= 0)
    # Paid in part with the rest denied: the latest denial is not followed by a payment (a
    # denial paid on resubmission or appeal is closed, though its denied amount stays).
    # (dates as integers, NaT the least: a denial of no date is never on or after a payment)
    last_paid_date = spread(last_paid, nat, "int64")
    not_paid_since = (last_paid_date == nat) | (on_file & (denial_date >= last_paid_date))
    cols["partial_denial"] = on_file & (cols["paid"] > 0) & (cols["denied_amount"] > 0) & not_paid_since
    cols["denial_open"] = cols["denied"] | cols["partial_denial"]
    return pd.concat([out, pd.DataFrame(cols, index=out.index, copy=False)], axis=1)


def distinct_counts(group: np.ndarray, n_groups: int, items: np.ndarray) -> np.ndarray:
    """How many distinct items each group holds (groupby(group)[items].nunique() on
    integers): group codes 0..n_groups-1, items any integer codes (−1 is one value too)."""
    items = np.asarray(items, dtype=np.int64) + 1                 # 0 and up
    width = int(items.max(initial=0)) + 1
    # each (group, item) once, by hashing (pd.unique: O(n); np.unique sorts, 12x dearer at 100,000)
    pairs = pd.unique(np.asarray(group, dtype=np.int64) * width + items)
    return np.bincount(pairs // width, minlength=n_groups).astype("int64")


def _match_texts(texts) -> list[str]:
    """Claim IDs as matched: case and surrounding blanks ignored (str methods mapped at C
    speed). IDs upper case already (the usual) are the texts themselves: no new str each."""
    stripped = list(map(str.strip, texts))
    return stripped if upper_already(stripped) else list(map(str.upper, stripped))


def upper_already(texts: list[str]) -> bool:
    """Whether str.upper leaves every text as it is (claim IDs, CPT codes: capitals and
    digits), found in one pass over the texts joined, without a new upper-case str for
    each: 55,000 claim IDs scattered in memory cost 13 ms one by one. str.upper maps each
    character on its own, no character's upper case begins with itself unless it is
    itself, and none is NUL (tests/engine/test_codes.py checks both over every character),
    so the joined texts equal their upper case exactly when each text does."""
    joined = "\x00".join(texts)
    return joined.upper() == joined


def texts(values: pd.Series) -> np.ndarray:
    """The values as ``values.fillna("").astype(str)`` gives them, as an object array of
    str: the column itself when it holds only text (as conversion leaves every text
    column), without building pandas' string array."""
    a = values.to_numpy(dtype=object)
    if len(a) and pd.api.types.infer_dtype(a, skipna=False) == "string":
        return a
    return values.fillna("").astype(str).to_numpy(dtype=object)


def str_values(values: pd.Series) -> np.ndarray:
    """``values.astype(str).to_numpy()`` (a missing value stays missing): the column's own
    array when it holds only text, without building pandas' string array."""
    a = values.to_numpy(dtype=object)
    if len(a) and pd.api.types.infer_dtype(a, skipna=False) == "string":
        return a
    return values.astype(str).to_numpy()


def factorized_texts(texts_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize of an object array (codes, and the distinct values as an object array;
    a missing value coded -1). A column of one text throughout, one object (as conversion leaves the claim
    type, frequency or place of service a practice bills alone), is coded at once: one
    comparison a cell, each an identity, instead of a hash lookup (2-3 ms at 100,000 lines)."""
    if len(texts_) and texts_[0] is texts_[-1] and all_equal(texts_, texts_[0]):
        return np.zeros(len(texts_), dtype=np.intp), np.array([texts_[0]], dtype=object)
    codes, distinct = pd.factorize(texts_)
    return codes, np.asarray(distinct, dtype=object)


def text_codes(values: pd.Series, convert) -> tuple[np.ndarray, np.ndarray]:
    """The texts (`texts`) converted, as codes into the distinct results: keys[codes] is
    the converted value of each row, codes numbered in order of first appearance (as
    pd.factorize numbers the converted values). convert(distinct) takes the distinct texts
    (an object array) and returns their converted values, in order."""
    codes, distinct = factorized_texts(texts(values))
    converted = np.empty(len(distinct), dtype=object)
    converted[:] = convert(distinct)
    if converted.tolist() == distinct.tolist():   # (claim IDs upper case already: the codes stand)
        return codes, converted
    key_codes, keys = pd.factorize(converted)
    return key_codes[codes], np.asarray(keys, dtype=object)


def claim_codes(ids) -> np.ndarray:
    """One integer per row for its claim: the claim ID as lines are matched (`line_codes`:
    case and surrounding blanks ignored, a missing ID as ""), so that "abc1" and "ABC1"
    are one claim in every count of distinct claims, as they are one claim's lines in
    every match. Codes numbered in order of first appearance."""
    return text_codes(ids if isinstance(ids, pd.Series) else pd.Series(ids, dtype=object), _match_texts)[0]


def distinct_claims(ids: pd.Series) -> int:
    """How many claims the IDs name (`claim_codes`: case ignored); a missing ID names none,
    as nunique leaves it out."""
    return int(len(pd.unique(claim_codes(ids[ids.notna()]))))


def _per_distinct_text(values: pd.Series, convert, dtype=object) -> pd.Series:
    """convert() of each distinct text (blank for a missing one), spread back."""
    codes, distinct = factorized_texts(texts(values))
    converted = np.empty(len(distinct), dtype=dtype)
    converted[:] = [convert(v) for v in distinct]
    return pd.Series(converted[codes], index=values.index, dtype=dtype)


def own_payer_seqs(claims: pd.DataFrame, strip: bool = False) -> np.ndarray:
    """The payer sequence each Claims row is billed to, by its Claim Type (PAYER_SEQ_OF_TYPE;
    1 for a blank or unknown type), as an int64 array. strip: surrounding blanks ignored."""
    if "claim_type" not in claims:
        return np.ones(len(claims), dtype="int64")
    return _per_distinct_text(claims["claim_type"], lambda v: PAYER_SEQ_OF_TYPE.get(v.strip() if strip else v, 1),
                              "int64").to_numpy()
