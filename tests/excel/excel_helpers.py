"""A small practice written out by hand (its arithmetic is worked in the tests), as
tables shaped exactly as Excel hands them to a UDF; and helpers to read workbooks back."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from python_calamine import CalamineWorkbook

from payorxl import model as m
from payorxl.conversion import typed_frame

D = dt.datetime          # Excel sends dates as datetime (midnight)
AS_OF = D(2026, 5, 1)


def grid(table: m.Table, rows: list[dict | None]) -> list[list]:
    """A table as Excel sends `Claims[#All]` to a UDF: the header row in the model's
    column order, then each row with None in every cell not given. A None row is an
    empty table row. Values are given as Excel holds them (float, datetime, str)."""
    unknown = {k for r in rows if r for k in r} - set(table.headers)
    assert not unknown, unknown
    return [[c.name for c in table.columns]] + [
        [None if r is None else r.get(c.name) for c in table.columns] for r in rows]


CONTRACTS = grid(m.CONTRACTS, [
    {"Payor": "Acme Health", "Payor Type": "Commercial", "Filing Limit": 90.0, "Filing Unit": "days",
     "Filing Clock": "DOS", "Appeal Days": 60.0, "Prompt Pay Days": 30.0, "Prompt Pay Interest": 0.12,
     "Fee Basis": "Fee Schedule"},
    {"Payor": "Medicare", "Payor Type": "Medicare", "Filing Limit": 12.0, "Filing Unit": "months",
     "Filing Clock": "DOS", "Appeal Days": 120.0, "Mailing Days": 5.0, "Prompt Pay Days": 30.0,
     "Fee Basis": "Fee Schedule"},
])
FEE_SCHEDULE = grid(m.FEE_SCHEDULE, [
    {"Payor": "Acme Health", "CPT": 99213.0, "Effective From": D(2026, 1, 1), "Allowed": 100.0},
    {"Payor": "Medicare", "CPT": 99213.0, "Effective From": D(2026, 1, 1), "Allowed": 80.0},
    {"Payor": "Medicare", "CPT": "36415", "Effective From": D(2026, 1, 1), "Allowed": 3.0},
])
CLAIMS = grid(m.CLAIMS, [   # Excel rows 2..8; row 6 is an empty table row
    {"Claim ID": "C1", "Line": 1.0, "Patient ID": "P1", "Payor": "Acme Health", "CPT": 99213.0, "Units": 1.0,
     "Date of Service": D(2026, 3, 2), "Charge": 150.0, "Filed Date": D(2026, 3, 5)},
    {"Claim ID": "C1", "Line": 2.0, "Patient ID": "P1", "Payor": "Acme Health", "CPT": 99213.0, "Units": 2.0,
     "Date of Service": D(2026, 3, 2), "Charge": 300.0, "Filed Date": D(2026, 3, 5)},
    {"Claim ID": "C2", "Line": 1.0, "Patient ID": "P2", "Payor": "Medicare", "CPT": 99213.0, "Units": 1.0,
     "Date of Service": D(2026, 3, 10), "Charge": 150.0, "Filed Date": D(2026, 3, 12)},
    {"Claim ID": "C3", "Line": 1.0, "Patient ID": "P2", "Payor": "Medicare", "CPT": "36415", "Units": 1.0,
     "Date of Service": D(2026, 4, 1), "Charge": 20.0},
    None,
    {"Claim ID": "C4", "Line": 1.0, "Patient ID": "P3", "Payor": "Acme Health", "CPT": 99213.0,
     "Date of Service": D(2026, 2, 15), "Charge": 150.0},
    {"Claim ID": "C5", "Line": 1.0, "Patient ID": "P4", "Payor": "Acme Health", "CPT": 99213.0,
     "Date of Service": D(2026, 1, 10), "Charge": 150.0},
])
PAYMENTS = grid(m.PAYMENTS, [
    {"Claim ID": "C1", "Line": 1.0, "Payor": "Acme Health", "Remit Date": D(2026, 3, 20), "Claim Status": 1.0,
     "CPT": 99213.0, "Charge": 150.0, "Allowed": 100.0, "Paid": 80.0, "Patient Resp": 20.0,
     "Contractual Adj": 50.0},
    {"Claim ID": "C1", "Line": 2.0, "Payor": "Acme Health", "Remit Date": D(2026, 3, 20), "Claim Status": 4.0,
     "CPT": 99213.0, "Charge": 300.0, "Paid": 0.0, "Denied Amount": 300.0, "Group Code": "CO",
     "CARC": 197.0},
    {"Claim ID": "C2", "Line": 1.0, "Payor": "Medicare", "Remit Date": D(2026, 3, 25), "Claim Status": 1.0,
     "CPT": 99213.0, "Charge": 150.0, "Allowed": 80.0, "Paid": 64.0, "Patient Resp": 16.0,
     "Contractual Adj": 70.0},
])
APPEALS = grid(m.APPEALS, [])
SETTINGS = [["Setting", "Value", "What it does"],
            ["Practice Name", "Small Practice", None],
            ["As-of Date", AS_OF, None],
            ["Filing Due Soon Days", 30.0, None],
            ["Appeal Due Soon Days", 14.0, None]]
TABLES = dict(claims=CLAIMS, payments=PAYMENTS, contracts=CONTRACTS, fee_schedule=FEE_SCHEDULE,
              appeals=APPEALS)
ALL = (CLAIMS, PAYMENTS, CONTRACTS, FEE_SCHEDULE, APPEALS)   # in the order the UDFs take them


def small_frames() -> dict:
    """The small practice as typed frames, for building a workbook of it."""
    out = {}
    for table, g in zip((m.CLAIMS, m.PAYMENTS, m.CONTRACTS, m.FEE_SCHEDULE, m.APPEALS), ALL):
        records = [dict(zip(g[0], row)) for row in g[1:] if any(v is not None for v in row)]
        converted = typed_frame(table, records)
        assert not converted.errors, converted.errors
        out[table.name] = converted.frame
    return out


def sheet_values(path: Path, names) -> dict[str, list[list]]:
    """Values of the named sheets as python-calamine reads them (what a user's other
    tools would see)."""
    book = CalamineWorkbook.from_path(str(path))
    try:
        return {n: book.get_sheet_by_name(n).to_python() for n in names if n in book.sheet_names}
    finally:
        book.close()


