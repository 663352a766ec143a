"""The workbook looks and prints like a finished product: every sheet has its print setup
(read back with openpyxl), the charts label every payor and keep sensible axes, the
Scorecard and Aging end with totals that tie to the KPIs, an empty list says so, the
buttons sit top left, xlwings.conf is hidden, and an unchanged workbook is not "changed"
by a forced recalculation on opening."""
from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from payorxl import libreoffice, model as m, pipeline
from payorxl.conversion import empty_frame
from payorxl.demo import generate_demo
from payorxl.engine import calculate
from payorxl.engine.reconciliation import build_reconciliation
from payorxl.errors import CellRef, DataError
from payorxl.workbook import sheets
from payorxl.workbook.formulas import INDEX_SHEET
from payorxl.workbook.read import import_log
from payorxl.workbook.template import CALC_ID, ONE_TABLE_SHEETS, SHEET_ORDER
from payorxl.workbook.vba import BUTTONS, CONF_SHEET
from payorxl.workbook.xlsxpart import sheet_parts

INPUT_SHEETS = {t.name for t in m.INPUT_TABLES}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The empty template, macro-enabled (buttons, xlwings.conf)."""
    path = tmp_path_factory.mktemp("looks") / "template.xlsm"
    pipeline.new_workbook(path, as_of="2026-10-31")
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo practice (about 4,500 claim lines), as `payorxl demo` writes it."""
    path = tmp_path_factory.mktemp("looks-demo") / "demo.xlsx"
    d = generate_demo()
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path, pipeline.load(path)


def fit(value) -> int:
    """fitToWidth / fitToHeight as Excel reads them: absent means 1."""
    return 1 if value is None else int(value)


