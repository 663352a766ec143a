"""Build the practice workbook from code: nothing in it is edited by hand.

Input tables are real Excel tables (ListObjects) with dropdowns, number formats, frozen
headers and a note on every header; their calculated columns are native formulas
(formulas.py) with the engine's values cached, so tools that do not recalculate still
read the right figures. Settings holds the practice's choices, each value behind a
defined name the formulas use. The owned sheets are created empty here — with column
widths, print setup and, on the Dashboard, charts over fixed ranges — and filled by the
same writer a recalculation uses (xlsxpart.py), so there is one way to write them. A
recalculation replaces only their cells: everything set here stays.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from pathlib import Path

import pandas as pd
import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.utility import xl_col_to_name

from .. import model as m
from ..codec import datetime_to_serial, to_excel
from .formulas import INDEX_SHEET, SETTINGS_FIRST_ROW, index_names, settings_names, table_formulas, table_names
from .index import index_cells
from .sheets import CHART_COLUMN, CHART_COLUMNS, DASHBOARD, ROW_HEIGHTS, TABLE_HEADER_ROW
from .vba import CONF_SHEET, add_excel_parts, embed_vba
from .xlsxpart import Formula

SHEET_ORDER = ("Dashboard", "Worklist", "Claims", "Payments", "Adjustments", "Appeals", "Underpayments",
               "Acknowledgements", "Contracts", "FeeSchedule", "PaymentRules", "Modifiers", "DenialRouting",
               "Scorecard", "Aging", "Portfolio", "Reconciliation", "ImportLog", "Exceptions", "Settings",
               INDEX_SHEET)
# Column widths of the owned sheets: a one-table sheet takes its table's declared widths;
# the Dashboard and the multi-table sheets have a grid of their own.
ONE_TABLE_SHEETS = {"Worklist": m.WORKLIST, "Scorecard": m.SCORECARD, "Aging": m.AGING,
                    "Exceptions": m.EXCEPTIONS, "Reconciliation": m.RECONCILIATION}
OWNED_WIDTHS = {**{name: [f.width for f in out.fields] for name, out in ONE_TABLE_SHEETS.items()},
                # Portfolio's tables share its columns: each column as wide as its widest field.
                "Portfolio": [max(o.fields[j].width for o in m.PORTFOLIO if j < len(o.fields))
                              for j in range(max(len(o.fields) for o in m.PORTFOLIO))],
                # Column A holds the payor names (and the first tile); B:G the other tiles.
                "Dashboard": [32] + [19] * 6 + [2]}
TAB_COLORS = {"Dashboard": "#1F3864", "Worklist": "#C00000", "Settings": "#7F7F7F"}

# Print setup (every sheet but xlwings.conf): US Letter landscape, fitted to the page
# width, the header row repeated on every page, "Sheet … Page n of N" in the footer.
# A sheet wider than a page at PRINT_MIN_SCALE is spread over several pages across
# (its first columns repeated on each: Claims' Claim ID and Line) rather than shrunk
# past reading.
PRINT_MARGINS = {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.6}
PRINT_WIDTH_PX = (11 - PRINT_MARGINS["left"] - PRINT_MARGINS["right"]) * 96
PRINT_MIN_SCALE = 0.55
PRINT_FOOTER = "&L&8&A&R&8Page &P of &N"
REPEAT_COLUMNS = {"Claims": (0, 1)}
PAYOR_WIDTH = 32         # "Silver Harbor Medicare Advantage", "Riverbend Community Health Plan"
INPUT_HEADER_HEIGHT = 30  # points: an input table's header row, two lines of a wrapped header
# Excel's own calculation engine id (Excel 2019 and Microsoft 365). A file with an older
# calcId (xlsxwriter writes 124519, Excel 2007's) is recalculated in full when Excel opens
# it, which leaves it "changed": Excel asks to save it on every close.
CALC_ID = 191029


def _print_setup(ws, widths: list[float], header_row: int | None = None, one_page: bool = False,
                 area: str | None = None, repeat_columns: tuple[int, int] | None = None,
                 spread: bool = False) -> None:
    """Landscape Letter, fitted to the page width (to one page with `one_page`; over as
    many pages across as keep PRINT_MIN_SCALE with `spread`), the header row repeated on
    every page, the sheet's name and page number in the footer."""
    ws.set_landscape()
    ws.set_paper(1)   # US Letter
    ws.set_margins(**PRINT_MARGINS)
    ws.set_footer(PRINT_FOOTER)
    if one_page:
        ws.fit_to_pages(1, 1)
        ws.center_horizontally()
    else:
        width_px = sum(w * 7 + 5 for w in widths)   # Excel's pixels for a column width
        across = max(1, math.ceil(width_px * PRINT_MIN_SCALE / PRINT_WIDTH_PX)) if spread else 1
        ws.fit_to_pages(across, 0)
        if across > 1:
            ws.print_across()   # all the pages of a band of rows in turn, then the next band
    if header_row is not None:
        ws.repeat_rows(header_row)
    if repeat_columns is not None:
        ws.repeat_columns(*repeat_columns)
    if area:
        ws.print_area(area)


