"""read_999 and read_277ca on small acknowledgements written inline, one segment a line,
so that a segment's number is its line number in the text (the ISA is segment 1)."""
from __future__ import annotations

import pandas as pd
import pytest

from payorxl.x12 import X12Error
from payorxl.x12.acks import ACK_277CA_COLUMNS, ACK_999_COLUMNS, read_277ca, read_999
from x12_helpers import era

T = pd.Timestamp

# The clearinghouse's 999 for an 837 file (GS06 17) of two transaction sets: 0001 accepted;
# 0002 rejected for an invalid claim frequency (CLM05-3) and a bad character in a
# patient's member id (NM109; IK404 holds the bad data: a name, which must not be copied).
ACK_999 = """\
ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*MAINSTCLINIC   *240110*1200*^*00501*000000101*0*P*:~
GS*FA*CLEARINGHOUSE*MAINSTCLINIC*20240110*1200*101*X*005010X231A1~
ST*999*0001*005010X231A1~
AK1*HC*17*005010X222A1~
AK2*837*0001*005010X222A1~
IK5*A~
AK2*837*0002*005010X222A1~
IK3*CLM*22*2300*8~
CTX*CLM01:PCN200~
IK4*5:3*1325*7*Z~
IK3*NM1*30*2010CA*8~
IK4*9*67*6*JOHN SMITH~
IK5*R*5~
AK9*P*2*2*1~
SE*13*0001~
GE*1*101~
IEA*1*000000101~
"""

# A 999 that names no transaction set: the whole 837 file (GS06 18) rejected.
GROUP_999 = """\
ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*MAINSTCLINIC   *240111*1200*^*00501*000000102*0*P*:~
GS*FA*CLEARINGHOUSE*MAINSTCLINIC*20240111*1200*102*X*005010X231A1~
ST*999*0001*005010X231A1~
AK1*HC*18*005010X222A1~
AK9*R*1*1*0*5~
SE*4*0001~
GE*1*102~
IEA*1*000000102~
"""

# A 277CA: batch (2200B) and provider (2200C) statuses, then claims under patient HLs
# (2200D): PCN100 accepted (A1:19) with a payer claim number and a service date range;
# PCN200 rejected (A7:562, billing provider NPI) with STC10 and a message; PCN300 with two
# statuses; PCN400 rejected with two rejected lines (2220D), the first with REF*FJ 3.
ACK_277CA = """\
ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*MAINSTCLINIC   *240112*0900*^*00501*000000201*0*P*:~
GS*HN*CLEARINGHOUSE*MAINSTCLINIC*20240112*0900*201*X*005010X214~
ST*277*0001*005010X214~
BHT*0085*08*277X214*20240112*0900*TH~
HL*1**20*1~
NM1*PR*2*ACME HEALTH PLAN*****PI*PAYER01~
TRN*1*CH20240112~
DTP*050*D8*20240111~
DTP*009*D8*20240112~
HL*2*1*21*1~
NM1*41*2*MAIN STREET CLINIC*****46*S1~
TRN*2*BATCH17~
STC*A1:19:PR*20240112*WQ*555~
QTY*90*2~
QTY*AA*2~
HL*3*2*19*1~
NM1*85*2*MAIN STREET CLINIC*****XX*1234567893~
TRN*1*PROV1~
STC*A1:19:PR**WQ*555~
HL*4*3*PT~
NM1*QC*1*DOE*JOHN****MI*MEM001~
TRN*2*PCN100~
STC*A1:19:PR*20240112*WQ*250~
REF*1K*PAYERCLM9001~
DTP*472*RD8*20240105-20240107~
HL*5*3*PT~
NM1*QC*1*ROE*JANE****MI*MEM002~
TRN*2*PCN200~
STC*A7:562:85*20240112*U*80.5******A7:128**NPI NOT ON FILE FOR BILLING PROVIDER~
DTP*472*D8*20240108~
HL*6*3*PT~
NM1*QC*1*POE*JIM****MI*MEM003~
TRN*2*PCN300~
STC*A1:19:PR*20240112*WQ*120~
STC*A2:20:PR*20240113*WQ*120~
HL*7*3*PT~
NM1*QC*1*COE*ANN****MI*MEM004~
TRN*2*PCN400~
STC*A3:21*20240112*U*95~
DTP*472*D8*20240109~
SVC*HC:99213*70~
STC*A7:454*20240112*U~
REF*FJ*3~
SVC*HC:36415*25~
STC*A6:145*20240112*U~
REF*FJ*LC-ABC~
DTP*472*D8*20240110~
SE*46*0001~
GE*1*201~
IEA*1*000000201~
"""


