"""Excel values -> typed engine frames: every bad cell is an error naming where it is."""
import datetime as dt
from decimal import Decimal

import pandas as pd

from payorxl import model as m
from payorxl.codec import to_cents
from payorxl.conversion import table_from_grid, typed_frame

HEADER = ["Claim ID", "Line", "Patient ID", "Payor", "CPT", "Date of Service", "Charge", "My own column"]


def claim(**over):
    row = {"Claim ID": "C1", "Line": 1.0, "Patient ID": "P1", "Payor": "Aetna", "CPT": "99213",
           "Date of Service": dt.datetime(2026, 3, 14), "Charge": 125.5}
    row.update(over)
    return row


def test_to_cents_rounds_half_up_exactly():
    assert to_cents(0.125) == 13       # Decimal('0.125') * 100 = 12.5 -> 13
    assert to_cents(2.675) == 268      # float 2.675 is 2.67499..., str() keeps '2.675'
    assert to_cents(-1.005) == -101
    assert to_cents(100) == 10000


def test_values_as_excel_sends_them():
    c = typed_frame(m.CLAIMS, [claim(CPT=99213.0, Units=None, Modifier=None)])
    assert c.errors == []
    row = c.frame.iloc[0]
    assert row["cpt"] == "99213"                   # a code typed as a number is text
    assert row["line"] == 1 and row["units"] == 1  # blank units -> default 1
    assert row["modifier"] == ""
    assert row["charge"] == 12550                  # $125.50 in cents
    assert row["dos"] == pd.Timestamp("2026-03-14")
    assert row["claim_type"] == "Primary" and row["frequency"] == "1"


def test_serial_number_in_a_date_column_is_a_date():
    # 46095 days after 1899-12-30 is 2026-03-14 (Excel serial)
    c = typed_frame(m.CLAIMS, [claim(**{"Date of Service": 46095.0})])
    assert c.frame.iloc[0]["dos"] == pd.Timestamp("2026-03-14")


def test_bad_cells_are_errors_with_sheet_row_column_value_and_fix():
    rows = [claim(), claim(**{"Claim ID": "C2", "Date of Service": "3/14/26 "}),
            claim(**{"Claim ID": "C3", "Units": -2}), claim(**{"Claim ID": "C4", "Charge": "$12"}),
            claim(**{"Claim ID": "C5", "Payor": None}), claim(**{"Claim ID": "C6", "Frequency": "9"})]
    c = typed_frame(m.CLAIMS, rows)
    assert list(c.frame["claim_id"]) == ["C1"]     # the good row is still computed
    assert c.rejected == {3, 4, 5, 6, 7}
    by_row = {e.ref.row: e for e in c.errors}
    assert by_row[3].ref.sheet == "Claims" and by_row[3].ref.column == "Date of Service"
    assert by_row[3].value == "3/14/26 " and "text, not a date" in by_row[3].message
    assert "re-type it as a date" in by_row[3].fix
    assert "below the minimum of 1" in by_row[4].message
    assert "Charge is text" in by_row[5].message
    assert by_row[6].message == "Payor is required and blank"
    assert "allowed values (1, 7, 8)" in by_row[7].message
    assert str(by_row[3]).startswith("Claims!row 3 [Date of Service]: Date of Service is text")


def test_patient_identifier_is_hidden_in_messages():
    c = typed_frame(m.CLAIMS, [claim(**{"Patient ID": dt.datetime(2026, 1, 1)})])
    (e,) = c.errors
    assert e.phi and "2026" not in e.format() and "hidden" in e.format()
    assert "2026-01-01" in e.format(show_phi=True)


def test_grid_with_user_columns_blank_rows_and_calculated_values():
    grid = [HEADER + ["Filing Deadline"],
            list(claim().values()) + ["mine", 46000.0],
            [None] * 8 + ["", 0.0],            # a blank table row: calculated cells do not make a record
            list(claim(**{"Claim ID": "C2"}).values()) + [None, None]]
    c = table_from_grid(m.CLAIMS, grid, first_row=1)
    assert c.errors == []
    assert list(c.frame["claim_id"]) == ["C1", "C2"]
    assert list(c.frame["_row"]) == [2, 4]    # Excel rows, for error references


def test_empty_grid_gives_typed_empty_frame():
    c = table_from_grid(m.PAYMENTS, [["Claim ID", "Line", "Payor", "Remit Date", "Paid"]])
    assert c.frame.empty and "paid" in c.frame and str(c.frame["remit_date"].dtype) == "datetime64[ns]"


