"""Money as Excel sends it from currency-formatted cells: on Windows, pywin32 turns a
Currency cell into a ``decimal.Decimal`` (four decimals), so a PX_ formula over such a
table gets Decimals where a plain number cell gives floats. The column-wise conversion
(one vectorised step for the whole column, conversion._column) must give the very same
figures as floats do, and round a Decimal with more than two decimals half up exactly as
codec.to_cents does."""
import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from excel_helpers import ALL, AS_OF, CLAIMS, PAYMENTS, SETTINGS
from payorxl import model as m
from payorxl.codec import decimal_cents, to_cents
from payorxl.conversion import table_from_grid
from payorxl.excel import convert as cv
from payorxl.excel.udfs import (
    PX_AGING,
    PX_APPEAL_DEADLINE,
    PX_DENIAL_RATE,
    PX_EXPECTED_ALLOWED,
    PX_FILING_DEADLINE,
    PX_SCORECARD,
    PX_WORKLIST,
)

MONEY = {t.name: [i for i, c in enumerate(t.columns) if c.kind == m.MONEY] for t in m.INPUT_TABLES}


def as_currency(grid, table):
    """The table as Excel sends it when the money columns are formatted as Currency: each
    money cell a Decimal as pywin32 makes it, Decimal(int64 ten-thousandths) / 10000
    (Decimal("150"), Decimal("12.5"))."""
    money = MONEY[table.name]
    return [grid[0]] + [[Decimal(round(v * 10000)) / 10000 if i in money and isinstance(v, float) else v
                         for i, v in enumerate(row)] for row in grid[1:]]


def currency_tables():
    return tuple(as_currency(g, t) for g, t in zip(ALL, (m.CLAIMS, m.PAYMENTS, m.CONTRACTS,
                                                         m.FEE_SCHEDULE, m.APPEALS)))


def test_currency_cells_arrive_as_decimals():
    claims, payments, *_ = currency_tables()
    charge = m.CLAIMS.headers.index("Charge")
    cell = claims[1][charge]
    assert isinstance(cell, Decimal) and cell == Decimal("150.0000") and str(cell) == "150"   # as pywin32 makes it
    assert {type(v) for r in payments[1:] for i, v in enumerate(r) if i in MONEY["Payments"]} <= {Decimal, type(None)}


@pytest.mark.parametrize("formula, args", [
    (PX_SCORECARD, lambda t: (*t, SETTINGS)),
    (PX_WORKLIST, lambda t: (*t, SETTINGS)),
    (PX_AGING, lambda t: (*t, SETTINGS, "CPT")),
    (PX_FILING_DEADLINE, lambda t: (t[0], t[1], t[2], SETTINGS)),
    (PX_APPEAL_DEADLINE, lambda t: (t[0], t[1], t[2], t[4], SETTINGS)),
    (PX_EXPECTED_ALLOWED, lambda t: (t[0], t[2], t[3], SETTINGS)),
    (PX_DENIAL_RATE, lambda t: (t[0], t[1], None, None, "charges")),
])
def test_decimal_money_gives_exactly_the_float_result(formula, args):
    with_floats = formula(*args(ALL))
    with_decimals = formula(*args(currency_tables()))
    assert not isinstance(with_floats, str), with_floats       # a figure, not a message
    assert with_decimals == with_floats
    if isinstance(with_floats, list):                          # same types too (float dollars)
        assert [[type(v) for v in r] for r in with_decimals] == [[type(v) for v in r] for r in with_floats]


def test_decimals_and_floats_mixed_in_one_column():
    """Some cells formatted as Currency, some as General: one column, one result."""
    mixed = [row[:] for row in PAYMENTS]
    paid = m.PAYMENTS.headers.index("Paid")
    mixed[1][paid] = Decimal("80.0000")         # C1/1 Currency; C2/1 stays a float 64.0
    assert PX_SCORECARD(CLAIMS, mixed, *ALL[2:], SETTINGS) == PX_SCORECARD(*ALL, SETTINGS)


@pytest.mark.parametrize("amount", ["150.00", "0.10", "0.125", "-0.125", "2.675", "-2.675", "1.0050",
                                    "0.1249", "0.1250", "12.345", "0.005", "9999999.995",
                                    "0.12499999999999999999", "1234567.8949"])
def test_decimal_cents_round_half_up_as_to_cents(amount):
    value = Decimal(amount)      # Paid may be negative (a reversal)
    converted = table_from_grid(m.PAYMENTS, [["Claim ID", "Line", "Payor", "Remit Date", "Paid"],
                                             ["C1", 1.0, "Acme", dt.datetime(2026, 3, 2), value]])
    assert converted.errors == []
    assert int(converted.frame["paid"].iloc[0]) == to_cents(value)
    assert decimal_cents(np.array([value], dtype=object))[0] == to_cents(value)


