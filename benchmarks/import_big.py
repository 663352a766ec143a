"""Peak memory and time of importing one large 835 into an empty workbook (issue 16).

An import's memory should grow with the rows it appends, not with several copies of
them. This generates a balanced 835 of about --mb MB (benchmarks/x12_bench.generate_835:
one transaction, 1-2 service lines a claim, CAS, REF*6R, AMT*B6, LQ, a PLB; about 200
bytes a claim), then, each in a child process of its own, one after the other:

- import: ``payorxl import BOOK big.835`` into a new workbook (``payorxl new``); no claim
  is in Claims, so every row is unmatched and listed in Reconciliation: the largest
  import of that file there can be;
- recalc: ``payorxl recalc BOOK`` of the workbook the import wrote (the same rows, read
  back): the baseline the import is compared with, measured in the same run.

Peak RSS is the child's own ``getrusage(RUSAGE_SELF).ru_maxrss`` read by the child at exit
(import_bench.CHILD). The parent stays small (the 835 is generated in a child too):
ru_maxrss survives fork and exec, so a large parent would lend its children its
high-water mark. Reported: peak MB, peak ÷ the 835's size, seconds, import seconds ÷
recalc seconds, with the 1-minute load; rows are appended to
benchmarks/results/import-bench.csv and import-bench.md is rewritten
(import_bench.write_md).

Usage:
  python benchmarks/import_big.py --mb 20 --mb 100
  python benchmarks/import_big.py --mb 20 --pythonpath /tmp/before --label before   # earlier code
  python benchmarks/import_big.py --mb 100 --no-recalc      # the recalc of 500k claims takes GBs
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import import_bench  # noqa: E402

BYTES_PER_CLAIM = 200.5    # generate_835's average (20,050,056 bytes for 100,000 claims)

GENERATE = r"""
import sys
sys.path.insert(0, sys.argv[3])
from x12_bench import generate_835
with open(sys.argv[2], "w") as f:
    f.write(generate_835(int(sys.argv[1])))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, action="append", help="size of the 835 in MB (repeatable; default 20)")
    ap.add_argument("--no-recalc", action="store_true", help="skip the recalc baseline")
    ap.add_argument("--pythonpath", help="import payorxl from this folder instead of this checkout")
    ap.add_argument("--label", default="", help="a name for this run in the results (e.g. before, after)")
    ap.add_argument("--note", default="", help="what this run measured, for the results")
    ap.add_argument("--keep", type=Path, help="copy each imported workbook into this folder")
    args = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": args.pythonpath or str(ROOT)}
    stamp = dt.datetime.now().isoformat(timespec="minutes")
    code = import_bench.code_state(args.pythonpath)
    rows = []
    for mb in args.mb or [20.0]:
        scratch = Path(tempfile.mkdtemp(prefix="payorxl-import-big-"))
        try:
            claims = max(1, round(mb * 1e6 / BYTES_PER_CLAIM))
            era = scratch / "big.835"
            subprocess.run([import_bench.PY, "-c", GENERATE, str(claims), str(era), str(ROOT / "benchmarks")],
                           check=True, cwd=scratch)
            book = scratch / "book.xlsx"
            import_bench.measure(["new", str(book)], env, scratch)
            size = era.stat().st_size
            what = f"new workbook + {size / 1e6:.1f} MB 835 ({claims:,} claims)"
            print(f"{what}", flush=True)
            out = {"import": import_bench.measure(["import", str(book), str(era)], env, scratch)}
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(book, args.keep / f"import-{size / 1e6:.0f}mb.xlsx")
            book_mb = book.stat().st_size / 1e6
            if not args.no_recalc:
                out["recalc"] = import_bench.measure(["recalc", str(book)], env, scratch)
            for name, o in out.items():
                print(f"  {name:<7} {o['seconds']:7.1f} s  peak {o['peak_mb']:7.0f} MB  "
                      f"load {o['load_before']:.2f}->{o['load_after']:.2f}", flush=True)
            recalc = out.get("recalc")
            for name, o in out.items():
                ratio = f"peak {o['peak_mb'] * 2**20 / size:.1f}× the 835's size"
                if recalc and name == "import":
                    ratio += (f"; import time {o['seconds'] / recalc['seconds']:.2f}× the recalc's, peak "
                              f"{o['peak_mb'] / recalc['peak_mb']:.2f}× the recalc's")
                rows.append({"date": stamp, "label": args.label, "code": code, "book": what,
                             "book_mb": round(book_mb, 1), "command": f"{name} (big 835)",
                             "seconds": round(o["seconds"], 2), "cpu_s": round(o["cpu_s"], 2),
                             "peak_mb": round(o["peak_mb"]),
                             "peak_vs_recalc": round(o["peak_mb"] / recalc["peak_mb"], 2) if recalc else "",
                             "load_before": o["load_before"], "load_after": o["load_after"],
                             "note": "; ".join(x for x in (args.note, ratio) if x)})
                print(f"  {name}: {ratio}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    results = import_bench.RESULTS
    results.mkdir(parents=True, exist_ok=True)
    log = results / "import-bench.csv"
    old = list(csv.DictReader(log.open())) if log.exists() else []
    fields = list(old[0]) if old else list(rows[0])
    with log.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows([{k: r.get(k, "") for k in fields} for r in old + rows])
    import_bench.write_md(old + rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
