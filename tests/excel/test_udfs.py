"""The PX_ formulas, called as Excel calls them: tables as 2-D lists with their header
row (Claims[#All]), dates as datetime, numbers as float, empty cells as None. Expected
values are worked by hand from the small practice in excel_helpers.py:

  Acme Health: 90 filing days from the DOS, 60 appeal days, fee schedule 99213 $100.00.
  Medicare:    12 filing months, 120 appeal days + 5 mailing days, 99213 $80.00, 36415 $3.00.
  As of 05/01/2026; Filing Due Soon 30 days, Appeal Due Soon 14 days.

  Claims row  line       payor     CPT   units DOS         charge  filed       remittance
  2           C1/1       Acme      99213 1     03/02/2026  150     03/05/2026  03/20 paid 80, PR 20, CO-45 50
  3           C1/2       Acme      99213 2     03/02/2026  300     03/05/2026  03/20 denied CO-197, 300
  4           C2/1       Medicare  99213 1     03/10/2026  150     03/12/2026  03/25 paid 64, PR 16, CO-45 70
  5           C3/1       Medicare  36415 1     04/01/2026   20     -           -
  6           (an empty table row)
  7           C4/1       Acme      99213 1     02/15/2026  150     -           -
  8           C5/1       Acme      99213 1     01/10/2026  150     -           -
"""
import datetime as dt

import pytest

from excel_helpers import ALL, APPEALS, AS_OF, CLAIMS, CONTRACTS, FEE_SCHEDULE, PAYMENTS, SETTINGS, D
from payorxl import model as m
from payorxl.excel import convert as cv, udfs
from payorxl.excel.udfs import (
    PX_AGING,
    PX_APPEAL_DEADLINE,
    PX_DENIAL_RATE,
    PX_EXPECTED_ALLOWED,
    PX_FILING_DEADLINE,
    PX_SCORECARD,
    PX_WORKLIST,
)

BLANK3 = ["", "", ""]


def test_arguments_arrive_as_excel_sends_them():
    """What the tests pass is what xlwings passes on Windows with ndim=2: a list of rows,
    header first, datetime, float, None — no pandas, no strings for numbers."""
    assert CLAIMS[0][:4] == ["Claim ID", "Line", "Patient ID", "Payor"]
    assert CLAIMS[1][:4] == ["C1", 1.0, "P1", "Acme Health"]
    assert CLAIMS[1][9] == dt.datetime(2026, 3, 2) and CLAIMS[1][10] is None
    assert all(v is None for v in CLAIMS[5])            # the empty table row
    assert {type(v) for row in ALL for r in row[1:] for v in r} <= {str, float, dt.datetime, type(None)}


# --- PX_DENIAL_RATE ----------------------------------------------------------------------

def test_denial_rate_overall_per_payor_per_month_and_by_charges():
    # Adjudicated claims (a remittance on any line): C1, C2. Denied on first adjudication:
    # C1 (line 2, CO-197). Claims: 1 / 2 = 0.5.
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS) == 0.5
    # Acme: C1 adjudicated and denied, 1 / 1; Medicare: C2 adjudicated, not denied, 0 / 1.
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, "acme health") == 1.0   # case ignored, as MATCH does
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, "Medicare") == 0.0
    # Charges: first-pass-denied line charges 300 / adjudicated line charges 150 + 300 + 150 = 0.5;
    # Acme alone: 300 / (150 + 300) = 2/3.
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, None, None, "charges") == 0.5
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, "Acme Health", None, "Charges") == pytest.approx(2 / 3)
    # The month is that of the claim's first remittance: C1 and C2 were both paid in
    # March 2026, given as a date in the month or as text.
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, None, D(2026, 3, 31)) == 0.5
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, "Acme Health", "2026-03") == 1.0


def test_denial_rate_with_nothing_adjudicated_says_so():
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, None, "2026-04") == "PX_DENIAL_RATE: no claims adjudicated in 2026-04"
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, "Acme Helth") == \
        "PX_DENIAL_RATE: no claims adjudicated for payor 'Acme Helth'"