def test_999_accepts_one_set_and_rejects_another():
    acks = read_999(ACK_999, source_name="jan.999")
    assert list(acks.columns) == [name for name, _ in ACK_999_COLUMNS]
    assert acks.attrs["warnings"] == [] and acks.attrs["source"] == "jan.999"
    assert acks.values.tolist() == [
        [1, "17", "HC", "837", "0001", "A", True, "", "P", "", 5],
        [1, "17", "HC", "837", "0002", "R", False,
         "IK3 CLM at segment 22 (loop 2300): 8; IK4 CLM05-3: 7; "
         "IK3 NM1 at segment 30 (loop 2010CA): 8; IK4 NM109: 6; IK5: 5", "P", "PCN200", 7]]


def test_999_never_copies_the_bad_data_element():
    errors = " ".join(read_999(ACK_999)["errors"])
    assert "JOHN" not in errors and "SMITH" not in errors and "*Z" not in errors


def test_999_for_a_whole_group():
    (row,) = read_999(GROUP_999).to_dict("records")
    assert row == {"st": 1, "group_control": "18", "functional_id": "HC", "set_id": "",
                   "set_control": "", "status": "R", "accepted": False, "errors": "AK9: 5",
                   "group_status": "R", "claim_ids": "", "segment": 4}
    accepted = read_999(GROUP_999.replace("AK9*R*1*1*0*5", "AK9*A*1*1*1"))
    assert accepted[["status", "accepted", "errors"]].values.tolist() == [["A", True, ""]]


def test_999_without_ik5_or_with_an_unknown_status_warns():
    acks = read_999(ACK_999.replace("IK5*A~\n", "").replace("SE*13", "SE*12"))
    assert acks[["set_control", "status", "accepted"]].values.tolist() == [
        ["0001", "", False], ["0002", "R", False]]
    (w,) = acks.attrs["warnings"]
    assert "no IK5" in w.message and w.ref.row == 5 and w.severity == "warning"
    acks = read_999(ACK_999.replace("IK5*A~", "IK5*Q~"))
    assert acks["accepted"].tolist() == [False, False]
    assert "IK501" in acks.attrs["warnings"][0].message


def test_277ca_claim_statuses():
    acks = read_277ca(ACK_277CA, source_name="jan.277")
    assert list(acks.columns) == [name for name, _ in ACK_277CA_COLUMNS]
    assert acks.attrs["warnings"] == [] and acks.attrs["source"] == "jan.277"
    # No row for the batch (segment 13) nor the billing provider (segment 19).
    claims = acks[acks["line"] == 0]
    assert claims[["claim_id", "payer_claim_no", "status_category", "status_code", "entity",
                   "status_date", "action", "charge", "accepted", "rejected", "service_date",
                   "segment"]].values.tolist() == [
        ["PCN100", "PAYERCLM9001", "A1", "19", "PR", T("2024-01-12"), "WQ", 25000, True, False,
         T("2024-01-05"), 23],
        ["PCN200", "", "A7", "562", "85", T("2024-01-12"), "U", 8050, False, True,
         T("2024-01-08"), 29],
        ["PCN300", "", "A1", "19", "PR", T("2024-01-12"), "WQ", 12000, True, False, pd.NaT, 34],
        ["PCN300", "", "A2", "20", "PR", T("2024-01-13"), "WQ", 12000, True, False, pd.NaT, 35],
        ["PCN400", "", "A3", "21", "", T("2024-01-12"), "U", 9500, False, True,
         T("2024-01-09"), 39]]
    assert set(acks["payer_name"]) == {"ACME HEALTH PLAN"} and set(acks["st"]) == {1}
    pcn200 = acks[acks["claim_id"] == "PCN200"].iloc[0]
    assert pcn200["message"] == "NPI NOT ON FILE FOR BILLING PROVIDER"
    assert pcn200["other_statuses"] == "A7:128"


