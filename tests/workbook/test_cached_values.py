"""recalc brings the kept results of the input tables' calculated cells up to date.

A spreadsheet shows a formula's kept result (``<v>``) as it is on opening: LibreOffice with
its default settings never recalculates an .xlsx on load and ignores ``fullCalcOnLoad``. So
after an import (a new payment changes an existing line's Paid and Balance) or a recalc on
a later day (days left), the Claims sheet showed stale figures there until something was
edited. recalc now rewrites those kept results with the engine's values; the proof is
LibreOffice itself: with recalculation forced on load it computes exactly the values the
file already keeps, and with its default settings (kept values) it shows the new ones.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from payorxl import libreoffice, model as m, pipeline
from payorxl.demo import generate_demo
from payorxl.importer import import_files
from payorxl.workbook.cached import cached_xml, refresh_row
from payorxl.workbook.xlsxpart import sheet_parts

needs_lo = pytest.mark.skipif(libreoffice.soffice() is None,
                              reason="LibreOffice (soffice) is not installed: bash .ci/run installs it")


def table(path, name: str) -> pd.DataFrame:
    book = CalamineWorkbook.from_path(str(path))
    try:
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        book.close()
    frame = pd.DataFrame(grid[1:], columns=grid[0])
    return frame[frame.iloc[:, 0].astype(str).str.strip() != ""]


def same(a, b) -> bool:
    if a in ("", None) or b in ("", None):
        return a in ("", None) and b in ("", None)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    if isinstance(a, (dt.date, dt.datetime)) or isinstance(b, (dt.date, dt.datetime)):
        return pd.Timestamp(a) == pd.Timestamp(b)
    return a == b


def kept_differs_from_recomputed(path, tmp_path) -> list:
    """Every calculated cell whose kept result differs from LibreOffice's forced recalculation."""
    lo = libreoffice.convert(path, tmp_path / "lo", recalculate=True)
    out = []
    for t in (m.CLAIMS, m.PAYMENTS, m.CONTRACTS, m.ADJUSTMENTS):
        kept, recomputed = table(path, t.name), table(lo, t.name)
        assert len(kept) == len(recomputed)
        for c in t.calculated:
            for i, (a, b) in enumerate(zip(kept[c.name], recomputed[c.name])):
                if not same(a, b):
                    out.append((t.name, i + 2, c.name, a, b))
    return out


def era_paying(payer: str, payer_id: str, claim_id: str, line: int, cpt: str, charge: float, paid: float,
               dos: dt.date) -> str:
    isa = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261101*1200*^*00501*"
           "000000042*0*P*:")
    body = [f"BPR*I*{paid:.2f}*C*ACH************20261101", "TRN*1*EFT7001*1999999999", "DTM*405*20261031",
            f"N1*PR*{payer}*XV*{payer_id}", "N1*PE*RIVERSIDE*XX*1234567893", "LX*1",
            f"CLP*{claim_id}*1*{charge:.2f}*{paid:.2f}**12*PCLM9",
            f"SVC*HC:{cpt}*{charge:.2f}*{paid:.2f}**1", f"DTM*472*{dos:%Y%m%d}", f"REF*6R*{line}",
            f"CAS*CO*45*{charge - paid:.2f}"]
    segments = [isa, "GS*HP*SENDER*RECEIVER*20261101*1200*7*X*005010X221A1", "ST*835*0001", *body,
                f"SE*{len(body) + 2}*0001", "GE*1*7", "IEA*1*000000042"]
    return "~\n".join(segments) + "~\n"


@needs_lo
@pytest.mark.slow
def test_after_an_import_and_a_recalc_the_kept_results_are_what_libreoffice_computes(tmp_path):
    d = generate_demo(claims=40)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, d.frames(), {**d.settings, "as_of": None}, as_of="2026-10-31")
    lines = pipeline.load(path, as_of="2026-10-31").lines
    unpaid = lines[(lines["paid"] == 0) & lines["filed_date"].notna() & ~lines["adjudicated"]].iloc[0]
    charge = int(unpaid["charge"]) / 100
    era = tmp_path / "era.835"
    payer_id = d.frames()["Contracts"].set_index("payor").at[unpaid["payor"], "payor_id"]
    era.write_text(era_paying(unpaid["payor"], payer_id, unpaid["claim_id"], int(unpaid["line"]), unpaid["cpt"],
                              charge, round(charge * 0.6, 2), unpaid["dos"].date()))
    import_files(path, [era])
    row = int(unpaid["_row"]) - 2
    assert table(path, "Claims")["Paid"].iloc[row] in (0, 0.0, "", None)    # kept from before the import

    summary = pipeline.recalc(path, as_of="2026-10-31")
    with zipfile.ZipFile(path) as z:
        assert sheet_parts(z)["Claims"] in summary.changed_parts
    assert table(path, "Claims")["Paid"].iloc[row] == round(charge * 0.6, 2)
    assert kept_differs_from_recomputed(path, tmp_path)[:10] == []
    # LibreOffice as a user has it (kept results, no recalculation) shows the payment
    shown = table(libreoffice.convert(path, tmp_path / "shown", recalculate=False), "Claims")
    assert shown["Paid"].iloc[row] == round(charge * 0.6, 2)


