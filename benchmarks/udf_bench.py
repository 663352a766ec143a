"""What does the formula route cost? PX_SCORECARD over 100,000 claim lines, against the
least any Python code must do with the same 2-D lists: build pandas DataFrames of them.

The goal (issue 14, item 5): a PX_ formula over 100,000 claim lines costs at most 2.5×
building plain DataFrames from the same lists, measured in one run, with floats and with
Decimal money alike.

The practice comes from ``payorxl.demo.generate_large(n)`` (typed frames, no planted
problems); ``demo.records_from_frame`` turns each table back into rows of Excel values,
and ``excel.convert.excel_grid`` lays them out as Excel hands a table to a UDF (header
row, ``datetime``, ``float``, ``None``), each cell then copied into an object of its own,
row after row (``as_sent``): pywin32 builds a new Python object for every cell of the
range as it reads it, so 100,000 rows hold 100,000 different "Medicare" strings,
scattered in memory in row order, and every pass over a column reads each of them.
(Grids made straight from the frames share one object per distinct text, laid out column
by column, and flatter the formula: session 28's code was 2.97× plain on them and 4.16× on
these. The runs before session 29's note in udf-bench.md were measured on them.) A second copy has every money cell as a
``decimal.Decimal`` with four decimals, which is what pywin32 gives for a cell formatted
as Currency on Windows. Every timed call gets new objects (``sent_again``, made before
its clock starts), as each call from Excel does: a str, datetime or Decimal keeps its hash
once worked out, so a second call on the same objects finds every hash done (session 30:
a Decimal's hash costs four times its float, and that had made converting Decimal money
through its distinct amounts look cheaper when it was dearer). Then, repeated with the
steps interleaved (so a change in the machine's load hits every step alike), the median
kept:

- plain:      ``pd.DataFrame(rows[1:], columns=rows[0])`` for each of the five tables —
              the yardstick (the same for floats and Decimals);
- engine:     ``engine.calculate(frames, settings)`` on the typed frames: the whole
              calculation a recalculation runs (worklist, portfolio, Adjustments and all);
- convert:    the five tables converted from Excel values to typed frames
              (``excel.convert.tables``, which calls ``conversion.table_from_grid``);
- validate:   the checks as the formula runs them on the converted tables
              (``validate.validate`` with the formula's tables and ``warnings=False``: the
              checks that can only warn are not run, as a formula shows no warning);
- scorecard:  the engine as the formula runs it on the validated tables
              (``engine.calculate(..., parts=("scorecard",))``: the per-line results and
              the scorecard, not the worklist or the portfolio);
- udf:        ``PX_SCORECARD(claims, payments, contracts, fee_schedule, appeals, as_of)``,
              exactly as xlwings calls it: conversion in, ``pipeline.evaluate`` (the
              validation and the engine, as above), conversion out.

Then every PX_ formula over the same lists, each against plain DataFrames of the tables
it takes (CPU time, floats and Decimal money): the goal is for a formula, and the per-row formulas
(PX_FILING_DEADLINE...) also lay 100,000 rows out for Excel.

Each step is timed twice: wall clock (``time.perf_counter``) and the CPU time of this
process (``time.process_time``). On a shared machine other processes stretch the wall
clock of whichever step they overlap; the CPU time is what the step itself cost, so its
ratios are the steadier. The ratios udf ÷ plain (floats, and Decimal money) are the price
of a formula over what just reading the lists into pandas costs. They leave out what only
Excel can show: moving 100,000 rows × 17 columns through COM into Python (xlwings on
Windows) — measure that on the manual checklist (docs/excel.md).

On a tree without ``engine.PARTS`` (before the formula asked for its part only) the
validate and scorecard steps run the whole validation and calculation, as its formula did.

Usage: python benchmarks/udf_bench.py [--lines 100000] [--repeat 5] [--formulas-only]
Writes benchmarks/results/udf-bench.md (this run, and every run's ratios from the CSV) and
appends to udf-bench.csv (every run).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import inspect
import os
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from payorxl import engine, model as m, validate  # noqa: E402
from payorxl.demo import DEFAULT_AS_OF, demo_settings, generate_large, records_from_frame  # noqa: E402
from payorxl.excel import convert as cv  # noqa: E402
from payorxl.excel.udfs import PX_SCORECARD  # noqa: E402

ORDER = ("Claims", "Payments", "Contracts", "FeeSchedule", "Appeals")   # PX_SCORECARD's arguments
RESULTS = ROOT / "benchmarks" / "results"
TARGET = 2.5                 # issue 14, item 5: a formula at most 2.5× a plain DataFrame build
STEPS = ("plain", "plain_decimal", "engine", "convert", "convert_decimal", "validate", "scorecard", "udf",
         "udf_decimal")
CSV_FIELDS = (["run", "lines", "repeat", "plain_s", "plain_decimal_s", "engine_s", "convert_s",
               "convert_decimal_s", "udf_s", "udf_decimal_s", "udf_ratio", "udf_decimal_ratio",
               "engine_ratio", "load_before", "load_after", "code"]
              + ["validate_s", "scorecard_s"] + [f"{k}_cpu_s" for k in STEPS]
              + ["udf_cpu_ratio", "udf_decimal_cpu_ratio"])


def currency(grids: list[list[list]]) -> list[list[list]]:
    """The grids with every money cell as pywin32 gives a Currency cell (`pywin32_currency`)."""
    out = []
    for name, grid in zip(ORDER, grids):
        money = {i for i, c in enumerate(m.TABLES[name].columns) if c.kind == m.MONEY}
        out.append([grid[0]] + [[pywin32_currency(v) if i in money and isinstance(v, float) else _own_object(v)
                                 for i, v in enumerate(row)] for row in grid[1:]])
    return out


def pywin32_currency(value: float) -> Decimal:
    """A cell formatted as Currency as pywin32 hands it to Python: Excel sends a CURRENCY
    (an int64 count of ten-thousandths), which pywin32 makes Decimal(int64) / 10000
    (PyObject_FromCurrency, com/win32com/src/PyComHelpers.cpp): 12.5 arrives as
    Decimal('12.5') and 232 as Decimal('232'), not as Decimal('232.0000')."""
    return Decimal(round(value * 10000)) / 10000


def _own_object(value):
    """The value as a new object equal to it (a str, float, datetime: the types a grid holds)."""
    if type(value) is str:
        return value.encode().decode()     # (a one-character text stays Python's shared one, as in pywin32)
    if type(value) is float:
        return value * 1.0                 # (-0.0 stays -0.0)
    if type(value) is dt.datetime:
        return value.replace()
    if type(value) is Decimal:
        return Decimal(str(value))         # (Decimal(d) gives d itself back)
    return value


def as_sent(grid: list[list]) -> list[list]:
    """The grid as pywin32 hands a range to a UDF: every cell an object of its own, made
    row after row (each row's cells side by side in memory, a column's cells far apart)."""
    return [list(grid[0])] + [[_own_object(v) for v in row] for row in grid[1:]]


def sent_again(grids: list[list[list]]) -> list[list[list]]:
    """The grids as Excel sends them to the next call: new objects, none of them ever
    hashed. (A str, datetime or Decimal keeps its hash once worked out; timing a step on
    the same objects again times it with every hash done. Excel's next call brings new
    cells, so every timed call gets new ones, made before its clock starts.)"""
    return [as_sent(g) for g in grids]


def plain(grids) -> list[pd.DataFrame]:
    """The yardstick: a DataFrame of each grid, with the garbage collector held off as a
    formula holds it (cv.collector_paused): new lists from Excel are young objects, and a
    collection walking them would make the yardstick dearer, and every ratio smaller."""
    with cv.collector_paused():
        return [pd.DataFrame(g[1:], columns=g[0]) for g in grids]


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def code() -> str:
    try:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from run import code_state  # the commit, and a fingerprint of uncommitted changes
        state = code_state()
        return f"{state['payorxl commit']} ({state['payorxl uncommitted']})"
    except Exception as e:  # a missing git is reported, not fatal
        return f"unknown ({type(e).__name__})"


def formula_steps(converted, settings):
    """The formula's validation (of the tables `converted`) and engine, as PX_SCORECARD
    runs them (see the docstring)."""
    given = cv.given_tables({arg: None for arg in ("claims", "payments", "contracts", "fee_schedule", "appeals")})
    if hasattr(engine, "PARTS") and "warnings" in inspect.signature(validate.validate).parameters:
        def check():
            return validate.validate(converted, settings, given, warnings=False)

        def scorecard(checked):
            return engine.calculate(checked[0], settings, checked[1], parts=("scorecard",))
    else:   # an older tree: its formula validated and calculated everything
        def check():
            return validate.validate(converted, settings, given)

        def scorecard(checked):
            return engine.calculate(checked[0], settings, checked[1])
    return check, scorecard


def every_formula(grids, decimal_grids, as_of, repeat: int) -> list[str]:
    """Every PX_ formula over the same lists, each against plain DataFrames of the tables it
    takes (CPU seconds, the two interleaved), with floats and with Decimal money: the goal
    holds for a formula, not for PX_SCORECARD alone. Each ratio twice: the medians of
    `repeat` calls, and the least call of each (best ÷ best). On a machine whose memory
    is shared with others the same plain build of the same lists took 0.26 to 0.49 s in
    20 calls (session 31), which moves the median ratio by ±0.4; the least call is the one
    the machine slowed least, for the yardstick and the formula alike (as `timeit` advises)."""
    from payorxl.excel import udfs
    cases = {"PX_DENIAL_RATE": ((0, 1), lambda c, p: udfs.PX_DENIAL_RATE(c, p)),
             "PX_FILING_DEADLINE": ((0, 1, 2), lambda c, p, k: udfs.PX_FILING_DEADLINE(c, p, k, as_of)),
             "PX_APPEAL_DEADLINE": ((0, 1, 2, 4), lambda c, p, k, a: udfs.PX_APPEAL_DEADLINE(c, p, k, a, as_of)),
             "PX_EXPECTED_ALLOWED": ((0, 2, 3), lambda c, k, f: udfs.PX_EXPECTED_ALLOWED(c, k, f, as_of)),
             "PX_SCORECARD": ((0, 1, 2, 3, 4), lambda *g: udfs.PX_SCORECARD(*g, as_of)),
             "PX_AGING": ((0, 1, 2, 3, 4), lambda *g: udfs.PX_AGING(*g, as_of)),
             "PX_WORKLIST": ((0, 1, 2, 3, 4), lambda *g: udfs.PX_WORKLIST(*g, as_of))}
    out = ["| formula | tables | plain CPU s | formula CPU s | ÷ plain | best ÷ best | Decimal: plain CPU s "
           "| formula CPU s | ÷ plain | best ÷ best |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, (taken, formula) in cases.items():
        cells = [name, str(len(taken))]
        for source in (grids, decimal_grids):
            tables = [source[i] for i in taken]
            assert not isinstance(formula(*tables), str), name     # (a message would be a str)
            base, cost = [], []
            for _ in range(repeat):
                fresh = sent_again(tables)
                t = time.process_time()
                plain(fresh)
                base.append(time.process_time() - t)
                fresh = sent_again(tables)
                t = time.process_time()
                formula(*fresh)
                cost.append(time.process_time() - t)
                del fresh
            b, f_ = statistics.median(base), statistics.median(cost)
            cells += [f"{b:.3f}", f"{f_:.3f}", f"{f_ / b:.2f}", f"{min(cost) / min(base):.2f}"]
        out.append("| " + " | ".join(cells) + " |")
        print(out[-1], flush=True)
    return out


def history_table(path: Path) -> list[str]:
    """Every run's seconds and ratios from the CSV, oldest first (CPU ratios where measured)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out = ["| run | code | plain s | PX_SCORECARD s | ÷ plain | Decimal ÷ plain | CPU ÷ plain | "
           "CPU Decimal ÷ plain |",
           "|-----|------|--------:|---------------:|--------:|----------------:|------------:|"
           "--------------------:|"]
    for r in rows:
        out.append(f"| {r['run']} | {r['code']} | {r['plain_s']} | {r['udf_s']} | {r['udf_ratio']} | "
                   f"{r['udf_decimal_ratio']} | {r.get('udf_cpu_ratio') or ''} | "
                   f"{r.get('udf_decimal_cpu_ratio') or ''} |")
    return out


