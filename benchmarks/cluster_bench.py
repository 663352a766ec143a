"""Many workbooks: `payorxl recalc FOLDER` with --jobs 1, --jobs 2 and a 2-worker Dask
LocalCluster (--scheduler local --jobs 2), in one run on the same files (issue 15).

N copies of one generated practice workbook (benchmarks/generate.py) are recalculated by
each mode in turn, each mode on fresh copies; wall time, CPU and the load average around
each are written to benchmarks/results/cluster.md (and appended to cluster.csv), with
the ratios to --jobs 1 and the per-workbook cost the README's estimate is made from.

Usage: python benchmarks/cluster_bench.py [--books 64] [--lines 10000]
       python benchmarks/cluster_bench.py --books 16 --lines 10000   # a few minutes on 2 cores
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
AS_OF = "2026-11-02"
MODES = (("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"]),
         ("Dask LocalCluster, 2 workers", ["--scheduler", "local", "--jobs", "2"]))


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def run_mode(folder: Path, args: list[str]) -> dict:
    before = load1()
    t0 = time.perf_counter()
    r0 = os.times()
    proc = subprocess.run([sys.executable, "-m", "payorxl", "recalc", str(folder), "--as-of", AS_OF, "--json", *args],
                          capture_output=True, text=True)
    secs = time.perf_counter() - t0
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return {"status": "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr[-300:]}",
            "seconds": round(secs, 2), "cpu_s": round(cpu, 2), "load_before": before, "load_after": load1()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", type=int, default=64)
    ap.add_argument("--lines", type=int, default=10_000)
    args = ap.parse_args(argv)
    src = generate.ensure(args.lines)
    folder = generate.DATA / "cluster"
    run_id = dt.datetime.now().isoformat(timespec="minutes")
    rows = []
    for name, extra in MODES:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for i in range(args.books):
            shutil.copy2(src, folder / f"practice-{i + 1:03d}.xlsx")
        row = {"run": run_id, "workbooks": args.books, "lines_each": args.lines, "mode": name,
               **run_mode(folder, extra)}
        row["per_workbook_s"] = round(row["seconds"] / args.books, 3)
        rows.append(row)
        print(f"{name:30s} {row['status']:4s} {row['seconds']:8.2f} s ({row['per_workbook_s']:.2f} s per workbook), "
              f"CPU {row['cpu_s']:.1f} s, load {row['load_before']}->{row['load_after']}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    base = rows[0]["seconds"]
    for r in rows:
        r["speedup_vs_jobs1"] = round(base / r["seconds"], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "cluster.csv"
    new = not log.exists()
    with log.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows(rows)
    per_book_1 = rows[0]["per_workbook_s"]
    md = ["# Many workbooks on a process pool and on a Dask cluster", "",
          f"Run {run_id} on {os.cpu_count()} cores (shared with other work: see the load averages), "
          f"`python benchmarks/cluster_bench.py --books {args.books} --lines {args.lines}`: "
          f"{args.books} copies of `{src.name}` ({args.lines:,} claim lines, "
          f"{src.stat().st_size / 1e6:.1f} MB), each mode on fresh copies, `payorxl recalc FOLDER --as-of {AS_OF}`.",
          "", "| mode | status | wall s | s per workbook | CPU s | speed-up vs --jobs 1 | load before → after |",
          "|---|---|---:|---:|---:|---:|---|"]
    md += [f"| {r['mode']} | {r['status']} | {r['seconds']:.2f} | {r['per_workbook_s']:.3f} | {r['cpu_s']:.1f} | "
           f"{r['speedup_vs_jobs1']:.2f} | {r['load_before']} → {r['load_after']} |" for r in rows]
    dask_vs_pool = rows[1]["seconds"] / rows[2]["seconds"]
    md += ["", f"Dask LocalCluster ÷ process pool, both 2 workers: {dask_vs_pool:.2f}× the speed "
           f"(time of --jobs 2 ÷ time of the cluster).", "",
           f"One worker recalculates a {args.lines:,}-line workbook in about {per_book_1:.2f} s here, "
           f"so about {3600 / per_book_1:,.0f} workbooks an hour per worker core while the storage keeps up "
           "(README, \"Many practices\").", ""]
    (RESULTS / "cluster.md").write_text("\n".join(md))
    print(f"wrote {(RESULTS / 'cluster.md').relative_to(ROOT)}")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
