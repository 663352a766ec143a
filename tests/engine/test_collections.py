"""A/R balances, aging, days in A/R and the collection rates, worked by hand."""
import datetime as dt
import math

import pandas as pd
import pytest

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine import collections as col
from payorxl.engine.lines import line_summary

AS_OF = "2024-03-31"   # 2024 is a leap year: February has 29 days


def day(text):
    return dt.datetime.fromisoformat(text)


def frame(table, rows):
    converted = typed_frame(table, rows)
    assert converted.errors == []
    return converted.frame


def claim(claim_id, line, charge, payor="Aetna", dos="2024-03-01", **extra):
    return dict(claim_id=claim_id, line=line, patient_id="P1", payor=payor, cpt="99213",
                charge=charge, dos=day(dos), **extra)


def remit(claim_id, line, date, paid, status="1", **extra):
    return dict(claim_id=claim_id, line=line, payor="any", remit_date=day(date), paid=paid,
                claim_status=status, **extra)


def summarise(claim_rows, payment_rows):
    claims = frame(m.CLAIMS, claim_rows)
    return claims, line_summary(claims, frame(m.PAYMENTS, payment_rows))


def settings(**values):
    return m.Settings.make(AS_OF, **values)


def empty_inputs():
    return summarise([], [])


# --- balances --------------------------------------------------------------------------

def test_ar_balances():
    claims, lines = summarise(
        [claim("A1", 1, 100), claim("A2", 1, 200), claim("A3", 1, 150), claim("A4", 1, 100),
         claim("A5", 1, 80)],
        [remit("A1", 1, "2024-03-10", 60, contractual_adj=30, patient_resp=10),
         remit("A2", 1, "2024-03-10", 0, status="4", denied_amount=200, carc="50", group_code="CO"),
         remit("A4", 1, "2024-03-10", 90, contractual_adj=20),
         remit("A5", 1, "2024-03-10", 0, status="4", denied_amount=80, carc="50", group_code="CO")])
    written_off = pd.Series([0, 0, 0, 0, 8_000], index=claims.index)
    out = col.ar_balances(claims, lines, written_off)
    assert out.index.equals(claims.index)
    # A1: 100 − 60 − 30 − 10 = 0. A2: denied, not written off: still $200 owed.
    # A3: no remittance: $150. A4: 100 − 90 − 20 = −$10, a credit. A5: 80 − 80 written off.
    assert out["balance"].tolist() == [0, 20_000, 15_000, -1_000, 0]
    assert out["credit"].tolist() == [False, False, False, True, False]


def test_ar_balances_accepts_the_writeoff_frame():
    claims, lines = summarise([claim("A1", 1, 100)], [])
    written_off = pd.DataFrame({"written_off": [2_500], "writeoff_reason": ["Appeal missed"]},
                               index=claims.index)
    assert col.ar_balances(claims, lines, written_off)["balance"].tolist() == [7_500]  # 100 − 25


def test_ar_balances_of_no_claims():
    claims, lines = empty_inputs()
    out = col.ar_balances(claims, lines, pd.Series([], dtype="int64"))
    assert out.empty and list(out.columns) == ["balance", "credit"]


# --- aging -----------------------------------------------------------------------------

def aging_case():
    """Lines whose age from the date of service to 2024-03-31 sits on each bucket edge."""
    rows = [
        ("2024-03-01", "Aetna", 100),   # 30 days (March 1 to 31): last day of 0-30
        ("2024-04-02", "Aetna", 200),   # after the as-of date (−2 days): 0-30
        ("2024-02-29", "Aetna", 300),   # 31 days (leap day): 31-60
        ("2024-01-31", "Cigna", 400),   # 31 + 29 = 60 days: 31-60
        ("2024-01-30", "Cigna", 500),   # 61 days: 61-90
        ("2023-12-02", "Cigna", 600),   # 29 + 31 + 29 + 31 = 120 days: 91-120
        ("2023-12-01", "Cigna", 700),   # 121 days: 120+
        ("2023-12-01", "Cigna", 800),   # a credit: not aged
        ("2024-03-15", "Humana", 900),  # paid in full: not aged
    ]
    claims = frame(m.CLAIMS, [claim(f"G{i}", 1, 1, payor=payor, dos=dos)
                              for i, (dos, payor, _) in enumerate(rows)])
    balances = pd.Series([amount for _, _, amount in rows], index=claims.index)
    balances.iloc[7] = -800
    balances.iloc[8] = 0
    return claims, balances


def test_aging_bucket_edges():
    claims, balances = aging_case()
    assert col.aging_bucket(claims, balances, settings()).tolist() == [
        "0-30", "0-30", "31-60", "31-60", "61-90", "91-120", "120+", "", ""]


