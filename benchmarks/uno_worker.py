"""The UNO half of benchmarks/uno_bench.py: runs one job against a LibreOffice that the
driver started, and prints one JSON object per line as it goes.

It runs under the system python (/usr/bin/python3), which has Debian's ``python3-uno``;
the project's python has no ``uno``. It only talks to soffice: the driver starts soffice
(and kills it), generates the workbooks and times ``payorxl recalc``.

A job is: connect (retrying, bounded), load the workbook hidden, ``calculate()`` once with
no edit (the "settle": what calculate() costs when nothing changed), then either
``calculateAll()`` (the full recalculation) or one edit followed by ``calculate()`` (only
the cells the edit made dirty, and the volatile ones). Before each timed step it prints
``{"begin": step}`` so that the driver, which enforces the timeout, knows which step did
not finish. After each: ``{"step": step, "wall": s, "cpu": s, ...}``, where cpu is the
soffice.bin process's user + system CPU seconds over the step (all its threads), read with
psutil (Debian's python3-psutil) or, without it, from /proc/PID/stat, which is what
psutil reads.

    /usr/bin/python3 benchmarks/uno_worker.py --port 2002 --soffice-pid 1234 \\
        --book practice-2k.xlsx --job payment
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import uno  # Debian python3-uno: run with /usr/bin/python3
from com.sun.star.beans import PropertyValue

JOBS = ("full", "payment", "dos", "add-row", "unrelated", "user-sheet", "load", "columns", "payment-bare",
        "row-below")
SUMMARY_SHEETS = ("Dashboard", "Scorecard", "Aging")     # the live summary formulas (sheets.py)


def emit(**kw) -> None:
    print(json.dumps(kw), flush=True)


class Cpu:
    """User + system CPU seconds of one process (soffice.bin)."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            import psutil
            self.proc = psutil.Process(pid)
            self.how = "psutil"
        except ImportError:
            self.proc = None
            self.how = "/proc/PID/stat"
            self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float:
        if self.proc is not None:
            t = self.proc.cpu_times()
            return t.user + t.system
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick   # utime, stime (fields 14, 15)


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(port: int, seconds: float):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + seconds
    tries = 0
    while True:
        tries += 1
        try:
            ctx = resolver.resolve(f"uno:socket,host=localhost,port={port};urp;StarOffice.ComponentContext")
            return ctx, tries
        except Exception as e:   # NoConnectException until soffice listens
            if time.monotonic() > deadline:
                raise SystemExit(f"no connection to soffice on port {port} after {tries} tries: {e}") from None
            time.sleep(0.25)


def headers(sheet, width: int = 64) -> list[str]:
    row = sheet.getCellRangeByPosition(0, 0, width - 1, 0).DataArray[0]
    return [str(h) for h in row]


def table_area(doc, name: str):
    """The table's cell range address (header row included), as LibreOffice imported the
    xlsx table (a database range of the same name)."""
    return doc.DatabaseRanges.getByName(name).DataArea


class Timed:
    """Times one step: wall clock and soffice CPU; prints begin and the result."""

    def __init__(self, cpu: Cpu, step: str, **extra):
        self.cpu, self.step, self.extra = cpu, step, extra

    def __enter__(self):
        emit(begin=self.step)
        self.c0, self.t0 = self.cpu(), time.perf_counter()
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            wall, cpu = time.perf_counter() - self.t0, self.cpu() - self.c0
            emit(step=self.step, wall=round(wall, 4), cpu=round(cpu, 3), **self.extra)
        return False


def add_to_middle_cell(doc, table: str, header: str, delta: float) -> dict:
    """Add `delta` to the `header` cell of the middle row of `table`; say what changed."""
    area = table_area(doc, table)
    sheet = doc.Sheets.getByIndex(area.Sheet)
    col = headers(sheet).index(header)
    row = (area.StartRow + 1 + area.EndRow) // 2
    cell = sheet.getCellByPosition(col, row)
    old = cell.Value
    cell.Value = old + delta
    return {"cell": f"{table} row {row + 1}, {header} {old:g} -> {old + delta:g}"}


