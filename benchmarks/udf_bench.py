"""What does the formula route cost? PX_SCORECARD over 100,000 claim lines, next to
the engine called directly on the same data.

The practice comes from ``payorxl.demo.generate_large(n)`` (typed frames, no planted
problems); ``demo.records_from_frame`` turns each table back into rows of Excel values,
and ``excel.convert.excel_grid`` lays them out as Excel hands a table to a UDF (header
row, ``datetime``, ``float``, ``None``). Then, each repeated, best time kept:

- engine:    ``engine.calculate(frames, settings)`` on the typed frames (what the owned
             sheets are built from);
- convert:   the five tables converted from Excel values to typed frames
             (``excel.convert.tables``, which calls ``conversion.table_from_grid``);
- udf:       ``PX_SCORECARD(claims, payments, contracts, fee_schedule, appeals, as_of)``,
             exactly as xlwings calls it: conversion in, the engine, conversion out.

The ratio udf ÷ engine is the price of taking Excel's raw values in payorxl's own
conversion (the same on every platform). It leaves out what only Excel can show: moving
100,000 rows × 17 columns through COM into Python (xlwings on Windows) — measure that on
the manual checklist (docs/excel.md).

Usage: python benchmarks/udf_bench.py [--lines 100000] [--repeat 3]
Writes benchmarks/results/udf_bench.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from payorxl import engine, model as m  # noqa: E402
from payorxl.demo import DEFAULT_AS_OF, demo_settings, generate_large, records_from_frame  # noqa: E402
from payorxl.excel import convert as cv  # noqa: E402
from payorxl.excel.udfs import PX_SCORECARD  # noqa: E402

ORDER = ("Claims", "Payments", "Contracts", "FeeSchedule", "Appeals")   # PX_SCORECARD's arguments


def best(repeat: int, func) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    frames = generate_large(args.lines)
    grids = [cv.excel_grid(m.TABLES[n], records_from_frame(m.TABLES[n], frames[n])) for n in ORDER]
    settings = demo_settings()
    as_of = dt.datetime.combine(DEFAULT_AS_OF, dt.time())
    print(f"generated {args.lines:,} claim lines, {len(grids[1]) - 1:,} payments "
          f"in {time.perf_counter() - start:.1f} s")

    t_engine, results = best(args.repeat, lambda: engine.calculate(frames, settings))
    t_convert, converted = best(args.repeat, lambda: cv.tables(
        claims=grids[0], payments=grids[1], contracts=grids[2], fee_schedule=grids[3], appeals=grids[4]))
    t_udf, spilled = best(args.repeat, lambda: PX_SCORECARD(*grids, as_of))

    assert isinstance(spilled, list), spilled        # a message would be a str
    assert spilled == cv.table_out(results.scorecard, m.SCORECARD.fields), "the UDF and the engine disagree"

    rows = [("engine.calculate on typed frames", t_engine),
            ("convert the 5 tables from Excel values", t_convert),
            ("PX_SCORECARD (convert + engine + out)", t_udf)]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'step':<{width}} | seconds |", f"|{'-' * (width + 2)}|---------|"]
    lines += [f"| {name:<{width}} | {secs:7.2f} |" for name, secs in rows]
    ratio = t_udf / t_engine
    summary = (f"PX_SCORECARD over {args.lines:,} claim lines: {t_udf:.2f} s, "
               f"{ratio:.1f}× the engine called directly ({t_engine:.2f} s); "
               f"the rest is converting Excel's values ({t_convert:.2f} s).")
    print("\n".join(lines))
    print(summary)
    out = Path(__file__).resolve().parent / "results" / "udf_bench.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"# udf_bench ({dt.date.today():%Y-%m-%d}, Python {platform.python_version()}, "
                   f"{platform.machine()}, best of {args.repeat})\n\n" + "\n".join(lines) + f"\n\n{summary}\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
