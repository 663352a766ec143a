"""The engine's figures as Excel formulas: xlwings UDFs, all named PX_...

Each function is an adapter of a few lines: convert the arguments (convert.py), one
engine call, convert the result. Tables go in whole, with their header row
(``Claims[#All]``), so one formula is one Python call over the whole table, never one call
per row. Per-row results (deadlines, expected allowed) come back row for row, header
first, to sit beside the table; tables (scorecard, aging, worklist) spill. None is
volatile: a formula recalculates when its arguments change. A bad argument gives a
one-line message in the cell (convert.readable_errors).

Desktop Excel on Windows runs them through xlwings (the standalone workbook that
``payorxl new`` builds declares them in its ``xlwings_udfs`` module; see docs/excel.md).
On other platforms the decorators do nothing and these are plain functions, which is
how the tests call them, with arguments shaped exactly as Excel sends them.
"""
from __future__ import annotations

import inspect

import xlwings as xw

from .. import engine
from .. import model as m
from ..engine import collections, deadlines, denials, reimbursement
from ..engine.lines import line_summary
from ..workbook.sheets import SCORECARD_COLUMNS, WORKLIST_COLUMNS
from . import convert as cv

MODULE = __name__   # what the xlwings.conf sheet's "UDF Modules" names
# call_in_wizard=False: the Insert Function dialog would otherwise run a whole-table
# calculation on every keystroke.
FUNC_OPTIONS = {"category": "payorxl", "call_in_wizard": False}

ARG_DOCS = {
    "claims": "The Claims table with its header row: Claims[#All]",
    "payments": "The Payments table with its header row: Payments[#All]",
    "contracts": "The Contracts table with its header row: Contracts[#All]",
    "fee_schedule": "The FeeSchedule table with its header row: FeeSchedule[#All]",
    "appeals": "The Appeals table with its header row: Appeals[#All]",
    "settings": "Optional: Settings!A1:B10, or an as-of date (blank: defaults, as of today)",
    "payor": "Optional: one payor, as named in Contracts (blank: all payors)",
    "period": "Optional: a month, as a date in it or \"2026-03\" (blank: all months)",
    "basis": "Optional: \"claims\" (default) or \"charges\"",
    "by": "Optional: the Claims column to group by, e.g. \"Payor\" (default) or \"CPT\"",
    "top": "Optional: the number of rows to show (blank: all)",
}
TABLE_ARGS = ("claims", "payments", "contracts", "fee_schedule", "appeals")

FILING_COLUMNS = [("Filing Deadline", "filing_deadline", "date"),
                  ("Filing Days Left", "filing_days_left", "int"),
                  ("Filing Status", "filing_status", "text")]
APPEAL_COLUMNS = [("Appeal Deadline", "appeal_deadline", "date"),
                  ("Appeal Days Left", "appeal_days_left", "int"),
                  ("Appeal Status", "appeal_status", "text")]
EXPECTED_COLUMNS = [("Expected Allowed", "expected_allowed", "money")]


def excel_args(func):
    """Declare each parameter to xlwings: tables always as 2-D lists (a one-row table
    would otherwise arrive flat), and a description for the Insert Function dialog."""
    for name in inspect.signature(func).parameters:
        options = {"ndim": 2} if name in TABLE_ARGS else {}
        func = xw.arg(name, doc=ARG_DOCS[name], **options)(func)
    return func


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_DENIAL_RATE(claims, payments, payor=None, period=None, basis=None):
    """Initial denial rate (HFMA MAP Key): claims (or charges) denied on first
    adjudication ÷ adjudicated, for one payor and/or one month of first remittance."""
    frames = cv.tables(claims=claims, payments=payments)
    chosen = cv.only_payor(frames["Claims"], payor)
    month, basis = cv.month_arg(period), cv.choice_arg(basis, "basis", ("claims", "charges"), "claims")
    rates = denials.initial_denial_rate(chosen, line_summary(chosen, frames["Payments"]),
                                        by="month" if month else None)
    return cv.pick_rate(rates, month, basis, payor)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_FILING_DEADLINE(claims, payments, contracts, settings=None):
    """Timely filing deadline, days left and status of every claim line, row for row
    beside the Claims table (header first)."""
    frames = cv.tables(claims=claims, payments=payments, contracts=contracts)
    lines = frames["Claims"]
    result = deadlines.filing_deadlines(lines, frames["Contracts"], line_summary(lines, frames["Payments"]),
                                        cv.settings(settings))
    return cv.aligned_out(claims, lines, result, FILING_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_APPEAL_DEADLINE(claims, payments, contracts, appeals, settings=None):
    """Appeal deadline, days left and status of every denied claim line, row for row
    beside the Claims table (blank for lines not denied)."""
    frames = cv.tables(claims=claims, payments=payments, contracts=contracts, appeals=appeals)
    lines = frames["Claims"]
    result = deadlines.appeal_deadlines(lines, frames["Contracts"], line_summary(lines, frames["Payments"]),
                                        frames["Appeals"], cv.settings(settings))
    return cv.aligned_out(claims, lines, result, APPEAL_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_EXPECTED_ALLOWED(claims, contracts, fee_schedule, settings=None):
    """Contracted allowed amount (rate × units) of every claim line, row for row beside
    the Claims table (blank where no rate applies)."""
    frames = cv.tables(claims=claims, contracts=contracts, fee_schedule=fee_schedule)
    lines = frames["Claims"]
    result = reimbursement.expected_allowed(lines, frames["Contracts"], frames["FeeSchedule"],
                                            cv.settings(settings))
    return cv.aligned_out(claims, lines, result, EXPECTED_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_SCORECARD(claims, payments, contracts, fee_schedule, appeals, settings=None):
    """The payor scorecard (as on the Scorecard sheet), spilled: one row per payor."""
    frames = cv.tables(claims=claims, payments=payments, contracts=contracts,
                       fee_schedule=fee_schedule, appeals=appeals)
    results = engine.calculate(frames, cv.settings(settings))
    return cv.table_out(results.scorecard, SCORECARD_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_AGING(claims, payments, contracts, fee_schedule, appeals, settings=None, by=None):
    """Insurance A/R aging (days from the date of service), spilled: one row per payor,
    or per value of another Claims column."""
    frames = cv.tables(claims=claims, payments=payments, contracts=contracts,
                       fee_schedule=fee_schedule, appeals=appeals)
    chosen, key = cv.settings(settings), cv.claims_column(by, "by", "payor")
    balances = engine.per_line(frames, chosen)[["balance"]]
    aging = collections.aging(frames["Claims"], balances, chosen, by=key)
    return cv.table_out(aging, cv.aging_columns(m.CLAIMS.column(key).name, key, collections.BUCKETS))


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_WORKLIST(claims, payments, contracts, fee_schedule, appeals, settings=None, top=None):
    """The worklist (as on the Worklist sheet), most urgent first, spilled."""
    frames = cv.tables(claims=claims, payments=payments, contracts=contracts,
                       fee_schedule=fee_schedule, appeals=appeals)
    results = engine.calculate(frames, cv.settings(settings))
    return cv.table_out(results.worklist, WORKLIST_COLUMNS, limit=cv.count_arg(top, "top"))


UDFS = (PX_DENIAL_RATE, PX_FILING_DEADLINE, PX_APPEAL_DEADLINE, PX_EXPECTED_ALLOWED,
        PX_SCORECARD, PX_AGING, PX_WORKLIST)
