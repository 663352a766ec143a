"""The demo practice: deterministic, loads clean, realistic in shape, and its planted
problems are exactly the lines that meet each alarm's condition.

Every condition is recomputed here from the raw records (Excel values: dates, float
dollars) with plain datetime arithmetic, independently of the engine, so the engine can
later be checked against `Demo.planted`.
"""
from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from payorxl import model as m, rules
from payorxl.conversion import typed_frame
from payorxl.demo import DEFAULT_AS_OF, DEMO_CLAIMS, Demo, Planted, generate_demo, generate_large, records_from_frame

# (seed, as-of date, ordinary claims); the last, a practice too small for four short-pays
# (generate_demo raised ValueError for one before)
CASES = [(7, DEFAULT_AS_OF, DEMO_CLAIMS), (11, dt.date(2027, 3, 31), DEMO_CLAIMS), (7, DEFAULT_AS_OF, 5)]


@pytest.fixture(scope="module")
def demo() -> Demo:
    return generate_demo()


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"seed{c[0]}-{c[1]}-{c[2]}")
def case(request) -> tuple[Demo, Book]:
    seed, as_of, claims = request.param
    d = generate_demo(seed, as_of, claims)
    return d, Book(d.records, as_of)


# --- the conditions, from raw records ------------------------------------------------

