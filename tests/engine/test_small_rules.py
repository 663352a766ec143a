"""Issue-13 defects, each on a hand-built practice: a late filing is a missed deadline; the
month-by-month table has one month basis; a paid line with no contracted rate is a warning;
the Scorecard's collection columns tie."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine import calculate
from payorxl.validate import validate

D = dt.datetime
S = m.Settings.make("2026-06-30")


def results(claims, payments=(), fees=()):
    records = {"Contracts": [{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 90, "Appeal Days": 90}],
               "FeeSchedule": list(fees), "Claims": claims, "Payments": list(payments)}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames, errors = validate(frames, S)
    return calculate(frames, S, errors)


def claim(cid, dos, filed=None, charge=100):
    return {"Claim ID": cid, "Line": 1, "Patient ID": "P", "Payor": "Acme", "CPT": "99213",
            "Date of Service": dos, "Charge": charge, "Filed Date": filed}


def paid(cid, day, amount, status="1", denied=0):
    return {"Claim ID": cid, "Line": 1, "Payor": "Acme", "Remit Date": day, "Claim Status": status,
            "Paid": amount, "Denied Amount": denied, "Contractual Adj": 100 - amount - denied}


def test_a_claim_filed_after_its_deadline_counts_as_a_missed_deadline():
    """DOS 01/05, 90 days: due 04/05. Filed 04/20 with no remittance yet: "Filed late",
    a missed filing deadline ($100 charge at risk: no rate), counted on the Scorecard."""
    r = results([claim("A", D(2026, 1, 5), D(2026, 4, 20))])
    assert r.lines["filing_status"].tolist() == ["Filed late"]
    filing = r.deadlines.set_index("deadline").loc["Timely filing"]
    assert (filing["missed"], filing["missed_amount"]) == (1, 10000)
    assert r.kpis["missed_deadlines"].value == 1 and r.scorecard["missed_filing"].tolist() == [1]


def test_the_monthly_denial_rate_is_by_month_of_service():
    """Claims served in January (A denied, B paid) and February (C paid), all adjudicated
    in March: January 1 of 2 = 50%, February 0 of 1. By first-remittance month both would
    be March."""
    r = results([claim("A", D(2026, 1, 5), D(2026, 1, 6)), claim("B", D(2026, 1, 9), D(2026, 1, 10)),
                 claim("C", D(2026, 2, 3), D(2026, 2, 4))],
                [paid("A", D(2026, 3, 2), 0, "4", denied=100), paid("B", D(2026, 3, 2), 80),
                 paid("C", D(2026, 3, 9), 80)])
    assert r.monthly[["month", "denial_rate"]].values.tolist() == [["2026-01", 0.5], ["2026-02", 0.0]]


def test_a_paid_line_with_no_contracted_rate_is_a_warning_naming_it():
    r = results([claim("A", D(2026, 1, 5), D(2026, 1, 6)), claim("B", D(2026, 1, 9), D(2026, 1, 10))],
                [paid("A", D(2026, 3, 2), 80), paid("B", D(2026, 3, 2), 80)])
    (w,) = [e for e in r.errors if "no contracted rate" in e.message]
    assert w.severity == "warning" and (w.ref.sheet, w.ref.row, w.ref.column) == ("Claims", 2, "CPT")
    assert w.message.startswith("2 paid line(s) of Acme have no contracted rate (99213)")
    r = results([claim("A", D(2026, 1, 5), D(2026, 1, 6))], [paid("A", D(2026, 3, 2), 80)],
                [{"Payor": "Acme", "CPT": "99213", "Effective From": D(2025, 1, 1), "Allowed": 80}])
    assert not [e for e in r.errors if "no contracted rate" in e.message]


def test_the_no_rate_warning_lists_each_code_once_sorted_and_points_at_the_first_row():
    """Eight paid lines of Acme, none priced (no fee schedule), on seven CPT/modifier codes
    (99213 twice, one of them with modifier 25 as its own code): one warning, counting 8
    lines, naming the codes sorted, the first five and "2 more", at the lowest Claims row
    (row 2, CPT 99214: rows follow the order given). With warnings=False (a PX_ formula)
    the engine does not work it out, and no figure changes."""
    cpts = [("99214", ""), ("99213", ""), ("99213", "25"), ("99212", ""), ("99215", ""), ("36415", ""),
            ("80053", ""), ("99213", "")]
    claims = [{**claim(f"C{i}", D(2026, 1, 5), D(2026, 1, 6)), "CPT": cpt, "Modifier": mod}
              for i, (cpt, mod) in enumerate(cpts)]
    payments = [paid(f"C{i}", D(2026, 3, 2), 80) for i in range(len(cpts))]
    r = results(claims, payments)
    (w,) = [e for e in r.errors if "no contracted rate" in e.message]
    assert (w.ref.row, w.value) == (2, "99214")
    assert w.message == ("8 paid line(s) of Acme have no contracted rate (36415, 80053, 99212, 99213, "
                         "99213-25 and 2 more), so their payments are not checked for underpayment")
    records = {"Contracts": [{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 90, "Appeal Days": 90}],
               "Claims": claims, "Payments": payments}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames, errors = validate(frames, S)
    quiet = calculate(frames, S, errors, warnings=False)
    assert not [e for e in quiet.errors if "no contracted rate" in e.message]
    assert quiet.lines.equals(r.lines) and quiet.scorecard.equals(r.scorecard)


def test_prompt_pay_interest_short_is_summed_per_claim_over_its_lines():
    """Acme pays a clean claim within 30 days of filing, else 12% a year. Claim A (two lines,
    filed 03/05, due 04/04): line 1 was paid 05/14, 40 days late, so interest owed is 150 x
    12% x 40/365 = $1.9726 -> $1.97; line 2 was paid on time (03/20) and carries the $0.50
    of interest the payer sent for the claim. $1.47 short, over the $1.00 tolerance: one
    worklist row, on the claim's first line. Claim B, paid on time, owes none and is not
    listed; nor is claim C, late by 1 day ($0.05 owed, under the tolerance)."""
    def acme(records):
        return [dict(r, **{"Prompt Pay Days": 30, "Prompt Pay Interest": 0.12}) for r in records]
    records = {"Contracts": acme([{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 90,
                                   "Appeal Days": 90}]),
               "Claims": [dict(claim("A", D(2026, 3, 1), D(2026, 3, 5), 200)),
                          dict(claim("A", D(2026, 3, 1), D(2026, 3, 5), 150), Line=2),
                          claim("B", D(2026, 3, 1), D(2026, 3, 5), 200),
                          claim("C", D(2026, 3, 1), D(2026, 3, 5), 200)],
               "Payments": [dict(paid("A", D(2026, 5, 14), 150), **{"Contractual Adj": 50}),
                            dict(paid("A", D(2026, 3, 20), 100), Line=2, Interest=0.50,
                                 **{"Contractual Adj": 50}),
                            dict(paid("B", D(2026, 3, 20), 150), **{"Contractual Adj": 50}),
                            dict(paid("C", D(2026, 4, 5), 150), **{"Contractual Adj": 50})]}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames, errors = validate(frames, S)
    r = calculate(frames, S, errors)
    assert r.lines["prompt_pay_status"].tolist() == ["Paid late", "Paid on time", "Paid on time", "Paid late"]
    assert r.lines["prompt_pay_interest"].fillna(0).tolist() == [197, 0, 0, 5]
    work = r.worklist[r.worklist["action"] == "Claim prompt-pay interest"]
    assert work[["claim_id", "line", "amount"]].values.tolist() == [["A", 1, 147]]


def test_the_scorecards_collection_columns_tie():
    """A paid 80 of 100 (CO-20), B not yet adjudicated (100): Net collection rate =
    Paid ÷ (Adjudicated Charges − Contractual Adj) = 80 ÷ (100 − 20) = 100%, and the
    columns on the row say so; Charges (200) counts B too."""
    r = results([claim("A", D(2026, 1, 5), D(2026, 1, 6)), claim("B", D(2026, 1, 9), D(2026, 1, 10))],
                [paid("A", D(2026, 3, 2), 80)])
    row = r.scorecard.iloc[0]
    assert (row["charges"], row["paid"], row["charges_adjudicated"], row["contractual_adj"]) == (20000, 8000, 10000,
                                                                                                 2000)
    assert row["net_collection_rate"] == pytest.approx(8000 / (10000 - 2000))


def test_each_scorecard_column_is_the_figure_of_the_rule_that_defines_it():
    """The Scorecard sums every column on one coding of the payors (engine._scorecard); each
    per-payor column must still be the figure of the function that defines it, on a
    generated practice of eight payors and a ninth with nothing adjudicated (and a tenth
    contract with no line at all): the denial rates
    (denials.initial_denial_rate), the collection columns (collections.net_collection_rate),
    the A/R (collections.aging), the lines, charges and paid (the lines summed by payor)."""
    from payorxl.demo import demo_settings, generate_large
    from payorxl.engine import collections, denials
    frames = generate_large(600)
    contract = frames["Contracts"].iloc[:1]
    frames["Contracts"] = pd.concat([frames["Contracts"], contract.assign(payor="No Lines"),
                                     contract.assign(payor="Quiet Plan")], ignore_index=True)
    # a ninth payor whose three lines have no remittance: nothing adjudicated (rates NaN), all open
    quiet = frames["Claims"].iloc[:3].assign(payor="Quiet Plan", claim_id=["Q1", "Q2", "Q3"])
    frames["Claims"] = pd.concat([frames["Claims"], quiet], ignore_index=True)
    r = calculate(frames, demo_settings())
    card, lines = r.scorecard.set_index("payor"), r.lines
    assert len(card) == lines["payor"].nunique() == 9 and "No Lines" not in card.index
    assert np.isnan(card.at["Quiet Plan", "denial_rate"]) and card.at["Quiet Plan", "ar"] == quiet["charge"].sum()
    by_payor = lines.groupby("payor")
    assert card["lines"].tolist() == by_payor.size().tolist()
    assert card["charges"].tolist() == by_payor["charge"].sum().tolist()
    assert card["paid"].tolist() == by_payor["paid"].sum().tolist()
    ncr = collections.net_collection_rate(lines, lines, by="payor").set_index("payor").reindex(card.index)
    assert card["charges_adjudicated"].tolist() == ncr["charges"].fillna(0).astype("int64").tolist()
    assert card["contractual_adj"].tolist() == ncr["contractual_adj"].fillna(0).astype("int64").tolist()
    pd.testing.assert_series_equal(card["net_collection_rate"], ncr["net_collection_rate"], check_names=False)
    rates = denials.initial_denial_rate(lines, lines, by="payor").set_index("payor").reindex(card.index)
    pd.testing.assert_series_equal(card["denial_rate"], rates["denial_rate"], check_names=False)
    pd.testing.assert_series_equal(card["charge_denial_rate"], rates["charge_denial_rate"], check_names=False)
    aging = collections.aging(lines, lines[["balance", "aging_bucket"]], r.settings, by="payor").set_index("payor")
    assert card["ar"].tolist() == aging["total"].reindex(card.index).fillna(0).astype("int64").tolist()
    assert card["ar"].sum() == lines["balance"].clip(lower=0).sum() > 0


def test_a_contract_notice_shows_what_the_payor_paid():
    """Give contract notice (its notice deadline two days off): the amount is what the payor
    paid over all its lines, $80 + $45 = $125.00, not another payor's $30; a payor with a
    contract and no line shows $0."""
    term = {"Term End": D(2026, 9, 30), "Notice Days": 90}
    records = {"Contracts": [{"Payor": p, "Payor Type": "Commercial", "Filing Limit": 90, "Appeal Days": 90, **term}
                             for p in ("Acme", "Zeta")] + [{"Payor": "Other", "Payor Type": "Commercial"}],
               "Claims": [claim("A", D(2026, 3, 1), D(2026, 3, 5)), claim("B", D(2026, 3, 1), D(2026, 3, 5)),
                          dict(claim("C", D(2026, 3, 1), D(2026, 3, 5)), Payor="Other")],
               "Payments": [paid("A", D(2026, 4, 1), 80), paid("B", D(2026, 4, 1), 45),
                            dict(paid("C", D(2026, 4, 1), 30), Payor="Other")]}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames, errors = validate(frames, S)
    work = calculate(frames, S, errors).worklist
    notices = work[work["action"] == "Give contract notice"].set_index("payor")
    assert notices["amount"].to_dict() == {"Acme": 12500, "Zeta": 0}
    assert notices["days_left"].tolist() == [2, 2]


def test_the_worklist_says_why_each_denial_is_listed():
    """Three claims denied on 06/01 ($100 each), routed by the seeded DenialRouting: A CO-16
    with remark MA130 (Missing Information: correct and resubmit), B PR-1 (the patient's to
    pay), C CO-50 (Medical Necessity: appeal) whose level-1 appeal was upheld on 06/20 (the
    contract allows two levels). Each row's detail, as a biller reads it."""
    def denial(cid, group, carc, rarc=None):
        return dict(paid(cid, D(2026, 6, 1), 0, status="4", denied=100),
                    **{"Group Code": group, "CARC": carc, "RARC": rarc, "Contractual Adj": 0})
    from payorxl.engine.seeds import SEEDS
    records = {"Contracts": [{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 365, "Appeal Days": 90,
                              "Appeal Levels": 2, "Next Level Days": 60}],
               "Claims": [claim(c, D(2026, 5, 1), D(2026, 5, 5)) for c in "ABC"],
               "Payments": [denial("A", "CO", "16", "MA130"), denial("B", "PR", "1"), denial("C", "CO", "50")],
               "Appeals": [{"Claim ID": "C", "Line": 1, "Appeal Date": D(2026, 6, 5), "Level": 1, "Outcome": "Upheld",
                            "Decision Date": D(2026, 6, 20)}]}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames["DenialRouting"] = SEEDS["DenialRouting"]()
    frames, errors = validate(frames, S)
    work = calculate(frames, S, errors).worklist.set_index("claim_id")
    assert work["action"].to_dict() == {"A": "Correct and resubmit", "B": "Bill patient",
                                        "C": "Appeal denial (level 2)"}
    assert work["detail"].to_dict() == {
        "A": "denied CO-16 MA130 Missing Information: correct the claim and resubmit it (no appeal needed)",
        "B": "denied PR-1 Patient Responsibility: the patient's to pay",
        "C": "level 1 upheld; denied CO-50 Medical Necessity"}


