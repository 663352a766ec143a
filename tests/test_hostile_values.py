"""Hostile values in real cells: amounts beyond any real claim, text that a spreadsheet
would run as a formula when it opens an export, and values long enough to flood a
terminal. Each is named or neutralised; none becomes a wrong figure."""
from __future__ import annotations

import csv
import json

import openpyxl
import pytest
from click.testing import CliRunner

from payorxl import pipeline
from payorxl.cli import main
from payorxl.demo import generate_demo


@pytest.fixture(scope="module")
def good_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("values") / "good.xlsx"
    d = generate_demo(claims=40)
    pipeline.new_workbook(path, d.frames(), d.settings)
    return path


def edited(good_book, dst, cells):
    """A copy of the workbook with Claims cells set through openpyxl (as another program
    would write them): cells is {(excel row, header): value}."""
    wb = openpyxl.load_workbook(good_book)
    ws = wb["Claims"]
    header = {c.value: c.column for c in ws[1]}
    for (row, name), value in cells.items():
        cell = ws.cell(row, header[name], value)
        if isinstance(value, str):
            cell.data_type = "s"       # text, even when it starts with "=" (an 837's CLM01)
    wb.save(dst)
    return dst


def test_charges_beyond_any_real_claim_are_named_and_left_out(good_book, tmp_path):
    # A 20-digit charge (an ID pasted into the amount) and 1e17: before, both passed
    # `check` and A/R came out as -$92,233,720,368,488,... (int64 cents overflowed).
    book = edited(good_book, tmp_path / "huge.xlsx",
                  {(3, "Charge"): 12345678901234567890, (5, "Charge"): 1e17})
    result = CliRunner().invoke(main, ["check", str(book), "--json"])
    assert result.exit_code == 1
    named = {(p["row"], p["column"]) for p in json.loads(result.output)
             if p["sheet"] == "Claims" and "beyond any real amount" in p["message"]}
    assert named == {(3, "Charge"), (5, "Charge")}

    good = pipeline.load(good_book)
    results = pipeline.load(book)
    assert len(results.lines) == len(good.lines) - 2
    # Every other line is computed as before: A/R falls by exactly the two rows' balances.
    left_out = good.lines[good.lines["_row"].isin([3, 5])]
    assert results.kpis["ar_total"].value == good.kpis["ar_total"].value - int(
        left_out.loc[left_out["balance"] > 0, "balance"].sum())


def test_a_count_beyond_any_real_one_is_named_not_wrapped_round(good_book, tmp_path):
    """Units of 1e20 (an ID pasted into the column) once became -9,223,372,036,854,775,808
    in int64 without a word; now it is a data error on its cell, and 999,999,999 units is
    still a figure."""
    book = edited(good_book, tmp_path / "units.xlsx", {(3, "Units"): 1e20, (4, "Units"): 999_999_999})
    results = pipeline.load(book)
    named = [e for e in results.errors if e.ref.sheet == "Claims" and e.ref.column == "Units"]
    assert [(e.ref.row, e.severity) for e in named] == [(3, "error")]
    assert "beyond any real count" in named[0].message
    assert set(results.lines["_row"]) >= {4} and 3 not in set(results.lines["_row"])
    assert results.lines.loc[results.lines["_row"] == 4, "units"].iloc[0] == 999_999_999


def test_an_amount_just_under_the_limit_is_a_figure(good_book, tmp_path):
    book = edited(good_book, tmp_path / "big.xlsx", {(3, "Charge"): 9_999_999.99})
    results = pipeline.load(book)
    assert not [e for e in results.errors if e.ref.column == "Charge"]
    assert results.lines.loc[results.lines["_row"] == 3, "charge"].iloc[0] == 999_999_999


