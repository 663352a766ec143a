"""What does the formula route cost? PX_SCORECARD over 100,000 claim lines, against the
least any Python code must do with the same 2-D lists: build pandas DataFrames of them.

The practice comes from ``payorxl.demo.generate_large(n)`` (typed frames, no planted
problems); ``demo.records_from_frame`` turns each table back into rows of Excel values,
and ``excel.convert.excel_grid`` lays them out as Excel hands a table to a UDF (header
row, ``datetime``, ``float``, ``None``). A second copy has every money cell as a
``decimal.Decimal`` with four decimals, which is what pywin32 gives for a cell formatted
as Currency on Windows. Then, repeated with the steps interleaved (so a change in the
machine's load hits every step alike), the median kept:

- plain:     ``pd.DataFrame(rows[1:], columns=rows[0])`` for each of the five tables —
             the yardstick (the same for floats and Decimals);
- engine:    ``engine.calculate(frames, settings)`` on the typed frames;
- convert:   the five tables converted from Excel values to typed frames
             (``excel.convert.tables``, which calls ``conversion.table_from_grid``);
- udf:       ``PX_SCORECARD(claims, payments, contracts, fee_schedule, appeals, as_of)``,
             exactly as xlwings calls it: conversion in, ``pipeline.evaluate`` (the
             validation and the whole engine, as a recalculation runs them), conversion out.

The ratios udf ÷ plain (floats, and Decimal money) are the price of a formula over what
just reading the lists into pandas costs. They leave out what only Excel can show:
moving 100,000 rows × 17 columns through COM into Python (xlwings on Windows) — measure
that on the manual checklist (docs/excel.md).

Usage: python benchmarks/udf_bench.py [--lines 100000] [--repeat 5]
Writes benchmarks/results/udf-bench.md (this run) and appends to udf-bench.csv (every run).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
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

from payorxl import engine, model as m  # noqa: E402
from payorxl.demo import DEFAULT_AS_OF, demo_settings, generate_large, records_from_frame  # noqa: E402
from payorxl.excel import convert as cv  # noqa: E402
from payorxl.excel.udfs import PX_SCORECARD  # noqa: E402

ORDER = ("Claims", "Payments", "Contracts", "FeeSchedule", "Appeals")   # PX_SCORECARD's arguments
RESULTS = ROOT / "benchmarks" / "results"
CSV_FIELDS = ["run", "lines", "repeat", "plain_s", "plain_decimal_s", "engine_s", "convert_s",
              "convert_decimal_s", "udf_s", "udf_decimal_s", "udf_ratio", "udf_decimal_ratio",
              "engine_ratio", "load_before", "load_after", "code"]


def currency(grids: list[list[list]]) -> list[list[list]]:
    """The grids with every money cell as pywin32 gives a Currency cell: a Decimal with
    four decimals."""
    out = []
    for name, grid in zip(ORDER, grids):
        money = {i for i, c in enumerate(m.TABLES[name].columns) if c.kind == m.MONEY}
        out.append([grid[0]] + [[Decimal(f"{v:.4f}") if i in money and isinstance(v, float) else v
                                 for i, v in enumerate(row)] for row in grid[1:]])
    return out


def plain(grids) -> list[pd.DataFrame]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    frames = generate_large(args.lines)
    grids = [cv.excel_grid(m.TABLES[n], records_from_frame(m.TABLES[n], frames[n])) for n in ORDER]
    decimal_grids = currency(grids)
    settings = demo_settings()
    as_of = dt.datetime.combine(DEFAULT_AS_OF, dt.time())
    print(f"generated {args.lines:,} claim lines, {len(grids[1]) - 1:,} payments "
          f"in {time.perf_counter() - start:.1f} s")

    def tables(g):
        return cv.tables(claims=g[0], payments=g[1], contracts=g[2], fee_schedule=g[3], appeals=g[4])

    steps = {
        "plain": lambda: plain(grids),
        "plain_decimal": lambda: plain(decimal_grids),
        "engine": lambda: engine.calculate(frames, settings),
        "convert": lambda: tables(grids),
        "convert_decimal": lambda: tables(decimal_grids),
        "udf": lambda: PX_SCORECARD(*grids, as_of),
        "udf_decimal": lambda: PX_SCORECARD(*decimal_grids, as_of),
    }
    times: dict[str, list[float]] = {k: [] for k in steps}
    out: dict[str, object] = {}
    load_before = load1()
    run = dt.datetime.now().strftime("%Y-%m-%dT%H:%M")
    for k in steps:          # a warm-up round, not counted (imports, caches)
        out[k] = steps[k]()
    for _ in range(args.repeat):
        for k, step in steps.items():
            t = time.perf_counter()
            out[k] = step()
            times[k].append(time.perf_counter() - t)
    load_after = load1()
    med = {k: statistics.median(v) for k, v in times.items()}

    expected = cv.table_out(out["engine"].scorecard, m.SCORECARD.fields)
    assert isinstance(out["udf"], list), out["udf"]        # a message would be a str
    assert out["udf"] == expected, "the UDF and the engine disagree"
    assert out["udf_decimal"] == out["udf"], "Decimal money gives other figures than floats"

    ratio = med["udf"] / med["plain"]
    ratio_decimal = med["udf_decimal"] / med["plain_decimal"]
    rows = [("plain DataFrames from the 2-D lists (floats)", "plain"),
            ("plain DataFrames from the 2-D lists (Decimal money)", "plain_decimal"),
            ("engine.calculate on typed frames", "engine"),
            ("convert the 5 tables from Excel values (floats)", "convert"),
            ("convert the 5 tables from Excel values (Decimal money)", "convert_decimal"),
            ("PX_SCORECARD (convert + validate + engine + out), floats", "udf"),
            ("PX_SCORECARD (convert + validate + engine + out), Decimal money", "udf_decimal")]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'step':<{width}} | seconds | ÷ plain |", f"|{'-' * (width + 2)}|--------:|--------:|"]
    for name, key in rows:
        base = med["plain_decimal"] if key.endswith("decimal") else med["plain"]
        lines.append(f"| {name:<{width}} | {med[key]:7.3f} | {med[key] / base:7.1f} |")
    summary = (f"PX_SCORECARD over {args.lines:,} claim lines: {ratio:.1f}× building plain DataFrames from "
               f"the same lists with floats ({med['udf']:.2f} s against {med['plain']:.2f} s), {ratio_decimal:.1f}× "
               f"with Decimal money ({med['udf_decimal']:.2f} s); the engine alone is "
               f"{med['engine'] / med['plain']:.1f}× ({med['engine']:.2f} s).")
    print("\n".join(lines))
    print(summary)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "udf-bench.md").write_text(
        f"# udf_bench ({run}, Python {platform.python_version()}, pandas {pd.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} cores, median of {args.repeat}, steps interleaved)\n\n"
        f"Load (1 min) {load_before:.2f} before, {load_after:.2f} after. Code: {code()}.\n\n"
        + "\n".join(lines) + f"\n\n{summary}\n")
    history = RESULTS / "udf-bench.csv"
    new = not history.exists()
    with history.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        if new:
            w.writeheader()
        w.writerow({"run": run, "lines": args.lines, "repeat": args.repeat,
                    **{f"{k}_s": round(v, 3) for k, v in med.items()},
                    "udf_ratio": round(ratio, 2), "udf_decimal_ratio": round(ratio_decimal, 2),
                    "engine_ratio": round(med["engine"] / med["plain"], 2),
                    "load_before": load_before, "load_after": load_after, "code": code()})
    print(f"wrote {RESULTS / 'udf-bench.md'} and {history}")


if __name__ == "__main__":
    main()
