"""match_payments: each of the four keys, in order, and what is left unmatched."""
from __future__ import annotations

import pandas as pd

from payorxl.engine.lines import line_summary
from payorxl.x12 import match_payments, read_835, read_837, to_payments
from x12_helpers import CLAIM_FILE, era

# PCN100 line 1: 99214 on 2024-01-05 (REF*6R LC100-1); line 2: 36415 on 2024-01-05..07;
# PCN200 line 1: 99213 on 2024-01-08, payer claim number PAYERCLM55 (ACME / SECOND PLAN).
CLAIMS = read_837(CLAIM_FILE)


def match(*claims: str, payer: str = "ACME HEALTH PLAN"):
    payments = to_payments(read_835(era("0", list(claims), payer=payer)))
    return match_payments(payments, CLAIMS)


def test_by_patient_control_number_and_line():
    matched, unmatched = match("CLP*PCN100*1*250*0**12*X1", "SVC*HC:99214*150*0**1",
                               "SVC*HC:36415*100*0**2")
    assert unmatched.empty
    assert matched[["claim_id", "line", "matched_by"]].values.tolist() == [
        ["PCN100", 1, "claim_id+line"], ["PCN100", 2, "claim_id+line"]]
    assert matched["remit_claim_id"].tolist() == ["PCN100", "PCN100"]


def test_by_payor_claim_number_and_line():
    matched, unmatched = match("CLP*UNKNOWN7*2*80*0**12*PAYERCLM55", "SVC*HC:99213*80*0**1",
                               payer="SECOND PLAN")
    assert unmatched.empty
    assert matched[["claim_id", "line", "remit_claim_id", "matched_by"]].values.tolist() == [
        ["PCN200", 1, "UNKNOWN7", "payor_claim_no+line"]]


def test_by_line_control_number():
    matched, unmatched = match("CLP*TYPO100*1*150*0**12*NEWNO", "SVC*HC:99214*150*0**1",
                               "REF*6R*LC100-1")
    assert unmatched.empty
    assert matched[["claim_id", "line", "matched_by"]].values.tolist() == [
        ["PCN100", 1, "line_control_no"]]


def test_by_cpt_and_date_within_the_patient_control_number():
    """The payer returns only the second line, so by position it is "line 1": the CPT
    disagrees with line 1, and CPT + date of service finds line 2."""
    matched, unmatched = match("CLP*PCN100*1*100*0**12*X1", "SVC*HC:36415*100*0**2",
                               "DTM*472*20240106")
    assert unmatched.empty
    assert matched[["claim_id", "line", "remit_line", "matched_by"]].values.tolist() == [
        ["PCN100", 2, 1, "cpt+dos"]]


def test_by_cpt_and_date_within_the_payor():
    matched, unmatched = match("CLP*LOST1*1*150*0**12*X9", "SVC*HC:99214*150*0**1",
                               "DTM*472*20240105", payer="Acme  Health Plan")
    assert unmatched.empty
    assert matched[["claim_id", "line", "matched_by"]].values.tolist() == [
        ["PCN100", 1, "cpt+dos"]]


def test_unmatched_rows_say_why():
    matched, unmatched = match("CLP*NOPE*1*150*0**12*X9", "SVC*HC:99499*150*0**1",
                               "DTM*472*20240105",
                               "CLP*PCN100*1*10*0**12*X1", "SVC*HC:99499*10*0**1")
    assert matched.empty
    assert unmatched["claim_id"].tolist() == ["NOPE", "PCN100"]
    assert "no claim line has" in unmatched["reason"].iloc[0]
    assert "is CPT 99214, the payment is for CPT 99499" in unmatched["reason"].iloc[1]


def test_ambiguous_key_is_not_a_match():
    claims = pd.concat([CLAIMS, CLAIMS.assign(claim_id="PCN999")], ignore_index=True)
    payments = to_payments(read_835(era("0", ["CLP*X*1*150*0**12*Y", "SVC*HC:99214*150*0**1",
                                              "REF*6R*LC100-1"])))
    matched, unmatched = match_payments(payments, claims)
    assert matched.empty
    assert unmatched["reason"].tolist() == ["2 claim lines have the same line control number"]


def test_reversal_and_correction_match_the_same_line_and_net():
    original = to_payments(read_835(era("150", [
        "CLP*PCN100*1*150*120**12*X1", "SVC*HC:99214*150*120**1", "CAS*CO*45*30"])))
    later = to_payments(read_835(era("10", [
        "CLP*PCN100*22*-150*-120**12*X1", "SVC*HC:99214*-150*-120**1", "CAS*CO*45*-30",
        "CLP*PCN100*1*150*130**12*X2", "SVC*HC:99214*150*130**1", "CAS*CO*45*20"])))
    matched, unmatched = match_payments(pd.concat([original, later], ignore_index=True), CLAIMS)
    assert unmatched.empty
    assert matched[["claim_status", "claim_id", "line", "paid"]].values.tolist() == [
        ["1", "PCN100", 1, 12000], ["22", "PCN100", 1, -12000], ["1", "PCN100", 1, 13000]]
    summary = line_summary(CLAIMS, matched)
    assert summary["paid"].tolist() == [13000, 0, 0]


def test_reversal_without_keys_of_its_own_follows_its_original():
    """The original matched on CPT + date within the payor; the reversal carries no date,
    so it takes the original's line."""
    payments = to_payments(read_835(era("0", [
        "CLP*LOST1*1*150*120**12*X9", "SVC*HC:99214*150*120**1", "DTM*472*20240105",
        "CAS*CO*45*30",
        "CLP*LOST1*22*-150*-120**12*X9", "SVC*HC:99214*-150*-120**1", "CAS*CO*45*-30"])))
    payments.loc[1, "service_date"] = pd.NaT
    matched, unmatched = match_payments(payments, CLAIMS)
    assert unmatched.empty
    assert matched[["claim_id", "line", "matched_by"]].values.tolist() == [
        ["PCN100", 1, "cpt+dos"], ["PCN100", 1, "reversal of matched payment"]]


def test_manual_payments_without_the_extra_columns():
    manual = pd.DataFrame({"claim_id": ["PCN200", "ZZZ"], "line": pd.array([1, 1], "Int64"),
                           "paid": pd.array([500, 100], "Int64")})
    matched, unmatched = match_payments(manual, CLAIMS)
    assert matched["matched_by"].tolist() == ["claim_id+line"]
    assert unmatched["claim_id"].tolist() == ["ZZZ"]


def test_nothing_to_match():
    empty = to_payments(read_835(era("0", [])))
    matched, unmatched = match_payments(empty, CLAIMS)
    assert matched.empty and unmatched.empty
    payments = to_payments(read_835(era("0", ["CLP*A*1*1*0**12*B"])))
    matched, unmatched = match_payments(payments, CLAIMS.iloc[0:0])
    assert matched.empty and len(unmatched) == 1
