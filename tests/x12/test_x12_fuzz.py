"""Whatever text arrives, the readers either return frames or raise X12Error — never
another exception. Two strategies: arbitrary text (mostly rejected at the door) and
text made of real segment ids with random elements (which reaches the loops)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from payorxl.x12 import X12Error, balance_835, match_payments, read_835, read_837, to_payments
from x12_helpers import isa

SETTINGS = settings(max_examples=int(__import__("os").environ.get("X12_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

IDS_835 = ["BPR", "TRN", "DTM", "N1", "REF", "LX", "CLP", "CAS", "NM1", "MOA", "MIA", "SVC",
           "AMT", "LQ", "PLB", "QTY", "TS3"]
IDS_837 = ["BHT", "HL", "SBR", "NM1", "CLM", "HI", "LX", "SV1", "DTP", "REF", "PAT", "DMG"]
element = st.one_of(
    st.sampled_from(["", "1", "4", "22", "-5.25", "100", "HC:99213:25", "HC>1", "CO", "PR",
                     "OA", "45", "6R", "B6", "HE", "472", "D8", "RD8", "20240101",
                     "20240101-20240105", "20241399", "L6:X", "WO", "=1+2", "22", "23", "20",
                     "1e9", "NaN", "99999999999999999999", ":", "::", "S", "ABK:E119", "BK"]),
    st.text(alphabet=st.characters(blacklist_characters="*~\x00"), max_size=8))


def segment(ids):
    return st.builds(lambda sid, els: "*".join([sid, *els]), st.sampled_from(ids),
                     st.lists(element, max_size=20))


def document(ids, kind):
    def build(segments, envelope, count):
        body = [f"ST*{kind}*0001", *segments, f"SE*{count}*0001"]
        if envelope:
            body = [isa(), "GS*HP*A*B*20240101*1200*1*X*005010X221A1", *body, "GE*1*1",
                    "IEA*1*000000001"]
        return "~".join(body) + "~"
    return st.builds(build, st.lists(segment(ids), max_size=40), st.booleans(),
                     st.integers(0, 50))


def read_all_835(text):
    try:
        r = read_835(text)
    except X12Error:
        return
    payments = to_payments(r)
    balance_835(r)
    match_payments(payments, payments.assign(dos=payments["service_date"]))


def read_all_837(text):
    try:
        claims = read_837(text)
    except X12Error:
        return
    match_payments(claims.assign(service_date=claims["dos"]), claims)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    read_all_835(text)
    read_all_837(text)


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data):
    read_all_835(data)


@SETTINGS
@given(st.text(max_size=200), st.sampled_from(["ISA", "ST*835*1~", "GS*", "ST*837*1~"]))
def test_text_starting_like_x12(tail, head):
    read_all_835(head + tail)
    read_all_837(head + tail)


@SETTINGS
@given(document(IDS_835, "835"))
def test_structured_835(text):
    read_all_835(text)


@SETTINGS
@given(document(IDS_837, "837"))
def test_structured_837(text):
    read_all_837(text)
