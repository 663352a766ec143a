"""Denial categories, initial denial rate, appeal overturn rate and final write-off,
each worked by hand on a few claim lines."""
import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from payorxl import model as m
from payorxl.conversion import typed_frame
from payorxl.engine import denials
from payorxl.engine.lines import line_summary


def day(text):
    return dt.datetime.fromisoformat(text)


def frame(table, rows):
    converted = typed_frame(table, rows)
    assert converted.errors == []
    return converted.frame


def claim(claim_id, line, payor, cpt, charge, dos="2024-01-02", **extra):
    return dict(claim_id=claim_id, line=line, patient_id="P1", payor=payor, cpt=cpt,
                charge=charge, dos=day(dos), **extra)


def remit(claim_id, line, date, paid, status="1", denied=0, carc="", group="", **extra):
    return dict(claim_id=claim_id, line=line, payor="any", remit_date=day(date), paid=paid,
                claim_status=status, denied_amount=denied, carc=carc, group_code=group, **extra)


def appeal(claim_id, line, outcome, level=1, recovered=0):
    return dict(claim_id=claim_id, line=line, appeal_date=day("2024-03-01"), level=level,
                outcome=outcome, recovered=recovered)


# Five claims, six lines (all of 2024, a leap year). Charges in dollars.
CLAIMS = frame(m.CLAIMS, [
    claim("C1", 1, "Aetna", "99213", 100),
    claim("C1", 2, "Aetna", "93000", 50),
    claim("C2", 1, "Aetna", "99214", 200),
    claim("C3", 1, "Cigna", "99213", 100),
    claim("C4", 1, "Cigna", "99213", 120),   # never remitted: not adjudicated
    claim("C5", 1, "Cigna", "99215", 300),
])
PAYMENTS = frame(m.PAYMENTS, [
    remit("C1", 1, "2024-01-15", 80, contractual_adj=20),
    # C1 line 2 is denied a little later; the claim's first remittance is still January.
    remit("C1", 2, "2024-02-01", 0, status="4", denied=50, carc="97", group="CO"),
    # C2: denied for no authorization, then paid after appeal.
    remit("C2", 1, "2024-02-10", 0, status="4", denied=200, carc="197", group="CO"),
    remit("C2", 1, "2024-03-01", 150, contractual_adj=50),
    remit("C3", 1, "2024-02-29", 70, contractual_adj=30),
    remit("C5", 1, "2024-01-31", 0, status="4", denied=300, carc="29", group="CO"),
])
LINES = line_summary(CLAIMS, PAYMENTS)


def empty_inputs():
    claims = frame(m.CLAIMS, [])
    return claims, line_summary(claims, frame(m.PAYMENTS, []))


# --- the CARC table --------------------------------------------------------------------

def test_carc_table_is_complete_and_uses_only_the_fixed_categories():
    table = denials.carc_categories()
    assert list(table.columns) == ["carc", "category", "description"]
    assert table["carc"].is_unique
    assert set(table["category"]) <= set(denials.CATEGORIES)
    assert (table["description"].str.len() > 0).all()
    by_code = dict(zip(table["carc"], table["category"]))
    assert by_code["1"] == "Patient Responsibility"
    assert by_code["18"] == "Duplicate"
    assert by_code["29"] == "Timely Filing"
    assert by_code["45"] == "Contractual"
    assert by_code["50"] == "Medical Necessity"
    assert by_code["97"] == "Bundling"
    assert by_code["197"] == "Authorization"
    assert by_code["27"] == "Eligibility"


def test_carc_table_copy_is_the_callers_own():
    table = denials.carc_categories()
    table.loc[0, "category"] = "changed"
    assert denials.carc_categories().loc[0, "category"] != "changed"


def test_categorize_reads_codes_as_billers_type_them():
    codes = pd.Series(["29", "CO-45", " pr 1", "45.0", "b13", "OA23", "999", "", None])
    assert denials.categorize(codes).tolist() == [
        "Timely Filing", "Contractual", "Patient Responsibility", "Contractual", "Duplicate",
        "Coordination of Benefits", "Other", "Other", "Other"]


def test_categorize_keeps_the_index():
    codes = pd.Series(["97", "16"], index=[10, 20])
    assert denials.categorize(codes).to_dict() == {10: "Bundling", 20: "Missing Information"}


def test_denied_lines_categorises_first_pass_and_standing_denials_only():
    out = denials.denied_lines(CLAIMS, LINES)
    assert out.index.equals(CLAIMS.index)
    # C1/1 paid; C1/2 denied 97; C2 denied first pass 197 (paid later: still counts);
    # C3 paid; C4 not remitted; C5 denied 29.
    assert out["denial_category"].tolist() == [
        "", "Bundling", "Authorization", "", "", "Timely Filing"]


