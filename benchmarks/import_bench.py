"""Peak memory of `payorxl import` against `payorxl recalc` of the same workbook (issue 16).

An import of a small file should need memory for the rows it appends, not for the
workbook. This measures, on the same generated workbook and in the same run:

- import 835: ``payorxl import BOOK era.835``: a one-claim 835 (about 1 KB) paying the
  workbook's first claim line (so it is matched, as a real remittance is);
- import 837: ``payorxl import BOOK claims.837``: a one-claim, two-line 837P (new lines,
  appended to the large Claims sheet);
- recalc: ``payorxl recalc BOOK``;

each on a fresh copy of the workbook, in a child process of its own, one after the
other. Peak RSS is the child's own ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, read by
the child itself at exit (so a large parent cannot lend it its high-water mark), with
wall time and the 1-minute load before and after. It prints the ratios import ÷ recalc
and writes benchmarks/results/import-bench.csv (rows appended) and import-bench.md (the
last run, with the machine).

The workbook is benchmarks/data/practice-<n>.xlsx, built by benchmarks/generate.py when
missing, or --book PATH. --pythonpath DIR measures the payorxl found there instead of this
checkout's (for a before/after comparison: export the earlier code to DIR).

Usage:
  python benchmarks/import_bench.py                       # 100k lines
  python benchmarks/import_bench.py --lines 10000 --repeat 2
  python benchmarks/import_bench.py --book /tmp/practice-100k.xlsx --label after
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
PY = sys.executable

# Runs payorxl's CLI in this process and reports its own peak RSS (KB on Linux) and wall
# time as JSON on the last line of stderr, whatever the command's exit status.
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
code = 0
try:
    from payorxl.cli import main
    main(sys.argv[1:], prog_name="payorxl", standalone_mode=False)
except SystemExit as e:
    code = e.code or 0
except Exception as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    code = 1
import payorxl
ru = resource.getrusage(resource.RUSAGE_SELF)
scale = 1 if sys.platform != "darwin" else 1 / 1024     # macOS reports bytes
print(json.dumps({"code": code, "seconds": time.perf_counter() - t0,
                  "peak_mb": ru.ru_maxrss * scale / 1024, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "payorxl": payorxl.__path__[0]}),
      file=sys.stderr)
"""

# The workbook's first claim line, read in a child (the parent stays small).
FIRST_LINE = r"""
import json, sys
from python_calamine import CalamineWorkbook
sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name("Claims")
rows = sheet.iter_rows() if hasattr(sheet, "iter_rows") else iter(sheet.to_python())
header = [str(h) for h in next(rows)]
row = dict(zip(header, next(rows)))
print(json.dumps({k: str(row[k]) for k in ("Claim ID", "Line", "Payor", "CPT", "Date of Service", "Charge")}))
"""


def isa(control: str) -> str:
    return "*".join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
                     "261101", "1200", "^", "00501", control, "0", "P", ":"])


def era_835(line: dict) -> str:
    """A balanced one-claim 835 paying 60% of the line's charge."""
    charge = float(line["Charge"])
    paid = round(charge * 0.6, 2)
    dos = line["Date of Service"][:10].replace("-", "")
    body = [f"BPR*I*{paid:.2f}*C*ACH************20261101", "TRN*1*EFT16001*1999999999", "DTM*405*20261031",
            f"N1*PR*{line['Payor'].upper()}", "N1*PE*RIVERSIDE FAMILY MEDICINE*XX*1234567893", "LX*1",
            f"CLP*{line['Claim ID']}*1*{charge:.2f}*{paid:.2f}**12*PCN16001",
            f"SVC*HC:{line['CPT']}*{charge:.2f}*{paid:.2f}**1", f"DTM*472*{dos}",
            f"CAS*CO*45*{charge - paid:.2f}", f"REF*6R*{int(float(line['Line']))}"]
    segments = [isa("000016001"), "GS*HP*SENDER*RECEIVER*20261101*1200*16*X*005010X221A1", "ST*835*0001",
                *body, f"SE*{len(body) + 2}*0001", "GE*1*16", "IEA*1*000016001"]
    return "~\n".join(segments) + "~\n"


def claims_837() -> str:
    body = ["BHT*0019*00*B1*20261020*1200*CH", "NM1*41*2*RIVERSIDE FAMILY MEDICINE*****46*S1",
            "NM1*40*2*CLEARINGHOUSE*****46*R1", "HL*1**20*1",
            "NM1*85*2*RIVERSIDE FAMILY MEDICINE*****XX*1234567893", "HL*2*1*22*0", "SBR*P*18*******CI",
            "NM1*IL*1*DOE*JANE****MI*BENCH16", "NM1*PR*2*ACME HEALTH PLAN*****PI*PAYER01",
            "CLM*BENCH-16*250***11:B:1*Y*A*Y*Y", "HI*ABK:E119", "LX*1", "SV1*HC:99214*150*UN*1***1",
            "DTP*472*D8*20261015", "LX*2", "SV1*HC:36415*100*UN*2***1", "DTP*472*D8*20261015"]
    segments = [isa("000016002"), "GS*HC*SENDER*RECEIVER*20261101*1200*17*X*005010X222A1",
                "ST*837*0001*005010X222A1", *body, f"SE*{len(body) + 2}*0001", "GE*1*17", "IEA*1*000016002"]
    return "~\n".join(segments) + "~\n"


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def measure(args: list[str], env: dict, cwd: Path) -> dict:
    before = load1()
    # cwd: not the checkout, whose payorxl would come before PYTHONPATH on sys.path
    proc = subprocess.run([PY, "-c", CHILD, *args], capture_output=True, text=True, env=env, cwd=cwd)
    lines = proc.stderr.strip().splitlines()
    try:
        out = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"the child failed: {proc.stderr[-2000:]}") from None
    if out["code"]:
        raise SystemExit(f"{' '.join(args[:2])} failed: {proc.stdout[-1000:]} {proc.stderr[-1000:]}")
    out.update(load_before=before, load_after=load1())
    return out


