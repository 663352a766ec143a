"""Deadlines worked by hand: filing, appeals, prompt pay, contract notice.

Each expected date is derived in a comment (day counts month by month) so a reader can
check it without running anything."""
import datetime as dt

import pandas as pd
from hypothesis import given, strategies as st

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine.deadlines import (
    add_months,
    appeal_deadlines,
    claim_deadlines,
    contract_notices,
    filing_deadlines,
    prompt_pay,
    round_half_up,
)
from payorxl.engine.lines import line_summary


def d(text):
    return dt.date.fromisoformat(text)


def T(text):
    return pd.Timestamp(text)


def frame(table, *records):
    converted = typed_frame(table, records)
    assert converted.errors == []
    return converted.frame


def contracts(*rows):
    base = dict(payor_type="Commercial", filing_limit=90, appeal_days=180)
    return frame(m.CONTRACTS, *[{**base, **r} for r in rows])


def claims(*rows):
    base = dict(claim_id="C1", line=1, patient_id="P1", payor="Aetna", cpt="99213",
                dos=d("2024-01-15"), charge=100.00)
    # number the lines so each claim line is its own (claim_id, line)
    return frame(m.CLAIMS, *[{**base, "line": i + 1, **r} for i, r in enumerate(rows)])


def payments(*rows):
    base = dict(claim_id="C1", line=1, payor="Aetna", paid=0.0)
    return frame(m.PAYMENTS, *[{**base, **r} for r in rows])


def denial(line, remit_date, carc="50"):
    """A CLP02 = 4 denial of claim C1's `line`, nothing paid."""
    return dict(line=line, remit_date=d(remit_date), claim_status="4", paid=0.0,
                denied_amount=100.00, group_code="CO", carc=carc)


def lines_of(claim_frame, *payment_rows):
    pay = payments(*payment_rows) if payment_rows else typed_frame(m.PAYMENTS, []).frame
    return line_summary(claim_frame, pay)


def settings(as_of, **values):
    return m.Settings.make(as_of, **values)


def column(result, name):
    return list(result[name])


# --- EDATE ---------------------------------------------------------------------------

def test_add_months_is_excel_edate():
    dates = pd.Series([T("2024-01-31"), T("2023-01-31"), T("2024-02-29"), T("2024-02-29"),
                       T("2024-03-31"), pd.NaT, T("2024-05-15")])
    months = pd.Series([1, 1, 12, 48, -1, 1, None], dtype="Int64")
    assert list(add_months(dates, months)) == [
        T("2024-02-29"),   # Jan 31 + 1: February 2024 has 29 days (leap year)
        T("2023-02-28"),   # Jan 31 + 1: February 2023 has 28 days
        T("2025-02-28"),   # Feb 29 + 12: no Feb 29 in 2025, clamps to the 28th
        T("2028-02-29"),   # Feb 29 + 48: 2028 is a leap year again
        T("2024-02-29"),   # Mar 31 − 1: back into February, clamped
        pd.NaT,            # blank date
        pd.NaT,            # blank months
    ]


@given(st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)), st.integers(-240, 240))
def test_add_months_agrees_with_pandas_month_offset(day, months):
    # pandas' DateOffset(months=n) also keeps the day and clamps to the month end
    expected = pd.Timestamp(day) + pd.DateOffset(months=months)
    assert add_months(pd.Series([pd.Timestamp(day)]), months)[0] == expected


def test_round_half_up_rounds_halves_away_from_zero_like_excel():
    values = pd.Series([12.5, 12.49, 4016.5, -0.5, 2.675 * 100, None], dtype="Float64")
    # 2.675*100 is 267.49999999999997 in binary; Excel's ROUND(2.675, 2) gives 2.68
    assert list(round_half_up(values)) == [13, 12, 4017, -1, 268, pd.NA]


# --- timely filing -------------------------------------------------------------------

