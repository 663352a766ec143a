"""Properties the engine must keep for any input (hypothesis): figures do not depend on
row order; a practice split by payor gives the same per-payor figures; every deadline
is on or after its clock start; money reconciles to the cent."""
import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine import calculate

PAYORS = {
    "Medicare": dict(payor_type="Medicare", filing_limit=12, filing_unit="months", appeal_days=120,
                     mailing_days=5, prompt_pay_days=30, prompt_pay_interest=0.05),
    "Acme PPO": dict(payor_type="Commercial", filing_limit=90, appeal_days=180, prompt_pay_days=45,
                     prompt_pay_interest=0.12, fee_basis="% of Medicare", pct_of_medicare=1.25,
                     term_end=dt.date(2026, 12, 31), auto_renew="Yes", notice_days=90),
    "Basin HMO": dict(payor_type="Commercial", filing_limit=180, filing_clock="Later of DOS and Primary Remit",
                      appeal_days=60),
}
CPTS = {"99213": 92.46, "99214": 130.60, "36415": 3.00}
AS_OF = "2026-10-31"


def contracts():
    return [dict(payor=p, **terms) for p, terms in PAYORS.items()]


def fees():
    rows = [dict(payor="Medicare", cpt=c, effective_from=dt.date(2025, 1, 1), allowed=a) for c, a in CPTS.items()]
    rows += [dict(payor="Basin HMO", cpt=c, effective_from=dt.date(2025, 1, 1), allowed=round(a * 1.1, 2))
             for c, a in CPTS.items()]
    return rows


day = st.integers(min_value=0, max_value=700)
line_st = st.fixed_dictionaries({
    "payor": st.sampled_from(sorted(PAYORS)), "cpt": st.sampled_from(sorted(CPTS)),
    "units": st.integers(1, 3), "dos": day, "charge": st.integers(1, 50000),
    "filed_after": st.one_of(st.none(), st.integers(0, 200)),
    "remits": st.lists(st.fixed_dictionaries({
        "after": st.integers(1, 120), "paid": st.integers(0, 40000), "pr": st.integers(0, 5000),
        "co45": st.integers(0, 5000), "denied": st.integers(0, 20000),
        "status": st.sampled_from(["1", "1", "4", "22"]), "carc": st.sampled_from(["", "16", "29", "50", "197"]),
    }), max_size=3),
    "appeal": st.one_of(st.none(), st.tuples(st.integers(0, 90), st.sampled_from(["Pending", "Upheld", "Overturned"]))),
})


def build(lines):
    start = dt.date(2025, 1, 1)
    claims, payments, appeals = [], [], []
    for i, ln in enumerate(lines):
        dos = start + dt.timedelta(days=ln["dos"])
        filed = None if ln["filed_after"] is None else dos + dt.timedelta(days=ln["filed_after"])
        cid = f"C{i:04d}"
        claims.append(dict(claim_id=cid, line=1, patient_id=f"P{i}", payor=ln["payor"], cpt=ln["cpt"],
                           units=ln["units"], dos=dos, charge=ln["charge"] / 100, filed_date=filed))
        base = filed or dos
        for r in ln["remits"]:
            paid = -r["paid"] if r["status"] == "22" else (0 if r["status"] == "4" else r["paid"])
            payments.append(dict(claim_id=cid, line=1, payor=ln["payor"],
                                 remit_date=base + dt.timedelta(days=r["after"]),
                                 claim_status=r["status"], paid=paid / 100, patient_resp=r["pr"] / 100,
                                 contractual_adj=r["co45"] / 100, denied_amount=r["denied"] / 100,
                                 group_code="CO" if r["carc"] else None, carc=r["carc"] or None))
        if ln["appeal"] and ln["remits"]:
            appeals.append(dict(claim_id=cid, line=1, appeal_date=base + dt.timedelta(days=ln["appeal"][0] + 1),
                                outcome=ln["appeal"][1]))
    frames = {}
    for table, rows in ((m.CONTRACTS, contracts()), (m.FEE_SCHEDULE, fees()), (m.CLAIMS, claims),
                       (m.PAYMENTS, payments), (m.APPEALS, appeals)):
        c = typed_frame(table, rows)
        assert c.errors == []
        frames[table.name] = c.frame
    return frames


