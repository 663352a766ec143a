"""A PX_ formula leaves the optional text columns no formula reads (excel.convert.UNREAD:
a payor's claim and line control numbers, a check number, a payment's CPT, a source file)
unstripped: it only checks that each cell is text or empty. Two things must hold for that
to be safe:

- no formula's figures read those columns: any text in them gives the same result;
- reading a table that way keeps the same rows, finds the same errors and gives the same
  values in every other column as reading it whole (conversion.typed_columns), whatever
  the cells hold: white space, a number, NaN, a bool, a date, on rows otherwise blank.
"""
import copy
import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

from payorxl import model as m
from payorxl.conversion import table_from_grid
from payorxl.demo import generate_demo
from payorxl.excel import convert as cv, udfs

AS_OF = dt.datetime(2026, 6, 30)
ORDER = (m.CLAIMS, m.PAYMENTS, m.CONTRACTS, m.FEE_SCHEDULE, m.APPEALS)
FORMULAS = {
    "PX_DENIAL_RATE": lambda t: udfs.PX_DENIAL_RATE(t[0], t[1]),
    "PX_DENIAL_RATE by charges": lambda t: udfs.PX_DENIAL_RATE(t[0], t[1], None, None, "charges"),
    "PX_FILING_DEADLINE": lambda t: udfs.PX_FILING_DEADLINE(t[0], t[1], t[2], AS_OF),
    "PX_APPEAL_DEADLINE": lambda t: udfs.PX_APPEAL_DEADLINE(t[0], t[1], t[2], t[4], AS_OF),
    "PX_EXPECTED_ALLOWED": lambda t: udfs.PX_EXPECTED_ALLOWED(t[0], t[2], t[3], AS_OF),
    "PX_SCORECARD": lambda t: udfs.PX_SCORECARD(*t, AS_OF),
    "PX_AGING": lambda t: udfs.PX_AGING(*t, AS_OF),
    "PX_AGING by CPT": lambda t: udfs.PX_AGING(*t, AS_OF, "CPT"),
    "PX_WORKLIST": lambda t: udfs.PX_WORKLIST(*t, AS_OF),
}


def test_every_table_named_is_a_table_and_every_column_optional_text():
    assert set(cv.UNREAD) <= {t.name for t in m.INPUT_TABLES}
    for name, keys in cv.UNREAD.items():
        for key in keys:
            col = m.TABLES[name].column(key)
            assert col.kind == m.TEXT and not col.required, (name, key)


@pytest.fixture(scope="module")
def practice():
    return copy.deepcopy(generate_demo(claims=120).records)


def _grids(records):
    return [cv.excel_grid(t, records[t.name]) for t in ORDER]


def _scrambled(records, seed):
    """The practice with other text in every unread column: blanks, white space, other IDs."""
    r = random.Random(seed)
    out = copy.deepcopy(records)
    for name, keys in cv.UNREAD.items():
        for rec in out[name]:
            for key in keys:
                rec[key] = r.choice([None, "", "  ", f" X{r.randrange(10 ** 6)} ", "000123", "manual"])
    return out


@pytest.mark.parametrize("name", FORMULAS)
def test_no_formula_reads_the_unread_columns(practice, name):
    formula = FORMULAS[name]
    expected = formula(_grids(practice))
    assert not isinstance(expected, str), expected      # (a message would be a str)
    for seed in (1, 2):
        assert formula(_grids(_scrambled(practice, seed))) == expected


ODD_CELLS = [None, "", "   ", "\u00a0", " abc ", "abc", 123.0, 7.5, float("nan"), True,
             dt.datetime(2026, 1, 2), "\t1\n", pd.NaT, pd.NA]
TEXT_CELLS = [c for c in ODD_CELLS if c is None or isinstance(c, str)]


@pytest.mark.parametrize("table", [m.CLAIMS, m.PAYMENTS], ids=lambda t: t.name)
@pytest.mark.parametrize("seed", range(6))
def test_reading_unread_columns_keeps_the_rows_errors_and_values_of_reading_them(practice, table, seed):
    """Random rows of the practice, some left blank but for odd cells in the unread
    columns, and odd cells scattered over those columns (text and blanks only for seeds
    0-2, so that the columns are left unstripped): every row kept, every error
    (row, column, message) and every other column's value is the same either way; an
    unread column holds its cells as they came where reading them gives text."""
    r = random.Random(seed)
    grid = cv.excel_grid(table, practice[table.name])
    header, body = grid[0], [list(row) for row in grid[1:r.randrange(20, 60)]]
    unread = cv.UNREAD[table.name]
    at = [header.index(table.column(k).name) for k in unread]
    for row in body:
        if r.random() < 0.3:                     # a row blank but for the unread columns
            row[:] = [None] * len(row)
        for j in at:
            if r.random() < 0.5:
                row[j] = r.choice(ODD_CELLS if seed >= 3 else TEXT_CELLS)   # (text only: left unstripped)
    body.append([None] * len(header))            # and a blank row
    whole = table_from_grid(table, [header] + body, first_row=1)
    skimmed = table_from_grid(table, [header] + body, first_row=1, unread=unread)
    assert [(e.ref.row, e.ref.column, e.message) for e in skimmed.errors] == \
        [(e.ref.row, e.ref.column, e.message) for e in whole.errors]
    assert skimmed.rejected == whole.rejected
    assert skimmed.frame["_row"].tolist() == whole.frame["_row"].tolist()
    others = [c.key for c in table.columns if c.key not in unread]
    pd.testing.assert_frame_equal(skimmed.frame[others], whole.frame[others])
    for key in unread:
        read, kept = whole.frame[key].tolist(), skimmed.frame[key].tolist()
        cells = [row[header.index(table.column(key).name)] for row in body]
        only_text = all(c is None or type(c) is str for c in cells)   # else it is read whole, as before
        for row, a, b in zip(whole.frame["_row"], read, kept):
            cell = cells[row - 2]
            if isinstance(cell, str):
                assert a == (cell.strip() or table.column(key).default or ""), (row, cell)
                assert b == (cell if only_text else a), (row, cell)


def test_a_row_of_white_space_in_unread_columns_only_is_an_empty_row():
    header = [c.name for c in m.PAYMENTS.columns]
    row = {"Claim ID": "C1", "Line": 1.0, "Payor": "Acme", "Remit Date": dt.datetime(2026, 1, 5), "Paid": 10.0}
    blank_but = {"Check No": "  ", "Source": "\t", "Payor Claim No": None}
    grid = [header, [row.get(h) for h in header], [blank_but.get(h) for h in header]]
    for unread in ((), cv.UNREAD["Payments"]):
        converted = table_from_grid(m.PAYMENTS, grid, first_row=1, unread=unread)
        assert converted.errors == [] and converted.frame["_row"].tolist() == [2]
    grid[2][header.index("Source")] = "manual"           # text: not an empty row, so its blanks are errors
    for unread in ((), cv.UNREAD["Payments"]):
        converted = table_from_grid(m.PAYMENTS, grid, first_row=1, unread=unread)
        assert {e.ref.column for e in converted.errors} == {"Claim ID", "Line", "Payor", "Remit Date", "Paid"}
        assert converted.frame["_row"].tolist() == [2]


def test_a_nan_in_an_unread_column_is_the_formulas_error_as_before(practice):
    grids = _grids(practice)
    column = grids[1][0].index("Check No")
    grids[1][3][column] = float("nan")
    message = udfs.PX_SCORECARD(*grids, AS_OF)
    assert isinstance(message, str) and "Payments row 4" in message and "Check No is NaN" in message
    assert np.isnan(grids[1][3][column])       # (the grid itself untouched)