def test_line_actions_is_given_every_column_it_reads():
    """build_worklist hands line_actions the columns of LINE_ACTION_COLUMNS alone: every line
    column the source of line_actions and _rows names (as lines["x"], lines.get("x"),
    "x" in lines or frame.loc[..., ["x", ...]]) must be in it, or a column read with .get or
    `in` would be silently blank."""
    import inspect
    import re

    from payorxl.engine import worklist
    source = inspect.getsource(worklist.line_actions) + inspect.getsource(worklist._rows)
    quoted = set(re.findall(r'"([a-z_0-9]+)"', source))
    line_columns = set(results([claim("A", D(2026, 1, 5))]).lines.columns)   # what build_worklist is given
    named = quoted & line_columns
    assert {"denial_rarc", "resubmit_deadline", "rejected", "payor", "dos"} <= named       # (the search finds them)
    assert named <= worklist.LINE_ACTION_COLUMNS, sorted(named - worklist.LINE_ACTION_COLUMNS)


def secondary(cid, payor="Acme", kind="Secondary", filed=None):
    return dict(claim(cid, D(2026, 1, 5), filed), **{"Claim Type": kind, "Payor": payor})


def test_a_crossed_over_secondary_needs_no_filing():
    """A's primary forwarded it (CLP02 19) to the secondary, billed in Claims but not filed:
    its Filing Status is "Crossed over", not Missed, and the Worklist asks nothing of it."""
    r = results([claim("A", D(2026, 1, 5), D(2026, 1, 6)), secondary("A")],
                [dict(paid("A", D(2026, 2, 2), 60, "19"), **{"Patient Resp": 20, "Contractual Adj": 20})])
    assert r.claim_rows["filing_status"].tolist() == ["Filed on time", "Crossed over"]
    assert r.worklist.empty or not (r.worklist["claim_id"] == "A").any()


