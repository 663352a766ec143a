"""Many practices: a roll-up of their workbooks into one portfolio workbook.

`practice_figures(path)` reads one practice workbook, calculates it (as pipeline.load
does) and keeps only counts and sums: every KPI of the practice *with its numerator and
denominator* (claims denied and adjudicated, charges, payments and contractual
adjustments, A/R and the average daily charges, ...), and per payor the same for the
payor benchmark. It is a plain picklable function, run on a process pool or a Dask
cluster (cluster.py) like pipeline.recalc_safely.

`roll_up(figures)` then totals them: counts and dollars are summed and every rate is
recomputed from the summed numerators and denominators, never averaged over the
practices (practice A 2 of 4 claims denied, practice B 1 of 1: 3 of 5 = 60%, not the
75% mean of 50% and 100%).

Nothing in a roll-up identifies a patient or a claim: its rows are practices and payors,
its text is practice names, payor names, CARC codes and file names (tests/test_rollup.py
checks every identifier of the inputs is absent from every output).

The tables are declared in model.py (ROLLUP_PRACTICES, ROLLUP_PAYORS,
ROLLUP_PAYOR_PRACTICES, ROLLUP_FAILED), so the sheets, CSV files and JSON come from one
declaration; the portfolio workbook is written through the one write layer
(write_owned_sheets / package.install): an existing one keeps everything but its owned
sheets, as a practice workbook does on recalc.
"""
from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import model as m
from .codec import external_frame, safe_frame, to_excel, to_external
from .engine import calculate
from .engine.lines import distinct_claims
from .errors import PayorxlError
from .validate import validate
from .workbook.read import read_inputs
from .workbook.sheets import (
    CHART_COLUMN,
    DASHBOARD_HEIGHTS,
    STYLES,
    TABLE_HEADER_ROW,
    TILE_ORDER,
    TILE_ROWS,
    TILES_PER_ROW,
    Block,
    table_cells,
    totals_cells,
)
from .workbook.xlsxpart import Cell

ALL = "All practices"
TOP_REASONS = 3
# The portfolio workbook's owned sheets: a refresh rewrites these and nothing else.
SHEETS = ("Dashboard", "Practices", "Payors", "Payors by Practice", "Failed")
ONE_TABLE = {"Practices": m.ROLLUP_PRACTICES, "Payors": m.ROLLUP_PAYORS,
             "Payors by Practice": m.ROLLUP_PAYOR_PRACTICES, "Failed": m.ROLLUP_FAILED}
HEIGHTS = {"Dashboard": DASHBOARD_HEIGHTS, **{name: {TABLE_HEADER_ROW: 45} for name in ONE_TABLE}}


PRACTICE_BLOCK = Block("Practices (largest by charges adjudicated)", 11, 20, m.ROLLUP_PRACTICES.only(
    "practice", "claims_adjudicated", "claims_denied", "initial_denial_rate", "net_collection_rate",
    "days_in_ar", "ar_total"))
PAYOR_BLOCK = Block("Payor benchmark, all practices (largest by claims adjudicated)", 34, 15,
                    m.ROLLUP_PAYORS.only("payor", "practices", "claims_adjudicated", "denial_rate",
                                         "underpayment_rate", "days_to_pay", "top_denial_reasons"))
FAILED_BLOCK = Block("Workbooks not rolled up", 52, 8, m.ROLLUP_FAILED.fields)
DASHBOARD_WIDTHS = [32] + [19] * 6 + [2]


@dataclass
class PracticeFigures:
    """One workbook's contribution to a roll-up (or why it failed): counts and sums only."""
    path: str
    row: dict = field(default_factory=dict)           # ROLLUP_PRACTICES keys (cents, counts)
    payors: list = field(default_factory=list)        # ROLLUP_PAYOR_PRACTICES rows (+ sums)
    reasons: dict = field(default_factory=dict)       # payor -> Counter of denial reasons
    failed: str = ""
    seconds: float = 0.0