def test_filing_clock_start_follows_the_contract_clock():
    contract = contracts(
        dict(payor="DosCo", filing_clock="DOS"),
        dict(payor="ThruCo", filing_clock="Through Date"),
        dict(payor="SecCo", filing_clock="Primary Remit"),
        dict(payor="LaterCo", filing_clock="Later of DOS and Primary Remit"),
    )
    claim = claims(
        dict(payor="DosCo", through_date=d("2024-01-20")),                    # DOS
        dict(payor="ThruCo", through_date=d("2024-01-20")),                   # through date
        dict(payor="ThruCo"),                                                 # no through: DOS
        dict(payor="SecCo", claim_type="Secondary", primary_remit_date=d("2024-03-01")),
        dict(payor="SecCo", claim_type="Primary", primary_remit_date=d("2024-03-01")),  # DOS
        dict(payor="SecCo", claim_type="Secondary"),                          # no remit: DOS
        dict(payor="LaterCo", primary_remit_date=d("2024-01-10")),            # remit before DOS
        dict(payor="LaterCo", primary_remit_date=d("2024-02-01")),            # remit after DOS
        dict(payor="LaterCo"),                                                # no remit: DOS
    )
    result = filing_deadlines(claim, contract, lines_of(claim), settings("2024-01-16"))
    assert column(result, "clock_start") == [
        T("2024-01-15"), T("2024-01-20"), T("2024-01-15"), T("2024-03-01"), T("2024-01-15"),
        T("2024-01-15"), T("2024-01-15"), T("2024-02-01"), T("2024-01-15")]
    assert column(result, "filing_deadline") == [
        T("2024-04-14"),  # Jan 15 + 90: Jan 31 is +16, Feb 29 +45, Mar 31 +76, Apr 14 +90
        T("2024-04-19"),  # Jan 20 + 90: five days later than the above
        T("2024-04-14"),
        T("2024-05-30"),  # Mar 1 + 90: Mar 31 is +30, Apr 30 +60, May 30 +90
        T("2024-04-14"), T("2024-04-14"), T("2024-04-14"),
        T("2024-05-01"),  # Feb 1 + 90: Mar 1 is +29 (leap Feb), Apr 1 +60, May 1 +90
        T("2024-04-14")]


def test_filing_limit_in_months_uses_edate_and_medicare_is_12_months():
    contract = contracts(
        dict(payor="Medicare", payor_type="Medicare", filing_limit=12, filing_unit="months"),
        dict(payor="OneMonth", filing_limit=1, filing_unit="months"),
    )
    claim = claims(
        dict(payor="Medicare", dos=d("2024-02-29")),   # + 12 months = 2025-02-28 (clamped)
        dict(payor="Medicare", dos=d("2024-06-15")),   # + 12 months = 2025-06-15
        dict(payor="OneMonth", dos=d("2024-01-31")),   # + 1 month = 2024-02-29 (leap year)
        dict(payor="OneMonth", dos=d("2023-01-31")),   # + 1 month = 2023-02-28
    )
    result = filing_deadlines(claim, contract, lines_of(claim), settings("2023-01-31"))
    assert column(result, "filing_deadline") == [
        T("2025-02-28"), T("2025-06-15"), T("2024-02-29"), T("2023-02-28")]


def test_corrected_claim_runs_from_the_original_remittance():
    contract = contracts(dict(payor="Aetna", corrected_days=60), dict(payor="Cigna"))
    claim = claims(
        dict(frequency="7", original_remit_date=d("2024-05-01")),  # May 1 + 60: May 31 +30, Jun 30 +60
        dict(frequency="7"),                                       # no original remit: as an original
        dict(frequency="1", original_remit_date=d("2024-05-01")),  # not a corrected claim
        dict(payor="Cigna", frequency="7", original_remit_date=d("2024-05-01")),  # no corrected days
    )
    result = filing_deadlines(claim, contract, lines_of(claim), settings("2024-05-01"))
    # the others: DOS Jan 15 + 90 days = Apr 14
    assert column(result, "filing_deadline") == [
        T("2024-06-30"), T("2024-04-14"), T("2024-04-14"), T("2024-04-14")]