def test_odd_numeric_types_convert_like_floats():
    from decimal import Decimal

    import numpy as np
    c = typed_frame(m.CLAIMS, [claim(Charge=Decimal("12.345"), Units=np.int64(2)),
                               claim(**{"Claim ID": "C2", "Charge": True})])
    assert c.frame.iloc[0]["charge"] == 1235 and c.frame.iloc[0]["units"] == 2
    (e,) = c.errors
    assert e.ref.row == 3 and "Charge is bool" in e.message


def test_column_wise_conversion_equals_cell_by_cell():
    """The vectorised path gives what the per-cell converters give, value for value."""
    from payorxl.codec import is_blank
    from payorxl.conversion import CONVERTERS
    values = [1.0, 2.675, -1.005, 0.125, 99999.995, None, "", 12, 3.3333333, 1e-9]
    col = m.PAYMENTS.column("allowed")
    c = typed_frame(m.PAYMENTS, [dict(claim_id="A", line=1, payor="X", remit_date=46000.0, paid=0, allowed=v)
                                 for v in values])
    expected = [None if is_blank(v) else CONVERTERS[col.kind](v, col) for v in values]
    assert [None if x is pd.NA else int(x) for x in c.frame["allowed"]] == expected


def test_numbers_in_a_text_column_read_as_before():
    """Numbers among text (a payor claim number or CPT typed as a number) are read a whole
    column at a time now, exactly as the per-cell reader read them: a whole float without
    its ".0", other numbers as str gives them; a NaN is still an error, TRUE and a date too,
    and None or white space is blank."""
    import numpy as np

    from payorxl.conversion import _column
    cells = ["A1", " b ", 12345.0, 12.5, float("nan"), None, "", 7, True, float("inf"), -0.0, 1e20,
             np.float64(3.0), dt.date(2020, 1, 1), "  ", -42, 2.0 ** 70]
    values, bad, blank = _column(cells, m.CLAIMS.column("payor_claim_no"))
    assert values.tolist() == ["A1", "b", "12345", "12.5", "", "", "", "7", "", "inf", "0",
                               "100000000000000000000", "3", "", "", "-42", "1180591620717411303424"]
    assert {i: b.message for i, b in bad.items()} == {
        4: "Payor Claim No is NaN (not a number), not a value", 8: "is TRUE/FALSE, expected text",
        13: "is a date, expected text"}
    assert np.flatnonzero(blank).tolist() == [5, 6, 14]


def test_dates_keep_the_day_as_written():
    """A date column's day is each cell's own year, month and day: a time of day, a time
    zone (one, or several mixed) and nanoseconds are dropped, never converted; a year
    outside 1900-2099 is an error, NaT and None are blank."""
    from payorxl.conversion import _column
    est = dt.timezone(dt.timedelta(hours=-5))
    cells = [dt.datetime(2025, 3, 4, 23, 59, 59), dt.datetime(2025, 3, 4, 23, 30, tzinfo=est),
             dt.datetime(2025, 3, 5, 0, 30, tzinfo=dt.timezone.utc), dt.date(2024, 2, 29),
             pd.Timestamp("2025-01-01 23:59:59.999999999"), pd.NaT, None, dt.datetime(1, 1, 1),
             dt.datetime(9999, 12, 31), dt.datetime(2099, 12, 31, 12), dt.datetime(1954, 12, 31)]
    values, bad, blank = _column(cells, m.CLAIMS.column("filed_date"))
    assert [str(v.date()) if not pd.isna(v) else None for v in values] == [
        "2025-03-04", "2025-03-04", "2025-03-05", "2024-02-29", "2025-01-01", None, None, None, None,
        "2099-12-31", "1954-12-31"]
    assert {i: b.message for i, b in bad.items()} == {
        7: "Filed Date is 01/01/1, outside the years payorxl reads (1900-2099)",
        8: "Filed Date is 12/31/9999, outside the years payorxl reads (1900-2099)"}
    assert blank.tolist() == [False] * 5 + [True, True] + [False] * 4
    one_zone = [dt.datetime(2025, 3, 4, 23, 30, tzinfo=est)] * 3        # one time zone throughout
    assert [str(v.date()) for v in _column(one_zone, m.CLAIMS.column("filed_date"))[0]] == ["2025-03-04"] * 3