def test_a_line_billed_to_its_secondary_and_tertiary_only_counts_once():
    r = results([secondary("A"), secondary("A", kind="Tertiary")])
    assert r.claim_rows["role"].tolist() == ["Line", "Next payer"]
    assert len(r.lines) == 1 and r.kpis["ar_total"].value == 10000


def test_a_payment_typed_in_another_case_pays_the_claim():
    """Excel's SUMIFS matches "a" to "A": so does the engine."""
    r = results([claim("A", D(2026, 1, 5), D(2026, 1, 6))], [dict(paid("A", D(2026, 2, 2), 80), **{"Claim ID": "a"})])
    assert r.lines["paid"].tolist() == [8000] and r.lines["balance"].tolist() == [0]


def test_a_reversal_spreads_its_claim_level_adjustment_as_the_original_did():
    from payorxl import rules
    assert rules.spread(2000, [18000, 12000]) == [1200, 800]
    assert rules.spread(-2000, [-18000, -12000]) == [-1200, -800]


def test_underpayment_follow_up_is_read_and_counts_only_what_is_still_owed():
    """Fee $100. A, B, C, D are each allowed $80: $20 short (beyond $1 and 2%). The practice
    sent A's to the payor on 03/10, recovered B's $20, found C's invalid; D has no row (Open).
    Disputable until 03/02 + 180 = 08/29. Worklist: D "Chase underpayment", A "Follow up
    underpayment"; KPI and Scorecard count A
    and D: 2 lines, $40; Scorecard recovered $20."""
    fee = [{"Payor": "Acme", "CPT": "99213", "Effective From": D(2025, 1, 1), "Allowed": 100}]
    ids = ("A", "B", "C", "D")
    claims = [claim(c, D(2026, 2, 2), D(2026, 2, 3)) for c in ids]
    payments = [dict(paid(c, D(2026, 3, 2), 80), Allowed=80) for c in ids]
    follow = [{"Claim ID": "A", "Line": 1, "Status": "Sent", "Status Date": D(2026, 3, 10)},
              {"Claim ID": "b", "Line": 1, "Status": "Recovered", "Amount Recovered": 20},
              {"Claim ID": "C", "Line": 1, "Status": "Invalid", "Note": "bundled per contract"}]
    records = {"Contracts": [{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 90, "Appeal Days": 180}],
               "FeeSchedule": fee, "Claims": claims, "Payments": payments, "Underpayments": follow}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames, errors = validate(frames, S)
    r = calculate(frames, S, errors)
    assert r.lines["underpaid"].all() and r.lines["follow_up"].tolist() == ["Sent", "Recovered", "Invalid", "Open"]
    work = r.worklist.set_index("claim_id")["action"]
    assert work.to_dict() == {"D": "Chase underpayment", "A": "Follow up underpayment"}
    assert r.kpis["underpayment"].value == 4000
    row = r.scorecard.iloc[0]
    assert (row["underpaid_lines"], row["underpayment"], row["recovered"]) == (2, 4000, 2000)