def _evaluate(path, as_of):
    """pipeline.evaluate, keeping the validated frames (the appeals the overturn rate counts)."""
    inputs = read_inputs(path, as_of)
    import zipfile

    from .workbook.xlsxpart import sheet_parts
    with zipfile.ZipFile(path) as z:
        names = sheet_parts(z)
    missing = [t.name for t in m.INPUT_TABLES if t.name not in names and not t.optional]
    if missing:   # a spreadsheet, not a practice workbook: its figures would all be blank
        raise PayorxlError(f"{Path(path).name} is not a payorxl practice workbook (no {', '.join(missing)} "
                           f"sheet{'s' if len(missing) > 1 else ''}); make one with 'payorxl new'")
    frames, rule_errors = validate(inputs.frames, inputs.settings)
    return frames, calculate(frames, inputs.settings, inputs.errors + rule_errors)


def _rate(numerator, denominator):
    return numerator / denominator if denominator else None


def _claims(lines: pd.DataFrame, mask) -> int:
    """Distinct claims among the lines under `mask` (claim IDs as lines are matched: case
    ignored, as the practice's own figures count them)."""
    return distinct_claims(lines.loc[mask, "claim_id"])


def _cents(series: pd.Series, mask=None) -> int:
    s = series if mask is None else series[mask]
    return int(pd.to_numeric(s, errors="coerce").fillna(0).sum())


def _reason(group, carc) -> str:
    carc = "" if carc is None or carc != carc else str(carc)
    group = "" if group is None or group != group else str(group)
    return f"{group}-{carc}" if group and carc else carc or group or "(no CARC)"


def _payor_sums(lines: pd.DataFrame) -> dict:
    """The payor-benchmark numerators and denominators of a set of claim lines."""
    adjudicated = lines["adjudicated"].astype(bool)
    denied = lines["denied_first_pass"].astype(bool)
    underpaid = lines["underpaid"].fillna(False).astype(bool)
    days = (lines["first_remit_date"] - lines["filed_date"]).dt.days
    timed = days.notna()
    return {
        "claims_adjudicated": _claims(lines, adjudicated), "claims_denied": _claims(lines, denied),
        "lines_adjudicated": int(adjudicated.sum()), "underpaid_lines": int(underpaid.sum()),
        "underpayment": _cents(lines["variance"], underpaid),
        "lines_timed": int(timed.sum()), "days_total": int(days[timed].sum()),
    }


