"""One recalculation path: a PX_ formula and its owned sheet agree on the same data, bad
rows included. The workbook is a real file recalculated by `pipeline.recalc`; the formula
gets the tables as Excel would pass them (Claims[#All], read back from that file)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from python_calamine import CalamineWorkbook

from payorxl import pipeline
from payorxl.demo import generate_demo
from payorxl.excel.udfs import PX_SCORECARD, PX_WORKLIST


def _grid(path, sheet):
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [[None if v == "" else v for v in row] for row in rows]


def _table_on_sheet(path, sheet):
    """The table under the title rows of an owned sheet (header on row 4), down to the
    first blank row (a Total row sits below that blank row)."""
    rows = _grid(path, sheet)[3:]
    width = len([h for h in rows[0] if h is not None])
    table = []
    for row in rows:
        if all(v is None for v in row):
            break
        table.append(["" if v is None else v for v in row[:width]])
    return table


def _same_cells(rows):
    """Cells as a spreadsheet compares them: a datetime at midnight is its date."""
    return [[v.date() if isinstance(v, dt.datetime) else v for v in row] for row in rows]


def test_scorecard_and_worklist_formulas_equal_their_sheets_with_bad_rows(tmp_path):
    demo = generate_demo(claims=60)
    frames = demo.frames()
    claims = frames["Claims"]
    # A claim line typed twice: the recalculation leaves the second one out (Exceptions);
    # the formula must too. Before, PX_SCORECARD counted it: one line and its charge more.
    frames["Claims"] = pd.concat([claims, claims.iloc[[0]]], ignore_index=True)
    # A payment for a claim line that does not exist: kept aside (a warning) in both.
    orphan = frames["Payments"].iloc[[0]].copy()
    orphan["claim_id"] = "NO-SUCH-CLAIM"
    frames["Payments"] = pd.concat([frames["Payments"], orphan], ignore_index=True)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, frames, demo.settings)
    summary = pipeline.recalc(path)
    assert (summary.errors, summary.warnings) == (1, 1)   # the duplicate left out; the orphan aside

    tables = [_grid(path, name) for name in ("Claims", "Payments", "Contracts", "FeeSchedule", "Appeals")]
    settings = _grid(path, "Settings")
    scorecard = PX_SCORECARD(*tables, settings)
    assert scorecard == _table_on_sheet(path, "Scorecard")
    # The duplicated line's payor counts its lines once: the sheet's own Lines column
    # equals the number of distinct claim lines of that payor in the data.
    payor = claims.iloc[0]["payor"]
    lines = dict((row[0], row[3]) for row in scorecard[1:])
    assert lines[payor] == len(claims[claims["payor"] == payor])
    assert _same_cells(PX_WORKLIST(*tables, settings)) == _same_cells(_table_on_sheet(path, "Worklist"))