# --- initial denial rate ---------------------------------------------------------------

def test_initial_denial_rate_overall():
    out = denials.initial_denial_rate(CLAIMS, LINES)
    assert out.columns.tolist() == ["group", "claims_adjudicated", "claims_denied", "denial_rate",
                                    "charges_adjudicated", "charges_denied", "charge_denial_rate"]
    row = out.iloc[0]
    assert len(out) == 1 and row["group"] == "All"
    # Adjudicated claims C1, C2, C3, C5 (C4 has no remittance) = 4; denied C1, C2, C5 = 3.
    assert (row["claims_adjudicated"], row["claims_denied"]) == (4, 3)
    assert row["denial_rate"] == pytest.approx(3 / 4)
    # Adjudicated charges 100 + 50 + 200 + 100 + 300 = $750; denied 50 + 200 + 300 = $550.
    assert (row["charges_adjudicated"], row["charges_denied"]) == (75_000, 55_000)
    assert row["charge_denial_rate"] == pytest.approx(55_000 / 75_000)


def test_initial_denial_rate_by_payor_sorted_by_denied_charges():
    out = denials.initial_denial_rate(CLAIMS, LINES, by="payor")
    assert out["payor"].tolist() == ["Cigna", "Aetna"]   # $300 denied, then $250
    cigna, aetna = out.iloc[0], out.iloc[1]
    # Cigna: C3 and C5 adjudicated (C4 not), C5 denied: 1 of 2; $100 + $300, $300 denied.
    assert (cigna["claims_adjudicated"], cigna["claims_denied"]) == (2, 1)
    assert cigna["denial_rate"] == pytest.approx(0.5)
    assert (cigna["charges_adjudicated"], cigna["charges_denied"]) == (40_000, 30_000)
    assert cigna["charge_denial_rate"] == pytest.approx(0.75)
    # Aetna: C1 and C2 both denied on first pass: 2 of 2; $350 charged, $50 + $200 denied.
    assert (aetna["claims_adjudicated"], aetna["claims_denied"]) == (2, 2)
    assert (aetna["charges_adjudicated"], aetna["charges_denied"]) == (35_000, 25_000)
    assert aetna["charge_denial_rate"] == pytest.approx(25 / 35)


def test_initial_denial_rate_by_category_adds_up_to_the_overall_rate():
    out = denials.initial_denial_rate(CLAIMS, LINES, by="category")
    assert out["category"].tolist() == ["Timely Filing", "Authorization", "Bundling"]
    # Each category: 1 claim denied of the 4 adjudicated; denominator $750 for all.
    assert out["claims_adjudicated"].tolist() == [4, 4, 4]
    assert out["claims_denied"].tolist() == [1, 1, 1]
    assert out["charges_adjudicated"].tolist() == [75_000] * 3
    assert out["charges_denied"].tolist() == [30_000, 20_000, 5_000]
    assert out["denial_rate"].sum() == pytest.approx(0.75)           # 3 of 4
    assert out["charge_denial_rate"].sum() == pytest.approx(55_000 / 75_000)


def test_initial_denial_rate_by_month_of_the_claims_first_remittance():
    out = denials.initial_denial_rate(CLAIMS, LINES, by="month")
    assert out["month"].tolist() == ["2024-01", "2024-02"]
    january, february = out.iloc[0], out.iloc[1]
    # January: C1 (first remit 01-15; its line 2, denied 02-01, stays with the claim)
    # and C5 (01-31, month end): both denied; $150 + $300 adjudicated, $50 + $300 denied.
    assert (january["claims_adjudicated"], january["claims_denied"]) == (2, 2)
    assert (january["charges_adjudicated"], january["charges_denied"]) == (45_000, 35_000)
    # February: C2 (02-10, denied) and C3 (02-29, leap day, paid): 1 of 2.
    assert (february["claims_adjudicated"], february["claims_denied"]) == (2, 1)
    assert (february["charges_adjudicated"], february["charges_denied"]) == (30_000, 20_000)
    assert february["denial_rate"] == pytest.approx(0.5)


