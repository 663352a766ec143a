"""The tokenizer: separators read from the file, envelopes checked, and every unreadable
file reported as an X12Error naming the segment number, its id, what is wrong and the
fix."""
from __future__ import annotations

import pytest

from payorxl.errors import PayorxlError
from payorxl.x12 import Segments, X12Error, read_835, read_837, tokenize
from payorxl.x12.segments import load_text
from x12_helpers import era, interchange, isa, transaction

SMALL = era("80", ["CLP*A1*1*100*80**12*PCN1", "CAS*CO*45*20"])


def ids(text: str) -> list[str]:
    return [s.id for s in tokenize(text)]


def test_segments_are_numbered_from_one_in_file_order():
    segments = list(tokenize(SMALL))
    assert [s.number for s in segments] == list(range(1, len(segments) + 1))
    assert segments[0].id == "ISA" and segments[-1].id == "IEA"
    clp = next(s for s in segments if s.id == "CLP")
    assert clp.elements[:3] == ["CLP", "A1", "1"] and clp.get(7) == "PCN1" and clp.get(30) == ""


def test_separators_come_from_the_isa():
    text = SMALL.replace("*", "|").replace(":~", "^~").replace("~\n", "!\n")
    text = text.replace("|^|00501|", "|{|00501|")   # ISA11 repetition separator
    segments = Segments(text)
    d = segments.delimiters
    assert (d.element, d.component, d.segment, d.repetition, d.version) == \
        ("|", "^", "!", "{", "00501")
    assert [s.id for s in segments][:4] == ["ISA", "GS", "ST", "BPR"]


def test_4010_has_no_repetition_separator():
    text = interchange(transaction(["BPR*I*0*C*NON************20240115"]), version="00401",
                       gs_version="004010X091A1")
    d = Segments(text).delimiters
    assert d.repetition is None and d.version == "00401"


def test_terminator_without_newlines_and_with_crlf():
    compact = SMALL.replace("~\n", "~")
    crlf = SMALL.replace("~\n", "~\r\n")
    assert ids(compact) == ids(SMALL) == ids(crlf)


def test_newline_before_the_terminator():
    """TigerShark's sample puts each "~" at the start of the next line."""
    text = SMALL.replace("~\n", "\n~")
    assert ids(text) == ids(SMALL)


def test_newline_as_the_terminator():
    text = SMALL.replace("~\n", "\n")
    segments = Segments(text)
    assert segments.delimiters.segment == "\n"
    assert [s.id for s in segments] == ids(SMALL)


def test_file_starting_at_st_or_gs():
    body = SMALL.split("~\n")
    st_only = "~".join(body[2:-3]) + "~"
    assert ids(st_only)[0] == "ST" and ids(st_only)[-1] == "SE"
    gs_first = "~".join(body[1:-2]) + "~"
    segments = Segments(gs_first)
    assert segments.delimiters.has_isa is False and segments.delimiters.element == "*"
    assert [s.id for s in segments][0] == "GS"


def test_unpadded_isa_is_read_with_a_warning():
    text = SMALL.replace("SENDER         ", "SENDER").replace("          *00", " *00")
    warnings = []
    assert ids(text) == ids(SMALL)
    list(tokenize(text, warnings=warnings))
    assert any("not padded" in w.message for w in warnings)


def test_se_count_mismatch_is_a_warning_not_an_error():
    text = SMALL.replace("SE*10*0001", "SE*9*0001")
    warnings = []
    segments = list(tokenize(text, "x.835", warnings))
    assert segments[-1].id == "IEA"
    (w,) = warnings
    assert w.severity == "warning" and "SE01 says the transaction has 9 segments; it has 10" in w.message
    assert w.message.startswith("segment ") and "(SE)" in w.message


def test_last_segment_without_terminator_is_accepted():
    warnings = []
    assert ids(SMALL.rstrip("~\n")) == ids(SMALL)
    list(tokenize(SMALL.rstrip("~\n"), warnings=warnings))
    assert any("no segment terminator" in w.message for w in warnings)


# --- what stops the read -------------------------------------------------------------

