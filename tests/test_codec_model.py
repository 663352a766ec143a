"""The one codec (payorxl/codec.py) and the declarations of every result table
(model.OUTPUTS): values cross the Excel boundary one way, and no frame a recalculation
writes has a column the model does not declare."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from payorxl import codec, model as m, pipeline, report
from payorxl.demo import generate_demo
from payorxl.workbook.read import Inputs


def test_cents_round_half_up_away_from_zero():
    # 2.675 is 2.67499999... as a float; a person rounds the written amount: 268 cents.
    assert codec.to_cents(2.675) == 268
    assert codec.to_cents(-2.675) == -268
    assert codec.to_cents("1234.5") == 123450
    assert codec.to_cents(0.005) == 1


def test_vectorised_cents_agree_with_the_scalar_rule():
    rng = np.random.default_rng(3)
    dollars = np.round(rng.uniform(-5000, 5000, 2000), 3)   # whole tenths of a cent: the hard cases
    expected = [codec.to_cents(float(d)) for d in dollars]
    assert codec.cents_array(dollars).astype("int64").tolist() == expected


def test_excel_serials_known_dates():
    # Excel shows 45658 as 01/01/2025 and 45292 as 01/01/2024; 61 is 03/01/1900 (after
    # Lotus' phantom 02/29/1900, which the 1899-12-30 epoch absorbs).
    assert codec.datetime_to_serial(dt.date(2025, 1, 1)) == 45658
    assert codec.datetime_to_serial(dt.date(2024, 1, 1)) == 45292
    assert codec.datetime_to_serial(dt.date(1900, 3, 1)) == 61
    assert codec.serial_to_datetime(45658) == dt.datetime(2025, 1, 1)
    # a time of day is the fraction: 6 pm is 0.75
    assert codec.datetime_to_serial(dt.datetime(2025, 1, 1, 18)) == 45658.75


@pytest.mark.parametrize("value, kind, excel, external", [
    (12345, m.MONEY, 123.45, 123.45),
    (pd.NA, m.MONEY, None, None),
    (pd.Timestamp("2026-03-14"), m.DATE, dt.datetime(2026, 3, 14), "2026-03-14"),
    (pd.NaT, m.DATE, None, None),
    (7, m.INT, 7, 7),
    (0.25, m.PERCENT, 0.25, 0.25),
    ("Due soon", m.STATUS, "Due soon", "Due soon"),
    (99213, m.TEXT, "99213", "99213"),
])
def test_one_value_each_way(value, kind, excel, external):
    assert codec.to_excel(value, kind) == excel
    assert codec.to_external(value, kind) == external
    json.dumps(codec.to_external(value, kind))   # JSON-ready


@pytest.fixture(scope="module")
def results():
    demo = generate_demo(claims=200)
    return pipeline.evaluate(Inputs(demo.frames(), demo.settings_obj()))


def _declared(frame: pd.DataFrame, output: m.Output, internal=()) -> None:
    columns = [c for c in frame.columns if c not in internal]
    assert set(columns) == set(output.keys), (output.name, set(columns) ^ set(output.keys))


def test_every_result_frame_is_declared(results):
    _declared(results.lines, m.LINES, internal=("_row",))
    _declared(results.worklist, m.WORKLIST)
    _declared(results.scorecard, m.SCORECARD)
    _declared(results.aging, m.AGING)
    _declared(results.monthly, m.MONTHLY)
    _declared(results.deadlines, m.DEADLINES)
    for by, frame in results.denials_by.items():
        _declared(frame, m.DENIALS.grouped_by(m.DENIAL_GROUPS[by], by))
    for output in m.PORTFOLIO:
        _declared(results.portfolio[output.name], output)
    assert [k.key for k in m.KPIS] == list(results.kpis)


def test_csv_money_is_dollars_by_declaration(results):
    frames = report.result_frames(results)
    lines = frames["lines"]
    # Every money field leaves in dollars: the line's balance is its cents / 100.
    assert lines["balance"].tolist() == pytest.approx((results.lines["balance"] / 100).tolist())
    assert list(frames["scorecard"].columns) == m.SCORECARD.keys
    assert "patient_id" not in lines
    kpis = frames["kpis"].set_index("kpi")["value"]
    assert kpis["ar_total"] == pytest.approx(results.kpis["ar_total"].value / 100)