def test_initial_denial_rate_by_cpt():
    out = denials.initial_denial_rate(CLAIMS, LINES, by="cpt").set_index("cpt")
    # 99213: C1/1 and C3 adjudicated and paid ($100 + $100), C4 not adjudicated.
    assert out.loc["99213", ["claims_adjudicated", "claims_denied", "charges_adjudicated",
                             "charges_denied"]].tolist() == [2, 0, 20_000, 0]
    assert out.loc["99213", "denial_rate"] == 0.0
    assert out.loc["93000", ["claims_adjudicated", "claims_denied"]].tolist() == [1, 1]
    assert out.index.tolist() == ["99215", "99214", "93000", "99213"]


def test_initial_denial_rate_rejects_an_unknown_grouping():
    with pytest.raises(ValueError, match="by must be one of"):
        denials.initial_denial_rate(CLAIMS, LINES, by="patient")


def test_initial_denial_rate_with_nothing_adjudicated_is_nan_not_an_error():
    claims = CLAIMS[CLAIMS["claim_id"] == "C4"]
    lines = line_summary(claims, PAYMENTS)
    row = denials.initial_denial_rate(claims, lines).iloc[0]
    assert (row["claims_adjudicated"], row["claims_denied"], row["charges_adjudicated"]) == (0, 0, 0)
    assert math.isnan(row["denial_rate"]) and math.isnan(row["charge_denial_rate"])


@pytest.mark.parametrize("by", ["payor", "category", "cpt", "month"])
def test_initial_denial_rate_of_no_claims_is_an_empty_frame(by):
    claims, lines = empty_inputs()
    out = denials.initial_denial_rate(claims, lines, by=by)
    assert out.empty and out.columns[0] == by and "denial_rate" in out.columns


def test_initial_denial_rate_overall_of_no_claims_is_one_zero_row():
    claims, lines = empty_inputs()
    row = denials.initial_denial_rate(claims, lines).iloc[0]
    assert (row["group"], row["claims_adjudicated"], row["charges_denied"]) == ("All", 0, 0)
    assert math.isnan(row["denial_rate"])


def test_a_claim_id_typed_in_two_cases_is_one_claim_in_every_count():
    """Lines are matched to their claim and payments with case ignored (as Excel's COUNTIFS
    matches), so "ab1" line 1 and "AB1" line 2 are one claim's two lines: every count of
    distinct claims counts it once. (They were two claims in the denial rates, the clean
    claim rate, the aging's open claims and the payer mix: a claims-basis rate of 1/3
    here instead of 1/2.) By hand: claims AB1 (line 1 denied on its first remittance, line 2
    paid) and C9 (paid): 2 adjudicated, 1 denied on first pass, 1 clean."""
    from payorxl.engine import collections, portfolio
    claims = frame(m.CLAIMS, [claim("ab1", 1, "Aetna", "99213", 100), claim("AB1", 2, "Aetna", "93000", 50),
                              claim("C9", 1, "Aetna", "99213", 100)])
    payments = frame(m.PAYMENTS, [
        {**r, "payor": "Aetna"} for r in (
            remit("AB1", 1, "2024-01-15", 0, status="4", denied=100, carc="197", group="CO"),
            remit("ab1", 2, "2024-01-15", 30, contractual_adj=10),
            remit("C9", 1, "2024-01-15", 80, contractual_adj=20))])
    lines = line_summary(claims, payments)
    assert lines["adjudicated"].tolist() == [True, True, True]           # (matched, case ignored)
    for by in (None, "payor", "cpt", "category", "month"):
        rates = denials.initial_denial_rate(claims, lines, by=by)
        if by in (None, "payor", "month"):
            row = rates.iloc[0]
            assert (row["claims_adjudicated"], row["claims_denied"], row["denial_rate"]) == (2, 1, 0.5), by
    by_cpt = denials.initial_denial_rate(claims, lines, by="cpt").set_index("cpt")
    assert by_cpt.loc["99213", "claims_adjudicated"] == 2 and by_cpt.loc["99213", "claims_denied"] == 1
    assert collections.clean_claim_rate(claims, lines) == 0.5
    # Open balances: line 1 (100) and line 2 (50 - 30 - 10 = 10), both 0-30 days: one claim.
    balances = pd.DataFrame({"balance": [100, 10, 0], "aging_bucket": ["0-30", "0-30", ""]})
    aged = collections.aging(claims, balances, None, by="payor").iloc[0]
    assert (aged["open_lines"], aged["open_claims"], aged["total"]) == (2, 1, 110)
    contracts = frame(m.CONTRACTS, [dict(payor="Aetna", payor_type="Commercial", filing_limit=90, appeal_days=180)])
    mix = portfolio.payer_mix(claims, lines, contracts).iloc[0]
    assert (mix["claims"], mix["lines"]) == (2, 3)
    # The whole calculation, and the sheets' totals rows (the Aging sheet's Open Claims total
    # counted them case-sensitively too: found by a review)
    from payorxl import validate
    from payorxl.engine import calculate
    from payorxl.workbook import sheets
    frames = {t.name: typed_frame(t, []).frame for t in m.INPUT_TABLES}
    frames.update(Claims=claims, Payments=payments, Contracts=contracts)
    settings = m.Settings.make(dt.date(2024, 1, 31))
    valid, errors = validate.validate(frames, settings)
    results = calculate(valid, settings, errors)
    assert [e.message for e in results.errors if e.severity == "error"] == []
    assert results.lines["balance"].tolist() == [10000, 1000, 0]       # cents: 100 denied, 50 - 30 - 10
    card = results.scorecard.set_index("payor").loc["Aetna"]
    assert (card["claims"], card["lines"], card["denial_rate"]) == (2, 3, 0.5)
    assert results.kpis["initial_denial_rate"].value == 0.5 and results.kpis["clean_claim_rate"].value == 0.5
    assert (sheets.aging_totals(results)["open_claims"], sheets.aging_totals(results)["open_lines"]) == (1, 2)


