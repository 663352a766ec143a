"""The small helpers the engine's keys are built with: each must give exactly what the
plain, slower way gives."""
import random

import numpy as np
import pandas as pd

from payorxl.conversion import filled
from payorxl.engine.lines import _match_texts, distinct_counts, upper_already


def _every_character():
    return (chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF)


def test_no_characters_upper_case_begins_with_itself_and_none_is_nul():
    """What upper_already rests on: a character whose upper case is another text never
    begins that text with itself, and only NUL's upper case holds a NUL."""
    changed = [c for c in _every_character() if c.upper() != c]
    assert len(changed) > 1000                      # (a, é, ß, ŉ, ﬀ ... are among them)
    assert "ß" in changed and "ŉ" in changed and "ﬀ" in changed
    assert all(c.upper()[0] != c for c in changed)
    assert all("\x00" not in c.upper() for c in _every_character() if c != "\x00")
    assert "\x00".upper() == "\x00"


def test_upper_already_is_each_text_unchanged_by_upper():
    def one_by_one(texts):
        return all(t.upper() == t for t in texts)

    cases = [["RFM-000001", "123", ""], [], [""], ["C1", "c1"], ["ß"], ["STRASSE", "Straße"],
             ["ŉ"], ["ﬀ"], ["A\x00b"], ["A\x00B", "\x00"], ["Ǆ"], ["ǅ"], ["ΐ"], ["Σ", "σ", "ς"],
             ["İ"], ["ı"], ["99213", "J1100", "G0008"]]
    for texts in cases:
        assert upper_already(texts) == one_by_one(texts), texts
    rng = random.Random(29)
    pool = "AZ09-_ \x00aßŉﬀǅǄΐςΣİıÉé\u0345\u1e9e"
    for _ in range(3000):
        texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(0, 5))]
        assert upper_already(texts) == one_by_one(texts), texts


def test_match_texts_strip_and_upper_each_text():
    texts = [" c1 ", "C2", "\u2003rfm-9\xa0", "RFM-10", "Straße"]
    assert _match_texts(texts) == [t.strip().upper() for t in texts] == ["C1", "C2", "RFM-9", "RFM-10", "STRASSE"]
    upper = ["C1", "RFM-10", "123"]
    assert all(a is b for a, b in zip(_match_texts(upper), upper))   # nothing to change: the texts themselves


def test_distinct_counts_is_groupby_nunique():
    # by hand: group 0 holds items 5, 5, 7 (2 distinct); group 1 items -1, -1 (1); group 2 none
    assert distinct_counts(np.array([0, 0, 0, 1, 1]), 3, np.array([5, 5, 7, -1, -1])).tolist() == [2, 1, 0]
    assert distinct_counts(np.array([], dtype=np.int64), 2, np.array([], dtype=np.int64)).tolist() == [0, 0]
    rng = np.random.default_rng(29)
    for _ in range(50):
        n = int(rng.integers(1, 3000))
        group, items = rng.integers(0, 7, n), rng.integers(-1, int(rng.integers(1, 500)), n)
        expected = pd.Series(items).groupby(group).nunique().reindex(range(7), fill_value=0)
        assert distinct_counts(group, 7, items).tolist() == expected.tolist()


def test_filled_is_one_object_n_times():
    out = filled(5, "Line")
    assert out.dtype == object and out.tolist() == ["Line"] * 5
    assert len({id(v) for v in out}) == 1
    assert filled(0, "Line").tolist() == []


