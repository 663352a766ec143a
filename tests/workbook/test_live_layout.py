"""Where the owned sheets' live figures are formulas and where they must stay values, the
calcChain entries a rewrite of an owned sheet takes out, and how the Index and a sheet's
data are written (fast: no spreadsheet engine; tests/workbook/test_live_figures.py
recalculates the formulas in LibreOffice)."""
import zipfile

import pandas as pd
import pytest

from chain_helpers import sheet_id, with_calc_chain
from payorxl import importer, pipeline
from payorxl.demo import generate_demo
from payorxl.engine import payment_actions
from payorxl.errors import CellRef, DataError, PayorxlError
from payorxl.workbook import sheets
from payorxl.workbook.formulas import K_SLOTS
from payorxl.workbook.index import index_cells
from payorxl.workbook.xlsxpart import Formula, Run, calc_chain_without, expanded, replace_sheet_data, sheet_data_xml

# One payment for a claim line the workbook does not have: Reconciliation lists it.
REMIT = "~\n".join([
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261101*1200*^*00501*000000042*0*P*:",
    "GS*HP*SENDER*RECEIVER*20261101*1200*7*X*005010X221A1", "ST*835*0001",
    "BPR*I*80*C*ACH************20261101", "TRN*1*EFT1001*1999999999", "DTM*405*20261031",
    "N1*PR*ACME HEALTH PLAN*XV*PAYER01", "N1*PE*MAIN STREET CLINIC*XX*1234567893", "LX*1",
    "CLP*C-404*1*100*80**12*PCLM1", "SVC*HC:99213*100*80**1", "DTM*472*20261001", "CAS*CO*45*20",
    "SE*12*0001", "GE*1*7", "IEA*1*000000042"]) + "~\n"


def formulas(cells) -> dict:
    return {(c.row, c.col): c.value.text for c in cells if isinstance(c.value, Formula)}


def demo_results(claims: int = 60):
    d = generate_demo(claims=claims)
    return pipeline.evaluate(pipeline.Inputs(d.frames(), d.settings_obj()))


def test_a_totals_row_is_the_whole_table_and_a_payor_row_its_own():
    results = demo_results()
    aging = sheets.owned_sheets(results)["Aging"]
    n = len(results.aging)
    total_row = sheets.TABLE_HEADER_ROW + 1 + n + 1
    f = formulas(aging)
    assert f[(total_row, 1)] == 'SUMIFS(Claims[Balance],Claims[Aging Bucket],"0-30")'
    assert f[(total_row, 6)] == f"SUM(B{total_row + 1}:F{total_row + 1})"
    first = sheets.TABLE_HEADER_ROW + 1
    assert f[(first, 1)].startswith('SUMIFS(Claims[Balance],Claims[Payor],"="&SUBSTITUTE(')
    assert (first, 8) not in f                                   # Open Claims: distinct claims, a value
    assert any(c.value == sheets.LIVE_NOTE for c in aging)


def test_payors_equal_but_for_case_keep_values():
    """COUNTIFS and SUMIFS ignore case; the engine keeps "Medicare" and "MEDICARE" apart:
    their rows are values (the others, and the whole-table totals, stay live)."""
    results = demo_results()
    aging = results.aging.copy()
    aging.loc[len(aging)] = {**aging.iloc[0].to_dict(), "payor": str(aging.iloc[0]["payor"]).upper()}
    results.aging = aging
    cells = sheets.owned_sheets(results)["Aging"]
    f = formulas(cells)
    first = sheets.TABLE_HEADER_ROW + 1
    clashing = {first, first + len(aging) - 1}
    assert not any(r in clashing for r, _ in f)
    assert any(r == first + 1 for r, _ in f)


def test_rows_left_out_make_every_figure_a_value():
    """The Claims columns still count a row the engine left out (an error in Exceptions),
    so no live formula would equal the engine: all are values, and the sheets say why."""
    results = demo_results()
    assert formulas(sheets.owned_sheets(results)["Dashboard"])
    results.errors = [*results.errors, DataError(CellRef("Claims", 5, "Date of Service"), "3/14/26 ",
                                                 "not a date", "type a date")]
    laid = sheets.owned_sheets(results)
    assert {name: formulas(laid[name]) for name in ("Dashboard", "Aging", "Scorecard")} == \
        {"Dashboard": {}, "Aging": {}, "Scorecard": {}}
    assert any(c.value == sheets.NOT_LIVE_NOTE for c in laid["Aging"])


