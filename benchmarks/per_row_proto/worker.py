"""UNO side (run with /usr/bin/python3): load one prototype workbook and time the steps.

    /usr/bin/python3 worker.py --port P --pid SOFFICE_BIN_PID --book book.xlsx [--skip-full]

Prints one JSON object per step: {"step", "wall", "cpu", "check"...}.
Steps: load, check-cached, settle, pay (1), charge (2), unrelated (4), row-below (3a: a
payment typed in the first row under the Payments table), row-insert (3b: a row inserted
inside the table, above its last row), full (calculateAll), pay-again (1 after full).
"""

import argparse
import json
import os
import time

import psutil
import uno
from com.sun.star.beans import PropertyValue


def emit(**kw):
    print(json.dumps(kw), flush=True)


def desktop(port):
    """The Desktop of the soffice listening on `port` (waiting for it to accept), and the
    Hidden property to load documents with."""
    local = uno.getComponentContext()
    res = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(400):
        try:
            ctx = res.resolve(f"uno:socket,host=localhost,port={port};urp;StarOffice.ComponentContext")
            break
        except Exception:
            time.sleep(0.25)
    p = PropertyValue()
    p.Name, p.Value = "Hidden", True
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx), p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--book")
    ap.add_argument("--skip", default="", help="comma list of steps to skip")
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    exp = json.load(open(a.book.replace(".xlsx", ".json")))
    proc = psutil.Process(a.pid)

    def cpu():
        t = proc.cpu_times()
        return t.user + t.system

    desk, p = desktop(a.port)

    def timed(step, fn, **extra):
        emit(begin=step)
        c0, t0 = cpu(), time.perf_counter()
        r = fn()
        emit(step=step, wall=round(time.perf_counter() - t0, 3), cpu=round(cpu() - c0, 3), **extra)
        return r

    doc = timed(
        "load", lambda: desk.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(a.book)), "_blank", 0, (p,))
    )
    cl = doc.Sheets.getByName("Claims")
    pa = doc.Sheets.getByName("Payments")
    su = doc.Sheets.getByName("Summary")
    se = doc.Sheets.getByName("Settings")
    _n, m = exp["n"], exp["m"]

    def summary():
        return su.getCellByPosition(1, 0).Value, su.getCellByPosition(1, 1).Value

    def check(label, adj=None):
        """Spot rows' Paid and Balance vs expected (adj: row -> delta of Paid), summary."""
        adj = adj or {}
        bad = []
        for r, (cid, ln, paid) in exp["spots"].items():
            r = int(r)
            row = cl.getCellRangeByPosition(0, r, 5, r).DataArray[0]
            want = paid + adj.get(r, 0.0)
            if row[0] != cid or row[1] != ln or abs(row[4] - want) > 0.005 or abs(row[3] - row[4] - row[5]) > 0.005:
                bad.append([r, list(row), want])
        s = summary()
        emit(
            check=label,
            spots=len(exp["spots"]),
            bad=bad,
            total=round(s[0], 2),
            total_p3=round(s[1], 2),
            paid_formula=cl.getCellByPosition(4, exp["pay_claims_row"]).Formula[:160],
        )
        return s

    check("cached")
    timed("settle", doc.calculate)
    s1 = check("after settle")

    # (1) a payment posted: Payments!F of the middle row +10
    pr, pcr = exp["pay_row"], exp["pay_claims_row"]
    c = pa.getCellByPosition(5, pr)
    c.Value = c.Value + 10
    timed("pay", doc.calculate, cell=f"Payments!F{pr + 1} -> Claims row {pcr + 1}")
    s = check("after pay", {pcr: 10})
    emit(delta_total=round(s[0] - s1[0], 2), expect=-10)

    # (2) Claims Charge of the middle row +100
    cr = exp["charge_row"]
    c = cl.getCellByPosition(3, cr)
    c.Value = c.Value + 100
    timed("charge", doc.calculate, cell=f"Claims!D{cr + 1}")
    s2 = summary()
    emit(delta_total=round(s2[0] - s[0], 2), expect=100)

    # (4) unrelated
    se.getCellByPosition(1, 0).String = "Test practice (edited)"
    timed("unrelated", doc.calculate)

    # (3a) a payment typed in the first row below the Payments table (m+1 is the last data row)
    src = pa.getCellRangeByPosition(0, pr, 5, pr).DataArray[0]
    newrow = (src[0], src[1], "NEW-1", src[3], "manual", 12.34)
    if "row-below" not in skip:

        def below():
            pa.getCellRangeByPosition(0, m + 1, 5, m + 1).DataArray = (newrow,)
            doc.calculate()

        s3 = summary()
        timed("row-below", below, cell=f"Payments row {m + 2} (below the table)")
        s4 = summary()
        area = doc.DatabaseRanges.getByName("Payments").DataArea
        emit(delta_total=round(s4[0] - s3[0], 2), counted_if=-12.34, table_end_row=area.EndRow + 1)
        pa.getCellRangeByPosition(0, m + 1, 5, m + 1).clearContents(1 | 2 | 4 | 16)  # VALUE|DATETIME|STRING|FORMULA
        doc.calculate()

    # (3b) a row inserted inside the table (above its last row), filled with a payment
    if "row-insert" not in skip:
        s3 = summary()

        def ins():
            pa.Rows.insertByIndex(m, 1)

        timed("row-insert-edit", ins)
        pa.getCellRangeByPosition(0, m, 5, m).DataArray = (newrow,)
        timed("row-insert", doc.calculate, cell=f"Payments row {m + 1} inserted")
        s4 = summary()
        area = doc.DatabaseRanges.getByName("Payments").DataArea
        emit(
            delta_total=round(s4[0] - s3[0], 2),
            counted_if=-12.34,
            table_end_row=area.EndRow + 1,
            paid_formula=cl.getCellByPosition(4, pcr).Formula[:160],
        )

    if "full" not in skip:
        timed("full", doc.calculateAll)
        emit(summary_after_full=[round(x, 2) for x in summary()])
        check("after full", {pcr: 10 + (12.34 if exp["variant"] == "A" and "row-insert" not in skip else 0)})
        c2 = pa.getCellByPosition(5, pr)
        c2.Value = c2.Value + 10
        timed("pay-after-full", doc.calculate)
        emit(summary_after_pay2=[round(x, 2) for x in summary()])
    emit(done=True)


if __name__ == "__main__":
    main()
