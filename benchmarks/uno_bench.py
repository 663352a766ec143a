"""What one edit costs LibreOffice in a payorxl workbook, next to a full recalculation
and next to `payorxl recalc` of the same file (run on demand; not a test).

The calculated columns of Claims are native formulas over whole table columns
(``SUMIFS(Payments[Paid],Payments[Claim ID],...)``), so one edit can dirty a whole column.
This opens a generated practice workbook in LibreOffice headless over UNO and times, for
each edit on a freshly loaded document (a soffice of its own per job):

- load:     ``loadComponentFromURL`` (Hidden), reported apart from the calculations: a
            load that recalculates would be a full recalculation of its own. Jobs
            ``load-fullcalc`` (the same file with ``<calcPr fullCalcOnLoad="1"/>``, as
            payorxl writes it when it changed inputs) and ``load-recalc-profile`` (a profile
            set to recalculate xlsx files on load, OOXMLRecalcMode 0, as
            payorxl.libreoffice.convert uses) load only;
- settle:   ``calculate()`` with nothing edited: the cost of the volatile cells (a formula
            with TODAY() in it, even inside a defined name, is recalculated every time);
- full:     ``calculateAll()``, the baseline every edit is divided by;
- payment:  the Paid amount of one Payments row changed (a payment posted);
- dos:      the Date of Service of one Claims row changed;
- add-row:  a new Payments row for an existing claim line (a row inserted inside the table,
            or its blank last row filled if it has one);
- unrelated: Settings' Practice Name (no calculated column reads it);
- user-sheet: a cell on a sheet of the user's own (added before the edit: the
            ``calculate()`` after adding the sheet is reported apart);

then ``calculate()`` (dirty cells only). Each timed step has wall seconds and the CPU
seconds of the soffice.bin process over the step (psutil: user + system, all threads).
In the same run: ``python -m payorxl recalc FILE`` (subprocess, wall and CPU).

Ratios, as the repository reports figures: each step ÷ the full recalculation of the
same size in the same run, LibreOffice full ÷ payorxl recalc, and the growth exponent
between sizes, k = ln(t2 / t1) / ln(n2 / n1) (t ∝ n^k). Sizes run smallest first; each
step has a timeout (--timeout) and is reported as "> timeout" when stopped; after a
timeout, or when the growth measured so far predicts that the next size would take
longer than --budget, the larger sizes are not run and their figures are extrapolated
from the two largest sizes measured (labelled as such). From --large-from lines on (default
10k) only --large-jobs run (default: full, i.e. load, settle and calculateAll): at 10k
lines one calculateAll() takes about 11 minutes on 2 cores, every edit about an hour; the
edits there are extrapolated from their ratio to full at the smaller size.

Workbooks: payorxl.demo.generate_large(n, seed 7) written by payorxl.pipeline.new_workbook
(benchmarks/generate.py's build), cached as benchmarks/data/practice-<n>-uno-<fp>.xlsx,
where fp fingerprints the calculated columns' formulas and the input tables' columns (a
workbook built by older code is not reused).

UNO needs Debian's python3-uno, which the system python has and the project's python
does not: this driver runs under the project python (payorxl, psutil) and runs
benchmarks/uno_worker.py under /usr/bin/python3 (--uno-python) for each job:

    apt-get install -y python3-uno python3-psutil     # psutil optional: /proc is read without it
    python benchmarks/uno_bench.py                          # 2k, 10k, 50k (from 10k on: job full only)
    python benchmarks/uno_bench.py --sizes 2000 --timeout 300
    python benchmarks/uno_bench.py --sizes 10000 --large-from 0     # every edit at 10k (about an hour here)
    python benchmarks/uno_bench.py --sizes 2000 --jobs full,unrelated,fixed-asof:full,fixed-asof:unrelated

A job "fixed-asof:<job>" runs <job> on a copy of the workbook whose px_AsOf is defined as
Settings!$B$3 instead of IF(px_as_of="",TODAY(),px_as_of): what the settle cost would be
without TODAY() (a what-if, not what payorxl writes).

Writes benchmarks/results/uno_bench.json (every step) and uno_bench.md (the tables, the
machine, the commit), both for the last run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
from run import AS_OF, PY, SCRATCH, load1, measure  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
WORKER = ROOT / "benchmarks" / "uno_worker.py"
EDITS = ("payment", "dos", "add-row", "unrelated", "user-sheet", "payment-bare", "row-below")
LOADS = ("load-fullcalc", "load-recalc-profile")
DEFAULT_JOBS = ("full", *EDITS, *LOADS)
EDIT_TEXT = {
    "payment": "a payment posted (Paid of one Payments row)",
    "dos": "a date of service changed (one Claims row)",
    "add-row": "a row added to Payments (existing claim line)",
    "unrelated": "Settings' Practice Name",
    "user-sheet": "a cell on a user's own sheet",
    "payment-bare": "a payment posted, the live summary sheets' formulas made values first (Claims alone)",
    "row-below": "a payment typed in the first row under the Payments table (read through the Index's tail up to "
                 "2,000 lines; past them counted by Index!C1 alone, in the figures at the next recalculation)",
}
# A profile that makes LibreOffice recalculate an xlsx on load ("always"), as
# payorxl.libreoffice.convert does.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
ASOF_FORMULA = 'IF(px_as_of="",TODAY(),px_as_of)'


# --- workbooks --------------------------------------------------------------------------

fingerprint = generate.fingerprint     # what the LibreOffice side of the workbook depends on


def workbook(n: int, force: bool = False) -> Path:
    """The generated workbook of n claim lines, built if missing (or built by other code)."""
    fp = fingerprint()
    path = generate.DATA / f"practice-{generate.label(n)}-uno-{fp}.xlsx"
    if path.exists() and not force:
        return path
    for old in generate.DATA.glob(f"practice-{generate.label(n)}-uno-*.xlsx"):
        old.unlink()    # ours, built by earlier code
    generate.DATA.mkdir(parents=True, exist_ok=True)
    print(f"writing {path.relative_to(ROOT)} ({n:,} claim lines) ...", flush=True)
    row = generate.build(n, path)
    print(f"  generated in {row['generate_s']} s, written in {row['write_s']} s, {row['file_mb']} MB "
          f"({row['unzipped_mb']} MB unzipped), {row['payments']:,} payments", flush=True)
    return path


def variant(book: Path, kind: str, folder: Path) -> Path:
    """A copy of the workbook with xl/workbook.xml changed: "fixed-asof" (px_AsOf without
    TODAY()) or "fullcalc" (fullCalcOnLoad="1")."""
    out = folder / f"{book.stem}-{kind}.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                if kind == "fixed-asof":
                    new = text
                    for written in (ASOF_FORMULA, ASOF_FORMULA.replace('"', "&quot;")):
                        new = new.replace(f">{written}<", ">Settings!$B$3<")
                else:
                    new = text.replace("<calcPr ", '<calcPr fullCalcOnLoad="1" ', 1)
                if new == text:
                    raise SystemExit(f"{book.name}: could not make the {kind} variant (xl/workbook.xml unchanged)")
                data = new.encode("utf-8")
            zout.writestr(info, data)
    return out


# --- LibreOffice ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def soffice_exe() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise SystemExit("LibreOffice is not installed: apt-get install -y libreoffice-calc-nogui")
    return exe


def check_uno(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys, uno; print(sys.version.split()[0])"],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{python} cannot import uno ({done.stderr.strip().splitlines()[-1:]}): "
                         "apt-get install -y python3-uno, and pass the system python with --uno-python")
    return done.stdout.strip()


def kill_group(proc: subprocess.Popen | None) -> None:
    """Kill the process group of a process this script started (its own session)."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def start_soffice(profile: Path, port: int) -> tuple[subprocess.Popen, int]:
    """soffice headless listening on port, with its own profile; returns the launcher and
    the pid of the soffice.bin that listens (whose CPU time is measured). On a new profile
    the first soffice.bin restarts itself, so the pid is taken once the port listens."""
    import psutil
    log = open(profile.parent / "soffice.log", "wb")
    proc = subprocess.Popen([soffice_exe(), f"-env:UserInstallation={profile.as_uri()}", "--headless",
                             "--norestore", "--nologo", "--nodefault",
                             f"--accept=socket,host=localhost,port={port};urp;"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for p in psutil.Process(proc.pid).children(recursive=True):
                if p.name() != "soffice.bin":
                    continue
                conns = getattr(p, "net_connections", None) or p.connections
                if any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in conns("tcp")):
                    return proc, p.pid
        except psutil.Error:
            pass
        time.sleep(0.2)
    kill_group(proc)
    raise SystemExit("soffice did not listen within 120 s: " + (profile.parent / "soffice.log").read_text()[-500:])


def run_job(job: str, book: Path, args) -> dict:
    """One job in a soffice of its own: returns its steps ({step: {wall, cpu, ...}}), the
    step that timed out (if one did) and any error."""
    work = Path(tempfile.mkdtemp(prefix="payorxl-uno-"))
    profile = work / "profile"
    result: dict = {"job": job, "book": book.name, "steps": {}, "timeout": None, "error": None,
                    "load_before": load1()}
    soffice = worker = None
    t_job = time.perf_counter()
    try:
        # a copy of its own: a killed soffice leaves its lock file beside the document it had
        # open, and the next job could not open a locked file
        book = Path(shutil.copy2(book, work / book.name))
        port = free_port()
        if job == "load-recalc-profile":
            (profile / "user").mkdir(parents=True)
            (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
        soffice, bin_pid = start_soffice(profile, port)
        worker_job = "load" if job.startswith("load-") else job.split(":")[-1]
        err = open(work / "worker.err", "w+")
        worker = subprocess.Popen([args.uno_python, str(WORKER), "--port", str(port), "--soffice-pid", str(bin_pid),
                                   "--book", str(book), "--job", worker_job], stdout=subprocess.PIPE,
                                  stderr=err, text=True, start_new_session=True, cwd=work)
        lines: queue.Queue = queue.Queue()

        def pump():
            for line in worker.stdout:
                lines.put(line)
            lines.put(None)
        threading.Thread(target=pump, daemon=True).start()
        current, started = "connect", time.monotonic()
        while True:
            left = args.timeout - (time.monotonic() - started)
            try:
                line = lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                result["timeout"] = current
                result["steps"][current] = {"status": "timeout", "wall": round(time.monotonic() - started, 1)}
                print(f"    {current:<18} > {args.timeout:.0f} s (timeout)", flush=True)
                break
            if line is None:
                break
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "begin" in event:
                current, started = event["begin"], time.monotonic()
                continue
            step = event.pop("step")
            event["status"] = "ok"
            result["steps"][step] = event
            if step != "connect":
                print(f"    {step:<18} {event['wall']:9.2f} s   soffice CPU {event['cpu']:8.2f} s"
                      + (f"   ({event['cell']})" if "cell" in event else ""), flush=True)
            current, started = "(between steps)", time.monotonic()
        if result["timeout"] is None:
            try:
                code = worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                code = "no exit within 60 s of its last step"
            if code:
                err.seek(0)
                result["error"] = err.read().strip()[-600:] or f"exit status {code}"
                print(f"    failed: {result['error']}", flush=True)
        err.close()
    finally:
        kill_group(worker)
        kill_group(soffice)
        shutil.rmtree(work, ignore_errors=True)
    result["job_wall"] = round(time.perf_counter() - t_job, 2)
    result["load_after"] = load1()
    return result


def payorxl_recalc(book: Path, timeout: float) -> dict:
    out = SCRATCH / f"uno-bench-recalc-{book.stem}.xlsx"
    SCRATCH.mkdir(parents=True, exist_ok=True)
    before = load1()
    status, secs, peak, tail, cpu = measure([PY, "-m", "payorxl", "recalc", str(book), "--output", str(out),
                                             "--as-of", AS_OF], timeout)
    out.unlink(missing_ok=True)
    r = {"status": status, "wall": round(secs, 3), "cpu": None if cpu != cpu else round(cpu, 2),
         "peak_mb": None if peak != peak else round(peak), "load_before": before, "load_after": load1()}
    if status != "ok":
        r["error"] = tail[-400:]
    return r


# --- figures ----------------------------------------------------------------------------

def metrics(size: dict) -> dict[str, dict]:
    """Per size: metric name -> {"wall", "cpu", "status"} of the steps the tables show."""
    jobs = {j["job"]: j for j in size["jobs"]}
    out: dict[str, dict] = {}

    def put(name, job, step):
        j = jobs.get(job)
        if j is None:
            return
        s = j["steps"].get(step)
        if s is None:
            if j["timeout"] or j["error"]:
                out[name] = {"status": "not reached"}
            return
        out[name] = s
    # load and settle: every as-built job has them (repeats): the median of those that finished
    for name in ("load", "settle"):
        runs = [j["steps"][name] for j in size["jobs"]
                if j["job"] in ("full", "columns", *EDITS) and name in j["steps"]]
        ok = sorted((r for r in runs if r["status"] == "ok"), key=lambda r: r["wall"])
        if ok:
            mid = ok[len(ok) // 2]
            out[name] = {**mid, "status": "ok", "cpu": sorted(r["cpu"] for r in ok)[len(ok) // 2],
                         "repeats": len(ok)}
        elif runs:
            out[name] = runs[0]
    put("full", "full", "calculateAll")
    for e in EDITS:
        put(f"{e}", e, "calculate")
        put(f"{e} (settle)", e, "settle")
        put(f"{e} (edit op)", e, "edit")
        put(f"{e} (again)", e, "calculate-again")
    put("load fullCalcOnLoad=1", "load-fullcalc", "load")
    put("load recalc-on-load profile", "load-recalc-profile", "load")
    put("insert a sheet", "user-sheet", "insert-sheet")
    for job in jobs:
        if job.startswith("fixed-asof:"):
            kind = job.split(":")[1]
            put("fixed-asof settle", job, "settle")
            if kind != "columns":
                put(f"fixed-asof {kind}", job, "calculateAll" if kind == "full" else "calculate")
    out["payorxl recalc"] = size["payorxl_recalc"] if size.get("payorxl_recalc") else None
    return {k: v for k, v in out.items() if v}


def exponent(n1, t1, n2, t2) -> float | None:
    if not (t1 and t2) or t1 <= 0 or t2 <= 0 or n1 == n2:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def secs(s: dict | None, key: str = "wall") -> str:
    if not s:
        return "—"
    if s.get("status") == "timeout":
        return f"> {s['wall']:.0f}"
    if s.get("status") != "ok":
        return s.get("status", "—")
    v = s.get(key)
    return "—" if v is None else f"{v:.2f}"


def ratio(a: dict | None, b: dict | None, key: str = "wall") -> str:
    if not a or not b or b.get("status") != "ok" or not b.get(key):
        return "—"
    if a.get("status") == "timeout":
        return f"> {a['wall'] / b[key]:.2f}"
    if a.get("status") != "ok" or a.get(key) is None:
        return "—"
    return f"{a[key] / b[key]:.2f}"


def markdown(report: dict) -> str:
    mach, sizes = report["machine"], report["sizes"]
    L = ["# LibreOffice over UNO: one edit's `calculate()` vs `calculateAll()` vs `payorxl recalc`", "",
         f"Written by `python benchmarks/uno_bench.py` (method in its docstring). Run {report['run']}, "
         f"arguments `{report['argv']}`.", "",
         f"Machine: {mach['cpu']}, nproc {mach['nproc']}, {mach['ram']}; {mach['libreoffice']}; project "
         f"python {mach['python']}, UNO python {mach['uno_python']}; payorxl commit {mach['commit']} "
         f"(workbook formulas fingerprint {mach['fingerprint']}). The machine is shared: each job carries "
         "the 1-minute load before it (in the JSON); compare ratios from the same run rather than seconds.", "",
         "Each edit ran on a freshly loaded document in a soffice of its own: load, `calculate()` with no edit "
         "(settle), the edit, `calculate()`. Seconds are wall time; CPU is soffice.bin's user + system "
         "seconds over the step. ÷ full: that step's seconds ÷ `calculateAll()` of the same size in this run.", "",
         *summary(report)]
    for size in sizes:
        n, m = size["lines"], metrics(size)
        full = m.get("full")
        when = "" if size.get("run") == report["run"] else (
            f" — from an earlier run, {size.get('run')}, commit {size.get('commit')}, "
            f"fingerprint {size.get('fingerprint')}")
        L += [f"## {n:,} claim lines ({size['book']}, {size['book_mb']} MB, {size['payments']:,} Payments rows)"
              f"{when}", "",
              "| step | wall s | soffice CPU s | ÷ full (wall) | ÷ full (CPU) |", "|---|---:|---:|---:|---:|"]

        def row(label, s, full=full, out=L):
            out.append(f"| {label} | {secs(s)} | {secs(s, 'cpu')} | {ratio(s, full)} | {ratio(s, full, 'cpu')} |")
        reps = {k: f" (median of {m[k]['repeats']})" if m.get(k, {}).get("repeats", 1) > 1 else "" for k in
                ("load", "settle")}
        row(f"load (cached values kept){reps['load']}", m.get("load"))
        row(f"`calculate()`, no edit (settle){reps['settle']}", m.get("settle"))
        row("**`calculateAll()` (full)**", full)
        for e in EDITS:
            if e in m:
                row(f"`calculate()` after {EDIT_TEXT[e]}", m[e])
            if f"{e} (again)" in m:
                row(f"`calculate()` after the same edit once more ({e}: the formulas it reaches compiled)",
                    m[f"{e} (again)"])
        if "add-row (edit op)" in m:
            row("the row insertion itself (add-row edit op)", m["add-row (edit op)"])
        if "insert a sheet" in m:
            row("`calculate()` after inserting a sheet (user-sheet job, before its cell edit)", m["insert a sheet"])
        if "load fullCalcOnLoad=1" in m:
            row('load of the same file with `fullCalcOnLoad="1"`', m["load fullCalcOnLoad=1"])
        if "load recalc-on-load profile" in m:
            row("load with a profile set to recalculate xlsx on load (OOXMLRecalcMode 0)",
                m["load recalc-on-load profile"])
        for k in m:
            if k.startswith("fixed-asof"):
                row(f"what-if px_AsOf = Settings!$B$3 (no TODAY()): {k.split(' ', 1)[1]}", m[k])
        rec = m.get("payorxl recalc")
        if rec:
            L.append(f"| `python -m payorxl recalc` (subprocess, whole command) | {secs(rec)} | "
                     f"{secs(rec, 'cpu')} (its own) | {ratio(rec, full)} | — |")
        edits_marginal = []
        for e in EDITS:
            a, b = m.get(e), m.get(f"{e} (settle)")
            if full and full.get("status") == "ok" and a and b and a.get("status") == b.get("status") == "ok":
                edits_marginal.append(f"{e} {(a['wall'] - b['wall']) / full['wall']:+.2f}")
        L.append("")
        if full and rec and full.get("status") == "ok" and rec.get("status") == "ok":
            L.append(f"LibreOffice `calculateAll()` ÷ `payorxl recalc` = {full['wall'] / rec['wall']:.1f}. ")
        if edits_marginal:
            L.append("An edit's own cost, (`calculate()` after it − settle in the same document) ÷ full: "
                     + ", ".join(edits_marginal) + ".")
        for j in size["jobs"]:
            if j["timeout"] or j["error"]:
                why = (f"step {j['timeout']} stopped at the {size.get('timeout', 0):.0f} s timeout" if j["timeout"]
                       else f"failed: {j['error'].splitlines()[-1][:300]}")
                L.append(f"Job {j['job']}: {why}.")
        L.append("")
        for j in size["jobs"]:
            if j["job"].split(":")[-1] != "columns":
                continue
            cols = [(k.split(" ", 1)[1], v) for k, v in j["steps"].items() if k.startswith("column ")]
            if not cols:
                continue
            settle = j["steps"].get("settle")
            L += [f"What each calculated column of Claims costs ({j['job']}: automatic calculation off, the "
                  "column's formulas set again, then `calculate()`; includes the cells that read it and the "
                  f"volatile ones; settle in this document {secs(settle)} s):", "",
                  "| column | `calculate()` s | ÷ full | setting its formulas s |", "|---|---:|---:|---:|"]
            L += [f"| {c} | {secs(v)} | {ratio(v, full)} | {secs(j['steps'].get('set ' + c))} |" for c, v in
                  sorted(cols, key=lambda cv: -(cv[1].get("wall") or 0))]
            L.append("")
    measured = [s for s in sizes if metrics(s)]
    if len(measured) >= 2:
        runs = sorted({s.get("run") for s in measured})
        L += ["## Growth: exponent k in t ∝ n^k between sizes", "",
              *([f"(Sizes from {len(runs)} runs: {', '.join(map(str, runs))}; the machine's load differs between "
                 "runs.)", ""] if len(runs) > 1 else []),
              "| step | " + " | ".join(f"{a['lines']:,}→{b['lines']:,}" for a, b in zip(measured, measured[1:])) + " |",
              "|---|" + "---:|" * (len(measured) - 1)]
        names = [k for k in (*STEPS, "insert a sheet", "load recalc-on-load profile")
                 if any(k in metrics(x) for x in measured)]
        for k in names:
            cells = []
            for a, b in zip(measured, measured[1:]):
                ma, mb = metrics(a).get(k), metrics(b).get(k)
                ok = ma and mb and ma.get("status") == mb.get("status") == "ok"
                e = exponent(a["lines"], ma["wall"], b["lines"], mb["wall"]) if ok else None
                cells.append("—" if e is None else f"{e:.2f}")
            if any(c != "—" for c in cells):
                L.append(f"| {k} | " + " | ".join(cells) + " |")
        L.append("")
    if report.get("extrapolated"):
        L += ["## Extrapolated (not measured)", "",
              "Steps not measured at a size (not run" + (f": {report['stopped']}" if report.get("stopped") else "")
              + "; or stopped at the timeout): estimates from the sizes measured, as the basis column says. "
              "**Extrapolated, not measured.**", "",
              "| claim lines | step | extrapolated wall s | basis |", "|---:|---|---:|---|"]
        for x in report["extrapolated"]:
            L.append(f"| {x['lines']:,} | {x['step']} | ~{x['wall']:,.0f} | {x['basis']} |")
        L.append("")
    return "\n".join(L)


STEPS = ("load", "settle", "full", *EDITS, "payorxl recalc")
SUMMARY = {"load": "load", "settle": "`calculate()`, no edit", "full": "`calculateAll()`",
           "payment": "payment posted", "dos": "DOS changed", "add-row": "Payments row added",
           "unrelated": "Practice Name", "user-sheet": "user's sheet", "payment-bare": "payment, no summaries",
           "row-below": "row typed below",
           "payorxl recalc": "`payorxl recalc`"}


def summary(report: dict) -> list[str]:
    """One table over the sizes: seconds (÷ full) of each step after its edit, measured, or
    extrapolated (~, in italics) where not measured."""
    sizes = {s["lines"]: metrics(s) for s in report["sizes"]}
    guess = {(x["lines"], x["step"]): x["wall"] for x in report.get("extrapolated", [])}
    lines = sorted(set(sizes) | {n for n, _ in guess})
    if not lines:
        return []
    out = ["## Summary: seconds (÷ full recalculation of the same size)", "",
           "Wall seconds of `calculate()` after each edit; *~italics*: extrapolated, not measured "
           "(basis in the last section).", "",
           "| claim lines | " + " | ".join(SUMMARY.values()) + " |", "|---:|" + "---:|" * len(SUMMARY)]
    for n in lines:
        m = sizes.get(n, {})
        full = m["full"]["wall"] if m.get("full", {}).get("status") == "ok" else guess.get((n, "full"))
        cells = []
        for k in SUMMARY:
            s = m.get(k)
            if s and s.get("status") == "ok":
                t, fmt = s["wall"], "{t} ({r})"
            elif (n, k) in guess:
                t, fmt = guess[(n, k)], "*~{t} ({r})*"
            else:
                cells.append(secs(s) if s else "—")
                continue
            r = f"{t / full:.2f}" if full else "—"
            cells.append(fmt.format(t=f"{t:,.0f}" if t >= 100 else f"{t:.2f}", r=r))
        out.append(f"| {n:,} | " + " | ".join(cells) + " |")
    for n, m in sizes.items():
        settle, what_if = m.get("settle"), m.get("fixed-asof settle")
        if m.get("full", {}).get("status") == "ok" and settle and settle.get("status") == "ok" and what_if:
            out.append("")
            out.append(f"At {n:,} lines `calculate()` with nothing edited costs {settle['wall']:.2f} s "
                       f"({settle['wall'] / m['full']['wall']:.2f} × full): the cells whose formulas read px_AsOf, "
                       "defined with TODAY() (volatile, so recalculated on every calculate(), with their "
                       f"dependents); with px_AsOf defined without TODAY() (the what-if) it is "
                       f"{what_if['wall']:.2f} s"
                       + "".join(f"; `calculate()` after the {k.split(' ', 1)[1]} edit {v['wall']:.2f} s"
                                 for k, v in m.items() if k.startswith("fixed-asof ") and k != "fixed-asof settle"
                                 and k != "fixed-asof full" and v.get("status") == "ok") + ".")
    out.append("")
    return out


def extrapolate(sizes: list[dict], targets: list[int], assume_k: float) -> list[dict]:
    """Figures for the steps not measured (not run, or stopped) at the target sizes:
    from the step's own growth between the two largest sizes where it finished; else its
    ratio to the full recalculation at the size where it finished, times the full
    recalculation at the target (measured or extrapolated); else an assumed exponent."""
    ok = {k: [(s["lines"], m[k]["wall"]) for s in sizes
              if (m := metrics(s)).get(k, {}).get("status") == "ok"] for k in STEPS}
    out = []

    def grow(k: str, n: int) -> tuple[float, str] | None:
        pts = ok[k]
        if len(pts) >= 2:
            (n1, t1), (n2, t2) = pts[-2], pts[-1]
            e = exponent(n1, t1, n2, t2)
            if e is not None:
                return t2 * (n / n2) ** e, f"k = {e:.2f} (its growth {n1:,}→{n2:,})"
        return None
    for n in sorted(set(targets)):
        for k in STEPS:
            if any(x == n for x, _ in ok[k]):
                continue
            got = grow(k, n)
            if got is None and ok[k] and k != "full":
                n0, t0 = ok[k][-1]
                full0 = dict(ok["full"]).get(n0)
                full_n = dict(ok["full"]).get(n)
                basis = "measured"
                if full_n is None and (g := grow("full", n)):
                    full_n, basis = g[0], "extrapolated with " + g[1]
                if full0 and full_n:
                    got = (t0 / full0 * full_n, f"{t0 / full0:.2f} × full (its ratio at {n0:,}); full {basis}")
            if got is None and ok[k]:
                n0, t0 = ok[k][-1]
                got = t0 * (n / n0) ** assume_k, f"k = {assume_k:.2f} assumed (--assume-k), from {n0:,}"
            if got is not None:
                out.append({"lines": n, "step": k, "wall": got[0], "basis": got[1]})
    return out


# --- the machine ------------------------------------------------------------------------

def git_commit() -> str:
    """HEAD's commit, read from .git's files (no git command runs)."""
    try:
        gitdir = ROOT / ".git"
        if gitdir.is_file():
            gitdir = (ROOT / gitdir.read_text().split(":", 1)[1].strip()).resolve()
        head = (gitdir / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:10]
        ref = head.split(None, 1)[1]
        common = gitdir / "commondir"
        roots = [gitdir] + ([(gitdir / common.read_text().strip()).resolve()] if common.exists() else [])
        for r in roots:
            if (r / ref).exists():
                return (r / ref).read_text().strip()[:10] + f" ({ref.rsplit('/', 1)[-1]})"
            packed = r / "packed-refs"
            if packed.exists():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line[:10] + f" ({ref.rsplit('/', 1)[-1]})"
    except OSError:
        pass
    return "unknown"


def machine(uno_python_version: str) -> dict:
    cpu = "unknown"
    try:
        cpu = next(x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                   if x.startswith("model name"))
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    lo = subprocess.run([soffice_exe(), "--version"], capture_output=True, text=True, timeout=120).stdout.strip()
    return {"cpu": cpu, "nproc": os.cpu_count(), "ram": ram, "os": platform.platform(),
            "python": platform.python_version(), "uno_python": uno_python_version,
            "libreoffice": lo.splitlines()[0] if lo else "unknown", "commit": git_commit(),
            "fingerprint": fingerprint()}


# --- main -------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="2000,10000,50000", help="claim lines, comma-separated, smallest first")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed to each timed step")
    ap.add_argument("--budget", type=float, default=3600,
                    help="do not start a size whose jobs the growth measured so far predicts to take longer (s)")
    ap.add_argument("--jobs", default=",".join(DEFAULT_JOBS),
                    help=f"comma-separated, from: full, {', '.join(EDITS)}, {', '.join(LOADS)}, columns, "
                         "fixed-asof:<job>")
    ap.add_argument("--assume-k", type=float, default=2.0,
                    help="growth exponent assumed while only one size is measured (for --budget and extrapolation)")
    ap.add_argument("--large-from", type=int, default=10_000,
                    help="from this many claim lines on, run --large-jobs instead of --jobs (0: --jobs everywhere)")
    ap.add_argument("--large-jobs", default="full",
                    help="the jobs at sizes from --large-from on (default: full, i.e. load, settle, calculateAll)")
    ap.add_argument("--keep-going", action="store_true", help="run the larger sizes even after a timeout")
    ap.add_argument("--no-recalc", action="store_true", help="do not time payorxl recalc")
    ap.add_argument("--force", action="store_true", help="rebuild the cached workbooks")
    ap.add_argument("--rewrite-md", action="store_true",
                    help="only write uno_bench.md again from uno_bench.json (after a change to the tables)")
    ap.add_argument("--uno-python", default="/usr/bin/python3", help="a python that can import uno")
    args = ap.parse_args(argv)
    if args.rewrite_md:
        report = json.loads((RESULTS / "uno_bench.json").read_text())
        report["extrapolated"] = extrapolate(report["sizes"], [s["lines"] for s in report["sizes"]]
                                             + list(report.get("skipped", [])), args.assume_k)
        (RESULTS / "uno_bench.md").write_text(markdown(report) + "\n")
        print(markdown(report))
        return 0
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    large_jobs = [j.strip() for j in args.large_jobs.split(",") if j.strip()]
    for j in jobs + large_jobs:
        if j not in ("full", "columns", *EDITS, *LOADS) and not (
                j.startswith("fixed-asof:") and j.split(":")[1] in ("full", "columns", *EDITS)):
            ap.error(f"unknown job {j}")
    sizes = sorted(generate.parse_sizes(args.sizes))
    # a kill (SIGTERM) unwinds like an error: the finally blocks kill the soffice they started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    uno_version = check_uno(args.uno_python)
    report = {"run": dt.datetime.now().isoformat(timespec="minutes"), "argv": " ".join(sys.argv[1:]) or "(defaults)",
              "timeout": args.timeout, "machine": machine(uno_version), "sizes": [], "extrapolated": [],
              "stopped": "", "skipped": []}
    print(f"{report['machine']['libreoffice']}, nproc {report['machine']['nproc']}, "
          f"commit {report['machine']['commit']}", flush=True)
    variants_dir = Path(tempfile.mkdtemp(prefix="payorxl-uno-books-"))
    try:
        for i, n in enumerate(sizes):
            if report["stopped"]:
                report["skipped"].append(n)
                continue
            size_jobs = large_jobs if args.large_from and n >= args.large_from else jobs
            if report["sizes"]:
                guess = predicted(report["sizes"], n, size_jobs, args.assume_k)
                if guess is not None and guess > args.budget:
                    report["stopped"] = (f"{n:,} lines predicted to take ~{guess:,.0f} s, over the --budget of "
                                         f"{args.budget:,.0f} s")
                    print(report["stopped"], flush=True)
                    report["skipped"].append(n)
                    continue
            book = workbook(n, args.force)
            payments = _rows(book, "Payments")
            size = {"lines": n, "run": report["run"], "commit": report["machine"]["commit"],
                    "fingerprint": report["machine"]["fingerprint"], "book": book.name,
                    "book_mb": round(book.stat().st_size / 1e6, 1), "payments": payments, "jobs": [],
                    "payorxl_recalc": None, "load_before": load1(), "timeout": args.timeout}
            report["sizes"].append(size)
            print(f"{n:,} claim lines: {book.relative_to(ROOT)} ({size['book_mb']} MB), load {load1():.2f}", flush=True)
            t_size = time.perf_counter()
            timed_out = False
            for job in size_jobs:
                target = book
                if job == "load-fullcalc":
                    target = variant(book, "fullcalc", variants_dir)
                elif job.startswith("fixed-asof:"):
                    target = variant(book, "fixed-asof", variants_dir)
                print(f"  job {job}", flush=True)
                r = run_job(job, target, args)
                size["jobs"].append(r)
                timed_out |= r["timeout"] is not None
            if not args.no_recalc:
                print("  payorxl recalc", end="", flush=True)
                size["payorxl_recalc"] = payorxl_recalc(book, args.timeout)
                pr = size["payorxl_recalc"]
                print(f"  {pr['status']} {pr['wall']:.2f} s (CPU {pr['cpu']} s)", flush=True)
                timed_out |= pr["status"] == "timeout"
            size["size_wall"] = round(time.perf_counter() - t_size, 1)
            _save(report, args.assume_k)
            if timed_out and not args.keep_going and i + 1 < len(sizes):
                report["stopped"] = f"a step timed out at {n:,} lines (--timeout {args.timeout:.0f} s)"
                print(report["stopped"] + ": the larger sizes are not run", flush=True)
    finally:
        shutil.rmtree(variants_dir, ignore_errors=True)
    print(markdown(_save(report, args.assume_k)))
    return 0


def predicted(done: list[dict], n: int, jobs: list[str], assume_k: float) -> float | None:
    """Seconds the jobs would take at n lines: each job's time at the largest size run in
    this run (a job not run there: the longest one), grown by the exponent of the full
    job's time between the two largest sizes (with one size: the assumed exponent)."""
    ok = [s for s in done if s.get("size_wall")]
    if not ok:
        return None
    b = ok[-1]
    walls = {j["job"]: j["job_wall"] for j in b["jobs"]}
    if not walls:
        return None
    k = None
    if len(ok) > 1:
        fa = {j["job"]: j["job_wall"] for j in ok[-2]["jobs"]}.get("full")
        k = exponent(ok[-2]["lines"], fa, b["lines"], walls.get("full")) if fa and walls.get("full") else None
    k = assume_k if k is None else k
    return sum(walls.get(j, max(walls.values())) for j in jobs) * (n / b["lines"]) ** k


def _rows(book: Path, table: str) -> int:
    """Data rows of a table, from its ref in the xlsx (no full read)."""
    import re
    with zipfile.ZipFile(book) as z:
        for name in z.namelist():
            if name.startswith("xl/tables/"):
                text = z.read(name).decode("utf-8")
                if f'name="{table}"' in text:
                    ref = re.search(r'ref="[A-Z]+1:[A-Z]+(\d+)"', text)
                    return int(ref.group(1)) - 1 if ref else 0
    return 0


def _save(report: dict, assume_k: float) -> dict:
    """Write the results: this run's sizes, and the sizes of earlier runs that this one did
    not measure (each size keeps its own run stamp and commit), with the extrapolations."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "uno_bench.json"
    now = {s["lines"] for s in report["sizes"]}
    earlier = []
    try:
        earlier = [s for s in json.loads(path.read_text()).get("sizes", [])
                   if s["lines"] not in now and s.get("run") != report["run"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    out = {**report, "sizes": sorted(report["sizes"] + earlier, key=lambda s: s["lines"])}
    targets = [s["lines"] for s in out["sizes"]] + list(report.get("skipped", []))
    out["extrapolated"] = extrapolate(out["sizes"], targets, assume_k)
    path.write_text(json.dumps(out, indent=1) + "\n")
    (RESULTS / "uno_bench.md").write_text(markdown(out) + "\n")
    return out


if __name__ == "__main__":
    sys.exit(main())
