"""read_835 and to_payments on small remittances written inline, one situation each."""
from __future__ import annotations

import pandas as pd
import pytest

from payorxl import model as m
from payorxl.engine.lines import denial_rows, line_summary
from payorxl.x12 import balance_835, read_835, to_adjustments, to_payments
from payorxl.x12.era835 import PAYMENT_EXTRAS
from payorxl.x12.values import BadValue, cents
from x12_helpers import era, header, interchange, transaction

T = pd.Timestamp


@pytest.mark.parametrize("text, expected", [
    ("1200.5", 120050), ("-13.65", -1365), ("0", 0), (".5", 50), ("7.", 700),
    ("1.005", 101), ("-1.005", -101), ("0.004", 0), ("+3", 300), ("000012.30", 1230)])
def test_cents(text, expected):
    assert cents(text) == expected


@pytest.mark.parametrize("text", ["", ".", "-", "1e5", "NaN", "Infinity", "1,200.00", "$5",
                                  "amount", "1.2.3", "١٢", "12345678901234.00", " - 1"])
def test_cents_rejects_what_is_not_plain_decimal_text(text):
    with pytest.raises(BadValue):
        cents(text)


def test_a_paid_claim_with_lines_adjustments_and_remarks():
    text = era("105", [
        "CLP*PCN100*1*250*105*40*12*PAYER77*11*1",
        "NM1*QC*1*DOE*JANE****MI*XYZ123",
        "DTM*232*20240105", "DTM*233*20240105",
        "SVC*HC:99214:25*150*80**1", "DTM*472*20240105",
        "CAS*CO*45*30", "CAS*PR*2*40", "REF*6R*1", "AMT*B6*120", "LQ*HE*N130", "LQ*HE*M15",
        "SVC*HC:36415*100*25**1", "DTM*472*20240105",
        "CAS*CO*45*20*1*253*2*1*59*3", "CAS*PR*1*50", "REF*6R*LN-2"])
    r = read_835(text, source_name="jan.835")
    assert r.warnings == []
    check = r.checks.iloc[0]
    assert check["bpr_amount"] == 10500 and check["trace_number"] == "CHK1001"
    assert check["payment_date"] == T("2024-01-15") and check["production_date"] == T("2024-01-14")
    assert (check["payer_name"], check["payer_id"]) == ("ACME HEALTH PLAN", "PAYER01")
    assert (check["payee_name"], check["payee_npi"]) == ("MAIN STREET CLINIC", "1234567893")
    assert (check["version"], check["release"], check["method"]) == ("005010X221A1", "5010", "CHK")

    claim = r.claims.iloc[0]
    assert (claim["claim_id"], claim["status"], claim["charge"], claim["paid"],
            claim["patient_resp"], claim["payer_claim_no"]) == \
        ("PCN100", "1", 25000, 10500, 4000, "PAYER77")
    assert claim["statement_from"] == T("2024-01-05") and claim["trace_number"] == "CHK1001"

    lines = r.service_lines
    assert lines["cpt"].tolist() == ["99214", "36415"]
    assert lines["modifiers"].tolist() == ["25", ""]
    assert lines["line"].tolist() == [1, 2]            # REF*6R "1"; "LN-2" is not a number
    assert lines["line_control_no"].tolist() == ["1", "LN-2"]
    assert lines["allowed"].tolist()[0] == 12000 and pd.isna(lines["allowed"].iloc[1])
    assert lines["remarks"].tolist() == ["N130,M15", ""]

    adj = r.adjustments
    assert adj[["group", "reason", "amount"]].values.tolist() == [
        ["CO", "45", 3000], ["PR", "2", 4000], ["CO", "45", 2000], ["CO", "253", 200],
        ["CO", "59", 300], ["PR", "1", 5000]]
    assert adj["quantity"].tolist()[2] == 1 and adj["level"].unique().tolist() == ["line"]
    assert balance_835(r).empty

    pay = to_payments(r)
    assert pay[["claim_id", "line", "cpt", "charge", "allowed", "paid", "patient_resp",
                "contractual_adj", "denied_amount", "rarc"]].values.tolist() == [
        ["PCN100", 1, "99214", 15000, 12000, 8000, 4000, 3000, 0, "N130"],
        ["PCN100", 2, "36415", 10000, pd.NA, 2500, 5000, 2500, 0, ""]]
    assert pay["source"].unique().tolist() == ["jan.835"]
    assert pay["remit_date"].tolist() == [T("2024-01-15")] * 2
    assert pay["check_no"].unique().tolist() == ["CHK1001"]
    assert pay["payor"].unique().tolist() == ["ACME HEALTH PLAN"]
    assert pay["service_date"].tolist() == [T("2024-01-05")] * 2
    assert pay["line_control_no"].tolist() == ["1", "LN-2"]
    assert pay["modifier"].tolist() == ["25", ""]


