"""read_837 on a small professional claim file written inline."""
from __future__ import annotations

import pandas as pd
import pytest

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.importer import excel_records
from payorxl.x12 import X12Error, read_837
from payorxl.x12.claims837 import CLAIM_EXTRAS, NO_PATIENT_ID
from x12_helpers import CLAIM_FILE, interchange, transaction

T = pd.Timestamp


def test_claim_lines():
    claims = read_837(CLAIM_FILE, source_name="batch.837")
    # PCN200's patient is a dependent (NM1*QC) without a member id: a placeholder, not CLM01.
    (w,) = claims.attrs["warnings"]
    assert "no member id" in w.message and w.ref.row == 29
    assert list(claims.columns) == m.CLAIMS.keys + list(CLAIM_EXTRAS)
    rows = claims[["claim_id", "line", "patient_id", "payor", "claim_type", "frequency", "cpt",
                   "modifier", "units", "dos", "through_date", "charge", "filed_date",
                   "payor_claim_no", "line_control_no", "diagnoses", "modifiers"]]
    assert rows.values.tolist() == [
        ["PCN100", 1, "MEM001", "ACME HEALTH PLAN", "Primary", "1", "99214", "25", 1,
         T("2024-01-05"), pd.NaT, 15000, T("2024-01-10"), "", "LC100-1", "E119,I10", "25,GT"],
        ["PCN100", 2, "MEM001", "ACME HEALTH PLAN", "Primary", "1", "36415", "", 2,
         T("2024-01-05"), T("2024-01-07"), 10000, T("2024-01-10"), "", "", "E119,I10", ""],
        ["PCN200", 1, NO_PATIENT_ID, "SECOND PLAN", "Secondary", "7", "99213", "", 1,
         T("2024-01-08"), pd.NaT, 8000, T("2024-01-10"), "PAYERCLM55", "", "J069", ""]]
    assert claims["payer_id"].tolist() == ["PAYER01", "PAYER01", "PAYER02"]
    assert claims["primary_remit_date"].isna().all()


def test_dtypes_follow_the_model():
    claims = read_837(CLAIM_FILE)
    for col in m.CLAIMS.columns:
        expected = {m.MONEY: "Int64", m.INT: "Int64", m.DATE: "datetime64[ns]"}.get(col.kind, "object")
        assert str(claims[col.key].dtype) == expected, col.key


def test_claim_total_that_does_not_add_up_is_a_warning():
    claims = read_837(CLAIM_FILE.replace("CLM*PCN100*250", "CLM*PCN100*260"))
    (w,) = [w for w in claims.attrs["warnings"] if "no member id" not in w.message]
    assert "CLM02" in w.message and "260.00" in w.message and w.ref.row == 13


def test_missing_date_of_service_and_bad_units_are_warnings():
    text = CLAIM_FILE.replace("DTP*472*D8*20240108", "DTP*472*D8*2024010").replace(
        "SV1*HC:36415*100*UN*2", "SV1*HC:36415*100*UN*1.5")
    claims = read_837(text)
    messages = " | ".join(w.message for w in claims.attrs["warnings"])
    assert "not a date" in messages and "no date of service" in messages
    assert "not a whole number" in messages
    assert pd.isna(claims["dos"].iloc[2]) and pd.isna(claims["units"].iloc[1])


def test_patient_control_number_and_text_kept_as_sent():
    claims = read_837(CLAIM_FILE.replace("ACME HEALTH PLAN", "=cmd|'/c calc'!A1"))
    assert claims["payor"].iloc[0] == "=cmd|'/c calc'!A1"


def test_4010_claim_with_patient_member_id():
    text = interchange(transaction([
        "BHT*0019*00*B1*20090110*1200*CH",
        "HL*1**20*1", "NM1*85*2*CLINIC*****24*123456789",
        "HL*2*1*22*1", "SBR*P*******CI", "NM1*IL*1*DOE*JOHN****MI*SUB1",
        "NM1*PR*2*OLD PLAN*****PI*P1",
        "HL*3*2*23*0", "PAT*01", "NM1*QC*1*DOE*JILL****MI*DEP02",
        "CLM*C4010*40***11::1*Y*A*Y*Y*C", "HI*BK:4019",
        "LX*1", "SV1*HC:99212*40*UN*1***1", "DTP*472*D8*20090105"], kind="837"),
        kind="837", version="00401", gs_version="004010X098A1")
    claims = read_837(text)
    assert claims[["claim_id", "patient_id", "payor", "frequency", "diagnoses"]].values.tolist() \
        == [["C4010", "DEP02", "OLD PLAN", "1", "4019"]]