def append_csv(path: Path, row: dict) -> None:
    """Append a row; a file written before a column existed is rewritten with it (blank)."""
    rows: list[dict] = []
    if path.exists():
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if list(reader.fieldnames or []) != CSV_FIELDS:
                rows = list(reader)
    if rows or not path.exists():
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            w.writeheader()
            w.writerows(rows)
    with path.open("a", newline="") as f:
        csv.DictWriter(f, fieldnames=CSV_FIELDS).writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formulas-only", action="store_true",
                        help="time every formula against plain DataFrames only, print it, write nothing")
    args = parser.parse_args()

    start = time.perf_counter()
    frames = generate_large(args.lines)
    grids = [as_sent(cv.excel_grid(m.TABLES[n], records_from_frame(m.TABLES[n], frames[n]))) for n in ORDER]
    decimal_grids = currency(grids)
    settings = demo_settings()
    as_of = dt.datetime.combine(DEFAULT_AS_OF, dt.time())
    print(f"generated {args.lines:,} claim lines, {len(grids[1]) - 1:,} payments "
          f"in {time.perf_counter() - start:.1f} s")

    if args.formulas_only:
        every_formula(grids, decimal_grids, as_of, args.repeat)
        return

    def tables(g):
        return cv.tables(claims=g[0], payments=g[1], contracts=g[2], fee_schedule=g[3], appeals=g[4])

    check, scorecard = formula_steps(tables(grids), cv.settings(as_of))
    checked = check()
    # Each step and the lists it takes (None: it takes typed frames); a step over lists gets
    # new ones for every timed call (sent_again), as from Excel.
    steps = {
        "plain": (grids, plain),
        "plain_decimal": (decimal_grids, plain),
        "engine": (None, lambda _: engine.calculate(frames, settings)),
        "convert": (grids, tables),
        "convert_decimal": (decimal_grids, tables),
        "validate": (None, lambda _: check()),
        "scorecard": (None, lambda _: scorecard(checked)),
        "udf": (grids, lambda g: PX_SCORECARD(*g, as_of)),
        "udf_decimal": (decimal_grids, lambda g: PX_SCORECARD(*g, as_of)),
    }
    wall: dict[str, list[float]] = {k: [] for k in steps}
    cpu: dict[str, list[float]] = {k: [] for k in steps}
    out: dict[str, object] = {}
    load_before = load1()
    run = dt.datetime.now().strftime("%Y-%m-%dT%H:%M")
    for k, (given, step) in steps.items():   # a warm-up round, not counted (imports, caches)
        out[k] = step(given)
    for _ in range(args.repeat):
        for k, (given, step) in steps.items():
            fresh = None if given is None else sent_again(given)
            t, c = time.perf_counter(), time.process_time()
            step(fresh)          # (its result let go at once, as Excel's call lets go of its lists)
            cpu[k].append(time.process_time() - c)
            wall[k].append(time.perf_counter() - t)
            del fresh
    load_after = load1()
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}

    expected = cv.table_out(out["engine"].scorecard, m.SCORECARD.fields)
    assert isinstance(out["udf"], list), out["udf"]        # a message would be a str
    assert out["udf"] == expected, "the UDF and the engine disagree"
    assert out["udf_decimal"] == out["udf"], "Decimal money gives other figures than floats"
    assert cv.table_out(out["scorecard"].scorecard, m.SCORECARD.fields) == expected

    ratio = med["udf"] / med["plain"]
    ratio_decimal = med["udf_decimal"] / med["plain_decimal"]
    ratio_cpu = med_cpu["udf"] / med_cpu["plain"]
    ratio_cpu_decimal = med_cpu["udf_decimal"] / med_cpu["plain_decimal"]
    rows = [("plain DataFrames from the 2-D lists (floats)", "plain"),
            ("plain DataFrames from the 2-D lists (Decimal money)", "plain_decimal"),
            ("engine.calculate on typed frames (everything)", "engine"),
            ("convert the 5 tables from Excel values (floats)", "convert"),
            ("convert the 5 tables from Excel values (Decimal money)", "convert_decimal"),
            ("the formula's validation (errors only)", "validate"),
            ("the formula's engine (lines + scorecard)", "scorecard"),
            ("PX_SCORECARD (convert + validate + engine + out), floats", "udf"),
            ("PX_SCORECARD (convert + validate + engine + out), Decimal money", "udf_decimal")]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'step':<{width}} | seconds | ÷ plain | CPU s | CPU ÷ plain |",
             f"|{'-' * (width + 2)}|--------:|--------:|------:|------------:|"]
    for name, key in rows:
        base = "plain_decimal" if key.endswith("decimal") else "plain"
        lines.append(f"| {name:<{width}} | {med[key]:7.3f} | {med[key] / med[base]:7.1f} | "
                     f"{med_cpu[key]:5.3f} | {med_cpu[key] / med_cpu[base]:11.1f} |")
    verdict = ("met" if max(ratio, ratio_decimal, ratio_cpu, ratio_cpu_decimal) <= TARGET else
               f"not met (the goal: at most {TARGET}×)")
    summary = (f"PX_SCORECARD over {args.lines:,} claim lines: {ratio:.1f}× building plain DataFrames from "
               f"the same lists with floats ({med['udf']:.2f} s against {med['plain']:.2f} s), {ratio_decimal:.1f}× "
               f"with Decimal money ({med['udf_decimal']:.2f} s); in CPU time {ratio_cpu:.1f}× and "
               f"{ratio_cpu_decimal:.1f}×. Target {TARGET}×: {verdict}. The whole engine alone is "
               f"{med['engine'] / med['plain']:.1f}× ({med['engine']:.2f} s).")
    print("\n".join(lines))
    print(summary)
    each = every_formula(grids, decimal_grids, as_of, args.repeat)

    RESULTS.mkdir(exist_ok=True)
    history = RESULTS / "udf-bench.csv"
    append_csv(history, {"run": run, "lines": args.lines, "repeat": args.repeat,
                         **{f"{k}_s": round(v, 3) for k, v in med.items()},
                         **{f"{k}_cpu_s": round(v, 3) for k, v in med_cpu.items()},
                         "udf_ratio": round(ratio, 2), "udf_decimal_ratio": round(ratio_decimal, 2),
                         "udf_cpu_ratio": round(ratio_cpu, 2), "udf_decimal_cpu_ratio": round(ratio_cpu_decimal, 2),
                         "engine_ratio": round(med["engine"] / med["plain"], 2),
                         "load_before": load_before, "load_after": load_after, "code": code()})
    (RESULTS / "udf-bench.md").write_text(
        f"# udf_bench ({run}, Python {platform.python_version()}, pandas {pd.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} cores, median of {args.repeat}, steps interleaved)\n\n"
        f"Load (1 min) {load_before:.2f} before, {load_after:.2f} after. Code: {code()}.\n\n"
        + "\n".join(lines) + f"\n\n{summary}\n\nEvery PX_ formula over the same {args.lines:,} claim lines, "
        "each against plain DataFrames of the tables it takes (CPU; floats, then Decimal money):\n\n" + "\n".join(each)
        + "\n\n## Every run (udf-bench.csv)\n\n"
        + "\n".join(history_table(history)) + "\n")
    print(f"wrote {RESULTS / 'udf-bench.md'} and {history}")


if __name__ == "__main__":
    main()