# --- per-row results, beside the Claims table ----------------------------------------------

def test_filing_deadline_row_for_row_beside_claims():
    out = PX_FILING_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS, SETTINGS)
    assert len(out) == len(CLAIMS)       # header + one row per Claims row, the empty one too
    assert out == [
        ["Filing Deadline", "Filing Days Left", "Filing Status"],
        # Acme 03/02 + 90 days = 05/31 (29 + 30 + 31); 30 days after 05/01; filed 03/05.
        [D(2026, 5, 31), 30, "Filed on time"],
        [D(2026, 5, 31), 30, "Filed on time"],
        # Medicare 03/10/2026 + 12 months = 03/10/2027: 365 − 52 (03/10..05/01/2027) = 313 days.
        [D(2027, 3, 10), 313, "Filed on time"],
        # 04/01/2026 + 12 months = 04/01/2027: 365 − 30 = 335 days, not filed yet.
        [D(2027, 4, 1), 335, "Open"],
        BLANK3,                            # the empty row stays empty
        # Acme 02/15 + 90 = 05/16 (13 + 31 + 30 + 16): 15 days left, within 30: due soon.
        [D(2026, 5, 16), 15, "Due soon"],
        # Acme 01/10 + 90 = 04/10 (21 + 28 + 31 + 10): 21 days ago, never filed.
        [D(2026, 4, 10), -21, "Missed"],
    ]


def test_appeal_deadline_only_for_denied_lines():
    out = PX_APPEAL_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS, APPEALS, AS_OF)
    # C1/2 denied on 03/20: + 60 appeal days (Acme has no mailing days) = 05/19
    # (11 + 30 + 19), 18 days after 05/01: more than 14, so "Open". No other line is denied.
    assert out == [["Appeal Deadline", "Appeal Days Left", "Appeal Status"],
                   BLANK3, [D(2026, 5, 19), 18, "Open"], BLANK3, BLANK3, BLANK3, BLANK3, BLANK3]


def test_expected_allowed_is_rate_times_units():
    out = PX_EXPECTED_ALLOWED(CLAIMS, CONTRACTS, FEE_SCHEDULE, AS_OF)
    # Acme 99213 $100 × 1, × 2; Medicare 99213 $80, 36415 $3; the empty row blank.
    assert out == [["Expected Allowed"], [100.0], [200.0], [80.0], [3.0], [""], [100.0], [100.0]]


# --- spilled tables -----------------------------------------------------------------------

def test_scorecard():
    out = PX_SCORECARD(*ALL, AS_OF)
    assert out[0] == ["Payor", "Payor Type", "Claims", "Lines", "Charges", "Paid", "Initial Denial Rate",
                      "Denial Rate ($)", "Adjudicated Charges", "Contractual Adj", "Net Collection Rate", "A/R",
                      "Underpaid Lines", "Underpayment", "Recovered", "Missed Filing", "Missed Appeals", "Due Soon"]
    # Acme: claims C1, C4, C5; 4 lines; charges 150 + 300 + 150 + 150 = 750; paid 80.
    #   Denial rates 1/1 and 300/450 (above). Net collection rate: paid ÷ (adjudicated charges
    #   − contractual adj.) = 80 / (450 − 50) = 0.2. A/R: C1/1 150 − 80 − 50 − 20 = 0, C1/2
    #   300 (denied, appeal still open: not written off), C4 150, C5 150 = 600. C1/1 allowed
    #   100 = expected 100: not underpaid. Missed filing: C5. Due soon: C4's filing.
    assert out[1] == ["Acme Health", "Commercial", 3, 4, 750.0, 80.0, 1.0, pytest.approx(2 / 3), 450.0, 50.0, 0.2,
                      600.0, 0, 0.0, 0.0, 1, 0, 1]
    # Medicare: C2, C3; charges 150 + 20 = 170; paid 64; 0 of 1 denied; NCR 64 / (150 − 70)
    #   = 0.8; A/R: C2 150 − 64 − 70 − 16 = 0, C3 20.
    assert out[2] == ["Medicare", "Medicare", 2, 2, 170.0, 64.0, 0.0, 0.0, 150.0, 70.0, 0.8, 20.0, 0, 0.0, 0.0, 0, 0,
                      0]
    assert len(out) == 3