def _formats(wb) -> dict:
    fmts = {kind: wb.add_format({"num_format": f}) for kind, f in m.FORMATS.items()}
    fmts["text"] = wb.add_format({"num_format": "@"})
    fmts["calc_text"] = wb.add_format({"font_color": "#1F3864", "bg_color": "#F2F2F2"})
    for kind, f in m.FORMATS.items():
        fmts["calc_" + kind] = wb.add_format({"num_format": f, "font_color": "#1F3864", "bg_color": "#F2F2F2"})
    fmts["title"] = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"})
    fmts["wrap"] = wb.add_format({"text_wrap": True, "valign": "top", "font_color": "#595959"})
    fmts["bold"] = wb.add_format({"bold": True})
    fmts["header_wrap"] = wb.add_format({"text_wrap": True, "valign": "vcenter"})   # the table style does the rest
    return fmts


class _MemoSearch:
    """xlsxwriter's dynamic-array check (a long regex alternation) run once per distinct
    formula text: a calculated column repeats one formula of thousands of characters on
    every row, and the check dominated writing the template."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.search = functools.lru_cache(maxsize=512)(pattern.search)

    def __getattr__(self, name):
        return getattr(self.pattern, name)


def _memoize_dynamic_check(module) -> None:
    """Remember xlsxwriter's dynamic-array check per formula text, whichever form the
    installed xlsxwriter has: the regex ``re_dynamic_function`` (up to 3.3.3) or the
    function ``_has_dynamic_function`` (3.3.4 on), both pure functions of the text. A
    version with neither is left as it is (only slower)."""
    if hasattr(module, "re_dynamic_function"):
        if not isinstance(module.re_dynamic_function, _MemoSearch):
            module.re_dynamic_function = _MemoSearch(module.re_dynamic_function)
    elif callable(getattr(module, "_has_dynamic_function", None)) \
            and not hasattr(module._has_dynamic_function, "cache_info"):
        module._has_dynamic_function = functools.lru_cache(maxsize=512)(module._has_dynamic_function)


_memoize_dynamic_check(xlsxwriter.worksheet)


def _input_sheet(wb, fmts, table: m.Table, frame: pd.DataFrame | None,
                 calculated: pd.DataFrame | None) -> None:
    ws = wb.add_worksheet(table.name)
    # xlsxwriter rescans every formula with ~30 regexes; a calculated column repeats one
    # formula on every row, so remember the result (a pure function of the text).
    ws._prepare_formula = functools.lru_cache(maxsize=256)(ws._prepare_formula)
    formulas = table_formulas().get(table.name, {})
    n = 0 if frame is None else len(frame)
    rows = max(n, 1)  # an Excel table needs at least one data row
    columns = []
    for c in table.columns:
        columns.append({"header": c.name, "format": fmts.get(c.kind), "header_format": fmts["header_wrap"]})
    for c in table.calculated:
        columns.append({"header": c.name, "formula": "=" + formulas[c.key], "header_format": fmts["header_wrap"],
                        "format": fmts["calc_" + c.kind] if ("calc_" + c.kind) in fmts else fmts["calc_text"]})
    data = []
    if frame is not None and n:
        data = [[to_excel(v, c.kind) for v, c in zip(vals, table.columns)]
                for vals in frame[[c.key for c in table.columns]].itertuples(index=False, name=None)]
    ws.add_table(0, 0, rows, len(columns) - 1, {
        "name": table.name, "columns": columns, "style": "Table Style Medium 2",
        **({"data": data} if data else {})})
    if data:
        # xlsxwriter writes table data without the column formats; write typed cells
        # so dates show as dates and money as money.
        for i, vals in enumerate(data, start=1):
            for j, (v, c) in enumerate(zip(vals, table.columns)):
                fmt = fmts.get(c.kind)
                if v is None:
                    ws.write_blank(i, j, None, fmt)
                elif isinstance(v, dt.datetime):
                    ws.write_datetime(i, j, v, fmt)
                elif isinstance(v, str):
                    ws.write_string(i, j, v, fmt)  # never a formula, whatever the text
                else:
                    ws.write_number(i, j, v, fmt)
    # Calculated columns: the formula with the engine's value cached.
    base = len(table.columns)
    for j, c in enumerate(table.calculated):
        fmt = fmts["calc_" + c.kind] if ("calc_" + c.kind) in fmts else fmts["calc_text"]
        values = calculated[c.key].tolist() if calculated is not None and n else [None] * rows
        for i in range(rows):
            v = values[i] if i < len(values) else None
            # (a flag's "" on a row it does not apply to is no value, not FALSE)
            v = None if isinstance(v, str) and v == "" else to_excel(v, c.kind)
            if isinstance(v, dt.datetime):
                v = datetime_to_serial(v)
            cached = "" if v is None else v
            cell = ws.table.get(i + 1, {}).get(base + j)
            if hasattr(cell, "_replace") and getattr(cell, "formula", None) is not None:
                # add_table already wrote this column's formula on every row: only set the
                # cached value (re-writing would re-parse a long formula per row).
                ws.table[i + 1][base + j] = cell._replace(format=fmt, value=cached)
            else:
                ws.write_formula(i + 1, base + j, "=" + formulas[c.key], fmt, cached)
    widths = [max(c.width, PAYOR_WIDTH) if c.key == "payor" else c.width for c in table.columns]
    ws.set_row(0, INPUT_HEADER_HEIGHT)
    for j, c in enumerate(table.columns):
        ws.set_column(j, j, widths[j])
        ws.write_comment(0, j, f"{c.name}{' (required)' if c.required else ''}: {c.description}",
                         {"x_scale": 2, "y_scale": 1.2})
    for j, c in enumerate(table.calculated):
        ws.set_column(base + j, base + j, c.width)
        ws.write_comment(0, base + j, f"{c.name} (calculated, do not type here): {c.description}",
                         {"x_scale": 2, "y_scale": 1.2})
    last = 1048575
    for j, c in enumerate(table.columns):
        if c.kind == m.CHOICE:
            ws.data_validation(1, j, last, j, {"validate": "list", "source": list(c.choices),
                                               "error_title": c.name,
                                               "error_message": f"Pick one of: {', '.join(c.choices)}"})
        elif c.key == "payor" and table.name != "Contracts":
            ws.data_validation(1, j, last, j, {"validate": "list", "source": "=px_payors",
                                               "error_type": "warning", "error_title": "Payor",
                                               "error_message": "This payor has no row in Contracts."})
        elif c.kind == m.DATE:
            ws.data_validation(1, j, last, j, {"validate": "date", "criteria": "between",
                                               "minimum": dt.date(1950, 1, 1), "maximum": dt.date(2099, 12, 31),
                                               "error_title": c.name,
                                               "error_message": "Enter a date such as 03/14/2026."})
        elif c.kind in (m.INT, m.MONEY, m.PERCENT, m.NUMBER) and c.minimum is not None:
            ws.data_validation(1, j, last, j, {"validate": "integer" if c.kind == m.INT else "decimal",
                                               "criteria": ">=", "value": c.minimum,
                                               "error_title": c.name,
                                               "error_message": f"Enter a number of at least {c.minimum:g}."})
    ws.freeze_panes(1, 2 if table.name == "Claims" else 1)
    _print_setup(ws, widths + [c.width for c in table.calculated], header_row=0, spread=True,
                 repeat_columns=REPEAT_COLUMNS.get(table.name))


def _settings_sheet(wb, fmts, values: dict) -> None:
    ws = wb.add_worksheet(m.SETTINGS_SHEET)
    ws.write_row(0, 0, ["Setting", "Value", "What it does"], fmts["bold"])
    for i, s in enumerate(m.SETTINGS):
        r = SETTINGS_FIRST_ROW - 1 + i
        ws.write_string(r, 0, s.name)
        v = values.get(s.key, s.default)
        fmt = fmts.get(s.kind)
        if v is None or v == "":
            ws.write_blank(r, 1, None, fmt)
        elif s.kind == m.DATE:
            ws.write_datetime(r, 1, pd.Timestamp(v).to_pydatetime(), fmt)
        elif s.kind == m.TEXT:
            ws.write_string(r, 1, str(v), fmt)
        else:
            ws.write_number(r, 1, v, fmt)
        ws.write_string(r, 2, s.description, fmts["wrap"])
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 2, 80)
    ws.freeze_panes(1, 0)
    _print_setup(ws, [28, 26, 80], header_row=0)


def _import_log_sheet(wb, fmts) -> None:
    """ImportLog: one row per imported 835/837 file, appended by `payorxl import` and
    never rewritten by a recalculation (model.IMPORT_LOG declares its columns)."""
    ws = wb.add_worksheet(m.IMPORT_LOG.title)
    for j, c in enumerate(m.IMPORT_LOG.fields):
        ws.set_column(j, j, c.width, wb.add_format({"num_format": c.excel_format}) if c.excel_format else None)
        ws.write_string(0, j, c.name, fmts["bold"])
        ws.write_comment(0, j, f"{c.name}: {c.description}", {"x_scale": 2, "y_scale": 1.2})
    ws.freeze_panes(1, 0)
    _print_setup(ws, [c.width for c in m.IMPORT_LOG.fields], header_row=0, spread=True)


def _dashboard_charts(wb, ws) -> None:
    """The four charts, each beside its block and reading the block's fixed slots.

    A slot the results do not fill is a blank row: the category axes label every
    category (interval 1), blank slots plot nothing (gaps, the default) and, reversed,
    fall at the bottom; the pie names its slices on the slices, so a blank slot has no legend entry.
    Axes start at zero and the rate axis runs 0-100%, so an empty workbook shows sensible
    axes rather than a spreadsheet's default 0-12."""
    def rng(block, col):
        return ["Dashboard", block.first_data_row, col, block.last_data_row, col]

    small = {"size": 9}
    category = {"interval_unit": 1, "interval_tick": 1, "num_font": small, "major_tick_mark": "none"}
    size = {"x_scale": 1.3, "y_scale": 0.85}

    b = DASHBOARD["denials"]
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({"name": "Initial denial rate", "categories": rng(b, 0), "values": rng(b, 3),
                      "fill": {"color": "#C00000"}, "gap": 60,
                      "data_labels": {"value": True, "num_format": "0.0%", "font": small}})
    chart.set_title({"name": "Initial denial rate by payor", "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True, **category})           # a bar chart's y axis: the payors
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1, "major_unit": 0.2, "num_font": small,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    ws.insert_chart(b.row, CHART_COLUMN, chart, size)

    b = DASHBOARD["aging"]
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for j, (name, color) in enumerate(zip(b.headers[1:6], ("#A9D18E", "#FFD966", "#F4B183", "#E06666", "#990000")),
                                      start=1):
        chart.add_series({"name": name, "categories": rng(b, 0), "values": rng(b, j), "fill": {"color": color},
                          "gap": 60})
    chart.set_title({"name": "Insurance A/R by payor and age", "name_font": {"size": 12}})
    chart.set_legend({"position": "bottom", "font": small})
    chart.set_y_axis({"reverse": True, **category})
    chart.set_x_axis({"num_format": '"$"#,##0', "min": 0, "num_font": small,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    ws.insert_chart(b.row, CHART_COLUMN, chart, size)

    b = DASHBOARD["categories"]
    chart = wb.add_chart({"type": "pie"})
    chart.add_series({"name": "Charges denied", "categories": rng(b, 0), "values": rng(b, 3),
                      "data_labels": {"category": True, "percentage": True, "separator": "\n",
                                      "leader_lines": True, "position": "best_fit", "font": small}})
    chart.set_title({"name": "Denied charges by root cause", "name_font": {"size": 12}})
    chart.set_legend({"none": True})   # the slices carry their names: no entry for a blank slot
    ws.insert_chart(b.row, CHART_COLUMN, chart, {"x_scale": 1.3, "y_scale": 1.0})

    b = DASHBOARD["monthly"]
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Charges", "categories": rng(b, 0), "values": rng(b, 1), "fill": {"color": "#9DC3E6"}})
    chart.add_series({"name": "Paid", "categories": rng(b, 0), "values": rng(b, 2), "fill": {"color": "#1F3864"}})
    chart.set_title({"name": "Charges and payments by month of service", "name_font": {"size": 12}})
    chart.set_legend({"position": "bottom", "font": small})
    chart.set_x_axis({**category, "num_font": {"size": 8, "rotation": -45}})
    chart.set_y_axis({"num_format": '"$"#,##0', "min": 0, "num_font": small,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    ws.insert_chart(b.row, CHART_COLUMN, chart, size)


def _owned_sheet(wb, name: str) -> None:
    """An owned sheet as the template leaves it for the writer: column widths, frozen
    header, print setup; the Dashboard with its charts."""
    ws = wb.add_worksheet(name)
    widths = OWNED_WIDTHS.get(name, [])
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    # The writer gives these rows these heights; set here too, the buttons' and charts'
    # anchors (computed from the row heights when the file is written) come out right.
    for row, points in ROW_HEIGHTS.get(name, {}).items():
        ws.set_row(row, points)
    if name == "Dashboard":
        ws.hide_gridlines(2)
        last = max(b.last_data_row for b in DASHBOARD.values())
        right = CHART_COLUMN + CHART_COLUMNS - 1
        _print_setup(ws, widths, one_page=True, area=f"A1:{xl_col_to_name(right)}{last + 2}")
        _dashboard_charts(wb, ws)
        ws.activate()
    elif name in ONE_TABLE_SHEETS:
        ws.freeze_panes(TABLE_HEADER_ROW + 1, 0)
        _print_setup(ws, widths, header_row=TABLE_HEADER_ROW)
    elif name == INDEX_SHEET:   # payorxl's, for the Claims formulas (index.py): out of the way
        ws.hide()
    else:   # Portfolio: several tables, no one header to repeat
        _print_setup(ws, widths)


def _index_sheet(ws, frames: dict[str, pd.DataFrame], calculated: dict[str, pd.DataFrame]) -> None:
    """The Index of the frames (index.py), as a recalculation would write it."""
    from ..conversion import empty_frame
    claims = frames.get("Claims", empty_frame(m.CLAIMS))
    payments = frames.get("Payments", empty_frame(m.PAYMENTS))
    given = calculated.get("Payments")
    actions = given["action"] if given is not None and len(given) == len(payments) else None
    for c in index_cells(claims, payments, actions=actions, claim_values=calculated.get("Claims")) or ():
        if isinstance(c.value, Formula):
            ws.write_formula(c.row, c.col, "=" + c.value.text, None, c.value.cached)
        elif isinstance(c.value, str):
            ws.write_string(c.row, c.col, c.value)
        else:
            ws.write_number(c.row, c.col, c.value)


def build_workbook(path: str | Path, frames: dict[str, pd.DataFrame] | None = None,
                   settings: dict | None = None,
                   calculated: dict[str, pd.DataFrame] | None = None, customize=None,
                   created: dt.datetime | None = None, index: bool = True) -> Path:
    """Write a new practice workbook at `path` (overwriting nothing: the caller checks).

    A path ending in .xlsm gives the macro-enabled workbook (buttons, PX_ formulas:
    vba.py); .xlsx the plain one.
    frames: typed input frames by table name (None: an empty template);
    settings: Settings values by key; calculated: engine values of the calculated
    columns by table name (cached beside the formulas); index: False leaves the Index
    sheet empty, for a caller that writes it next (pipeline.new_workbook).
    """
    path = Path(path)
    frames = frames or {}
    calculated = calculated or {}
    # use_zip64: a Claims sheet of some 200,000 lines is over the 2 GB a part holds without
    # ZIP64 (Excel and LibreOffice read ZIP64; a smaller part is written as before).
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "use_zip64": True})
    wb.set_properties({"title": "payorxl practice workbook", "comments": "Built by payorxl",
                       **({"created": created} if created else {})})
    fmts = _formats(wb)
    for name, ref in {**settings_names(), **index_names(), **table_names()}.items():
        wb.define_name(name, ref)
    wb.define_name("px_payors", "=Contracts!$A$2:$A$1000")
    tables = {t.name: t for t in m.INPUT_TABLES}
    from ..engine.seeds import SEEDS  # the rule tables start seeded (Medicare's rules, the CARC list)
    for name in SHEET_ORDER:
        if name in tables:
            frame = frames.get(name)
            if frame is None and name in SEEDS:
                frame = SEEDS[name]()
            _input_sheet(wb, fmts, tables[name], frame, calculated.get(name))
        elif name == m.SETTINGS_SHEET:
            _settings_sheet(wb, fmts, settings or {})
        elif name == "ImportLog":
            _import_log_sheet(wb, fmts)
        else:
            _owned_sheet(wb, name)
            if name == INDEX_SHEET and index:
                _index_sheet(wb.get_worksheet_by_name(name), frames, calculated)
        if name in TAB_COLORS:
            wb.get_worksheet_by_name(name).set_tab_color(TAB_COLORS[name])
    if customize is not None:
        customize(wb)
    # An .xlsm gets payorxl's buttons and formulas (vba.py), unless `customize` gave
    # it a VBA project of its own.
    macros = path.suffix.lower() == ".xlsm" and not wb.vba_project
    if macros:
        add_excel_parts(wb)
        wb.get_worksheet_by_name(CONF_SHEET).hide()   # xlwings reads it by name, hidden or not
    # The formulas' values are cached (the engine's), so Excel need not recalculate in
    # full on opening (which would leave an unchanged workbook "changed": a save prompt
    # on close); an import that appends formula rows sets fullCalcOnLoad itself
    # (append.full_calc_on_load), keeping this calcId.
    wb.set_calc_mode("auto", calc_id=CALC_ID)
    wb.calc_on_load = False   # xlsxwriter has no other switch for fullCalcOnLoad
    wb.close()
    if macros:
        embed_vba(path)
    return path
