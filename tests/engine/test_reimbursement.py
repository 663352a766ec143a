"""Expected allowed and underpayments worked by hand (money in cents)."""
import datetime as dt

import pandas as pd
from hypothesis import given, settings as hyp_settings, strategies as st

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine.lines import line_summary
from payorxl.engine.reimbursement import (
    expected_allowed,
    fee_schedule_rate,
    overlapping_fee_rows,
    reimbursement,
    underpayments,
)


def d(text):
    return dt.date.fromisoformat(text)


def frame(table, *records):
    converted = typed_frame(table, records)
    assert converted.errors == []
    return converted.frame


def contracts(*rows):
    base = dict(payor_type="Commercial", filing_limit=90, appeal_days=180)
    return frame(m.CONTRACTS, *[{**base, **r} for r in rows])


def fees(*rows):
    return frame(m.FEE_SCHEDULE, *rows)


def fee(payor, cpt, start, allowed, end=None, modifier=None):
    return dict(payor=payor, cpt=cpt, modifier=modifier, effective_from=d(start),
                effective_to=d(end) if end else None, allowed=allowed)


def claims(*rows):
    base = dict(claim_id="C1", patient_id="P1", payor="Aetna", cpt="99213",
                dos=d("2024-03-01"), charge=500.00)      # above every fee here (lesser-of aside)
    return frame(m.CLAIMS, *[{**base, "line": i + 1, **r} for i, r in enumerate(rows)])


def payments(*rows):
    base = dict(claim_id="C1", payor="Aetna", remit_date=d("2024-04-01"))
    return frame(m.PAYMENTS, *[{**base, **r} for r in rows])


SETTINGS = m.Settings.make("2024-06-30", tolerance_amount=100, tolerance_pct=0.02)

CONTRACTS = contracts(
    dict(payor="Aetna"),                                            # Fee Schedule (the default)
    dict(payor="Cigna", fee_basis="% of Medicare", pct_of_medicare=1.15),
    dict(payor="Tricare", fee_basis="% of Medicare", pct_of_medicare=0.5),
    dict(payor="Humana", fee_basis="% of Medicare"),                # percentage missing
    dict(payor="Medicare", payor_type="Medicare"),
)

FEES = fees(
    fee("Aetna", "99213", "2024-01-01", 100.00, end="2024-12-31"),
    fee("Aetna", "99213", "2025-01-01", 105.00),
    fee("Aetna", "99213", "2024-01-01", 120.00, modifier="25"),
    fee("Aetna", "G0439", "2024-01-01", 175.00),
    fee("Medicare", "99213", "2024-01-01", 80.33),
    fee("Medicare", "99214", "2024-01-01", 110.00, end="2024-06-30"),
    fee("Medicare", "99214", "2024-07-01", 111.11),
)


def test_expected_allowed_from_the_fee_schedule_and_from_medicare():
    claim = claims(
        dict(dos=d("2024-12-31"), units=2),            # last day of the 2024 rate: 10000 × 2
        dict(dos=d("2025-01-01")),                     # first day of the 2025 rate
        dict(modifier="25"),                           # the modifier's own rate
        dict(modifier="TC"),                           # no TC row: blank modifier does not stand in
        dict(cpt="99214"),                             # no Aetna 99214 row
        dict(dos=d("2023-12-31")),                     # before any rate
        dict(cpt="g0439"),                             # case ignored, as Excel's MATCH does
        dict(payor="Cigna", units=3),                  # 8033 × 1.15 = 9237.95 → 9238, × 3
        dict(payor="Cigna", cpt="99214", dos=d("2024-06-30")),  # 11000 × 1.15 = 12650
        dict(payor="Cigna", cpt="99214", dos=d("2024-07-01")),  # 11111 × 1.15 = 12777.65 → 12778
        dict(payor="Tricare"),                         # 8033 × 0.5 = 4016.5 → 4017 (half up)
        dict(payor="Humana"),                          # no percentage: no rate
        dict(payor="Unknown"),                         # no contract
        dict(payor="Medicare", dos=d("2024-02-29")),   # Medicare's own schedule
    )
    result = expected_allowed(claim, CONTRACTS, FEES, SETTINGS)
    assert list(result["fee_source"]) == (
        ["Fee Schedule"] * 3 + [""] * 3 + ["Fee Schedule"] + ["% of Medicare"] * 4 + ["", "", "Fee Schedule"])
    assert list(result["unit_rate"]) == [
        10000, 10500, 12000, pd.NA, pd.NA, pd.NA, 17500, 9238, 12650, 12778, 4017, pd.NA, pd.NA, 8033]
    assert list(result["expected_allowed"]) == [
        20000, 10500, 12000, pd.NA, pd.NA, pd.NA, 17500, 27714, 12650, 12778, 4017, pd.NA, pd.NA, 8033]
    assert str(result["expected_allowed"].dtype) == "Int64"
    assert list(result.index) == list(claim.index)