def practice_figures(path, as_of=None) -> PracticeFigures:
    """What one workbook adds to a roll-up; a failure (not a payorxl workbook, unreadable)
    is reported in `failed`, never raised, so one bad file does not stop the others."""
    import time
    start = time.perf_counter()
    try:
        frames, results = _evaluate(path, as_of)
    except PayorxlError as e:
        return PracticeFigures(str(path), failed=str(e))
    except Exception as e:  # an unexpected failure is still reported per workbook
        return PracticeFigures(str(path), failed=f"unexpected {type(e).__name__}: {e}")
    s, lines, k = results.settings, results.lines, results.kpis
    adjudicated = lines["adjudicated"].astype(bool)
    denied = lines["denied_first_pass"].astype(bool)
    claims_adjudicated = _claims(lines, adjudicated)
    charges_adjudicated = _cents(lines["charge"], adjudicated)
    outcome = frames["Appeals"]["outcome"].astype(str)
    period = int(s.ar_period_days)
    in_period = (lines["dos"] > s.as_of - pd.Timedelta(days=period)) & (lines["dos"] <= s.as_of)
    period_charges = _cents(lines["charge"], in_period)

    def recovered(rate):   # a rate over claims adjudicated, back to its whole-number numerator
        return 0 if rate is None else int(round(rate * claims_adjudicated))

    aging = {b: _cents(results.aging[b]) if b in results.aging else 0 for b in m.AGING_BUCKETS}
    under = lines["underpaid"].fillna(False).astype(bool)
    row = {
        "workbook": Path(path).name, "practice": s.practice_name, "as_of": s.as_of,
        "claim_lines": len(lines),
        "rows_left_out": sum(e.severity == "error" for e in results.errors),
        "warnings": sum(e.severity == "warning" for e in results.errors),
        "claims_adjudicated": claims_adjudicated, "claims_denied": _claims(lines, denied),
        "charges_adjudicated": charges_adjudicated, "charges_denied": _cents(lines["charge"], denied),
        "clean_claims": recovered(k["clean_claim_rate"].value),
        "first_pass_resolved": recovered(k["first_pass_resolution_rate"].value),
        "appeals_decided": int((~outcome.isin(("Pending", "Withdrawn"))).sum()),
        "appeals_overturned": int(outcome.isin(("Overturned", "Partially Overturned")).sum()),
        "written_off": _cents(lines["written_off"]),
        "payments": _cents(lines["paid"], adjudicated),
        "contractual_adj": _cents(lines["contractual_adj"], adjudicated),
        "ar_total": k["ar_total"].value, **aging,
        "period_charges": period_charges, "ar_period_days": period,
        "underpaid_lines": int(under.sum()), "underpayment": k["underpayment"].value,
        "missed_deadlines": k["missed_deadlines"].value, "missed_amount": k["missed_amount"].value,
        "due_soon": k["at_risk"].value, "due_soon_amount": k["at_risk_amount"].value,
    }
    payors, reasons = [], {}
    for payor, group in lines.groupby(lines["payor"].astype(str), sort=True):
        sums = _payor_sums(group)
        d = group["denied_first_pass"].astype(bool)
        reasons[payor] = Counter(_reason(g, c) for g, c in zip(group.loc[d, "denial_group"],
                                                                group.loc[d, "denial_carc"]))
        payors.append({"practice": s.practice_name, "workbook": Path(path).name, "payor": payor, **sums})
    return PracticeFigures(str(path), _with_rates(row), payors, reasons,
                           seconds=time.perf_counter() - start)


def _with_rates(row: dict) -> dict:
    """A practice row (or the totals) with every rate from its numerator and denominator."""
    r = dict(row)
    r["initial_denial_rate"] = _rate(r["claims_denied"], r["claims_adjudicated"])
    r["charge_denial_rate"] = _rate(r["charges_denied"], r["charges_adjudicated"])
    r["clean_claim_rate"] = _rate(r["clean_claims"], r["claims_adjudicated"])
    r["first_pass_resolution_rate"] = _rate(r["first_pass_resolved"], r["claims_adjudicated"])
    r["appeal_overturn_rate"] = _rate(r["appeals_overturned"], r["appeals_decided"])
    r["final_denial_writeoff_rate"] = _rate(r["written_off"], r["charges_adjudicated"])
    r["net_charges"] = r["charges_adjudicated"] - r["contractual_adj"]
    r["net_collection_rate"] = _rate(r["payments"], r["net_charges"])
    daily = r.pop("_daily", None)
    if daily is None:
        daily = r["period_charges"] / r["ar_period_days"] if r["ar_period_days"] else 0
    r["avg_daily_charges"] = int(round(daily))
    r["days_in_ar"] = _rate(r["ar_total"], daily)
    return r


def _payor_rates(r: dict) -> dict:
    r = dict(r)
    r["denial_rate"] = _rate(r["claims_denied"], r["claims_adjudicated"])
    r["underpayment_rate"] = _rate(r["underpaid_lines"], r["lines_adjudicated"])
    r["days_to_pay"] = _rate(r["days_total"], r["lines_timed"])
    return r


def _top(counter: Counter) -> str:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return ", ".join(f"{reason} ({n:,})" for reason, n in items)


SUMMED = ("claim_lines", "rows_left_out", "warnings", "claims_adjudicated", "claims_denied",
          "charges_adjudicated", "charges_denied", "clean_claims", "first_pass_resolved", "appeals_decided",
          "appeals_overturned", "written_off", "payments", "contractual_adj", "ar_total", *m.AGING_BUCKETS,
          "period_charges", "underpaid_lines", "underpayment", "missed_deadlines", "missed_amount",
          "due_soon", "due_soon_amount")
