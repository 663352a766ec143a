"""The public sample files in ../shared/data/x12: every 835 read, its totals checked
against arithmetic done here by hand (splitting segments in a few lines, not with the
reader), and balancing failures reported exactly where SOURCES.tsv or that arithmetic
says the file does not balance. The 837 samples are spot-checked value by value."""
from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation

import pandas as pd
import pytest

from payorxl import model as m
from payorxl.x12 import balance_835, read_835, read_837, to_payments
from payorxl.x12.claims837 import NO_PATIENT_ID
from x12_helpers import SAMPLES

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"sample X12 files not found in {SAMPLES} (the shared data "
                                 f"folder next to the repository)")


def sources() -> dict[str, str]:
    with open(SAMPLES / "SOURCES.tsv", newline="") as f:
        return {row["file"]: row["note"] or "" for row in csv.DictReader(f, delimiter="\t")}


def files(kind: str) -> list[str]:
    if not SAMPLES.is_dir():
        return []
    names = sorted(sources())
    return [n for n in names if ("_837" in n or n.endswith(".837")) == (kind == "837")]


def sample(part: str):
    """The one sample file whose name contains `part`."""
    (name,) = [n for n in sources() if part in n]
    return SAMPLES / name


def dec(text: str) -> Decimal:
    """An amount as the file has it; text that is not a number counts as 0, as the
    reader does (with a warning)."""
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def hand_arithmetic(text: str) -> dict:
    """Per ST, by hand: BPR02, sum of CLP04, sum of PLB amounts, and whether every claim
    and service line balances. All sample files end segments with "~"."""
    sep = text[3] if text.startswith("ISA") else text[2]
    segments = [s.strip().split(sep) for s in text.split("~") if s.strip()]
    out, st, claim, line = {}, 0, None, None

    def el(s, i):
        return s[i] if i < len(s) else ""

    def close():
        if line is not None and line["charge"] - line["cas"] != line["paid"]:
            out[st]["lines_balance"] = False
        if claim is not None and claim["charge"] - claim["cas"] != claim["paid"]:
            out[st]["claims_balance"] = False

    for s in segments:
        if s[0] == "ST":
            st += 1
            out[st] = dict(bpr=None, clp=Decimal(0), plb=Decimal(0), claims_balance=True,
                           lines_balance=True, n_claims=0, n_lines=0)
            claim = line = None
        elif s[0] == "BPR":
            out[st]["bpr"] = dec(el(s, 2))
        elif s[0] == "CLP":
            close()
            line = None
            claim = dict(charge=dec(el(s, 3)), paid=dec(el(s, 4)), cas=Decimal(0))
            out[st]["clp"] += claim["paid"]
            out[st]["n_claims"] += 1
        elif s[0] == "SVC":
            if line is not None and line["charge"] - line["cas"] != line["paid"]:
                out[st]["lines_balance"] = False
            line = dict(charge=dec(el(s, 2)), paid=dec(el(s, 3)), cas=Decimal(0))
            out[st]["n_lines"] += 1
        elif s[0] == "CAS":
            total = sum(dec(el(s, i)) for i in range(3, 20, 3))
            claim["cas"] += total
            if line is not None:
                line["cas"] += total
        elif s[0] in ("PLB", "SE", "LX"):
            close()
            claim = line = None
            if s[0] == "PLB":
                out[st]["plb"] += sum(dec(el(s, i)) for i in range(4, 15, 2)
                                      if el(s, i - 1))
    return out


def cents(amount: Decimal) -> int:
    return int(amount * 100)


@pytest.mark.parametrize("name", files("835"))
def test_835_totals_match_hand_arithmetic(name):
    text = (SAMPLES / name).read_text()
    hand = hand_arithmetic(text)
    r = read_835(SAMPLES / name)
    assert list(r.checks["st"]) == list(hand)
    for st, h in hand.items():
        check = r.checks[r.checks["st"] == st].iloc[0]
        assert check["bpr_amount"] == cents(h["bpr"])
        claims = r.claims[r.claims["st"] == st]
        assert len(claims) == h["n_claims"]
        assert int(claims["paid"].fillna(0).sum()) == cents(h["clp"])
        assert int(r.plb.loc[r.plb["st"] == st, "amount"].fillna(0).sum()) == cents(h["plb"])
        assert (r.service_lines["st"] == st).sum() == h["n_lines"]


@pytest.mark.parametrize("name", files("835"))
def test_835_balancing_failures_exactly_where_expected(name):
    note = sources()[name].lower()
    hand = hand_arithmetic((SAMPLES / name).read_text())
    unbalanced_st = {st for st, h in hand.items() if h["clp"] - h["plb"] != h["bpr"]}
    hand_unbalanced = bool(unbalanced_st) or any(
        not (h["claims_balance"] and h["lines_balance"]) for h in hand.values())
    says_unbalanced = "not balance" in note
    assert says_unbalanced == hand_unbalanced, "SOURCES.tsv and the arithmetic disagree"

    failures = balance_835(read_835(SAMPLES / name))
    transaction = failures[failures["level"] == "transaction"]
    assert set(transaction["st"]) == unbalanced_st
    claim_failures = set(failures.loc[failures["level"] == "claim", "st"])
    line_failures = set(failures.loc[failures["level"] == "line", "st"])
    assert claim_failures == {st for st, h in hand.items() if not h["claims_balance"]}
    assert line_failures == {st for st, h in hand.items() if not h["lines_balance"]}
    assert failures.empty == (not (says_unbalanced or hand_unbalanced))


