"""The payment rules (PaymentRules, Modifiers, FeeSchedule Setting and Multiple Procedure) and
the denial routing (DenialRouting), each worked by hand. Money in cents."""
import datetime as dt

import pandas as pd
import pytest

from payorxl import model as m, validate
from payorxl.conversion import typed_frame
from payorxl.engine import calculate, seeds
from payorxl.engine.reimbursement import expected_allowed

AS_OF = dt.date(2026, 6, 30)
SETTINGS = m.Settings.make(AS_OF, tolerance_amount=100, tolerance_pct=0.02)


def frame(table, *records):
    converted = typed_frame(table, records)
    assert converted.errors == [], converted.errors
    return converted.frame


def d(text):
    return dt.date.fromisoformat(text)


CONTRACTS = frame(m.CONTRACTS,
                  dict(payor="Medicare", payor_type="Medicare", filing_limit=12, filing_unit="months",
                       appeal_days=120, mailing_days=5),
                  dict(payor="Keystone", payor_type="Commercial", filing_limit=90, appeal_days=60,
                       corrected_days=30),
                  dict(payor="Cigna", payor_type="Commercial", filing_limit=90, appeal_days=60,
                       fee_basis="% of Medicare", pct_of_medicare=1.10))


def fee(payor, cpt, allowed, **more):
    return dict(payor=payor, cpt=cpt, effective_from=d("2026-01-01"), allowed=allowed, **more)


FEES = frame(m.FEE_SCHEDULE,
             fee("Medicare", "99213", 92.03),
             fee("Medicare", "99213", 64.41, setting="Facility"),
             fee("Medicare", "71046", 30.12),
             fee("Medicare", "71046", 9.87, modifier="26"),
             fee("Medicare", "27447", 1400.00, multiple_procedure="Yes"),
             fee("Medicare", "20610", 85.13, multiple_procedure="Yes"),
             fee("Medicare", "11042", 120.37, multiple_procedure="Yes"),
             fee("Keystone", "99213", 110.00),
             fee("Keystone", "20610", 100.00, multiple_procedure="Yes"),
             fee("Keystone", "11042", 150.00, multiple_procedure="Yes"),
             fee("Keystone", "36415", 15.00))


def claim(cid, line, payor, cpt, charge, **more):
    return dict(claim_id=cid, line=line, patient_id="P1", payor=payor, cpt=cpt, dos=d("2026-03-02"),
                charge=charge, **more)


def priced(*rows, rules=None, modifiers="seed"):
    claims = frame(m.CLAIMS, *rows)
    rules = seeds.payment_rules() if rules is None else rules
    mods = seeds.modifiers() if isinstance(modifiers, str) else modifiers
    out = expected_allowed(claims, CONTRACTS, FEES, SETTINGS, rules, mods)
    return out.assign(claim_id=claims["claim_id"], line=claims["line"]).set_index(["claim_id", "line"])


def test_lesser_of_the_charge_per_payor():
    """A $10 lab under a $15 fee: Medicare's rule (All payors) expects $10, with "billed charge" in
    Pricing; a payor whose PaymentRules row says Lesser Of Charge No expects the $15 fee."""
    rows = [claim("L1", 1, "Keystone", "36415", 10.00), claim("L2", 1, "Keystone", "36415", 20.00)]
    out = priced(*rows)
    assert out.at[("L1", 1), "expected_allowed"] == 1000 and out.at[("L2", 1), "expected_allowed"] == 1500
    assert out.at[("L1", 1), "pricing"] == "Fee schedule, billed charge"
    assert out.at[("L2", 1), "pricing"] == "Fee schedule"
    no = pd.concat([seeds.payment_rules(), frame(m.PAYMENT_RULES, dict(payor="keystone", lesser_of="No"))],
                   ignore_index=True)
    assert priced(*rows, rules=no).at[("L1", 1), "expected_allowed"] == 1500


