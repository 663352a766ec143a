"""Payer mix, revenue by CPT, rates against Medicare, what-if and the renewal calendar,
worked by hand."""
import datetime as dt
import math

import pandas as pd
import pytest

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine import portfolio
from payorxl.engine.lines import line_summary

AS_OF = "2024-06-30"   # 2024 is a leap year


def day(text):
    return dt.datetime.fromisoformat(text)


def frame(table, rows):
    converted = typed_frame(table, rows)
    assert converted.errors == []
    return converted.frame


def claim(claim_id, line, payor, cpt, charge, dos="2024-03-01", **extra):
    return dict(claim_id=claim_id, line=line, patient_id="P1", payor=payor, cpt=cpt,
                charge=charge, dos=day(dos), **extra)


def remit(claim_id, line, paid, **extra):
    return dict(claim_id=claim_id, line=line, payor="any", remit_date=day("2024-04-01"),
                paid=paid, **extra)


def contract(payor, payor_type, **extra):
    return dict(payor=payor, payor_type=payor_type, filing_limit=90, appeal_days=60, **extra)


def fee(payor, cpt, allowed, start="2024-01-01", end=None, modifier="", proposed=None):
    return dict(payor=payor, cpt=cpt, modifier=modifier, allowed=allowed,
                effective_from=day(start), effective_to=day(end) if end else None,
                proposed_allowed=proposed)


def summarise(claim_rows, payment_rows):
    claims = frame(m.CLAIMS, claim_rows)
    return claims, line_summary(claims, frame(m.PAYMENTS, payment_rows))


CONTRACTS = frame(m.CONTRACTS, [
    contract("Medicare", "Medicare"),
    contract("Aetna", "Commercial"),
    contract("Cigna", "Commercial", fee_basis="% of Medicare", pct_of_medicare=1.15,
             proposed_pct_of_medicare=1.25),
    contract("Humana", "Medicare Advantage", fee_basis="% of Medicare"),  # no % given
])
FEES = frame(m.FEE_SCHEDULE, [
    fee("Medicare", "99213", 85.00, "2023-01-01", "2023-12-31"),
    fee("Medicare", "99213", 90.00),
    fee("Medicare", "99214", 130.01),
    fee("Medicare", "71046", 12.90, modifier="26"),
    fee("Aetna", "99213", 108.00, proposed=117.00),
    fee("Aetna", "99214", 140.00, "2024-01-01", "2024-06-30"),   # ends on the as-of date
    fee("Aetna", "99214", 150.00, "2024-07-01"),                 # starts the day after
    fee("Aetna", "71046", 12.50, modifier="26"),
    fee("Aetna", "99215", 200.00),                               # Medicare has no rate
])


# --- payer mix and revenue -------------------------------------------------------------

def test_payer_mix():
    claims, lines = summarise(
        [claim("M1", 1, "Aetna", "99213", 100), claim("M1", 2, "Aetna", "93000", 50),
         claim("M2", 1, "Cigna", "99214", 300), claim("M3", 1, "Oscar", "99213", 50)],
        [remit("M1", 1, 80), remit("M2", 1, 150), remit("M3", 1, 20)])
    out = portfolio.payer_mix(claims, lines, CONTRACTS)
    assert out.columns.tolist() == ["payor", "payor_type", "claims", "lines", "charges", "paid",
                                    "share_of_charges", "share_of_paid"]
    assert out["payor"].tolist() == ["Cigna", "Aetna", "Oscar"]
    assert out["payor_type"].tolist() == ["Commercial", "Commercial", ""]   # Oscar: no contract
    assert out["claims"].tolist() == [1, 1, 1]
    assert out["lines"].tolist() == [1, 2, 1]
    assert out["charges"].tolist() == [30_000, 15_000, 5_000]
    assert out["paid"].tolist() == [15_000, 8_000, 2_000]
    # Charges $500 in all: 300/500, 150/500, 50/500. Paid $250: 150/250, 80/250, 20/250.
    assert out["share_of_charges"].tolist() == pytest.approx([0.6, 0.3, 0.1])
    assert out["share_of_paid"].tolist() == pytest.approx([0.6, 0.32, 0.08])


def test_payer_mix_with_nothing_charged_has_nan_shares():
    claims, lines = summarise([claim("Z", 1, "Aetna", "99024", 0)], [])
    out = portfolio.payer_mix(claims, lines, CONTRACTS)
    assert math.isnan(out.loc[0, "share_of_charges"]) and math.isnan(out.loc[0, "share_of_paid"])


