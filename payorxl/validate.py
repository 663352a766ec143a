"""Checks across rows and tables, each a small function ``rule(frames) -> errors``.

Cell-level problems (a date that is text, a negative units count) are caught while
converting (conversion.py). The rules here need more than one cell: a claim whose payor
has no contract, a duplicated claim line, overlapping fee-schedule rows. Like beancount's
validations, adding a check is adding one function to ``RULES``. A rule that finds an
*error* names the rows to leave out of the figures; a *warning* keeps them.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from . import model as m, rules
from .conversion import ROW, upper
from .engine.lines import (
    CLAIM_CODE,
    _per_distinct_text,
    adjustment_kinds,
    frame_claim_codes,
    line_codes,
    payer_seqs,
    texts,
    upper_already,
)
from .errors import WARNING, CellRef, DataError

Frames = dict[str, pd.DataFrame]
Rule = Callable[[Frames, m.Settings], list[DataError]]


def _err(table: m.Table, row: int, key: str, value, message: str, fix: str, severity="error") -> DataError:
    col = table.column(key)
    return DataError(CellRef(table.name, int(row), col.name), value, message, fix, severity, phi=col.phi)


def duplicate_keys(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A row that repeats another row's key (claim + line + claim type, payor, ...) is an
    error. A Claims row with frequency 8 is exempt: it voids the line it repeats."""
    errors = []
    for table in m.INPUT_TABLES:
        df = frames.get(table.name)
        if not table.key or df is None or df.empty:
            continue
        # Text arrives stripped (conversion.py); keys match regardless of case. The key
        # columns as one integer per row (equal integers, equal keys), so that the common
        # case, no duplicate, costs a few hashes per distinct value.
        # (Renumbered between columns to keep the products small; the first column's
        # codes are small already, and after the last only equality counts.)
        key = np.zeros(len(df), dtype=np.int64)
        unique = False
        for j, k in enumerate(table.key):
            # (claim IDs coded already, as lines are matched: lines.with_claim_codes)
            codes = (frame_claim_codes(df) if k == "claim_id" and CLAIM_CODE in df else _equal_codes(df[k]))
            key = key * (int(codes.max(initial=0)) + 2) + codes + 1
            if 0 < j < len(table.key) - 1:
                key, distinct = pd.factorize(key)
                key = key.astype(np.int64)
                if len(distinct) == len(key):   # no two rows share the key's first columns: none can share it all
                    unique = True
                    break
        if unique:
            continue
        dup = pd.Series(key, index=df.index).duplicated(keep="first")
        if not dup.any():                 # (no key repeated: no void row to exempt either)
            continue
        if table is m.CLAIMS:
            void = _per_distinct_text(df["frequency"], lambda v: v == "8", bool).to_numpy()
            dup = pd.Series(key[~void], index=df.index[~void]).duplicated(keep="first").reindex(
                df.index, fill_value=False)
            if not dup.any():
                continue
        keys = pd.DataFrame({k: upper(df[k]) if df[k].dtype == object else df[k] for k in table.key})
        first_row = df.groupby([keys[k] for k in table.key], sort=False)[ROW].transform("first")
        for i in df.index[dup]:
            what = ", ".join(f"{table.column(k).name} {df.at[i, k]}" for k in table.key)
            errors.append(_err(table, df.at[i, ROW], table.key[-1], df.at[i, table.key[-1]],
                               f"duplicate row: {what} is already on row {first_row[i]}",
                               "delete one of the two rows, or give this one its own key"))
    return errors