def test_aging_by_payor_and_by_cpt():
    # Days from the DOS to 05/01: C1/2 60 (31-60), C4 75 (61-90), C5 111 (91-120), C3 30 (0-30).
    # Open lines and claims: Acme C1/2, C4, C5 (3 lines of 3 claims); Medicare C3 (1 of 1).
    assert PX_AGING(*ALL, AS_OF) == [
        ["Payor", "0-30", "31-60", "61-90", "91-120", "120+", "Total", "Open Lines", "Open Claims"],
        ["Acme Health", 0.0, 300.0, 150.0, 150.0, 0.0, 600.0, 3, 3],
        ["Medicare", 20.0, 0.0, 0.0, 0.0, 0.0, 20.0, 1, 1]]
    assert PX_AGING(*ALL, AS_OF, "CPT") == [
        ["CPT", "0-30", "31-60", "61-90", "91-120", "120+", "Total", "Open Lines", "Open Claims"],
        ["99213", 0.0, 300.0, 150.0, 150.0, 0.0, 600.0, 3, 3],
        ["36415", 20.0, 0.0, 0.0, 0.0, 0.0, 20.0, 1, 1]]


def test_worklist_most_urgent_first():
    out = PX_WORKLIST(*ALL, AS_OF)
    assert out[0] == ["Rank", "Action", "Payor", "Claim ID", "Line", "CPT", "Date of Service", "Amount at Risk",
                      "Deadline", "Days Left", "Status", "Detail"]
    # Urgency = dollars ÷ days left: the appeal $300 / 18 = $16.67 a day beats filing C4,
    # $100 (expected allowed) / 15 = $6.67 a day; the missed filing comes last.
    assert [r[:4] + r[7:11] for r in out[1:]] == [
        [1, "Appeal denial", "Acme Health", "C1", 300.0, D(2026, 5, 19), 18, "Open"],
        [2, "File claim", "Acme Health", "C4", 100.0, D(2026, 5, 16), 15, "Due soon"],
        [3, "Missed filing deadline", "Acme Health", "C5", 100.0, D(2026, 4, 10), -21, "Missed"]]
    assert len(PX_WORKLIST(*ALL, AS_OF, 2.0)) == 3       # header + the top 2


def test_settings_as_a_date_or_the_settings_sheet_or_blank():
    by_date = PX_FILING_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS, AS_OF)
    assert by_date == PX_FILING_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS, SETTINGS)
    # A date serial number (a cell formatted as General) is a date too: 46143 = 05/01/2026.
    assert PX_FILING_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS, 46143.0) == by_date
    # The Settings sheet decides the due-soon window: with 10 days, C4 (15 days) is Open.
    narrow = [row[:] for row in SETTINGS]
    narrow[3][1] = 10.0
    assert PX_FILING_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS, narrow)[6] == [D(2026, 5, 16), 15, "Open"]
    # Blank: as of today.
    today = dt.datetime.combine(dt.date.today(), dt.time())
    assert PX_FILING_DEADLINE(CLAIMS, PAYMENTS, CONTRACTS)[1][1] == (D(2026, 5, 31) - today).days


def test_a_table_of_one_row_arrives_flat_without_ndim():
    """Without xlwings' ndim=2 (a caller outside the COM server) a header-only table is a
    flat list: it reads as the empty table it is."""
    assert APPEALS == [APPEALS[0]]                       # header only
    assert PX_SCORECARD(CLAIMS, PAYMENTS, CONTRACTS, FEE_SCHEDULE, APPEALS[0], AS_OF) == PX_SCORECARD(*ALL, AS_OF)


