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

from .. import model as m, pipeline
from ..engine import APPEAL_FIELDS, FILING_FIELDS, collections, denials
from ..workbook.read import Inputs
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
    "payment_rules": "Optional: the PaymentRules table with its header row (blank: Medicare's rules, as seeded)",
    "modifiers": "Optional: the Modifiers table with its header row (blank: the seeded modifiers)",
    "denial_routing": "Optional: the DenialRouting table with its header row (blank: the seeded routing)",
}
TABLE_ARGS = ("claims", "payments", "contracts", "fee_schedule", "appeals", "payment_rules", "modifiers",
              "denial_routing")

# What each per-row formula spills: fields of the per-line results (model.LINES).
# (the same fields are what each asks the engine for: engine.calculate's `fields`)
EXPECTED_FIELDS = ("expected_allowed",)
FILING_COLUMNS = m.LINES.only(*FILING_FIELDS)
APPEAL_COLUMNS = m.LINES.only(*APPEAL_FIELDS)
EXPECTED_COLUMNS = m.LINES.only(*EXPECTED_FIELDS)
# What PX_DENIAL_RATE reads besides the line summary (denials.initial_denial_rate's frame).
DENIAL_FIELDS = ("denial_category",)


class TableValues(xw.conversion.Accessor):
    """How a table argument is read (an xlwings converter). From desktop Excel on Windows,
    the cells as pywin32 hands them over, untouched: xlwings' default converter would
    first walk every cell in Python (`clean_value_data`: a blank "" made None, each date
    rebuilt without its time zone, an error code made None), about 2 s for the tables of
    100,000 claim lines, two to three times the whole formula
    (benchmarks/udf_args_bench.py). The conversion does the same in its column passes: an
    empty text is a blank cell, a date reads as the day it shows whatever its time zone,
    and an error code reads as an empty cell (conversion.EXCEL_ERRORS). From any other
    runtime (xlwings' remote interpreter), what xlwings' default gives with ndim=2."""

    @classmethod
    def reader(cls, options):
        return (xw.conversion.Accessor.reader(options)
                .append_stage(xw.conversion.ReadValueFromRangeStage(options))
                .append_stage(_CleanOffWindows(options)))


class _CleanOffWindows:
    """The default converter's 2-D and clean stages, but for pywin32's cells."""

    def __init__(self, options):
        self.clean = xw.conversion.CleanDataFromReadStage(options)

    def __call__(self, c):
        if type(c.engine.impl).__module__ == "xlwings._xlwindows":
            return
        xw.conversion.Ensure2DStage()(c)
        self.clean(c)


def excel_args(func):
    """Declare each parameter to xlwings: tables read by `TableValues` (the cells as Excel
    sends them), and a description for the Insert Function dialog."""
    for name in inspect.signature(func).parameters:
        options = {"convert": TableValues} if name in TABLE_ARGS else {}
        func = xw.arg(name, doc=ARG_DOCS[name], **options)(func)
    return func


