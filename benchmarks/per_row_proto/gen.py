"""Synthetic Claims/Payments workbooks for the per-edit cost prototype (issue 17 item 1).

    python3 gen.py N VARIANT OUT.xlsx      VARIANT: A (SUMIFS), B (explicit refs), G (explicit + key guard per ref),
                                        H (explicit, one guard over all keys, SUMIFS fallback),
                                        M (one uniform formula over the row's own slots on an Index sheet
                                           that mirrors the line's Payments cells), T (M plus a gated
                                           SUMIFS over a window of W rows below the table)

Claims   (table Claims):   A Claim ID | B Line | C Payor | D Charge | E Paid | F Balance
Payments (table Payments): A Claim ID | B Line | C Check No | D Date | E Source | F Paid
Summary: B1 =SUM(Claims[Balance]), B2 =SUMIFS(Claims[Balance],Claims[Payor],"P3")
Settings: B1 Practice Name (the unrelated cell)

Every formula cell is written with its cached value. Writes OUT.json with what the
worker checks (spot rows, totals, the rows it edits).
"""

import json
import random
import sys
import time

import xlsxwriter

PAYORS = ["P1", "P2", "P3", "P4", "P5"]


def data(n, seed=17):
    rnd = random.Random(seed)
    lines = []  # (claim id, line, payor, charge)
    c = 0
    while len(lines) < n:
        c += 1
        payor = rnd.choice(PAYORS)
        for ln in range(1, rnd.randint(1, 4) + 1):
            if len(lines) == n:
                break
            lines.append((f"C{c:06d}", ln, payor, float(rnd.randint(50, 900))))
    pays = []  # (claim id, line, check, date, source, paid)
    for cid, ln, _, charge in lines:
        k = rnd.choices([0, 1, 2, 3], weights=[30, 45, 20, 5])[0]
        for _j in range(k):
            pays.append(
                (
                    cid,
                    ln,
                    f"CHK{rnd.randint(1, 10**6)}",
                    45000 + rnd.randint(0, 700),
                    "era",
                    round(rnd.uniform(0, charge / 2), 2),
                )
            )
    rnd.shuffle(pays)
    return lines, pays


THIS = "Claims[[#This Row],[{}]]"