def test_contracts_before_any_claim():
    """A practice that has entered its contracts but no claim yet gets the header row."""
    header_only = PX_SCORECARD(CLAIMS[0], PAYMENTS[0], CONTRACTS, FEE_SCHEDULE, APPEALS[0], AS_OF)
    assert header_only == [PX_SCORECARD(*ALL, AS_OF)[0]]


# --- bad arguments: a short message in the cell, never a traceback --------------------------

def test_a_date_typed_as_text_names_its_row_and_the_fix():
    claims = [row[:] for row in CLAIMS]
    claims[2][9] = "3/2/26 "          # Claims row 3, Date of Service, typed as text
    message = PX_SCORECARD(claims, PAYMENTS, CONTRACTS, FEE_SCHEDULE, APPEALS, AS_OF)
    assert message == ("PX_SCORECARD: Claims row 3: Date of Service is text, not a date ('3/2/26 '): "
                       "re-type it as a date (e.g. 03/14/2026) so Excel right-aligns it")
    claims[4][11] = "abc"             # a second problem: counted, not listed
    assert PX_FILING_DEADLINE(claims, PAYMENTS, CONTRACTS, AS_OF).endswith("(+1 more; Check data lists them)")


def test_an_unknown_column_is_named():
    assert PX_AGING(*ALL, AS_OF, "Colour") == (
        "PX_AGING: by: 'Colour' is not a Claims column to group by; use one of "
        "Payor, Claim Type, Frequency, CPT, Modifier, POS, NPP")
    renamed = [row[:] for row in CLAIMS]
    renamed[0][9] = "Service Date"    # the user renamed the header
    assert PX_EXPECTED_ALLOWED(renamed, CONTRACTS, FEE_SCHEDULE) == (
        "PX_EXPECTED_ALLOWED: claims: no 'Date of Service' column; pass the whole Claims table, "
        "e.g. Claims[#All]")


def test_wrong_ranges_and_options():
    # The table without its header row (Claims instead of Claims[#All]).
    assert PX_DENIAL_RATE(CLAIMS[1:], PAYMENTS) == (
        "PX_DENIAL_RATE: claims: the first row is not the Claims table's header row; pass the "
        "whole table with its headers, e.g. Claims[#All]")
    # Payments passed where Claims belongs: the headers name it.
    assert PX_DENIAL_RATE(PAYMENTS, CLAIMS).startswith("PX_DENIAL_RATE: claims: no 'Patient ID' column")
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, None, "March") == (
        "PX_DENIAL_RATE: period: 'March' is not a month; give a date in the month or text like \"2026-03\"")
    assert PX_DENIAL_RATE(CLAIMS, PAYMENTS, None, None, "dollars") == (
        "PX_DENIAL_RATE: basis: 'dollars' is not one of claims, charges")
    assert PX_SCORECARD(*ALL, "05/01/2026") == (
        "PX_SCORECARD: settings is text, not a date ('05/01/2026'); enter a date, or point to a cell "
        "holding one")
    assert PX_WORKLIST(*ALL, AS_OF, -3.0) == "PX_WORKLIST: top: -3.0 is not a whole number of rows"
    assert PX_SCORECARD(*ALL, [["Colour", "red"]]).startswith(
        "PX_SCORECARD: settings: pass the Settings sheet's Setting and Value columns")


def test_a_patient_identifier_is_never_shown():
    claims = [row[:] for row in CLAIMS]
    claims[2][2] = None               # Patient ID is required
    assert PX_DENIAL_RATE(claims, PAYMENTS) == (
        "PX_DENIAL_RATE: Claims row 3: Patient ID is required and blank: "
        "fill in the patient id: Practice's patient account number.")
    claims[2][2] = True               # a value of the wrong kind: masked, not echoed
    assert "<hidden: patient identifier>" in PX_DENIAL_RATE(claims, PAYMENTS)


def test_an_unexpected_failure_is_a_message_too():
    @cv.readable_errors
    def PX_BROKEN():
        return {}["missing"]
    assert PX_BROKEN() == "PX_BROKEN: unexpected KeyError: 'missing'"


