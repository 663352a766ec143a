"""benchmarks/udf_bench.py measures a formula on lists like the ones Excel hands it: every
cell an object of its own (`as_sent`), and new objects for every call (`sent_again`). A
str, datetime or Decimal keeps its hash once worked out, so a call timed on objects that
an earlier call hashed is cheaper than any call from Excel (session 30 found that this
had made a slower way of reading Decimal money look faster). These tests keep the
benchmark honest: the copies are equal cell for cell, and no cell that can carry a hash
is an object of the original."""
import datetime as dt
from decimal import Decimal

from script_helpers import load_script


def _bench():
    return load_script("benchmarks/udf_bench.py")


GRID = [["Claim ID", "Payor", "Charge", "Paid", "Date of Service", "Units", "Modifier"],
        ["CLM0001", "Aetna Choice PPO", 150.0, Decimal("120.5000"), dt.datetime(2026, 3, 4), 1.0, None],
        ["CLM0002", "Aetna Choice PPO", -0.0, Decimal("-0.0100"), dt.datetime(2026, 3, 5), 2.0, ""],
        ["CLM0003", "Medicare", 99.99, Decimal("1E+3"), dt.datetime(2026, 3, 6, 14, 30), 1.0, "25"]]


def test_every_call_gets_new_objects_equal_to_the_old():
    bench = _bench()
    first = bench.sent_again([GRID])[0]
    again = bench.sent_again([first])[0]
    for grid in (first, again):
        assert grid == GRID
        for row, original in zip(grid[1:], GRID[1:]):
            for new, old in zip(row, original):
                assert type(new) is type(old)
                if isinstance(old, Decimal):
                    assert str(new) == str(old)                 # the same digits: 120.5000, 1E+3
                if isinstance(old, (str, float, dt.datetime, Decimal)) and len(str(old)) > 1:
                    assert new is not old, old                  # (a one-character str is Python's shared one)
    assert str(first[2][2]) == "-0.0"                           # -0.0 stays -0.0
    assert all(a is not b for a, b in zip(first[1], again[1]) if a is not None and a != "")


def test_currency_money_is_a_new_decimal_per_cell():
    """`currency` turns every money cell into a Decimal as pywin32 gives a cell formatted as
    Currency (Decimal(int64) / 10000: 12.5 as Decimal('12.5')), each an object of its own."""
    bench = _bench()
    from payorxl import model as m
    from payorxl.excel import convert as cv
    claims = cv.excel_grid(m.CLAIMS, [dict(claim_id="C1", line=1, patient_id="P", payor="Aetna", cpt="99213",
                                           charge=12.5, dos=dt.date(2026, 1, 2)),
                                      dict(claim_id="C2", line=1, patient_id="P", payor="Aetna", cpt="99213",
                                           charge=12.5, dos=dt.date(2026, 1, 2))])
    money = claims[0].index(m.CLAIMS.column("charge").name)
    decimal = bench.currency([claims, [[]], [[]], [[]], [[]]])[0]
    cells = [row[money] for row in decimal[1:]]
    assert [str(c) for c in cells] == ["12.5", "12.5"] and cells[0] is not cells[1]
    # pywin32's own construction, worked by hand: 232 dollars is 2,320,000 ten-thousandths
    assert [str(bench.pywin32_currency(v)) for v in (232.0, 101.14, 0.0, -3.5)] == ["232", "101.14", "0", "-3.5"]