def test_payments_frame_has_the_model_dtypes():
    pay = to_payments(read_835(era("80", ["CLP*A1*1*100*80**12*P1", "SVC*HC:99213*100*80**1",
                                          "CAS*CO*45*20"])))
    assert list(pay.columns) == m.PAYMENTS.keys + list(PAYMENT_EXTRAS)
    for name, dtype in PAYMENT_EXTRAS.items():
        assert pay[name].dtype == dtype, name
    for col in m.PAYMENTS.columns:
        dtype = str(pay[col.key].dtype)
        expected = {m.MONEY: "Int64", m.INT: "Int64", m.DATE: "datetime64[ns]"}.get(col.kind, "object")
        assert dtype == expected, col.key
        if expected == "object":
            assert all(isinstance(v, str) for v in pay[col.key]), col.key


def test_reversal_then_corrected_payment_nets():
    """January pays 120; February reverses it (CLP02 22, negative amounts) and pays the
    corrected claim 150. Posted together the line shows 150 paid."""
    january = era("120", ["CLP*R1*1*200*120**12*PCN9", "SVC*HC:99214*200*120**1",
                          "DTM*472*20240105", "CAS*CO*45*80"], date="20240120")
    february = era("30", ["CLP*R1*22*-200*-120**12*PCN9", "SVC*HC:99214*-200*-120**1",
                          "DTM*472*20240105", "CAS*CO*45*-80",
                          "CLP*R1*1*200*150**12*PCN10", "SVC*HC:99214*200*150**1",
                          "DTM*472*20240105", "CAS*CO*45*50"], date="20240220")
    feb = read_835(february)
    assert balance_835(feb).empty
    pay_feb = to_payments(feb)
    assert pay_feb["claim_status"].tolist() == ["22", "1"]
    assert pay_feb["paid"].tolist() == [-12000, 15000]
    assert pay_feb["contractual_adj"].tolist() == [-8000, 5000]
    assert (pay_feb["line"] == 1).all() and (pay_feb["denied_amount"] == 0).all()

    payments = pd.concat([to_payments(read_835(january)), pay_feb], ignore_index=True)
    claims = pd.DataFrame({"claim_id": ["R1"], "line": pd.array([1], "Int64")})
    summary = line_summary(claims, payments).iloc[0]
    assert (summary["paid"], summary["contractual_adj"], summary["n_remits"]) == (15000, 5000, 3)
    assert not denial_rows(payments).any()


def test_denied_claim_co29_without_lines():
    r = read_835(era("0", ["CLP*D1*4*300*0**12*PCN3", "CAS*CO*29*300", "MOA***N211"],
                     method="NON"))
    assert balance_835(r).empty
    pay = to_payments(r)
    row = pay.iloc[0]
    assert (row["claim_id"], row["line"], row["claim_status"], row["charge"], row["paid"]) == \
        ("D1", 1, "4", 30000, 0)
    assert (row["denied_amount"], row["group_code"], row["carc"], row["rarc"]) == \
        (30000, "CO", "29", "N211")
    assert row["level"] == "claim" and row["cpt"] == ""
    assert denial_rows(pay).tolist() == [True]
    claims = pd.DataFrame({"claim_id": ["D1"], "line": pd.array([1], "Int64")})
    assert bool(line_summary(claims, pay)["carc29"].iloc[0])


def test_denied_claim_co29_with_lines():
    r = read_835(era("0", ["CLP*D2*4*300*0**12*PCN4", "SVC*HC:99213*180*0**1", "CAS*CO*29*180",
                           "SVC*HC:81002*120*0**1", "CAS*CO*29*120"]))
    pay = to_payments(r)
    assert pay[["line", "denied_amount", "group_code", "carc"]].values.tolist() == [
        [1, 18000, "CO", "29"], [2, 12000, "CO", "29"]]
    assert balance_835(r).empty