def test_a_timely_filing_denial_is_a_missed_filing_not_an_appeal():
    """A is denied CO-29 on 03/02: the Worklist lists it once, as a missed filing deadline
    (appeal only with proof of timely filing), never as "Appeal denial" too."""
    r = results([claim("A", D(2026, 1, 5), D(2026, 5, 20))],
                [dict(paid("A", D(2026, 6, 2), 0, "4", denied=100), **{"Group Code": "CO", "CARC": "29"})])
    assert r.lines["filing_status"].tolist() == ["Missed"]
    assert r.worklist["action"].tolist() == ["Missed filing deadline"]
    assert r.worklist["detail"].tolist() == ["denied CO-29: appeal only with proof of timely filing"]


def test_appeals_go_level_by_level_before_a_denial_is_final():
    """Denied 02/02 (CO-50). Acme (commercial: two levels, 60 days between them):
    A: level 1 upheld 03/01 → level 2 due 03/01 + 60 = 04/30, passed by 06/30: Missed,
       written off ($100, "Appeal missed").
    B: level 1 upheld 05/15 → level 2 due 07/14: 14 days left, Due soon (the window is 14
       days), not written off.
    C: level 2 upheld → final: "Upheld", written off ("Appeal upheld"); its deadline stays
       level 1's, 02/02 + 90 = 05/03.
    Medicare (five levels): M: level 1 upheld 03/01 → reconsideration within 180 days:
       08/28, Open, not written off."""
    contracts = [{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 365, "Appeal Days": 90},
                 {"Payor": "Medicare", "Payor Type": "Medicare", "Filing Limit": 365, "Appeal Days": 120}]
    claims = [claim(c, D(2026, 1, 5), D(2026, 1, 6)) for c in "ABC"]
    claims.append(dict(claim("M", D(2026, 1, 5), D(2026, 1, 6)), Payor="Medicare"))
    payments = [dict(paid(c, D(2026, 2, 2), 0, "4", denied=100), **{"Group Code": "CO", "CARC": "50"})
                for c in "ABC"]
    payments.append(dict(paid("M", D(2026, 2, 2), 0, "4", denied=100), Payor="Medicare", **{"CARC": "50"}))

    def appeal(cid, level, decided):
        return {"Claim ID": cid, "Line": 1, "Appeal Date": decided - dt.timedelta(days=20), "Level": level,
                "Outcome": "Upheld", "Decision Date": decided}
    appeals = [appeal("A", 1, D(2026, 3, 1)), appeal("B", 1, D(2026, 5, 15)), appeal("C", 1, D(2026, 3, 1)),
               appeal("C", 2, D(2026, 4, 1)), appeal("M", 1, D(2026, 3, 1))]
    records = {"Contracts": contracts, "Claims": claims, "Payments": payments, "Appeals": appeals}
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    frames, errors = validate(frames, S)
    L = calculate(frames, S, errors).lines.set_index("claim_id")
    assert L["appeal_level"].to_dict() == {"A": 2, "B": 2, "C": 2, "M": 2}
    assert L["appeal_status"].to_dict() == {"A": "Missed", "B": "Due soon", "C": "Upheld", "M": "Open"}
    assert L["appeal_deadline"].dt.strftime("%m/%d").to_dict() == {"A": "04/30", "B": "07/14", "C": "05/03",
                                                                    "M": "08/28"}
    assert L["written_off"].to_dict() == {"A": 10000, "B": 0, "C": 10000, "M": 0}
    assert L["writeoff_reason"].to_dict() == {"A": "Appeal missed", "B": "", "C": "Appeal upheld", "M": ""}


