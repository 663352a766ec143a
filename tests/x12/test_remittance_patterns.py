"""The remittance patterns every practice receives, each imported for real (835 text written
here, `payorxl import`'s own code) into a real workbook, then recalculated; every figure is
worked by hand in the test's docstring.

Contracts: Medicare (fee 99213 $100, 99214 $100), Acme Medigap (no fees: a secondary pays
what Medicare leaves), Keystone (99213 $100, 99215 $150, 99212 $60, 36415 $10).
As of 06/30/2026.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from payorxl import model as m, pipeline
from payorxl.conversion import typed_frame
from payorxl.importer import import_files, reconciliation_frame
from x12_helpers import era, interchange, transaction

AS_OF = dt.date(2026, 6, 30)
D = dt.datetime


def contract(payor, kind, payor_id, **terms):
    return {"Payor": payor, "Payor Type": kind, "Payor ID": payor_id, "Filing Limit": 365,
            "Appeal Days": 120, "Mailing Days": 5, **terms}


def fee(payor, cpt, dollars):
    return {"Payor": payor, "CPT": cpt, "Effective From": D(2026, 1, 1), "Allowed": dollars}


DOS = D(2026, 3, 2)


def claim(cid, line, payor, cpt, charge, dos=DOS):
    return {"Claim ID": cid, "Line": line, "Patient ID": "P" + cid, "Payor": payor, "CPT": cpt,
            "Date of Service": dos, "Charge": charge, "Filed Date": dos + dt.timedelta(days=3)}


CLAIMS = [claim("X1", 1, "Medicare", "99213", 150), claim("M2", 1, "Medicare", "99214", 200),
          claim("P3", 1, "Keystone", "99215", 200), claim("D4", 1, "Keystone", "99212", 180),
          claim("D4", 2, "Keystone", "36415", 120), claim("R5", 1, "Keystone", "99213", 150)]


@pytest.fixture
def book(tmp_path):
    records = {
        "Contracts": [contract("Medicare", "Medicare", "MCR01"), contract("Acme Medigap", "Commercial", "GAP01"),
                      contract("Keystone", "Commercial", "KEY01", **{"Prompt Pay Days": 30,
                                                                     "Prompt Pay Interest": 0.12})],
        "FeeSchedule": [fee("Medicare", "99213", 100), fee("Medicare", "99214", 100),
                        fee("Keystone", "99213", 100), fee("Keystone", "99215", 150),
                        fee("Keystone", "99212", 60), fee("Keystone", "36415", 10)],
        "Claims": CLAIMS,
    }
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames, {"practice_name": "Patterns", "as_of": AS_OF})
    return path


def remit(tmp_path, name, amount, claims, payer="MEDICARE", payer_id="MCR01", date="20260401", plb=(),
          credit="C"):
    path = tmp_path / name
    text = era(amount, claims, plb, payer=payer, date=date, trace=name.upper(), credit=credit)
    path.write_text(text.replace("XV*PAYER01", f"XV*{payer_id}"))
    return path


def imported(book, *files):
    result = import_files(book, files)
    assert result.ok and result.written, [f.message for f in result.files]
    return pipeline.load(book, AS_OF)


def line(results, cid, number=1):
    lines = results.lines
    return lines[(lines["claim_id"] == cid) & (lines["line"] == number)].iloc[0]


def test_medicare_crossover_to_a_medigap(book, tmp_path):
    """Medicare allows $100 of $150 (CO-45 $50), pays $80 and leaves $20 coinsurance (PR-2),
    forwarding the claim (CLP02 19). Before the Medigap pays, the $20 is the Medigap's to pay:
    insurance A/R = 150 − 80 − 50 = $20, not 0. The Medigap then pays $20 (CLP02 2) and
    reports Medicare's $130 as OA-23: paid 100, contractual 50, the last payer's PR 0, so
    the balance is 0; OA-23 is neither contractual nor a denial; the charge counts once:
    net collection rate 100 ÷ (150 − 50) = 100%."""
    first = remit(tmp_path, "mcr.835", "80", ["CLP*X1*19*150*80*20*MB*ICN1", "SVC*HC:99213*150*80**1",
                                              "CAS*CO*45*50", "CAS*PR*2*20", "AMT*B6*100"])
    r = imported(book, first)
    x1 = line(r, "X1")
    assert (x1["paid"], x1["contractual_adj"], x1["patient_resp"], x1["patient_share"]) == (8000, 5000, 2000, 0)
    assert bool(x1["forwarded"]) and x1["balance"] == 2000 and x1["aging_bucket"] == "91-120"
    assert not x1["underpaid"] and x1["variance"] == 0

    second = remit(tmp_path, "gap.835", "20", ["CLP*X1*2*150*20**MB*ICN2", "SVC*HC:99213*150*20**1",
                                               "CAS*OA*23*130"], payer="ACME MEDIGAP", payer_id="GAP01",
                   date="20260420")
    r = imported(book, second)
    x1 = line(r, "X1")
    assert (x1["paid"], x1["contractual_adj"], x1["denied_amount"], x1["last_payer_seq"]) == (10000, 5000, 0, 2)
    assert x1["patient_share"] == 0 and x1["balance"] == 0 and not x1["credit"]
    assert not x1["denial_open"] and not x1["denied_first_pass"]
    assert not x1["underpaid"] and x1["variance"] == 0      # Medicare's allowed, against Medicare's fee
    assert x1["variance_vs_paid"] == 0                      # Medicare's 80 + 20, not the Medigap's too
    assert (r.lines["claim_id"] == "X1").sum() == 1
    pay = r.adjustments[r.adjustments["claim_id"] == "X1"]
    assert pay[["group_code", "reason", "amount", "kind"]].values.tolist() == [
        ["CO", "45", 5000, "Contractual"], ["PR", "2", 2000, "Patient Resp"], ["OA", "23", 13000, "Prior Payer"]]


def test_several_adjustments_on_one_line_and_sequestration(book, tmp_path):
    """Medicare allows $100 of $200: CO-45 $100; pays 80% less 2% sequestration: $80 − $1.60
    = $78.40 (CO-253 $1.60, in the same CAS); coinsurance PR-2 $20. No AMT*B6: allowed =
    paid + PR + sequestration = 78.40 + 20 + 1.60 = $100.00 = the fee, so not underpaid
    (paid + PR alone, $98.40, would look $1.60 short). Balance 200 − 78.40 − 101.60 − 20 = 0."""
    r = imported(book, remit(tmp_path, "seq.835", "78.40", [
        "CLP*M2*1*200*78.40*20*MB*ICN3", "SVC*HC:99214*200*78.40**1", "CAS*CO*45*100**253*1.60", "CAS*PR*2*20"]))
    m2 = line(r, "M2")
    assert (m2["allowed"], m2["contractual_adj"], m2["sequestration"], m2["patient_share"]) == (10000, 10160, 160,
                                                                                                2000)
    assert m2["variance"] == 0 and m2["balance"] == 0 and m2["variance_vs_paid"] == 0
    kinds = r.adjustments.loc[r.adjustments["claim_id"] == "M2", "kind"].tolist()
    assert kinds == ["Contractual", "Sequestration", "Patient Resp"]


def test_a_partial_denial_is_a_denial_not_an_underpayment(book, tmp_path):
    """Keystone's fee for 99215 is $150 of the $200 charge: CO-45 $50. It pays $100 and denies
    $50 as bundled (CO-97). The line is paid and partly denied: $50 denied (root cause
    Bundling), appealable by 04/01 + 5 + 120 = 08/04/2026, on the worklist for $50; its
    variance (150 − 100) is not an underpayment. Balance 200 − 100 − 50 = $50 until the
    denial is won or written off."""
    r = imported(book, remit(tmp_path, "part.835", "100", [
        "CLP*P3*1*200*100**12*ICN4", "SVC*HC:99215*200*100**1", "CAS*CO*45*50*1*97*50"],
        payer="KEYSTONE", payer_id="KEY01"))
    p3 = line(r, "P3")
    assert bool(p3["partial_denial"]) and bool(p3["denial_open"]) and not p3["denied"]
    assert (p3["denied_amount"], p3["denial_carc"], p3["denial_category"]) == (5000, "97", "Bundling")
    assert pd.isna(p3["variance"]) and not p3["underpaid"]
    assert p3["appeal_deadline"] == pd.Timestamp("2026-08-04") and p3["balance"] == 5000
    work = r.worklist[r.worklist["claim_id"] == "P3"]
    assert work[["action", "amount"]].values.tolist() == [["Appeal denial", 5000]]
    assert work["detail"].iloc[0].startswith("partly denied CO-97")
    assert r.kpis["underpayment"].value == 0


def test_a_claim_level_denial_is_spread_over_the_claims_lines(book, tmp_path):
    """Keystone denies claim D4 as a whole (CLP02 4, claim-level CO-16 $300, no SVC). Its two
    lines in Claims are charged $180 and $120: by charge, $300 × 180/300 = $180 and $120.
    Both lines are adjudicated and denied; neither is left unadjudicated."""
    r = imported(book, remit(tmp_path, "deny.835", "0", ["CLP*D4*4*300*0**12*ICN5", "CAS*CO*16*300"],
                             payer="KEYSTONE", payer_id="KEY01"))
    d1, d2 = line(r, "D4", 1), line(r, "D4", 2)
    assert (d1["denied_amount"], d2["denied_amount"]) == (18000, 12000)
    assert bool(d1["denied"]) and bool(d2["denied"]) and d1["adjudicated"] and d2["adjudicated"]
    adj = r.adjustments[r.adjustments["claim_id"] == "D4"]
    assert adj[["line", "level", "reason", "amount"]].values.tolist() == [[1, "claim", "16", 18000],
                                                                            [2, "claim", "16", 12000]]
    assert not [e for e in r.errors if "Adjustments" in e.ref.sheet or "not the sum" in e.message]


def test_a_reversal_awaiting_its_correction_is_back_in_ar_not_underpaid(book, tmp_path):
    """Keystone pays R5 $100 (CO-45 $50) on 04/01, then reverses it on 05/01 (CLP02 22, all
    amounts negated) with no corrected payment yet: net paid 0, back in A/R at $150, not an
    underpayment of $100; the worklist says "Awaiting reprocessing" (follow up 05/31). A
    correction paying $100 on 05/15 nets as before: paid 100, balance 0."""
    paid = remit(tmp_path, "r1.835", "100", ["CLP*R5*1*150*100**12*ICN6", "SVC*HC:99213*150*100**1",
                                             "CAS*CO*45*50"], payer="KEYSTONE", payer_id="KEY01")
    # The reversal alone: the payer debits the $100 back (BPR03 D).
    reversal = remit(tmp_path, "r2.835", "100", ["CLP*R5*22*-150*-100**12*ICN6", "SVC*HC:99213*-150*-100**1",
                                                 "CAS*CO*45*-50"], payer="KEYSTONE", payer_id="KEY01",
                     date="20260501", credit="D")
    r = imported(book, paid, reversal)
    r5 = line(r, "R5")
    assert (r5["paid"], r5["balance"]) == (0, 15000) and bool(r5["awaiting_reprocessing"])
    assert pd.isna(r5["variance"]) and not r5["underpaid"]
    work = r.worklist[r.worklist["claim_id"] == "R5"]
    assert work[["action", "deadline"]].values.tolist() == [["Awaiting reprocessing", pd.Timestamp("2026-05-31")]]

    correction = remit(tmp_path, "r3.835", "100", ["CLP*R5*1*150*100**12*ICN7", "SVC*HC:99213*150*100**1",
                                                   "CAS*CO*45*50"], payer="KEYSTONE", payer_id="KEY01",
                       date="20260515")
    r = imported(book, correction)
    r5 = line(r, "R5")
    assert (r5["paid"], r5["balance"], r5["variance"]) == (10000, 0, 0) and not r5["awaiting_reprocessing"]


def test_a_recoupment_is_on_the_worklist_and_in_reconciliation(book, tmp_path):
    """Keystone pays P3 $150 on check PLB1 but takes back $40.00 of an old overpayment on
    claim ICN5 (PLB WO) and adds $2.50 interest (L6): the EFT is 150 − 40 + 2.50 = $112.50.
    The recoupment names D4 (its payer claim number ICN5, known from D4's denial): it is
    on the Worklist ("Verify recoupment", $40.00, disputable until 05/01 + 5 + 120 =
    09/03/2026) and, with the interest, in Reconciliation; neither changes a line's balance."""
    imported(book, remit(tmp_path, "deny.835", "0", ["CLP*D4*4*300*0**12*ICN5", "CAS*CO*16*300"],
                         payer="KEYSTONE", payer_id="KEY01"))
    r = imported(book, remit(tmp_path, "plb.835", "112.50", [
        "CLP*P3*1*200*150**12*ICN4", "SVC*HC:99215*200*150**1", "CAS*CO*45*50"],
        plb=["PLB*1234567893*20261231*WO:ICN5*40*L6:INT*-2.50"], payer="KEYSTONE", payer_id="KEY01",
        date="20260501"))
    plb = r.adjustments[r.adjustments["level"] == "provider"]
    assert plb[["claim_id", "group_code", "reason", "amount", "payor_claim_no"]].values.tolist() == [
        ["D4", "PLB", "WO", 4000, "ICN5"], ["", "PLB", "L6", -250, "INT"]]
    work = r.worklist[r.worklist["action"] == "Verify recoupment"]
    assert work[["claim_id", "amount", "deadline"]].values.tolist() == [["D4", 4000, pd.Timestamp("2026-09-03")]]
    assert line(r, "D4", 1)["balance"] == 18000 and line(r, "P3")["balance"] == 0
    rec = reconciliation_frame(book)
    rec = rec[rec["item"] == "Provider adjustment"]
    assert rec[["status", "claim_id", "provider_adj_amount"]].values.tolist() == [
        ["Recoupment", "D4", 4000], ["Interest paid", "", -250]]
    assert "check a reversal is posted" in rec["detail"].iloc[0]


def claim_file(tmp_path, name, claim_id, sbr, payer, payer_id, frequency="1", charge="150"):
    """An 837P with one claim of one line (99213, DOS 03/02/2026) to `payer`, whose
    responsibility is SBR01 `sbr` (P, S, T)."""
    text = interchange(transaction([
        "BHT*0019*00*B1*20260305*1200*CH", "NM1*41*2*MAIN STREET CLINIC*****46*S1",
        "NM1*40*2*CLEARINGHOUSE*****46*R1", "HL*1**20*1", "NM1*85*2*MAIN STREET CLINIC*****XX*1234567893",
        "HL*2*1*22*0", f"SBR*{sbr}*18*******MB", "NM1*IL*1*DOE*JANE****MI*MEM001",
        f"NM1*PR*2*{payer}*****PI*{payer_id}", f"CLM*{claim_id}*{charge}***11:B:{frequency}*Y*A*Y*Y",
        "HI*ABK:E119", "LX*1", f"SV1*HC:99213*{charge}*UN*1***1", "DTP*472*D8*20260302",
    ], kind="837", extra="005010X222A1"), kind="837", gs_version="005010X222A1")
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_practice_filed_secondary_is_the_lines_next_payer(book, tmp_path):
    """S1 is billed to Medicare (SBR*P), then the practice files the secondary itself (SBR*S,
    the same CLM01): kept as S1's next payer, not a new line, so the $150 charge counts once.
    Medicare pays $80 with CO-45 $50 and PR-2 $20, processed as primary (CLP02 1, not
    forwarded): the $20 is the Medigap's bill, still insurance A/R ($20) because a
    secondary is billed and has not adjudicated. The Medigap pays $20 (CLP02 2, OA-23 $130):
    balance 0."""
    r = imported(book, claim_file(tmp_path, "p.837", "S1", "P", "MEDICARE", "MCR01"),
                 claim_file(tmp_path, "s.837", "S1", "S", "ACME MEDIGAP", "GAP01"))
    rows = r.claim_rows.join(pd.DataFrame({"claim_id": [c["Claim ID"] for c in CLAIMS] + ["S1", "S1"]}))
    assert rows.loc[rows["claim_id"] == "S1", "role"].tolist() == ["Line", "Next payer"]
    assert (r.lines["claim_id"] == "S1").sum() == 1
    assert r.portfolio["payer_mix"]["charges"].sum() == sum(100 * c["Charge"] for c in CLAIMS) + 15000
    r = imported(book, remit(tmp_path, "s1.835", "80", ["CLP*S1*1*150*80*20*MB*ICN8", "SVC*HC:99213*150*80**1",
                                                        "CAS*CO*45*50", "CAS*PR*2*20"]))
    s1 = line(r, "S1")
    assert (s1["patient_share"], s1["balance"], s1["last_payer_seq"]) == (0, 2000, 1) and not s1["forwarded"]
    r = imported(book, remit(tmp_path, "s1gap.835", "20", ["CLP*S1*2*150*20**MB*ICN9", "SVC*HC:99213*150*20**1",
                                                           "CAS*OA*23*130"], payer="ACME MEDIGAP",
                             payer_id="GAP01", date="20260420"))
    s1 = line(r, "S1")
    assert (s1["paid"], s1["balance"], s1["last_payer_seq"]) == (10000, 0, 2)


def test_a_void_takes_the_line_out_of_ar_and_the_worklist(book, tmp_path):
    """V1 is billed ($150, filed 03/05 by the 837, never paid): open A/R of $150. A void
    837 (CLM05-3 = 8, same CLM01) takes it out: both rows are Void, the line counts in no
    figure and is on no worklist."""
    r = imported(book, claim_file(tmp_path, "v.837", "V1", "P", "KEYSTONE", "KEY01"))
    assert line(r, "V1")["balance"] == 15000
    ar = r.kpis["ar_total"].value
    r = imported(book, claim_file(tmp_path, "void.837", "V1", "P", "KEYSTONE", "KEY01", frequency="8"))
    roles = r.claim_rows["role"].tolist()
    assert roles[-2:] == ["Void", "Void"] and r.claim_rows["filing_status"].tolist()[-2:] == ["Void", "Void"]
    assert not (r.lines["claim_id"] == "V1").any() and not (r.worklist["claim_id"] == "V1").any()
    assert r.kpis["ar_total"].value == ar - 15000


def ack_277ca(tmp_path, name, statuses, payer="KEYSTONE", payer_id="KEY01"):
    """A 277CA from `payer`: one patient loop per (claim ID, STC01, date, action, message)."""
    segments = ["BHT*0085*08*277X214*20260310*0900*TH", "HL*1**20*1", f"NM1*PR*2*{payer}*****PI*{payer_id}",
                "TRN*1*CH1", "DTP*050*D8*20260309", "DTP*009*D8*20260310", "HL*2*1*21*1",
                "NM1*41*2*MAIN STREET CLINIC*****46*S1", "TRN*2*BATCH1", "STC*A1:19:PR*20260310*WQ*300",
                "HL*3*2*19*1", "NM1*85*2*MAIN STREET CLINIC*****XX*1234567893", "TRN*1*PROV1"]
    for k, (claim_id, stc, date, action, message) in enumerate(statuses):
        segments += [f"HL*{4 + k}*3*PT", f"NM1*QC*1*DOE*JANE****MI*MEM{k}", f"TRN*2*{claim_id}",
                     f"STC*{stc}*{date}*{action}*150" + (f"********{message}" if message else "")]
    text = interchange(transaction(segments, kind="277", extra="005010X214"), kind="277",
                       gs_version="005010X214").replace("GS*HC*", "GS*HN*")
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_claim_the_payer_rejects_is_not_filed(book, tmp_path):
    """D4 and R5 were filed on 03/05 (DOS 03/02; Keystone's limit is 365 days: due
    03/02/2027). The 277CA of 03/10 rejects D4 (A7:562, provider NPI not on file) and
    accepts R5 (A2:20). D4 is not filed: Filing Status Open, and the Worklist says "Correct
    and resubmit" with the reason; R5 stays "Filed on time", accepted on 03/10. Refiled on
    03/20 (a later Filed Date), D4 is judged afresh: filed on time."""
    r = imported(book, ack_277ca(tmp_path, "ack.277", [
        ("D4", "A7:562:85", "20260310", "U", "NPI NOT ON FILE"), ("R5", "A2:20:PR", "20260310", "WQ", "")]))
    d4, r5 = line(r, "D4", 1), line(r, "R5")
    assert bool(d4["rejected"]) and d4["filing_status"] == "Open" and d4["rejected_on"] == pd.Timestamp("2026-03-10")
    assert d4["rejection"] == "A7:562 NPI NOT ON FILE"
    assert r5["filing_status"] == "Filed on time" and r5["accepted_on"] == pd.Timestamp("2026-03-10")
    work = r.worklist[r.worklist["claim_id"] == "D4"]
    assert work["action"].tolist() == ["Correct and resubmit"] * 2            # both lines of D4
    assert work["detail"].iloc[0] == "Rejected on 03/10/2026 (A7:562 NPI NOT ON FILE): correct and resubmit"
    assert work["deadline"].iloc[0] == pd.Timestamp("2027-03-02")
    acks = pipeline.read_inputs(book).frames["Acknowledgements"]
    assert acks[["claim_id", "result", "category", "kind"]].values.tolist() == [
        ["D4", "Rejected", "A7", "277CA"], ["R5", "Accepted", "A2", "277CA"]]

    import openpyxl
    wb = openpyxl.load_workbook(book)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "D4":
            row[header.index("Filed Date")].value = D(2026, 3, 20)
    wb.save(book)
    d4 = line(pipeline.load(book, AS_OF), "D4", 1)
    assert not d4["rejected"] and d4["filing_status"] == "Filed on time"


def test_a_999_rejecting_an_837_file_is_recorded_and_named(book, tmp_path):
    """The clearinghouse's 999 rejects the whole 837 transaction set (IK5 R) of group 1 (the
    GS06 of v.837, in the ImportLog): no claim of it was received. The import says so,
    naming the file, and keeps an Acknowledgements row (no claim ID) with the errors."""
    imported(book, claim_file(tmp_path, "v.837", "V1", "P", "KEYSTONE", "KEY01"))
    ack = tmp_path / "ack.999"
    ack.write_text(interchange(transaction(["AK1*HC*1*005010X222A1", "AK2*837*0001*005010X222A1",
                                            "IK3*CLM*12**8", "IK5*R*5", "AK9*R*1*1*0"], kind="999",
                                           extra="005010X231A1"), kind="999", gs_version="005010X231A1"))
    result = import_files(book, [ack])
    (f,) = result.files
    assert f.status == "imported" and f.kind == "999" and f.rows == 1
    assert any("837 set 0001 of group 1 (v.837) was rejected" in n for n in f.notes)
    acks = pipeline.read_inputs(book).frames["Acknowledgements"]
    assert acks[["claim_id", "result", "kind"]].values.tolist() == [["", "Rejected", "999"]]
    assert acks["message"].iloc[0].startswith("999 rejected 837 set 0001 of group 1 (v.837): IK3 CLM")
    assert acks["status_date"].tolist() == [pd.Timestamp("2024-01-02")]       # the 999's GS04, not today


def test_prompt_pay_interest_paid_is_compared_with_interest_owed(book, tmp_path):
    """Keystone must pay a clean claim within 30 days of filing, else 12% a year. P3 was
    filed 03/05 (due 04/04) and paid $150 on 05/14: 40 days late, so interest owed is
    150 × 12% × 40/365 = $1.9726 → $1.97. The payer sent $0.50 (AMT*I): $1.47 short, over
    the $1.00 tolerance, so the Worklist asks to claim it, until 05/14 + 5 + 120 = 09/16."""
    r = imported(book, remit(tmp_path, "late.835", "150.50", [
        "CLP*P3*1*200*150.50**12*ICN4", "AMT*I*0.50", "SVC*HC:99215*200*150**1", "CAS*CO*45*50"],
        payer="KEYSTONE", payer_id="KEY01", date="20260514"))
    p3 = line(r, "P3")
    assert (p3["prompt_pay_status"], p3["prompt_pay_days_late"], p3["prompt_pay_interest"]) == ("Paid late", 40, 197)
    assert p3["interest"] == 50
    work = r.worklist[r.worklist["action"] == "Claim prompt-pay interest"]
    assert work[["claim_id", "amount", "deadline"]].values.tolist() == [["P3", 147, pd.Timestamp("2026-09-16")]]
    assert work["detail"].iloc[0].startswith("prompt-pay interest owed $1.97, paid $0.50")


def test_a_secondary_remittance_with_no_primary_on_file_is_a_warning(book, tmp_path):
    """The Medigap's crossover 835 for X1 arrives before Medicare's: imported all the same,
    and Exceptions says which row and what to do; nothing already imported changes."""
    r = imported(book, remit(tmp_path, "gap.835", "20", ["CLP*X1*2*150*20**MB*ICN2", "SVC*HC:99213*150*20**1",
                                                          "CAS*OA*23*130"], payer="ACME MEDIGAP", payer_id="GAP01"))
    (w,) = [e for e in r.errors if e.ref.column == "Payer Seq"]
    assert w.severity == "warning" and w.ref.sheet == "Payments" and w.ref.row == 2
    assert "no earlier payer's remittance on file" in w.message and "primary payer's remittance" in w.fix
    assert line(r, "X1")["paid"] == 2000


# --- what a review found: each a figure that was wrong -------------------------------------

def test_a_denial_paid_on_resubmission_is_closed(book, tmp_path):
    """R5 is denied CO-16 (missing information, $150), corrected and paid on 05/01: $90 with
    CO-45 $50 and PR $10, allowed $100 (the fee). The denial is closed: no partial denial,
    nothing to appeal, variance 0. (Its $150 denied amount stays on the line as history.)"""
    r = imported(book, remit(tmp_path, "d.835", "0", ["CLP*R5*4*150*0**12*ICN6", "SVC*HC:99213*150*0**1",
                                                      "CAS*CO*16*150"], payer="KEYSTONE", payer_id="KEY01"),
                 remit(tmp_path, "p.835", "90", ["CLP*R5*1*150*90*10*12*ICN7", "SVC*HC:99213*150*90**1",
                                                 "CAS*CO*45*50", "CAS*PR*2*10", "AMT*B6*100"],
                       payer="KEYSTONE", payer_id="KEY01", date="20260501"))
    r5 = line(r, "R5")
    assert not r5["partial_denial"] and not r5["denial_open"] and r5["variance"] == 0
    assert "Appeal denial" not in set(r.worklist.loc[r.worklist["claim_id"] == "R5", "action"])


def test_a_secondarys_denial_is_the_secondarys_and_its_rejection_does_not_unfile_the_primary(book, tmp_path):
    """S1 billed to Medicare and (practice-filed) to the Medigap. Medicare pays $80, CO-45 $50,
    PR-2 $20 (CLP02 1). The Medigap denies (CLP02 4, which does not say the payer) with OA-23
    $130 and PR-27 $20: it is payer 2 because the Claims row billed to it is Secondary, so
    the patient owes the $20 (balance 0) and Medicare's allowed stays $100. The Medigap's
    277CA rejecting S1 un-files the Medigap's bill only."""
    r = imported(book, claim_file(tmp_path, "p.837", "S1", "P", "MEDICARE", "MCR01"),
                 claim_file(tmp_path, "s.837", "S1", "S", "ACME MEDIGAP", "GAP01"),
                 remit(tmp_path, "m.835", "80", ["CLP*S1*1*150*80*20*MB*ICN8", "SVC*HC:99213*150*80**1",
                                                 "CAS*CO*45*50", "CAS*PR*2*20"]),
                 remit(tmp_path, "g.835", "0", ["CLP*S1*4*150*0*20*MB*ICN9", "SVC*HC:99213*150*0**1",
                                                "CAS*OA*23*130", "CAS*PR*27*20"], payer="ACME MEDIGAP",
                       payer_id="GAP01", date="20260420"))
    s1 = line(r, "S1")
    assert (s1["last_payer_seq"], s1["patient_share"], s1["balance"], s1["allowed"]) == (2, 2000, 0, 10000)
    r = imported(book, ack_277ca(tmp_path, "gap.277", [("S1", "A7:562:85", "20260421", "U", "")],
                                 payer="ACME MEDIGAP", payer_id="GAP01"))
    rows = r.claim_rows.assign(claim_id=[c["Claim ID"] for c in CLAIMS] + ["S1", "S1"])
    s1 = rows[rows["claim_id"] == "S1"]
    assert s1["role"].tolist() == ["Line", "Next payer"]
    assert s1["filing_status"].tolist() == ["Filed on time", "Open"]


def test_a_forwarding_reversed_and_reissued_as_final_is_not_forwarded(book, tmp_path):
    """Medicare forwards X1 (CLP02 19, PR-2 $20), then reverses that (22) and reissues it as
    processed-as-primary (CLP02 1): not forwarded, so the $20 is the patient's: balance 0."""
    r = imported(book, remit(tmp_path, "a.835", "80", ["CLP*X1*19*150*80*20*MB*ICN1", "SVC*HC:99213*150*80**1",
                                                       "CAS*CO*45*50", "CAS*PR*2*20"]),
                 remit(tmp_path, "b.835", "0", ["CLP*X1*22*-150*-80*-20*MB*ICN1", "SVC*HC:99213*-150*-80**1",
                                                "CAS*CO*45*-50", "CAS*PR*2*-20", "CLP*X1*1*150*80*20*MB*ICN1",
                                                "SVC*HC:99213*150*80**1", "CAS*CO*45*50", "CAS*PR*2*20"],
                       date="20260501"))
    x1 = line(r, "X1")
    assert not x1["forwarded"] and (x1["patient_share"], x1["balance"]) == (2000, 0)


def test_adjustments_take_the_payor_their_payer_id_names(book, tmp_path):
    """The 835 names the payer "KEYSTONE HEALTH PLAN OF PA" with ID KEY01 (Keystone's Payor
    ID): its Payments, Adjustments and PLB rows all say Keystone."""
    r = imported(book, remit(tmp_path, "k.835", "110", ["CLP*P3*1*200*150**12*ICN4", "SVC*HC:99215*200*150**1",
                                                        "CAS*CO*45*50"], plb=["PLB*1234567893*20261231*WO:ICN4*40"],
                             payer="KEYSTONE HEALTH PLAN OF PA", payer_id="KEY01"))
    assert set(r.adjustments["payor"]) == {"Keystone"}
    assert not [e for e in r.errors if e.ref.sheet == "Adjustments"]


def test_a_claim_paid_without_lines_with_interest_spreads_the_payment_not_the_interest(book, tmp_path):
    """Keystone pays D4 $202.50 with no service lines: CO-45 $100 at claim level and $2.50
    interest (AMT*I, included in CLP04). Lines $180 and $120: CO-45 60/40, paid 120/80 (the
    $200 paid for service), and the $2.50 interest on line 1 only."""
    r = imported(book, remit(tmp_path, "i.835", "202.50", ["CLP*D4*1*300*202.50**12*ICN5", "CAS*CO*45*100",
                                                           "AMT*I*2.50"], payer="KEYSTONE", payer_id="KEY01"))
    d1, d2 = line(r, "D4", 1), line(r, "D4", 2)
    assert (d1["paid"], d1["contractual_adj"], d1["interest"]) == (12000, 6000, 250)
    assert (d2["paid"], d2["contractual_adj"], d2["interest"]) == (8000, 4000, 0)
    assert d1["balance"] == 0 and d2["balance"] == 0
