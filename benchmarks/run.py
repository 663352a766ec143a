"""Scale benchmark of `payorxl recalc` (issue #4): time and peak memory, on the same
workbook, next to its floor and its peers.

For each size (claim lines) the workbook benchmarks/data/practice-<n>.xlsx is built if
missing (benchmarks/generate.py), then each of these runs in its own subprocess, one
after the other, and its wall time and peak RSS (GNU ``/usr/bin/time -f %M``: the
command and the descendants it waited for) are recorded:

- recalc:      ``python -m payorxl recalc FILE --output OUT --as-of 2026-10-31``;
- floor:       python-calamine reading the values of the input sheets (Claims, Payments,
               Appeals, Contracts, FeeSchedule, Settings) of the same file, as
               payorxl's reader does (``to_python(skip_empty_area=False)``);
- libreoffice: LibreOffice headless opening the workbook with recalculation of its native
               formulas forced on load, and saving it (``payorxl.libreoffice.convert``);
- openpyxl:    a naive ``openpyxl.load_workbook(FILE)`` + ``save``.
- startup:     ``python -c "import payorxl.cli, payorxl.pipeline"`` (the fixed cost
               inside recalc, for reading the small sizes).

It prints the ratios recalc ÷ floor, LibreOffice ÷ recalc and openpyxl ÷ recalc, and
writes benchmarks/results/results.csv, results.md (with the machine and the load) and
scaling.png (log-log time vs. claim lines). Rows for sizes not measured in this run are
kept from earlier runs, marked with their own run time.

``--many N`` copies the 10k workbook N times into benchmarks/data/many/ and times
``payorxl recalc FOLDER --jobs 1`` against ``--jobs 2`` (many.csv, and a section in
results.md). ``--profile`` profiles ``payorxl recalc`` on the 100k workbook (cProfile, and
pyinstrument when installed) into benchmarks/results/profile-*.txt.

Usage:
  python benchmarks/run.py                      # 10k and 100k
  python benchmarks/run.py --quick              # 10k only
  python benchmarks/run.py --sizes 10000,100000,1000000 --lo-timeout 1800
  python benchmarks/run.py --many 8 --sizes none
  python benchmarks/run.py --profile --sizes none
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402

DATA, RESULTS = generate.DATA, generate.RESULTS
SCRATCH = DATA / "scratch"
AS_OF = "2026-10-31"
PY = sys.executable
CODE = ""   # set in main(): the payorxl code this run measures
TOOLS = ("recalc", "recalc-as-shipped", "floor", "libreoffice", "openpyxl", "startup")

FLOOR = """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
cells = 0
for name in ("Settings", "Contracts", "FeeSchedule", "Claims", "Payments", "Appeals"):
    grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    cells += sum(len(r) for r in grid)