def test_denied_lines_of_no_claims():
    claims, lines = empty_inputs()
    assert denials.denied_lines(claims, lines).empty


# --- appeal overturn rate --------------------------------------------------------------

APPEALS = frame(m.APPEALS, [
    appeal("C1", 2, "Overturned", recovered=50),
    appeal("C2", 1, "Partially Overturned", recovered=150),
    appeal("C5", 1, "Upheld"),
    appeal("C3", 1, "Pending"),
    appeal("C4", 1, "Withdrawn"),
    appeal("ZZ", 1, "Pending"),     # a line not in Claims
])


def test_appeal_overturn_rate_overall():
    out = denials.appeal_overturn_rate(APPEALS)
    assert out.columns.tolist() == ["group", "appeals_decided", "appeals_overturned",
                                    "overturn_rate", "recovered"]
    row = out.iloc[0]
    # Decided: Overturned, Partially Overturned, Upheld = 3 (Pending, Withdrawn are not);
    # overturned 2 of 3. Recovered $50 + $150.
    assert (row["group"], row["appeals_decided"], row["appeals_overturned"]) == ("All", 3, 2)
    assert row["overturn_rate"] == pytest.approx(2 / 3)
    assert row["recovered"] == 20_000


def test_appeal_overturn_rate_by_payor():
    out = denials.appeal_overturn_rate(APPEALS, CLAIMS).set_index("payor")
    assert sorted(out.index) == ["", "Aetna", "Cigna"]
    # Aetna: C1/2 and C2 both overturned: 2 of 2.
    assert out.loc["Aetna", ["appeals_decided", "appeals_overturned", "recovered"]].tolist() == [2, 2, 20_000]
    assert out.loc["Aetna", "overturn_rate"] == 1.0
    # Cigna: C5 upheld (decided), C3 pending and C4 withdrawn (not): 0 of 1.
    assert out.loc["Cigna", ["appeals_decided", "appeals_overturned"]].tolist() == [1, 0]
    assert out.loc["Cigna", "overturn_rate"] == 0.0
    # The unmatched pending appeal: nothing decided, so no rate.
    assert math.isnan(out.loc["", "overturn_rate"])


def test_appeal_overturn_rate_of_no_appeals():
    appeals = frame(m.APPEALS, [])
    row = denials.appeal_overturn_rate(appeals).iloc[0]
    assert (row["appeals_decided"], row["recovered"]) == (0, 0)
    assert math.isnan(row["overturn_rate"])
    assert denials.appeal_overturn_rate(appeals, CLAIMS).empty


# --- final denial write-off ------------------------------------------------------------

