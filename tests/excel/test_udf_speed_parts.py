"""What a PX_ formula leaves out to be quick, and why its figures stay the same.

A formula asks the engine only for the part it shows (engine.calculate's `parts`: the
scorecard, the worklist, or just the per-line results) and skips the checks that can only
warn (validate.WARNS_ONLY): a warning never takes a row out of the figures. These tests hold
both to "the same figures as a whole recalculation", on a messy practice: bad rows, a
second payer, voids, reversals, appeals at several levels, rejections, follow-ups."""
from __future__ import annotations

import ast
import copy
import datetime as dt
import inspect
import random
import textwrap

import pandas as pd
import pytest

from payorxl import engine, model as m, pipeline, validate
from payorxl.conversion import typed_frame
from payorxl.demo import generate_demo
from payorxl.engine import (
    BALANCE_COLUMNS,
    BALANCE_PARTS,
    NO_PROMPT_PAY_PARTS,
    NOTICE_PARTS,
    PARTS,
    PRICING_PARTS,
    calculate,
    worklist,
)
from payorxl.engine.reimbursement import PRICING_COLUMNS
from payorxl.errors import WARNING
from payorxl.excel import convert as cv, udfs
from payorxl.excel.udfs import PX_AGING, PX_SCORECARD, PX_WORKLIST
from payorxl.workbook.read import Inputs


def messy_practice(seed: int = 3):
    """The demo practice, small, with what makes the engine take its other branches."""
    demo = generate_demo(claims=150)
    rec = copy.deepcopy(demo.records)
    r = random.Random(seed)
    payors = [c["payor"] for c in rec["Contracts"]]
    claims, more = rec["Claims"], []
    for c in claims:
        x = r.random()
        c["modifier"] = r.choice([None, None, None, "26", "50", "25", "XX"])
        c["pos"] = r.choice(["11", "11", "21", "2", None])
        if x < 0.08:
            more.append(dict(c, claim_type="Secondary", payor=r.choice(payors), filed_date=None,
                             primary_remit_date=c["dos"] + dt.timedelta(days=30)))
        elif x < 0.10:
            more.append(dict(c, frequency="8"))
        elif x < 0.12:
            more.append(dict(c))                                   # a duplicated line: an error
        elif x < 0.14:
            c["through_date"] = c["dos"] - dt.timedelta(days=2)    # an error
    claims += more
    pays, more = rec["Payments"], []
    for p in pays:
        x = r.random()
        if x < 0.05:
            p["claim_status"] = "19"
        elif x < 0.10:
            more.append(dict(p, claim_status="22", paid=-p["paid"], allowed=None,
                             remit_date=p["remit_date"] + dt.timedelta(days=20)))
        elif x < 0.13:
            more.append(dict(p, payer_seq="2", claim_status="2", paid=5.0,
                             remit_date=p["remit_date"] + dt.timedelta(days=25)))
        elif x < 0.15:
            p["carc"], p["group_code"], p["denied_amount"] = r.choice(["16", "CO-29", "197"]), "CO", 25.0
        elif x < 0.16:
            p["claim_id"] = "NONE-" + p["claim_id"]                # a payment for no claim line
    pays += more
    # Lines denied for missing information (CARC 16: Correct and resubmit) filed again after
    # the denial, some inside the payer's corrected-claim window but past the filing limit;
    # the practice routes CO-197 to a category of its own.
    refiled = {(p["claim_id"], p["line"]): p["remit_date"] for p in pays if p.get("carc") == "16"}
    for i, c in enumerate(claims):
        if (c["claim_id"], c["line"]) in refiled and c.get("claim_type") in (None, "", "Primary") and i % 3:
            c["filed_date"] = refiled[(c["claim_id"], c["line"])] + dt.timedelta(days=(20, 150, 400)[i % 5 % 3])
        elif (c["claim_id"], c["line"]) in refiled:
            c["filed_date"] = c["dos"] + dt.timedelta(days=3)      # not filed again: its window runs out
    for contract in rec["Contracts"][::2]:
        contract["corrected_days"] = 60
    # ...and two lines denied so (Keystone: 90 days to file) never filed again: the window
    # runs out, and the line is written off.
    for n, day in enumerate((dt.date(2025, 11, 3), dt.date(2026, 2, 2))):
        base = dict(claims[0], claim_id=f"RESUB-{n}", payor="Keystone Blue PPO", claim_type="Primary", dos=day,
                    filed_date=day + dt.timedelta(days=3), payor_claim_no=None, line_control_no=None)
        claims.append(base)
        pays.append(dict(pays[0], claim_id=base["claim_id"], payor=base["payor"],
                         remit_date=day + dt.timedelta(days=30), claim_status="4", allowed=0.0, paid=0.0,
                         contractual_adj=0.0, denied_amount=base["charge"], group_code="CO", carc="16",
                         payor_claim_no=None, source="resubmit.835"))
    rec["DenialRouting"].append(dict(group_code="CO", carc="197", rarc=None, category="Prior authorization",
                                     action="Appeal", description="the practice's own"))
    apps = rec["Appeals"]
    apps += [dict(a, level=2, appeal_date=a["appeal_date"] + dt.timedelta(days=40), outcome="Pending",
                  decision_date=None) for a in apps if a["outcome"] == "Upheld"][:5]
    apps += [dict(a, level=3, outcome="Pending") for a in apps[:2]]
    rec["Acknowledgements"] += [dict(claim_id=c["claim_id"], payor="", status_date=c["filed_date"],
                                     result="Rejected", category="A7", status_code="21", message="Missing")
                                for c in claims[:40:8] if c.get("filed_date")]
    rec["Underpayments"] += [dict(claim_id=c["claim_id"], line=c["line"], status=s)
                             for c, s in zip(claims[:60:12], ["Sent", "Recovered", "Open", "Invalid", "Sent"])]
    frames, errors = {}, []
    for name, table in m.TABLES.items():
        converted = typed_frame(table, rec.get(name, []))
        frames[name], errors = converted.frame, errors + converted.errors
    return rec, frames, errors, demo.settings_obj()