@needs_lo
@pytest.mark.slow
def test_a_recalc_on_a_later_day_keeps_that_days_results(tmp_path):
    d = generate_demo(claims=40)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, d.frames(), {**d.settings, "as_of": None}, as_of="2026-10-31")
    days = table(path, "Claims")["Filing Days Left"].tolist()
    pipeline.recalc(path, as_of="2026-11-01")
    later = table(path, "Claims")["Filing Days Left"].tolist()
    moved = [(a, b) for a, b in zip(days, later) if isinstance(a, float)]
    assert moved and all(a - b == 1 for a, b in moved)
    assert kept_differs_from_recomputed(path, tmp_path)[:10] == []


def test_only_the_kept_results_of_calculated_cells_change(tmp_path):
    """Everything in the Claims sheet but the t and <v> of the calculated cells is kept byte
    for byte; a recalc on the same day rewrites no input sheet at all."""
    d = generate_demo(claims=40)
    path = tmp_path / "practice.xlsx"
    pipeline.new_workbook(path, d.frames(), {**d.settings, "as_of": None}, as_of="2026-10-31")
    with zipfile.ZipFile(path) as z:
        part = sheet_parts(z)["Claims"]
        before = z.read(part).decode()
    assert pipeline.recalc(path, as_of="2026-10-31").changed_parts == []    # nothing stale: nothing rewritten
    pipeline.recalc(path, as_of="2026-11-01")
    with zipfile.ZipFile(path) as z:
        after = z.read(part).decode()
    assert after != before

    def without_results(xml: str) -> str:
        return re.sub(r'(<c\b[^>]*?)\s+t="[^"]*"([^>]*>)(<f)', r"\1\2\3", re.sub(r"(</f>|<f\b[^>]*/>)<v>[^<]*</v>",
                                                                             r"\1", xml))
    assert without_results(after) == without_results(before)


def test_refresh_row_replaces_only_a_formulas_kept_result():
    row = ('<row r="5"><c r="A5" t="inlineStr"><is><t>C1</t></is></c>'
           '<c r="B5" s="3" t="str"><f>Claims[[#This Row],[Paid]]</f><v>Open</v></c>'
           '<c r="C5" s="3"><f t="shared" si="0"/><v>12</v></c>'
           '<c r="D5" s="3"><v>7</v></c>'                      # a calculated cell the user overwrote
           '<c r="E5" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>')
    values = {1: ("str", "Missed"), 2: (None, "13.5"), 3: (None, "99"), 4: ("b", "1")}
    out, n = refresh_row(row, values)
    assert n == 3
    assert '<c r="B5" s="3" t="str"><f>Claims[[#This Row],[Paid]]</f><v>Missed</v></c>' in out
    assert '<c r="C5" s="3"><f t="shared" si="0"/><v>13.5</v></c>' in out
    assert '<c r="D5" s="3"><v>7</v></c>' in out                # not a formula: left as it is
    assert '<c r="E5" t="b"><f>1/0</f><v>1</v></c>' in out
    assert out.startswith('<row r="5"><c r="A5" t="inlineStr"><is><t>C1</t></is></c>')


def test_cached_xml_writes_values_as_the_template_does():
    assert cached_xml(12345, m.MONEY) == (None, "123.45")
    assert cached_xml(pd.NA, m.MONEY) == ("str", "")
    assert cached_xml("", m.TEXT) == ("str", "")
    assert cached_xml("Due soon", m.TEXT) == ("str", "Due soon")
    assert cached_xml("<A&B>", m.TEXT) == ("str", "&lt;A&amp;B&gt;")
    assert cached_xml(pd.Timestamp("2026-11-01"), m.DATE) == (None, "46327")
    assert cached_xml(-3, m.INT) == (None, "-3")
    assert cached_xml(True, m.BOOL) == ("b", "1")