def test_medicare_reference_payor_comes_from_settings():
    claim = claims(dict(payor="Cigna"))
    medicare_b = fees(fee("Medicare Part B", "99213", "2024-01-01", 90.00))
    settings = m.Settings.make("2024-06-30", medicare_payor="Medicare Part B")
    result = expected_allowed(claim, CONTRACTS, medicare_b, settings)
    assert list(result["unit_rate"]) == [10350]   # 9000 × 1.15


def test_overlapping_rows_use_the_latest_effective_from():
    schedule = fees(
        fee("Aetna", "99213", "2024-01-01", 100.00, end="2024-06-30"),   # row 2
        fee("Aetna", "99213", "2024-06-01", 101.00),                     # row 3: overlaps June
        fee("Aetna", "99215", "2024-01-01", 200.00),                     # row 4: open-ended
        fee("Aetna", "99215", "2024-03-01", 210.00, end="2024-03-31"),   # row 5: inside row 4
    )
    claim = claims(dict(dos=d("2024-05-31")), dict(dos=d("2024-06-15")), dict(dos=d("2024-07-01")),
                   dict(cpt="99215", dos=d("2024-03-15")), dict(cpt="99215", dos=d("2024-04-15")))
    result = expected_allowed(claim, CONTRACTS, schedule, SETTINGS)
    # Apr 15 falls after row 5 ends: row 4 applies, though row 5 has the later start
    assert list(result["unit_rate"]) == [10000, 10100, 10100, 21000, 20000]


def test_overlapping_fee_rows_lists_each_row_and_one_it_overlaps():
    schedule = fees(
        fee("Aetna", "99213", "2024-01-01", 100.00, end="2024-06-30"),               # row 2
        fee("Aetna", "99213", "2024-06-30", 101.00),                                 # row 3: shares Jun 30
        fee("Aetna", "99213", "2024-01-01", 120.00, end="2024-06-30", modifier="25"),  # row 4
        fee("Aetna", "99213", "2024-07-01", 121.00, modifier="25"),                  # row 5: adjacent, fine
        fee("Cigna", "99213", "2024-01-01", 90.00),                                  # row 6: other payor
        fee("Medicare", "99214", "2024-01-01", 110.00),                              # row 7: open-ended
        fee("Medicare", "99214", "2025-01-01", 111.00, end="2025-12-31"),            # row 8: inside 7
        fee("Medicare", "99214", "2026-01-01", 112.00),                              # row 9: also inside 7
    )
    result = overlapping_fee_rows(schedule)
    assert list(result["_row"]) == [2, 3, 7, 8, 9]
    assert list(result["overlaps_row"]) == [3, 2, 8, 7, 7]
    assert overlapping_fee_rows(fees()).empty


def lines_for(claim, *payment_rows):
    return line_summary(claim, payments(*payment_rows) if payment_rows else typed_frame(m.PAYMENTS, []).frame)


def test_underpayments_beyond_both_tolerances():
    claim = claims(*[dict() for _ in range(9)])
    expected = pd.DataFrame({"expected_allowed": pd.array(
        [10000, 10000, 3000, 10000, 10000, 10000, None, 10000, 10000], dtype="Int64")}, index=claim.index)
    lines = lines_for(
        claim,
        dict(line=1, allowed=98.50, paid=78.50, patient_resp=20.00),   # 150 short, 2% is 200: not flagged
        dict(line=2, allowed=97.00, paid=70.00, patient_resp=20.00),   # 300 short, over 100 and 200
        dict(line=3, allowed=29.10, paid=29.10),                      # 90 short: under $1.00
        dict(line=4, allowed=98.00, paid=98.00),                      # 200 short = 2% exactly: not over
        dict(line=5, allowed=105.00, paid=105.00),                    # overpaid: −500
        dict(line=6, claim_status="4", paid=0.0, denied_amount=150.00, group_code="CO", carc="50"),
        dict(line=7, allowed=50.00, paid=50.00),                      # no expected allowed
        # line 8: never adjudicated
        dict(line=9, paid=80.00, patient_resp=10.00),                 # allowed blank: paid + PR = 9000
    )
    result = underpayments(claim, expected, lines, SETTINGS)
    assert list(result["variance"]) == [150, 300, 90, 200, -500, pd.NA, pd.NA, pd.NA, 1000]
    # line 2: 10000 − (7000 + 2000) = 1000 (the payor paid 1000 short of its own allowed − PR)
    assert list(result["variance_vs_paid"]) == [150, 1000, 90, 200, -500, pd.NA, pd.NA, pd.NA, 1000]
    assert list(result["underpaid"]) == [False, True, False, False, False, False, False, False, True]