def _distinct_upper(values: pd.Series) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """A text column as the codes of its distinct texts, those texts upper-cased (each
    upper-cased once, not once a row), and whether they were upper case already (then
    still distinct); None for a column not all text."""
    a = values.to_numpy(dtype=object)
    if not (len(a) and pd.api.types.infer_dtype(a, skipna=False) == "string"):
        return None
    codes, distinct = pd.factorize(a)
    texts = distinct.tolist()      # (str.upper maps over a list faster than over the array)
    if upper_already(texts):       # upper case already (claim IDs, CPT codes)
        return codes, distinct, True
    uppers = list(map(str.upper, texts))
    keys = np.empty(len(distinct), dtype=object)
    keys[:] = uppers
    return codes, keys, False


def _equal_codes(values: pd.Series) -> np.ndarray:
    """One integer per row, equal exactly where the key column `duplicate_keys` compares
    is equal: text upper-cased (`upper`), other values as they are, blanks equal. For a
    text column, the distinct texts' upper cases are factorized, not every row's: the
    same codes (numbered by first appearance either way), at the cost of the distinct."""
    if values.dtype == object:
        split = _distinct_upper(values)
        if split is None:
            return pd.factorize(upper(values).to_numpy(dtype=object))[0]
        codes, keys, already = split
        return codes if already else pd.factorize(keys)[0][codes]
    return pd.factorize(values)[0]


def unknown_payors(frames: Frames, settings: m.Settings) -> list[DataError]:
    """Claims, payments and fee-schedule rows must name a payor that has a contract."""
    known = set(upper(frames["Contracts"]["payor"]))
    errors = []
    for table in (m.CLAIMS, m.PAYMENTS, m.FEE_SCHEDULE):
        df = frames[table.name]
        if df.empty:
            continue
        split = _distinct_upper(df["payor"])
        if split is None:
            payor = upper(df["payor"])
            bad = ~payor.isin(known)
            if table is m.FEE_SCHEDULE:
                bad &= payor != settings.medicare_payor.upper()
        else:   # each distinct payor looked up once
            codes, keys, _ = split
            unknown = ~pd.Series(keys, dtype=object).isin(known).to_numpy()
            if table is m.FEE_SCHEDULE:
                unknown &= keys != settings.medicare_payor.upper()
            bad = pd.Series(unknown[codes], index=df.index)
        for i in df.index[bad]:
            errors.append(_err(table, df.at[i, ROW], "payor", df.at[i, "payor"],
                               "payor has no row in Contracts",
                               "add the payor to Contracts, or correct the spelling to match it"))
    return errors


