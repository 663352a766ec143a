"""Remittance rows on their way into a workbook, once matched to its claim lines: what the
import does between reading an 835 (x12.era835.remittance_rows) and appending the rows.

- `spread_claim_rows`: a claim paid or denied without service lines (an 835 CLP with
  claim-level CAS and no SVC) is spread over the claim's lines in Claims, pro rata by
  their charge, to the cent, the remainder on the largest line (rules.spread): every line
  is adjudicated, none is left "unadjudicated" forever.
- `fill_payer_seq`: a remittance whose CLP02 does not say which payer it is (4 denied,
  22 reversal, 23, 25) takes the sequence its payor has on the line in Claims (the
  Primary, Secondary or Tertiary row billed to it); else that of the line's earlier
  remittances from the same payor; else the next after the payers already on the line;
  else 1.
- `follow_payments`: each adjustment takes the claim ID and line its payment row was
  matched to; a PLB naming a payer claim number (PLB03-2) takes that claim's ID.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import model as m, rules
from .engine.lines import PAYER_SEQ_OF_TYPE, adjustment_kinds, claim_roles

SPLIT = 1_000_000     # line_seq of the rows a claim-level row is split into: SPLIT + position


def _upper(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.upper()


def spread_claim_rows(rows: pd.DataFrame, adjs: pd.DataFrame, claims: pd.DataFrame
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each matched claim-level payment row (level "claim", no SVC) over every line
    of its claim in Claims, and its adjustments with it. Each adjustment is spread by the
    lines' charges; the charge too; the paid amount is what balances each line (its charge
    less its adjustments) when the claim balanced, else spread the same way; the money
    columns are the sums of the line's spread adjustments by rule (rules.SUMMARY)."""
    if rows.empty or "matched_by" not in rows:
        return rows, adjs
    todo = rows.index[(rows["level"] == "claim") & (rows["line_seq"] == 0) & rows["matched_by"].notna()
                      & (rows["matched_by"] != "")]
    if not len(todo):
        return rows, adjs
    lines_only = claims[claim_roles(claims)["is_line"].to_numpy()]   # one row per claim line
    ids = _upper(lines_only["claim_id"])
    out_rows, out_adjs, drop_adj = [], [], np.zeros(len(adjs), dtype=bool)
    adj_seq, adj_line = adjs["claim_seq"].to_numpy(), adjs["line_seq"].to_numpy()
    kinds = adjustment_kinds(adjs)
    for i in todo:
        row = rows.loc[i]
        lines = lines_only[ids == str(row["claim_id"]).strip().upper()].sort_values("line", kind="stable")
        if len(lines) < 2:
            out_rows.append(row.to_frame().T)
            continue
        weights = lines["charge"].fillna(0).astype("int64").tolist()
        mine = np.flatnonzero((adj_seq == row["claim_seq"]) & (adj_line == 0))
        drop_adj[mine] = True
        pieces = pd.DataFrame([row] * len(lines)).reset_index(drop=True)
        pieces["line"] = lines["line"].astype("Int64").to_numpy()
        pieces["line_seq"] = [SPLIT + k for k in range(len(lines))]
        pieces["cpt"] = lines["cpt"].astype(object).to_numpy()
        charge = int(0 if pd.isna(row["charge"]) else row["charge"])
        paid = int(0 if pd.isna(row["paid"]) else row["paid"])
        interest = int(0 if pd.isna(row.get("interest", 0)) else row.get("interest", 0))
        pieces["interest"] = pd.array([interest] + [0] * (len(lines) - 1), dtype="Int64")
        pieces["charge"] = pd.array(rules.spread(charge, weights), dtype="Int64")
        sums = {c: np.zeros(len(lines), dtype="int64") for c in rules.SUMMARY}
        adjusted = np.zeros(len(lines), dtype="int64")
        for j in mine:
            amount = int(0 if pd.isna(adjs["amount"].iat[j]) else adjs["amount"].iat[j])
            shares = np.array(rules.spread(amount, weights), dtype="int64")
            adjusted += shares
            for column, which in rules.SUMMARY.items():
                if kinds.iat[j] in which:
                    sums[column] += shares
            split = pd.DataFrame([adjs.iloc[j]] * len(lines)).reset_index(drop=True)
            split["line"] = pieces["line"].to_numpy()
            split["line_seq"] = pieces["line_seq"].to_numpy()
            split["amount"] = pd.array(shares, dtype="Int64")
            out_adjs.append(split)
        # CLP04 may include the claim's interest (AMT*I): that is not payment for a line.
        if interest and charge == paid - interest + int(adjusted.sum()):
            paid -= interest
        balanced = charge == paid + int(adjusted.sum())
        pieces["paid"] = pd.array(pieces["charge"].to_numpy(dtype="int64") - adjusted if balanced
                                  else rules.spread(paid, weights), dtype="Int64")
        if not pd.isna(row["allowed"]):
            pieces["allowed"] = pd.array(rules.spread(int(row["allowed"]), weights), dtype="Int64")
        for column, values in sums.items():
            pieces[column] = pd.array(values, dtype="Int64")
        out_rows.append(pieces)
    keep = rows.drop(index=todo)
    parts = [keep.assign(_at=keep.index.astype(float))]
    for i, piece in zip(todo, out_rows):
        parts.append(piece.assign(_at=float(i) + np.arange(1, len(piece) + 1) / (len(piece) + 1)))
    merged = pd.concat(parts, ignore_index=True).sort_values("_at", kind="stable").drop(columns="_at")
    merged = merged.astype({c: rows[c].dtype for c in rows.columns if c in merged}, errors="ignore")
    new_adjs = pd.concat([adjs[~drop_adj], *out_adjs], ignore_index=True) if out_adjs else adjs
    return merged.reset_index(drop=True), new_adjs.astype({c: adjs[c].dtype for c in adjs.columns},
                                                          errors="ignore")