def test_revenue_by_payor_cpt():
    claims, lines = summarise(
        [claim("R1", 1, "Aetna", "99213", 100), claim("R2", 1, "Aetna", "99213", 200, units=2),
         claim("R3", 1, "Aetna", "99213", 100), claim("R4", 1, "Aetna", "97110", 90, units=3)],
        [remit("R1", 1, 80), remit("R2", 1, 150)])
    out = portfolio.revenue_by_payor_cpt(claims, lines)
    assert out.columns.tolist() == ["payor", "cpt", "lines", "units", "charges", "paid",
                                    "paid_per_unit"]
    assert out["cpt"].tolist() == ["99213", "97110"]   # Aetna's, by charges
    row = out.iloc[0]
    # 99213: 3 lines, 1 + 2 + 1 units, $400 charged, $80 + $150 paid. Per unit: $230 over
    # the 3 adjudicated units (R3 not remitted) = 7666.67 cents, half up 7667.
    assert row[["lines", "units", "charges", "paid", "paid_per_unit"]].tolist() == [
        3, 4, 40_000, 23_000, 7_667]
    # 97110: nothing adjudicated, so no average.
    assert out.iloc[1]["paid_per_unit"] is pd.NA


# --- rates against Medicare ------------------------------------------------------------

def test_rate_comparison():
    settings = m.Settings.make(AS_OF)
    out = portfolio.rate_comparison(FEES, CONTRACTS, settings)
    assert out.columns.tolist() == ["payor", "payor_type", "fee_basis", "cpt", "modifier",
                                    "allowed", "medicare_rate", "pct_of_medicare",
                                    "gap_to_medicare"]
    # Medicare itself is the reference; Humana has no percentage, so no rates.
    assert list(zip(out["payor"], out["cpt"], out["modifier"])) == [
        ("Aetna", "71046", "26"), ("Aetna", "99213", ""), ("Aetna", "99214", ""),
        ("Aetna", "99215", ""),
        ("Cigna", "71046", "26"), ("Cigna", "99213", ""), ("Cigna", "99214", "")]
    rows = out.set_index(["payor", "cpt"])
    # Aetna 99213 $108 vs Medicare's 2024 rate $90 (the 2023 $85 has expired): 120%.
    assert rows.loc[("Aetna", "99213"), ["allowed", "medicare_rate", "gap_to_medicare"]].tolist() == [
        10_800, 9_000, 1_800]
    assert rows.loc[("Aetna", "99213"), "pct_of_medicare"] == pytest.approx(1.2)
    # Aetna 99214: the $140 row in force through 06-30, not the $150 from 07-01.
    assert rows.loc[("Aetna", "99214"), "allowed"] == 14_000
    assert rows.loc[("Aetna", "99214"), "gap_to_medicare"] == 14_000 - 13_001
    # Aetna 71046-26 is compared with Medicare's 71046-26: 1250 − 1290 = −40.
    assert rows.loc[("Aetna", "71046"), "gap_to_medicare"] == -40
    # Aetna 99215: Medicare has no rate.
    assert rows.loc[("Aetna", "99215"), "medicare_rate"] is pd.NA
    assert rows.loc[("Aetna", "99215"), "gap_to_medicare"] is pd.NA
    assert math.isnan(rows.loc[("Aetna", "99215"), "pct_of_medicare"])
    # Cigna at 115% of Medicare: 1.15 × 9000 = 10350; 1.15 × 13001 = 14951.15 → 14951;
    # 1.15 × 1290 = 1483.5 → 1484 (half up, although the float product is 1483.4999…).
    assert rows.loc["Cigna", "allowed"].tolist() == [1_484, 10_350, 14_951]
    assert rows.loc["Cigna", "fee_basis"].tolist() == ["% of Medicare"] * 3
    assert rows.loc["Cigna", "pct_of_medicare"].tolist() == pytest.approx(
        [1_484 / 1_290, 1.15, 14_951 / 13_001])


def test_rate_comparison_matches_payor_names_case_blind():
    # The reference payor typed in capitals in Settings still finds Medicare's fee rows.
    settings = m.Settings.make(AS_OF, medicare_payor="MEDICARE")
    out = portfolio.rate_comparison(FEES, CONTRACTS, settings)
    assert "Medicare" not in set(out["payor"])
    assert out.set_index(["payor", "cpt"]).loc[("Aetna", "99213"), "medicare_rate"] == 9_000


def test_rate_comparison_at_another_date():
    settings = m.Settings.make(AS_OF)
    out = portfolio.rate_comparison(FEES, CONTRACTS, settings, as_of="2023-06-30")
    # Only Medicare's 2023 99213 ($85) was in force: Cigna 1.15 × 8500 = 9775; Aetna none.
    assert out[["payor", "cpt", "allowed", "medicare_rate"]].values.tolist() == [
        ["Cigna", "99213", 9_775, 8_500]]