def test_decimal_cents_is_to_cents_on_many_amounts():
    rng = np.random.default_rng(5)
    amounts = [Decimal(int(n)).scaleb(-int(p)) for n, p in zip(rng.integers(-10**9, 10**9, 20000),
                                                                rng.integers(0, 7, 20000))]
    amounts += [Decimal("0.125"), Decimal("2.675"), Decimal("-1.005"), Decimal("0.0050")]
    cents = decimal_cents(np.array(amounts, dtype=object))
    assert cents.tolist() == [to_cents(a) for a in amounts]


def test_bad_decimals_are_errors_like_bad_floats():
    header = ["Claim ID", "Line", "Patient ID", "Payor", "CPT", "Date of Service", "Charge"]
    row = ["C1", 1.0, "P1", "Acme", "99213", dt.datetime(2026, 3, 2)]
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("10000000.00")):
        c = table_from_grid(m.CLAIMS, [header, row + [bad]])
        (e,) = c.errors
        assert e.ref.column == "Charge" and c.frame.empty
    float_error = table_from_grid(m.CLAIMS, [header, row + [1e7]]).errors[0].message
    assert table_from_grid(m.CLAIMS, [header, row + [Decimal("10000000.0000")]]).errors[0].message == float_error


def test_as_of_setting_and_dates_with_a_time_of_day():
    """Dates converted in one step keep only the date, as Excel's date cells mean."""
    claims = [row[:] for row in CLAIMS]
    dos = m.CLAIMS.headers.index("Date of Service")
    claims[1][dos] = claims[1][dos] + dt.timedelta(hours=13, minutes=30)
    assert PX_SCORECARD(claims, *ALL[1:], AS_OF) == PX_SCORECARD(*ALL, AS_OF)


def test_a_date_column_out_is_each_cell_as_the_value_codec_gives_it():
    """Dates go out through their distinct values (each made a datetime once): still, cell
    for cell, what excel_value gives: the day alone for a date, the time kept for a date
    and time, "" for a missing one, whatever the order."""
    when = pd.Series(pd.to_datetime(["2026-01-02 15:30", None, "2026-01-02", "2025-12-31 23:59:59",
                                     "2026-01-02 15:30", None, "1954-10-06"] * 300, format="ISO8601"))
    for kind in (m.DATE, m.DATETIME):
        by_cell = [cv.excel_value(v, kind) for v in when]
        out = cv.excel_column(when, kind)
        assert out == by_cell and [type(v) for v in out] == [type(v) for v in by_cell]
    assert cv.excel_column(when, m.DATE)[:3] == [dt.datetime(2026, 1, 2), "", dt.datetime(2026, 1, 2)]
    assert cv.excel_column(when, m.DATETIME)[0] == dt.datetime(2026, 1, 2, 15, 30)


def test_table_out_matches_the_value_codec_cell_by_cell():
    """The column-wise results converter gives what excel_value gives, value and type."""
    results = pd.DataFrame({
        "money": [12550, -1, None], "rate": [0.5, None, 1 / 3], "when": [AS_OF, None, dt.datetime(2026, 1, 2, 15)],
        "text": ["a", "b", None], "count": [1, 2, 3]})
    results["money"] = results["money"].astype("Int64")
    fields = [m.Field("Money", "money", m.MONEY), m.Field("Rate", "rate", m.PERCENT),
              m.Field("When", "when", m.DATE), m.Field("Text", "text", m.TEXT),
              m.Field("Count", "count", m.COUNT), m.Field("Missing", "missing", m.TEXT)]
    by_cell = [[f.name for f in fields]] + [
        [cv.excel_value(results[f.key].iloc[i], f.kind) if f.key in results else "" for f in fields]
        for i in range(len(results))]
    out = cv.table_out(results, fields)
    assert out == by_cell
    assert [[type(v) for v in r] for r in out] == [[type(v) for v in r] for r in by_cell]
    assert out[1][:3] == [125.5, 0.5, AS_OF] and out[3][0] == "" and out[3][2] == dt.datetime(2026, 1, 2)


def test_a_column_of_decimals_is_converted_whole_exactly_as_to_cents():
    """Every Charge a Decimal (the whole-column path), half cents among them: each cell's
    cents are to_cents of the Decimal itself, as the cell-by-cell converter gives them."""
    header = ["Claim ID", "Line", "Patient ID", "Payor", "CPT", "Date of Service", "Charge"]
    amounts = [Decimal(a) for a in ("150.0000", "0.1250", "0.0050", "2.6750", "1.0050", "0.1249",
                                    "12.345", "9999999.995", "0.12499999999999999999", "0")]
    rows = [[f"C{i}", 1.0, "P1", "Acme", "99213", dt.datetime(2026, 3, 2), a] for i, a in enumerate(amounts)]
    whole = table_from_grid(m.CLAIMS, [header] + rows)
    assert not whole.errors
    assert whole.frame["charge"].tolist() == [to_cents(a) for a in amounts]
    one_by_one = [table_from_grid(m.CLAIMS, [header, r]).frame["charge"].iloc[0] for r in rows]
    assert whole.frame["charge"].tolist() == one_by_one
