"""Cross-row and cross-table checks: errors leave rows out, warnings keep them."""
import datetime as dt

from payorxl import model as m
from payorxl.conversion import empty_frame, typed_frame
from payorxl.validate import validate

D = dt.date


def frames(claims=(), contracts=None, fees=(), payments=(), appeals=()):
    contracts = contracts if contracts is not None else [
        dict(payor="Aetna", payor_type="Commercial", filing_limit=90, appeal_days=180)]
    out = {}
    for table, rows in ((m.CONTRACTS, contracts), (m.FEE_SCHEDULE, fees), (m.CLAIMS, claims),
                        (m.PAYMENTS, payments), (m.APPEALS, appeals)):
        c = typed_frame(table, list(rows))
        assert c.errors == []
        out[table.name] = c.frame if rows else empty_frame(table)
    return out


DOS = D(2026, 3, 2)


def claim(cid, line=1, payor="Aetna", dos=DOS, **kw):
    return dict(claim_id=cid, line=line, patient_id="P1", payor=payor, cpt="99213", dos=dos, charge=100, **kw)


S = m.Settings.make("2026-10-31")


def test_a_lines_secondary_row_is_no_duplicate_and_a_second_primary_is():
    """The Claims key is claim, line and claim type. Rows 2 and 3 share claim A line 1,
    Primary and Secondary: no duplicate. Claim B's lines 1 and 2 differ. Row 6 repeats
    row 2 (A, 1, Primary): the one error, on row 6."""
    rows = [claim("A", claim_type="Primary"), claim("A", claim_type="Secondary"), claim("B"), claim("B", line=2),
            claim("A", claim_type="Primary")]
    f, errors = validate(frames(rows), S)
    assert [(e.ref.row, e.message[-16:]) for e in errors] == [(6, "already on row 2")]
    # every (claim, line) distinct: no claim type is even compared, and nothing is a duplicate
    f, errors = validate(frames([claim("A"), claim("A", line=2), claim("B")]), S)
    assert errors == []


def test_duplicate_claim_line_is_an_error_on_the_second_row():
    f, errors = validate(frames([claim("A"), claim("B"), claim("a")]), S)   # keys compare case-blind
    (e,) = errors
    assert (e.ref.sheet, e.ref.row, e.ref.column) == ("Claims", 4, "Claim Type")
    assert "already on row 2" in e.message
    assert list(f["Claims"]["claim_id"]) == ["A", "B"]


def test_a_secondary_bill_and_a_void_of_a_line_are_not_duplicates():
    """The same claim line billed to its secondary (Claim Type) or voided (frequency 8) is
    a row of its own; a second Primary row of it is still a duplicate."""
    rows = [claim("A"), claim("A", claim_type="Secondary"), claim("A", frequency="8"),
            claim("A", frequency="7")]
    f, errors = validate(frames(rows), S)
    assert [(e.ref.row, e.ref.column) for e in errors if "duplicate" in e.message] == [(5, "Claim Type")]
    assert len(f["Claims"]) == 3


def test_unknown_payor_is_an_error_and_the_row_is_left_out():
    f, errors = validate(frames([claim("A"), claim("B", payor="Cigna")]), S)
    (e,) = errors
    assert (e.ref.row, e.ref.column, e.value) == (3, "Payor", "Cigna")
    assert "no row in Contracts" in e.message and "add the payor to Contracts" in e.fix
    assert list(f["Claims"]["claim_id"]) == ["A"]


def test_percent_of_medicare_contract_needs_its_percentage():
    contracts = [dict(payor="Aetna", payor_type="Commercial", filing_limit=90, appeal_days=180,
                      fee_basis="% of Medicare")]
    f, errors = validate(frames([claim("A")], contracts=contracts), S)
    messages = [e.message for e in errors]
    assert "the contract pays a % of Medicare but the percentage is blank" in messages
    # the contract is left out, so its claim is now an unknown-payor error too (cascade)
    assert "payor has no row in Contracts" in messages
    assert f["Claims"].empty


