"""Denials: why claims are denied, how often, what appeals win back, what is lost.

Each denied claim line gets a root-cause category and an action from the DenialRouting
table (by group, CARC and remark code; seeded from the X12 CARC list in
``data/denial_routing.csv``). On top of that sit the denial
KPIs billing staff are measured on: the initial denial rate (HFMA MAP Key), the appeal
overturn rate, and the final denial write-off (the denied dollars the practice gives up
because an appeal was lost or never filed in time).

Inputs are the Claims frame and its line summary (``lines.line_summary``: one row per
claim line, same index). Money is integer cents; a rate whose denominator is zero is NaN.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import rules
from . import seeds
from .lines import distinct_counts, frame_claim_codes, str_values, texts

KEY = ["claim_id", "line"]
OTHER = "Other"
CATEGORIES = ("Eligibility", "Authorization", "Coding", "Medical Necessity", "Timely Filing",
              "Duplicate", "Missing Information", "Non-covered", "Coordination of Benefits",
              "Bundling", "Contractual", "Patient Responsibility", OTHER)
GROUPINGS = ("payor", "category", "cpt", "month", None)
OVERTURNED = ("Overturned", "Partially Overturned")
UNDECIDED = ("Pending", "Withdrawn")
LOST = "Upheld"
MISSED = "Missed"


def carc_categories() -> pd.DataFrame:
    """The seeded routing's bare-CARC rows as a CARC table: columns ``carc``, ``category``,
    ``description`` (the X12 CARC list, descriptions shortened). A copy."""
    table = seeds.denial_routing()
    bare = table[(table["group_code"].fillna("") == "") & (table["rarc"].fillna("") == "")]
    return bare[["carc", "category", "description"]].reset_index(drop=True)


def _per_distinct(values: pd.Series, convert) -> pd.Series:
    """`convert` applied to the distinct values only, then spread back (same index).

    A million claim lines hold a few dozen CARCs or months: string work on each row
    would dominate the run time."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    converted = convert(pd.Series(uniques, dtype=values.dtype)).to_numpy()
    return pd.Series(converted[codes], index=values.index)


def routing(table: pd.DataFrame | None) -> pd.DataFrame:
    """The DenialRouting rows to route by: the workbook's, or the seed for a workbook made
    before the table existed (None)."""
    return seeds.denial_routing() if table is None else table


def route(group: pd.Series, carc: pd.Series, rarc: pd.Series, table: pd.DataFrame | None) -> pd.DataFrame:
    """The DenialRouting row each denial (group, CARC, remark codes) falls under: of the rows
    with its CARC (as rules.reason_code reads it) whose Group is blank or its group and whose
    RARC is blank or among its remark codes (rules.remark_codes), the most specific
    (rules.route_score: group and RARC, RARC, group, bare CARC), the first in the table
    among equals. Columns category and action (same index); a denial no row matches is
    "Other" / "Appeal". Worked out once per distinct triple."""
    table = routing(table)
    rows = [(str(g or "").strip().upper(), str(c or "").strip().upper(), str(r or "").strip().upper(),
             str(cat or ""), str(act or ""))
            for g, c, r, cat, act in zip(table["group_code"].astype(object).fillna(""),
                                         table["carc"].astype(object).fillna(""),
                                         table["rarc"].astype(object).fillna(""),
                                         table["category"].astype(object).fillna(""),
                                         table["action"].astype(object).fillna(""))]
    by_carc: dict[str, list] = {}
    for g, c, r, cat, act in rows:
        if act:                    # a row with no Action (an emptied table's blank row) routes nothing
            by_carc.setdefault(c, []).append((rules.route_score(g, r), g, r, cat, act))
    # one integer per distinct (group, CARC, remark codes), without a Python tuple per row
    parts = [pd.factorize(texts(column), sort=False) for column in (group, carc, rarc)]
    combined = np.zeros(len(group), dtype=np.int64)
    for part_codes, uniques in parts:
        combined = combined * (len(uniques) + 1) + part_codes
    _, first, codes = np.unique(combined, return_index=True, return_inverse=True)
    distinct = [(parts[0][1][parts[0][0][i]], parts[1][1][parts[1][0][i]], parts[2][1][parts[2][0][i]])
                for i in first]
    picked = []
    for g, c, r in distinct:
        g, code, remarks = g.strip().upper(), rules.reason_code(c), rules.remark_codes(r)
        best = None
        for score, rg, rr, cat, act in by_carc.get(code, ()):
            if (not rg or rg == g) and (not rr or rr in remarks) and (best is None or score > best[0]):
                best = (score, cat or OTHER, act)
        picked.append(best[1:] if best else (OTHER, rules.DEFAULT_ACTION))
    chosen = np.array(picked, dtype=object).reshape(-1, 2)[codes]
    return pd.DataFrame({"category": chosen[:, 0], "action": chosen[:, 1]}, index=group.index)