def test_aging_by_payor():
    claims, balances = aging_case()
    out = col.aging(claims, balances, settings())
    assert out.columns.tolist() == ["payor", "0-30", "31-60", "61-90", "91-120", "120+",
                                    "total", "open_lines", "open_claims"]
    # Cigna: 400 + 500 + 600 + 700 = 2200 (the −800 credit is not A/R);
    # Aetna: 100 + 200 + 300 = 600; Humana owes nothing and has no row.
    assert out["payor"].tolist() == ["Cigna", "Aetna"]
    cigna, aetna = out.iloc[0], out.iloc[1]
    assert cigna[list(col.BUCKETS)].tolist() == [0, 400, 500, 600, 700]
    assert (cigna["total"], cigna["open_lines"], cigna["open_claims"]) == (2_200, 4, 4)
    assert aetna[list(col.BUCKETS)].tolist() == [300, 300, 0, 0, 0]
    assert aetna["total"] == 600


def test_aging_overall_and_open_claims_counts_claim_ids():
    claims = frame(m.CLAIMS, [claim("X", 1, 1), claim("X", 2, 1), claim("Y", 1, 1)])
    balances = pd.Series([10, 20, 30], index=claims.index)
    row = col.aging(claims, balances, settings(), by=None).iloc[0]
    assert (row["group"], row["0-30"], row["total"]) == ("All", 60, 60)
    assert (row["open_lines"], row["open_claims"]) == (3, 2)


def test_aging_reuses_the_lines_buckets_when_given():
    # The recalculation passes each line's bucket (computed once per line) with its balance:
    # the table is the one aging works out from the dates itself (Cigna 2,200; Aetna 600).
    claims, balances = aging_case()
    given = pd.DataFrame({"balance": balances, "aging_bucket": col.aging_bucket(claims, balances, settings())})
    out = col.aging(claims, given, settings())
    pd.testing.assert_frame_equal(out, col.aging(claims, balances, settings()))
    assert out["total"].tolist() == [2_200, 600]


def test_aging_of_no_claims():
    claims, lines = empty_inputs()
    balances = pd.Series([], dtype="int64")
    assert col.aging_bucket(claims, balances, settings()).empty
    out = col.aging(claims, balances, settings())
    assert out.empty and out.columns[0] == "payor" and "120+" in out.columns


# --- days in A/R -----------------------------------------------------------------------

def test_days_in_ar_counts_charges_in_the_period_ending_at_as_of():
    # 90 days back from 2024-03-31 is 2024-01-01, which is outside (as_of − 90, as_of].
    claims = frame(m.CLAIMS, [
        claim("D1", 1, 1_000, dos="2024-01-01"),   # outside: day 90 back
        claim("D2", 1, 450, dos="2024-01-02"),     # first day in
        claim("D3", 1, 450, dos="2024-03-31"),     # the as-of date: in
        claim("D4", 1, 1_000, dos="2024-04-01"),   # after the as-of date: out
    ])
    balances = pd.Series([30_000, 15_000, -5_000, 0], index=claims.index)
    # A/R = 300 + 150 = $450 (the credit is not A/R); daily charges (450 + 450) / 90 = $10.
    assert col.days_in_ar(claims, balances, settings(ar_period_days=90)) == pytest.approx(45.0)


def test_days_in_ar_is_nan_without_charges_in_the_period():
    claims = frame(m.CLAIMS, [claim("D1", 1, 100, dos="2023-01-01")])
    balances = pd.Series([10_000], index=claims.index)
    assert math.isnan(col.days_in_ar(claims, balances, settings()))
    claims, _ = empty_inputs()
    assert math.isnan(col.days_in_ar(claims, pd.Series([], dtype="int64"), settings()))


# --- net collection rate ---------------------------------------------------------------

def collection_case():
    return summarise(
        [claim("N1", 1, 100), claim("N2", 1, 200),
         claim("N3", 1, 100, payor="Cigna"), claim("N4", 1, 500, payor="Cigna")],
        [remit("N1", 1, "2024-03-10", 60, contractual_adj=30, patient_resp=10),
         remit("N2", 1, "2024-03-10", 0, status="4", denied_amount=200, carc="50", group_code="CO"),
         remit("N3", 1, "2024-03-10", 50, contractual_adj=50)])


def test_net_collection_rate_overall():
    claims, lines = collection_case()
    # Adjudicated N1-N3: paid 60 + 0 + 50 = 110; charges 400 − contractual 80 = 320.
    assert col.net_collection_rate(claims, lines) == pytest.approx(110 / 320)


def test_net_collection_rate_by_payor():
    claims, lines = collection_case()
    out = col.net_collection_rate(claims, lines, by="payor")
    assert out.columns.tolist() == ["payor", "payments", "charges", "contractual_adj",
                                    "net_collection_rate"]
    assert out["payor"].tolist() == ["Aetna", "Cigna"]
    # Aetna 60 / (300 − 30); Cigna 50 / (100 − 50): N4's $500 is not adjudicated.
    assert out["charges"].tolist() == [30_000, 10_000]
    assert out["net_collection_rate"].tolist() == pytest.approx([60 / 270, 1.0])