@pytest.fixture(scope="module")
def practice():
    return messy_practice()


def test_each_part_alone_is_the_whole_calculations(practice):
    _, frames, _, settings = practice
    valid, errors = validate.validate(frames, settings)
    whole = calculate(valid, settings, errors)
    assert len(whole.lines) and whole.worklist is not None and len(whole.worklist)
    for part in PARTS:
        alone = calculate(valid, settings, errors, parts=(part,))
        # every line column the whole calculation's; only a part that reads no prompt-pay
        # column goes without them, and one that shows no pricing without those
        missing = [c for c in whole.lines.columns if c not in alone.lines]
        prompt_pay = [c for c in whole.lines.columns if c.startswith("prompt_pay_")]
        assert len(prompt_pay) == 4 and set(PRICING_COLUMNS) <= set(whole.lines.columns)
        assert set(BALANCE_COLUMNS) <= set(whole.lines.columns)
        assert set(missing) == ((set(prompt_pay) if part in NO_PROMPT_PAY_PARTS else set())
                                | (set() if part in PRICING_PARTS else set(PRICING_COLUMNS))
                                | (set() if part in BALANCE_PARTS else set(BALANCE_COLUMNS))), part
        pd.testing.assert_frame_equal(alone.lines, whole.lines[alone.lines.columns])
        # the contracts with their notice calendar when the part shows it; else as given
        # (each of their columns the whole calculation's)
        assert (part in NOTICE_PARTS) == (len(alone.contracts.columns) > len(valid["Contracts"].columns))
        pd.testing.assert_frame_equal(alone.contracts, whole.contracts[alone.contracts.columns])
        assert [str(e) for e in alone.errors] == [str(e) for e in whole.errors]
        got, want = getattr(alone, part), getattr(whole, part)
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        elif isinstance(want, dict):
            assert got.keys() == want.keys()
            for k in want:
                if isinstance(want[k], pd.DataFrame):
                    pd.testing.assert_frame_equal(got[k], want[k])
                else:
                    assert got[k] == want[k]
        else:
            assert got is want is None
        assert all(getattr(alone, other) is None for other in PARTS if other != part)


def test_no_parts_is_the_lines_alone_and_an_unknown_part_is_refused(practice):
    _, frames, _, settings = practice
    valid, _ = validate.validate(frames, settings)
    lines_only = calculate(valid, settings, parts=())
    pd.testing.assert_frame_equal(lines_only.lines, calculate(valid, settings).lines)
    with pytest.raises(ValueError, match="unknown parts"):
        calculate(valid, settings, parts=("scorecards",))


