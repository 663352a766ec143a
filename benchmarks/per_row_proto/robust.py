"""Robustness probes (run with /usr/bin/python3 by run.py, WORKER=robust.py PROBE=...): on a fresh load of each
book, (a) delete the Payments row that the middle payment is in (whole sheet row), or
(b) sort the Payments table by Paid descending, then calculate() and report the Claims Paid
of the affected line and the summary cells (errors shown as such).

    /usr/bin/python3 robust.py --port P --pid PID --book book.xlsx --probe delete|sort
"""

import argparse
import json
import os
import time

import psutil
import uno
from com.sun.star.table import TableSortField
from worker import desktop  # the same directory


def emit(**kw):
    print(json.dumps(kw), flush=True)


ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int)
ap.add_argument("--pid", type=int)
ap.add_argument("--book")
ap.add_argument("--probe")
ap.add_argument("--skip", default="")
a = ap.parse_args()
exp = json.load(open(a.book.replace(".xlsx", ".json")))
proc = psutil.Process(a.pid)


def cpu():
    return sum(proc.cpu_times()[:2])


desk, p = desktop(a.port)
doc = desk.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(a.book)), "_blank", 0, (p,))
cl, pa, su = (doc.Sheets.getByName(x) for x in ("Claims", "Payments", "Summary"))
pr, pcr, m = exp["pay_row"], exp["pay_claims_row"], exp["m"]


def show(label):
    c = cl.getCellByPosition(4, pcr)
    emit(
        label=label,
        paid=c.String,
        paid_formula=c.Formula[:120],
        total=su.getCellByPosition(1, 0).String,
        total_p3=su.getCellByPosition(1, 1).String,
    )


show("before")
old = pa.getCellByPosition(5, pr).Value
emit(payment_row=pr + 1, amount=old)
c0, t0 = cpu(), time.perf_counter()
if a.probe == "delete":
    pa.Rows.removeByIndex(pr, 1)
else:
    rng = pa.getCellRangeByPosition(0, 0, 5, m)
    f = TableSortField()
    f.Field = 5
    f.IsAscending = False
    f.IsCaseSensitive = False
    desc = rng.createSortDescriptor()
    for d in desc:
        if d.Name == "SortFields":
            d.Value = uno.Any("[]com.sun.star.table.TableSortField", (f,))
        if d.Name == "ContainsHeader":
            d.Value = True
    rng.sort(desc)
emit(step=a.probe + "-edit", wall=round(time.perf_counter() - t0, 3), cpu=round(cpu() - c0, 3))
c0, t0 = cpu(), time.perf_counter()
doc.calculate()
emit(step=a.probe + "-calc", wall=round(time.perf_counter() - t0, 3), cpu=round(cpu() - c0, 3))
show("after " + a.probe)
# how many Claims Paid cells now differ from a SUMIFS truth
truth = {}
data = pa.getCellRangeByPosition(0, 1, 5, m).DataArray
for r in data:
    if r[0] != "":
        truth[(r[0], int(r[1]))] = truth.get((r[0], int(r[1])), 0) + r[5]
rows = cl.getCellRangeByPosition(0, 1, 5, exp["n"]).DataArray
errs = sum(1 for r in rows if not isinstance(r[4], float))
wrong = sum(1 for r in rows if isinstance(r[4], float) and abs(r[4] - truth.get((r[0], int(r[1])), 0)) > 0.005)
emit(claims_rows_error=errs, claims_rows_wrong_value=wrong)
emit(done=True)