# --- the whole-column fast paths, pinned against each cell read on its own -----------------

# Every character str.strip takes for white space (Unicode's White_Space and the four
# information separators \x1c-\x1f), and two it keeps (a zero-width space, NUL).
_SPACES = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", " ", "\x85", "\xa0",
           "\u1680", "\u2000", "\u2003", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
_KEPT = ["\u200b", "\x00"]


def _cells_read_one_by_one(cells, col):
    """What each cell reads as on its own: (value, error message or None, blank), by the
    per-cell rules (`is_blank`, the column's converter), as `_column` documents them: a
    NaN is an error, a blank takes the column's default, so does a bad cell."""
    from payorxl.codec import is_blank
    from payorxl.conversion import CONVERTERS, _Bad
    fill = ("" if col.default is None else col.default) if col.kind in (m.TEXT, m.CHOICE) else col.default
    out = []
    for v in cells:
        if isinstance(v, float) and v != v:
            out.append((fill, f"{col.name} is NaN (not a number), not a value", False))
        elif is_blank(v):
            out.append((fill, None, True))
        else:
            try:
                out.append((CONVERTERS[col.kind](v, col), None, False))
            except _Bad as b:
                out.append((fill, b.message, False))
    return out


def _as_read(cells, col):
    from payorxl.conversion import _column
    values, bad, blank = _column(cells, col)
    got = [None if v is pd.NaT or v is pd.NA else v for v in values.tolist()]
    return list(zip(got, [bad[i].message if i in bad else None for i in range(len(cells))], blank.tolist()))


def _expected(cells, col):
    return [(None if v is pd.NaT else v, e, b) for v, e, b in _cells_read_one_by_one(cells, col)]


def test_text_columns_strip_exactly_what_str_strip_strips():
    """A text column is stripped a whole column at a time; each cell reads as str.strip
    reads it: every Unicode space at either end goes, inner ones and the characters strip
    keeps stay, a cell of spaces only is blank (and a required one an error)."""
    assert all(c.strip() == "" for c in _SPACES) and all(c.strip() == c for c in _KEPT)
    words = ["A1", "a b", "x\x00y", "\x00", "Ünïcödé", "99213"]
    cells = [w for w in words]
    cells += [s + w for s in _SPACES for w in words[:2]] + [w + s for s in _SPACES for w in words[:2]]
    cells += [k + "A" + k for k in _KEPT] + [s * 3 for s in _SPACES[:3]]
    col = m.CLAIMS.column("payor_claim_no")
    assert [v for v, _, _ in _as_read(cells, col)] == [c.strip() for c in cells]   # str.strip per cell
    assert _as_read(cells, col) == _expected(cells, col)
    blank = [b for _, _, b in _as_read(cells, col)]
    assert blank == [c.strip() == "" for c in cells] and any(blank)
    # every cell text, none blank (the one-pass path), and the same with blanks among them
    no_blank = [c for c in cells if c.strip()]
    assert _as_read(no_blank, col) == _expected(no_blank, col)
    assert [v for v, _, _ in _as_read(no_blank, col)] == [c.strip() for c in no_blank]
    with_none = [None, *no_blank[:10], None, "", "\u3000", *no_blank[10:], None]
    assert _as_read(with_none, col) == _expected(with_none, col)
    # text and empty cells only (an optional column: the one-pass path too), and all empty
    text_or_none = [None, *no_blank[:10], None, *no_blank[10:], None]
    assert _as_read(text_or_none, col) == _expected(text_or_none, col)
    assert [b for _, _, b in _as_read(text_or_none, col)] == [c is None for c in text_or_none]
    assert _as_read([None] * 3, col) == _expected([None] * 3, col)
    c = typed_frame(m.CLAIMS, [claim(**{"Claim ID": "\u2003C1\xa0"}), claim(**{"Claim ID": "\x1c \u3000"})])
    assert c.frame["claim_id"].tolist() == ["C1"]
    assert [e.message for e in c.errors] == ["Claim ID is required and blank"]