def test_expected_allowed_is_the_lesser_of_the_fee_and_the_charge():
    """A $10 lab (36415) under a $15 fee is expected at $10 and paid $10: not underpaid.
    A 99213 billed $100 under an $80 fee is expected at $80."""
    fee = [{"Payor": "Acme", "CPT": c, "Effective From": D(2025, 1, 1), "Allowed": a} for c, a in (("36415", 15),
                                                                                                  ("99213", 80))]
    lab = dict(claim("L", D(2026, 2, 2), D(2026, 2, 3), charge=10), CPT="36415")
    r = results([lab, claim("V", D(2026, 2, 2), D(2026, 2, 3))],
                [dict(paid("L", D(2026, 3, 2), 10), Allowed=10, **{"Contractual Adj": 0})], fee)
    assert r.lines["expected_allowed"].tolist() == [1000, 8000]
    assert r.lines["variance"].tolist()[0] == 0 and not r.lines["underpaid"].any()


def test_claim_roles_mark_each_line_once():
    """claim_roles' is_line is exactly the rows whose role is Line (the engine keeps those as
    lines without comparing the Role texts): a Primary and its Secondary, a line billed to
    its Secondary alone (the line is that row), a voided line (both rows Void), and a practice
    of Primary rows only (the quick path: every row a line)."""
    from payorxl.engine.lines import claim_roles
    rows = [claim("A", D(2026, 1, 5)), secondary("A"), secondary("B"), claim("C", D(2026, 1, 5)),
            dict(claim("C", D(2026, 1, 5)), Frequency="8", **{"Claim Type": "Secondary"})]
    claims = typed_frame(m.CLAIMS, rows).frame
    roles = claim_roles(claims)
    assert roles["role"].tolist() == ["Line", "Next payer", "Line", "Void", "Void"]
    assert roles["is_line"].tolist() == [True, False, True, False, False]
    assert roles["next_payer_seq"].tolist() == [2, 0, 2, 0, 0]
    primary_only = claim_roles(typed_frame(m.CLAIMS, [claim("A", D(2026, 1, 5)), claim("B", D(2026, 1, 5))]).frame)
    assert primary_only["role"].tolist() == ["Line", "Line"] and primary_only["is_line"].tolist() == [True, True]
    assert claim_roles(claims.iloc[:0])["is_line"].tolist() == []