@pytest.mark.parametrize("name", files("835"))
def test_835_payments_add_up_to_the_claims_paid(name):
    r = read_835(SAMPLES / name)
    payments = to_payments(r, source_name=name)
    assert list(payments.columns[:len(m.PAYMENTS.keys)]) == m.PAYMENTS.keys
    assert int(payments["paid"].fillna(0).sum()) == int(r.claims["paid"].fillna(0).sum())
    assert (payments["source"] == name).all()
    assert payments["line"].notna().all() and (payments["line"] >= 1).all()


def test_notes_in_sources_hold():
    """What SOURCES.tsv says of particular files."""
    nevada = read_835(sample("nevada_medicaid"))
    assert len(nevada.checks) == 3
    third = nevada.checks.iloc[2]
    assert third["bpr_amount"] == 181227 and not (nevada.claims["st"] == 3).any()
    assert (nevada.plb["st"] == 3).sum() == 6

    medicare = read_835(sample("medicare-part-a"))
    assert medicare.plb["amount"].tolist() == [-127]
    assert balance_835(medicare).empty

    denied = read_835(sample("mult_loops"))
    assert denied.claims["status"].tolist() == ["4"]
    assert to_payments(denied)["paid"].sum() == 0

    no_envelope = read_835(sample("blue_cross_nc_sample"))
    assert no_envelope.checks["version"].tolist() == [""]
    assert no_envelope.checks["trace_number"].tolist() == ["02790758"]

    tiger = read_835(sample("835-example"))
    assert tiger.checks["release"].tolist() == ["4010"]
    assert tiger.service_lines["cpt"].tolist() == ["88888", "88888"]
    assert tiger.plb["reason"].tolist() == ["WO"]


def test_secondary_payment_sample_reads_a_mismatched_component_separator():
    r = read_835(sample("secondary-payment"))
    assert r.service_lines["cpt"].tolist() == ["12345", "66543"]
    assert r.service_lines["modifiers"].tolist() == ["26", "26"]
    assert any("component separator" in w.message for w in r.warnings)


def test_837_example1_lines():
    claims = read_837(sample("demo.example1.837"))
    assert claims["claim_id"].tolist() == ["26463774"] * 4
    assert claims["line"].tolist() == [1, 2, 3, 4]
    assert claims["cpt"].tolist() == ["99213", "87070", "99214", "86663"]
    assert claims["charge"].tolist() == [4000, 1500, 3500, 1000]
    assert claims["dos"].tolist() == [pd.Timestamp("2006-10-03")] * 2 + [pd.Timestamp("2006-10-10")] * 2
    assert (claims["payor"] == "KEY INSURANCE COMPANY").all()
    assert (claims["filed_date"] == pd.Timestamp("2006-10-15")).all()
    assert (claims["diagnoses"] == "0340,V7389").all()
    # The patient is a dependent (HL 23) with no member id of their own: never CLM01
    # ("26463774", the claim's ID) as the patient's; the placeholder, and a warning.
    assert (claims["patient_id"] == NO_PATIENT_ID).all()
    assert claims["charge"].sum() == claims["claim_charge"].iloc[0]


def test_837_example7_subscriber_is_patient_and_modifiers():
    claims = read_837(sample("demo.example7.837"))
    assert claims["patient_id"].tolist() == ["111222333A"] * 2
    assert claims["cpt"].tolist() == ["E1390", "E0431"]
    assert claims["modifier"].tolist() == ["RR", "RR"]
    assert claims["dos"].tolist() == [pd.Timestamp("2005-03-21")] * 2
    assert claims["through_date"].isna().all()  # RD8 with the same start and end


def test_837_cob_example_keeps_the_claims_own_payer():
    """SBR*S and NM1*IL after CLM describe the other payer (loop 2320/2330), not this
    claim: the claim stays Primary to KEY INSURANCE COMPANY."""
    claims = read_837(sample("demo.cob.example3.A.837"))
    assert claims["claim_type"].tolist() == ["Primary"] * 3
    assert claims["payor"].unique().tolist() == ["KEY INSURANCE COMPANY"]
    assert claims["diagnoses"].iloc[0] == "4779,2724,2780,53081"


def test_837_multiple_st_and_rd8_ranges():
    claims = read_837(sample("x12_multiple_st"))
    assert claims["st"].tolist() == [1, 1, 2, 2]
    assert claims["payor"].tolist() == ["HEALTH INSURANCE COMPANY", "HEALTH INSURANCE COMPANY TWO",
                                        "HEALTH INSURANCE COMPANY", "AN INSURANCE COMPANY"]
    assert claims["through_date"].iloc[0] == pd.Timestamp("2005-03-25")
    assert claims["dos"].iloc[0] == pd.Timestamp("2005-03-14")
    assert claims["diagnoses"].iloc[0] == "8901,87200,5559"
    assert any("more than once" in w.message for w in claims.attrs["warnings"])


@pytest.mark.parametrize("name", files("837"))
def test_every_837_sample_reads_to_the_claims_table(name):
    claims = read_837(SAMPLES / name)
    assert list(claims.columns[:len(m.CLAIMS.keys)]) == m.CLAIMS.keys
    assert len(claims) > 0
    assert claims["dos"].notna().all() and claims["charge"].notna().all()
    assert claims["dos"].dtype == "datetime64[ns]" and str(claims["charge"].dtype) == "Int64"