def test_filing_status_and_days_left():
    contract = contracts(dict(payor="Aetna"), dict(payor="Cigna"))
    claim = claims(
        dict(filed_date=d("2024-04-14")),           # deadline Apr 14: filed on the last day
        dict(filed_date=d("2024-04-15")),           # one day late
        dict(),                                     # deadline Apr 14, 13 days left
        dict(dos=d("2024-02-01")),                  # deadline May 1: 30 days left, still due soon
        dict(dos=d("2024-02-02")),                  # deadline May 2: 31 days left, open
        dict(dos=d("2024-01-02")),                  # Jan 2 + 90 = Apr 1 = as-of: 0 left, not missed
        dict(dos=d("2023-12-01")),                  # Dec 1 + 90 = Feb 29 (Jan 1 +31, Feb 1 +62)
        dict(filed_date=d("2024-01-20")),           # filed in time, but denied CARC 29
        dict(payor="Unknown"),                      # no contract
        dict(payor="Cigna", dos=d("2023-12-01"), filed_date=d("2024-03-15")),  # filed late
    )
    lines = lines_of(claim, denial(8, "2024-02-20", carc="29"))
    result = filing_deadlines(claim, contract, lines, settings("2024-04-01", filing_due_soon_days=30))
    assert column(result, "filing_days_left") == [
        13,    # Apr 1 → Apr 14
        13,
        13,
        30,    # Apr 1 → May 1
        31,
        0,
        -32,   # Feb 29 → Mar 31 is 31 days, → Apr 1 is 32
        13,
        pd.NA,
        -32]
    assert column(result, "filing_status") == [
        "Filed on time", "Filed late", "Due soon", "Due soon", "Open", "Due soon", "Missed",
        "Missed", "", "Filed late"]
    assert pd.isna(result["filing_deadline"].iloc[8]) and pd.isna(result["clock_start"].iloc[8])
    assert str(result["filing_days_left"].dtype) == "Int64"
    assert list(result.index) == list(claim.index)


def test_payor_match_ignores_case_as_excel_match_does():
    contract = contracts(dict(payor="Aetna"))
    claim = claims(dict(payor="AETNA"))
    result = filing_deadlines(claim, contract, lines_of(claim), settings("2024-04-01"))
    assert column(result, "filing_deadline") == [T("2024-04-14")]


def test_filing_deadlines_keep_the_claims_index():
    contract = contracts(dict(payor="Aetna"))
    claim = claims(dict(), dict(dos=d("2024-03-01")))
    claim.index = [10, 20]
    result = filing_deadlines(claim, contract, lines_of(claim), settings("2024-04-01"))
    assert list(result.index) == [10, 20]
    assert column(result, "filing_deadline") == [T("2024-04-14"), T("2024-05-30")]


# --- appeals -------------------------------------------------------------------------