def error_of(text, reader=read_835) -> X12Error:
    with pytest.raises(X12Error) as info:
        reader(text)
    assert isinstance(info.value, PayorxlError)
    return info.value


@pytest.mark.parametrize("text", ["", "   \n\r\n  ", "\ufeff"])
def test_empty_file(text):
    e = error_of(text)
    assert e.segment == 1 and "empty" in str(e) and "fix:" in str(e)


def test_truncated_segment_names_its_number_and_id():
    cut = SMALL[:SMALL.index("CAS*CO*45*20") + 8]   # "CAS*CO*4"
    e = error_of(cut)
    assert (e.segment, e.segment_id) == (11, "CAS")
    assert "segment 11 (CAS)" in str(e) and "truncated" in str(e) and "again" in e.fix


def test_truncated_isa():
    e = error_of(isa()[:60])
    assert (e.segment, e.segment_id) == (1, "ISA") and "truncated" in e.message


def test_wrong_separators_in_a_later_segment():
    text = SMALL.replace("GS*HP*SENDER*RECEIVER", "GS|HP|SENDER|RECEIVER")
    e = error_of(text)
    assert (e.segment, e.segment_id) == (2, "")
    assert "separator" in e.message and "'*'" in e.message


def test_wrong_separators_in_the_isa():
    e = error_of(SMALL.replace("*P*:~", "*P*:A", 1))
    assert e.segment == 1 and e.segment_id == "ISA" and "wrong separators" in e.message


@pytest.mark.parametrize("data", [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01",
                                  b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
                                  bytes(range(256))])
def test_binary_garbage_is_not_x12(data):
    e = error_of(data)
    assert e.segment == 1 and "not an X12 file" in e.message and "binary" in e.message


def test_binary_data_inside_an_x12_file():
    text = SMALL.replace("CLP*A1", "CLP*A\x001")
    e = error_of(text)
    assert e.segment == 10 and "binary" in e.message


def test_text_that_is_not_x12():
    e = error_of("Patient,Charge\nSmith,100\n")
    assert e.segment == 1 and "not an X12 file" in e.message


def test_missing_se():
    text = SMALL.replace("SE*10*0001~\n", "")
    e = error_of(text)
    assert e.segment_id == "GE" and "has no SE" in e.message and "segment 3" in e.message


def test_missing_se_at_the_end_of_a_file_without_envelope():
    body = SMALL.split("~\n")
    e = error_of("~".join(body[2:-4]) + "~")
    assert "no SE" in e.message and e.segment == 9 and e.segment_id == "CAS"


def test_missing_iea():
    text = SMALL.replace("IEA*1*000000001~\n", "")
    e = error_of(text)
    assert "no IEA" in e.message and e.segment_id == "GE"


def test_new_st_before_se():
    text = interchange(transaction(["BPR*I*0*C*NON************20240115"])[:-1],
                       transaction(["BPR*I*0*C*NON************20240115"], control="0002"))
    e = error_of(text)
    assert e.segment_id == "ST" and e.segment == 5 and "has no SE" in e.message


def test_segment_outside_a_transaction():
    text = SMALL.replace("GE*1*1", "CLP*X*1*1*1~\nGE*1*1")
    e = error_of(text)
    assert e.segment_id == "CLP" and "outside a transaction" in e.message


def test_an_837_is_not_an_835_and_back():
    claim = interchange(transaction(["BHT*0019*00*1*20240102*1200*CH"], kind="837"),
                        kind="837", gs_version="005010X222A1")
    e = error_of(claim)
    assert "not an 835" in e.message and e.segment == 3
    e = error_of(SMALL, read_837)
    assert "not an 837" in e.message and e.segment == 3


def test_load_text_from_path_and_bytes(tmp_path):
    path = tmp_path / "remit.835"
    path.write_bytes(SMALL.encode())
    assert load_text(path) == (SMALL, "remit.835")
    assert load_text(str(path)) == (SMALL, "remit.835")
    assert load_text(SMALL.encode("latin-1"))[0] == SMALL
    assert load_text(SMALL.encode("utf-16"))[0] == SMALL
    e = error_of(str(tmp_path / "missing.835"))
    assert "does not exist" in e.message
    assert read_835(path).source == "remit.835"