def part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def grid(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def row_starting(rows: list[list], text: str) -> list:
    found = [r for r in rows if r and isinstance(r[0], str) and r[0].startswith(text)]
    assert len(found) == 1, f"{len(found)} rows start with {text!r}"
    return found[0]


# --- print setup -----------------------------------------------------------------------

def test_every_sheet_prints_landscape_fitted_to_the_page_width_with_its_header_repeated(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[:len(SHEET_ORDER)] == list(SHEET_ORDER)
    for name in SHEET_ORDER:
        if name == INDEX_SHEET:     # hidden, payorxl's own: nothing to print
            continue
        ws = wb[name]
        setup = ws.page_setup
        assert setup.orientation == "landscape", name
        assert setup.paperSize in (1, "1"), name                       # US Letter
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert fit(setup.fitToHeight) == (1 if name == "Dashboard" else 0), name   # 0: as many pages down as needed
        assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text, name   # Page n of N
        assert "&A" in ws.oddFooter.left.text, name                                       # the sheet's name
        assert ws.page_margins.left <= 0.5 and ws.page_margins.right <= 0.5, name
        if name in ONE_TABLE_SHEETS:                      # title, subtitle, blank, header on row 4
            assert ws.print_title_rows == "$4:$4", name
            assert ws.freeze_panes == "A5", name
        elif name in INPUT_SHEETS or name in ("Settings", "ImportLog"):
            assert ws.print_title_rows == "$1:$1", name
    # The report sheets are one page wide; only the wide input tables spread across pages
    # (fitted, not shrunk past reading), Claims with Claim ID and Line on every page.
    for name in ("Dashboard", "Worklist", "Scorecard", "Aging", "Portfolio", "Reconciliation", "Exceptions"):
        assert fit(wb[name].page_setup.fitToWidth) == 1, name
    assert fit(wb["Claims"].page_setup.fitToWidth) == 3   # 40 columns: three pages across
    assert wb["Claims"].print_title_cols == "$A:$B"
    assert wb["Claims"].page_setup.pageOrder == "overThenDown"


def test_the_dashboard_prints_on_one_page_charts_and_all(template):
    ws = openpyxl.load_workbook(template)["Dashboard"]
    assert (fit(ws.page_setup.fitToWidth), fit(ws.page_setup.fitToHeight)) == (1, 1)
    area = re.fullmatch(r"'?Dashboard'?!\$A\$1:\$([A-Z]+)\$(\d+)", ws.print_area)
    assert area, ws.print_area
    last_col = openpyxl.utils.column_index_from_string(area.group(1)) - 1
    last_row = int(area.group(2)) - 1
    assert last_row >= max(b.last_data_row for b in sheets.DASHBOARD.values())
    with zipfile.ZipFile(template) as z:
        drawing = next(n for n in z.namelist() if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)
                       and "chart" in z.read(n).decode())
    ends = re.findall(r"<xdr:to><xdr:col>(\d+)</xdr:col><xdr:colOff>\d+</xdr:colOff><xdr:row>(\d+)</xdr:row>",
                      part(template, drawing))
    assert len(ends) == 4
    for col, row in ends:                                  # every chart inside the print area
        assert int(col) <= last_col and int(row) <= last_row


@pytest.mark.libreoffice
@pytest.mark.skipif(libreoffice.soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_prints_the_dashboard_on_one_page(demo, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("render_sheets", Path(__file__).resolve().parents[2]
                                                  / "scripts" / "render_sheets.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    path, _ = demo
    only = tmp_path / "dashboard.xlsx"
    render.only_sheet(path, only, "Dashboard")
    pdf = libreoffice.convert(only, tmp_path, to="pdf", recalculate=False)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\n", info), info


# --- charts ------------------------------------------------------------------------------

def test_the_charts_label_every_category_and_keep_sensible_axes(template):
    with zipfile.ZipFile(template) as z:
        charts = {n: z.read(n).decode() for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)}
    assert len(charts) == 4
    by_title = {re.search(r"<a:t>([^<]*)</a:t>", xml).group(1): xml for xml in charts.values()}
    for title in ("Initial denial rate by payor", "Insurance A/R by payor and age",
                  "Charges and payments by month of service"):
        xml = by_title[title]
        assert '<c:tickLblSkip val="1"/>' in xml, title          # every payor / month labelled
        assert re.search(r'<c:dispBlanksAs val="(?!gap)', xml) is None, title   # blank slots: gaps
        assert '<c:min val="0"/>' in xml, title                  # values from zero
    rate = by_title["Initial denial rate by payor"]
    assert '<c:max val="1"/>' in rate                            # 0-100%, even with no data
    pie = by_title["Denied charges by root cause"]
    assert "<c:legend>" not in pie                               # no legend: no blank entries
    assert '<c:showCatName val="1"/>' in pie and '<c:showPercent val="1"/>' in pie


# --- totals rows ----------------------------------------------------------------------

@pytest.mark.slow
def test_aging_and_scorecard_totals_tie_to_the_kpis(demo):
    path, results = demo
    header = sheets.TABLE_HEADER_ROW
    aging = grid(path, "Aging")
    assert aging[header][:len(m.AGING.fields)] == m.AGING.headers
    rows = aging[header + 1:header + 1 + len(results.aging)]
    total = dict(zip(m.AGING.keys, row_starting(aging, "Total")))
    assert aging[header + 1 + len(results.aging)][0] == ""      # a blank row between rows and total
    assert total["total"] == pytest.approx(results.kpis["ar_total"].value / 100, abs=0.001)
    for j, key in enumerate(m.AGING.keys[1:-1], start=1):       # each bucket, Total, Open Lines: the sums
        assert total[key] == pytest.approx(sum(r[j] for r in rows), abs=0.001), key
    assert sum(total[b] for b in m.AGING_BUCKETS) == pytest.approx(total["total"], abs=0.001)
    open_lines = results.lines[results.lines["aging_bucket"] != ""]
    assert total["open_claims"] == open_lines["claim_id"].str.upper().nunique()   # distinct (case ignored), not summed

    card = grid(path, "Scorecard")
    rows = card[header + 1:header + 1 + len(results.scorecard)]
    total = dict(zip(m.SCORECARD.keys, row_starting(card, "Total")))
    sc = results.scorecard
    for key in ("claims", "lines", "underpaid_lines", "missed_filing", "missed_appeals", "due_soon"):
        assert total[key] == int(sc[key].sum()), key
    for key in ("charges", "paid", "ar", "underpayment"):
        assert total[key] == pytest.approx(int(sc[key].fillna(0).sum()) / 100, abs=0.001), key
    assert total["lines"] == len(results.lines)
    assert total["ar"] == pytest.approx(results.kpis["ar_total"].value / 100, abs=0.001)
    assert total["underpayment"] == pytest.approx(results.kpis["underpayment"].value / 100, abs=0.001)
    # Rates: the engine's all-payor figures, not an average of the payors' rates.
    assert total["denial_rate"] == pytest.approx(results.kpis["initial_denial_rate"].value)
    assert total["charge_denial_rate"] == pytest.approx(results.kpis["charge_denial_rate"].value)
    assert total["net_collection_rate"] == pytest.approx(results.kpis["net_collection_rate"].value)
    assert total["denial_rate"] != pytest.approx(sum(r[6] for r in rows) / len(rows))
    # Nothing to report in the demo: every list says so.
    assert row_starting(grid(path, "Exceptions"), sheets.NO_PROBLEMS)
    assert row_starting(grid(path, "Reconciliation"), sheets.NO_PROBLEMS)


# --- empty lists say so -------------------------------------------------------------------

def test_an_empty_workbook_says_nothing_to_do_and_no_problems(template):
    header = sheets.TABLE_HEADER_ROW
    assert grid(template, "Worklist")[header + 1][0] == sheets.NOTHING_TO_DO
    assert grid(template, "Exceptions")[header + 1][0].startswith(sheets.NO_PROBLEMS)
    assert grid(template, "Reconciliation")[header + 1][0].startswith(sheets.NO_PROBLEMS)
    assert grid(template, "Aging")[header + 1][0] == "No open insurance balances."
    assert not any(r and r[0] == "Total" for r in grid(template, "Scorecard"))


def _results_with(errors):
    """An empty practice's results, with these problems found in its data."""
    results = calculate({t.name: empty_frame(t) for t in m.INPUT_TABLES}, m.Settings.make("2026-10-31"))
    results.errors[:] = errors
    return results


def _texts(cells) -> list[str]:
    return [c.value for c in cells if isinstance(c.value, str)]


def test_a_problem_replaces_the_no_problems_line():
    error = DataError(CellRef("Claims", 7, "Date of Service"), "3/2/26", "Date of Service is text, not a date",
                      "Type it as a date.")
    texts = _texts(sheets.owned_sheets(_results_with([error]))["Exceptions"])
    assert "Date of Service is text, not a date" in texts
    assert not any(t.startswith(sheets.NO_PROBLEMS) for t in texts)
    assert any(t.startswith(sheets.NO_PROBLEMS) for t in _texts(sheets.owned_sheets(_results_with([]))["Exceptions"]))


def test_reconciliation_says_no_problems_only_when_every_file_balances_and_every_payment_matches():
    log = import_log([])
    payments = pd.DataFrame({"claim_id": ["C1"], "line": [1], "source": ["era.835"], "check_no": ["1"],
                             "payor": ["Acme"], "cpt": ["99213"], "paid": [1000]})
    claims = pd.DataFrame({"claim_id": ["C1"], "line": [1]})
    assert sheets.reconciliation_ok(build_reconciliation(log, payments, claims))
    orphan = build_reconciliation(log, payments.assign(claim_id=["NO-SUCH"]), claims)
    assert not sheets.reconciliation_ok(orphan)
    texts = _texts(sheets.owned_sheets(_results_with([]), reconciliation=orphan)["Reconciliation"])
    assert not any(t.startswith(sheets.NO_PROBLEMS) for t in texts)
    assert "Unmatched payment" in texts


# --- buttons, xlwings.conf, calculation -----------------------------------------------------

def test_the_buttons_sit_top_left_under_the_title(template):
    with zipfile.ZipFile(template) as z:
        dashboard = sheet_parts(z)["Dashboard"]
        rels = z.read(dashboard.replace("worksheets/", "worksheets/_rels/") + ".rels").decode()
        vml = re.search(r'Target="\.\./drawings/(vmlDrawing\d+\.vml)"', rels).group(1)
        xml = z.read(f"xl/drawings/{vml}").decode()
    anchors = [[int(v) for v in a.split(",")] for a in re.findall(r"<x:Anchor>([^<]*)</x:Anchor>", xml)]
    styles = re.findall(r'style="position:absolute;margin-left:([\d.]+)pt;margin-top:([\d.]+)pt;'
                        r'width:([\d.]+)pt;height:([\d.]+)pt', xml)
    assert len(anchors) == len(styles) == len(BUTTONS)
    assert re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", xml) == [sub for _, sub in BUTTONS]
    for anchor, (left, _top, width, _height) in zip(anchors, styles):
        top_row, bottom_row = anchor[2], anchor[6]               # Anchor: col, dx, row, dy (top left, bottom right)
        assert top_row == bottom_row == sheets.BUTTON_ROW        # inside the button bar, above the tiles
        assert float(left) + float(width) <= 480                 # points: within the first 640 px
    assert anchors[0][0] == 0                                    # from column A
    assert sheets.ROW_HEIGHTS["Dashboard"][sheets.BUTTON_ROW] * 4 / 3 >= float(styles[0][3]) * 4 / 3 + 2


def test_xlwings_conf_is_hidden_and_the_dashboard_opens(template):
    wb = openpyxl.load_workbook(template)
    assert wb[CONF_SHEET].sheet_state == "hidden"
    assert wb[CONF_SHEET]["A1"].value == "UDF Modules"          # still there, read by name
    assert wb.active.title == "Dashboard"
    assert all(wb[name].sheet_state == "visible" for name in SHEET_ORDER if name != INDEX_SHEET)
    assert wb[INDEX_SHEET].sheet_state == "hidden"


@pytest.mark.parametrize("suffix", [".xlsm", ".xlsx"])
def test_no_forced_full_recalculation_and_a_current_calc_id(template, tmp_path, suffix):
    path = template if suffix == ".xlsm" else tmp_path / "plain.xlsx"
    if suffix == ".xlsx":
        pipeline.new_workbook(path, as_of="2026-10-31")
    calc = re.search(r"<calcPr\b[^>]*/>", part(path, "xl/workbook.xml")).group(0)
    assert f'calcId="{CALC_ID}"' in calc and CALC_ID >= 191029
    assert "fullCalcOnLoad" not in calc


# Functions Excel recalculates whenever anything is recalculated (and on every opening):
# one anywhere makes Excel ask to save an unchanged workbook on close.
VOLATILE = re.compile(r"\b(TODAY|NOW|RAND|RANDBETWEEN|OFFSET|INDIRECT|CELL|INFO)\s*\(", re.IGNORECASE)


@pytest.mark.parametrize("suffix", [".xlsm", ".xlsx"])
def test_no_formula_or_name_uses_a_volatile_function(template, tmp_path, suffix):
    """No save prompt on an unchanged workbook: no volatile function in any defined name,
    cell formula or table column formula, in the .xlsm and in a filled .xlsx."""
    path = template
    if suffix == ".xlsx":
        path = tmp_path / "demo.xlsx"
        d = generate_demo(claims=60)
        pipeline.new_workbook(path, d.frames(), d.settings)
    with zipfile.ZipFile(path) as z:
        xml = {n: z.read(n).decode("utf-8") for n in z.namelist()
               if n == "xl/workbook.xml" or n.startswith(("xl/worksheets/sheet", "xl/tables/table"))}
    formulas = {n: re.findall(r"<(?:f|definedName|calculatedColumnFormula)\b[^>]*>([^<]*)<", text)
                for n, text in xml.items()}
    assert sum(len(f) for f in formulas.values()) > 50           # the formulas are there, and read
    assert any("px_AsOf" in f for fs in formulas.values() for f in fs)
    used = {n: [f for f in fs if VOLATILE.search(f)] for n, fs in formulas.items()}
    assert {n: fs for n, fs in used.items() if fs} == {}


def test_the_dashboards_today_is_the_date_a_blank_as_of_stands_for(tmp_path):
    """px_Today names the Dashboard's Today, which each recalculation writes: today, or the
    date `recalc --as-of` takes as today; px_AsOf reads it for a blank As-of Date."""
    import datetime as dt
    path = tmp_path / "book.xlsx"
    pipeline.new_workbook(path, as_of=dt.date(2026, 3, 2))
    wb = openpyxl.load_workbook(path)
    names = {n: wb.defined_names[n].attr_text for n in ("px_Today", "px_AsOf")}
    row, col = sheets.TODAY_CELL
    ref = f"{openpyxl.utils.get_column_letter(col + 1)}{row + 1}"
    assert names == {"px_Today": f"Dashboard!${ref[0]}${ref[1:]}", "px_AsOf": 'IF(px_as_of="",px_Today,px_as_of)'}

    def today_cell():
        cell = openpyxl.load_workbook(path)["Dashboard"][ref]
        assert cell.number_format == f'"{sheets.TODAY_LABEL} "mm/dd/yyyy'    # shown "Today 03/02/2026"
        return cell.value, None
    assert today_cell() == (dt.datetime(2026, 3, 2), None)
    pipeline.recalc(path, as_of=dt.date(2026, 4, 15))
    assert today_cell()[0] == dt.datetime(2026, 4, 15)
    before = dt.date.today()
    pipeline.recalc(path)
    assert today_cell()[0].date() in {before, dt.date.today()}   # (a run across midnight)


def test_the_xlsm_moves_its_today_on_opening_a_later_day():
    """Auto_Open (macros/PayorxlButtons.bas, embedded in every .xlsm) sets px_Today to the
    day's date only when it differs: opening the workbook again that day changes nothing."""
    from payorxl.workbook.vba import payorxl_modules
    source = next(mod.source for mod in payorxl_modules() if mod.name == "PayorxlButtons")
    body = re.search(r"Sub Auto_Open\(\)(.*?)End Sub", source, re.S).group(1)
    assert 'Names("px_Today").RefersToRange' in body
    assert re.search(r"If \.Value <> Date Then \.Value = Date", body)