def test_277ca_line_statuses():
    lines = read_277ca(ACK_277CA).query("line > 0")
    assert lines[["claim_id", "line", "line_control_no", "status_category", "status_code",
                  "action", "charge", "rejected", "service_date", "segment"]].values.tolist() == [
        ["PCN400", 3, "3", "A7", "454", "U", 7000, True, T("2024-01-09"), 42],
        ["PCN400", 2, "LC-ABC", "A6", "145", "U", 2500, True, T("2024-01-10"), 45]]


def test_277ca_dtypes():
    acks = read_277ca(ACK_277CA)
    assert str(acks["charge"].dtype) == "Int64"
    assert str(acks["status_date"].dtype) == "datetime64[ns]"
    assert str(acks["service_date"].dtype) == "datetime64[ns]"
    assert acks["accepted"].dtype == bool and acks["rejected"].dtype == bool


def test_277ca_category_decides_when_the_action_is_missing():
    text = ACK_277CA.replace("STC*A1:19:PR*20240112*WQ*250", "STC*A1:19:PR*20240112**250") \
        .replace("STC*A7:562:85*20240112*U*", "STC*A7:562:85*20240112**")
    acks = read_277ca(text).set_index("claim_id")
    assert acks.loc["PCN100", ["accepted", "rejected"]].tolist() == [True, False]
    assert acks.loc["PCN200", ["accepted", "rejected"]].tolist() == [False, True]


def test_277ca_bad_status_date_is_a_warning_and_the_row_is_kept():
    acks = read_277ca(ACK_277CA.replace("STC*A1:19:PR*20240112*WQ*250",
                                        "STC*A1:19:PR*20241332*WQ*250"))
    (w,) = acks.attrs["warnings"]
    assert "STC02" in w.message and "not a date" in w.message and w.ref.row == 23
    row = acks.iloc[0]
    assert row["claim_id"] == "PCN100" and pd.isna(row["status_date"]) and bool(row["accepted"])


def test_277ca_long_message_is_cut():
    text = ACK_277CA.replace("NPI NOT ON FILE FOR BILLING PROVIDER", "X" * 300)
    message = read_277ca(text).loc[1, "message"]
    assert len(message) == 120 and message.endswith("…")


def test_text_bytes_and_path(tmp_path):
    path = tmp_path / "ack.277"
    path.write_text(ACK_277CA)
    assert len(read_277ca(path)) == len(read_277ca(ACK_277CA.encode())) == 7
    assert read_277ca(path).attrs["source"] == "ack.277"
    path = tmp_path / "ack.999"
    path.write_bytes(ACK_999.encode())
    assert read_999(str(path))["set_control"].tolist() == ["0001", "0002"]


def test_wrong_transaction_sets():
    remittance = era("0", ["CLP*PCN1*4*100*0**12*PAYER1"])
    with pytest.raises(X12Error, match="not a 277CA") as info:
        read_277ca(remittance)
    assert info.value.segment_id == "ST" and info.value.segment == 3
    with pytest.raises(X12Error, match="not a 999"):
        read_999(remittance)
    with pytest.raises(X12Error, match="a 277, not a 999"):
        read_999(ACK_277CA)
    with pytest.raises(X12Error, match="a 999, not a 277CA"):
        read_277ca(ACK_999)
    with pytest.raises(X12Error, match="997"):
        read_999(GROUP_999.replace("ST*999", "ST*997"))


@pytest.mark.parametrize("reader", [read_999, read_277ca])
def test_garbage_is_not_x12(reader):
    with pytest.raises(X12Error, match="not an X12 file"):
        reader("Claim acknowledgement report\nPCN100 accepted\n")