def contract_terms(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A '% of Medicare' contract needs its percentage; a term end before the effective date
    is a typing error."""
    df = frames["Contracts"]
    errors = []
    pct = (df["fee_basis"] == "% of Medicare") & df["pct_of_medicare"].isna()
    for i in df.index[pct]:
        errors.append(_err(m.CONTRACTS, df.at[i, ROW], "pct_of_medicare", None,
                           "the contract pays a % of Medicare but the percentage is blank",
                           "enter the contracted percentage (e.g. 125%), or set Fee Basis to 'Fee Schedule'"))
    backwards = df["term_end"].notna() & df["effective_date"].notna() & (df["term_end"] < df["effective_date"])
    for i in df.index[backwards]:
        errors.append(_err(m.CONTRACTS, df.at[i, ROW], "term_end", df.at[i, "term_end"].date(),
                           "the term ends before the contract's effective date",
                           "check both dates"))
    return errors


def claim_dates(frames: Frames, settings: m.Settings) -> list[DataError]:
    """Through date before the date of service is an error; a date of service after the
    as-of date, or a claim filed before its date of service, is a warning."""
    df = frames["Claims"]
    errors = []
    for i in df.index[df["through_date"].notna() & (df["through_date"] < df["dos"])]:
        errors.append(_err(m.CLAIMS, df.at[i, ROW], "through_date", df.at[i, "through_date"].date(),
                           "the through date is before the date of service", "check both dates"))
    for i in df.index[df["dos"] > settings.as_of]:
        errors.append(_err(m.CLAIMS, df.at[i, ROW], "dos", df.at[i, "dos"].date(),
                           f"the date of service is after the as-of date ({settings.as_of.date()})",
                           "check the date, or the As-of Date in Settings", WARNING))
    for i in df.index[df["filed_date"].notna() & (df["filed_date"] < df["dos"])]:
        errors.append(_err(m.CLAIMS, df.at[i, ROW], "filed_date", df.at[i, "filed_date"].date(),
                           "the claim was filed before its date of service", "check both dates", WARNING))
    return errors


def fee_overlaps(frames: Frames, settings: m.Settings) -> list[DataError]:
    """Two rates for the same payor, CPT, modifier and Setting on the same date make expected
    allowed ambiguous: the later row is reported (the latest effective rate is used). A
    Facility or Non-facility row beside a row with a blank Setting is not a conflict: the
    row of the claim's setting wins."""
    df = frames["FeeSchedule"]
    if df.empty:
        return []
    end = df["effective_to"].fillna(pd.Timestamp.max.normalize())
    setting = df["setting"].fillna("") if "setting" in df else ""
    d = df.assign(_end=end, _k=upper(df["payor"]) + "|" + df["cpt"] + "|" + df["modifier"] + "|" + setting)
    d = d.sort_values(["_k", "effective_from"], kind="stable")
    prev_end = d.groupby("_k")["_end"].shift()
    prev_row = d.groupby("_k")[ROW].shift()
    overlap = prev_end.notna() & (d["effective_from"] <= prev_end)
    return [_err(m.FEE_SCHEDULE, d.at[i, ROW], "effective_from", d.at[i, "effective_from"].date(),
                 f"this rate overlaps the rate on row {int(prev_row[i])} for the same payor, CPT, modifier and setting",
                 "end the earlier rate (Effective To) the day before this one starts")
            for i in d.index[overlap]]


def orphan_rows(frames: Frames, settings: m.Settings) -> list[DataError]:
    """Payments and appeals for a claim line that is not in Claims are kept aside (a
    warning): they cannot count toward any claim's figures until the claim is entered."""
    claims = frames["Claims"]
    errors = []
    for table in (m.PAYMENTS, m.APPEALS, m.UNDERPAYMENTS):
        df = frames.get(table.name)
        if df is None:
            continue
        if df.empty:
            continue
        claim_key, key = line_codes(claims, df)
        for i in df.index[~np.isin(key, claim_key)]:
            cid, line = df.at[i, "claim_id"], int(df.at[i, "line"])
            errors.append(_err(table, df.at[i, ROW], "claim_id", cid,
                               f"no claim line {cid} / {line} in Claims",
                               "enter the claim in Claims, or correct the claim ID and line", WARNING))
    return errors


_WITH_GROUP = re.compile(r"^(CO|PR|OA|PI|CR)\s*-?\s*\S")   # a CARC typed with its group ("CO-29")


def _upper_text(values: pd.Series) -> pd.Series:
    """``upper(values.astype(str))`` (text upper-cased, a missing value as pandas spells it),
    without pandas' string array where every value is text already."""
    if pd.api.types.infer_dtype(values.to_numpy(dtype=object), skipna=False) == "string":
        return upper(values)
    return upper(values.astype(str))


def _remit_part(df: pd.DataFrame, k: str) -> pd.Series:
    """One column of model.REMIT_KEY as its text (claim ID and payor upper-cased)."""
    col = df[k]
    if k in ("claim_id", "payor"):
        col = upper(col)
    elif k == "remit_date":
        col = col.dt.strftime("%Y-%m-%d")
    return col.astype(object).where(col.notna(), "").astype(str)


def _remit_keys(df: pd.DataFrame) -> pd.Series:
    """One text key per row from model.REMIT_KEY: the columns that tie an Adjustments row
    to its Payments row (claim ID and payor matched regardless of case)."""
    parts = [_remit_part(df, k) for k in m.REMIT_KEY]
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key


def _remit_values(df: pd.DataFrame, k: str) -> np.ndarray:
    """A REMIT_KEY column as values equal exactly where their `_remit_part` texts are: the
    date's day (NaT the smallest integer), the line number (blank the smallest), text as
    `_remit_part` spells it."""
    col = df[k]
    blank = np.iinfo(np.int64).min
    if k == "remit_date":
        return col.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)   # (NaT: blank)
    if k == "line":
        return col.astype("Int64").fillna(blank).to_numpy(dtype=np.int64)
    return texts(upper(col) if k in ("claim_id", "payor") else col)


