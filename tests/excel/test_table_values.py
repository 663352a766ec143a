"""The PX_ formulas read their tables as pywin32 hands them over (excel.udfs.TableValues),
without xlwings' default converter's walk over every cell in Python (its clean pass: about
2 s for 100,000 claim lines, benchmarks/udf_args_bench.py). What that pass did, the
conversion must do itself: these tests hold every formula, on cells as pywin32 gives them
(tuples of tuples, dates with a time zone, Currency cells as Decimals, "" from a formula,
Excel errors as their codes), to its result on the same cells after xlwings' own clean
pass (compiled from the installed xlwings' source)."""
import copy
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from script_helpers import load_script

from payorxl import model as m
from payorxl.conversion import EXCEL_ERRORS
from payorxl.demo import generate_demo
from payorxl.excel import convert as cv, udfs

AS_OF = dt.datetime(2026, 6, 30)
ORDER = (m.CLAIMS, m.PAYMENTS, m.CONTRACTS, m.FEE_SCHEDULE, m.APPEALS)
NA, DIV0 = -2146826246, -2146826281             # #N/A and #DIV/0! as pywin32 gives them
FORMULAS = {
    "PX_DENIAL_RATE": lambda t: udfs.PX_DENIAL_RATE(t[0], t[1]),
    "PX_FILING_DEADLINE": lambda t: udfs.PX_FILING_DEADLINE(t[0], t[1], t[2], AS_OF),
    "PX_APPEAL_DEADLINE": lambda t: udfs.PX_APPEAL_DEADLINE(t[0], t[1], t[2], t[4], AS_OF),
    "PX_EXPECTED_ALLOWED": lambda t: udfs.PX_EXPECTED_ALLOWED(t[0], t[2], t[3], AS_OF),
    "PX_SCORECARD": lambda t: udfs.PX_SCORECARD(*t, AS_OF),
    "PX_AGING": lambda t: udfs.PX_AGING(*t, AS_OF),
    "PX_WORKLIST": lambda t: udfs.PX_WORKLIST(*t, AS_OF),
}


def _bench():
    return load_script("benchmarks/udf_args_bench.py")


@pytest.fixture(scope="module")
def clean():
    return _bench().xlwings_clean()


@pytest.fixture(scope="module")
def practice():
    return copy.deepcopy(generate_demo(claims=120).records)


def _com(records, seed):
    """The practice's tables as pywin32 hands them over: tuples, each date with a time zone
    (UTC, or another: its day is the day the cell shows), money formatted as Currency in
    Payments (pywin32's Decimal), and odd cells in the optional columns: errors, and ""
    where a formula shows nothing (an error in a required column: the test below)."""
    r = random.Random(seed)
    zones = [dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=9))]
    out = []
    for table in ORDER:
        grid = cv.excel_grid(table, records[table.name])
        money = {i for i, c in enumerate(table.columns) if c.kind == m.MONEY}
        optional = {i for i, c in enumerate(table.columns) if not c.required}
        rows = [tuple(grid[0])]
        for row in grid[1:]:
            cells = []
            for j, v in enumerate(row):
                if type(v) is dt.datetime:
                    v = v.replace(tzinfo=r.choice(zones))
                elif table is m.PAYMENTS and j in money and isinstance(v, float):
                    v = Decimal(round(v * 10000)) / 10000
                if table in (m.CLAIMS, m.PAYMENTS) and j in optional and r.random() < 0.02:
                    v = r.choice([NA, DIV0, ""])
                cells.append(v)
            rows.append(tuple(cells))
        out.append(tuple(rows))
    return out


@pytest.mark.parametrize("name", FORMULAS)
def test_every_formula_reads_pywin32_cells_as_after_xlwings_clean_pass(practice, clean, name):
    formula = FORMULAS[name]
    for seed in (1, 2):
        com = _com(practice, seed)
        assert any(v in (NA, DIV0) for row in com[0][1:] for v in row)        # errors among the cells
        figures = formula(com)
        assert not isinstance(figures, str), figures            # figures, not a message
        assert figures == formula([clean(g) for g in com])


def test_an_error_cell_reads_as_an_empty_cell():
    """By hand: #N/A in a required Claim ID is "required and blank", as an empty cell is;
    #DIV/0! in an optional Modifier is no modifier; the seven codes are xlwings' own."""
    header = ["Claim ID", "Line", "Patient ID", "Payor", "CPT", "Modifier", "Date of Service", "Charge"]
    day = dt.datetime(2026, 3, 2, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    rows = ((tuple(header), ("C1", 1.0, "P1", "Acme", "99213", DIV0, day, 150.0),
             (NA, 1.0, "P1", "Acme", "99213", None, day, 150.0)))
    out = udfs.PX_FILING_DEADLINE(rows, None, None, AS_OF)
    blank = udfs.PX_FILING_DEADLINE((rows[0], rows[1], (None,) + rows[2][1:]), None, None, AS_OF)
    assert out == blank
    assert out.startswith("PX_FILING_DEADLINE: Claims row 3: Claim ID is required and blank")
    from payorxl.conversion import table_from_grid
    frame = table_from_grid(m.CLAIMS, [list(r) for r in rows[:2]]).frame
    assert frame["modifier"].tolist() == [""] and frame["dos"].tolist() == [dt.datetime(2026, 3, 2)]
    import xlwings
    source = (Path(xlwings.__file__).parent / "_xlwindows.py").read_text(encoding="utf-8")
    assert all(str(code) in source for code in EXCEL_ERRORS) and len(EXCEL_ERRORS) == 7


class _Impl:
    """A stand-in for an xlwings engine's impl: records what its clean pass was given."""
    def __init__(self):
        self.cleaned = []

    def clean_value_data(self, data, datetime_builder, empty_as, number_builder, err_to_str):
        self.cleaned.append(data)
        return [[empty_as if c == "" else c for c in row] for row in data]


def test_table_values_leaves_pywin32_cells_alone_and_cleans_any_other_runtime_s():
    stage = udfs.TableValues.reader({})[-1]
    windows = type("Engine", (), {"__module__": "xlwings._xlwindows"})()
    cells = (("Claim ID", "Line"), ("C1", 1.0), ("", NA))
    c = SimpleNamespace(value=cells, engine=SimpleNamespace(impl=windows), meta={})
    stage(c)
    assert c.value is cells                                    # untouched: no walk over the cells
    other = _Impl()
    c = SimpleNamespace(value=("Claim ID", "", "C2"), engine=SimpleNamespace(impl=other), meta={})
    stage(c)
    assert c.value == [["Claim ID", None, "C2"]] and len(other.cleaned) == 1   # 2-D, then cleaned
    assert udfs.TableValues.reader({})[0].__class__.__name__ == "ReadValueFromRangeStage"