def test_exported_text_never_opens_as_a_formula(good_book, tmp_path):
    payload = '=HYPERLINK("http://example.invalid","click")'
    book = edited(good_book, tmp_path / "inject.xlsx",
                  {(3, "Claim ID"): payload, (4, "Claim ID"): "+1-555", (5, "Claim ID"): "@SUM(A1)"})
    out = tmp_path / "csv"
    result = CliRunner().invoke(main, ["report", str(book), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    files = list(out.rglob("*.csv"))
    assert files
    seen = False
    for f in files:
        with f.open(newline="") as fh:
            for row in csv.reader(fh):
                for field in row:
                    assert not field.startswith(("=", "+", "@", "\t", "\r")), (f.name, field)
                    seen |= field == "'" + payload
    assert seen, "the claim ID is kept, as text"


def test_a_huge_cell_gives_a_bounded_message(good_book, tmp_path):
    book = edited(good_book, tmp_path / "long.xlsx", {(3, "Date of Service"): "x" * 40_000})
    result = CliRunner().invoke(main, ["check", str(book)])
    assert result.exit_code == 1
    assert max(len(line) for line in result.output.splitlines()) < 1000
    assert "…" in result.output
    problems = json.loads(CliRunner().invoke(main, ["check", str(book), "--json"]).output)
    assert all(len(p["value"]) < 200 for p in problems)


def test_nan_in_a_cell_is_named_not_taken_for_a_blank(good_book, tmp_path):
    """A file written by another program can hold NaN in a numeric cell (<v>NaN</v>);
    Excel has no such value. Before, a NaN Charge read as "required and blank" and a NaN
    Units silently became the default 1."""
    import zipfile
    marked = edited(good_book, tmp_path / "marked.xlsx", {(3, "Charge"): 123456.78, (4, "Units"): 7654321})
    book = tmp_path / "nan.xlsx"
    with zipfile.ZipFile(marked) as zin, zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<v>123456.78</v>", b"<v>NaN</v>").replace(b"<v>7654321</v>", b"<v>NaN</v>")
            zout.writestr(info, data)
    result = CliRunner().invoke(main, ["check", str(book), "--json"])
    assert result.exit_code == 1
    nan = {(p["row"], p["column"]) for p in json.loads(result.output) if "NaN" in p["message"]}
    assert nan == {(3, "Charge"), (4, "Units")}
    assert not [p for p in json.loads(result.output) if "blank" in p["message"] and p["row"] in (3, 4)]


def test_json_text_never_opens_as_a_formula(tmp_path):
    # A practice named like a formula (Settings' Practice Name): `recalc --json` is
    # pasted into spreadsheets too, so the name leaves as text, as in the CSV files.
    book = tmp_path / "evil.xlsx"
    d = generate_demo(claims=20)
    pipeline.new_workbook(book, d.frames(), {**d.settings, "practice_name": "=HYPERLINK(\"x\")"})
    result = CliRunner().invoke(main, ["recalc", str(book), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)[0]
    assert summary["practice"] == "'=HYPERLINK(\"x\")"
    assert isinstance(summary["kpis"]["ar_total"], float)     # numbers stay numbers


def test_a_date_outside_the_years_read_is_named_not_wrapped_round():
    """9999-12-31, a common "no end" Effective To, once became 1816-03-29 in the engine's
    nanosecond dates, so the rate never applied, silently; a year outside 1900-2099 is now
    a data error naming the cell, with the fix. A blank Effective To is open-ended."""
    import datetime as dt

    from payorxl import model as m
    from payorxl.conversion import typed_frame
    records = [{"Payor": "Acme", "CPT": "99213", "Effective From": dt.datetime(2024, 1, 1),
                "Effective To": dt.datetime(9999, 12, 31), "Allowed": 50},
               {"Payor": "Acme", "CPT": "99214", "Effective From": dt.datetime(2024, 1, 1), "Allowed": 60},
               {"Payor": "Acme", "CPT": "99215", "Effective From": dt.date(1850, 1, 1), "Allowed": 70},
               {"Payor": "Acme", "CPT": "99212", "Effective From": dt.datetime(2099, 12, 31), "Allowed": 40}]
    converted = typed_frame(m.FEE_SCHEDULE, records)
    named = {(e.ref.row, e.ref.column): e for e in converted.errors}
    assert set(named) == {(2, "Effective To"), (4, "Effective From")}
    assert "12/31/9999, outside the years payorxl reads (1900-2099)" in named[(2, "Effective To")].message
    assert "leave the end date blank" in named[(2, "Effective To")].fix
    kept = converted.frame.set_index("cpt")
    assert kept.at["99212", "effective_from"] == dt.datetime(2099, 12, 31)


def test_a_day_count_no_contract_has_is_named_not_a_date_past_2262():
    """A Prompt Pay Days of 120,000 once put the due date in 1713 (nanoseconds wrapped
    round) and paid 'interest' of -$3,286.78; now it is a data error naming the cell."""
    from payorxl import model as m
    from payorxl.conversion import typed_frame
    converted = typed_frame(m.CONTRACTS, [{"Payor": "Acme", "Payor Type": "Commercial", "Filing Limit": 90,
                                           "Filing Unit": "days", "Appeal Days": 180, "Prompt Pay Days": 120000},
                                          {"Payor": "Beta", "Payor Type": "Commercial", "Filing Limit": 1825,
                                           "Filing Unit": "months", "Appeal Days": 180, "Prompt Pay Days": 30}])
    named = [(e.ref.row, e.ref.column) for e in converted.errors if e.severity == "error"]
    assert named == [(2, "Prompt Pay Days")]
    assert f"above the most payorxl takes ({m.DAY_COUNT_LIMIT:,})" in converted.errors[0].message