def code_state(pythonpath: str | None) -> str:
    if pythonpath:
        return f"payorxl from {pythonpath}"
    def git(*a):
        return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [x for x in git("status", "--porcelain", "--", "payorxl").splitlines() if x.strip()]
    return f"{head}" + (f" + {len(dirty)} uncommitted path(s) under payorxl/" if dirty else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100_000, help="claim lines of the generated workbook")
    ap.add_argument("--book", type=Path, help="measure this workbook instead of benchmarks/data/practice-<n>.xlsx")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command (the smallest peak is kept)")
    ap.add_argument("--pythonpath", help="import payorxl from this folder instead of this checkout")
    ap.add_argument("--label", default="", help="a name for this run in the results (e.g. before, after)")
    ap.add_argument("--note", default="", help="what this run measured, for the results (the code, the workbook)")
    args = ap.parse_args(argv)

    if args.book:
        book = args.book
    else:
        import generate
        book = generate.ensure(args.lines)
    env = {**os.environ, "PYTHONPATH": args.pythonpath or str(ROOT)}
    scratch = Path(tempfile.mkdtemp(prefix="payorxl-import-bench-"))
    try:
        first = json.loads(subprocess.run([PY, "-c", FIRST_LINE, str(book)], capture_output=True, text=True,
                                          check=True, env=env, cwd=scratch).stdout)
        era = scratch / "era.835"
        era.write_text(era_835(first))
        claims = scratch / "claims.837"
        claims.write_text(claims_837())
        print(f"{book}: {book.stat().st_size / 1e6:.1f} MB; era.835 {era.stat().st_size} bytes, "
              f"claims.837 {claims.stat().st_size} bytes", flush=True)
        commands = {"import 835": ["import", "{book}", str(era)], "import 837": ["import", "{book}", str(claims)],
                    "recalc": ["recalc", "{book}"]}
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():
                copy = scratch / "book.xlsx"
                shutil.copy(book, copy)
                out = measure([c.replace("{book}", str(copy)) for c in command], env, scratch)
                print(f"  {name:<11} {out['seconds']:7.1f} s  peak {out['peak_mb']:7.0f} MB  "
                      f"load {out['load_before']:.2f}->{out['load_after']:.2f}  ({out['payorxl']})", flush=True)
                if name not in best or out["peak_mb"] < best[name]["peak_mb"]:
                    best[name] = out
                copy.unlink()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    recalc = best["recalc"]["peak_mb"]
    stamp = dt.datetime.now().isoformat(timespec="minutes")
    code = code_state(args.pythonpath)
    rows = [{"date": stamp, "label": args.label, "code": code, "book": book.name,
             "book_mb": round(book.stat().st_size / 1e6, 1), "command": name, "seconds": round(o["seconds"], 2),
             "cpu_s": round(o["cpu_s"], 2), "peak_mb": round(o["peak_mb"]),
             "peak_vs_recalc": round(o["peak_mb"] / recalc, 2), "load_before": o["load_before"],
             "load_after": o["load_after"], "note": args.note} for name, o in best.items()]
    for r in rows:
        print(f"{r['command']:<11} peak {r['peak_mb']:6d} MB = {r['peak_vs_recalc']:.2f} × recalc")

    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "import-bench.csv"
    old = list(csv.DictReader(log.open())) if log.exists() else []
    with log.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows([{k: r.get(k, "") for k in rows[0]} for r in old] + rows)
    write_md(old + rows)
    return 0


def _ratio(value) -> str:
    return f"{float(value):.2f}" if value not in ("", None) else "—"


def write_md(rows: list[dict]) -> None:
    """import-bench.md: every run in import-bench.csv, newest first."""
    cpu = "unknown"
    try:
        cpu = next(x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                   if x.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = ["# `payorxl import` memory against `payorxl recalc` (issue 16)", "",
             "Written by `python benchmarks/import_bench.py` and `benchmarks/import_big.py` (a large generated "
             "835 into a new workbook; recalc is then of the workbook that import wrote) (methods in their "
             "docstrings): peak RSS of each "
             "command in its own child process (`getrusage(RUSAGE_SELF)` read by the child at exit), each on "
             "a fresh copy of the same workbook, in the same run; `× recalc` is that run's recalc peak. The "
             "machine is shared: seconds vary with the load (shown); peaks do not.", "",
             f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.platform()}.", "",
             "| run | code | workbook | command | peak MB | × recalc | seconds | load before→after |",
             "|---|---|---|---|---:|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: r["date"], reverse=True):
        lines.append(f"| {r['date']} {r['label']} | {r['code']} | {r['book']} ({r['book_mb']} MB) | "
                     f"{r['command']} | {r['peak_mb']} | {_ratio(r['peak_vs_recalc'])} | {r['seconds']} | "
                     f"{r['load_before']}→{r['load_after']} |")
    notes = {}
    for r in sorted(rows, key=lambda r: r["date"], reverse=True):
        if r.get("note"):
            notes.setdefault(f"{r['date']} {r['label']}", r["note"])
    if notes:
        lines += ["", "Notes:", ""] + [f"- {run}: {note}" for run, note in notes.items()]
    (RESULTS / "import-bench.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
