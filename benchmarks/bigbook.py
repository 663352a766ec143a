"""A streaming writer for benchmark workbooks too large for xlsxwriter's in-memory mode.

``pipeline.new_workbook`` keeps every cell in memory until the file is closed (about
3 GB at 100k claim lines, so about 30 GB at 1M) and template.py cannot use xlsxwriter's
``constant_memory`` mode, which refuses ``add_table``. For the 1M-line benchmark this
module writes the same workbook another way:

1. ``new_workbook`` builds the template with the real Contracts and FeeSchedule and
   the first row of Claims, Payments and Appeals (its cells give each column's style and
   formula);
2. the rows of those three tables are streamed into their ``<sheetData>``, a chunk at a
   time, straight into a ZIP64-enabled zip member: the input cells with the styles of the
   template's first row, the calculated columns with the template's formula text and the
   engine's value cached — the cells xlsxwriter would write, except that text is written
   as inline strings (``t="inlineStr"``, as xlsxwriter's constant_memory mode does)
   instead of shared strings;
3. the tables' ``ref`` and the sheets' ``<dimension>`` are widened to the new last row,
   and the owned sheets are filled by ``xlsxpart.write_owned_sheets`` (what
   ``new_workbook`` does after building).

Peak memory is the engine's (the frames and results of n lines), not the cells'.
This is benchmark code: it reads payorxl internals (template row styles, the
calculated-column cache) that may change.
"""
from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from payorxl import model as m, pipeline
from payorxl.workbook.read import Inputs, convert_settings, settings_from_values
from payorxl.workbook.xlsxpart import col_letter, sheet_parts

BIG = ("Claims", "Payments", "Appeals")
EPOCH = np.datetime64("1899-12-30", "D")
_CELL = re.compile(r'<c r="([A-Z]+)2"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _num(x: float) -> str:
    return f"{x:.16G}"


def _input_cells(values: pd.Series, kind: str, letter: str, style: str, rows: range) -> list[str]:
    """Cell XML for one input column, as xlsxwriter writes write_number/_datetime/_string/_blank."""
    s = f' s="{style}"' if style else ""
    out = []
    if kind in (m.MONEY, m.INT, m.PERCENT, m.NUMBER):
        arr = values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        if kind == m.MONEY:
            arr = arr / 100
        for r, v in zip(rows, arr):
            out.append(f'<c r="{letter}{r}"{s}/>' if v != v else f'<c r="{letter}{r}"{s}><v>{_num(v)}</v></c>')
    elif kind == m.DATE:
        d = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        nat = np.isnat(d)
        days = (d - EPOCH).astype("int64")
        for r, v, blank in zip(rows, days, nat):
            out.append(f'<c r="{letter}{r}"{s}/>' if blank else f'<c r="{letter}{r}"{s}><v>{v}</v></c>')
    else:
        for r, v in zip(rows, values.tolist()):
            if v is None or v is pd.NA or v == "" or (isinstance(v, float) and v != v):
                out.append(f'<c r="{letter}{r}"{s}/>')
            else:
                text = escape(str(v))
                pre = ' xml:space="preserve"' if text != text.strip() else ""
                out.append(f'<c r="{letter}{r}"{s} t="inlineStr"><is><t{pre}>{text}</t></is></c>')
    return out


def _calc_cells(values: pd.Series, kind: str, letter: str, style: str, formula: str | None,
                rows: range) -> list[str]:
    """Formula cells with the cached value, as template.py + xlsxwriter write them
    (formula None: the value alone, for measuring what the formula text costs a reader)."""
    s = f' s="{style}"' if style else ""
    f = f"<f>{formula}</f>" if formula is not None else ""
    out = []
    if kind == m.DATE:
        d = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        nat = np.isnat(d)
        days = (d - EPOCH).astype("int64")
        for r, v, blank in zip(rows, days, nat):
            out.append(f'<c r="{letter}{r}"{s}>{f}<v></v></c>' if blank else f'<c r="{letter}{r}"{s}>{f}<v>{v}</v></c>')
        return out
    for r, v in zip(rows, values.tolist()):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            out.append(f'<c r="{letter}{r}"{s}>{f}<v></v></c>')
        elif kind == m.MONEY:
            out.append(f'<c r="{letter}{r}"{s}>{f}<v>{int(v) / 100}</v></c>')
        elif kind == m.INT:
            out.append(f'<c r="{letter}{r}"{s}>{f}<v>{int(v)}</v></c>')
        elif kind in (m.PERCENT, m.NUMBER):
            out.append(f'<c r="{letter}{r}"{s}>{f}<v>{float(v)}</v></c>')
        elif isinstance(v, bool):
            out.append(f'<c r="{letter}{r}"{s} t="b">{f}<v>{int(v)}</v></c>')
        else:
            v = str(v)
            t = ' t="str"' if v else ""
            out.append(f'<c r="{letter}{r}"{s}{t}>{f}<v>{escape(v)}</v></c>')
    return out


def _template_row(sheet_xml: str) -> dict[str, tuple[str, str | None]]:
    """Column letter -> (style index, escaped formula or None) from the template's row 2."""
    start = sheet_xml.index('<row r="2"')
    end = sheet_xml.index("</row>", start)
    out = {}
    for letter, attrs, inner in _CELL.findall(sheet_xml[start:end]):
        style = re.search(r's="(\d+)"', attrs)
        formula = re.search(r"<f>(.*?)</f>", inner or "", re.S)
        out[letter] = (style.group(1) if style else "", formula.group(1) if formula else None)
    return out


def _stream_sheet(zout: zipfile.ZipFile, info: zipfile.ZipInfo, xml: str, table: m.Table,
                  frame: pd.DataFrame, calc: pd.DataFrame | None, chunk: int, formulas: bool = True) -> None:
    n = len(frame)
    ncols = len(table.columns) + len(table.calculated)
    last = col_letter(ncols - 1)
    spec = _template_row(xml)
    head = xml[:xml.index('<row r="2"')]
    tail = xml[xml.index("</sheetData>"):]
    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}{n + 1}"/>', head, count=1)
    columns = [(c, col_letter(j)) for j, c in enumerate(table.columns)]
    calculated = [(c, col_letter(len(table.columns) + j)) for j, c in enumerate(table.calculated)]
    out_info = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out_info.compress_type = zipfile.ZIP_DEFLATED
    with zout.open(out_info, "w", force_zip64=True) as f:
        f.write(head.encode("utf-8"))
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            rows = range(lo + 2, hi + 2)
            cols = [_input_cells(frame[c.key].iloc[lo:hi], c.kind, L, spec.get(L, ("", None))[0], rows)
                    for c, L in columns]
            cols += [_calc_cells(calc[c.key].iloc[lo:hi], c.kind, L, spec[L][0], spec[L][1] if formulas else None, rows)
                     for c, L in calculated]
            parts = []
            for i, r in enumerate(rows):
                parts.append(f'<row r="{r}" spans="1:{ncols}">')
                parts.extend(col[i] for col in cols)
                parts.append("</row>")
            f.write("".join(parts).encode("utf-8"))
        f.write(tail.encode("utf-8"))