def test_claim_codes_are_one_code_space_over_the_tables_of_a_calculation():
    """with_claim_codes: equal codes exactly where the claim IDs are equal as lines are
    matched (surrounding blanks and case ignored), in any two of the tables; codes a
    frame carries are replaced, unless keep and every table has them."""
    from payorxl.engine.lines import CLAIM_CODE, frame_claim_codes, line_codes, with_claim_codes
    frames = {"Claims": pd.DataFrame({"claim_id": ["ab1", "X9", "ab1"], "line": [1, 1, 2]}),
              "Payments": pd.DataFrame({"claim_id": [" AB1", "zz", "x9"], "line": [2, 1, 1]}),
              "Appeals": pd.DataFrame({"claim_id": ["Ab1"], "line": [1]}),
              "Contracts": pd.DataFrame({"payor": ["Aetna"]})}
    coded = with_claim_codes(frames)
    claims, pay, appeals = (coded[n][CLAIM_CODE].tolist() for n in ("Claims", "Payments", "Appeals"))
    assert claims[0] == claims[2] == pay[0] == appeals[0]         # ab1, AB1, Ab1: one claim
    assert claims[1] == pay[2] != claims[0]                        # X9 and x9
    assert pay[1] not in claims                                    # zz: no claim of Claims
    assert CLAIM_CODE not in coded["Contracts"] and CLAIM_CODE not in frames["Claims"]   # (the frames given unchanged)
    # matching on the codes finds what matching on the texts finds
    assert [k.tolist() for k in line_codes(coded["Claims"], coded["Payments"])] == \
        [k.tolist() for k in line_codes(frames["Claims"], frames["Payments"])]
    assert frame_claim_codes(coded["Payments"]).tolist() == [0, 1, 2]   # numbered in order of first appearance
    assert frame_claim_codes(coded["Claims"]).tolist() == [0, 1, 0]
    # rows cut from coded frames keep their codes with keep; a table without codes has all coded again
    cut = {**coded, "Claims": coded["Claims"].iloc[1:].reset_index(drop=True)}
    assert with_claim_codes(cut, keep=True)["Claims"][CLAIM_CODE].tolist() == claims[1:]
    stale = {**coded, "Appeals": frames["Appeals"], "Claims": coded["Claims"].assign(**{CLAIM_CODE: [7, 7, 7]})}
    again = with_claim_codes(stale, keep=True)
    assert again["Claims"][CLAIM_CODE].tolist() == claims and again["Appeals"][CLAIM_CODE].tolist() == appeals
    assert with_claim_codes(stale)["Claims"][CLAIM_CODE].tolist() == claims         # without keep: always coded anew


def test_the_lines_a_calculation_returns_do_not_carry_the_claim_codes():
    from payorxl.demo import demo_settings, generate_large
    from payorxl.engine import calculate
    from payorxl.engine.lines import CLAIM_CODE
    frames = generate_large(50)
    assert CLAIM_CODE not in calculate(frames, demo_settings()).lines
    assert CLAIM_CODE not in calculate(frames, demo_settings(), parts=(), warnings=False,
                                       fields=("filing_status",)).lines


def test_texts_are_factorised_as_pandas_does_one_text_throughout_at_once():
    """factorized_texts gives pd.factorize's codes and distinct values for every column:
    one text throughout, one object (the quick way) or equal texts each its own object; one
    text at both ends and another between; a missing value; no cell; nothing but None."""
    from payorxl.engine.lines import factorized_texts
    one = "Primary"
    same_object = np.array([one] * 5000, dtype=object)
    equal_texts = np.array(["".join(list(one)) for _ in range(5000)], dtype=object)
    between = same_object.copy()
    between[2500] = "Secondary"
    missing = same_object.copy()
    missing[7] = None
    not_available = same_object.copy()
    not_available[2500] = pd.NA                          # (refuses a comparison: pandas codes it -1)
    for cells in (same_object, equal_texts, between, missing, not_available, np.array([], dtype=object),
                  np.array([None] * 3, dtype=object), np.array([one], dtype=object)):
        codes, distinct = factorized_texts(cells)
        want_codes, want_distinct = pd.factorize(cells)
        assert codes.dtype == want_codes.dtype and codes.tolist() == want_codes.tolist()
        assert distinct.dtype == object and distinct.tolist() == list(want_distinct)