def test_overlapping_fee_rows_report_the_later_one():
    fees = [dict(payor="Aetna", cpt="99213", effective_from=D(2026, 1, 1), effective_to=D(2026, 6, 30), allowed=90),
            dict(payor="Aetna", cpt="99213", effective_from=D(2026, 6, 30), allowed=95),   # overlaps by one day
            dict(payor="Aetna", cpt="99213", modifier="25", effective_from=D(2026, 1, 1), allowed=50)]
    f, errors = validate(frames(fees=fees), S)
    (e,) = errors
    assert e.ref.row == 3 and "overlaps the rate on row 2" in e.message
    assert len(f["FeeSchedule"]) == 2


def test_dates_in_the_wrong_order():
    c = [claim("A", through_date=D(2026, 3, 1)),                    # error: before DOS
         claim("B", dos=D(2026, 11, 5)),                            # warning: after as-of
         claim("C", filed_date=D(2026, 3, 1))]                      # warning: filed before DOS
    f, errors = validate(frames(c), S)
    assert [(e.ref.row, e.severity) for e in errors] == [(2, "error"), (3, "warning"), (4, "warning")]
    assert list(f["Claims"]["claim_id"]) == ["B", "C"]


def test_payment_for_a_claim_not_in_claims_is_a_warning():
    pay = [dict(claim_id="ZZ", line=1, payor="Aetna", remit_date=D(2026, 4, 1), paid=50)]
    f, errors = validate(frames([claim("A")], payments=pay), S)
    (e,) = errors
    assert e.severity == "warning" and e.ref.sheet == "Payments" and "no claim line ZZ / 1" in e.message
    assert len(f["Payments"]) == 1


def test_empty_workbook_has_no_errors():
    f, errors = validate(frames(contracts=[]), S)
    assert errors == [] and all(df.empty for df in f.values())


def test_key_codes_are_equal_exactly_where_the_upper_cased_keys_are():
    """duplicate_keys compares a text key by its distinct texts' upper case (and skips that
    when they are upper case already): its codes must be equal exactly where str.upper of
    the two cells is, whatever the case, including letters whose upper case is longer
    ("ß" is "SS") and texts with no letters at all."""
    import itertools

    import pandas as pd

    from payorxl.validate import _equal_codes
    for texts in (["A-1", "B-2", "A-1", "99213", "C-3", "99213"],              # upper case already
                  ["a-1", "A-1", "straße", "STRASSE", "Straße", "ǆ", "Ǆ", "ǅ", "x", "99213", "99213"]):
        codes = _equal_codes(pd.Series(texts, dtype=object))
        for i, j in itertools.combinations(range(len(texts)), 2):
            assert (codes[i] == codes[j]) == (texts[i].upper() == texts[j].upper()), (texts[i], texts[j])
    f, errors = validate(frames([claim("straße"), claim("B"), claim("STRASSE"), claim("b")]), S)
    assert sorted((e.ref.row, e.message[-14:]) for e in errors) == [(4, "already on row 2"[-14:]),
                                                                   (5, "already on row 3"[-14:])]


def test_unknown_payors_compare_each_distinct_payor_case_blind():
    rows = [claim("A", payor="AETNA"), claim("B", payor="Cigna"), claim("C", payor=" aetna"), claim("D")]
    f, errors = validate(frames(rows), S)
    assert [(e.ref.row, e.message) for e in errors] == [(3, "payor has no row in Contracts")]
    assert list(f["Claims"]["claim_id"]) == ["A", "C", "D"]