def categorize(carc: pd.Series, table: pd.DataFrame | None = None) -> pd.Series:
    """Root-cause category of each bare CARC (same index), by the routing table's rows
    (`route` with no group and no remark code); a code no row has, or a blank one, is
    "Other"."""
    blank = pd.Series("", index=carc.index, dtype=object)
    return route(blank, carc.fillna("").astype(str), blank, table)["category"].astype(object)


def denied_lines(claims: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Per claim line (index = claims.index): ``denial_category``, the category of the
    line's latest denial as routed (``lines.denial_route_category``, else the CARC's) when
    the line was denied on first adjudication or stands denied now; "" otherwise."""
    was_denied = lines["denied_first_pass"] | lines["denial_open"]
    category = (lines["denial_route_category"] if "denial_route_category" in lines
                else categorize(lines["denial_carc"]))
    category = category.where(was_denied, "")
    return pd.DataFrame({"denial_category": category.to_numpy()}, index=claims.index)


def _rate(numerator, denominator):
    """numerator ÷ denominator (two Series, or two numbers) as float; NaN where the
    denominator is zero."""
    if isinstance(denominator, pd.Series):
        return numerator.astype("float64") / denominator.astype("float64").where(denominator != 0)
    return numerator / denominator if denominator else float("nan")


def _line_frame(claims: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The columns every denial rate needs, one row per claim line."""
    return pd.DataFrame({
        # Claim IDs as integer codes (case ignored, as lines are matched): counting
        # distinct integers is much faster.
        "claim_id": frame_claim_codes(claims),
        "payor": pd.Series(claims["payor"].to_numpy(dtype=object), dtype=object),   # kept as object
        "cpt": pd.Series(claims["cpt"].to_numpy(dtype=object), dtype=object),
        "charge": claims["charge"].fillna(0).astype("int64").to_numpy(),
        "adjudicated": lines["adjudicated"].astype(bool).to_numpy(),
        "denied": lines["denied_first_pass"].astype(bool).to_numpy(),
        "first_remit_date": lines["first_remit_date"].to_numpy(),
        "category": pd.Series((lines["denial_category"] if "denial_category" in lines
                               else denied_lines(claims, lines)["denial_category"]).to_numpy(), dtype=object),
    })


def _counts(codes: np.ndarray, n_groups: int, frame: pd.DataFrame, mask) -> tuple[np.ndarray, np.ndarray]:
    """Distinct claims and summed charges of the rows under `mask`, per group (codes of
    the group, -1 for a blank one, which is left out as groupby leaves it)."""
    chosen = np.asarray(mask, dtype=bool) & (codes >= 0)
    charges = np.zeros(n_groups, dtype="int64")
    np.add.at(charges, codes[chosen], frame["charge"].to_numpy(dtype="int64")[chosen])
    return distinct_counts(codes[chosen], n_groups, frame["claim_id"].to_numpy()[chosen]), charges