book.close()
print(cells)
"""
LIBREOFFICE = """
import sys
from payorxl.libreoffice import convert
print(convert(sys.argv[1], sys.argv[2], "xlsx", timeout=None))
"""
OPENPYXL = """
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
wb.save(sys.argv[2])
"""
STARTUP = "import payorxl.cli, payorxl.pipeline"
# `payorxl recalc` with the reader's zip-bomb size limits lifted, for --lift-zip-limits.
# Until commit c5edbcf, workbook/read.py refused any part over 4 GiB (MAX_PART), and the
# 1M-line Claims part is 10.6 GB of XML; it now checks the expansion ratio and a 64 GiB
# total only, so the option is needed only to measure older code or larger files.
RECALC_LIFTED = """
import sys
import payorxl.workbook.read as read
read.MAX_PART = read.MAX_TOTAL = 1 << 62
from payorxl.cli import main
sys.argv[0] = "payorxl"
main()
"""


@dataclass
class Run:
    run: str
    lines: int
    tool: str
    status: str          # ok, timeout (seconds: when it was stopped), failed, skipped
    seconds: float | None
    peak_mb: float | None
    load_before: float
    load_after: float
    note: str = ""
    cpu_s: float | None = None   # user + system CPU seconds; cpu_s / seconds > 1: more than one core
    code: str = ""               # payorxl commit (+ fingerprint of uncommitted changes) that ran


def load1() -> float:
    return round(os.getloadavg()[0], 2)


TIME = shutil.which("time", path="/usr/bin:/bin")


def measure(cmd: list[str], timeout: float | None = None,
            env: dict | None = None) -> tuple[str, float, float, str, float]:
    """Run cmd in a new session; returns (status, seconds, peak RSS in MB, tail of output,
    CPU seconds (user + system, the command and its waited-for descendants)).

    Peak RSS comes from GNU time (``/usr/bin/time -f %M``: the maximum RSS of the command
    and the descendants it waited for, e.g. soffice.bin). Not from this process's own
    ``wait4``: a child forked from a large parent starts with the parent's high-water mark
    (Linux carries it across exec), which would hide small peaks. On timeout the whole
    session (the process group this function started) is killed."""
    out = tempfile.TemporaryFile()
    fd, rss_file = tempfile.mkstemp(prefix="rss-", suffix=".txt")
    os.close(fd)
    full = [TIME, "-f", "%M %U %S", "-o", rss_file, *cmd] if TIME else cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                         env={**os.environ, **(env or {})}, cwd=ROOT)
    status = "ok"
    try:
        code = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)   # our own session: the child and what it started
        code = p.wait()
        status = "timeout"
    seconds = time.perf_counter() - t0
    if status == "ok" and code != 0:
        status = "failed"
    try:
        fields = Path(rss_file).read_text().split()[-3:]
        peak, cpu = float(fields[0]) / 1024, float(fields[1]) + float(fields[2])
    except (OSError, ValueError, IndexError):
        peak = cpu = float("nan")
    os.unlink(rss_file)
    out.seek(0)
    tail = out.read().decode("utf-8", "replace").strip()[-800:]
    out.close()
    if status == "timeout":
        try:   # anything left in the session (soffice.bin re-parented) goes too
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return status, seconds, peak, tail, cpu


# --- the machine ----------------------------------------------------------------------

def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[0]
    except Exception as e:  # a missing tool is reported, not fatal
        return f"n/a ({type(e).__name__})"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                      if x.startswith("MemTotal")).split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    def v(pkg):
        try:
            return version(pkg)
        except Exception:
            return "not installed"
    from payorxl.libreoffice import soffice
    exe = soffice()
    code = code_state()
    return {"cpu": cpu, "cores": os.cpu_count(), "ram": ram, "os": platform.platform(),
            "python": platform.python_version(), "pandas": v("pandas"), "numpy": v("numpy"),
            "python-calamine": v("python-calamine"), "xlsxwriter": v("xlsxwriter"),
            "openpyxl": v("openpyxl"), "payorxl": v("payorxl"),
            "libreoffice": _version([exe, "--version"]) if exe else "not installed", **code}


def code_state() -> dict:
    """Which payorxl code ran: the commit and a fingerprint of uncommitted changes under
    payorxl/ (read-only git commands; the figures are a snapshot of a moving tree)."""
    import hashlib

    def git(*a):
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT, timeout=60).stdout
        except Exception:
            return ""
    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    status = [ln for ln in git("status", "--porcelain", "--", "payorxl").splitlines() if ln.strip()]
    h = hashlib.sha1(git("diff", "HEAD", "--", "payorxl").encode())
    for line in status:
        if line.startswith("??"):
            f = ROOT / line[3:].strip()
            for q in sorted([f] if f.is_file() else f.rglob("*.py")):
                h.update(q.read_bytes())
    return {"payorxl commit": head,
            "payorxl uncommitted": (f"{len(status)} changed/new paths under payorxl/, fingerprint {h.hexdigest()[:10]}"
                                    if status else "none")}


# --- one size -------------------------------------------------------------------------

def bench_size(n: int, run_id: str, args) -> list[Run]:
    path = generate.ensure(n)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    rows: list[Run] = []
    tmp_env = {"TMPDIR": str(SCRATCH)}   # LibreOffice's profile and temp files

    def record(tool, cmd, timeout=None, note=""):
        before = load1()
        print(f"  {tool:<12}", end="", flush=True)
        status, secs, peak, tail, cpu = measure(cmd, timeout, tmp_env)
        after = load1()
        if status != "ok":
            note = (note + f" {status} after {secs:.0f} s: " + tail.splitlines()[-1][:200]
                    if tail else note + f" {status} after {secs:.0f} s").strip()
        r = Run(run_id, n, tool, status, round(secs, 2), None if peak != peak else round(peak, 1),
                before, after, note, None if cpu != cpu else round(cpu, 2), CODE)
        rows.append(r)
        shown = f"{secs:9.2f} s" if status == "ok" else f"{status} ({secs:.0f} s)"
        print(f"{shown:>16}  peak {peak:8.0f} MB  load {before:.2f}->{after:.2f}", flush=True)
        if status == "failed":
            print("    " + tail[-400:].replace("\n", "\n    "), flush=True)
        return r

    print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1e6:.1f} MB", flush=True)
    out = SCRATCH / f"recalc-{generate.label(n)}.xlsx"
    record("startup", [PY, "-c", STARTUP])
    record("floor", [PY, "-c", FLOOR, str(path)])
    if args.lift_zip_limits:
        record("recalc-as-shipped", [PY, "-m", "payorxl", "recalc", str(path), "--output", str(out), "--as-of", AS_OF])
        record("recalc", [PY, "-c", RECALC_LIFTED, "recalc", str(path), "--output", str(out), "--as-of", AS_OF],
               note="zip-bomb limits of workbook/read.py lifted (--lift-zip-limits)")
    else:
        record("recalc", [PY, "-m", "payorxl", "recalc", str(path), "--output", str(out), "--as-of", AS_OF])
    if not args.skip_libreoffice:
        lo_out = SCRATCH / f"lo-{generate.label(n)}"
        shutil.rmtree(lo_out, ignore_errors=True)
        skip = args.lo_skip_above is not None and n > args.lo_skip_above
        if skip:
            rows.append(Run(run_id, n, "libreoffice", "skipped", None, None, load1(), load1(),
                            f"not run above {args.lo_skip_above:,} lines (--lo-skip-above): see the "
                            "smaller sizes for its growth", None, CODE))
            print("  libreoffice    skipped")
        else:
            record("libreoffice", [PY, "-c", LIBREOFFICE, str(path), str(lo_out)], args.lo_timeout)
        shutil.rmtree(lo_out, ignore_errors=True)
        for left in [*SCRATCH.glob("payorxl-lo-*"), *SCRATCH.glob("lu*.tmp")]:  # after a timeout
            shutil.rmtree(left, ignore_errors=True) if left.is_dir() else left.unlink(missing_ok=True)
    if not args.skip_openpyxl:
        skip = args.openpyxl_skip_above is not None and n > args.openpyxl_skip_above
        if skip:
            rows.append(Run(run_id, n, "openpyxl", "skipped", None, None, load1(), load1(),
                            f"not run above {args.openpyxl_skip_above:,} lines (--openpyxl-skip-above): "
                            "it holds every cell as a Python object: see the smaller sizes for its memory",
                            None, CODE))
            print("  openpyxl       skipped")
        else:
            record("openpyxl", [PY, "-c", OPENPYXL, str(path), str(SCRATCH / f"openpyxl-{generate.label(n)}.xlsx")],
                   args.openpyxl_timeout)
    for f in SCRATCH.glob(f"*-{generate.label(n)}.xlsx"):
        f.unlink()
    return rows


def ratios(rows: list[Run]) -> dict[int, dict[str, float | None]]:
    by = {}
    for r in rows:
        by.setdefault(r.lines, {})[r.tool] = r
    out = {}
    for n, t in sorted(by.items()):
        def s(tool, t=t):
            r = t.get(tool)
            return r.seconds if r is not None and r.status == "ok" else None
        rec = s("recalc")
        out[n] = {
            "recalc/floor": rec / s("floor") if rec and s("floor") else None,
            "libreoffice/recalc": s("libreoffice") / rec if rec and s("libreoffice") else None,
            "openpyxl/recalc": s("openpyxl") / rec if rec and s("openpyxl") else None,
            "(recalc-startup)/floor": ((rec - s("startup")) / s("floor")
                                       if rec and s("floor") and s("startup") else None),
        }
        lo = t.get("libreoffice")
        if lo is not None and lo.status in ("timeout", "failed") and lo.seconds and rec:
            # a lower bound: LibreOffice had not finished when it was stopped (or crashed)
            out[n]["libreoffice/recalc >"] = lo.seconds / rec
            out[n]["libreoffice status"] = "timeout" if lo.status == "timeout" else "crashed"
    return out


# --- many workbooks -------------------------------------------------------------------

def bench_many(count: int, run_id: str) -> list[dict]:
    src = generate.ensure(10_000)
    folder = DATA / "many"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i in range(count):
        shutil.copy2(src, folder / f"practice-{i + 1:03d}.xlsx")
    rows = []
    print(f"{count} copies of {src.name} in {folder.relative_to(ROOT)}", flush=True)
    for jobs in (1, 2):
        before = load1()
        status, secs, peak, tail, cpu = measure([PY, "-m", "payorxl", "recalc", str(folder), "--jobs", str(jobs),
                                            "--as-of", AS_OF])
        rows.append({"run": run_id, "workbooks": count, "lines_each": 10_000, "jobs": jobs, "status": status,
                     "seconds": round(secs, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak, 1),
                     "per_workbook_s": round(secs / count, 3),
                     "load_before": before, "load_after": load1()})
        print(f"  --jobs {jobs}: {status} {secs:8.2f} s ({secs / count:.2f} s per workbook), "
              f"CPU {cpu:.1f} s ({cpu / secs:.2f} cores busy), load {before:.2f}->{load1():.2f}", flush=True)
    # The ceiling on this machine now: the same two single-workbook recalcs one after the
    # other, then side by side as two independent processes (no pool involved).
    one = " ".join([PY, "-m", "payorxl", "recalc", str(folder / "practice-001.xlsx"), "--as-of", AS_OF, ">/dev/null"])
    two = " ".join([PY, "-m", "payorxl", "recalc", str(folder / "practice-002.xlsx"), "--as-of", AS_OF, ">/dev/null"])
    ceiling = {}
    for how, script in (("2 processes, one after the other", f"{one}; {two}"),
                        ("2 processes, side by side", f"{one} & {two}; wait")):
        before = load1()
        status, secs, peak, tail, cpu = measure(["sh", "-c", script])
        ceiling[how] = secs
        rows.append({"run": run_id, "workbooks": 2, "lines_each": 10_000, "jobs": how, "status": status,
                     "seconds": round(secs, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak, 1),
                     "per_workbook_s": round(secs / 2, 3), "load_before": before, "load_after": load1()})
    ceil = ceiling["2 processes, one after the other"] / ceiling["2 processes, side by side"]
    rows[-1]["speedup_vs_jobs1"] = round(ceil, 2)
    print(f"  ceiling now: two independent recalcs side by side are {ceil:.2f}x faster than one after the other",
          flush=True)
    if all(r["status"] == "ok" for r in rows[:2]):
        speedup = rows[0]["seconds"] / rows[1]["seconds"]
        for r in rows[:2]:
            r["speedup_vs_jobs1"] = round(rows[0]["seconds"] / r["seconds"], 2)
        print(f"  speed-up --jobs 2 vs --jobs 1: {speedup:.2f}x", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return rows


# --- what the formula text costs ---------------------------------------------------------

def bench_formula_cost(n: int, run_id: str) -> list[dict]:
    """Floor and recalc on three files of the same n lines: new_workbook's (xlsxwriter),
    bigbook's stream (same formulas, inline strings) and bigbook's stream without the
    calculated columns' formula text (values only: not a payorxl workbook, a measure)."""
    import bigbook
    files = {"xlsxwriter (new_workbook)": generate.ensure(n)}
    for label, formulas in (("stream, with formulas", True), ("stream, values only (no formula text)", False)):
        p = DATA / f"practice-{generate.label(n)}-{'stream' if formulas else 'noformulas'}.xlsx"
        if not p.exists():
            print(f"writing {p.relative_to(ROOT)} ...", flush=True)
            bigbook.write_streamed(n, p, generate.settings_values(), formulas=formulas)
        files[label] = p
    SCRATCH.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, p in files.items():
        import zipfile
        with zipfile.ZipFile(p) as z:
            unzipped = sum(i.file_size for i in z.infolist())
        row = {"run": run_id, "lines": n, "file": label, "file_mb": round(p.stat().st_size / 1e6, 1),
               "unzipped_mb": round(unzipped / 1e6, 1)}
        for tool, cmd in (("floor", [PY, "-c", FLOOR, str(p)]),
                          ("recalc", [PY, "-m", "payorxl", "recalc", str(p), "--output",
                                      str(SCRATCH / "formula-cost.xlsx"), "--as-of", AS_OF])):
            before = load1()
            status, secs, peak, tail, cpu = measure(cmd)
            row[f"{tool}_s"] = round(secs, 2) if status == "ok" else status
            row[f"{tool}_peak_mb"] = round(peak, 1)
            row[f"{tool}_load"] = before
        print(f"  {label:<40} {row['unzipped_mb']:>8} MB XML  floor {row['floor_s']} s  recalc {row['recalc_s']} s",
              flush=True)
        rows.append(row)
    (SCRATCH / "formula-cost.xlsx").unlink(missing_ok=True)
    with (RESULTS / "formula_cost.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


# --- profile --------------------------------------------------------------------------

GROUPS = [  # (label, predicate on (file, function name)) — first match wins, on cumulative time
    ("read: open + calamine to_python", ("payorxl/workbook/read.py", "read_grid")),
    ("read: settings", ("payorxl/workbook/read.py", "read_settings")),
    ("conversion: grid -> typed frames", ("payorxl/conversion.py", "table_from_grid")),
    ("validation", ("payorxl/validate.py", "validate")),
    ("engine (all)", ("payorxl/engine/__init__.py", "calculate")),
    ("layout of owned sheets", ("payorxl/workbook/sheets.py", "owned_sheets")),
    ("writing: write_owned_sheets", ("payorxl/workbook/xlsxpart.py", "write_owned_sheets")),
    ("writing: sheet XML", ("payorxl/workbook/xlsxpart.py", "sheet_data_xml")),
    ("writing: zip copy (rewrite_parts)", ("payorxl/workbook/xlsxpart.py", "rewrite_parts")),
    ("reconciliation (importer)", ("payorxl/importer.py", "reconciliation_frame")),
    ("summary", ("payorxl/pipeline.py", "summarize")),
    ("recalc total", ("payorxl/pipeline.py", "recalc")),
]


def profile_summary(prof: Path) -> str:
    import pstats
    st = pstats.Stats(str(prof))
    stats = st.stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = max(v[3] for v in stats.values())
    lines = ["cProfile of `payorxl recalc` (cumulative seconds; cProfile adds overhead, compare shares):", ""]
    lines.append("| step | seconds | share |")
    lines.append("|---|---:|---:|")
    for label, (file, name) in GROUPS:
        ct = sum(v[3] for (f, _, fn), v in stats.items() if f.endswith(file) and fn == name)
        lines.append(f"| {label} | {ct:.2f} | {ct / total:.0%} |")
    # engine, per module: functions of payorxl/engine/* called directly from calculate/per_line
    parents = {k for k in stats if k[0].endswith("payorxl/engine/__init__.py")}
    per_module: dict[str, float] = {}
    for (f, _ln, _fn), v in stats.items():
        if "payorxl/engine/" not in f or f.endswith("__init__.py"):
            continue
        for caller, edge in v[4].items():
            if caller in parents:
                mod = "engine/" + Path(f).name
                per_module[mod] = per_module.get(mod, 0.0) + edge[3]
    own = {}
    for k in parents:
        own[k[2]] = stats[k][2]
    lines += ["", "Engine by module (time in functions called from engine/__init__.py):", "",
              "| module | seconds |", "|---|---:|"]
    for mod, ct in sorted(per_module.items(), key=lambda x: -x[1]):
        lines.append(f"| {mod} | {ct:.2f} |")
    lines.append(f"| engine/__init__.py own code | {sum(own.values()):.2f} |")
    # top functions by own time
    lines += ["", "Top 25 functions by own time:", "", "| own s | cum s | calls | function |", "|---:|---:|---:|---|"]
    top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:25]
    for (f, ln, fn), v in top:
        short = f.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        lines.append(f"| {v[2]:.2f} | {v[3]:.2f} | {v[1]} | `{short}:{ln} {fn}` |")
    lines += ["", "Top 30 payorxl functions by cumulative time:", "", "| cum s | own s | calls | function |",
              "|---:|---:|---:|---|"]
    ours = sorted(((k, v) for k, v in stats.items() if "/payorxl/" in k[0] and "site-packages" not in k[0]),
                  key=lambda kv: -kv[1][3])[:30]
    for (f, ln, fn), v in ours:
        lines.append(f"| {v[3]:.2f} | {v[2]:.2f} | {v[1]} | `{f.replace(str(ROOT) + '/', '')}:{ln} {fn}` |")
    return "\n".join(lines) + "\n"