def test_a_payment_whose_adjustments_sum_otherwise_is_a_warning_per_figure_that_differs():
    """Row 2 (claim A) posts Contractual Adj $50 and Patient Resp $10; its Adjustments say
    CO-45 $30 (contractual) and PR-1 $10 (patient): Contractual Adj differs ($30 by rule),
    Patient Resp agrees. Row 3 (claim B) posts Patient Resp $0 against PR-2 $5.25 and
    Contractual Adj $40 against CO-45 $40. Two warnings, in row order, each naming its
    figure; the rows stay in."""
    pays = [dict(claim_id=c, line=1, payor="Aetna", remit_date=D(2026, 4, 1), check_no="K1", claim_status="1",
                 paid=p, contractual_adj=ca, patient_resp=pr) for c, p, ca, pr in (("A", 40, 50, 10), ("B", 60, 40, 0))]
    adjs = [dict(claim_id=c, line=1, payor="Aetna", remit_date=D(2026, 4, 1), check_no="K1", claim_status="1",
                 level="line", group_code=g, reason=r, amount=a)
            for c, g, r, a in (("A", "CO", "45", 30), ("A", "PR", "1", 10), ("B", "PR", "2", 5.25),
                               ("B", "CO", "45", 40))]
    f = frames([claim("A"), claim("B")], payments=pays)
    f["Adjustments"] = typed_frame(m.ADJUSTMENTS, adjs).frame
    kept, errors = validate(f, S)
    found = [(e.ref.row, e.ref.column, e.value, e.message) for e in errors if "Adjustments rows by rule" in e.message]
    assert found == [
        (2, "Contractual Adj", 50.0, "Contractual Adj $50.00 is not the sum of this payment's Adjustments rows by "
                                     "rule ($30.00); the Payments figure is used"),
        (3, "Patient Resp", 0.0, "Patient Resp $0.00 is not the sum of this payment's Adjustments rows by rule "
                                 "($5.25); the Payments figure is used")]
    assert len(kept["Payments"]) == 2


def test_disagreeing_payments_are_listed_by_claim_then_figure_not_by_row():
    """The payments are tied to their Adjustments rows by integer codes; the warnings still
    come in the order of the payments' keys (claim ID first), each payment's figures in
    rules.SUMMARY's order, whatever the order of the rows. Row 2, claim B: Patient Resp $1
    against PR-1 $2 (its Adjustments row first). Row 3, claim A:
    Patient Resp $5 against no PR row ($0), Contractual Adj $10 against CO-45 $20. So
    claim A's two warnings (row 3) come before claim B's (row 2)."""
    pays = [dict(claim_id=c, line=1, payor="Aetna", remit_date=D(2026, 4, 1), check_no="K1", claim_status="1",
                 paid=50, contractual_adj=ca, patient_resp=pr) for c, ca, pr in (("B", 0, 1), ("A", 10, 5))]
    adjs = [dict(claim_id=c, line=1, payor="Aetna", remit_date=D(2026, 4, 1), check_no="K1", claim_status="1",
                 level="line", group_code=g, reason=r, amount=a)
            for c, g, r, a in (("B", "PR", "1", 2), ("A", "CO", "45", 20))]
    f = frames([claim("A"), claim("B")], payments=pays)
    f["Adjustments"] = typed_frame(m.ADJUSTMENTS, adjs).frame
    _, errors = validate(f, S)
    found = [(e.ref.row, e.ref.column, e.value) for e in errors if "Adjustments rows by rule" in e.message]
    assert found == [(3, "Patient Resp", 5.0), (3, "Contractual Adj", 10.0), (2, "Patient Resp", 1.0)]


def test_an_adjustment_matches_its_payment_column_by_column_not_as_joined_text():
    """An Adjustments row for claim "A|1" line 1, payor "Aetna", and a Payments row for
    claim "A" line 1, payor "1|Aetna", are different payments, though their columns joined
    with "|" read alike: the adjustment matches no Payments row (one warning naming it),
    and nothing is summed against the payment."""
    from payorxl.validate import adjustments_agree
    pay = dict(claim_id="A", line=1, payor="1|Aetna", remit_date=D(2026, 4, 1), check_no="K1", claim_status="1",
               paid=40, patient_resp=10)
    adj = dict(claim_id="A|1", line=1, payor="Aetna", remit_date=D(2026, 4, 1), check_no="K1", claim_status="1",
               level="line", group_code="PR", reason="1", amount=7)
    f = {"Payments": typed_frame(m.PAYMENTS, [pay]).frame, "Adjustments": typed_frame(m.ADJUSTMENTS, [adj]).frame}
    errors = adjustments_agree(f, S)
    assert [(e.ref.sheet, e.ref.row, e.message[:37]) for e in errors] == [
        ("Adjustments", 2, "no Payments row has this claim ID, li")]
