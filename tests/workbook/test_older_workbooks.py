"""A workbook made before payorxl added a calculated column to Claims: the live summary
formulas that name it would be broken references (Excel repairs such a formula away, and
LibreOffice shows #REF!), so a recalculation writes those figures as values."""
from __future__ import annotations

import re

from openpyxl.utils import column_index_from_string

from payorxl import pipeline
from payorxl.demo import generate_demo
from payorxl.workbook.read import read_inputs
from payorxl.workbook.xlsxpart import Formula, col_letter


def test_columns_named_reads_every_structured_reference():
    assert pipeline._columns_named('SUMIFS(Claims[Balance],Claims[Payor],"=Acme")') == [
        ("Claims", "Balance"), ("Claims", "Payor")]
    assert pipeline._columns_named("Claims[[#This Row],[Paid]]+N(Contracts[#All])") == [("Claims", "Paid")]
    assert pipeline._columns_named('IF(px_AsOf>0,COUNTIFS(Contracts[Notice Deadline],"<"&px_AsOf),0)') == [
        ("Contracts", "Notice Deadline")]
    assert pipeline._columns_named("SUM(A1:A3)") == []


def test_a_live_figure_naming_a_missing_claims_column_is_written_as_its_value(tmp_path):
    d = generate_demo(claims=15)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, d.frames(), d.settings, as_of="2026-10-31")
    inputs = read_inputs(path)
    assert "Appeal Status" in inputs.headers["Claims"]
    results = pipeline.evaluate(inputs)
    current = pipeline.lay_out(results, inputs.frames, None, inputs.headers)
    older = {**inputs.headers, "Claims": [h for h in inputs.headers["Claims"] if h != "Appeal Status"]}
    laid = pipeline.lay_out(results, inputs.frames, None, older)

    column = col_letter(inputs.headers["Claims"].index("Appeal Status"))

    def reads_appeal_status(text: str, sheets, column: str | None = column) -> bool:
        """Through a structured reference, or through the Index's partial sums (blocks.py)
        of the Claims `column` (None: the table has no such column)."""
        if ("Claims", "Appeal Status") in pipeline._columns_named(text):
            return True
        if column is None:
            return False
        index = {(c.row, c.col): c.value for c in sheets.get("Index", []) if isinstance(c.value, Formula)}
        for letters in re.findall(r"SUM\(Index!\$([A-Z]+)\$2:", text):
            block = index.get((1, column_index_from_string(letters) - 1))
            if block is not None and f"Claims!${column}$" in block.text:
                return True
        return False

    named = [(s, c) for s, cells in current.items() if s != "Index" for c in cells
             if isinstance(c.value, Formula) and reads_appeal_status(c.value.text, current)]
    assert named                                   # the live figures do read that column
    by_place = {(s, c.row, c.col): c.value for s, cells in laid.items() for c in cells}
    for sheet, cell in named:                      # each is now the engine's value, not a formula
        assert by_place[(sheet, cell.row, cell.col)] == cell.value.cached
    kept = [c for s, cells in laid.items() if s != "Index" for c in cells if isinstance(c.value, Formula)]
    assert kept and not any(reads_appeal_status(c.value.text, laid, None) for c in kept)
    # every other cell is as before (the Index has no partial sums of the column)
    assert ({s: len(v) for s, v in laid.items() if s != "Index"}
            == {s: len(v) for s, v in current.items() if s != "Index"})


def test_a_rate_with_no_denominator_is_cached_blank_not_zero():
    """A payor whose lines are not remitted yet has no denial rate ($): the engine's is
    blank, the live formula gives "" — its cached value is "" too (it showed 0.0% until
    recalculated), and an older workbook's value cell is blank, never a hard 0."""
    from payorxl import model as m
    from payorxl.workbook.read import Inputs, convert_settings, settings_from_values

    d = generate_demo(claims=15)
    frames = d.frames()
    claims, pay = frames["Claims"], frames["Payments"]
    waiting = claims["payor"].iloc[0]
    ids = set(claims.loc[claims["payor"] == waiting, "claim_id"].str.upper())
    frames["Payments"] = pay[~pay["claim_id"].str.upper().isin(ids)].reset_index(drop=True)
    values, _ = convert_settings({**{s.key: s.default for s in m.SETTINGS}, **d.settings})
    results = pipeline.evaluate(Inputs(frames, settings_from_values(values, "2026-10-31")))
    engine = results.scorecard.set_index("payor")["charge_denial_rate"]
    assert engine.isna()[waiting] and engine.notna().sum() >= 2

    col = m.SCORECARD.keys.index("charge_denial_rate")
    payors = {c.row: c.value for c in pipeline.lay_out(results, frames)["Scorecard"] if c.col == 0}
    rates = {payors.get(c.row): c.value for c in pipeline.lay_out(results, frames)["Scorecard"]
             if c.col == col and isinstance(c.value, Formula)}
    assert rates[waiting].cached == ""
    assert all(rates[p].cached == engine[p] for p in engine.index if p != waiting and p in rates)
    older = {"Claims": [c.name for c in m.CLAIMS.columns]
             + [c.name for c in m.CLAIMS.calculated if c.name != "Remittances"]}
    cells = pipeline.lay_out(results, frames, None, older)["Scorecard"]
    values_now = {payors.get(c.row): c.value for c in cells if c.col == col}
    assert values_now[waiting] == ""