def test_rate_comparison_of_an_empty_fee_schedule():
    out = portfolio.rate_comparison(frame(m.FEE_SCHEDULE, []), CONTRACTS, m.Settings.make(AS_OF))
    assert out.empty and "gap_to_medicare" in out.columns


# --- what-if ---------------------------------------------------------------------------

def test_what_if():
    claims = frame(m.CLAIMS, [
        # 365 days back from 2024-06-30 is 2023-07-01, which is outside the window.
        claim("W1", 1, "Aetna", "99213", 100, dos="2024-06-30"),
        claim("W2", 1, "Aetna", "99213", 100, dos="2024-01-15", modifier="25", units=2),
        claim("W3", 1, "Aetna", "99213", 100, dos="2023-07-01", units=5),
        claim("W4", 1, "Aetna", "99213", 100, dos="2023-07-02"),
        claim("W5", 1, "Aetna", "99214", 100, units=3),       # no proposal
        claim("W6", 1, "Cigna", "99214", 100, units=2),
        claim("W7", 1, "Cigna", "99215", 100),                # no Medicare rate: no rate
        claim("W8", 1, "aetna", "99213", 100),                # payors match case-blind
    ])
    out = portfolio.what_if(claims, FEES, CONTRACTS, m.Settings.make(AS_OF))
    assert out.columns.tolist() == ["payor", "cpt", "modifier", "units", "current_rate",
                                    "proposed_rate", "current_revenue", "proposed_revenue",
                                    "change"]
    aetna, cigna = out.iloc[0], out.iloc[1]
    assert len(out) == 2   # Cigna's 71046-26 has a proposal but no volume
    # Aetna 99213: W1, W4 and W8, 1 unit each = 3 (W2's 99213-25 has no fee row, so no
    # rate, as reimbursement.expected_allowed sees it; W3 is outside the window);
    # 3 × $108 = $324 now, 3 × $117 = $351 proposed: +$27.
    assert aetna[["payor", "cpt", "modifier", "units"]].tolist() == ["Aetna", "99213", "", 3]
    assert aetna[["current_rate", "proposed_rate", "current_revenue", "proposed_revenue",
                  "change"]].tolist() == [10_800, 11_700, 32_400, 35_100, 2_700]
    # Cigna 99214, 2 units: 115% → 125% of $130.01: 14951 → 16251.25 ≈ 16251 per unit;
    # 29,902 → 32,502 cents: +2,600.
    assert cigna[["payor", "cpt", "units", "current_rate", "proposed_rate", "current_revenue",
                  "proposed_revenue", "change"]].tolist() == [
        "Cigna", "99214", 2, 14_951, 16_251, 29_902, 32_502, 2_600]


def test_what_if_of_no_claims():
    out = portfolio.what_if(frame(m.CLAIMS, []), FEES, CONTRACTS, m.Settings.make(AS_OF))
    assert out.empty and "change" in out.columns


# --- renewal calendar ------------------------------------------------------------------

def test_renewal_calendar_sorted_by_notice_deadline():
    contracts = frame(m.CONTRACTS, [
        contract("Aetna", "Commercial", auto_renew="Yes"),
        contract("Cigna", "Commercial"),
        contract("Medicare", "Medicare"),
    ])
    notices = pd.DataFrame({
        "current_term_end": [day("2025-03-31"), day("2024-12-31"), None],
        "notice_deadline": [day("2024-12-31"), day("2024-10-02"), None],
        "notice_days_left": [184, 94, None],
        "notice_status": ["Open", "Open", ""],
    }, index=contracts.index)
    out = portfolio.renewal_calendar(contracts, notices)
    assert out.columns.tolist() == ["payor", "payor_type", "term_end", "auto_renew",
                                    "notice_deadline", "days_left", "status"]
    assert out["payor"].tolist() == ["Cigna", "Aetna", "Medicare"]   # no deadline: last
    assert out["auto_renew"].tolist() == ["No", "Yes", "No"]
    assert out["days_left"].tolist()[:2] == [94, 184]
    assert out.loc[0, "term_end"] == pd.Timestamp("2024-12-31")


def test_empty_portfolio():
    claims, lines = summarise([], [])
    contracts = frame(m.CONTRACTS, [])
    assert portfolio.payer_mix(claims, lines, contracts).empty
    assert portfolio.revenue_by_payor_cpt(claims, lines).empty
    notices = pd.DataFrame({"current_term_end": pd.Series([], dtype="datetime64[ns]"),
                            "notice_deadline": pd.Series([], dtype="datetime64[ns]"),
                            "notice_days_left": pd.Series([], dtype="Int64"),
                            "notice_status": pd.Series([], dtype=object)})
    assert portfolio.renewal_calendar(contracts, notices).empty