def initial_denial_rate(claims: pd.DataFrame, lines: pd.DataFrame,
                        by: str | None = None, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Initial denial rate, by claims and by charges (HFMA MAP Key "Initial Denial Rate").

    Claims: claims denied on first adjudication ÷ claims adjudicated, counting distinct
    claims (their IDs with case ignored, as lines are matched: "ab1" and "AB1" are one
    claim, so a claim's lines fall in one month); a claim is adjudicated when any of its
    lines has a remittance, and denied when any of its lines was denied on its first
    remittance (``denied_first_pass``).
    Charges: charges of the first-pass-denied lines ÷ charges of the adjudicated lines.

    by: "payor"; "cpt" (a claim counts under each CPT it has an adjudicated line of);
    "month", the "YYYY-MM" of the claim's first remittance (earliest over its lines, so
    each claim falls in one month and the months add up to the whole); "category", the
    denial category of the denied lines (`denied_lines`) over the denominator of *all*
    adjudicated claims and charges, so the category rates add up to the overall rate
    (more than it when a claim was denied for two reasons: it counts under both);
    None, one row "All".

    frame: `_line_frame(claims, lines)` when the caller asks for several groupings.

    Columns: the group (named as `by`, or "group"), claims_adjudicated, claims_denied,
    denial_rate, charges_adjudicated, charges_denied (cents), charge_denial_rate; NaN
    rate where nothing was adjudicated. Sorted by charges_denied, largest first.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}, not {by!r}")
    frame = (_line_frame(claims, lines) if frame is None else frame).copy(deep=False)
    name = by or "group"
    if by is None:
        frame[name] = "All"
    elif by == "month":
        first = frame["first_remit_date"].where(frame["adjudicated"])
        claim_first = first.groupby(frame["claim_id"]).transform("min")
        frame[name] = _per_distinct(claim_first, lambda d: d.dt.strftime("%Y-%m").fillna(""))

    adjudicated, denied = frame["adjudicated"].to_numpy(dtype=bool), frame["denied"].to_numpy(dtype=bool)
    # the groups of the rows counted (adjudicated or denied; denied only, by category), each coded once
    counted = denied if by == "category" else adjudicated | denied
    values = frame[name].to_numpy(dtype=object).copy()
    values[~counted] = None
    codes, groups = pd.factorize(values)
    n = len(groups)
    claims_denied, charges_denied = _counts(codes, n, frame, denied)
    if by == "category":
        # Every category is measured against all adjudicated claims and charges.
        claims_adjudicated = np.full(n, len(pd.unique(frame["claim_id"].to_numpy()[adjudicated])), dtype="int64")
        charges_adjudicated = np.full(n, frame["charge"].to_numpy(dtype="int64")[adjudicated].sum(), dtype="int64")
    else:
        claims_adjudicated, charges_adjudicated = _counts(codes, n, frame, adjudicated)
    groups = np.asarray(groups, dtype=object)
    if by is None and not n:            # nothing adjudicated: one row "All" of zeros
        groups, claims_adjudicated, claims_denied, charges_adjudicated, charges_denied = (
            np.array(["All"], dtype=object), *(np.zeros(1, dtype="int64") for _ in range(4)))
    result = pd.DataFrame({
        name: pd.Series(groups, dtype=object),
        "claims_adjudicated": claims_adjudicated.astype("int64"),
        "claims_denied": claims_denied.astype("int64"),
        "denial_rate": _rate(pd.Series(claims_denied), pd.Series(claims_adjudicated)),
        "charges_adjudicated": charges_adjudicated.astype("int64"),
        "charges_denied": charges_denied.astype("int64"),
        "charge_denial_rate": _rate(pd.Series(charges_denied), pd.Series(charges_adjudicated)),
    })
    return (result.sort_values(["charges_denied", name], ascending=[False, True], kind="stable")
            .reset_index(drop=True))