def test_reimbursement_joins_expected_and_variance():
    claim = claims(dict(), dict(payor="Cigna"))
    lines = lines_for(claim, dict(line=1, allowed=100.00, paid=80.00, patient_resp=20.00),
                      dict(line=2, payor="Cigna", allowed=85.00, paid=85.00))
    result = reimbursement(claim, CONTRACTS, FEES, lines, SETTINGS)
    assert list(result.columns) == ["fee_source", "setting", "base_rate", "unit_rate", "multiple_procedure",
                                    "procedure_rank", "pricing",
                                    "expected_allowed", "variance", "variance_vs_paid", "underpaid"]
    # line 2: 8033 × 1.15 = 9238 expected, 8500 allowed: 738 short, over $1 and over 2% (184.76)
    assert list(result["variance"]) == [0, 738]
    assert list(result["underpaid"]) == [False, True]


def test_zero_rows():
    empty_claims = typed_frame(m.CLAIMS, []).frame
    lines = lines_for(empty_claims)
    result = reimbursement(empty_claims, CONTRACTS, FEES, lines, SETTINGS)
    assert len(result) == 0 and str(result["expected_allowed"].dtype) == "Int64"
    assert result["underpaid"].dtype == bool
    result = reimbursement(empty_claims, typed_frame(m.CONTRACTS, []).frame, fees(), lines, SETTINGS)
    assert len(result) == 0
    claim = claims(dict())
    assert list(expected_allowed(claim, CONTRACTS, fees(), SETTINGS)["expected_allowed"]) == [pd.NA]


# The merge must find exactly what a plain row-by-row reading of the rule finds.
DAYS = st.integers(0, 60).map(lambda n: pd.Timestamp("2024-01-01") + pd.Timedelta(days=n))
FEE_ROW = st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["1", "2"]), st.sampled_from(["", "25"]),
                    DAYS, st.one_of(st.none(), st.integers(0, 30)), st.integers(1, 99999))
CLAIM_ROW = st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["1", "2"]), st.sampled_from(["", "25"]), DAYS)


def rule_by_hand(claim, rows):
    payor, cpt, modifier, dos = claim
    best = None
    for p, c, mod, start, length, allowed in rows:
        end = None if length is None else start + pd.Timedelta(days=length)
        if (p, c, mod) == (payor, cpt, modifier) and start <= dos and (end is None or dos <= end):
            if best is None or start >= best[0]:
                best = (start, allowed)
    return pd.NA if best is None else best[1]


@hyp_settings(max_examples=60, deadline=None)
@given(st.lists(FEE_ROW, max_size=8), st.lists(CLAIM_ROW, max_size=8))
def test_fee_schedule_rate_agrees_with_the_rule_read_row_by_row(rows, wanted):
    schedule = pd.DataFrame({
        "payor": [r[0] for r in rows], "cpt": [r[1] for r in rows], "modifier": [r[2] for r in rows],
        "effective_from": pd.Series([r[3] for r in rows], dtype="datetime64[ns]"),
        "effective_to": pd.Series([None if r[4] is None else r[3] + pd.Timedelta(days=r[4]) for r in rows],
                                  dtype="datetime64[ns]"),
        "allowed": pd.Series([r[5] for r in rows], dtype="Int64"),
    })
    claim = pd.DataFrame({"payor": [w[0] for w in wanted], "cpt": [w[1] for w in wanted],
                          "modifier": [w[2] for w in wanted],
                          "dos": pd.Series([w[3] for w in wanted], dtype="datetime64[ns]")})
    rates = fee_schedule_rate(claim["payor"], claim["cpt"], claim["modifier"], claim["dos"], schedule)
    assert list(rates) == [rule_by_hand(w, rows) for w in wanted]