PAYOR_SUMMED = ("claims_adjudicated", "claims_denied", "lines_adjudicated", "underpaid_lines", "underpayment",
                "lines_timed", "days_total")


@dataclass
class Rollup:
    """The roll-up of many practices: frames laid out as the model declares them
    (engine units: cents, fractions), the totals row, and the failed workbooks."""
    practices: pd.DataFrame
    totals: dict
    payors: pd.DataFrame
    payor_practices: pd.DataFrame
    failed: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """Name -> frame for CSV (money in dollars), as model declares each table."""
        return {
            m.ROLLUP_PRACTICES.name: external_frame(self.practices, m.ROLLUP_PRACTICES.fields),
            "rollup_totals": external_frame(pd.DataFrame([self.totals]), m.ROLLUP_PRACTICES.fields),
            m.ROLLUP_PAYORS.name: external_frame(self.payors, m.ROLLUP_PAYORS.fields),
            m.ROLLUP_PAYOR_PRACTICES.name: external_frame(self.payor_practices, m.ROLLUP_PAYOR_PRACTICES.fields),
            m.ROLLUP_FAILED.name: external_frame(self.failed, m.ROLLUP_FAILED.fields),
        }

    def as_json(self) -> dict:
        """The roll-up for other tools: money in dollars, dates ISO, rates as fractions."""
        def records(frame, output):
            return [{f.key: to_external(r.get(f.key), f.kind) for f in output.fields}
                    for r in frame.to_dict("records")]
        return {"practices": records(self.practices, m.ROLLUP_PRACTICES),
                "totals": records(pd.DataFrame([self.totals]), m.ROLLUP_PRACTICES)[0],
                "payors": records(self.payors, m.ROLLUP_PAYORS),
                "payor_practices": records(self.payor_practices, m.ROLLUP_PAYOR_PRACTICES),
                "failed": records(self.failed, m.ROLLUP_FAILED)}


def roll_up(figures: list[PracticeFigures]) -> Rollup:
    """Total the practices: sums, and every rate from the summed numerator and denominator."""
    ok = [f for f in figures if not f.failed]
    practices = pd.DataFrame([f.row for f in ok], columns=list(dict.fromkeys(
        m.ROLLUP_PRACTICES.keys + list(ok[0].row if ok else []))))
    totals = {key: sum(int(f.row[key] or 0) for f in ok) for key in SUMMED}
    # Days in A/R: summed A/R over the summed average daily charges (each practice's own
    # period), not the mean of the practices' days.
    totals["_daily"] = sum(f.row["period_charges"] / f.row["ar_period_days"] for f in ok if f.row["ar_period_days"])
    totals["ar_period_days"] = None
    totals = _with_rates(totals)
    dates = [f.row["as_of"] for f in ok]
    totals.update(workbook=f"{len(ok)} workbook(s)", practice=ALL,
                  as_of=max(dates) if dates and min(dates) == max(dates) else None)

    rows = [_payor_rates({**p, "top_denial_reasons": _top(f.reasons.get(p["payor"], Counter()))})
            for f in ok for p in f.payors]
    payor_practices = pd.DataFrame(rows, columns=m.ROLLUP_PAYOR_PRACTICES.keys)
    overall = []
    for payor in sorted({p["payor"] for f in ok for p in f.payors}):
        mine = [p for f in ok for p in f.payors if p["payor"] == payor]
        reasons = sum((f.reasons.get(payor, Counter()) for f in ok), Counter())
        overall.append(_payor_rates({"payor": payor, "practices": len({p["workbook"] for p in mine}),
                                     **{k: sum(p[k] for p in mine) for k in PAYOR_SUMMED},
                                     "top_denial_reasons": _top(reasons)}))
    payors = pd.DataFrame(overall, columns=m.ROLLUP_PAYORS.keys)
    if len(payors):
        payors = payors.sort_values(["claims_adjudicated", "payor"], ascending=[False, True],
                                    kind="stable").reset_index(drop=True)
    failed = pd.DataFrame([{"workbook": Path(f.path).name, "path": f.path, "reason": f.failed}
                           for f in figures if f.failed], columns=m.ROLLUP_FAILED.keys)
    return Rollup(practices, totals, payors, payor_practices, failed)