def test_multiple_procedures_ranked_by_rate_each_unit_taking_a_rank():
    """Medicare, one claim, one day: 27447 ($1,400), 20610 ($85.13) × 2 units, 11042 ($120.37), and
    an office visit 99213 (not subject). Ranks by rate: 27447 1st 100% = 1,400.00; 11042 2nd 50%
    = 60.185 → 60.19 (half up); 20610 3rd and 4th at 50% each: 85.13 × (0.5 + 0.5) = 85.13; the
    visit at its full $92.03. Keystone's contract: 100/60/40 on its own row (Second and Further)."""
    rows = [claim("S1", 1, "Medicare", "27447", 3000.00), claim("S1", 2, "Medicare", "20610", 500.00, units=2),
            claim("S1", 3, "Medicare", "11042", 500.00), claim("S1", 4, "Medicare", "99213", 200.00)]
    out = priced(*rows)
    assert out["procedure_rank"].tolist()[:3] == [1, 3, 2] and pd.isna(out["procedure_rank"].iloc[3])
    assert out["expected_allowed"].tolist() == [140000, 8513, 6019, 9203]
    assert out.at[("S1", 2), "pricing"] == "Fee schedule, procedure 3"
    assert out.at[("S1", 2), "multiple_procedure"] == "Yes" and out.at[("S1", 4), "multiple_procedure"] == ""
    # Keystone 100/60/40: 11042 150.00 first; 20610 100.00 × 2 units = 60% + 40% = 100.00
    rules = pd.concat([seeds.payment_rules(), frame(m.PAYMENT_RULES, dict(payor="Keystone", second_pct=0.6,
                                                                          further_pct=0.4))], ignore_index=True)
    k = priced(claim("K1", 1, "Keystone", "20610", 500.00, units=2), claim("K1", 2, "Keystone", "11042", 500.00),
               rules=rules)
    assert k["procedure_rank"].tolist() == [2, 1] and k["expected_allowed"].tolist() == [10000, 15000]
    # equal rates: the lower line number ranks first
    tie = priced(claim("T1", 1, "Keystone", "20610", 500.00), claim("T1", 2, "Keystone", "20610", 500.00))
    assert tie["procedure_rank"].tolist() == [1, 2] and tie["expected_allowed"].tolist() == [10000, 5000]


def test_modifiers_price_at_base_at_their_own_rate_or_a_share_of_base():
    """99213-25 (informational) at the base $92.03; 71046-26 at its own FeeSchedule row $9.87;
    99213-50 at 150% = 138.045 → 138.05; 99213-80 at 16% = 14.7248 → 14.72; a modifier not in
    Modifiers and with no FeeSchedule row ("ZZ") has no rate, and neither does one in Modifiers
    as Own rate without a row (TC here)."""
    rows = [claim("M1", 1, "Medicare", "99213", 200.00, modifier="25"),
            claim("M1", 2, "Medicare", "71046", 200.00, modifier="26"),
            claim("M1", 3, "Medicare", "99213", 200.00, modifier="50"),
            claim("M1", 4, "Medicare", "99213", 200.00, modifier=" 80"),
            claim("M1", 5, "Medicare", "99213", 200.00, modifier="ZZ"),
            claim("M1", 6, "Medicare", "71046", 200.00, modifier="TC")]
    out = priced(*rows)
    assert out["expected_allowed"].tolist()[:4] == [9203, 987, 13805, 1472]
    assert out["expected_allowed"].iloc[4:].isna().all()
    assert out["pricing"].tolist() == ["Fee schedule, modifier 25 at base", "Fee schedule, modifier 26 rate",
                                       "Fee schedule, modifier 50 % of base", "Fee schedule, modifier 80 % of base",
                                       "", ""]
    assert out["base_rate"].tolist()[:2] == [9203, 3012]
    # an empty Modifiers table: only exact FeeSchedule rows price a modifier
    bare = priced(*rows, modifiers=seeds.modifiers().iloc[0:0])
    assert bare["expected_allowed"].tolist()[1] == 987 and bare["expected_allowed"].isna().sum() == 5


def test_place_of_service_picks_the_facility_rate_npp_and_percent_of_medicare():
    """POS 22 (outpatient hospital) is a facility: Medicare's facility row $64.41; POS 11 and a
    blank POS: the non-facility $92.03 (the row with a blank Setting). An NPP's line: 85% of
    92.03 = 78.2255 → 78.23. Cigna at 110% of Medicare, facility, NPP: 64.41 × 1.10 = 70.851 →
    70.85, × 0.85 = 60.2225 → 60.22. POS typed "2" is "02" (telehealth): facility."""
    rows = [claim("P1", 1, "Medicare", "99213", 200.00, pos="22"),
            claim("P1", 2, "Medicare", "99213", 200.00, pos="11"),
            claim("P1", 3, "Medicare", "99213", 200.00),
            claim("P1", 4, "Medicare", "99213", 200.00, npp="Yes"),
            claim("P1", 5, "Cigna", "99213", 200.00, pos="22", npp="Yes"),
            claim("P1", 6, "Medicare", "99213", 200.00, pos="2")]
    out = priced(*rows)
    assert out["setting"].tolist() == ["Facility", "Non-facility", "Non-facility", "Non-facility", "Facility",
                                       "Facility"]
    assert out["expected_allowed"].tolist() == [6441, 9203, 9203, 7823, 6022, 6441]
    assert out["pricing"].tolist() == ["Fee schedule, facility", "Fee schedule", "Fee schedule", "Fee schedule, NPP",
                                       "% of Medicare, facility, NPP", "Fee schedule, facility"]