def appeal_overturn_rate(appeals: pd.DataFrame,
                         by_payor_claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Appeal overturn rate: appeals overturned (outcome "Overturned" or "Partially
    Overturned") ÷ appeals decided (any outcome but "Pending" or "Withdrawn"). Each
    appeal row counts, so a level-2 appeal is a second appeal. ``recovered`` is the
    amount recovered over all appeal rows (cents). The measure is the denial-management
    one HFMA and AAPC describe; HFMA's MAP Keys do not define it.

    Without claims: one row, group "All". With the Claims frame: one row per payor
    (column "payor"), each appeal taking the payor of its claim line (claim ID + line);
    an appeal whose line is not in Claims is counted under payor "".

    Columns: group or payor, appeals_decided, appeals_overturned, overturn_rate (NaN when
    none decided), recovered.
    """
    outcome = appeals["outcome"].astype(str)
    frame = pd.DataFrame({
        "decided": ~outcome.isin(UNDECIDED).to_numpy(),
        "overturned": outcome.isin(OVERTURNED).to_numpy(),
        "recovered": appeals["recovered"].fillna(0).astype("int64").to_numpy(),
    })
    if by_payor_claims is None:
        name = "group"
        frame[name] = "All"
    else:
        name = "payor"
        payors = by_payor_claims[KEY + ["payor"]].drop_duplicates(KEY)
        keys = pd.DataFrame({"claim_id": appeals["claim_id"].astype(str).to_numpy(),
                             "line": appeals["line"].astype("Int64").to_numpy()})
        payors = payors.assign(claim_id=payors["claim_id"].astype(str),
                               line=payors["line"].astype("Int64"),
                               payor=payors["payor"].astype(str))
        frame[name] = keys.merge(payors, on=KEY, how="left")["payor"].fillna("").to_numpy()

    grouped = frame.groupby(name, sort=True)
    out = pd.DataFrame({"appeals_decided": grouped["decided"].sum(),
                        "appeals_overturned": grouped["overturned"].sum(),
                        "recovered": grouped["recovered"].sum()})
    if by_payor_claims is None and out.empty:
        out = out.reindex(["All"])
    out = out.fillna(0).astype("int64")
    out.index.name = name
    out = out.reset_index()
    out[name] = out[name].astype(object)
    out.insert(3, "overturn_rate", _rate(out["appeals_overturned"], out["appeals_decided"]))
    return out


def final_denial_writeoff(claims: pd.DataFrame, lines: pd.DataFrame,
                          appeal_status: pd.Series, appeals: pd.DataFrame,
                          resubmit_status: pd.Series | None = None) -> pd.DataFrame:
    """The denied dollars written off, per claim line (index = claims.index).

    A line's denial is final when the line stands denied now, in full or in part
    (``lines.denial_open``), and its action (``lines.denial_action``, DenialRouting) says:
    Appeal — its final level of appeal was upheld (`appeal_status` "Upheld": an upheld level
    with levels left opens the next level's window instead) or the window of the level it
    stands at was missed ("Missed"); Correct and resubmit or Rebill other payer — the
    resubmission window was missed (`resubmit_status` "Missed": never while the filing
    window is open); Write off — at once. Bill patient is never written off here: the
    practice bills it.

    written_off: the line's denied amount (cents), but never more than its open balance
    (charge − paid − contractual adj. − the patient's share, at least 0), because a practice
    cannot write off what is not owed and an amount denied on two remittances would
    otherwise count twice. 0 for other lines.
    writeoff_reason: "Appeal upheld", "Appeal missed", "Resubmission missed", "Routed to
    write-off" or "".
    """
    # (worked out on the lines that stand denied, the only ones written off)
    at = np.flatnonzero(lines["denial_open"].astype(bool).to_numpy())
    action = (lines["denial_action"].to_numpy(dtype=object)[at].astype(str) if "denial_action" in lines
              else np.full(len(at), rules.APPEAL, dtype=object))
    status = str_values(appeal_status)[at]
    resubmit = (str_values(resubmit_status)[at] if resubmit_status is not None
                else np.full(len(at), "", dtype=object))
    appeal = action == rules.APPEAL
    lost = appeal & (status == LOST)
    missed = appeal & (status == MISSED)
    resubmit_missed = np.isin(action, rules.RESUBMIT_ACTIONS) & (resubmit == MISSED)
    routed_off = action == rules.WRITE_OFF
    open_balance = (claims["charge"].fillna(0).astype("int64").to_numpy()[at]
                    - lines["paid"].to_numpy()[at] - lines["contractual_adj"].to_numpy()[at]
                    - lines["patient_share"].to_numpy()[at]).clip(min=0)
    amount = np.minimum(lines["denied_amount"].to_numpy()[at].clip(min=0), open_balance)
    final = lost | missed | resubmit_missed | routed_off
    written = np.zeros(len(claims), dtype="int64")
    written[at] = np.where(final, amount, 0)
    reason = np.empty(len(claims), dtype=object)
    reason.fill("")
    reason[at] = np.select([final & lost, final & missed, final & resubmit_missed, final & routed_off],
                           ["Appeal upheld", "Appeal missed", "Resubmission missed", "Routed to write-off"],
                           "").astype(object)
    return pd.DataFrame({"written_off": written, "writeoff_reason": reason}, index=claims.index)


def final_denial_writeoff_rate(claims: pd.DataFrame, lines: pd.DataFrame,
                               written_off) -> float:
    """Final denial write-off rate: denied dollars written off ÷ gross charges of the
    adjudicated lines.

    HFMA's MAP Key ("Denial Write-Offs as a Percentage of Net Patient Service Revenue")
    divides by net patient service revenue. The workbook holds no net revenue figure
    (patient payments are not recorded), so the denominator here is gross charges, the
    same base as the charge-based initial denial rate, which lets the two be read
    together (of the charges denied, how much was finally lost). Because charges exceed
    net revenue, this rate is lower than HFMA's and is not comparable to its benchmarks.

    written_off: the `final_denial_writeoff` frame or its ``written_off`` Series.
    NaN when nothing was adjudicated.
    """
    if isinstance(written_off, pd.DataFrame):
        written_off = written_off["written_off"]
    charges = claims["charge"].fillna(0).astype("int64")[lines["adjudicated"].astype(bool)]
    return _rate(int(written_off.sum()), int(charges.sum()))
