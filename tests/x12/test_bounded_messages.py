"""Every message the X12 readers make is bounded: an element of 1,000,000 characters in a
field a warning or an error quotes is quoted cut (segments.quoted / clipped), so no
message, fix or formatted line reaches 1,000 characters, and the message keeps its own
words after the quote (it is the quote that is cut, not the message)."""
from __future__ import annotations

import re

import pytest

from payorxl.x12 import X12Error, read_835, read_837
from payorxl.x12.segments import QUOTE_LIMIT, clipped, quoted
from x12_helpers import CLAIM_FILE, era, interchange, transaction

BIG = 1_000_000
LIMIT = 1000


def big(char: str) -> str:
    return char * BIG


def assert_bounded(warnings: list, expected_elements: set) -> None:
    assert {w.ref.column for w in warnings} >= expected_elements
    for w in warnings:
        for text in (w.message, w.fix, w.format(show_phi=True), str(w.as_dict(show_phi=True))):
            assert len(text) < LIMIT, text[:200]
        assert not w.message.endswith("…"), w.message[:200]   # the quote was cut, not the message
        assert w.value is None or len(str(w.value)) < LIMIT   # no 1 MB copy kept either
    assert sum("…" in w.message for w in warnings) >= len(expected_elements) - 1


def test_quoting_helpers_cut():
    assert quoted("ab") == "'ab'" and clipped("ab") == "ab"
    assert len(quoted(big("x"))) == QUOTE_LIMIT + 2 and quoted(big("x")).endswith("…'")
    assert len(clipped(big("x"))) == QUOTE_LIMIT


def test_835_warnings_quote_huge_elements_cut():
    text = era("105", [
        f"CLP*PCN1*{big('S')}*{big('9')}*105**12*PAYER77",
        f"DTM*232*{big('2')}",
        f"SVC*HC:99214*150*105**{big('u')}", "DTM*472*20240105",
        f"CAS*{big('G')}*45*45*{big('q')}",
    ], plb=[f"PLB*1234567893*20241231*{big('R')}"])
    text = re.sub(r"~\nSE\*\d+\*0001~", lambda _: f"~\nSE*{big('7')}*{big('c')}~", text)
    r = read_835(text)
    assert_bounded(r.warnings, {"CLP02", "CLP03", "DTM02", "SVC05", "CAS01", "CAS04", "PLB04",
                                "SE01", "SE02"})


def test_837_warnings_quote_huge_elements_cut():
    text = CLAIM_FILE.replace("BHT*0019*00*B1*20240110", f"BHT*0019*00*B1*{big('d')}") \
        .replace("CLM*PCN100*250***11:B:1", f"CLM*PCN100*{big('9')}***11:B:{big('f')}") \
        .replace("SV1*HC:36415*100*UN*2", f"SV1*HC:36415*{big('c')}*UN*{big('u')}") \
        .replace("DTP*472*D8*20240108", f"DTP*472*D8*{big('8')}") \
        .replace("GE*1*1", f"GE*{big('4')}*1").replace("IEA*1*000000001", f"IEA*{big('5')}*{big('6')}")
    # Two claims with the same 1,000,000-character CLM01: the duplicate warning names it.
    text = text.replace("PCN100", big("P")).replace("PCN200", big("P"))
    claims = read_837(text)
    assert_bounded(claims.attrs["warnings"], {"BHT04", "CLM02", "CLM05", "SV102", "SV104",
                                              "DTP03", "GE01", "IEA01", "IEA02"})
    assert any("more than once" in w.message for w in claims.attrs["warnings"])


@pytest.mark.parametrize("reader, kind", [(read_835, "835"), (read_837, "837")])
def test_errors_quote_huge_elements_cut(reader, kind):
    # ST01 is quoted by "this transaction is a ..., not an 835/837".
    with pytest.raises(X12Error) as info:
        reader(interchange(transaction(["BHT*0019"], kind=big("K"))))
    e = info.value
    assert len(str(e)) < LIMIT and len(e.message) < LIMIT and e.message.endswith(("remittance", "claim"))
    # ST02 is quoted by "the transaction that starts at segment 3 (ST ...) has no SE".
    text = interchange(transaction(["BHT*0019"], kind=kind, control=big("C")))
    text = text.replace(f"SE*3*{big('C')}~\n", "")
    with pytest.raises(X12Error, match="has no SE") as info:
        reader(text)
    assert len(str(info.value)) < LIMIT and len(info.value.message) < LIMIT