def test_choice_columns_read_each_cell_as_on_its_own():
    """A choice column (each distinct text looked up once) reads every cell as `_choice`
    does: any case, any Unicode space at either end; a cell of spaces only is blank, any
    other text an error; the same whether every cell is text or some are not."""
    col = m.CLAIMS.column("claim_type")
    texts = ["Primary", "primary", " SECONDARY\xa0", "\u2003Primary", "Tertiary", "", "\u3000",
             "Primary\x00", "prim ary", "Secondary"]
    # distinct str objects for equal texts, as Excel sends them
    cells = ["".join(list(texts[i % len(texts)])) for i in range(200)]
    assert _as_read(cells, col) == _expected(cells, col)
    known = [t for t in cells if t.strip().lower() in {c.lower() for c in col.choices}]
    assert _as_read(known, col) == _expected(known, col)
    assert [v for v, _, _ in _as_read(known, col)] == [
        next(c for c in col.choices if c.lower() == t.strip().lower()) for t in known]
    mixed = [None, *known[:5], 3.0, True, None, *texts]
    assert _as_read(mixed, col) == _expected(mixed, col)


def test_a_code_column_read_through_its_distinct_texts_reads_each_cell_as_on_its_own():
    """A long text column of few distinct texts (a payor, a CPT: each cell a str of its
    own, as Excel sends them) is read through its distinct texts; every cell reads as on
    its own, the blank ones (None) take the default, and equal texts share one object
    afterwards; a cell of spaces only, or "" (python-calamine's empty cell), is blank. With a
    NaN, a number or a date among them it is read the usual way, which says what is wrong:
    the same reading either way."""
    from payorxl.conversion import _CODES_FROM, _column
    col = m.CLAIMS.column("payor")
    words = ["Aetna", " Aetna", "Aetna\xa0", "Medicare", "\u2003Blue Cross ", "aetna", "x\x00"]
    n = _CODES_FROM + 904
    cells = ["".join(list(words[i % len(words)])) for i in range(n)]      # a new str per cell
    assert _as_read(cells, col) == _expected(cells, col)
    values = _column(cells, col)[0].tolist()
    assert len({id(v) for v in values}) == len(set(values)) == 5          # Aetna, Medicare, Blue Cross, aetna, x\0
    with_none = [None if i % 97 == 0 else c for i, c in enumerate(cells)]
    assert _as_read(with_none, col) == _expected(with_none, col)
    assert sum(b for _, _, b in _as_read(with_none, col)) == len(range(0, n, 97))
    optional = m.CLAIMS.column("modifier")
    assert _as_read(with_none, optional) == _expected(with_none, optional)
    calamine = ["" if i % 89 == 0 else c for i, c in enumerate(cells)]
    assert _as_read(calamine, col) == _expected(calamine, col)
    assert _as_read(calamine, optional) == _expected(calamine, optional)
    for odd in ("   ", float("nan"), 99213.0, dt.datetime(2026, 1, 2), True, pd.NaT):
        mixed = cells[:]
        mixed[n // 2] = odd
        assert _as_read(mixed, col) == _expected(mixed, col), odd
    # a signalling NaN past the sample refuses the hash the distinct texts are found by: the
    # column is read the usual way, which reads a Decimal in a text column as its text
    # (found by a review's fuzzing: the factorisation raised)
    decimals = [Decimal("1")] * n
    decimals[_CODES_FROM // 4 + 7] = Decimal("sNaN")
    assert _column(decimals, col)[0].tolist()[_CODES_FROM // 4 + 7] == "sNaN"
    assert _as_read(decimals, col) == _expected(decimals, col)


def test_a_long_column_of_one_text_reads_each_cell_as_on_its_own():
    """A long column whose sample holds one text (a claim type, a place of service: most
    practices bill one) is read by comparing every cell with it, not hashing each; every
    cell still reads as on its own, in a text and a choice column alike: padded and other-case
    texts, a choice spelt in another case (its canonical spelling), and, past the sample, a
    different text, a cell of spaces, None, a number, NaN, pd.NA and an unknown choice,
    each read (or named) as on its own."""
    from payorxl.conversion import _CODES_FROM, _SAMPLE, _column
    n = _CODES_FROM + 700
    for col, word in ((m.CLAIMS.column("pos"), " 11 "), (m.CLAIMS.column("claim_type"), "primary"),
                      (m.CLAIMS.column("npp"), "No"), (m.CLAIMS.column("modifier"), "   ")):
        cells = ["".join(list(word)) for _ in range(n)]                    # a new str per cell
        read = _as_read(cells, col)
        assert read == _expected(cells, col), col.key
        values = _column(cells, col)[0].tolist()
        assert len({id(v) for v in values}) == 1                           # one object for the column
        assert values[0] == {"pos": "11", "claim_type": "Primary", "npp": "No", "modifier": ""}[col.key]
        for odd in ("12", "   ", None, 11.0, float("nan"), pd.NA, "Tertiary", " 11", "PRIMARY"):
            mixed = cells[:]
            mixed[_SAMPLE + 5] = odd
            assert _as_read(mixed, col) == _expected(mixed, col), (col.key, odd)


def test_a_long_column_of_few_decimal_amounts_reads_each_cell_as_to_cents():
    """Money as Decimals (Currency cells through pywin32), few distinct amounts over many
    cells (read in one vectorised step): every cell's cents are to_cents of its own Decimal
    (half cents up, 3 and 3.0000 alike); a NaN or signalling NaN among them is the same
    error as on its own."""
    from payorxl.conversion import _CODES_FROM
    col = m.PAYMENTS.column("paid")
    amounts = ["150.0000", "0.1250", "0.0050", "2.6750", "1.0050", "0.1249", "3", "3.0000", "-12.345",
               "9999999.995"]
    n = _CODES_FROM + 1000
    cells = [Decimal(amounts[i % len(amounts)]) for i in range(n)]
    read = _as_read(cells, col)
    assert read == _expected(cells, col)
    assert [v for v, _, _ in read[:len(amounts)]] == [to_cents(Decimal(a)) for a in amounts]
    assert read[5][0] == 12 and read[6][0] == read[7][0] == 300 and read[8][0] == -1235
    for odd in (Decimal("NaN"), Decimal("sNaN"), Decimal("1e30"), None):
        mixed = cells[:]
        mixed[7] = odd
        assert _as_read(mixed, col) == _expected(mixed, col), odd
    # (1E+30 among Decimals raised InvalidOperation before: to_cents cannot quantize it)
    assert _as_read([Decimal("1"), Decimal("1e30")], col) == _expected([Decimal("1"), Decimal("1e30")], col)


def test_a_long_column_of_zero_decimals_reads_each_cell_as_to_cents():
    """Money as Decimals that are nearly all zero (interest, sequestration: only the nonzero
    cells are converted): each cell reads as on its own, the few amounts among the zeros
    (half cents, negative, 0E-4, a NaN or signalling NaN, 1E+30, a float) included, the
    zeros and amounts wherever they sit: past the sample as well as in it."""
    from payorxl.conversion import _CODES_FROM, _SAMPLE
    col = m.PAYMENTS.column("interest")
    n = _CODES_FROM + 1000
    cells = [Decimal(0) / 10000 for _ in range(n)]          # Decimal('0') as pywin32 makes it
    for at, amount in ((3, "12.5"), (_SAMPLE + 7, "0.125"), (n - 1, "-3.005"), (n - 2, "0E-4")):
        cells[at] = Decimal(amount)
    read = _as_read(cells, col)
    assert read == _expected(cells, col)
    # worked by hand: $12.50, 12.5 cents rounds half up to 13, -$3.005 to -301 cents, 0E-4 is 0
    assert [read[i][0] for i in (0, 3, _SAMPLE + 7, n - 1, n - 2)] == [0, 1250, 13, -301, 0]
    for odd in (Decimal("NaN"), Decimal("sNaN"), Decimal("1e30"), Decimal("-0"), 4.25, None):
        for at in (5, n - 5):
            mixed = cells[:]
            mixed[at] = odd
            assert _as_read(mixed, col) == _expected(mixed, col), (odd, at)


def test_date_columns_with_blanks_read_each_cell_as_on_its_own():
    """A date column of dates and None (read in one pass) and with anything else among
    them (NaT, NaN, a year out of range, text: read the general way) reads every cell as
    `_date` does."""
    col = m.CLAIMS.column("filed_date")
    days = [dt.datetime(2025, 3, 4, 23, 59), dt.date(2024, 2, 29), pd.Timestamp("2025-01-01 23:59:59"),
            dt.datetime(2025, 3, 5, 0, 30, tzinfo=dt.timezone.utc), dt.datetime(1954, 12, 31)]
    for cells in (days, [None, *days, None, None], [None] * 4, [*days, pd.NaT, None],
                  [*days, float("nan")], [*days, None, dt.datetime(1, 1, 1)], [*days, "03/14/2026", None]):
        assert _as_read(cells, col) == _expected(cells, col), cells
    required = typed_frame(m.CLAIMS, [claim(), claim(**{"Date of Service": None})])
    assert [e.message for e in required.errors] == ["Date of Service is required and blank"]