W_CLAIMS = frame(m.CLAIMS, [
    claim("W1", 1, "Aetna", "99213", 100),
    claim("W2", 1, "Aetna", "99213", 80),
    claim("W3", 1, "Aetna", "99213", 60),
    claim("W4", 1, "Aetna", "99213", 40),
    claim("W5", 1, "Aetna", "99213", 100),
    claim("W6", 1, "Aetna", "99213", 50),
    claim("W7", 1, "Aetna", "99213", 70),    # not adjudicated
])
W_PAYMENTS = frame(m.PAYMENTS, [
    remit("W1", 1, "2024-03-01", 0, status="4", denied=100, carc="50", group="CO"),
    remit("W2", 1, "2024-03-01", 0, status="4", denied=80, carc="50", group="CO"),
    remit("W3", 1, "2024-03-01", 0, status="4", denied=60, carc="16", group="CO"),
    remit("W4", 1, "2024-03-01", 0, status="4", denied=40, carc="16", group="CO"),
    remit("W5", 1, "2024-03-01", 60, contractual_adj=40),
    # W6 denied on the original and again on the corrected claim: $100 denied in all.
    remit("W6", 1, "2024-03-01", 0, status="4", denied=50, carc="16", group="CO"),
    remit("W6", 1, "2024-04-01", 0, status="4", denied=50, carc="16", group="CO"),
])
W_LINES = line_summary(W_CLAIMS, W_PAYMENTS)
W_APPEALS = frame(m.APPEALS, [
    appeal("W1", 1, "Upheld"),
    appeal("W2", 1, "Upheld", level=1),
    appeal("W2", 1, "Pending", level=2),     # still being worked
])
# As deadlines.appeal_deadlines gives them: W1's appeal upheld at its final level is "Upheld".
W_STATUS = pd.Series(["Upheld", "", "Missed", "Open", "Missed", "Missed", ""], index=W_CLAIMS.index)


def test_final_denial_writeoff():
    out = denials.final_denial_writeoff(W_CLAIMS, W_LINES, W_STATUS, W_APPEALS)
    assert out.index.equals(W_CLAIMS.index)
    # W1 upheld at its final level: $100. W2 level 2 pending: 0. W3 missed: $60. W4 open: 0.
    # W5 missed but paid (not denied): 0. W6 missed: $100 denied, capped at the $50 owed.
    assert out["written_off"].tolist() == [10_000, 0, 6_000, 0, 0, 5_000, 0]
    assert out["writeoff_reason"].tolist() == [
        "Appeal upheld", "", "Appeal missed", "", "", "Appeal missed", ""]


def test_final_denial_writeoff_rate_is_over_adjudicated_gross_charges():
    written_off = denials.final_denial_writeoff(W_CLAIMS, W_LINES, W_STATUS, W_APPEALS)
    # Written off 100 + 60 + 50 = $210; adjudicated charges 100 + 80 + 60 + 40 + 100 + 50
    # = $430 (W7's $70 has no remittance).
    rate = denials.final_denial_writeoff_rate(W_CLAIMS, W_LINES, written_off)
    assert rate == pytest.approx(210 / 430)
    same = denials.final_denial_writeoff_rate(W_CLAIMS, W_LINES, written_off["written_off"])
    assert same == rate


def test_final_denial_writeoff_of_no_claims():
    claims, lines = empty_inputs()
    out = denials.final_denial_writeoff(claims, lines, pd.Series([], dtype=object),
                                        frame(m.APPEALS, []))
    assert out.empty and list(out.columns) == ["written_off", "writeoff_reason"]
    assert math.isnan(denials.final_denial_writeoff_rate(claims, lines, out))


# --- a property: the groupings partition the whole -------------------------------------

line_strategy = st.tuples(
    st.integers(0, 5),                               # claim number
    st.sampled_from(["Aetna", "Cigna"]),
    st.integers(1, 500),                             # charge, dollars
    st.one_of(st.none(), st.tuples(st.integers(0, 90), st.booleans())),  # remit day, denied
)


@hsettings(max_examples=40, deadline=None)
@given(st.lists(line_strategy, max_size=12))
def test_months_and_payors_add_up_to_the_whole(rows):
    claim_rows, payment_rows, payor_of = [], [], {}
    for n, (claim_no, payor, charge, remittance) in enumerate(rows, start=1):
        claim_id = f"H{claim_no}"
        payor = payor_of.setdefault(claim_id, payor)   # one payor per claim
        claim_rows.append(claim(claim_id, n, payor, "99213", charge))
        if remittance is not None:
            offset, is_denied = remittance
            date = (day("2024-01-20") + dt.timedelta(days=offset)).date().isoformat()
            payment_rows.append(remit(claim_id, n, date, 0 if is_denied else charge,
                                      status="4" if is_denied else "1",
                                      denied=charge if is_denied else 0, carc="16"))
    claims = frame(m.CLAIMS, claim_rows)
    lines = line_summary(claims, frame(m.PAYMENTS, payment_rows))
    whole = denials.initial_denial_rate(claims, lines).iloc[0]
    for by in ("month", "payor"):
        parts = denials.initial_denial_rate(claims, lines, by=by)
        for column in ("claims_adjudicated", "claims_denied", "charges_adjudicated",
                       "charges_denied"):
            assert parts[column].sum() == whole[column]