def cents(dollars) -> int:
    return int((Decimal(str(dollars or 0)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def edate(day: dt.date, months: int) -> dt.date:
    y, m0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    for d in range(day.day, 27, -1):
        try:
            return dt.date(y, m0 + 1, d)
        except ValueError:
            continue
    return dt.date(y, m0 + 1, day.day)


class Book:
    """The records indexed the way the conditions need them."""

    def __init__(self, records: dict, as_of: dt.date):
        self.as_of = as_of
        self.contracts = {c["payor"]: c for c in records["Contracts"]}
        self.claims = {(c["claim_id"], c["line"]): c for c in records["Claims"]}
        self.payments = defaultdict(list)
        for p in records["Payments"]:
            self.payments[(p["claim_id"], p["line"])].append(p)
        self.appealed = {(a["claim_id"], a["line"]) for a in records["Appeals"]}
        self.fees = defaultdict(list)
        for f in records["FeeSchedule"]:
            self.fees[(f["payor"], f["cpt"], f["modifier"] or "")].append(f)

    def filing_deadline(self, c) -> dt.date:
        k = self.contracts[c["payor"]]
        if k["filing_unit"] == "months":
            return edate(c["dos"], k["filing_limit"])
        return c["dos"] + dt.timedelta(days=k["filing_limit"])

    @staticmethod
    def is_denial(p) -> bool:
        return p["claim_status"] == "4" or (p["paid"] <= 0 and (p["denied_amount"] or 0) > 0)

    def denial_rows(self, key):
        return [p for p in self.payments[key] if self.is_denial(p)]

    def paid(self, key) -> int:
        return sum(cents(p["paid"]) for p in self.payments[key])

    def appeal_deadline(self, key) -> dt.date:
        k = self.contracts[self.claims[key]["payor"]]
        last = max(p["remit_date"] for p in self.denial_rows(key))
        return last + dt.timedelta(days=k["appeal_days"] + (k["mailing_days"] or 0))

    def rate(self, payor, cpt, dos) -> int:
        rows = [f for f in self.fees[(payor, cpt, "")]
                if f["effective_from"] <= dos and (f["effective_to"] is None or dos <= f["effective_to"])]
        assert len(rows) == 1, (payor, cpt, dos, rows)
        return cents(rows[0]["allowed"])

    def expected(self, c) -> int:
        k = self.contracts[c["payor"]]
        if k["fee_basis"] == "% of Medicare":
            medicare = self.rate("Medicare", c["cpt"], c["dos"])
            unit = int((Decimal(medicare) * Decimal(str(k["pct_of_medicare"]))).quantize(Decimal(1), ROUND_HALF_UP))
        else:
            unit = self.rate(c["payor"], c["cpt"], c["dos"])
        return unit * c["units"]

    # one function per planted list: the set of claim lines meeting its condition
    def missed_filing(self):
        return {key for key, c in self.claims.items()
                if c["filed_date"] is None and self.filing_deadline(c) < self.as_of}

    def filed_late(self):
        return {key for key, c in self.claims.items()
                if c["filed_date"] is not None and c["filed_date"] > self.filing_deadline(c)}

    def filing_due_soon(self):
        return {key for key, c in self.claims.items()
                if c["filed_date"] is None and 0 <= (self.filing_deadline(c) - self.as_of).days <= 30}

    def underpaid(self):
        out = set()
        for key, c in self.claims.items():
            if self.paid(key) <= 0:
                continue  # unpaid or denied: not measured as an underpayment
            expected = self.expected(c)
            allowed = sum(cents(p["allowed"]) for p in self.payments[key])
            if expected - allowed > 100 and expected - allowed > 0.02 * expected:
                out.add(key)
        return out

    def unappealed_denials(self):
        return {key for key in self.claims
                if self.denial_rows(key) and self.paid(key) <= 0 and key not in self.appealed}

    def appeal_missed(self):
        return {key for key in self.unappealed_denials() if self.appeal_deadline(key) < self.as_of}

    def appeal_due_soon(self):
        return {key for key in self.unappealed_denials()
                if 0 <= (self.appeal_deadline(key) - self.as_of).days <= 14}

    def prompt_pay_overdue(self):
        out = set()
        for key, c in self.claims.items():
            if c["filed_date"] is None or self.paid(key) > 0 or self.denial_rows(key):
                continue
            ppd = self.contracts[c["payor"]]["prompt_pay_days"]
            if c["filed_date"] + dt.timedelta(days=ppd) < self.as_of:
                out.add(key)
        return out

    def notice_due_soon(self):
        out = set()
        for payor, k in self.contracts.items():
            if k["term_end"] is None:
                continue
            deadline = k["term_end"] - dt.timedelta(days=k["notice_days"] or 90)
            if 0 <= (deadline - self.as_of).days <= 60:
                out.add(payor)
        return out


# --- determinism and loading ----------------------------------------------------------

def test_same_seed_gives_identical_records(demo):
    again = generate_demo()
    assert again.records == demo.records
    assert again.planted == demo.planted
    assert again.settings == demo.settings


def test_different_seed_gives_different_records(demo):
    other = generate_demo(seed=8)
    assert other.records["Claims"] != demo.records["Claims"]
    assert other.records["Payments"] != demo.records["Payments"]


def test_generation_is_fast():
    start = time.perf_counter()
    generate_demo(seed=3)
    assert time.perf_counter() - start < 2.0


def test_every_table_converts_with_zero_errors(demo):
    frames = demo.frames()
    for name, table in m.TABLES.items():
        converted = typed_frame(table, demo.records[name])
        assert converted.errors == [], (name, converted.errors[:3])
        assert len(frames[name]) == len(demo.records[name])
        assert list(frames[name].columns[:-1]) == table.keys


def test_records_hold_excel_values(demo):
    allowed = (str, int, float, dt.date, type(None))
    for name, rows in demo.records.items():
        table = m.TABLES[name]
        money = {c.key for c in table.columns if c.kind == m.MONEY}
        for row in rows:
            assert set(row) == set(table.keys)
            for key, value in row.items():
                assert isinstance(value, allowed) and not isinstance(value, (bool, dt.datetime))
                if key in money and value is not None:
                    assert isinstance(value, float) and round(value, 2) == value
    assert all(isinstance(r["claim_status"], str) for r in demo.records["Payments"])


def test_settings(demo):
    s = demo.settings
    assert s["practice_name"] == "Riverside Family Medicine"
    assert s["as_of"] == DEFAULT_AS_OF
    assert set(s) == {x.key for x in m.SETTINGS}
    obj = demo.settings_obj()
    assert obj.as_of == pd.Timestamp(DEFAULT_AS_OF)
    assert (obj.filing_due_soon_days, obj.appeal_due_soon_days, obj.notice_due_soon_days) == (30, 14, 60)
    assert (obj.tolerance_amount, obj.tolerance_pct) == (100, 0.02)
    assert obj.medicare_payor == "Medicare"


# --- the practice looks like a practice -------------------------------------------------

def test_sizes_and_mix(demo):
    r = demo.records
    claims = {c["claim_id"] for c in r["Claims"]}
    assert 2300 <= len(claims) <= 2700
    assert 4000 <= len(r["Claims"]) <= 6000
    lines_per_claim = pd.Series([c["claim_id"] for c in r["Claims"]]).value_counts()
    assert set(lines_per_claim.unique()) == {1, 2, 3}
    types = {c["payor_type"] for c in r["Contracts"]}
    assert len(r["Contracts"]) == 8
    assert {"Medicare", "Medicare Advantage", "Medicaid", "Managed Medicaid", "Commercial", "Tricare"} <= types
    assert sum(c["payor_type"] == "Commercial" for c in r["Contracts"]) == 3
    assert 15 <= len({f["cpt"] for f in r["FeeSchedule"]}) <= 22
    assert all(c["claim_id"].startswith("RFM-") and len(c["claim_id"]) == 10 for c in r["Claims"])
    assert all(c["patient_id"][0] == "P" and c["patient_id"][1:].isdigit() for c in r["Claims"])
    dos = [c["dos"] for c in r["Claims"]]
    assert min(dos) >= dt.date(2025, 11, 1) and max(dos) <= DEFAULT_AS_OF
    assert all(d.weekday() < 5 for d in dos)
    assert len({(d.year, d.month) for d in dos}) == 12


def test_contract_terms(demo):
    k = {c["payor"]: c for c in demo.records["Contracts"]}
    medicare = k["Medicare"]
    assert (medicare["filing_limit"], medicare["filing_unit"], medicare["filing_clock"]) == (12, "months", "DOS")
    assert (medicare["appeal_days"], medicare["mailing_days"], medicare["prompt_pay_days"]) == (120, 5, 30)
    assert k["State Medicaid"]["filing_limit"] == 365
    commercial = [c for c in k.values() if c["payor_type"] == "Commercial"]
    assert {c["filing_limit"] for c in commercial} <= {90, 180}
    assert all(c["appeal_days"] == 180 and 30 <= c["prompt_pay_days"] <= 45
               and 0.10 <= c["prompt_pay_interest"] <= 0.18 for c in commercial)
    assert {c["fee_basis"] for c in commercial} == {"% of Medicare", "Fee Schedule"}
    assert all(1.10 <= c["pct_of_medicare"] <= 1.40 for c in commercial if c["fee_basis"] == "% of Medicare")
    for c in k.values():
        if c["term_end"] is not None:
            assert c["term_end"] > DEFAULT_AS_OF
            assert 60 <= c["notice_days"] <= 120


def test_fee_schedule_is_effective_dated(demo):
    fees = demo.records["FeeSchedule"]
    by_key = defaultdict(list)
    for f in fees:
        by_key[(f["payor"], f["cpt"])].append(f)
    changes = set()
    for (payor, _cpt), rows in by_key.items():
        rows.sort(key=lambda f: f["effective_from"])
        assert all(f["effective_to"] is not None for f in rows[:-1]) and rows[-1]["effective_to"] is None
        for old, new in zip(rows, rows[1:]):
            assert new["effective_from"] == old["effective_to"] + dt.timedelta(days=1)
            changes.add((payor, new["effective_from"]))
    assert ("Northstar Health", dt.date(2026, 7, 1)) in changes          # mid-year raise
    assert any(f["proposed_allowed"] for f in fees)
    medicare_2026 = {f["cpt"]: f["allowed"] for f in fees
                     if f["payor"] == "Medicare" and f["effective_from"] <= dt.date(2026, 6, 1)
                     and (f["effective_to"] is None or f["effective_to"] >= dt.date(2026, 6, 1))}
    assert 85 <= medicare_2026["99213"] <= 95 and 120 <= medicare_2026["99214"] <= 135


def test_charges_are_a_chargemaster_multiple_of_medicare(demo):
    book = Book(demo.records, DEFAULT_AS_OF)
    price = {}
    for c in demo.records["Claims"]:
        unit = cents(c["charge"]) // c["units"]
        assert price.setdefault(c["cpt"], unit) == unit          # one price per code
    for cpt, unit in price.items():
        medicare = book.rate("Medicare", cpt, dt.date(2026, 6, 1))
        assert 1.6 <= unit / medicare <= 2.2, cpt
        assert unit % 100 == 0                                    # whole dollars


def test_remittance_lines_balance(demo):
    for p in demo.records["Payments"]:
        charge, paid, pr = cents(p["charge"]), cents(p["paid"]), cents(p["patient_resp"])
        co, denied, allowed = cents(p["contractual_adj"]), cents(p["denied_amount"]), cents(p["allowed"])
        assert p["allowed"] is not None
        if Book.is_denial(p):
            assert paid == pr == co == allowed == 0 and denied == charge
            assert p["group_code"] in ("CO", "OA") and p["carc"]
        else:
            assert paid > 0 and paid + pr + co == charge and allowed == paid + pr and denied == 0
            assert p["group_code"] is None and p["carc"] is None     # no denial on the line


def test_every_payment_is_the_sum_of_its_adjustments_by_rule(demo):
    """Each Payments row's Patient Resp, Contractual Adj and Denied Amount are the sums of its
    Adjustments rows (same claim, line, payor, date, check, status) by rules.adjustment_kind;
    patient responsibility is a deductible, coinsurance or copay (PR-1/2/3)."""
    sums: dict = {}
    for a in demo.records["Adjustments"]:
        key = tuple(a[k] for k in m.REMIT_KEY)
        kind = rules.adjustment_kind(a["group_code"], a["reason"])
        if kind == rules.PATIENT:
            assert a["reason"] in ("1", "2", "3")
        for column, kinds in rules.SUMMARY.items():
            sums.setdefault(key, dict.fromkeys(rules.SUMMARY, 0))[column] += cents(a["amount"]) * (kind in kinds)
    assert sums
    for p in demo.records["Payments"]:
        key = tuple(p[k] for k in m.REMIT_KEY)
        got = sums.get(key, dict.fromkeys(rules.SUMMARY, 0))
        assert got == {c: cents(p[c]) for c in rules.SUMMARY}, key


def test_denials_appeals_and_unpaid_claims(demo):
    r = demo.records
    book = Book(r, DEFAULT_AS_OF)
    first = {}
    for p in sorted(r["Payments"], key=lambda p: p["remit_date"]):
        first.setdefault(p["claim_id"], p["remit_date"])
    denied_first = {p["claim_id"] for p in r["Payments"]
                    if Book.is_denial(p) and p["remit_date"] == first[p["claim_id"]]}
    assert 0.07 <= len(denied_first) / len(first) <= 0.11
    carcs = {f'{p["group_code"]}-{p["carc"]}' for p in r["Payments"] if Book.is_denial(p)}
    assert {"CO-16", "CO-197", "CO-50", "CO-18", "CO-27", "CO-96", "CO-97", "CO-4"} <= carcs
    assert any(p["claim_status"] == "4" for p in r["Payments"])
    outcomes = {a["outcome"] for a in r["Appeals"]}
    assert {"Overturned", "Upheld", "Pending"} <= outcomes
    for a in r["Appeals"]:
        key = (a["claim_id"], a["line"])
        assert book.denial_rows(key), key
        assert a["appeal_date"] <= book.appeal_deadline(key)          # appealed in time
        if a["outcome"] == "Overturned":
            assert book.paid(key) == cents(a["recovered"]) > 0
            assert any(p["remit_date"] > a["decision_date"] and p["paid"] > 0 for p in book.payments[key])
        else:
            assert book.paid(key) == 0 and a["recovered"] == 0
    unpaid_filed = [k for k, c in book.claims.items() if c["filed_date"] and not book.payments[k]]
    assert len(unpaid_filed) > 100


def test_ordinary_timing(demo):
    """Ordinary lines are filed 1-10 days after the visit and paid inside prompt pay."""
    book = Book(demo.records, DEFAULT_AS_OF)
    late = set(demo.planted.filed_late)
    for key, c in book.claims.items():
        if c["filed_date"] is None:
            continue
        assert c["filed_date"] <= DEFAULT_AS_OF
        if key not in late:
            assert 1 <= (c["filed_date"] - c["dos"]).days <= 10, key
        if book.payments[key]:
            first = min(p["remit_date"] for p in book.payments[key])
            ppd = book.contracts[c["payor"]]["prompt_pay_days"]
            assert 14 <= (first - c["filed_date"]).days <= ppd, key
    for p in demo.records["Payments"]:
        assert p["remit_date"] <= DEFAULT_AS_OF
    for key, c in book.claims.items():
        if c["filed_date"] is None and key not in set(demo.planted.missed_filing + demo.planted.filing_due_soon):
            assert (DEFAULT_AS_OF - c["dos"]).days <= 10, key


# --- planted problems: exactly these, nothing else ---------------------------------------

def test_planted_lines_exist_and_are_distinct(demo):
    keys = {(c["claim_id"], c["line"]) for c in demo.records["Claims"]}
    seen = set()
    for name, lines in demo.planted.as_dict().items():
        if name == "notice_due_soon":
            continue
        assert lines and lines == tuple(sorted(lines)), name
        assert set(lines) <= keys, name
        assert not seen & set(lines), name
        seen |= set(lines)
    assert (len(demo.planted.missed_filing), len(demo.planted.filed_late), len(demo.planted.filing_due_soon),
            len(demo.planted.underpaid), len(demo.planted.appeal_missed), len(demo.planted.appeal_due_soon),
            len(demo.planted.notice_due_soon), len(demo.planted.prompt_pay_overdue)) == (6, 3, 4, 12, 3, 3, 1, 4)


@pytest.mark.parametrize("name", [f for f in Planted.__dataclass_fields__])
def test_planted_is_exactly_the_lines_meeting_the_condition(case, name):
    demo, book = case
    assert getattr(book, name)() == set(getattr(demo.planted, name))


def test_filed_late_lines_were_denied_for_timely_filing(case):
    demo, book = case
    carc29 = {(p["claim_id"], p["line"]) for p in demo.records["Payments"] if p["carc"] == "29"}
    assert carc29 == set(demo.planted.filed_late)
    for key in demo.planted.filed_late:
        assert [(p["claim_status"], p["group_code"]) for p in book.payments[key]] == [("4", "CO")]


def test_other_unappealed_denials_are_far_from_their_deadline(case):
    demo, book = case
    planted = set(demo.planted.appeal_missed) | set(demo.planted.appeal_due_soon)
    for key in book.unappealed_denials() - planted:
        assert (book.appeal_deadline(key) - book.as_of).days > 14, key


def test_notice_due_soon_is_keystone(demo):
    assert demo.planted.notice_due_soon == ("Keystone Blue PPO",)
    k = {c["payor"]: c for c in demo.records["Contracts"]}["Keystone Blue PPO"]
    assert k["auto_renew"] == "Yes"
    assert k["term_end"] - dt.timedelta(days=k["notice_days"]) == dt.date(2026, 11, 30)


def test_underpaid_includes_old_rate_after_the_raise(demo):
    book = Book(demo.records, DEFAULT_AS_OF)
    old_rate = [key for key in demo.planted.underpaid
                if book.claims[key]["payor"] == "Northstar Health"
                and cents(book.payments[key][0]["allowed"])
                == book.rate("Northstar Health", book.claims[key]["cpt"], dt.date(2026, 6, 30))]
    assert len(old_rate) == 8
    assert all(book.claims[k]["dos"] >= dt.date(2026, 7, 1) for k in old_rate)


# --- large data --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def large():
    return generate_large(5000, seed=3)


def test_large_has_the_requested_lines_and_is_deterministic(large):
    assert len(large["Claims"]) == 5000
    again = generate_large(5000, seed=3)
    for name in m.TABLES:
        pd.testing.assert_frame_equal(large[name], again[name])
    assert not generate_large(5000, seed=4)["Claims"].equals(large["Claims"])


def test_large_frames_are_what_conversion_gives(large):
    for name, table in m.TABLES.items():
        converted = typed_frame(table, records_from_frame(table, large[name]))
        assert converted.errors == []
        pd.testing.assert_frame_equal(converted.frame, large[name])


def test_large_has_no_planted_problems(large):
    records = {name: records_from_frame(m.TABLES[name], f) for name, f in large.items()}
    book = Book(records, DEFAULT_AS_OF)
    for name in Planted.__dataclass_fields__:
        if name != "notice_due_soon":
            assert getattr(book, name)() == set(), name


def test_large_is_fast():
    start = time.perf_counter()
    frames = generate_large(50_000, seed=1)
    assert time.perf_counter() - start < 5.0
    assert len(frames["Claims"]) == 50_000