def fill_payer_seq(rows: pd.DataFrame, claims: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Payer Seq where CLP02 did not say it (see the module docstring). history: the
    Payments rows already in the workbook (claim_id, line, payor, payer_seq)."""
    rows = rows.copy()
    blank = rows["payer_seq"].fillna("").astype(str) == ""
    if not blank.any():
        return rows
    known: dict[tuple, str] = {}
    on_line: dict[tuple, int] = {}

    def remember(frame: pd.DataFrame) -> None:
        for cid, line, payor, seq in zip(_upper(frame["claim_id"]), frame["line"], _upper(frame["payor"]),
                                         frame["payer_seq"].fillna("").astype(str)):
            if seq and not pd.isna(line):
                known[(cid, int(line), payor)] = seq
                on_line[(cid, int(line))] = max(on_line.get((cid, int(line)), 0), int(seq))

    remember(history)
    # The bills in Claims say which payer each payor is on a line (Primary 1, Secondary 2...).
    kinds = claims["claim_type"].fillna("").astype(str) if "claim_type" in claims else pd.Series("", index=claims.index)
    billed = {(cid, int(line), payor): str(PAYER_SEQ_OF_TYPE.get(kind, 1)) for cid, line, payor, kind in
              zip(_upper(claims["claim_id"]), claims["line"], _upper(claims["payor"]), kinds) if not pd.isna(line)}
    seqs = rows["payer_seq"].fillna("").astype(str).tolist()
    for k, (cid, line, payor) in enumerate(zip(_upper(rows["claim_id"]), rows["line"], _upper(rows["payor"]))):
        if seqs[k] or pd.isna(line):
            if seqs[k] and not pd.isna(line):
                known[(cid, int(line), payor)] = seqs[k]
                on_line[(cid, int(line))] = max(on_line.get((cid, int(line)), 0), int(seqs[k]))
            continue
        line = int(line)
        seq = billed.get((cid, line, payor)) or known.get((cid, line, payor))
        if seq is None:
            seq = str(min(on_line[(cid, line)] + 1, 3)) if (cid, line) in on_line else "1"
        seqs[k] = seq
        known[(cid, line, payor)] = seq
        on_line[(cid, line)] = max(on_line.get((cid, line), 0), int(seq))
    rows["payer_seq"] = pd.Series(seqs, index=rows.index, dtype=object)
    return rows


def follow_payments(adjs: pd.DataFrame, rows: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Adjustments with the claim ID and line of their payment row (as matched), and PLBs
    with the claim ID their payer claim number names, when one claim has it (in Claims, or
    on a payment: `rows` may hold the workbook's Payments rows too, without claim_seq)."""
    adjs = adjs.copy()
    own = rows.dropna(subset=["claim_seq"]) if "claim_seq" in rows else rows.iloc[0:0]
    where = {(s, q): (cid, line) for s, q, cid, line in
             zip(own["claim_seq"], own["line_seq"], own["claim_id"], own["line"])}
    provider = adjs["level"] == "provider"
    found = [where.get((s, q)) for s, q in zip(adjs["claim_seq"], adjs["line_seq"])]
    adjs["claim_id"] = [f[0] if f and not p else c for f, p, c in zip(found, provider, adjs["claim_id"])]
    adjs["line"] = pd.array([f[1] if f and not p else v for f, p, v in zip(found, provider, adjs["line"])],
                            dtype="Int64")
    if provider.any():
        numbers = pd.concat([pd.DataFrame({"no": _upper(claims["payor_claim_no"]), "cid": claims["claim_id"]}),
                             pd.DataFrame({"no": _upper(rows["payor_claim_no"]), "cid": rows["claim_id"]})])
        numbers = numbers[numbers["no"] != ""].drop_duplicates()
        unique = numbers.groupby("no")["cid"].agg(lambda ids: ids.iloc[0] if _upper(ids).nunique() == 1 else None)
        refs = _upper(adjs["payor_claim_no"])
        linked = refs.map(unique).where(provider & (refs != ""))
        adjs["claim_id"] = linked.where(linked.notna(), adjs["claim_id"]).astype(object)
    return adjs.reindex(columns=list(dict.fromkeys(m.ADJUSTMENTS.keys + list(adjs.columns))))