def test_net_collection_rate_of_no_claims():
    claims, lines = empty_inputs()
    assert math.isnan(col.net_collection_rate(claims, lines))
    assert col.net_collection_rate(claims, lines, by="payor").empty


# --- clean claim and first-pass resolution rates ---------------------------------------

def test_clean_claim_rate():
    claims, lines = summarise(
        [claim("K1", 1, 100), claim("K1", 2, 100),
         claim("K2", 1, 100), claim("K2", 2, 100),
         claim("K3", 1, 100, frequency="7"),
         claim("K4", 1, 100),
         claim("K5", 1, 100),
         claim("K6", 1, 100), claim("K6", 2, 100)],
        [remit("K1", 1, "2024-03-10", 100), remit("K1", 2, "2024-03-10", 100),
         remit("K2", 1, "2024-03-10", 100),
         remit("K2", 2, "2024-03-10", 0, status="4", denied_amount=100, carc="97", group_code="CO"),
         remit("K3", 1, "2024-03-10", 100),
         remit("K5", 1, "2024-03-10", 100),
         remit("K6", 1, "2024-03-10", 100)])
    # Adjudicated: K1, K2, K3, K5, K6 (K4 has no remittance) = 5. Clean: K1, K5 and K6
    # (its line 2 is not yet remitted, but nothing was denied) = 3. K2 had a line
    # denied; K3 was resubmitted as a corrected claim (frequency 7). 3 / 5 = 0.6.
    assert col.clean_claim_rate(claims, lines) == pytest.approx(0.6)


def test_first_pass_resolution_rate():
    claims, lines = summarise(
        [claim("F1", 1, 100), claim("F1", 2, 50),
         claim("F2", 1, 100),
         claim("F3", 1, 100), claim("F3", 2, 100),
         claim("F4", 1, 100),
         claim("F5", 1, 100),
         claim("F6", 1, 100),
         claim("F7", 1, 100),
         claim("F8", 1, 100, frequency="7")],
        [remit("F1", 1, "2024-01-10", 80, contractual_adj=20),
         remit("F1", 2, "2024-01-10", 40, patient_resp=10),
         remit("F2", 1, "2024-01-10", 50, contractual_adj=20),           # $30 still owed
         remit("F3", 1, "2024-01-10", 100), remit("F3", 2, "2024-01-20", 100),
         remit("F4", 1, "2024-01-10", 60), remit("F4", 1, "2024-02-01", 40),
         remit("F5", 1, "2024-01-10", 0, contractual_adj=20, patient_resp=80),  # deductible
         remit("F6", 1, "2024-01-10", 0, status="4", denied_amount=100, carc="16",
               group_code="CO"),
         remit("F8", 1, "2024-01-10", 100)])
    # Adjudicated: F1, F2, F3, F4, F5, F6, F8 = 7 (F7 has no remittance).
    # Resolved: F1 (both lines settled on 01-10) and F5 (all to the deductible) = 2.
    # Not: F2 balance left, F3 lines on two dates, F4 two remittances, F6 denied,
    # F8 corrected claim. 2 / 7.
    assert col.first_pass_resolution_rate(claims, lines) == pytest.approx(2 / 7)


def test_claim_rates_of_no_claims_are_nan():
    claims, lines = empty_inputs()
    assert math.isnan(col.clean_claim_rate(claims, lines))
    assert math.isnan(col.first_pass_resolution_rate(claims, lines))


# --- summary ---------------------------------------------------------------------------

def test_collections_summary():
    claims, lines = collection_case()
    balances = col.ar_balances(claims, lines, pd.Series(0, index=claims.index))
    out = col.collections_summary(claims, lines, balances, settings())
    # Balances: N1 0, N2 $200 (denied, workable), N3 0, N4 $500, all DOS 2024-03-01
    # (30 days before as-of: 0-30). Period charges $900 over 90 days = $10 a day.
    assert out["ar_total"] == 70_000 and out["credit_total"] == 0 and out["open_lines"] == 2
    assert out["aging"] == {"0-30": 70_000, "31-60": 0, "61-90": 0, "91-120": 0, "120+": 0}
    assert out["days_in_ar"] == pytest.approx(70.0)
    assert out["net_collection_rate"] == pytest.approx(110 / 320)
    # Adjudicated N1, N2, N3; N2 denied: clean 2 / 3. Resolved: N1 and N3 (settled).
    assert out["clean_claim_rate"] == pytest.approx(2 / 3)
    assert out["first_pass_resolution_rate"] == pytest.approx(2 / 3)


def test_collections_summary_of_no_claims():
    claims, lines = empty_inputs()
    balances = col.ar_balances(claims, lines, pd.Series([], dtype="int64"))
    out = col.collections_summary(claims, lines, balances, settings())
    assert (out["ar_total"], out["credit_total"], out["open_lines"]) == (0, 0, 0)
    assert set(out["aging"].values()) == {0}
    assert all(math.isnan(out[k]) for k in ("days_in_ar", "net_collection_rate",
                                            "clean_claim_rate", "first_pass_resolution_rate"))