def test_calc_chain_entries_keep_or_lose_their_sheet_whatever_the_quotes():
    head = '<?xml version="1.0"?><calcChain xmlns="x">'
    chain = head + '<c r="A1"/><c r="B5" i=\'3\'/><c r="B6"/><c r="C1" i="4" l="1"/></calcChain>'
    # a first entry naming no sheet is left as it is; B6 is on sheet 3 with B5
    assert calc_chain_without(chain, {"3"}) == head + '<c r="A1"/><c r="C1" l="1" i="4"/></calcChain>'
    assert calc_chain_without(chain, {"4"}) == \
        head + '<c r="A1"/><c r="B5" i="3"/><c r="B6" i="3"/></calcChain>'
    assert calc_chain_without(head + '<c r="B5" i="3"/></calcChain>', {"3"}) is None


def test_an_import_takes_the_reconciliation_sheets_calc_chain_entries_out(tmp_path):
    """Import rewrites Reconciliation (unmatched payments): a formula of the user's there,
    listed in calcChain, would make Excel repair the workbook."""
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, settings_values={"practice_name": "Main Street", "as_of": "2026-11-02"})
    recon, claims = sheet_id(path, "Reconciliation"), sheet_id(path, "Claims")
    with_calc_chain(path, f'<c r="A9" i="{recon}"/><c r="T2" i="{claims}"/>')
    remit = tmp_path / "r.835"
    remit.write_text(REMIT)
    result = importer.import_files(path, [remit])
    assert result.written
    with zipfile.ZipFile(path) as z:
        chain = z.read("xl/calcChain.xml").decode()
    assert f'i="{recon}"' not in chain and f'<c r="T2" i="{claims}"/>' in chain


def test_the_index_written_as_runs_is_the_index_written_cell_by_cell():
    """The Index's slots and tails come as one Run per row and table (each a row's cells
    written as XML once, the bulk of a large workbook's recalculation otherwise): the same
    cells, and the same sheet XML byte for byte, as the cells made one by one. A claim ID
    with characters XML escapes, and a line with more payments than the slots hold (its
    rows in the tail), are among them."""
    d = generate_demo(claims=60)
    frames = d.frames()
    claims, payments = frames["Claims"].copy(), frames["Payments"].copy()
    claims.loc[0, "claim_id"] = 'R&D <"1">'
    first = payments[(payments["claim_id"] == frames["Claims"].loc[0, "claim_id"])
                     & (payments["line"] == claims.loc[0, "line"])].head(1)
    assert len(first) == 1
    more = first.loc[first.index.repeat(K_SLOTS + 3)].assign(claim_id='R&D <"1">')
    payments = pd.concat([payments[payments.index != first.index[0]], more], ignore_index=True)
    results = pipeline.evaluate(pipeline.Inputs({**frames, "Claims": claims, "Payments": payments}, d.settings_obj()))
    actions = payment_actions(payments, frames["DenialRouting"])["action"]

    def index(runs: bool) -> list:
        return list(index_cells(claims, payments, actions=actions, claim_values=results.claim_rows, runs=runs))
    one_by_one, in_runs = index(False), index(True)
    assert sum(isinstance(c.value, Run) for c in in_runs) > 100
    assert len(in_runs) < len(one_by_one) / 5
    assert list(expanded(in_runs)) == one_by_one
    assert any("R&amp;D &lt;" in c.value.xml for c in in_runs if isinstance(c.value, Run))
    assert sheet_data_xml(in_runs, {}) == sheet_data_xml(one_by_one, {})


def test_replacing_a_sheets_data_keeps_everything_around_it():
    """replace_sheet_data cuts the sheet at its <sheetData> tags (a large sheet's old data
    is scanned once): the dimension is set, the merges go, everything else stays, whatever
    the sheet's shape; a sheet without <sheetData> is refused."""
    new = '<sheetData><row r="1"><c r="A1"><v>7</v></c></row></sheetData>'
    head = '<?xml version="1.0"?><worksheet><dimension ref="A1:Z99"/><sheetViews/>'
    merges = '<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
    assert replace_sheet_data(head + '<sheetData><row r="3"/></sheetData>' + merges + "<pageSetup/></worksheet>",
                              new, "A1") == \
        '<?xml version="1.0"?><worksheet><dimension ref="A1"/><sheetViews/>' + new + "<pageSetup/></worksheet>"
    assert replace_sheet_data("<worksheet><sheetData/><mergeCells/></worksheet>", new, "A1:B2") == \
        f"<worksheet>{new}</worksheet>"
    # no dimension before the data: one after it is set (as the whole-sheet expressions did)
    assert replace_sheet_data('<worksheet><sheetData x="1"></sheetData><dimension ref="C3"/></worksheet>',
                              new, "A1") == f'<worksheet>{new}<dimension ref="A1"/></worksheet>'
    with pytest.raises(PayorxlError, match="no <sheetData>"):
        replace_sheet_data("<worksheet><sheetDataX/></worksheet>", new, "A1")