def test_sequestration_is_not_an_underpayment():
    """Medicare allows 92.03: pays 72.03 less 2% sequestration (1.44) = 70.59, PR 20.00, CO-253
    1.44, no AMT*B6: allowed = 70.59 + 20.00 + 1.44 = 92.03, variance 0, not underpaid."""
    claims = [claim("Q1", 1, "Medicare", "99213", 150.00)]
    pays = [dict(claim_id="Q1", line=1, payor="Medicare", remit_date=d("2026-04-01"), paid=70.59,
                 patient_resp=20.00, contractual_adj=59.41, sequestration=1.44)]
    r = run(claims, pays)
    line = r.lines.iloc[0]
    assert (line["allowed"], line["variance"], bool(line["underpaid"])) == (9203, 0, False)


def run(claims, payments, appeals=(), routing=None, rules=None):
    frames = {t.name: typed_frame(t, []).frame for t in m.INPUT_TABLES}
    frames.update(Contracts=CONTRACTS, FeeSchedule=FEES, Claims=frame(m.CLAIMS, *claims),
                  Payments=frame(m.PAYMENTS, *payments), Appeals=frame(m.APPEALS, *appeals),
                  PaymentRules=rules if rules is not None else seeds.payment_rules(), Modifiers=seeds.modifiers(),
                  DenialRouting=routing if routing is not None else seeds.denial_routing())
    valid, errors = validate.validate(frames, SETTINGS)
    return calculate(valid, SETTINGS, errors)


def denial(cid, carc, rarc="", group="CO", day="2026-04-01", payor="Keystone"):
    return dict(claim_id=cid, line=1, payor=payor, remit_date=d(day), claim_status="4", paid=0,
                denied_amount=110.00, group_code=group, carc=carc, rarc=rarc)


def test_a_resubmission_runs_against_the_filing_window_and_is_never_written_off_while_it_is_open():
    """Keystone (filing 90 days, Corrected Claim Days 30). CO-16 with MA130 (unprocessable: no
    appeal rights) on 04/01 routes to Correct and resubmit, due the later of 04/01 + 30 = 05/01
    and the filing deadline 03/02 + 90 = 05/31: 05/31. As of 06/30 a
    claim denied 06/15 is due 07/15 (15 days left: Due soon, within Filing Due Soon Days) and not
    written off; the 04/01 one was missed on 05/31 and its $110 is written off. A claim
    filed again after its denial (Filed Date 04/20) is Resubmitted. No Appeal row for any."""
    claims = [claim(c, 1, "Keystone", "99213", 110.00, filed_date=d("2026-03-05")) for c in ("R1", "R2", "R3")]
    claims[2]["filed_date"] = d("2026-04-20")
    r = run(claims, [denial("R1", "16", "N290, MA130", day="2026-06-15"), denial("R2", "16", "MA130"),
                     denial("R3", "16", "MA130")])
    line = r.lines.set_index("claim_id")
    assert line.at["R1", "denial_action"] == "Correct and resubmit"
    assert (line.at["R1", "resubmit_deadline"], line.at["R1", "resubmit_status"], line.at["R1", "written_off"]) == (
        pd.Timestamp("2026-07-15"), "Due soon", 0)
    assert (line.at["R2", "resubmit_status"], line.at["R2", "written_off"], line.at["R2", "writeoff_reason"]) == (
        "Missed", 11000, "Resubmission missed")
    assert (line.at["R3", "resubmit_status"], line.at["R3", "written_off"]) == ("Resubmitted", 0)
    assert line.loc[["R1", "R2", "R3"], "appeal_status"].tolist() == ["", "", ""]
    work = r.worklist.set_index("claim_id")
    assert work.at["R1", "action"] == "Correct and resubmit" and work.at["R1", "amount"] == 11000
    assert "MA130" in work.at["R1", "detail"] and "no appeal" in work.at["R1", "detail"]
    assert work.at["R2", "action"] == "Missed resubmission deadline" and "R3" not in work.index
    assert not r.worklist["action"].str.startswith("Appeal").any()