def test_claim_level_adjustment_on_a_one_line_claim_goes_to_that_line():
    """CLP04 is 450 but the line pays 500: the claim-level CO-A2 of 50 belongs to the only
    line, which then nets 450, the money received, with 50 more contractual."""
    r = read_835(era("450", ["CLP*C1*1*800*450*300*12*P1", "CAS*CO*A2*50",
                             "SVC*HC:99211*800*500**1", "CAS*PR*1*300"]))
    assert balance_835(r).empty
    pay = to_payments(r)
    assert pay[["line", "level", "cpt", "charge", "paid", "contractual_adj", "patient_resp"]] \
        .values.tolist() == [[1, "line", "99211", 80000, 45000, 5000, 30000]]
    assert pay["paid"].sum() == r.claims["paid"].sum()
    adj = to_adjustments(r)
    assert adj[["line", "level", "group_code", "reason", "amount"]].values.tolist() == [
        [1, "claim", "CO", "A2", 5000], [1, "line", "PR", "1", 30000]]


def test_claim_level_adjustment_is_spread_pro_rata_by_charge_to_the_cent():
    """A claim-level CO-45 of 100.00 over three lines charged 100, 100 and 50 (total 250):
    by hand, 100 x 100/250 = 40.00, 100 x 50/250 = 20.00, and the largest line (the first of
    the two equal ones) takes the rest, 40.00. With 10.00 instead: 4.00, 2.00, and 4.00.
    With 0.01: the small lines round 0.004 and 0.002 to 0.00, the largest line takes 0.01."""
    def posted(claim_adj):
        paid = 250 - claim_adj
        r = read_835(era(f"{paid:.2f}", [f"CLP*C9*1*250*{paid:.2f}**12*P9", f"CAS*CO*45*{claim_adj:.2f}",
                                         "SVC*HC:99213*100*100**1", "SVC*HC:99214*100*100**1",
                                         "SVC*HC:81002*50*50**1"]))
        assert balance_835(r).empty
        pay = to_payments(r)
        assert pay["paid"].sum() == r.claims["paid"].sum()
        assert ((pay["charge"] - pay["paid"] - pay["contractual_adj"]) == 0).all()
        return pay["contractual_adj"].tolist()
    assert posted(100) == [4000, 4000, 2000]
    assert posted(10) == [400, 400, 200]
    assert posted(0.01) == [1, 0, 0]


def test_oa23_is_neither_contractual_nor_a_denial():
    """OA-23 on a secondary says what the primary did: kept in Adjustments as Prior Payer,
    in none of the Payments money columns."""
    r = read_835(era("30", ["CLP*S1*2*166.50*30**12*P1", "SVC*HC:12345*166.50*30**1", "CAS*OA*23*136.50"]))
    pay = to_payments(r)
    assert (pay["contractual_adj"].tolist(), pay["denied_amount"].tolist()) == ([0], [0])
    assert pay["carc"].tolist() == [""] and pay["payer_seq"].tolist() == ["2"]
    adj = to_adjustments(r)
    assert adj[["group_code", "reason", "amount"]].values.tolist() == [["OA", "23", 13650]]


def test_plb_interest_and_recoupment_balance_the_transaction():
    """Claims pay 150; the payer adds 2.50 interest (L6, negative) and recoups 40.00 of an
    old overpayment (WO, positive): the EFT is 150 + 2.50 − 40 = 112.50."""
    claims = ["CLP*P1*1*100*100**12*A", "CLP*P2*1*50*50**12*B"]
    plb = ["PLB*1234567893*20241231*L6:INT1*-2.50*WO:OVR55*40"]
    r = read_835(era("112.50", claims, plb))
    assert r.plb[["reason", "reference", "amount"]].values.tolist() == [
        ["L6", "INT1", -250], ["WO", "OVR55", 4000]]
    assert r.plb["fiscal_period_end"].tolist() == [T("2024-12-31")] * 2
    assert balance_835(r).empty

    wrong = balance_835(read_835(era("150", claims, plb)))
    (row,) = wrong.to_dict("records")
    assert (row["level"], row["st"], row["expected"], row["actual"], row["difference"]) == \
        ("transaction", 1, 15000, 11250, -3750)
    assert row["trace_number"] == "CHK1001"


def test_debit_remittance():
    """A payer taking money back (BPR03 = D): the BPR amount counts as negative."""
    r = read_835(era("40", ["CLP*P1*22*-40*-40**12*A"], credit="D"))
    assert balance_835(r).empty


def test_line_and_claim_balancing_failures():
    r = read_835(era("70", ["CLP*F1*1*100*70**12*A", "SVC*HC:99213*100*70**1", "CAS*CO*45*20"]))
    failures = balance_835(r)
    assert failures[["level", "claim_id", "line", "expected", "actual", "difference"]] \
        .values.tolist() == [["claim", "F1", 0, 7000, 8000, 1000],
                             ["line", "F1", 1, 7000, 8000, 1000]]
    assert failures["segment"].tolist() == [10, 11]