def _evaluate(settings=None, parts=(), fields=None, **tables):
    """The recalculation's own read → validate → calculate (pipeline.evaluate) over the
    tables passed, so a formula and its sheet agree on the same data: rows the checks
    reject (a duplicated claim line, a payment for no claim line...) are left out of
    both. parts: the Results fields the formula shows besides the lines (engine.PARTS);
    the engine leaves out the others (the worklist, the portfolio...), whose work no
    figure here depends on. fields: for a formula that shows per-line fields only, those
    it reads (engine.calculate's `fields`: the steps that work out the others are not
    run). A formula shows no warning, so the checks that can only warn are not run
    (validate.WARNS_ONLY: a warning never changes a figure)."""
    tables = {k: v for k, v in tables.items() if not (k in cv.RULE_ARGS and cv.is_blank(v))}
    frames = cv.tables(**tables)
    given = cv.given_tables(tables)
    return pipeline.evaluate(Inputs(frames, cv.settings(settings)), given, parts, warnings=False, fields=fields)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_DENIAL_RATE(claims, payments, payor=None, period=None, basis=None):
    """Initial denial rate (HFMA MAP Key): claims (or charges) denied on first
    adjudication ÷ adjudicated, for one payor and/or one month of first remittance."""
    month, basis = cv.month_arg(period), cv.choice_arg(basis, "basis", ("claims", "charges"), "claims")
    lines = cv.only_payor(_evaluate(fields=DENIAL_FIELDS, claims=claims, payments=payments).lines, payor)
    rates = denials.initial_denial_rate(lines, lines, by="month" if month else None)
    return cv.pick_rate(rates, month, basis, payor)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_FILING_DEADLINE(claims, payments, contracts, settings=None, denial_routing=None):
    """Timely filing deadline, days left and status of every claim line, row for row
    beside the Claims table (header first)."""
    lines = _evaluate(settings, fields=FILING_FIELDS, claims=claims, payments=payments, contracts=contracts,
                      denial_routing=denial_routing).lines
    return cv.aligned_out(claims, lines, lines, FILING_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_APPEAL_DEADLINE(claims, payments, contracts, appeals, settings=None, denial_routing=None):
    """Appeal deadline, days left and status of every denied claim line, row for row
    beside the Claims table (blank for lines not denied)."""
    lines = _evaluate(settings, fields=APPEAL_FIELDS, claims=claims, payments=payments,
                      contracts=contracts, appeals=appeals, denial_routing=denial_routing).lines
    return cv.aligned_out(claims, lines, lines, APPEAL_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_EXPECTED_ALLOWED(claims, contracts, fee_schedule, settings=None, payment_rules=None, modifiers=None):
    """Contracted allowed amount (rate × units) of every claim line, row for row beside
    the Claims table (blank where no rate applies)."""
    lines = _evaluate(settings, fields=EXPECTED_FIELDS, claims=claims, contracts=contracts,
                      fee_schedule=fee_schedule, payment_rules=payment_rules, modifiers=modifiers).lines
    return cv.aligned_out(claims, lines, lines, EXPECTED_COLUMNS)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_SCORECARD(claims, payments, contracts, fee_schedule, appeals, settings=None, payment_rules=None,
                 modifiers=None, denial_routing=None):
    """The payor scorecard (as on the Scorecard sheet), spilled: one row per payor."""
    results = _evaluate(settings, ("scorecard",), claims=claims, payments=payments, contracts=contracts,
                        fee_schedule=fee_schedule, appeals=appeals, payment_rules=payment_rules,
                        modifiers=modifiers, denial_routing=denial_routing)
    return cv.table_out(results.scorecard, m.SCORECARD.fields)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_AGING(claims, payments, contracts, fee_schedule, appeals, settings=None, by=None, payment_rules=None,
             modifiers=None, denial_routing=None):
    """Insurance A/R aging (days from the date of service), spilled: one row per payor,
    or per value of another Claims column."""
    key = cv.claims_column(by, "by", "payor")
    results = _evaluate(settings, fields=("balance",), claims=claims, payments=payments, contracts=contracts,
                        fee_schedule=fee_schedule, appeals=appeals, payment_rules=payment_rules,
                        modifiers=modifiers, denial_routing=denial_routing)
    aging = collections.aging(results.lines, results.lines[["balance"]], results.settings, by=key)
    return cv.table_out(aging, m.AGING.grouped_by(m.CLAIMS.column(key).name, key).fields)


@xw.func(**FUNC_OPTIONS)
@excel_args
@cv.readable_errors
def PX_WORKLIST(claims, payments, contracts, fee_schedule, appeals, settings=None, top=None, payment_rules=None,
                modifiers=None, denial_routing=None):
    """The worklist (as on the Worklist sheet), most urgent first, spilled."""
    results = _evaluate(settings, ("worklist",), claims=claims, payments=payments, contracts=contracts,
                        fee_schedule=fee_schedule, appeals=appeals, payment_rules=payment_rules,
                        modifiers=modifiers, denial_routing=denial_routing)
    return cv.table_out(results.worklist, m.WORKLIST.fields, limit=cv.count_arg(top, "top"))


UDFS = (PX_DENIAL_RATE, PX_FILING_DEADLINE, PX_APPEAL_DEADLINE, PX_EXPECTED_ALLOWED,
        PX_SCORECARD, PX_AGING, PX_WORKLIST)
