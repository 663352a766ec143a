"""When a recalculation moves the Dashboard's Today, Excel must recalculate on opening.

The native formulas on Claims count days from `px_AsOf`, which is the Dashboard's Today
when Settings leaves the As-of Date blank. `payorxl recalc` rewrites the owned sheets
(Today among them) but not the user's Claims sheet, so the cached values of Claims'
formulas stay as they were last worked out. Excel shows cached values as they are on
opening, so a recalculation on a later day sets ``fullCalcOnLoad`` (Excel drops it when
it saves); on the same day, or with a fixed As-of Date, it does not (no save prompt on
an unchanged workbook, issue 17 item 5).
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile

from python_calamine import CalamineWorkbook

from payorxl import pipeline
from payorxl.demo import generate_demo
from payorxl.workbook.xlsxpart import cached_number, with_full_calc_on_load


def _calc_pr(path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.search(r"<calcPr\b[^>]*>", z.read("xl/workbook.xml").decode("utf-8")).group(0)


def _column(path, sheet: str, header: str) -> list:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    j = rows[0].index(header)
    return [r[j] for r in rows[1:]]


def test_a_recalculation_that_moves_today_makes_excel_recalculate_on_opening(tmp_path):
    d = generate_demo(claims=15)
    settings = {**d.settings, "as_of": None}            # a blank As-of Date: the formulas read Today
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, d.frames(), settings, as_of="2026-10-31")
    assert "fullCalcOnLoad" not in _calc_pr(path)
    days = _column(path, "Claims", "Filing Days Left")

    pipeline.recalc(path, as_of="2026-10-31")            # the same day: nothing to recalculate
    assert "fullCalcOnLoad" not in _calc_pr(path)

    pipeline.recalc(path, as_of="2026-11-01")            # a day later
    assert 'fullCalcOnLoad="1"' in _calc_pr(path)
    # Why: Claims' cached days left are still those of 10/31, one more than the engine's
    # for 11/01, and only a recalculation in Excel brings them up to date.
    assert _column(path, "Claims", "Filing Days Left") == days
    later = pipeline.load(path, as_of="2026-11-01").claim_rows["filing_days_left"]
    counted = [(int(a), int(b)) for a, b in zip(days, later) if isinstance(a, (int, float)) and a == a]
    assert counted and all(a - b == 1 for a, b in counted)


def test_a_fixed_as_of_date_is_not_moved_by_today(tmp_path):
    d = generate_demo(claims=15)
    settings = {**d.settings, "as_of": dt.date(2026, 10, 31)}   # the formulas read this, not Today
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, d.frames(), settings, as_of="2026-10-31")
    pipeline.recalc(path)                                 # today, whatever day the test runs
    assert "fullCalcOnLoad" not in _calc_pr(path)
    pipeline.recalc(path, as_of="2026-11-05")             # --as-of moves Today, not the formulas' date
    assert "fullCalcOnLoad" not in _calc_pr(path)


def test_cached_number_reads_only_a_number():
    xml = ('<row r="2"><c r="F2" s="1"/><c r="G2" s="3"><v>46326</v></c><c r="H2" t="s"><v>4</v></c>'
           '<c r="I2" t="str"><f>A1</f><v>12</v></c><c r="J2" t="n"><v>1.5</v></c></row>')
    assert cached_number(xml, 1, 6) == 46326                # G2
    assert cached_number(xml, 1, 5) is None                 # F2: empty
    assert cached_number(xml, 1, 7) is None                 # H2: a shared string's index, not a number
    assert cached_number(xml, 1, 8) is None                 # I2: a formula's text result
    assert cached_number(xml, 1, 9) == 1.5                  # J2
    assert cached_number(xml, 1, 10) is None                # K2: no such cell


def test_full_calc_on_load_is_added_once():
    assert with_full_calc_on_load('<workbook><calcPr calcId="191029"/></workbook>') == \
        '<workbook><calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>'
    flagged = '<workbook><calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>'
    assert with_full_calc_on_load(flagged) == flagged
    assert with_full_calc_on_load('<workbook><sheets/></workbook>') == \
        '<workbook><sheets/><calcPr fullCalcOnLoad="1"/></workbook>'