# --- the functions as Excel sees them ---------------------------------------------------------

def test_names_arguments_and_no_volatility():
    names = [f.__name__ for f in udfs.UDFS]
    assert names == ["PX_DENIAL_RATE", "PX_FILING_DEADLINE", "PX_APPEAL_DEADLINE", "PX_EXPECTED_ALLOWED",
                     "PX_SCORECARD", "PX_AGING", "PX_WORKLIST"]
    assert sorted(n for n in dir(udfs) if n.startswith("PX_")) == sorted(names)
    # Not volatile: xlwings' default, and nothing asks otherwise.
    assert "volatile" not in udfs.FUNC_OPTIONS
    for f in udfs.UDFS:
        assert f.__doc__ and len(f.__doc__) <= 255, f.__name__   # Excel's description limit


def test_the_same_figures_as_the_scorecard_sheet():
    """PX_SCORECARD over the demo practice's tables, as Excel would pass them, equals
    the Scorecard sheet a recalculation writes (the same results, laid out by the same
    columns): one engine, two ways out."""
    from payorxl import pipeline
    from payorxl.demo import generate_demo
    from payorxl.workbook.read import Inputs
    d = generate_demo()
    tables = [cv.excel_grid(m.TABLES[n], d.records[n]) for n in
              ("Claims", "Payments", "Contracts", "FeeSchedule", "Appeals")]
    as_of = dt.datetime.combine(d.settings["as_of"], dt.time())
    spilled = PX_SCORECARD(*tables, as_of)
    results = pipeline.evaluate(Inputs(d.frames(), d.settings_obj()))
    assert spilled == cv.table_out(results.scorecard, m.SCORECARD.fields)
    assert len(spilled) == 1 + 8       # eight payors


def test_expected_allowed_follows_the_rule_tables_it_is_given():
    """Given the workbook's rule tables, the formula follows them; omitted, the seeded ones.
    C1 line 2 (Acme 99213 × 2, $300 charge): $200. With Acme's PaymentRules row saying NPP %
    50% and the line typed NPP Yes: 100 × 0.5 = $50 a unit, $100. With a Modifiers table that
    prices modifier 52 at 40% of base, C1 line 1 typed 52: $40."""
    from excel_helpers import grid
    claims = [row[:] if row else row for row in CLAIMS]
    header = claims[0]
    claims[2][header.index("NPP")] = "Yes"
    claims[1][header.index("Modifier")] = "52"
    rules = grid(m.PAYMENT_RULES, [{"Payor": "Acme Health", "NPP %": 0.5}])
    mods = grid(m.MODIFIERS, [{"Modifier": "52", "Pricing": "% of base", "Percent": 0.4}])
    seeded = PX_EXPECTED_ALLOWED(claims, CONTRACTS, FEE_SCHEDULE, AS_OF)
    assert seeded[1:3] == [[""], [170.0]]          # 52 unknown to the seed; NPP at Medicare's 85%
    given = PX_EXPECTED_ALLOWED(claims, CONTRACTS, FEE_SCHEDULE, AS_OF, rules, mods)
    assert given[1:3] == [[40.0], [100.0]]


def test_a_formula_holds_the_garbage_collector_off_while_it_runs_and_leaves_it_as_it_was():
    """Each PX_ call runs with the cyclic collector off (convert.collector_paused) and puts
    it back as it found it: on after an answer and after a message, off if it was off."""
    import gc
    seen = []

    @cv.readable_errors
    def probe(fail: bool):
        seen.append(gc.isenabled())
        if fail:
            raise cv.UdfError("no such table")
        return "ok"

    assert gc.isenabled()
    assert probe(False) == "ok" and gc.isenabled()
    assert probe(True) == "probe: no such table" and gc.isenabled()
    gc.disable()
    try:
        assert probe(False) == "ok" and not gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False, False, False]
    assert udfs.PX_DENIAL_RATE(CLAIMS, PAYMENTS) and gc.isenabled()