def test_835_given_to_read_837():
    with pytest.raises(X12Error, match="not an 837"):
        read_837(interchange(transaction(["BPR*I*0*C*NON************20240115"])))


def _patient_file(patient_loop: list[str], clm01: str = "PCN900") -> str:
    """An 837P with one subscriber (member id SUB9) and one claim, the patient loop given."""
    return interchange(transaction([
        "BHT*0019*00*B1*20240110*1200*CH",
        "HL*1**20*1", "NM1*85*2*MAIN STREET CLINIC*****XX*1234567893",
        "HL*2*1*22*" + ("1" if patient_loop else "0"), "SBR*P*18*******CI",
        "NM1*IL*1*ROE*RICHARD****MI*SUB9", "DMG*D8*19700101*M",
        "NM1*PR*2*ACME HEALTH PLAN*****PI*PAYER01",
        *patient_loop,
        f"CLM*{clm01}*80***11:B:1*Y*A*Y*Y", "HI*ABK:J069",
        "LX*1", "SV1*HC:99213*80*UN*1***1", "DTP*472*D8*20240108"], kind="837"), kind="837",
        gs_version="005010X222A1")


def test_dependent_without_member_id_is_not_given_the_claim_id():
    """A dependent (HL 23, NM1*QC without NM109) has no id in the file: Patient ID is the
    NO_PATIENT_ID placeholder, never CLM01, the subscriber's id, or the name or birth
    date; a warning says so, and the claim still converts (Patient ID is required)."""
    text = _patient_file(["HL*3*2*23*0", "PAT*19", "NM1*QC*1*ROE*TIMMY", "DMG*D8*20100203*M"])
    claims = read_837(text)
    assert claims["patient_id"].tolist() == [NO_PATIENT_ID]
    patient_id = claims["patient_id"].iloc[0]
    for identifying in ("PCN900", "SUB9", "ROE", "TIMMY", "20100203"):
        assert identifying not in patient_id
    (w,) = claims.attrs["warnings"]
    assert "NM1*QC NM109" in w.message and w.ref.row == 16 and w.severity == "warning"
    assert "PCN900" not in str(w)
    # The claim is kept: the row it becomes in the Claims sheet converts without error.
    converted = typed_frame(m.CLAIMS, excel_records(m.CLAIMS, claims))
    assert converted.errors == [] and converted.frame["claim_id"].tolist() == ["PCN900"]


def test_patient_id_sources():
    # The subscriber is the patient: the subscriber's member id (NM1*IL NM109).
    claims = read_837(_patient_file([]))
    assert claims["patient_id"].tolist() == ["SUB9"] and claims.attrs["warnings"] == []
    # A dependent with an id of their own: that id (NM1*QC NM109), not the subscriber's.
    claims = read_837(_patient_file(["HL*3*2*23*0", "PAT*19", "NM1*QC*1*ROE*TIMMY****MI*DEP7"]))
    assert claims["patient_id"].tolist() == ["DEP7"] and claims.attrs["warnings"] == []
    # A subscriber-patient without a member id: the placeholder too, never CLM01.
    claims = read_837(_patient_file([]).replace("MI*SUB9", "MI*"))
    assert claims["patient_id"].tolist() == [NO_PATIENT_ID]
    assert "NM1*IL NM109" in claims.attrs["warnings"][0].message


def test_the_pricing_modifier_and_the_place_of_service():
    """SV101 HC:27447:59:50 keeps 50 (it prices: 150% of base), not the informational 59;
    HC:99214:25:GT keeps 25 (both informational: the first). POS: SV105 where sent (22), else
    CLM05-1 (11)."""
    claims = read_837(_patient_file([]).replace(
        "SV1*HC:99213*80*UN*1***1", "SV1*HC:27447:59:50*60*UN*1*22**1~LX*2~SV1*HC:99214:25:GT*20*UN*1***1"))
    assert claims["modifier"].tolist() == ["50", "25"] and claims["modifiers"].tolist() == ["59,50", "25,GT"]
    assert claims["pos"].tolist() == ["22", "11"]