S = m.Settings.make(AS_OF)
PER_PAYOR = ["claims", "lines", "charges", "paid", "underpaid_lines", "underpayment",
             "missed_filing", "missed_appeals", "due_soon"]
relaxed = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scorecard(results):
    return results.scorecard.set_index("payor")[PER_PAYOR].sort_index()


@relaxed
@given(st.lists(line_st, min_size=1, max_size=25), st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_row_order(lines, rnd):
    """Any order of the rows gives the same figures, but for the one order the rules read:
    of a line's denials on one remittance date, the lower row in Payments is the latest
    (lines.line_summary; the Claims formulas read it so too), so those rows keep their
    order among themselves."""
    frames = build(lines)
    shuffled = {k: v.sample(frac=1, random_state=rnd.randint(0, 10**6)) for k, v in frames.items()}
    pay = shuffled["Payments"]
    same_day = pay.groupby(["claim_id", "line", "remit_date"], sort=False, dropna=False).ngroup()
    # (each group's rows back in their first order, in the places the shuffle gave the group)
    slots = pay.assign(_g=same_day.to_numpy(), _pos=np.arange(len(pay)))
    order = slots.sort_values(["_g", "_pos"]).index.to_numpy()           # each group's shuffled places
    original = slots.assign(_i=slots.index).sort_values(["_g", "_i"])["_i"].to_numpy()   # ... its first order
    placed = np.empty(len(pay), dtype=np.int64)
    placed[slots.loc[order, "_pos"].to_numpy()] = original
    shuffled["Payments"] = frames["Payments"].loc[placed]
    shuffled = {k: v.reset_index(drop=True) for k, v in shuffled.items()}
    a, b = calculate(frames, S), calculate(shuffled, S)
    pd.testing.assert_frame_equal(scorecard(a), scorecard(b))
    for key, kpi in a.kpis.items():
        other = b.kpis[key].value
        assert (kpi.value is None and other is None) or abs((kpi.value or 0) - (other or 0)) < 1e-9, key


@relaxed
@given(st.lists(line_st, min_size=1, max_size=25))
def test_splitting_by_payor_gives_the_same_per_payor_figures(lines):
    frames = build(lines)
    whole = scorecard(calculate(frames, S))
    for payor in whole.index:
        part = {k: (v[v["payor"] == payor] if "payor" in v and k != "FeeSchedule" and k != "Contracts" else v)
                for k, v in frames.items()}
        ids = set(part["Claims"]["claim_id"])
        part["Appeals"] = frames["Appeals"][frames["Appeals"]["claim_id"].isin(ids)]
        alone = scorecard(calculate({k: v.reset_index(drop=True) for k, v in part.items()}, S))
        pd.testing.assert_series_equal(alone.loc[payor], whole.loc[payor])


@relaxed
@given(st.lists(line_st, min_size=1, max_size=25))
def test_deadlines_fall_on_or_after_their_clock_start(lines):
    L = calculate(build(lines), S).lines
    assert (L["filing_deadline"] >= L["clock_start"]).all()
    denied = L["appeal_deadline"].notna()
    assert (L.loc[denied, "appeal_deadline"] >= L.loc[denied, "denial_date"]).all()
    due = L["prompt_pay_due"].notna()
    assert (L.loc[due, "prompt_pay_due"] >= L.loc[due, "filed_date"]).all()


@relaxed
@given(st.lists(line_st, min_size=1, max_size=25))
def test_money_reconciles_to_the_cent(lines):
    frames = build(lines)
    r = calculate(frames, S)
    L, P = r.lines, frames["Payments"]
    # Every cent posted in Payments lands on exactly one claim line.
    assert int(L["paid"].sum()) == int(P["paid"].sum())
    assert int(L["patient_resp"].sum()) == int(P["patient_resp"].sum())
    # Balance identity, per line, in integer cents.
    lhs = L["balance"]
    rhs = L["charge"] - L["paid"] - L["contractual_adj"] - L["patient_share"] - L["written_off"]
    assert (lhs == rhs).all()
    # The scorecard's charges and paid add up to the lines'.
    assert int(r.scorecard["charges"].sum()) == int(L["charge"].sum())
    assert int(r.scorecard["paid"].sum()) == int(L["paid"].sum())
    # Aging buckets add up to the positive balances.
    assert int(r.aging["total"].sum()) == int(lhs[lhs > 0].sum())