def test_file_without_isa_or_gs():
    body = transaction(header("80") + ["LX*1", "CLP*A1*1*100*80**12*P1", "CAS*CO*45*20"])
    r = read_835("~".join(body) + "~")
    assert r.checks["version"].tolist() == [""] and r.checks["release"].tolist() == [""]
    assert r.claims["paid"].tolist() == [8000] and balance_835(r).empty


def test_4010_file_with_its_own_separators():
    segments = interchange(
        transaction(header("200.02") + ["LX*1", "CLP*A1*1*200.02*200.02**13*P1",
                                        "SVC*HC^88888^26*200.02*200.02**1", "DTM*472*20120222"]),
        version="00401", gs_version="004010X091A1")
    text = segments.replace("*", "|").replace("|U|00401|", "|U|00401|").replace(":~", "^~", 1)
    r = read_835(text)
    assert r.checks["release"].tolist() == ["4010"]
    assert r.checks["version"].tolist() == ["004010X091A1"]
    assert r.service_lines[["cpt", "modifiers"]].values.tolist() == [["88888", "26"]]
    assert r.warnings == [] and balance_835(r).empty


def test_several_transactions_in_one_file():
    first = transaction(header("80", payer="PLAN A", trace="EFT1") +
                        ["LX*1", "CLP*A1*1*100*80**12*P1", "CAS*CO*45*20"], control="0001")
    second = transaction(header("45", payer="PLAN B", trace="EFT2") +
                         ["LX*1", "CLP*B1*1*50*45**12*P2", "CAS*CO*45*5",
                          "CLP*B2*1*10*0**12*P3", "CAS*PR*1*10"], control="0002")
    r = read_835(interchange(first, second))
    assert r.checks[["st", "st_control", "trace_number", "payer_name"]].values.tolist() == [
        [1, "0001", "EFT1", "PLAN A"], [2, "0002", "EFT2", "PLAN B"]]
    assert r.claims[["claim_id", "st", "trace_number"]].values.tolist() == [
        ["A1", 1, "EFT1"], ["B1", 2, "EFT2"], ["B2", 2, "EFT2"]]
    pay = to_payments(r)
    assert pay[["claim_id", "payor", "check_no"]].values.tolist() == [
        ["A1", "PLAN A", "EFT1"], ["B1", "PLAN B", "EFT2"], ["B2", "PLAN B", "EFT2"]]
    assert balance_835(r).empty


@pytest.mark.parametrize("name", ['=HYPERLINK("http://example.com","Pay")', "=1+2", "@SUM(A1)",
                                  "+CMD|' /C calc'!A0", "-2+3"])
def test_payer_name_is_kept_as_plain_text(name):
    r = read_835(era("80", ["CLP*A1*1*100*80**12*=P1", "CAS*CO*45*20"], payer=name))
    assert r.checks["payer_name"].tolist() == [name]
    pay = to_payments(r)
    assert pay["payor"].tolist() == [name] and type(pay["payor"].iloc[0]) is str
    assert pay["payor_claim_no"].tolist() == ["=P1"]


def test_values_that_are_not_amounts_or_dates_become_warnings():
    r = read_835(era("80", ["CLP*A1*1*100*eighty**12*P1", "DTM*232*20240231",
                            "SVC*HC:99213*100*80**1", "CAS*CO*45*twenty"]))
    messages = [w.message for w in r.warnings]
    assert any("CLP04 (claim paid) 'eighty' is not an amount" in msg for msg in messages)
    assert any("'20240231' is not a date" in msg for msg in messages)
    assert any("CAS03" in msg for msg in messages)
    assert all(w.severity == "warning" and w.ref.row is not None for w in r.warnings)
    assert pd.isna(r.claims["paid"].iloc[0]) and pd.isna(r.claims["statement_from"].iloc[0])
    failures = balance_835(r)   # unreadable amounts count as 0
    assert set(failures["level"]) == {"claim", "line", "transaction"}


def test_remit_date_falls_back_to_the_production_date():
    r = read_835(era("80", ["CLP*A1*1*100*80**12*P1", "CAS*CO*45*20"], date=""))
    assert to_payments(r)["remit_date"].tolist() == [T("2024-01-14")]


def test_empty_interchange_reads_to_empty_frames():
    r = read_835(interchange())
    assert r.checks.empty and r.claims.empty and balance_835(r).empty
    pay = to_payments(r)
    assert pay.empty and list(pay.columns) == m.PAYMENTS.keys + list(PAYMENT_EXTRAS)