def bench_profile(n: int) -> None:
    path = generate.ensure(n)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    out = SCRATCH / f"profile-{generate.label(n)}.xlsx"
    RESULTS.mkdir(parents=True, exist_ok=True)
    prof = SCRATCH / f"recalc-{generate.label(n)}.prof"
    before = load1()
    status, secs, peak, tail, cpu = measure([PY, "-m", "cProfile", "-o", str(prof), "-m", "payorxl", "recalc",
                                             str(path), "--output", str(out), "--as-of", AS_OF])
    print(f"  cProfile: {status} {secs:.1f} s, load {before:.2f}->{load1():.2f}", flush=True)
    if status == "ok":
        text = profile_summary(prof)
        (RESULTS / f"profile-{generate.label(n)}-cprofile.md").write_text(
            f"# payorxl recalc, {n:,} claim lines — cProfile\n\nwall {secs:.1f} s under cProfile, "
            f"load {before:.2f}->{load1():.2f}\n\n" + text)
        print(text)
    if shutil.which("pyinstrument") or _has("pyinstrument"):
        txt = RESULTS / f"profile-{generate.label(n)}-pyinstrument.txt"
        before = load1()
        status, secs, peak, tail, cpu = measure([PY, "-m", "pyinstrument", "-r", "text",
                                            "-o", str(txt), "-m", "payorxl", "recalc", str(path),
                                            "--output", str(out), "--as-of", AS_OF])
        print(f"  pyinstrument: {status} {secs:.1f} s, load {before:.2f}->{load1():.2f} -> {txt.relative_to(ROOT)}",
              flush=True)
    out.unlink(missing_ok=True)
    prof.unlink(missing_ok=True)