def test_appeal_deadline_medicare_120_days_plus_5_mailing():
    contract = contracts(dict(payor="Aetna", appeal_days=120, mailing_days=5))
    claim = claims(dict(), dict(), dict(), dict(), dict(), dict())
    lines = lines_of(
        claim,
        denial(1, "2024-03-01"),   # + 125: Mar 31 +30, Apr 30 +60, May 31 +91, Jun 30 +121, Jul 4 +125
        denial(2, "2024-03-01"),
        denial(3, "2024-03-01"),
        denial(4, "2024-01-02"),   # + 125: Feb 1 +30, Mar 1 +59, Apr 1 +90, May 1 +120, May 6 +125
        denial(5, "2024-06-20"),   # + 125: Jul 20 +30, Aug 20 +61, Sep 20 +92, Oct 20 +122, Oct 23 +125
        dict(line=6, remit_date=d("2024-03-01"), paid=80.00),  # paid: not denied
    )
    appeals = frame(m.APPEALS,
                    dict(claim_id="C1", line=1, appeal_date=d("2024-07-04")),             # last day
                    dict(claim_id="C1", line=2, appeal_date=d("2024-07-10"), level=2),
                    dict(claim_id="C1", line=2, appeal_date=d("2024-06-01"), level=1),    # earliest wins
                    dict(claim_id="C1", line=3, appeal_date=d("2024-07-05")),             # a day late
                    dict(claim_id="C1", line=6, appeal_date=d("2024-04-01")))
    result = appeal_deadlines(claim, contract, lines, appeals, settings("2024-06-25", appeal_due_soon_days=14))
    assert column(result, "appeal_deadline") == [
        T("2024-07-04"), T("2024-07-04"), T("2024-07-04"), T("2024-05-06"), T("2024-10-23"), pd.NaT]
    assert column(result, "appeal_date") == [
        T("2024-07-04"), T("2024-06-01"), T("2024-07-05"), pd.NaT, pd.NaT, pd.NaT]
    # from Jun 25: Jul 4 is 9 days; May 6 is −50 (May 6 → Jun 6 is 31, → Jun 25 is 50); Oct 23 is 120
    assert column(result, "appeal_days_left") == [9, 9, 9, -50, 120, pd.NA]
    assert column(result, "appeal_status") == [
        "Appealed on time", "Appealed on time", "Appealed late", "Missed", "Open", ""]


def test_appeal_due_soon_boundary_and_blank_mailing_days():
    contract = contracts(dict(payor="Aetna", appeal_days=30))  # Mailing Days blank: 0
    claim = claims(dict(), dict())
    lines = lines_of(claim,
                     denial(1, "2024-01-31"),   # + 30 = Mar 1 (Feb 29 is +29)
                     denial(2, "2024-02-01"))   # + 30 = Mar 2
    no_appeals = typed_frame(m.APPEALS, []).frame
    result = appeal_deadlines(claim, contract, lines, no_appeals, settings("2024-02-16", appeal_due_soon_days=14))
    # Feb 16 → Mar 1 is 14 days (Feb 16 → Feb 29 is 13): due soon; Mar 2 is 15: open
    assert column(result, "appeal_deadline") == [T("2024-03-01"), T("2024-03-02")]
    assert column(result, "appeal_days_left") == [14, 15]
    assert column(result, "appeal_status") == ["Due soon", "Open"]


# --- prompt pay ----------------------------------------------------------------------

PROMPT = dict(payor="Aetna", prompt_pay_days=30, prompt_pay_interest=0.12)


def test_prompt_pay_status_days_late_and_interest():
    contract = contracts(PROMPT, dict(payor="Cigna"))
    filed = d("2024-05-01")   # + 30 days = May 31 (May 1 → May 31)
    claim = claims(
        dict(filed_date=filed),                       # 1 paid on the due date
        dict(filed_date=filed),                       # 2 paid 10 days late
        dict(filed_date=filed),                       # 3 unpaid, expected allowed known
        dict(filed_date=filed, charge=200.00),        # 4 unpaid, no expected allowed: the charge
        dict(filed_date=d("2024-06-15")),             # 5 due Jul 15: pending
        dict(),                                       # 6 not filed
        dict(filed_date=filed),                       # 7 denied
        dict(filed_date=filed),                       # 8 all to the deductible, late
        dict(payor="Cigna", filed_date=filed),        # 9 no prompt-pay term
    )
    lines = lines_of(claim,
                     dict(line=1, remit_date=d("2024-05-31"), paid=80.00),
                     dict(line=2, remit_date=d("2024-06-10"), paid=100.00),
                     denial(7, "2024-05-20"),
                     dict(line=8, remit_date=d("2024-06-05"), paid=0.0, patient_resp=95.00))
    expected = pd.Series([9000, 10000, 15000, None, 10000, 10000, 10000, 9500, 10000], dtype="Int64")
    result = prompt_pay(claim, contract, lines, expected, settings("2024-06-30"))
    assert column(result, "prompt_pay_due") == [T("2024-05-31")] * 4 + [T("2024-07-15"), pd.NaT,
                                                                        pd.NaT, T("2024-05-31"), pd.NaT]
    assert column(result, "prompt_pay_status") == [
        "Paid on time", "Paid late", "Overdue", "Overdue", "Pending", "", "", "Paid late", ""]
    # 2: Jun 10 − May 31 = 10; 3, 4: Jun 30 − May 31 = 30; 8: Jun 5 − May 31 = 5
    assert column(result, "prompt_pay_days_late") == [pd.NA, 10, 30, 30, pd.NA, pd.NA, pd.NA, 5, pd.NA]
    assert column(result, "prompt_pay_interest") == [
        pd.NA,
        33,     # 10000 × 0.12 × 10 / 365 = 32.88 → 33 (on the amount paid)
        148,    # 15000 × 0.12 × 30 / 365 = 147.95 → 148 (on expected allowed)
        197,    # 20000 × 0.12 × 30 / 365 = 197.26 → 197 (on the charge)
        pd.NA, pd.NA, pd.NA,
        0,      # nothing paid by the payor: no interest on it
        pd.NA]


