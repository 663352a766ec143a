"""What a PX_ formula's table arguments cost before the formula starts, on Windows.

xlwings' default converter (what a UDF argument declared with ``ndim=2`` gets) walks every
cell of the range in Python after pywin32 has made it (``clean_value_data`` in
xlwings/_xlwindows.py: a blank "" made None, each date rebuilt without its time zone, an
error code made None). payorxl's table arguments skip that walk (excel.udfs.TableValues)
and the conversion reads pywin32's cells as they come. This compares, over the same
100,000 claim lines, in one run (CPU seconds, median of --repeat):

- building plain pandas DataFrames from the cleaned lists (the yardstick of udf_bench.py);
- xlwings' clean pass over the five tables of PX_SCORECARD (compiled from the installed
  xlwings' own source: this machine has no pywin32 to import it from);
- PX_SCORECARD on the cells as pywin32 hands them (tuples of tuples, dates with a time
  zone), which is what it now receives, and on the cleaned lists.

    python benchmarks/udf_args_bench.py [--lines 100000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import ast
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import udf_bench as ub  # noqa: E402

from payorxl import model as m  # noqa: E402
from payorxl.demo import DEFAULT_AS_OF, generate_large, records_from_frame  # noqa: E402
from payorxl.excel import convert as cv  # noqa: E402
from payorxl.excel.udfs import PX_SCORECARD  # noqa: E402

# pywin32 hands a date cell over as a datetime with a time zone (pywintypes.TimeType, a
# datetime subclass); its year, month and day are the date the cell shows.
COM_ZONE = dt.timezone.utc


def xlwings_clean():
    """xlwings' own clean pass for Windows (Engine.clean_value_data with the defaults a
    table argument reads with: dates as datetime, empty as None, no number builder, errors
    as None), compiled from the installed xlwings/_xlwindows.py, whose imports (pywin32)
    this machine lacks."""
    import xlwings
    source = (Path(xlwings.__file__).parent / "_xlwindows.py").read_text(encoding="utf-8")
    wanted = {"_clean_value_data_element", "_com_time_to_datetime"}
    body = [n for n in ast.parse(source).body
            if (isinstance(n, ast.FunctionDef) and n.name in wanted)
            or (isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "cell_errors" for t in n.targets))]
    namespace: dict = {"dt": dt, "np": None, "time_types": (dt.date, dt.datetime)}
    exec(compile(ast.Module(body=body, type_ignores=[]), "xlwings/_xlwindows.py", "exec"), namespace)
    element = namespace["_clean_value_data_element"]

    def clean(data):
        return [[element(c, dt.datetime, None, None, False) for c in row] for row in data]
    return clean


def as_com(grid: list[list]) -> tuple[tuple, ...]:
    """The grid as pywin32 hands a range's Value over: a tuple of row tuples, every cell
    an object of its own (udf_bench.as_sent), each date with pywin32's time zone."""
    return tuple(tuple(v.replace(tzinfo=COM_ZONE) if type(v) is dt.datetime else v for v in row)
                 for row in ub.as_sent(grid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frames = generate_large(args.lines)
    grids = [cv.excel_grid(m.TABLES[t], records_from_frame(m.TABLES[t], frames[t])) for t in ub.ORDER]
    as_of = dt.datetime.combine(DEFAULT_AS_OF, dt.time())
    clean = xlwings_clean()
    assert PX_SCORECARD(*[as_com(g) for g in grids], as_of) == PX_SCORECARD(
        *[clean(as_com(g)) for g in grids], as_of)          # the same figures either way
    cost: dict[str, list[float]] = {k: [] for k in ("plain", "clean", "com", "cleaned")}
    for _ in range(args.repeat):
        com = [as_com(g) for g in grids]
        t = time.process_time()
        cleaned = [clean(g) for g in com]
        cost["clean"].append(time.process_time() - t)
        t = time.process_time()
        ub.plain(cleaned)
        cost["plain"].append(time.process_time() - t)
        del com, cleaned
        com = [as_com(g) for g in grids]
        t = time.process_time()
        PX_SCORECARD(*com, as_of)
        cost["com"].append(time.process_time() - t)
        cleaned = [clean(as_com(g)) for g in grids]
        t = time.process_time()
        PX_SCORECARD(*cleaned, as_of)
        cost["cleaned"].append(time.process_time() - t)
        del com, cleaned
    med = {k: statistics.median(v) for k, v in cost.items()}
    rows = [("plain DataFrames from the cleaned lists (the yardstick)", med["plain"]),
            ("xlwings' default converter: its clean pass over the 5 tables", med["clean"]),
            ("PX_SCORECARD on pywin32's cells as they come (TableValues)", med["com"]),
            ("PX_SCORECARD on the cleaned lists", med["cleaned"]),
            ("before: clean pass + PX_SCORECARD on the cleaned lists", med["clean"] + med["cleaned"])]
    import platform
    out = [f"# udf_args_bench ({dt.datetime.now():%Y-%m-%dT%H:%M}, Python {platform.python_version()}, "
           f"{args.lines:,} claim lines, CPU seconds, median of {args.repeat}, one run)", "",
           "| step | CPU s | ÷ plain |", "|---|---:|---:|"]
    out += [f"| {name} | {s:.3f} | {s / med['plain']:.2f} |" for name, s in rows]
    print("\n".join(out))
    if args.lines == 100_000:
        path = ROOT / "benchmarks" / "results" / "udf-args-bench.md"
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
