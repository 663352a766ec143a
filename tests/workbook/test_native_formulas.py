"""The calculated columns are native formulas; LibreOffice (a real spreadsheet engine,
recalculation forced on load) must compute exactly what the engine computes, for every
row of the demo practice — and again after an input is edited."""
import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from payorxl import libreoffice, model as m, pipeline
from payorxl.codec import EXCEL_EPOCH
from payorxl.conversion import typed_frame
from payorxl.demo import generate_demo

pytestmark = pytest.mark.skipif(libreoffice.soffice() is None,
                                reason="LibreOffice (soffice) is not installed: bash .ci/run installs it")


def as_date(v):
    if v in ("", None):
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return pd.Timestamp(v).normalize()
    if isinstance(v, dt.time):                  # serial 0, a date cell holding a wrong 0
        return pd.Timestamp(EXCEL_EPOCH)
    return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(v)))


def engine_value(v, kind):
    """The engine's value as it should appear in the sheet."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)) or v == "":
        return None
    if kind == m.MONEY:
        return round(int(v) / 100, 2)
    if kind == m.DATE:
        return pd.Timestamp(v)
    if kind == m.INT:
        return int(v)
    return str(v)


def sheet_value(v, kind):
    if v in ("", None):
        return None
    if kind == m.MONEY:
        return round(float(v), 2)
    if kind == m.DATE:
        return as_date(v)
    if kind == m.INT:
        return int(round(float(v)))
    return str(v)


def recalculated_table(book: CalamineWorkbook, table: m.Table) -> pd.DataFrame:
    grid = book.get_sheet_by_name(table.name).to_python(skip_empty_area=False)
    frame = pd.DataFrame(grid[1:], columns=grid[0])
    return frame[frame[table.columns[0].name].astype(str) != ""].reset_index(drop=True)


def compare(path, tmp_path, as_of):
    results = pipeline.load(path, as_of)
    book = CalamineWorkbook.from_path(str(libreoffice.convert(path, tmp_path / "lo")))
    mismatches = []
    for table, engine in ((m.CLAIMS, results.claim_rows), (m.CONTRACTS, results.contracts),
                          (m.ADJUSTMENTS, results.adjustments), (m.PAYMENTS, results.payment_rows)):
        lo = recalculated_table(book, table)
        assert len(lo) == len(engine), table.name
        for c in table.calculated:
            ours = [engine_value(v, c.kind) for v in engine[c.key]]
            theirs = [sheet_value(v, c.kind) for v in lo[c.name]]
            for i, (a, b) in enumerate(zip(ours, theirs)):
                if a != b:
                    mismatches.append((table.name, i + 2, c.name, a, b))
    return results, mismatches


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory):
    # The demo practice at 300 claims: LibreOffice's COUNTIFS/SUMIFS cost grows with
    # claim lines x payments, and the full demo (2,500 claims) takes minutes there.
    d = generate_demo(claims=300)
    path = tmp_path_factory.mktemp("lo") / "demo.xlsx"
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path


def test_every_calculated_cell_equals_the_engine(demo_book, tmp_path):
    results, mismatches = compare(demo_book, tmp_path, None)
    assert len(results.lines) > 500
    assert mismatches[:10] == []


def test_edited_inputs_recalculate_as_the_engine_says(demo_book, tmp_path):
    results = pipeline.load(demo_book)
    lines = results.lines
    # Pick an unfiled line that is "Due soon" and a paid, not denied line.
    due = lines.index[lines["filing_status"] == "Due soon"][0]
    paid = lines.index[(lines["paid"] > 0) & ~lines["denied"]][0]
    edited = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(demo_book)
    ws = wb["Claims"]
    header = [c.value for c in ws[1]]
    filed_col = header.index("Filed Date") + 1
    charge_col = header.index("Charge") + 1
    due_row, paid_row = int(lines.at[due, "_row"]), int(lines.at[paid, "_row"])
    late = lines.at[due, "filing_deadline"] + pd.Timedelta(days=3)
    ws.cell(due_row, filed_col).value = late.to_pydatetime()          # filed 3 days late
    ws.cell(paid_row, charge_col).value = float(lines.at[paid, "charge"]) / 100 + 50   # charge +$50
    wb.save(edited)

    after, mismatches = compare(edited, tmp_path, None)
    assert mismatches[:10] == []
    a = after.lines.set_index("_row")
    b = lines.set_index("_row")
    assert a.at[due_row, "filing_status"] == "Filed late" and b.at[due_row, "filing_status"] == "Due soon"
    assert a.at[paid_row, "balance"] == b.at[paid_row, "balance"] + 5000


def random_practice(seed: int, n_claims: int = 140) -> dict:
    """Claims with the remittance patterns of real practices, drawn at random: a clean
    payment, a Medicare crossover (CLP02 19 then a secondary's CLP02 2 with OA-23), a
    secondary claim row, a partial denial, a full denial (CLP02 4), a reversal alone or with
    its correction, sequestration without an allowed amount, several adjustments on a line,
    a CARC typed with its group; and Adjustments rows with groups and reasons typed every way.
    Drawn from a second generator (so the draws above stay as they were): prompt-pay terms,
    claims filed lately, appeals and resubmissions filed late, a paid line denied later (not on
    its first pass) and the practice's follow-up of underpaid lines (Underpayments)."""
    rng = np.random.default_rng(seed)
    more = np.random.default_rng(seed + 1000)
    d = dt.datetime
    contracts = [{"Payor": p, "Payor Type": t, "Filing Limit": limit, "Appeal Days": 90, "Mailing Days": 5,
                  "Next Level Days": days, "Corrected Claim Days": corrected}
                 for p, t, days, limit, corrected in (("Medicare", "Medicare", None, 365, None),
                                                      ("Medigap", "Commercial", None, 365, None),
                                                      ("Keystone", "Commercial", 30, 120, 60))]
    for contract, prompt_days in zip(contracts, (45, None, 30)):
        contract.update({"Prompt Pay Days": prompt_days, "Prompt Pay Interest": 0.12 if prompt_days else None})
    fees = [{"Payor": p, "CPT": c, "Effective From": d(2025, 1, 1), "Allowed": a}
            for p in ("Medicare", "Keystone") for c, a in (("99213", 100), ("99214", 140))]
    # payment rules: facility rates, a modifier's own rate, surgical codes ranked
    fees += [{"Payor": "Medicare", "CPT": "99213", "Setting": "Facility", "Effective From": d(2025, 1, 1),
              "Allowed": 72.5},
             {"Payor": "Keystone", "CPT": "99213", "Setting": "Non-facility", "Effective From": d(2025, 1, 1),
              "Allowed": 104.25},
             {"Payor": "Keystone", "CPT": "99214", "Modifier": "26", "Effective From": d(2025, 1, 1), "Allowed": 61},
             *({"Payor": p, "CPT": c, "Effective From": d(2025, 1, 1), "Allowed": a, "Multiple Procedure": "Yes"}
               for p in ("Medicare", "Keystone") for c, a in (("20610", 85.13), ("11042", 120.37), ("20611", 85.13)))]
    payment_rules = [{"Payor": "All payors", "Lesser Of Charge": "Yes", "First Procedure %": 1.0,
                      "Second Procedure %": 0.5, "Further Procedures %": 0.5, "NPP %": 0.85},
                     {"Payor": "Keystone", "Lesser Of Charge": "No", "Second Procedure %": 0.6, "NPP %": None}]
    from payorxl.demo import records_from_frame
    from payorxl.engine import seeds
    routing = records_from_frame(m.DENIAL_ROUTING, seeds.denial_routing())
    routing.append({"group_code": "OA", "carc": "97", "rarc": "", "category": "Bundling", "action": "Bill patient",
                    "description": "a practice's own row"})
    claims, payments, adjustments, acks, appeals, follow_ups = [], [], [], [], [], []

    def pay(cid, line, payor, status, seq, paid, day, **more):
        row = {"Claim ID": cid, "Line": line, "Payor": payor, "Remit Date": d(2026, 3, 1) + dt.timedelta(days=day),
               "Check No": f"K{day}", "Claim Status": status, "Payer Seq": seq, "Charge": 150.0, "Paid": paid}
        row.update(more)
        payments.append(row)

    for k in range(n_claims):
        cid = f"C{k:03d}"
        payor = ["Medicare", "Keystone"][k % 2]
        cpt = ["99213", "99214"][int(rng.integers(2))]
        claims.append({"Claim ID": cid, "Line": 1, "Patient ID": f"P{k}", "Payor": payor, "CPT": cpt,
                       "Date of Service": d(2026, 1, 5) + dt.timedelta(days=int(rng.integers(0, 120))),
                       "Charge": float(rng.choice([150.0, 150.0, 90.0, 60.0])),
                       "Claim Type": "Secondary" if rng.random() < 0.1 else "Primary",
                       "Filed Date": d(2026, 2, 1) if rng.random() < 0.8 else None,
                       "Modifier": str(rng.choice(["", "", "", "25", "26", "50", "80", "ZZ", "59", " 25"])),
                       "POS": rng.choice(["11", "11", "22", "2", "", "21", 11.0]),
                       "NPP": "Yes" if rng.random() < 0.2 else "No"})
        if rng.random() < 0.25:                                         # procedures ranked on one day
            for n in range(2, int(rng.integers(3, 5))):
                claims.append(dict(claims[-1], Line=n, CPT=str(rng.choice(["20610", "11042", "20611"])),
                                   Units=int(rng.choice([1, 1, 2])), Modifier=str(rng.choice(["", "", "59", "50"])),
                                   Charge=float(rng.choice([300.0, 80.0]))))
        if claims[-1]["Filed Date"] is not None:                        # what the 277CA said
            ack = rng.random()
            filed = claims[-1]["Filed Date"]
            for days, result in {0: [], 1: [(5, "Rejected")], 2: [(5, "Rejected"), (9, "Accepted")],
                                 3: [(-3, "Rejected")], 4: [(4, "Accepted"), (4, "Rejected")],
                                 5: [(6, "Accepted")]}[int(ack * 6)]:
                acks.append({"Claim ID": cid, "Status Date": filed + dt.timedelta(days=days), "Result": result,
                             "Category": "A7" if result == "Rejected" else "A2"})
        extra = rng.random() if claims[-1]["Claim Type"] == "Primary" else 1.0
        if extra < 0.2:                                                 # billed to the next payer too
            claims.append(dict(claims[-1], Payor="Medigap", **{"Claim Type": "Secondary" if extra < 0.15 else
                                                               "Tertiary", "Primary Remit Date": d(2026, 4, 1)}))
        elif extra < 0.26:                                              # voided
            claims.append(dict(claims[-1], Frequency="8", **{"Claim Type": "Primary"}))
        allowed = float(rng.choice([100.0, 140.0, 95.0]))
        # each pattern at least once; denials (4) three times as often, for their routes
        pattern = k if k < 9 else int(rng.choice([0, 1, 2, 3, 4, 4, 4, 5, 6, 7, 8]))
        day = int(rng.integers(0, 60))
        if pattern == 0:
            if more.random() < 0.4 and claims[-1]["Claim ID"] == cid:  # filed lately: prompt pay pending
                claims[-1]["Filed Date"] = d(2026, 6, 20)
            continue                                                    # not remitted
        if pattern == 1:                                                # clean, several adjustments
            pay(cid, 1, payor, "1", "1", allowed - 20, day, Allowed=allowed, **{
                "Contractual Adj": 150 - allowed, "Patient Resp": 20.0})
            if more.random() < 0.25:                                    # denied later: not a first pass
                pay(cid, 1, payor, "4", "1", 0.0, day + 30, **{"Denied Amount": 150.0, "Group Code": "CO",
                                                               "CARC": "50"})
            if more.random() < 0.6:                                     # the practice's follow-up
                status = str(more.choice(["Open", "Sent", "Sent", "Recovered", "Invalid"]))
                follow_ups.append({"Claim ID": cid.lower() if more.random() < 0.2 else cid, "Line": 1,
                                   "Status": status, "Status Date": d(2026, 5, 1),
                                   "Amount Recovered": 12.5 if status == "Recovered" else None})
        elif pattern == 2:                                              # crossover
            pay(cid, 1, payor, "19", "1", allowed - 20, day, **{"Contractual Adj": 150 - allowed,
                                                                "Patient Resp": 20.0})
            if k % 4 != 2:                                              # else: still forwarded
                pay(cid, 1, "Medigap", "2", "2", 15.0, day + 20, **{"Patient Resp": 5.0})
        elif pattern == 3:                                              # partial denial
            pay(cid, 1, payor, "1", "", allowed - 50, day, **{"Contractual Adj": 150 - allowed,
                                                              "Denied Amount": 50.0, "Group Code": "CO",
                                                              "CARC": "97"})
        elif pattern == 4:                                              # full denial, appealed level by level
            group, carc, rarc = [("CO", "50", ""), ("CO", "29", ""), ("CO", "CO-29", ""), ("CO", "16", "MA130"),
                                 ("CO", "16", "N290, MA130"), ("CO", "27", ""), ("OA", "18", ""), ("OA", "97", ""),
                                 ("CO", "97", "M15")][int(rng.integers(9))]
            pay(cid, 1, payor, "4", "1", 0.0, day, **{"Denied Amount": 150.0, "Group Code": group,
                                                      "CARC": carc, "RARC": rarc})
            if rng.random() < 0.3:                                      # resubmitted since (late, some)
                claims[-1 if claims[-1]["Claim ID"] == cid and claims[-1]["Line"] == 1 else
                       next(i for i, c in enumerate(claims) if c["Claim ID"] == cid)]["Filed Date"] = \
                    d(2026, 3, 1) + dt.timedelta(days=day + (110 if more.random() < 0.4 else 15))
            if carc in ("16", "27", "18", "97") and rng.random() < 0.7:
                continue                                                # not appealed: its route's clock
            denied_on = d(2026, 3, 1) + dt.timedelta(days=day)
            for level in range(1, int(rng.integers(0, 4)) + 1):
                filed = denied_on + dt.timedelta(days=20 * level + (90 if more.random() < 0.3 else 0))
                decided = filed + dt.timedelta(days=int(rng.integers(10, 90)))
                outcome = "Upheld" if rng.random() < 0.8 else "Pending"
                appeals.append({"Claim ID": cid, "Line": 1, "Appeal Date": filed, "Level": level,
                                "Outcome": outcome, "Decision Date": decided if outcome == "Upheld" else None})
                if outcome == "Pending":
                    break
        elif pattern in (5, 6):                                         # reversal (+ correction)
            pay(cid, 1, payor, "1", "1", allowed, day, **{"Contractual Adj": 150 - allowed})
            pay(cid, 1, payor, "22", "1", -allowed, day + 10, **{"Contractual Adj": allowed - 150,
                                                                 "Charge": -150.0})
            if pattern == 6:
                pay(cid, 1, payor, "1", "1", allowed - 5, day + 12, **{"Contractual Adj": 155 - allowed})
        elif pattern == 7:                                              # sequestration, no Allowed
            pay(cid, 1, payor, "1", "", round((allowed - 20) * 0.98, 2), day, **{
                "Contractual Adj": round(150 - allowed + (allowed - 20) * 0.02, 2),
                "Sequestration": round((allowed - 20) * 0.02, 2), "Patient Resp": 20.0})
        else:                                                           # a secondary alone
            pay(cid, 1, "Medigap", "2", "2", 10.0, day, **{"Patient Resp": 10.0})
    for j, (group, reason) in enumerate([("CO", "45"), ("CO", "CO-45"), ("CO", " co 253 "), ("OA", "23"),
                                         ("OA", "oa-23"), ("PR", "2"), ("CO", "97"), ("PI", "45"),
                                         ("PLB", "WO"), ("CR", "A2"), ("CO", "A2"), ("CO", "CO59")]):
        adjustments.append({"Claim ID": "C000", "Line": 1, "Payor": "Keystone", "Remit Date": d(2026, 4, 1),
                            "Group": group, "Reason": reason, "Amount": 1.0 + j,
                            "Level": "provider" if group == "PLB" else "line"})
    return {"Contracts": contracts, "FeeSchedule": fees, "Claims": claims, "Payments": payments,
            "Adjustments": adjustments, "Acknowledgements": acks, "Appeals": appeals, "Underpayments": follow_ups,
            "PaymentRules": payment_rules, "DenialRouting": routing}


@pytest.mark.parametrize("seed", [1, 2])
def test_remittance_patterns_compute_natively_as_the_engine_says(tmp_path, seed):
    records = random_practice(seed)
    frames = {}
    for t in m.INPUT_TABLES:
        converted = typed_frame(t, records.get(t.name, []))
        assert not converted.errors, converted.errors[:3]
        frames[t.name] = converted.frame
    path = tmp_path / "patterns.xlsx"
    pipeline.new_workbook(path, frames, {"practice_name": "Patterns", "as_of": dt.date(2026, 6, 30)})
    results, mismatches = compare(path, tmp_path, dt.date(2026, 6, 30))
    lines = results.lines
    # the draw holds every pattern the columns must get right
    assert lines["forwarded"].any() and lines["partial_denial"].any() and lines["denied"].any()
    assert lines["awaiting_reprocessing"].any() and (lines["sequestration"] > 0).any()
    assert (lines["last_payer_seq"] == 2).any() and (lines["claim_type"] == "Secondary").any()
    assert set(results.claim_rows["role"]) == {"Line", "Next payer", "Void"}
    assert lines["rejected"].any() and lines["accepted_on"].notna().any()
    assert (lines["appeal_level"] > 1).any() and (lines["writeoff_reason"] != "").any()
    assert (lines["patient_share"] < lines["patient_resp"]).any()      # a next payer still to pay
    assert set(results.adjustments["kind"]) == {"Contractual", "Sequestration", "Prior Payer", "Patient Resp",
                                                "Denied", "Provider"}
    # ... and every payment rule and denial route
    pricing = " | ".join(results.claim_rows["pricing"])
    for rule in ("facility", "non-facility", "modifier 26 rate", "modifier 25 at base", "modifier 50 % of base",
                 "NPP", "procedure 2", "procedure 3", "billed charge", "% of base"):
        assert rule in pricing, rule
    assert set(results.claim_rows["denial_action"]) >= {"Appeal", "Correct and resubmit", "Rebill other payer",
                                                        "Write off", "Bill patient"}
    assert {"Resubmitted", "Open"} <= set(lines["resubmit_status"])
    # ... and every state of the deadlines and flags the live summaries count
    assert {"Open", "Due soon", "Missed", "Appealed on time", "Appealed late", "Upheld"} <= set(lines["appeal_status"])
    assert {"Open", "Due soon", "Resubmitted"} <= set(lines["resubmit_status"])
    assert {"Paid on time", "Paid late", "Overdue", "Pending"} <= set(lines["prompt_pay_status"])
    assert lines["underpaid"].any() and {"Open", "Sent"} <= set(lines["follow_up"])
    assert (lines["denial_date"].notna() & ~lines["denied_first_pass"]).any()   # denied later, not first
    assert mismatches[:10] == []


def test_an_emptied_routing_table_routes_every_denial_to_an_appeal(tmp_path):
    """A practice that deletes every DenialRouting row leaves the table's one blank row: no
    denial may match it (the engine routes them all to Appeal, and so must the formulas)."""
    from payorxl.workbook.template import build_workbook
    records = random_practice(3, n_claims=40)
    frames = {t.name: typed_frame(t, records.get(t.name, []) if t.name != "DenialRouting" else []).frame
              for t in m.INPUT_TABLES}
    path = tmp_path / "emptied.xlsx"
    build_workbook(path, frames, {"practice_name": "Emptied", "as_of": dt.date(2026, 6, 30)})
    results, mismatches = compare(path, tmp_path, dt.date(2026, 6, 30))
    assert set(results.payment_rows["action"]) == {"", "Appeal"}
    assert mismatches[:10] == []


def test_a_blank_as_of_date_counts_from_the_dashboards_today(tmp_path):
    """With Settings' As-of Date blank, the formulas count days from px_Today, the date the
    last recalculation wrote on the Dashboard (here: 2026-06-30), not from the clock."""
    records = random_practice(4, n_claims=40)
    frames = {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}
    path = tmp_path / "blank-as-of.xlsx"
    pipeline.new_workbook(path, frames, {"practice_name": "Blank as-of"}, as_of=dt.date(2026, 6, 30))
    results, mismatches = compare(path, tmp_path, dt.date(2026, 6, 30))
    assert results.lines["filing_days_left"].notna().any()
    assert mismatches[:10] == []
    # ... and against another day the days left differ: the comparison can fail
    _, later = compare(path, tmp_path / "later", dt.date(2026, 7, 30))
    assert any(column == "Filing Days Left" for _, _, column, _, _ in later)


@pytest.mark.slow
def test_blank_settings_take_their_defaults_as_the_engine_does(tmp_path):
    """Settings left blank: the formulas use each setting's default, as the engine does
    (a blank Filing Due Soon Days is 30 days, not 0)."""
    d = generate_demo(claims=60)
    path = tmp_path / "blank.xlsx"
    pipeline.new_workbook(path, d.frames(), {**d.settings, "filing_due_soon_days": None})
    results, mismatches = compare(path, tmp_path, None)
    due = results.lines["filing_status"] == "Due soon"
    assert (results.lines.loc[due, "filing_days_left"] > 0).any()    # not only lines due today
    assert mismatches[:10] == []


def _practice_with(extra: dict, n_claims: int = 20) -> dict:
    records = random_practice(5, n_claims=n_claims)
    for table, rows in extra.items():
        records.setdefault(table, []).extend(rows)
    return {t.name: typed_frame(t, records.get(t.name, [])).frame for t in m.INPUT_TABLES}


def _denied(cid: str, payor: str = "Keystone", denied_on=dt.datetime(2026, 2, 1)) -> dict:
    """A claim line denied in full (CO-50: routed to an appeal) on its first remittance."""
    return {"Claims": [{"Claim ID": cid, "Line": 1, "Patient ID": "PX", "Payor": payor, "CPT": "99213",
                        "Date of Service": dt.datetime(2026, 1, 10), "Charge": 150.0, "Claim Type": "Primary",
                        "Filed Date": dt.datetime(2026, 1, 20)}],
            "Payments": [{"Claim ID": cid, "Line": 1, "Payor": payor, "Remit Date": denied_on, "Check No": "KX",
                          "Claim Status": "4", "Payer Seq": "1", "Charge": 150.0, "Paid": 0.0,
                          "Denied Amount": 150.0, "Group Code": "CO", "CARC": "50"}]}


@pytest.mark.slow
def test_the_top_appeal_level_is_read_off_the_row_the_engine_reads(tmp_path):
    """Two Appeals rows at a line's top level (a duplicate: the engine leaves the later one out
    and reads the first): whether it was upheld and when it was decided come from the first
    row, not from any row that says Upheld nor from the latest Decision Date."""
    d = dt.datetime
    extra: dict = {"Claims": [], "Payments": [], "Appeals": []}
    for cid in ("UP1", "UP2", "UP3"):
        for table, rows in _denied(cid).items():
            extra[table] += rows
    extra["Appeals"] += [
        # upheld, then a blank outcome at the same level: upheld (Keystone's level 2 window)
        {"Claim ID": "UP1", "Line": 1, "Appeal Date": d(2026, 2, 10), "Level": 1, "Outcome": "Upheld",
         "Decision Date": d(2026, 3, 1)},
        {"Claim ID": "UP1", "Line": 1, "Appeal Date": d(2026, 3, 10), "Level": 1},
        # a blank outcome, then upheld: appealed, not upheld
        {"Claim ID": "UP2", "Line": 1, "Appeal Date": d(2026, 3, 10), "Level": 1},
        {"Claim ID": "UP2", "Line": 1, "Appeal Date": d(2026, 2, 10), "Level": 1, "Outcome": "Upheld",
         "Decision Date": d(2026, 3, 1)},
        # upheld twice: the next level's window from the first row's decision (May 1: missed
        # by June 30), not the later one's (June 20: open)
        {"Claim ID": "UP3", "Line": 1, "Appeal Date": d(2026, 2, 10), "Outcome": "Upheld",
         "Decision Date": d(2026, 5, 1)},
        {"Claim ID": "UP3", "Line": 1, "Appeal Date": d(2026, 2, 12), "Level": 1, "Outcome": "Upheld",
         "Decision Date": d(2026, 6, 20)}]
    path = tmp_path / "top-level.xlsx"
    pipeline.new_workbook(path, _practice_with(extra), {"practice_name": "Top", "as_of": dt.date(2026, 6, 30)})
    results, mismatches = compare(path, tmp_path, dt.date(2026, 6, 30))
    lines = results.lines.set_index("claim_id")
    assert lines.at["UP1", "appeal_level"] == 2 and lines.at["UP2", "appeal_level"] == 1
    assert lines.at["UP2", "appeal_status"] in ("Appealed on time", "Appealed late")
    assert lines.at["UP3", "appeal_status"] == "Missed" and lines.at["UP3", "written_off"] > 0
    assert mismatches[:10] == []


@pytest.mark.slow
def test_claim_ids_match_as_text_in_every_column(tmp_path):
    """A claim ID the engine reads as the text "123" matches a Payments or Appeals cell holding
    the number 123, and "ab7" matches "AB7", in every column as COUNTIFS and SUMIFS match them
    (the earliest remittance of Denied First Pass and the latest denial included)."""
    extra: dict = {"Claims": [], "Payments": [], "Appeals": []}
    for cid in ("123", "ab7"):
        for table, rows in _denied(cid).items():
            extra[table] += rows
    extra["Payments"][-1]["Claim ID"] = "AB7"
    extra["Appeals"] += [{"Claim ID": "123", "Line": 1, "Appeal Date": dt.datetime(2026, 2, 10), "Level": 1,
                          "Outcome": "Upheld", "Decision Date": dt.datetime(2026, 6, 1)}]
    built = tmp_path / "built.xlsx"
    pipeline.new_workbook(built, _practice_with(extra), {"practice_name": "IDs", "as_of": dt.date(2026, 6, 30)})
    wb = openpyxl.load_workbook(built)
    numbers = 0
    for sheet in ("Payments", "Appeals"):
        ws = wb[sheet]
        for cell in ws["A"][1:]:
            if cell.value == "123":
                cell.value = 123                                   # typed as a number
                numbers += 1
    assert numbers == 2
    path = tmp_path / "ids.xlsx"
    wb.save(path)
    results, mismatches = compare(path, tmp_path, dt.date(2026, 6, 30))
    lines = results.lines.set_index("claim_id")
    assert lines.at["123", "denied_first_pass"] and lines.at["ab7", "denied_first_pass"]
    assert lines.at["123", "appeal_level"] == 2
    assert mismatches[:10] == []