def test_prompt_pay_interest_rounds_half_up_over_a_leap_year():
    contract = contracts(dict(payor="Aetna", prompt_pay_days=1, prompt_pay_interest=0.10))
    claim = claims(dict(filed_date=d("2023-02-28")))   # due Mar 1, 2023
    # paid Feb 29, 2024: Mar 1, 2023 → Mar 1, 2024 would be 366 days (Feb 29 inside), so 365
    lines = lines_of(claim, dict(line=1, remit_date=d("2024-02-29"), paid=1.25))
    result = prompt_pay(claim, contract, lines, None, settings("2024-03-31"))
    assert column(result, "prompt_pay_days_late") == [365]
    assert column(result, "prompt_pay_interest") == [13]   # 125 × 0.10 × 365 / 365 = 12.5 → 13


# --- contract notice -----------------------------------------------------------------

def test_contract_notices():
    contract = contracts(
        dict(payor="A", term_end=d("2024-12-31"), notice_days=90),
        dict(payor="B", term_end=d("2023-01-31"), auto_renew="Yes", renewal_months=12, notice_days=90),
        dict(payor="C", term_end=d("2024-01-31"), auto_renew="Yes", renewal_months=1, notice_days=0),
        dict(payor="D", term_end=d("2020-02-29"), auto_renew="Yes", notice_days=30),
        dict(payor="E", term_end=d("2024-03-31")),
        dict(payor="F", term_end=d("2024-09-30")),
        dict(payor="G"),
        dict(payor="H", term_end=d("2024-08-29"), notice_days=0),
        dict(payor="I", term_end=d("2024-08-30"), notice_days=0),
        dict(payor="J", term_end=d("2023-06-29"), auto_renew="Yes"),
    )
    result = contract_notices(contract, settings("2024-06-30", notice_due_soon_days=60))
    assert column(result, "renews") == [False, True, True, True, False, False, False, False, False, True]
    assert column(result, "current_term_end") == [
        T("2024-12-31"),
        T("2025-01-31"),   # Jan 31, 2024 is past: one more 12-month renewal
        T("2024-06-30"),   # EDATE(Jan 31, 5) = Jun 30 = as-of: not yet past, not rolled
        T("2025-02-28"),   # EDATE(2020-02-29, 48) = 2024-02-29 is past; EDATE(…, 60) clamps
        T("2024-03-31"),   # does not renew: stays, though past
        T("2024-09-30"),
        pd.NaT,
        T("2024-08-29"), T("2024-08-30"),
        T("2025-06-29"),   # 2024-06-29 is a day before the as-of date: rolled once more
    ]
    assert column(result, "notice_deadline") == [
        T("2024-10-02"),   # Dec 31 − 90: Dec 1 −30, Nov 1 −60, Oct 2 −90
        T("2024-11-02"),   # Jan 31 − 90: Jan 1 −30, Dec 2 −60, Nov 2 −90
        T("2024-06-30"),
        T("2025-01-29"),   # Feb 28 − 30 = Jan 29
        T("2024-01-01"),   # Mar 31 − 90 (2024: Mar 1 −30, Feb 1 −59, Jan 1 −90)
        T("2024-07-02"),   # Sep 30 − 90: Aug 31 −30, Jul 31 −61, Jul 2 −90
        pd.NaT,
        T("2024-08-29"), T("2024-08-30"),
        T("2025-03-31"),   # Jun 29 − 90: May 30 −30, Apr 30 −60, Mar 31 −90
    ]
    # from Jun 30: Oct 2 is 94 (31+31+30+2); Nov 2 is 125; Jul 2 is 2; Aug 29 is 60 (31+29)
    assert column(result, "notice_days_left")[:9] == [94, 125, 0, 213, -181, 2, pd.NA, 60, 61]
    assert column(result, "notice_status") == [
        "Open", "Open", "Due soon", "Open", "Missed", "Due soon", "", "Due soon", "Open", "Open"]