def new_payment(doc):
    """A new payment for an existing claim line: a copy of the middle Payments row (same
    Claim ID and Line) with its own check number and amount. Returns (the table's area,
    its sheet, the row copied, the new row's values)."""
    area = table_area(doc, "Payments")
    sheet = doc.Sheets.getByIndex(area.Sheet)
    names = headers(sheet)
    width = area.EndColumn - area.StartColumn + 1
    src = (area.StartRow + 1 + area.EndRow) // 2
    values = list(sheet.getCellRangeByPosition(area.StartColumn, src, area.EndColumn, src).DataArray[0])
    for key, value in (("Check No", "BENCH-UNO"), ("Paid", 12.34), ("Source", "manual")):
        if key in names[:width]:
            values[names.index(key)] = value
    return area, sheet, src, values


def edit(doc, job: str) -> dict:
    """Make the job's one edit; returns what was changed (for the report)."""
    sheets = doc.Sheets
    if job in ("payment", "payment-bare"):
        # A payment posted: the Paid amount of one Payments row (the middle one) changes.
        return add_to_middle_cell(doc, "Payments", "Paid", 10.0)
    if job == "dos":
        # A date of service corrected: one Claims row's Date of Service moves a day.
        return add_to_middle_cell(doc, "Claims", "Date of Service", 1)
    if job == "add-row":
        # A new payment (new_payment), put in the table's first blank row if it has one,
        # else in a row inserted inside the table (above its last row, so the table and
        # every structured reference to it grow by one row).
        area, sheet, src, values = new_payment(doc)
        last = sheet.getCellByPosition(area.StartColumn, area.EndRow)
        if last.getType().value == "EMPTY":
            target, how = area.EndRow, "filled the table's blank last row"
        else:
            target = area.EndRow
            sheet.Rows.insertByIndex(target, 1)
            how = "inserted a row inside the table"
        sheet.getCellRangeByPosition(area.StartColumn, target, area.EndColumn, target).DataArray = (tuple(values),)
        grown = table_area(doc, "Payments")
        return {"cell": f"Payments row {target + 1} ({how}; copy of row {src + 1}: "
                        f"claim {values[0]} line {values[1]}); table rows {area.EndRow} -> {grown.EndRow}"}
    if job == "row-below":
        # A new payment (new_payment) typed in the first row under the Payments table, as a
        # clerk types one (Excel grows the table over it; LibreOffice does not, and the
        # Index's tail reads it).
        area, sheet, src, values = new_payment(doc)
        target = area.EndRow + 1
        sheet.getCellRangeByPosition(area.StartColumn, target, area.EndColumn, target).DataArray = (tuple(values),)
        return {"cell": f"Payments row {target + 1} (under the table; copy of row {src + 1}: "
                        f"claim {values[0]} line {values[1]})"}
    if job == "unrelated":
        # A cell no calculated column reads: Settings' Practice Name.
        sheet = sheets.getByName("Settings")
        labels = [str(r[0]) for r in sheet.getCellRangeByPosition(0, 0, 0, 40).DataArray]
        row = labels.index("Practice Name")
        cell = sheet.getCellByPosition(1, row)
        old = cell.String
        cell.String = old + " (edited)"
        return {"cell": f"Settings B{row + 1} (Practice Name)"}
    if job == "user-sheet":
        # A cell on a sheet of the user's own (added, and settled, before the timing).
        sheet = sheets.getByName("Notes")
        sheet.getCellByPosition(0, 0).Value = 42.0
        return {"cell": "Notes!A1 (a sheet of the user's own)"}
    raise SystemExit(f"unknown job {job}")