def _remit_codes(adj: pd.DataFrame, pay: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The rows' REMIT_KEY as one integer per row, equal across the two frames exactly where
    their texts (`_remit_part`) are equal in every column: each column factorised over both
    frames, then combined (renumbered after each, to keep the products small)."""
    key = np.zeros(len(adj) + len(pay), dtype=np.int64)
    for k in m.REMIT_KEY:
        codes, distinct = pd.factorize(np.concatenate([_remit_values(adj, k), _remit_values(pay, k)]))
        key = pd.factorize(key * (len(distinct) + 1) + codes)[0].astype(np.int64)
    return key[:len(adj)], key[len(adj):]


def adjustments_agree(frames: Frames, settings: m.Settings) -> list[DataError]:
    """Each Payments row that has Adjustments rows must hold their sums by rule (rules.SUMMARY:
    Patient Resp, Contractual Adj, Sequestration, Denied Amount): a row that does not is a
    warning naming both, and the Payments figure is the one used (as the native formulas
    do). An Adjustments row for a claim (level line or claim) needs its claim ID and line;
    one that matches no Payments row is a warning. A CARC typed with its group ("CO-29")
    is read without it, and said."""
    adj, pay = frames.get("Adjustments"), frames["Payments"]
    errors: list[DataError] = []
    if pay is not None and len(pay):
        with_group = _per_distinct_text(pay["carc"], lambda v: _WITH_GROUP.match(v.upper().strip()) is not None,
                                        bool)
        for i in pay.index[with_group.to_numpy()]:
            code = rules.reason_code(pay.at[i, "carc"])
            errors.append(_err(m.PAYMENTS, pay.at[i, ROW], "carc", pay.at[i, "carc"],
                               f"the CARC includes its group code; it is read as {code}",
                               f"type {code} in CARC and the group in Group Code", WARNING))
    if adj is None or adj.empty:
        return errors
    claim_level = adj["level"].fillna("line") != "provider"
    missing = claim_level & ((adj["claim_id"].fillna("") == "") | adj["line"].isna())
    for i in adj.index[missing]:
        which = "claim_id" if adj.at[i, "claim_id"] in ("", None) else "line"
        errors.append(_err(m.ADJUSTMENTS, adj.at[i, ROW], which, None,
                           f"a {adj.at[i, 'level'] or 'line'}-level adjustment needs its claim ID and line",
                           "enter the claim ID and line of the Payments row it belongs to, or set Level to "
                           "provider for a PLB"))
    linked = adj[claim_level & ~missing]
    if linked.empty:
        return errors
    kinds = adjustment_kinds(linked)
    adj_key, pay_key = _remit_codes(linked, pay)
    orphans = ~np.isin(adj_key, pay_key)
    for i in linked.index[orphans]:
        errors.append(_err(m.ADJUSTMENTS, linked.at[i, ROW], "claim_id", linked.at[i, "claim_id"],
                           "no Payments row has this claim ID, line, payor, remit date, check no and claim status",
                           "correct this row to match its Payments row, or post the payment in Payments", WARNING))
    amount = linked["amount"].fillna(0).astype("int64")
    sums = pd.DataFrame({column: amount.where(kinds.isin(list(k)), 0).groupby(adj_key).sum()
                         for column, k in rules.SUMMARY.items()})
    posted = pd.DataFrame({c: pay[c].fillna(0).astype("int64") for c in rules.SUMMARY}).groupby(pay_key).sum()
    both = posted.index.intersection(sums.index)
    first_row = pay.groupby(pay_key)[ROW].first()
    columns = list(rules.SUMMARY)
    wants = sums.loc[both, columns].to_numpy(dtype="int64")
    gots = posted.loc[both, columns].to_numpy(dtype="int64")
    # (the disagreeing cells only, payment by payment in the order of their keys' text, and
    # rule by rule)
    wrong = list(zip(*np.nonzero(wants != gots)))
    if wrong:
        rows = sorted({int(i) for i, _ in wrong})
        first = pay.set_index(ROW).loc[first_row[both[rows]].to_numpy()]   # each payment's first row
        text = dict(zip(rows, _remit_keys(first)))
        wrong.sort(key=lambda ij: (text[int(ij[0])], ij[1]))
    for i, j in wrong:
        key, column, want, got = both[i], columns[j], int(wants[i, j]), int(gots[i, j])
        errors.append(_err(m.PAYMENTS, first_row[key], column, got / 100,
                           f"{m.PAYMENTS.column(column).name} ${got / 100:,.2f} is not the sum of this "
                           f"payment's Adjustments rows by rule (${want / 100:,.2f}); the Payments figure is used",
                           "correct the Payments amount or the Adjustments rows so that they agree", WARNING))
    return errors


def later_payer_without_earlier(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A secondary (or tertiary) remittance for a line billed to a primary whose remittance
    is not on file is a warning: the line's figures then rest on the later payer alone (its
    patient responsibility is taken as the patient's share) until the primary's is posted."""
    pay, claims = frames["Payments"], frames.get("Claims")
    if pay.empty or claims is None or claims.empty:
        return []
    seq = payer_seqs(pay)
    if not (seq > 1).any():                 # no later payer's remittance: nothing to look at
        return []
    claim_key, key = line_codes(claims, pay)
    primary = _per_distinct_text(claims["claim_type"], lambda v: v in ("", "Primary"), bool).to_numpy()
    earliest = pd.Series(seq).groupby(key).transform("min").to_numpy()
    lonely = (seq > 1) & (earliest == seq) & np.isin(key, claim_key[primary])
    return [_err(m.PAYMENTS, pay.at[pay.index[k], ROW], "payer_seq", str(seq[k]),
                 f"a payer {seq[k]} remittance for a line with no earlier payer's remittance on file",
                 "import or post the primary payer's remittance (835) for this line; until then its patient "
                 "responsibility is taken from this one alone", WARNING)
            for k in np.flatnonzero(lonely)]


def routing_rows(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A DenialRouting row whose CARC carries its group ("CO-16") would never match: the
    group goes in Group. (Two rows with the same Group, CARC and RARC are duplicate keys.)"""
    df = frames.get(m.DENIAL_ROUTING.name)
    if df is None or df.empty:
        return []
    prefix = df["carc"].map(rules.group_prefix)
    return [_err(m.DENIAL_ROUTING, df.at[i, ROW], "carc", df.at[i, "carc"],
                 "the CARC carries its group, so no denial matches this row",
                 f"put the group in Group ({prefix[i]}) and the bare code ({rules.reason_code(df.at[i, 'carc'])}) "
                 "in CARC")
            for i in df.index[prefix != ""]]


def modifier_rules(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A Modifiers row priced at a % of base needs its Percent."""
    df = frames.get(m.MODIFIERS.name)
    if df is None or df.empty:
        return []
    missing = (df["pricing"] == rules.PCT_OF_BASE) & df["percent"].isna()
    return [_err(m.MODIFIERS, df.at[i, ROW], "percent", None,
                 f"modifier {df.at[i, 'modifier']} is priced at a % of base with no percent",
                 "type the share of the base rate it is paid at (e.g. 150% for a bilateral 50)")
            for i in df.index[missing]]


def unknown_modifiers(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A claim line's modifier that neither the Modifiers table nor a FeeSchedule row knows
    leaves the line unpriced: one warning per modifier, at its first line."""
    claims, mods = frames.get("Claims"), frames.get(m.MODIFIERS.name)
    if claims is None or claims.empty or mods is None:
        return []
    fees = frames.get("FeeSchedule")
    known = set(upper(mods["modifier"].fillna("").astype(str).str.strip()))
    if fees is not None and not fees.empty:
        known |= set(upper(fees["modifier"].fillna("").astype(str).str.strip()))
    typed = _per_distinct_text(claims["modifier"], lambda v: v.strip().upper())
    unknown = (typed != "") & ~typed.isin(known)
    first = claims[unknown].assign(_m=typed[unknown]).drop_duplicates("_m")
    return [_err(m.CLAIMS, first.at[i, ROW], "modifier", first.at[i, "modifier"],
                 f"modifier {first.at[i, '_m']} is not in Modifiers and has no FeeSchedule rate, so its "
                 f"{int((typed == first.at[i, '_m']).sum())} line(s) have no expected allowed",
                 "add it to Modifiers (Base rate, Own rate or % of base), or its rates to FeeSchedule", WARNING)
            for i in first.index]


def payment_rule_payors(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A PaymentRules row must name a payor with a contract, or All payors."""
    df, contracts = frames.get(m.PAYMENT_RULES.name), frames.get("Contracts")
    if df is None or df.empty or contracts is None:
        return []
    known = set(upper(contracts["payor"].astype(str))) | {m.ALL_PAYORS.upper()}
    bad = ~upper(df["payor"].astype(str)).isin(known)
    return [_err(m.PAYMENT_RULES, df.at[i, ROW], "payor", df.at[i, "payor"],
                 "no contract names this payor, so its rules apply to no claim",
                 f"spell it as in Contracts, or use {m.ALL_PAYORS!r} for the rules of every payor", WARNING)
            for i in df.index[bad]]


def appeal_levels_in_order(frames: Frames, settings: m.Settings) -> list[DataError]:
    """A line's appeals climb one level at a time: a level with the one below it missing, or
    filed before the level below was decided, or above the levels the contract allows, is
    named (a warning: the highest level still decides what stands)."""
    appeals, claims = frames.get("Appeals"), frames.get("Claims")
    if appeals is None or appeals.empty:
        return []
    from .engine.deadlines import appeal_levels, contract_terms
    a = appeals.assign(_level=appeals["level"].fillna(1).astype("int64"),
                       _key=_upper_text(appeals["claim_id"]) + "|" + appeals["line"].astype(str))
    errors = []
    # Each appeal above level 1 beside the first appeal of its line at the level below.
    level = a["_level"].to_numpy()
    below = a.drop_duplicates(["_key", "_level"], keep="first")
    wanted = pd.MultiIndex.from_arrays([a["_key"].to_numpy(dtype=object), level - 1])
    found = pd.MultiIndex.from_arrays([below["_key"].to_numpy(dtype=object),
                                       below["_level"].to_numpy()]).get_indexer(wanted)
    climbs = level > 1
    missing = climbs & (found < 0)
    prev = below.iloc[np.where(found >= 0, found, 0)] if len(below) else below
    decided = np.where(prev["decision_date"].notna().to_numpy(), prev["decision_date"].to_numpy(),
                       prev["appeal_date"].to_numpy())
    decided = pd.Series(decided, index=a.index, dtype="datetime64[ns]")
    early = climbs & (found >= 0) & (decided.notna() & (a["appeal_date"] < decided)).to_numpy()
    for k in np.flatnonzero(missing | early):
        i, n = a.index[k], int(level[k])
        if missing[k]:
            errors.append(_err(m.APPEALS, a.at[i, ROW], "level", n,
                               f"a level {n} appeal with no level {n - 1} appeal on file for this line",
                               f"add the level {n - 1} appeal (its date and outcome), or correct this Level",
                               WARNING))
        else:
            errors.append(_err(m.APPEALS, a.at[i, ROW], "appeal_date", a.at[i, "appeal_date"].date(),
                               f"the level {n} appeal is dated before level {n - 1} was decided "
                               f"({decided[i]:%m/%d/%Y})", "check the two dates", WARNING))
    contracts = frames.get("Contracts")
    if claims is not None and not claims.empty and contracts is not None:
        # Only the claim lines of an appeal matter (a key is the claim ID and line, split at
        # its last "|": an appeal's key matches a line's only if its claim ID does).
        ids = _upper_text(claims["claim_id"])
        appealed = ids.isin(set(_upper_text(appeals["claim_id"])))
        lines = claims[appealed.to_numpy()]
        lines = lines.assign(_key=ids[appealed] + "|" + lines["line"].astype(str))
        lines = lines.drop_duplicates("_key")
        allowed = pd.Series(appeal_levels(contract_terms(lines, contracts, ["appeal_levels", "payor_type"]))
                            .to_numpy(), index=lines["_key"].to_numpy())
        most = a["_key"].map(allowed)
        over = most.notna() & (a["_level"] > most)
        errors += [_err(m.APPEALS, a.at[i, ROW], "level", int(a.at[i, "_level"]),
                        f"the payor's contract allows {int(most[i])} level(s) of appeal",
                        "correct the Level, or the contract's Appeal Levels", WARNING) for i in a.index[over]]
    return errors


RULES: list[Rule] = [duplicate_keys, contract_terms, unknown_payors, claim_dates, fee_overlaps, orphan_rows,
                     adjustments_agree, later_payer_without_earlier, routing_rows, modifier_rules,
                     unknown_modifiers, payment_rule_payors, appeal_levels_in_order]
# The tables a rule judges against: where one was not given (a PX_ formula passed only
# Claims and Payments), the rule cannot tell right from wrong and does not run.
NEEDS: dict[Rule, set[str]] = {unknown_payors: {"Contracts"}, contract_terms: {"Contracts"},
                               fee_overlaps: {"FeeSchedule"}, orphan_rows: {"Claims"},
                               later_payer_without_earlier: {"Claims"}, unknown_modifiers: {"FeeSchedule"},
                               payment_rule_payors: {"Contracts"}}


# The rules that only ever warn (every DataError they make is a WARNING: a static test holds
# them to it). A warning never takes a row out of the figures, so a caller that wants only
# the figures (a PX_ formula, which cannot show a warning) may leave them out.
WARNS_ONLY: set[Rule] = {orphan_rows, later_payer_without_earlier, unknown_modifiers, payment_rule_payors,
                         appeal_levels_in_order}


def validate(frames: Frames, settings: m.Settings, given: set[str] | None = None,
             warnings: bool = True) -> tuple[Frames, list[DataError]]:
    """Run every rule; drop the rows with errors (cascading: a contract left out makes
    its claims unknown-payor errors) and return the clean frames and all errors.
    given: the tables the caller really has (default: all). warnings=False: the rules
    that can only warn (WARNS_ONLY) are not run; the frames are the same."""
    errors: list[DataError] = []
    frames = dict(frames)
    for rule in RULES:
        if given is not None and not NEEDS.get(rule, set()) <= given:
            continue
        if not warnings and rule in WARNS_ONLY:
            continue
        found = rule(frames, settings)
        errors.extend(found)
        bad: dict[str, set[int]] = {}
        for e in found:
            if e.severity == "error":
                bad.setdefault(e.ref.sheet, set()).add(e.ref.row)
        for sheet, rows in bad.items():
            df = frames[sheet]
            frames[sheet] = df[~df[ROW].isin(rows)].reset_index(drop=True)
    return frames, errors