def main():
    n, variant, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    t0 = time.perf_counter()
    lines, pays = data(n)
    m = len(pays)
    where = {}  # (cid, line) -> list of payments sheet rows (1-based excel rows)
    paid = {}
    for i, p in enumerate(pays):
        where.setdefault((p[0], p[1]), []).append(i + 2)
        paid[(p[0], p[1])] = paid.get((p[0], p[1]), 0.0) + p[5]

    wb = xlsxwriter.Workbook(out)
    cl = wb.add_worksheet("Claims")
    pa = wb.add_worksheet("Payments")
    su = wb.add_worksheet("Summary")
    se = wb.add_worksheet("Settings")
    K, W = 8, 500
    if variant in "MTN":
        ix = wb.add_worksheet("Index")
        ix.hide()
        tail = {c: f"Payments!${c}${m + 2}:${c}${m + W + 1}" for c in "ABF"}

    if variant == "N":
        wb.define_name("px_m_id", "=Index!$A1:$H1")
        wb.define_name("px_m_line", "=Index!$I1:$P1")
        wb.define_name("px_m_paid", "=Index!$Q1:$X1")
    pa.add_table(
        0,
        0,
        m,
        5,
        {
            "name": "Payments",
            "columns": [{"header": h} for h in ("Claim ID", "Line", "Check No", "Date", "Source", "Paid")],
        },
    )
    for i, p in enumerate(pays):
        pa.write_row(i + 1, 0, p)

    cl.add_table(
        0,
        0,
        n,
        5,
        {
            "name": "Claims",
            "columns": [{"header": h} for h in ("Claim ID", "Line", "Payor", "Charge", "Paid", "Balance")],
        },
    )
    lens = []
    tot = 0.0
    tot_p3 = 0.0
    for i, (cid, ln, payor, charge) in enumerate(lines):
        r = i + 1
        cl.write_row(r, 0, (cid, ln, payor, charge))
        v = round(paid.get((cid, ln), 0.0), 2)
        if variant in "MTN":
            er = r + 1  # this row's number in Excel (Claims and Index rows align)
            for j, x in enumerate(where.get((cid, ln), [])[:K]):
                ix.write_formula(r, j, f"=Payments!$A${x}&\"\"", None, cid)
                ix.write_formula(r, K + j, f"=Payments!$B${x}", None, ln)
                ix.write_formula(r, 2 * K + j, f"=Payments!$F${x}", None, pays[x - 2][5])
            f = (f"=SUMIFS(Index!$Q{er}:$X{er},Index!$A{er}:$H{er},{THIS.format('Claim ID')},"
                 f"Index!$I{er}:$P{er},{THIS.format('Line')})")
            if variant == "N":  # the same through names relative to A1 (one text on every row)
                f = f"=SUMIFS(px_m_paid,px_m_id,{THIS.format('Claim ID')},px_m_line,{THIS.format('Line')})"
            if variant == "T":
                ix.write_formula(r, 3 * K, f"=COUNTIFS({tail['A']},Claims!$A{er},{tail['B']},Claims!$B{er})", None, 0)
                f += (f"+IF(Index!$Y{er}=0,0,SUMIFS({tail['F']},{tail['A']},{THIS.format('Claim ID')},"
                      f"{tail['B']},{THIS.format('Line')}))")
        elif variant == "A":
            f = (
                "=SUMIFS(Payments[Paid],Payments[Claim ID],"
                + THIS.format("Claim ID")
                + ",Payments[Line],"
                + THIS.format("Line")
                + ")"
            )
        else:
            rows = where.get((cid, ln), [])
            if not rows:
                f = "=0"
            elif variant == "B":
                f = "=" + "+".join(f"Payments!$F${x}" for x in rows)
            elif variant == "H":  # guard all keys at once, fall back to SUMIFS when broken
                keys = ",".join(
                    f"Payments!$A${x}={THIS.format('Claim ID')},Payments!$B${x}={THIS.format('Line')}" for x in rows
                )
                f = (
                    "=IF(IFERROR(AND("
                    + keys
                    + "),FALSE()),"
                    + "+".join(f"Payments!$F${x}" for x in rows)
                    + ",SUMIFS(Payments[Paid],Payments[Claim ID],"
                    + THIS.format("Claim ID")
                    + ",Payments[Line],"
                    + THIS.format("Line")
                    + "))"
                )
            else:  # G: guarded
                f = "=" + "+".join(
                    f"IF(AND(Payments!$A${x}={THIS.format('Claim ID')},Payments!$B${x}={THIS.format('Line')}),"
                    f"Payments!$F${x},0)"
                    for x in rows
                )
        lens.append(len(f) - 1)
        cl.write_formula(r, 4, f, None, v)
        cl.write_formula(r, 5, "=" + THIS.format("Charge") + "-" + THIS.format("Paid"), None, charge - v)
        tot += charge - v
        if payor == "P3":
            tot_p3 += charge - v
    su.write(0, 0, "Total balance")
    su.write_formula(0, 1, "=SUM(Claims[Balance])", None, tot)
    su.write(1, 0, "Balance P3")
    su.write_formula(1, 1, '=SUMIFS(Claims[Balance],Claims[Payor],"P3")', None, tot_p3)
    se.write(0, 0, "Practice Name")
    se.write(0, 1, "Test practice")
    wb.close()

    # what the worker checks and edits (0-based sheet rows, header at row 0)
    key_row = {(line[0], line[1]): i + 1 for i, line in enumerate(lines)}
    pmid = m // 2 + 1  # Payments sheet row (0-based) edited
    p = pays[pmid - 1]
    spots = sorted({1, n // 3, n // 2, n, key_row[(p[0], p[1])]} | {key_row[k] for k in list(where)[:3]})
    exp = {
        "n": n,
        "m": m,
        "variant": variant,
        "total": tot,
        "total_p3": tot_p3,
        "spots": {str(r): [lines[r - 1][0], lines[r - 1][1], round(paid.get(lines[r - 1][:2], 0.0), 2)] for r in spots},
        "pay_row": pmid,
        "pay_claims_row": key_row[(p[0], p[1])],
        "pay_payor": lines[key_row[(p[0], p[1])] - 1][2],
        "charge_row": n // 2,
        "charge_payor": lines[n // 2 - 1][2],
        "formula_len": {"mean": sum(lens) / n, "max": max(lens)},
        "gen_s": round(time.perf_counter() - t0, 2),
    }
    with open(out.replace(".xlsx", ".json"), "w") as fh:
        json.dump(exp, fh, indent=1)
    print(json.dumps({k: exp[k] for k in ("n", "m", "variant", "formula_len", "gen_s")}))


if __name__ == "__main__":
    main()