@pytest.mark.parametrize("fields", [engine.FILING_FIELDS, engine.APPEAL_FIELDS, ("expected_allowed",),
                                    ("denial_category",), ("balance",), engine.FILING_FIELDS + ("expected_allowed",)])
def test_a_few_per_line_fields_alone_are_the_whole_calculations(practice, fields):
    """A per-row formula's fields (calculate's `fields`) worked out alone: every column the
    quick frame holds equals the whole calculation's, row for row, and the later steps
    (balances, write-offs) are not run. The practice makes each field take several values."""
    _, frames, _, settings = practice
    valid, errors = validate.validate(frames, settings)
    whole = calculate(valid, settings, errors).lines
    quick = calculate(valid, settings, errors, parts=(), warnings=False, fields=fields).lines
    assert set(fields) <= set(quick.columns) and "variance" not in quick and "prompt_pay_status" not in quick
    assert ("balance" in fields) == ("balance" in quick) == ("written_off" in quick)
    pd.testing.assert_frame_equal(quick, whole[list(quick.columns)])
    for f in fields:
        assert whole[f].nunique(dropna=False) >= 3, f     # not a column of one value


@pytest.mark.parametrize("seed", [3, 5, 8])
def test_the_worklist_lists_from_the_lines_that_may_be_listed_what_it_lists_from_all(seed):
    """build_worklist runs its per-line kinds on the lines `may_be_listed` only: the same
    rows, in the same order, as from every line, on messy practices (every kind there)."""
    _, frames, _, settings = messy_practice(seed)
    valid, errors = validate.validate(frames, settings)
    lines = calculate(valid, settings, errors).lines
    may = worklist.may_be_listed(lines)
    assert 0 < may.sum() < len(lines)

    def listed(rows):
        return pd.concat([p for p in worklist.line_actions(rows, settings) if not p.empty], ignore_index=True)
    everything = listed(lines)
    assert everything["action"].nunique() >= 6
    pd.testing.assert_frame_equal(listed(lines[may]), everything)


def test_a_line_may_be_listed_for_a_denial_action_or_resubmission_status_alone():
    """may_be_listed reads a missing denial action or resubmission status as blank (as
    fillna("") does): None, NaN and <NA> are no reason to list a line, any text is."""
    n = 6
    lines = pd.DataFrame({"filing_status": ["Filed on time"] * n, "appeal_status": [""] * n,
                          "underpaid": [False] * n, "prompt_pay_status": [""] * n, "awaiting_reprocessing": [False] * n,
                          "denial_action": pd.Series([None, float("nan"), "", "Appeal", pd.NA, ""], dtype=object),
                          "resubmit_status": pd.Series(["", "", "", "", "", "Open"], dtype=object)})
    assert worklist.may_be_listed(lines).tolist() == [False, False, False, True, False, True]
    assert worklist.may_be_listed(lines.assign(denial_action=lines["denial_action"].astype("str"))).tolist() == \
        [False, False, False, True, False, True]


def test_fields_only_without_parts_or_warnings(practice):
    _, frames, _, settings = practice
    valid, _ = validate.validate(frames, settings)
    for kw in ({"parts": ("scorecard",), "warnings": False}, {"parts": ()}):
        with pytest.raises(ValueError, match="fields: only"):
            calculate(valid, settings, fields=engine.FILING_FIELDS, **kw)
    everything = calculate(valid, settings, parts=(), warnings=False, fields=("variance",)).lines
    pd.testing.assert_frame_equal(everything, calculate(valid, settings).lines)   # not a quick field: every step


def test_checks_that_only_warn_never_make_an_error():
    """Read from the source: every DataError a WARNS_ONLY rule makes is a WARNING, so
    leaving the rule out cannot change which rows the figures count."""
    for rule in validate.WARNS_ONLY:
        tree = ast.parse(textwrap.dedent(inspect.getsource(rule)))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_err"]
        assert calls, rule.__name__
        for call in calls:
            severity = [k.value for k in call.keywords if k.arg == "severity"] or call.args[6:7]
            assert len(severity) == 1 and isinstance(severity[0], ast.Name) and severity[0].id == "WARNING", \
                f"{rule.__name__} line {call.lineno}: a DataError that is not a WARNING"