# --- empty inputs and the combined call ---------------------------------------------

def test_zero_rows_give_empty_results():
    empty_claims = typed_frame(m.CLAIMS, []).frame
    empty_contracts = typed_frame(m.CONTRACTS, []).frame
    empty_appeals = typed_frame(m.APPEALS, []).frame
    lines = lines_of(empty_claims)
    result = claim_deadlines(empty_claims, empty_contracts, lines, empty_appeals,
                             pd.Series([], dtype="Int64"), settings("2024-01-01"))
    assert len(result) == 0
    assert list(result.columns) == [
        "clock_start", "filing_deadline", "filing_days_left", "filing_status",
        "appeal_deadline", "appeal_days_left", "appeal_date", "appeal_level", "appeal_status",
        "resubmit_deadline", "resubmit_days_left", "resubmit_status",
        "prompt_pay_due", "prompt_pay_status", "prompt_pay_days_late", "prompt_pay_interest"]
    assert str(result["filing_deadline"].dtype) == "datetime64[ns]"
    assert str(result["prompt_pay_interest"].dtype) == "Int64"
    notices = contract_notices(empty_contracts, settings("2024-01-01"))
    assert len(notices) == 0 and "notice_deadline" in notices


def test_claims_without_contracts_are_blank_everywhere():
    claim = claims(dict(filed_date=d("2024-01-20")))
    lines = lines_of(claim, denial(1, "2024-02-01"))
    empty_contracts = typed_frame(m.CONTRACTS, []).frame
    result = claim_deadlines(claim, empty_contracts, lines, typed_frame(m.APPEALS, []).frame,
                             None, settings("2024-03-01"))
    row = result.iloc[0]
    assert pd.isna(row["filing_deadline"]) and pd.isna(row["appeal_deadline"]) and pd.isna(row["prompt_pay_due"])
    assert (row["filing_status"], row["appeal_status"], row["prompt_pay_status"]) == ("", "", "")


def test_claim_deadlines_joins_the_three():
    contract = contracts(dict(PROMPT, appeal_days=60))
    claim = claims(dict(filed_date=d("2024-01-20")))
    lines = lines_of(claim, denial(1, "2024-02-01"))   # + 60 = Apr 1 (Feb 29 is +28, Mar 31 +59)
    result = claim_deadlines(claim, contract, lines, typed_frame(m.APPEALS, []).frame, None,
                             settings("2024-03-01"))
    assert result.loc[0, "filing_status"] == "Filed on time"
    assert result.loc[0, "appeal_deadline"] == T("2024-04-01")
    assert result.loc[0, "appeal_status"] == "Open"        # 31 days left, due soon is 14
    assert result.loc[0, "prompt_pay_status"] == ""        # denied: not a prompt-pay claim