def test_routes_by_the_most_specific_row_and_a_timely_filing_denial_is_a_missed_filing():
    """CO-27 (coverage ended) routes to Rebill other payer, its clock the later of Keystone's
    Corrected Claim Days from the denial (04/01 + 30 = 05/01) and the filing deadline (90 days
    from the 03/02 DOS: 05/31): 05/31, missed as of 06/30. OA-18 (duplicate) routes to Write off
    at once. CO-50 routes to Appeal (Keystone: 60 days from 06/01 = 07/31, open). A practice's own
    row "OA 97 → Bill patient" beats the bare 97 (Appeal) for group OA only. CO-29: Write off, the
    filing deadline Missed, one worklist row (Missed filing deadline), never an appeal."""
    own = pd.concat([seeds.denial_routing(), frame(m.DENIAL_ROUTING, dict(group_code="OA", carc="97",
                                                                          category="Bundling",
                                                                          action="Bill patient"))],
                    ignore_index=True)
    claims = [claim(c, 1, "Keystone", "99213", 110.00, filed_date=d("2026-03-05"))
              for c in ("A1", "A2", "A3", "A4", "A5", "A6")]
    r = run(claims, [denial("A1", "27"), denial("A2", "18", group="OA"), denial("A3", "50", day="2026-06-01"),
                     denial("A4", "97", group="OA", day="2026-06-01"), denial("A5", "97", day="2026-06-01"),
                     denial("A6", "CO-29")], routing=own)
    line = r.lines.set_index("claim_id")
    assert line["denial_action"].tolist() == ["Rebill other payer", "Write off", "Appeal", "Bill patient", "Appeal",
                                              "Write off"]
    assert (line.at["A1", "resubmit_deadline"], line.at["A1", "resubmit_status"]) == (
        pd.Timestamp("2026-05-31"), "Missed")
    assert line["written_off"].tolist() == [11000, 11000, 0, 0, 0, 11000]
    assert line.at["A3", "appeal_deadline"] == pd.Timestamp("2026-07-31")
    assert line.at["A6", "filing_status"] == "Missed" and line.at["A6", "appeal_status"] == ""
    assert line.at["A4", "denial_category"] == "Bundling"
    work = r.worklist
    assert work.loc[work["claim_id"] == "A6", "action"].tolist() == ["Missed filing deadline"]
    assert work.loc[work["claim_id"] == "A4", "action"].tolist() == ["Bill patient"]
    assert work.loc[work["claim_id"] == "A3", "action"].tolist() == ["Appeal denial"]


def test_an_appealed_denial_is_worked_as_an_appeal_whatever_its_route():
    claims = [claim("B1", 1, "Keystone", "99213", 110.00, filed_date=d("2026-03-05"))]
    r = run(claims, [denial("B1", "16", "MA130", day="2026-06-01")],
            appeals=[dict(claim_id="B1", line=1, appeal_date=d("2026-06-10"))])
    line = r.lines.iloc[0]
    assert (line["denial_action"], line["appeal_status"]) == ("Appeal", "Appealed on time")


@pytest.mark.parametrize("bad, problem", [
    (dict(group_code="CO", carc="CO-16", action="Appeal"), "group"),
    (dict(carc="16", rarc="MA130", group_code="CO", action="Appeal"), "duplicate row"),
])
def test_check_names_a_routing_row_that_conflicts_or_carries_its_group(bad, problem):
    routing = pd.concat([seeds.denial_routing(), frame(m.DENIAL_ROUTING, bad)], ignore_index=True)
    frames = {t.name: typed_frame(t, []).frame for t in m.INPUT_TABLES}
    frames.update(Contracts=CONTRACTS, DenialRouting=routing)
    _, errors = validate.validate(frames, SETTINGS)
    found = [e for e in errors if e.ref.sheet == "DenialRouting"]
    assert found and problem in found[0].message + found[0].fix, [e.message for e in found]
    assert found[0].ref.row == routing["_row"].iloc[-1]       # the row added