def test_validation_without_warnings_keeps_the_same_rows(practice):
    _, frames, conversion_errors, settings = practice
    full, found = validate.validate(frames, settings)
    quick, quick_found = validate.validate(frames, settings, warnings=False)
    assert any(e.severity == WARNING and e.ref.sheet == "Payments" for e in found)   # the orphan payment
    assert any(e.severity != WARNING for e in found)                                  # the bad rows
    for name in full:
        pd.testing.assert_frame_equal(quick[name], full[name])
    assert [str(e) for e in quick_found if e.severity != WARNING] == \
        [str(e) for e in found if e.severity != WARNING]
    whole = pipeline.evaluate(Inputs(frames, settings, conversion_errors))
    fast = pipeline.evaluate(Inputs(frames, settings, conversion_errors), parts=("scorecard",), warnings=False)
    pd.testing.assert_frame_equal(fast.scorecard, whole.scorecard)
    pd.testing.assert_frame_equal(fast.lines, whole.lines[fast.lines.columns])


def test_formulas_show_the_whole_recalculations_figures(practice):
    rec, frames, conversion_errors, settings = practice
    order = (m.CLAIMS, m.PAYMENTS, m.CONTRACTS, m.FEE_SCHEDULE, m.APPEALS)
    grids = [cv.excel_grid(t, rec[t.name]) for t in order]
    rules = [cv.excel_grid(t, rec[t.name]) for t in (m.PAYMENT_RULES, m.MODIFIERS, m.DENIAL_ROUTING)]
    as_of = dt.datetime.combine(settings.as_of.date(), dt.time())
    given = {t.name: frames[t.name] for t in order + (m.PAYMENT_RULES, m.MODIFIERS, m.DENIAL_ROUTING)}
    empty = {t.name: frames[t.name].iloc[:0] for t in m.INPUT_TABLES if t.name not in given}
    whole = pipeline.evaluate(Inputs({**given, **empty}, cv.settings(as_of)))   # the settings a formula gets
    assert PX_SCORECARD(*grids, as_of, *rules) == cv.table_out(whole.scorecard, m.SCORECARD.fields)
    assert PX_WORKLIST(*grids, as_of, None, *rules) == cv.table_out(whole.worklist, m.WORKLIST.fields)
    aging = engine.collections.aging(whole.lines, whole.lines[["balance"]], whole.settings, by="payor")
    assert PX_AGING(*grids, as_of, None, *rules) == cv.table_out(aging, m.AGING.grouped_by("Payor", "payor").fields)


def test_per_row_formulas_show_the_whole_recalculations_figures(practice):
    """Each per-row formula, which works out only its own fields, against a whole
    calculation over the tables it takes (the others empty), laid out the same way."""
    rec, frames, _, settings = practice
    grid = {t.name: cv.excel_grid(t, rec[t.name]) for t in m.INPUT_TABLES}
    as_of = dt.datetime.combine(settings.as_of.date(), dt.time())

    def whole(*tables):
        given = {n: frames[n] for n in tables}
        empty = {t.name: frames[t.name].iloc[:0] for t in m.INPUT_TABLES if t.name not in given}
        return pipeline.evaluate(Inputs({**given, **empty}, cv.settings(as_of)), set(tables), warnings=False).lines

    c, p, k, f, a, pr, md, dr = (grid[n] for n in ("Claims", "Payments", "Contracts", "FeeSchedule", "Appeals",
                                                     "PaymentRules", "Modifiers", "DenialRouting"))
    lines = whole("Claims", "Payments", "Contracts", "DenialRouting")
    assert udfs.PX_FILING_DEADLINE(c, p, k, as_of, dr) == cv.aligned_out(c, lines, lines, udfs.FILING_COLUMNS)
    lines = whole("Claims", "Payments", "Contracts", "Appeals", "DenialRouting")
    assert udfs.PX_APPEAL_DEADLINE(c, p, k, a, as_of, dr) == cv.aligned_out(c, lines, lines, udfs.APPEAL_COLUMNS)
    lines = whole("Claims", "Contracts", "FeeSchedule", "PaymentRules", "Modifiers")
    assert udfs.PX_EXPECTED_ALLOWED(c, k, f, as_of, pr, md) == cv.aligned_out(c, lines, lines, udfs.EXPECTED_COLUMNS)
    lines = whole("Claims", "Payments")
    for month in (None, "2026-03"):
        rates = engine.denials.initial_denial_rate(lines, lines, by="month" if month else None)
        assert udfs.PX_DENIAL_RATE(c, p, None, month) == cv.pick_rate(rates, month, "claims")