# --- the portfolio workbook -------------------------------------------------------------

def _subtitle(r: Rollup) -> str:
    n, bad = len(r.practices), len(r.failed)
    as_of = r.totals.get("as_of")
    when = f"as of {as_of:%m/%d/%Y}" if as_of is not None else "as-of dates differ: see Practices"
    note = f" · {bad} workbook(s) not rolled up: see Failed" if bad else ""
    left = int(r.totals.get("rows_left_out") or 0)
    rows = f" · {left:,} row(s) with errors left out" if left else ""
    return (f"{n} practice(s) · {when} · {int(r.totals['claim_lines']):,} claim lines{rows}"
            f" · rolled up by payorxl{note}")


def _titled(title, r: Rollup) -> list[Cell]:
    return [Cell(0, 0, title, "title"), Cell(1, 0, _subtitle(r), "subtitle")]


def dashboard(r: Rollup) -> list[Cell]:
    cells = _titled("Portfolio — payor dashboard across practices", r)
    for n, key in enumerate(TILE_ORDER):
        kpi = m.KPIS_BY_KEY[key]
        tkey = {"at_risk": "due_soon", "at_risk_amount": "due_soon_amount"}.get(key, key)
        row, col = TILE_ROWS[n // TILES_PER_ROW], n % TILES_PER_ROW
        style = {"percent": "tile_percent", "money": "tile_money", "number": "tile_number",
                 "count": "tile_count"}[kpi.kind]
        value = r.totals.get(tkey)
        if key.startswith("missed") and value and kpi.kind == "count":
            style = "tile_alert"
        cells += [Cell(row, col, kpi.label, "tile_label"), Cell(row + 1, col, to_excel(value, kpi.kind), style),
                  Cell(row + 2, col, "all practices: from the summed figures, never an average", "tile_note")]
    biggest = (r.practices.sort_values(["charges_adjudicated", "practice"], ascending=[False, True], kind="stable")
               if len(r.practices) else r.practices)
    for block, frame in ((PRACTICE_BLOCK, biggest), (PAYOR_BLOCK, r.payors), (FAILED_BLOCK, r.failed)):
        cells += block.cells(frame)
        if not len(frame):
            cells.append(Cell(block.first_data_row, 0, "Every workbook was rolled up." if block is FAILED_BLOCK
                              else "Nothing to show.", "ok" if block is FAILED_BLOCK else "note"))
    return cells


def _one_table(title: str, r: Rollup, frame: pd.DataFrame, output: m.Output, totals=None, none="") -> list[Cell]:
    cells = _titled(title, r) + table_cells(frame, output.fields, TABLE_HEADER_ROW)
    below = TABLE_HEADER_ROW + 1 + len(frame) + (1 if len(frame) else 0)
    if not len(frame) and none:
        cells.append(Cell(below, 0, none, "ok" if output is m.ROLLUP_FAILED else "note"))
    elif totals is not None and len(frame):
        cells += totals_cells(totals, output.fields, below, ALL)
    return cells


def sheets(r: Rollup) -> dict[str, list[Cell]]:
    return {
        "Dashboard": dashboard(r),
        "Practices": _one_table(m.ROLLUP_PRACTICES.title, r, r.practices, m.ROLLUP_PRACTICES,
                                {k: v for k, v in r.totals.items() if k not in ("practice", "workbook")},
                                "No practice was rolled up."),
        "Payors": _one_table(m.ROLLUP_PAYORS.title, r, r.payors, m.ROLLUP_PAYORS, none="No claim lines."),
        "Payors by Practice": _one_table(m.ROLLUP_PAYOR_PRACTICES.title, r, r.payor_practices,
                                         m.ROLLUP_PAYOR_PRACTICES, none="No claim lines."),
        "Failed": _one_table(m.ROLLUP_FAILED.title, r, r.failed, m.ROLLUP_FAILED,
                             none="Every workbook was rolled up."),
    }


def _charts(wb, ws) -> None:
    def rng(block, col):
        return ["Dashboard", block.first_data_row, col, block.last_data_row, col]

    small = {"size": 9}
    category = {"interval_unit": 1, "interval_tick": 1, "num_font": small, "major_tick_mark": "none"}
    grid = {"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    for block, col, name, color in ((PRACTICE_BLOCK, 3, "Initial denial rate by practice", "#C00000"),
                                    (PAYOR_BLOCK, 3, "Initial denial rate by payor, all practices", "#1F3864")):
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": name, "categories": rng(block, 0), "values": rng(block, col),
                          "fill": {"color": color}, "gap": 60,
                          "data_labels": {"value": True, "num_format": "0.0%", "font": small}})
        chart.set_title({"name": name, "name_font": {"size": 12}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, **category})
        chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1, "major_unit": 0.2, "num_font": small, **grid})
        ws.insert_chart(block.row, CHART_COLUMN, chart, {"x_scale": 1.3, "y_scale": 1.4})


