"""`payorxl rollup`: many practice workbooks into one portfolio, totals from summed
numerators and denominators (worked by hand below), the payor benchmark, failed
workbooks listed; and `--scheduler local` (a Dask LocalCluster) giving what the process
pool gives."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from payorxl import model as m, pipeline, rollup as ru
from payorxl.cli import main
from payorxl.conversion import typed_frame

AS_OF = "2026-03-31"
# Identifiers that must never reach a roll-up (distinctive, so a search cannot hit a cell ref).
PATIENT = "PTSECRET-{}"
CLAIM = "CLMSECRET-{}"


def frame(table, rows):
    converted = typed_frame(table, rows)
    assert converted.errors == []
    return converted.frame


def day(text):
    return dt.datetime.fromisoformat(text)


def contract(payor):
    return dict(payor=payor, payor_type="Commercial", filing_limit=180, appeal_days=60)


def claim(cid, payor, cpt, charge):
    # every claim: one line, served 02/01, filed 02/03 (inside the 90-day A/R period)
    return dict(claim_id=CLAIM.format(cid), line=1, patient_id=PATIENT.format(cid), payor=payor, cpt=cpt,
                charge=charge, dos=day("2026-02-01"), filed_date=day("2026-02-03"),
                payor_claim_no=f"PCNSECRET-{cid}", line_control_no=f"LCNSECRET-{cid}")


def paid(cid, payor, date, amount, contractual):
    return dict(claim_id=CLAIM.format(cid), line=1, payor=payor, remit_date=day(date), paid=amount,
                contractual_adj=contractual)


def denied(cid, payor, date, amount, carc):
    return dict(claim_id=CLAIM.format(cid), line=1, payor=payor, remit_date=day(date), paid=0, claim_status="4",
                denied_amount=amount, carc=carc, group_code="CO")


def practice(path, name, claims, payments):
    frames = {"Contracts": frame(m.CONTRACTS, [contract("Aetna"), contract("Cigna")]),
              "Claims": frame(m.CLAIMS, claims), "Payments": frame(m.PAYMENTS, payments)}
    pipeline.new_workbook(path, frames, {"practice_name": name, "as_of": AS_OF})


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> Path:
    """Practice A: 4 claims, 2 denied. Practice B: 1 claim, denied, and a Claims row with
    an error (a duplicate of another claim's key: left out of the figures). A plain xlsx
    that is not a payorxl workbook, and a file that is no workbook at all."""
    folder = tmp_path_factory.mktemp("practices")
    practice(folder / "a.xlsx", "Alpha Family Medicine",
             [claim("A1", "Aetna", "99213", 100), claim("A2", "Aetna", "99213", 100),
              claim("A3", "Cigna", "99214", 200), claim("A4", "Cigna", "99214", 200)],
             [paid("A1", "Aetna", "2026-02-13", 80, 20),          # 10 days to pay
              denied("A2", "Aetna", "2026-02-23", 100, "197"),    # 20 days
              paid("A3", "Cigna", "2026-02-13", 150, 50),         # 10 days
              denied("A4", "Cigna", "2026-02-13", 200, "16")])    # 10 days
    practice(folder / "b.xlsx", "Beta Pediatrics",
             [claim("B1", "Aetna", "99213", 100), claim("B2", "Aetna", "99213", 50),
              claim("B2", "Aetna", "99213", 50)],                 # B2 line 1 twice: an error
             [denied("B1", "Aetna", "2026-03-05", 100, "197")])   # 30 days
    wb = openpyxl.Workbook()
    wb.active["A1"] = "just a spreadsheet"
    wb.save(folder / "c-not-payorxl.xlsx")
    (folder / "d-broken.xlsx").write_bytes(b"this is not a zip file")
    return folder


def _rollup(books, tmp_path, *extra):
    out = tmp_path / "portfolio.xlsx"
    result = CliRunner().invoke(main, ["rollup", str(books), "--output", str(out), "--json", *extra])
    return result, out


def test_totals_are_recomputed_from_the_summed_figures_never_averaged(books, tmp_path):
    result, out = _rollup(books, tmp_path)
    assert result.exit_code == 1, result.output          # two workbooks failed
    data = json.loads(result.stdout)
    a, b = data["practices"]
    assert (a["practice"], b["practice"]) == ("Alpha Family Medicine", "Beta Pediatrics")
    assert (a["rows_left_out"], b["rows_left_out"]) == (0, 1)
    # Each practice's rates agree with its own workbook's KPIs (pipeline.load).
    for row, name in ((a, "a.xlsx"), (b, "b.xlsx")):
        kpis = pipeline.load(books / name).kpis
        for key in ("initial_denial_rate", "charge_denial_rate", "net_collection_rate", "days_in_ar",
                    "clean_claim_rate", "first_pass_resolution_rate"):
            assert row[key] == pytest.approx(kpis[key].value), key
        assert row["ar_total"] == kpis["ar_total"].value / 100
    # Denials: A 2 of 4 claims, B 1 of 1 → 3 of 5 = 60% (the mean of 50% and 100% is 75%).
    assert (a["claims_denied"], a["claims_adjudicated"], a["initial_denial_rate"]) == (2, 4, 0.5)
    assert (b["claims_denied"], b["claims_adjudicated"], b["initial_denial_rate"]) == (1, 1, 1.0)
    t = data["totals"]
    assert (t["claims_denied"], t["claims_adjudicated"]) == (3, 5)
    assert t["initial_denial_rate"] == pytest.approx(0.6)
    # Charges: A denied 300 of 600, B 100 of 100 → 400 / 700 (not (0.5 + 1) / 2).
    assert (t["charges_denied"], t["charges_adjudicated"]) == (400, 700)
    assert t["charge_denial_rate"] == pytest.approx(4 / 7)
    # Net collection: A paid 230 on 600 − 70 contractual; B 0 on 100 → 230 / 630 (mean: 21.7%).
    assert (t["payments"], t["net_charges"]) == (230, 630)
    assert t["net_collection_rate"] == pytest.approx(230 / 630)
    # A/R: A 100 (A2) + 200 (A4) = 300; B 100 (B1) + 50 (the B2 row kept, never remitted; its
    # duplicate is the row left out) = 150 → 450. Average daily charges over the 90-day
    # period: A 600/90, B 150/90 → days in A/R 450 / (750/90) = 54 (A 45, B 90: mean 67.5).
    assert (a["ar_total"], b["ar_total"], t["ar_total"]) == (300, 150, 450)
    assert (a["days_in_ar"], b["days_in_ar"]) == (pytest.approx(45), pytest.approx(90))
    assert t["days_in_ar"] == pytest.approx(450 / (750 / 90)) == pytest.approx(54)
    assert t["claim_lines"] == a["claim_lines"] + b["claim_lines"]
    assert t["as_of"] == AS_OF and t["practice"] == ru.ALL


def test_payor_benchmark_across_practices(books, tmp_path):
    data = json.loads(_rollup(books, tmp_path)[0].stdout)
    payors = {p["payor"]: p for p in data["payors"]}
    # Aetna: A1 paid, A2 denied, B1 denied → 2 of 3; days to pay (10 + 20 + 30) / 3 = 20.
    aetna = payors["Aetna"]
    assert (aetna["practices"], aetna["claims_denied"], aetna["claims_adjudicated"]) == (2, 2, 3)
    assert aetna["denial_rate"] == pytest.approx(2 / 3)
    assert aetna["days_to_pay"] == pytest.approx(20)
    assert aetna["top_denial_reasons"] == "CO-197 (2)"
    # Cigna (practice A only): A3 paid, A4 denied CO-16 → 1 of 2; 10 days.
    cigna = payors["Cigna"]
    assert (cigna["practices"], cigna["denial_rate"], cigna["days_to_pay"]) == (1, 0.5, 10)
    assert cigna["top_denial_reasons"] == "CO-16 (1)"
    by_practice = {(p["practice"], p["payor"]): p for p in data["payor_practices"]}
    assert by_practice[("Alpha Family Medicine", "Aetna")]["denial_rate"] == 0.5
    assert by_practice[("Beta Pediatrics", "Aetna")]["denial_rate"] == 1.0
    assert by_practice[("Alpha Family Medicine", "Aetna")]["days_to_pay"] == 15


def test_failed_workbooks_are_listed_with_their_reason_and_the_rest_roll_up(books, tmp_path):
    result, out = _rollup(books, tmp_path)
    failed = {f["workbook"]: f["reason"] for f in json.loads(result.stdout)["failed"]}
    assert set(failed) == {"c-not-payorxl.xlsx", "d-broken.xlsx"}
    assert all(reason for reason in failed.values())
    assert "c-not-payorxl.xlsx" in result.stderr and "d-broken.xlsx" in result.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(ru.SHEETS)
    listed = [r[0] for r in wb["Failed"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert listed == ["c-not-payorxl.xlsx", "d-broken.xlsx"]
    practices = wb["Practices"]
    assert [c.value for c in practices[4]][:3] == ["Workbook", "Practice", "As Of"]
    totals = [r for r in practices.iter_rows(min_row=5, values_only=True) if r[0] == ru.ALL][0]
    assert totals[m.ROLLUP_PRACTICES.keys.index("initial_denial_rate")] == pytest.approx(0.6)
    assert wb["Dashboard"]["A4"].value == "Initial denial rate" and wb["Dashboard"]["A5"].value == pytest.approx(0.6)


def test_refresh_rewrites_only_the_owned_sheets(books, tmp_path):
    out = tmp_path / "portfolio.xlsx"
    CliRunner().invoke(main, ["rollup", str(books / "a.xlsx"), str(books / "b.xlsx"), "-o", str(out)])
    before = _parts(out)
    result = CliRunner().invoke(main, ["rollup", str(books / "a.xlsx"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    after = _parts(out)
    changed = {p for p in before if before[p] != after.get(p)}
    assert changed and all(p.startswith("xl/worksheets/sheet") for p in changed)
    assert any(p.startswith("xl/charts/") for p in after)          # the Dashboard's charts stay


def test_no_identifier_reaches_any_output(books, tmp_path):
    csv_dir = tmp_path / "csv"
    log = tmp_path / "rollup.log"
    result, out = _rollup(books, tmp_path, "--csv", str(csv_dir), "--log", str(log), "--deidentify",
                          "--key-file", str(tmp_path / "key"))
    texts = [result.stdout, result.stderr, log.read_text()]
    texts += [p.read_text() for p in csv_dir.glob("*.csv")]
    with zipfile.ZipFile(out) as z:
        texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    for text in texts:
        assert "SECRET" not in text            # no patient ID, claim ID, payor claim or line control number
    assert "Alpha Family Medicine" in result.stdout          # practice names stay
    assert {p.name for p in csv_dir.glob("*.csv")} == {f"{o.name}.csv" for o in m.ROLLUP_OUTPUTS} | {
        "rollup_totals.csv"}
    lines = log.read_text().splitlines()
    assert len(lines) == 4 and " ok a.xlsx 4 lines 0 left out" in lines[0]
    assert " failed d-broken.xlsx: " in lines[3]


def test_a_missing_dask_is_one_clear_line(monkeypatch, books):
    import builtins
    real = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_dask)
    result = CliRunner().invoke(main, ["recalc", str(books / "a.xlsx"), str(books / "b.xlsx"),
                                       "--scheduler", "local"])
    assert result.exit_code == 1
    assert 'pip install "payorxl[cluster]"' in result.stderr and "Traceback" not in result.output


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_a_local_dask_cluster_writes_what_the_process_pool_writes(books, tmp_path):
    """Slow (tests/conftest.py): starts a 2-process LocalCluster."""
    pytest.importorskip("distributed")
    pool, dask = tmp_path / "pool", tmp_path / "dask"
    for folder in (pool, dask):
        folder.mkdir()
        for name in ("a.xlsx", "b.xlsx", "c-not-payorxl.xlsx"):
            shutil.copy(books / name, folder / name)
    runner = CliRunner()
    by_pool = runner.invoke(main, ["recalc", str(pool), "--as-of", AS_OF, "--jobs", "2", "--json"])
    by_dask = runner.invoke(main, ["recalc", str(dask), "--as-of", AS_OF, "--scheduler", "local", "--jobs", "2",
                                   "--json"])
    assert by_pool.exit_code == by_dask.exit_code == 1     # the plain xlsx fails both ways
    summaries = [json.loads(r.stdout) for r in (by_pool, by_dask)]
    for s in summaries:
        for d in s:
            d.pop("path"), d.pop("output")
    assert summaries[0] == summaries[1]
    for name in ("a.xlsx", "b.xlsx"):
        assert _parts(pool / name) == _parts(dask / name), name   # every part, owned sheets included
    # and the roll-up on the cluster is the roll-up on the pool
    rolled = [json.loads(runner.invoke(main, ["rollup", str(pool), "--json", *extra]).stdout)
              for extra in ((), ("--scheduler", "local"))]
    assert rolled[0] == rolled[1]