def test_check_warns_of_an_unknown_modifier_and_a_share_of_base_without_its_percent():
    frames = {t.name: typed_frame(t, []).frame for t in m.INPUT_TABLES}
    mods = pd.concat([seeds.modifiers(), frame(m.MODIFIERS, dict(modifier="QQ", pricing="% of base"))],
                     ignore_index=True)
    frames.update(Contracts=CONTRACTS, FeeSchedule=FEES, Modifiers=mods,
                  Claims=frame(m.CLAIMS, claim("U1", 1, "Medicare", "99213", 100.0, modifier="ZZ")))
    _, errors = validate.validate(frames, SETTINGS)
    text = [(e.ref.sheet, e.ref.column, e.message) for e in errors]
    assert any(s == "Claims" and c == "Modifier" and "ZZ" in msg for s, c, msg in text), text
    assert any(s == "Modifiers" and c == "Percent" for s, c, msg in text), text


def test_check_names_appeal_levels_out_of_order():
    """Keystone allows 2 levels (a commercial contract's default). Line X1: levels 1 and 3 (no
    level 2, and above the contract's 2: two warnings on row 3); line X2: level 2 filed 05/01,
    before level 1 was decided 05/10 (row 5)."""
    claims = [claim(c, 1, "Keystone", "99213", 110.00) for c in ("X1", "X2")]
    appeals = [dict(claim_id="X1", line=1, appeal_date=d("2026-04-10"), level=1, outcome="Upheld",
                    decision_date=d("2026-04-20")),
               dict(claim_id="X1", line=1, appeal_date=d("2026-05-01"), level=3),
               dict(claim_id="X2", line=1, appeal_date=d("2026-04-10"), level=1, outcome="Upheld",
                    decision_date=d("2026-05-10")),
               dict(claim_id="X2", line=1, appeal_date=d("2026-05-01"), level=2)]
    frames = {t.name: typed_frame(t, []).frame for t in m.INPUT_TABLES}
    frames.update(Contracts=CONTRACTS, Claims=frame(m.CLAIMS, *claims), Appeals=frame(m.APPEALS, *appeals))
    _, errors = validate.validate(frames, SETTINGS)
    found = sorted((e.ref.row, e.ref.column, e.message) for e in errors if e.ref.sheet == "Appeals")
    assert [(row, col) for row, col, _ in found] == [(3, "Level"), (3, "Level"), (5, "Appeal Date")]
    assert "no level 2" in found[0][2] + found[1][2] and "allows 2 level" in found[0][2] + found[1][2]
    assert "before level 1 was decided (05/10/2026)" in found[2][2]


def test_the_corrected_claim_window_never_shortens_the_filing_window():
    """As of 05/15: denied 04/01 + 30 = 05/01 has passed, but the filing deadline 05/31 has not:
    the resubmission is Due soon to 05/31, nothing written off. A line denied 05/20 and refiled
    06/10 (due 05/20 + 30 = 06/19, later than 05/31) is Resubmitted and Filed on time, though
    06/10 is past its original filing deadline; refiled 06/25 it is Resubmitted late and Filed
    late (and not written off: the payer's answer to the late claim decides)."""
    early = m.Settings.make(dt.date(2026, 5, 15), tolerance_amount=100, tolerance_pct=0.02)
    claims = [claim("W1", 1, "Keystone", "99213", 110.00, filed_date=d("2026-03-05"))]
    frames = {t.name: typed_frame(t, []).frame for t in m.INPUT_TABLES}
    frames.update(Contracts=CONTRACTS, FeeSchedule=FEES, Claims=frame(m.CLAIMS, *claims),
                  Payments=frame(m.PAYMENTS, denial("W1", "16", "MA130")), Modifiers=seeds.modifiers(),
                  PaymentRules=seeds.payment_rules(), DenialRouting=seeds.denial_routing())
    valid, errors = validate.validate(frames, early)
    line = calculate(valid, early, errors).lines.iloc[0]
    assert (line["resubmit_deadline"], line["resubmit_status"], line["written_off"]) == (
        pd.Timestamp("2026-05-31"), "Due soon", 0)
    refiled = [claim("W2", 1, "Keystone", "99213", 110.00, filed_date=d("2026-06-10")),
               claim("W3", 1, "Keystone", "99213", 110.00, filed_date=d("2026-06-25"))]
    r = run(refiled, [denial("W2", "16", "MA130", day="2026-05-20"), denial("W3", "16", "MA130", day="2026-05-20")])
    got = r.lines.set_index("claim_id")[["resubmit_deadline", "resubmit_status", "filing_status", "written_off"]]
    assert got.loc["W2"].tolist() == [pd.Timestamp("2026-06-19"), "Resubmitted", "Filed on time", 0]
    assert got.loc["W3"].tolist() == [pd.Timestamp("2026-06-19"), "Resubmitted late", "Filed late", 0]
