"""Write realistic practice workbooks for the scale benchmarks (issue #4).

For each size, `payorxl.demo.generate_large(n, seed)` gives the typed input tables (claim
lines, their payments and appeals, contracts, an effective-dated fee schedule) and
`payorxl.pipeline.new_workbook` writes them the way `payorxl demo` does: the template with
real Excel tables, the native formulas of the calculated columns with the engine's values
cached, and the owned sheets filled. Files go to benchmarks/data/ (gitignored) as
``practice-<n>.xlsx``; the time, peak memory and size of each build are appended to
benchmarks/results/generate.csv.

xlsxwriter used to spend most of a build in ``Worksheet._prepare_formula``: ~30 regex
passes over each 0.1-2.6 KB formula, for every cell, twice (add_table writes the column
formula into every row, then template.py rewrote each cell with its cached value): 257 s
for 10k lines. The result depends only on the formula text, so this script memoizes it
during the build (``--plain`` turns that off). template.py now does the same itself (an
lru_cache on the worksheet's ``_prepare_formula``, and only the cached value set on cells
add_table already wrote), so on current code the memoization here changes nothing. The
workbook written is the same either way: ``--check`` builds a small one both ways and
compares every zip part except docProps/core.xml (creation time).

A workbook of 1M claim lines has a Claims sheet of about 9.6 GB of XML (the formulas
are written in full in every row), more than the 4 GiB a zip member may hold without
ZIP64, which template.py does not enable; ``--zip64`` enables it for this script only.

Above 300k lines new_workbook would need ~3 GB per 100k lines (about 30 GB at 1M): the
default writer there is bigbook.py, which streams the three large tables into the template
(same values, formulas and tables: ``--check-stream``; text as inline strings).

Usage: python benchmarks/generate.py [--sizes 10000,100000] [--force] [--plain] [--zip64]
                                     [--writer auto|xlsxwriter|stream]
       python benchmarks/generate.py --check --check-stream
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import functools
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
SIZES = (10_000, 100_000, 1_000_000)
SEED = 7
STREAM_ABOVE = 300_000   # xlsxwriter holds every cell in memory: ~3 GB per 100k lines


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n % 1000 == 0 else str(n))


def fingerprint() -> str:
    """What a generated workbook depends on besides its size: the calculated columns'
    formulas, the input tables' columns and the settings. A workbook built by code whose
    fingerprint differs is built again (a benchmark of a stale workbook measures old code:
    one from before the Index was 3 MB at 10,000 lines, and a recalculation of it wrote none)."""
    import hashlib
    import json

    from payorxl import model as m
    from payorxl.workbook import formulas
    parts = {"formulas": formulas.table_formulas(), "names": formulas.settings_names(),
             # workbook/blocks.py, index.py
             "written": "summary blocks, gates up to the last row, tails not live past LIVE_TAIL_LINES",
             "tables": [[t.name, [c.name for c in t.columns]] for t in m.INPUT_TABLES],
             "settings": settings_values()}
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:8]


def workbook_path(n: int, folder: Path = DATA) -> Path:
    """Where the workbook of n lines built by this code is kept (its name carries the
    fingerprint)."""
    return folder / f"practice-{label(n)}-{fingerprint()}.xlsx"


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        mult = 1_000_000 if part.endswith("m") else 1000 if part.endswith("k") else 1
        out.append(int(float(part.rstrip("mk")) * mult))
    return out


@contextlib.contextmanager
def fast_xlsxwriter(enabled: bool = True, zip64: bool = False):
    """Memoize xlsxwriter's formula preparation (a pure function of the formula text and
    two flags) and optionally allow ZIP64, while the block runs."""
    from xlsxwriter import workbook, worksheet
    saved_prepare = worksheet.Worksheet._prepare_formula
    saved_init = workbook.Workbook.__init__
    if enabled:
        cache: dict = {}

        def _prepare_formula(self, formula, expand_future_functions=False):
            key = (formula, bool(expand_future_functions), bool(self.use_future_functions))
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = saved_prepare(self, formula, expand_future_functions)
            return hit
        worksheet.Worksheet._prepare_formula = _prepare_formula
    if zip64:
        @functools.wraps(saved_init)
        def __init__(self, filename=None, options=None):
            saved_init(self, filename, {**(options or {}), "use_zip64": True})
        workbook.Workbook.__init__ = __init__
    try:
        yield
    finally:
        worksheet.Worksheet._prepare_formula = saved_prepare
        workbook.Workbook.__init__ = saved_init


def settings_values() -> dict:
    from payorxl import demo
    return {"practice_name": f"{demo.PRACTICE_NAME} (benchmark)", "as_of": demo.DEFAULT_AS_OF,
            **demo.SETTINGS}


def build(n: int, path: Path, fast: bool = True, zip64: bool = False, seed: int = SEED,
          writer: str = "xlsxwriter") -> dict:
    """Generate `n` claim lines and write the workbook at `path`; returns the figures.
    writer: "xlsxwriter" (pipeline.new_workbook) or "stream" (bigbook.py)."""
    from payorxl import pipeline
    from payorxl.demo import generate_large
    row = {"date": dt.datetime.now().isoformat(timespec="seconds"), "lines": n, "writer": writer}
    if writer == "stream":
        import bigbook
        row.update(bigbook.write_streamed(n, path, settings_values(), seed))
        fast = False
    else:
        t0 = time.perf_counter()
        frames = generate_large(n, seed)
        t1 = time.perf_counter()
        with fast_xlsxwriter(fast, zip64):
            summary = pipeline.new_workbook(path, frames, settings_values(), overwrite=True)
        t2 = time.perf_counter()
        row.update({"payments": len(frames["Payments"]), "appeals": len(frames["Appeals"]),
                    "fee_rows": len(frames["FeeSchedule"]), "contracts": len(frames["Contracts"]),
                    "generate_s": round(t1 - t0, 2), "write_s": round(t2 - t1, 2),
                    "worklist": summary.worklist})
    with zipfile.ZipFile(path) as zf:
        xml = sum(i.file_size for i in zf.infolist())
    row.update({"memoized_formulas": fast, "file_mb": round(path.stat().st_size / 1e6, 1),
                "unzipped_mb": round(xml / 1e6, 1), "load": os.getloadavg()[0]})
    return row


def check(n: int = 2000) -> bool:
    """Build a small workbook with and without the memoization; compare the parts."""
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "plain.xlsx", Path(tmp) / "fast.xlsx"
        build(n, a, fast=False)
        build(n, b, fast=True)
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            names = [i.filename for i in za.infolist()]
            same = names == [i.filename for i in zb.infolist()]
            diff = [p for p in names if p != "docProps/core.xml" and za.read(p) != zb.read(p)]
    print(f"check at {n} lines: part list {'same' if same else 'DIFFERENT'}; "
          f"parts that differ (besides docProps/core.xml): {diff or 'none'}")
    return same and not diff


def check_stream(n: int = 2000) -> bool:
    """Build a small workbook with both writers; compare what a reader sees (every value of
    every sheet, and the formulas of the input sheets) and the table definitions."""
    from python_calamine import CalamineWorkbook
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "xlsxwriter.xlsx", Path(tmp) / "stream.xlsx"
        build(n, a, fast=True)
        build(n, b, writer="stream")
        ok = True
        wa, wb = CalamineWorkbook.from_path(str(a)), CalamineWorkbook.from_path(str(b))
        ok &= wa.sheet_names == wb.sheet_names
        for name in wa.sheet_names:
            ga = wa.get_sheet_by_name(name).to_python(skip_empty_area=False)
            gb = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            same = ga == gb
            if not same:
                bad = next(((i, x, y) for i, (x, y) in enumerate(zip(ga, gb)) if x != y), (len(ga), len(gb), ""))
                print(f"  {name}: values differ, first at row {bad[0] + 1}: {bad[1]!r} vs {bad[2]!r}"[:400])
            ok &= same
        for name in ("Claims", "Payments", "Appeals"):
            fa = wa.get_sheet_by_name(name).to_python(skip_empty_area=False)
            ok &= bool(fa)
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            for p in sorted(x for x in za.namelist() if x.startswith("xl/tables/")):
                if za.read(p) != zb.read(p):
                    print(f"  {p} differs")
                    ok = False
            import re
            for p in ("xl/worksheets/sheet3.xml", "xl/worksheets/sheet4.xml", "xl/worksheets/sheet5.xml"):
                fa = re.findall(r"<f>(.*?)</f>", za.read(p).decode())
                fb = re.findall(r"<f>(.*?)</f>", zb.read(p).decode())
                if fa != fb:
                    print(f"  {p}: formulas differ ({len(fa)} vs {len(fb)})")
                    ok = False
    print(f"stream check at {n} lines: {'same values, formulas and tables' if ok else 'DIFFERENT'}")
    return ok


def ensure(n: int, force: bool = False, fast: bool = True, zip64: bool | None = None,
           writer: str = "auto") -> Path:
    """The workbook for `n` lines, built if missing (used by run.py). writer "auto":
    xlsxwriter (new_workbook) up to STREAM_ABOVE lines, the streaming writer above."""
    path = workbook_path(n)
    if path.exists() and not force:
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    zip64 = n > 200_000 if zip64 is None else zip64
    if writer == "auto":
        writer = "stream" if n > STREAM_ABOVE else "xlsxwriter"
    print(f"writing {path.relative_to(ROOT)} ({n:,} claim lines, {writer}) ...", flush=True)
    row = build(n, path, fast, zip64, writer=writer)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"  generated in {row['generate_s']} s, written in {row['write_s']} s, "
          f"{row['file_mb']} MB ({row['unzipped_mb']} MB unzipped), "
          f"peak RSS of this process so far {row['peak_rss_mb']} MB", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "generate.csv"
    old = []
    if log.exists():
        with log.open() as f:
            old = list(csv.DictReader(f))
    fields = list(dict.fromkeys([k for r in old for k in r] + list(row)))
    with log.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(old + [row])
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES[:2])),
                    help="claim lines per workbook, comma-separated (10k, 1M allowed); default 10000,100000")
    ap.add_argument("--force", action="store_true", help="rebuild files that exist")
    ap.add_argument("--plain", action="store_true", help="do not memoize xlsxwriter's formula preparation")
    ap.add_argument("--zip64", action="store_true", default=None,
                    help="allow ZIP64 (default: only above 200k lines, where the Claims XML passes 4 GiB)")
    ap.add_argument("--writer", choices=("auto", "xlsxwriter", "stream"), default="auto",
                    help=f"auto: pipeline.new_workbook up to {STREAM_ABOVE:,} lines, "
                         "bigbook.py's streaming writer above")
    ap.add_argument("--check", action="store_true", help="verify that the memoization changes no byte")
    ap.add_argument("--check-stream", action="store_true",
                    help="verify that the streaming writer gives the same values, formulas and tables")
    args = ap.parse_args(argv)
    if args.check or args.check_stream:
        ok = (check() if args.check else True) and (check_stream() if args.check_stream else True)
        return 0 if ok else 1
    for n in parse_sizes(args.sizes):
        ensure(n, args.force, not args.plain, args.zip64, args.writer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