def columns(doc, cpu: Cpu) -> None:
    """What each calculated column of Claims costs: with automatic calculation off (else
    setting a formula calculates it at once), its formulas set again (the same text, so
    every cell of the column is new and dirty, and so are the cells that read it), then
    ``calculate()``. The figure includes the columns that depend on it, and the volatile
    cells (run it on the fixed-asof variant to leave those out)."""
    doc.enableAutomaticCalculation(False)
    area = table_area(doc, "Claims")
    sheet = doc.Sheets.getByIndex(area.Sheet)
    names = headers(sheet, area.EndColumn + 1)
    for col in range(area.StartColumn, area.EndColumn + 1):
        if sheet.getCellByPosition(col, area.StartRow + 1).getType().value != "FORMULA":
            continue
        cells = sheet.getCellRangeByPosition(col, area.StartRow + 1, col, area.EndRow)
        emit(begin=f"set {names[col]}")
        t, c = time.perf_counter(), cpu()
        cells.FormulaArray = cells.FormulaArray
        emit(step=f"set {names[col]}", wall=round(time.perf_counter() - t, 4), cpu=round(cpu() - c, 3))
        with Timed(cpu, f"column {names[col]}", rows=area.EndRow - area.StartRow):
            doc.calculate()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--soffice-pid", type=int, required=True, help="the soffice.bin process (for its CPU time)")
    ap.add_argument("--book", required=True)
    ap.add_argument("--job", choices=JOBS, required=True)
    ap.add_argument("--connect-timeout", type=float, default=120)
    args = ap.parse_args(argv)
    cpu = Cpu(args.soffice_pid)
    t0 = time.perf_counter()
    ctx, tries = connect(args.port, args.connect_timeout)
    emit(step="connect", wall=round(time.perf_counter() - t0, 3), tries=tries, cpu_from=cpu.how)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    url = uno.systemPathToFileUrl(os.path.abspath(args.book))
    with Timed(cpu, "load"):
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        if doc is None:
            raise SystemExit(f"LibreOffice could not open {args.book}")
    # the document is not closed: the driver kills soffice after the job
    if args.job == "load":
        return 0
    with Timed(cpu, "settle"):      # calculate() with nothing edited
        doc.calculate()
    if args.job == "user-sheet":
        # the user's own sheet is added first (a structural change of its own, timed
        # apart), then the edit on it is timed like the others
        doc.Sheets.insertNewByName("Notes", doc.Sheets.Count)
        with Timed(cpu, "insert-sheet"):
            doc.calculate()
    if args.job == "columns":
        columns(doc, cpu)
        return 0
    if args.job == "payment-bare":
        # the live summary formulas turned into their values first: what the edit costs
        # the Claims formulas (and the Index) alone
        for name in SUMMARY_SHEETS:
            used = doc.Sheets.getByName(name).createCursor()
            used.gotoEndOfUsedArea(False)
            end = used.getRangeAddress()
            cells = doc.Sheets.getByName(name).getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow)
            cells.DataArray = cells.DataArray
        with Timed(cpu, "summaries to values"):
            doc.calculate()
    if args.job == "full":
        with Timed(cpu, "calculateAll"):
            doc.calculateAll()
        with Timed(cpu, "settle-after-full"):
            doc.calculate()
        return 0
    emit(begin="edit")
    t = time.perf_counter()
    c = cpu()
    what = edit(doc, args.job)
    emit(step="edit", wall=round(time.perf_counter() - t, 4), cpu=round(cpu() - c, 3), **what)
    with Timed(cpu, "calculate"):
        doc.calculate()
    if args.job in AGAIN:
        # the same edit once more: what the next edit costs, once the first has compiled
        # the formulas it reaches (LibreOffice compiles a formula the first time it runs)
        edit(doc, args.job)
        with Timed(cpu, "calculate-again"):
            doc.calculate()
    return 0


AGAIN = ("payment", "dos")


if __name__ == "__main__":
    sys.exit(main())