def write_streamed(n: int, path: Path, settings_raw: dict, seed: int = 7, chunk: int = 20_000,
                   formulas: bool = True) -> dict:
    """Write the n-line benchmark workbook at `path` by streaming; returns timings.
    formulas=False writes the calculated columns' values without their formulas (not a
    payorxl workbook: only to measure what the formula text costs the readers)."""
    from payorxl.demo import generate_large
    from payorxl.workbook.sheets import STYLES, owned_sheets
    from payorxl.workbook.xlsxpart import write_owned_sheets

    t0 = time.perf_counter()
    frames = generate_large(n, seed)
    t1 = time.perf_counter()
    values, _ = convert_settings(settings_raw)
    results = pipeline.evaluate(Inputs(frames, settings_from_values(values)))
    calc = pipeline._calculated_for_cache(results)
    t2 = time.perf_counter()
    template = path.with_name(path.stem + ".template.xlsx")
    # one real row per large table, so that row 2 of the template carries every cell's style
    small = {name: frames[name] if name not in BIG else frames[name].head(1) for name in frames}
    pipeline.new_workbook(template, small, settings_raw, overwrite=True)
    tmp = path.with_name(path.stem + ".partial.xlsx")
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
        parts = sheet_parts(zin)
        big = {parts[name]: name for name in BIG}
        tables = {}
        for info in zin.infolist():
            if info.filename.startswith("xl/tables/"):
                name = re.search(r'\bname="([^"]+)"', zin.read(info).decode()).group(1)
                tables[info.filename] = name
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in big:
                name = big[info.filename]
                _stream_sheet(zout, info, data.decode("utf-8"), m.TABLES[name], frames[name],
                              calc.get(name), chunk, formulas)
            elif tables.get(info.filename) in BIG:
                name = tables[info.filename]
                table = m.TABLES[name]
                last = col_letter(len(table.columns) + len(table.calculated) - 1)
                ref = f"A1:{last}{max(len(frames[name]), 1) + 1}"
                xml = re.sub(r'(<table\b[^>]*?\sref=")[^"]*"', rf'\g<1>{ref}"', data.decode("utf-8"), count=1)
                xml = re.sub(r'(<autoFilter ref=")[^"]*"', rf'\g<1>{ref}"', xml, count=1)
                zout.writestr(info, xml.encode("utf-8"), compress_type=info.compress_type)
            else:
                zout.writestr(info, data, compress_type=info.compress_type)
    template.unlink()
    t3 = time.perf_counter()
    owned = "filled"
    try:
        write_owned_sheets(tmp, owned_sheets(results), STYLES, tmp)
    except Exception as e:  # the owned-sheet writer is being changed by others; recalc fills them anyway
        owned = f"not filled ({type(e).__name__}: {e})"
    tmp.replace(path)
    t4 = time.perf_counter()
    return {"payments": len(frames["Payments"]), "appeals": len(frames["Appeals"]),
            "fee_rows": len(frames["FeeSchedule"]), "contracts": len(frames["Contracts"]),
            "generate_s": round(t1 - t0, 2), "engine_s": round(t2 - t1, 2), "stream_s": round(t3 - t2, 2),
            "owned_s": round(t4 - t3, 2), "write_s": round(t4 - t1, 2), "owned_sheets": owned,
            "worklist": len(results.worklist)}