def build_portfolio(path: Path) -> None:
    """A new, empty portfolio workbook at `path` (the caller installs it): the owned
    sheets with widths, frozen headers and the Dashboard's charts, to be filled by
    write_owned_sheets."""
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": "payorxl portfolio roll-up", "comments": "Built by payorxl rollup"})
    for name in SHEETS:
        ws = wb.add_worksheet(name)
        widths = DASHBOARD_WIDTHS if name == "Dashboard" else [f.width for f in ONE_TABLE[name].fields]
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        for row, points in HEIGHTS.get(name, {}).items():
            ws.set_row(row, points)
        ws.set_landscape()
        ws.set_paper(1)
        if name == "Dashboard":
            ws.hide_gridlines(2)
            ws.set_tab_color("#1F3864")
            ws.fit_to_pages(1, 1)
            _charts(wb, ws)
            ws.activate()
        else:
            ws.freeze_panes(TABLE_HEADER_ROW + 1, 2 if name in ("Practices", "Payors by Practice") else 1)
            ws.repeat_rows(TABLE_HEADER_ROW)
            ws.fit_to_pages(1, 0)
    wb.close()


def write_portfolio(r: Rollup, output: str | Path) -> list[str]:
    """Write the roll-up to `output`: a new portfolio workbook, or an existing one with only
    its owned sheets rewritten (everything else byte for byte). Atomic, and under the
    workbook lock that recalc and import hold (package.workbook_lock): never over a
    workbook one of them is changing (it waits, or is refused naming it). Returns the
    parts that changed."""
    from .workbook.package import install, new_temp, workbook_lock
    from .workbook.xlsxpart import file_state, refuse_if_open, write_owned_sheets
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise PayorxlError(f"{output.name}: the roll-up is a plain workbook; name it {output.stem}.xlsx")
    refuse_if_open(output)
    cells = sheets(r)
    output.parent.mkdir(parents=True, exist_ok=True)
    with workbook_lock(output, "rollup"):
        if output.exists():
            return write_owned_sheets(output, cells, STYLES, output, HEIGHTS, file_state(output))
        tmp = new_temp(output)
        try:
            build_portfolio(Path(tmp))
            changed = write_owned_sheets(tmp, cells, STYLES, tmp, HEIGHTS)
            install(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return changed


def write_csv(r: Rollup, folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in r.frames().items():
        p = folder / f"{name}.csv"
        safe_frame(frame).to_csv(p, index=False, date_format="%Y-%m-%d")
        written.append(p)
    return written


def log_line(f: PracticeFigures, now: dt.datetime | None = None) -> str:
    """One line per workbook for a cron log: time, ok/failed, file name, counts; never a
    patient identifier (a failure's reason is payorxl's message about the file)."""
    stamp = (now or dt.datetime.now()).replace(microsecond=0).isoformat()
    name = Path(f.path).name
    if f.failed:
        return f"{stamp} failed {name}: {f.failed}"
    return (f"{stamp} ok {name} {f.row['claim_lines']:,} lines {f.row['rows_left_out']:,} left out "
            f"{f.seconds:.1f}s")