def _has(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


# --- reports --------------------------------------------------------------------------

def merge_rows(new: list[Run]) -> list[Run]:
    """The rows of this run, plus earlier rows for sizes this run did not measure."""
    path = RESULTS / "results.csv"
    keep = []
    sizes = {r.lines for r in new}
    if path.exists():
        with path.open() as f:
            for d in csv.DictReader(f):
                if int(d["lines"]) in sizes:
                    continue
                keep.append(Run(d["run"], int(d["lines"]), d["tool"], d["status"],
                                float(d["seconds"]) if d["seconds"] else None,
                                float(d["peak_mb"]) if d["peak_mb"] else None,
                                float(d["load_before"]), float(d["load_after"]), d.get("note", ""),
                                float(d["cpu_s"]) if d.get("cpu_s") else None, d.get("code", "")))
    return sorted(keep + new, key=lambda r: (r.lines, TOOLS.index(r.tool) if r.tool in TOOLS else 99))


def write_csv(rows: list[Run]) -> None:
    with (RESULTS / "results.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
        w.writeheader()
        for r in rows:
            w.writerow(asdict(r))


def plot(rows: list[Run]) -> str:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no plot"
    fig, ax = plt.subplots(figsize=(7, 5))
    labels = {"recalc": "payorxl recalc", "floor": "calamine read (floor)",
              "libreoffice": "LibreOffice recalc + save", "openpyxl": "openpyxl load + save"}
    markers = {"recalc": "o", "floor": "s", "libreoffice": "^", "openpyxl": "v"}
    xs_all = []
    for tool, name in labels.items():
        pts = sorted((r.lines, r.seconds) for r in rows if r.tool == tool and r.status == "ok")
        if pts:
            xs, ys = zip(*pts)
            xs_all += xs
            ax.plot(xs, ys, marker=markers[tool], label=name)
        lower = [(r.lines, r.seconds, r.status) for r in rows
                 if r.tool == tool and r.status in ("timeout", "failed") and r.seconds]
        for x, y, status in lower:
            ax.plot([x], [y], marker=markers[tool], markerfacecolor="none", color="gray", linestyle="none")
            what = "timeout" if status == "timeout" else "crashed"
            ax.annotate(f"{tool}: {what} after {y:.0f} s\n(lower bound)", (x, y), fontsize=7, xytext=(4, -14),
                        textcoords="offset points")
    if xs_all:  # a slope-1 guide through the recalc point nearest 100k lines: linear growth
        rec = sorted((r.lines, r.seconds) for r in rows if r.tool == "recalc" and r.status == "ok")
        if rec:
            xr, yr = min(rec, key=lambda p: abs(np.log10(p[0]) - 5))
            x0, x1 = min(xs_all), max(xs_all)
            ax.plot([x0, x1], [yr * x0 / xr, yr * x1 / xr], linestyle=":", color="gray",
                    label=f"linear (slope 1) through recalc @ {xr:,}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("claim lines")
    ax.set_ylabel("wall time (s)")
    ax.set_title("payorxl recalc vs. floor and peers (same workbook)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png", dpi=110)
    return "scaling.png"


def fmt(x, digits=2, suffix=""):
    return "" if x is None else f"{x:,.{digits}f}{suffix}"


def write_md(rows: list[Run], mach: dict, many: list[dict] | None, run_id: str, uptime: str, plot_note: str) -> None:
    rat = ratios(rows)
    gen = {}
    log = RESULTS / "generate.csv"
    if log.exists():
        with log.open() as f:
            for d in csv.DictReader(f):
                gen[int(d["lines"])] = d  # the last build of each size
    md = ["# payorxl scale benchmark", "",
          f"Last run: {run_id}. `uptime` at the start: `{uptime}`.", "",
          "The machine is shared (other developers' test runs): each row carries the 1-minute load "
          "average before and after it; compare ratios from the same run rather than absolute seconds.", "",
          "## Machine", "", "| | |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in mach.items()]
    md += ["", "## Workbooks", "",
           "`benchmarks/generate.py`: `payorxl.demo.generate_large(n, seed=7)` written with "
           "`pipeline.new_workbook` (native formulas in the calculated columns, engine values cached, "
           "owned sheets filled).", "",
           "| claim lines | payments | appeals | file MB | unzipped MB | writer | build s | build peak RSS MB | "
           "memoized formula prep |",
           "|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for n in sorted(gen):
        d = gen[n]
        md.append(f"| {n:,} | {int(d['payments']):,} | {int(d['appeals']):,} | {d['file_mb']} | {d['unzipped_mb']} | "
                  f"{d.get('writer') or 'xlsxwriter'} | {d['write_s']} | {d.get('peak_rss_mb', '')} | "
                  f"{d['memoized_formulas']} |")
    md += ["", "xlsxwriter = `pipeline.new_workbook` (in memory); stream = benchmarks/bigbook.py (the same "
           "values, formulas and tables, text as inline strings), used above 300k lines where new_workbook "
           "would need ~30 GB. Above 4 GiB of XML in one part (the 1M Claims sheet) the zip needs ZIP64."]
    md += ["", "## Time and peak memory", "",
           "| claim lines | tool | status | seconds | CPU s | peak RSS MB | load before→after | run | code | note |",
           "|---:|---|---|---:|---:|---:|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r.lines:,} | {r.tool} | {r.status} | {fmt(r.seconds)} | {fmt(r.cpu_s)} | {fmt(r.peak_mb, 0)} | "
                  f"{r.load_before:.2f}→{r.load_after:.2f} | {r.run} | {r.code} | {r.note} |")
    md += ["", "## Ratios (same run, same file)", "",
           "| claim lines | recalc ÷ floor | (recalc − startup) ÷ floor | LibreOffice ÷ recalc | openpyxl ÷ recalc |",
           "|---:|---:|---:|---:|---:|"]
    for n, d in rat.items():
        lo = fmt(d["libreoffice/recalc"], 1)
        if not lo and d.get("libreoffice/recalc >"):
            lo = f"> {d['libreoffice/recalc >']:.0f} ({d['libreoffice status']})"
        md.append(f"| {n:,} | {fmt(d['recalc/floor'])} | {fmt(d['(recalc-startup)/floor'])} | {lo} | "
                  f"{fmt(d['openpyxl/recalc'], 1)} |")
    md += ["", "Targets (issue #4): recalc ≤ 1.5× the calamine read at 100k lines; ≥ 4× faster than "
           "LibreOffice; linear growth to 1M lines; peak memory ≤ 1.5 GB at 1M.", "",
           "- recalc: `python -m payorxl recalc FILE --output OUT --as-of 2026-10-31` (Python start-up and "
           "imports included; `startup` is that cost alone).",
           "- floor: python-calamine `to_python(skip_empty_area=False)` of the six input sheets of the same file.",
           "- libreoffice: `payorxl.libreoffice.convert` (private profile, OOXMLRecalcMode=0: every formula "
           "recalculated on load, then saved as xlsx). A timeout is a lower bound.",
           "- openpyxl: `load_workbook(FILE)` + `save` (keeps formulas, loses cached values).",
           "- Peak memory: GNU time's maximum RSS (`/usr/bin/time -f %M`) of the command and the descendants it "
           "waited for (e.g. soffice.bin).", ""]
    if plot_note:
        md += [f"![time vs. claim lines]({plot_note})" if plot_note.endswith(".png") else plot_note, ""]
    many_rows = []
    mpath = RESULTS / "many.csv"
    if mpath.exists():
        with mpath.open() as f:
            many_rows = list(csv.DictReader(f))
    if many_rows:
        md += ["## Many workbooks (`payorxl recalc FOLDER --jobs J`)", "",
               "| run | workbooks × lines | jobs | seconds | CPU s | s per workbook | speed-up vs --jobs 1 "
               "| peak RSS MB | load before→after |",
               "|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for d in many_rows:
            md.append(f"| {d['run']} | {d['workbooks']} × {int(d['lines_each']):,} | {d['jobs']} | {d['seconds']} | "
                      f"{d.get('cpu_s', '')} | "
                      f"{d['per_workbook_s']} | {d.get('speedup_vs_jobs1', '')} | {d['peak_mb']} | "
                      f"{d['load_before']}→{d['load_after']} |")
        md += ["", "With 2 cores shared with other jobs, the ceiling for --jobs 2 is below 2×: the last row "
               "measures it (two independent single-workbook recalcs side by side vs. one after the other; "
               "its speed-up column is that ratio). CPU s equal for --jobs 1 and 2: the pool adds no work.", ""]
    fpath = RESULTS / "formula_cost.csv"
    if fpath.exists():
        with fpath.open() as f:
            frows = list(csv.DictReader(f))
        if frows:
            md += ["## What the formula text costs a reader (`--formula-cost`)", "",
                   "| run | lines | file | MB | unzipped MB | floor s | recalc s | recalc peak MB | load |",
                   "|---|---:|---|---:|---:|---:|---:|---:|---|"]
            for d in frows:
                md.append(f"| {d['run']} | {int(d['lines']):,} | {d['file']} | {d['file_mb']} | {d['unzipped_mb']} | "
                          f"{d['floor_s']} | {d['recalc_s']} | {d['recalc_peak_mb']} | {d['floor_load']} |")
            md += ["", "The calculated columns' formulas are written out in full in every row (~9.6 KB of XML per "
                   "claim line); every reader, payorxl's included, parses them.", ""]
    profs = sorted(RESULTS.glob("profile-*-cprofile.md"))
    if profs:
        md += ["## Profile", ""] + [f"- [{p.name}]({p.name})" for p in profs] + \
              [f"- [{p.name}]({p.name})" for p in sorted(RESULTS.glob("profile-*-pyinstrument.txt"))] + [""]
    (RESULTS / "results.md").write_text("\n".join(md))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="payorxl scale benchmark (issue #4)")
    ap.add_argument("--sizes", default="10000,100000",
                    help="claim lines, comma-separated (10k, 1M allowed; 'none' for no size runs)")
    ap.add_argument("--quick", action="store_true", help="10k only")
    ap.add_argument("--many", type=int, default=0, metavar="N",
                    help="also time recalc of N copies of the 10k workbook with --jobs 1 and --jobs 2")
    ap.add_argument("--profile", action="store_true", help="also profile recalc on the 100k workbook")
    ap.add_argument("--profile-size", type=int, default=100_000)
    ap.add_argument("--formula-cost", type=int, default=0, metavar="N",
                    help="also measure floor and recalc at N lines with and without the formula text")
    ap.add_argument("--lo-timeout", type=float, default=1800,
                    help="seconds before LibreOffice is stopped (default 1800)")
    ap.add_argument("--lo-skip-above", type=int, default=None,
                    help="do not run LibreOffice above this many lines")
    ap.add_argument("--skip-libreoffice", action="store_true")
    ap.add_argument("--skip-openpyxl", action="store_true")
    ap.add_argument("--openpyxl-timeout", type=float, default=3600)
    ap.add_argument("--openpyxl-skip-above", type=int, default=None)
    ap.add_argument("--lift-zip-limits", action="store_true",
                    help="run recalc with workbook/read.py's zip-bomb size limits lifted (before c5edbcf "
                         "a part over 4 GiB was refused: the 1M-line Claims sheet is 10.6 GB of XML)")
    args = ap.parse_args(argv)
    if args.quick:
        sizes = [10_000]
    else:
        sizes = [] if args.sizes.strip().lower() == "none" else generate.parse_sizes(args.sizes)
    run_id = dt.datetime.now().isoformat(timespec="minutes")
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"run {run_id}; uptime: {up}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    mach = machine()
    global CODE
    CODE = f"{mach['payorxl commit']}" + ("" if mach["payorxl uncommitted"] == "none" else
                                          "+" + mach["payorxl uncommitted"].split("fingerprint ")[-1])
    (RESULTS / "machine.json").write_text(json.dumps(mach, indent=2) + "\n")
    new: list[Run] = []
    t_all = time.perf_counter()
    for n in sizes:
        t0 = time.perf_counter()
        new += bench_size(n, run_id, args)
        print(f"  size {n:,} took {time.perf_counter() - t0:.0f} s in all", flush=True)
    many = None
    if args.many:
        many = bench_many(args.many, run_id)
        mpath = RESULTS / "many.csv"
        fields = ["run", "workbooks", "lines_each", "jobs", "status", "seconds", "cpu_s", "peak_mb", "per_workbook_s",
                  "speedup_vs_jobs1", "load_before", "load_after"]
        with mpath.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(many)
    if args.formula_cost:
        bench_formula_cost(args.formula_cost, run_id)
    if args.profile:
        bench_profile(args.profile_size)
    rows = merge_rows(new) if new else merge_rows([])
    if rows:
        write_csv(rows)
    note = plot(rows) if rows else ""
    write_md(rows, mach, many, run_id, up, note)
    rat = ratios(rows)
    if rat:
        print("\nratios (recalc ÷ floor, LibreOffice ÷ recalc, openpyxl ÷ recalc):")
        for n, d in rat.items():
            lo = fmt(d["libreoffice/recalc"], 1) or (f">{d['libreoffice/recalc >']:.0f} ({d['libreoffice status']})"
                                                      if d.get("libreoffice/recalc >") else "n/a")
            floor, opx = fmt(d["recalc/floor"]) or "n/a", fmt(d["openpyxl/recalc"], 1) or "n/a"
            print(f"  {n:>9,}: {floor:>6}  {lo:>8}  {opx:>6}")
    print(f"done in {time.perf_counter() - t_all:.0f} s; see {(RESULTS / 'results.md').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