def test_payments_before_any_claim_line_give_no_lines_and_no_error():
    """A remittance imported into a workbook with no Claims rows yet (or whose only claim
    is voided, frequency 8, with the payer's reversal): nothing is counted, nothing fails."""
    r = results([], [paid("A", D(2026, 2, 1), 50)])
    assert len(r.lines) == 0 and r.kpis["ar_total"].value == 0
    void = dict(claim("A", D(2026, 1, 5)), Frequency="8")
    r = results([void], [paid("A", D(2026, 2, 1), 0, status="22")])
    assert len(r.lines) == 0 and r.claim_rows["role"].tolist() == ["Void"]


def test_a_denial_of_a_frame_not_from_conversion_keeps_its_values():
    """line_summary on frames built by hand (not through conversion): a blank next payer
    (Int64 <NA>) is none, so the $100 denied line is open with nothing owed by the patient;
    a remark code typed as a number stays that number."""
    import pandas as pd

    from payorxl.engine.lines import line_summary
    claims = typed_frame(m.CLAIMS, [claim("A", D(2026, 1, 5))]).frame
    pay = typed_frame(m.PAYMENTS, [dict(paid("A", D(2026, 2, 1), 0, status="4", denied=100),
                                        **{"Group Code": "CO", "CARC": "16"})]).frame
    pay["rarc"] = pd.Series([290], dtype=object)
    out = line_summary(claims.assign(next_payer_seq=pd.array([pd.NA], dtype="Int64")), pay)
    assert out[["denial_open", "patient_share", "denied_amount"]].iloc[0].tolist() == [True, 0, 10000]
    assert out["denial_rarc"].iloc[0] == 290 and out["denial_group"].iloc[0] == "CO"
