"""The cached values of the input tables' calculated columns, brought up to date.

Claims, Payments, Contracts and Adjustments have calculated columns: native formulas
whose last results the file keeps beside them (``<v>``). A spreadsheet shows those kept
results as they are on opening — LibreOffice with its default settings always does, and
ignores ``fullCalcOnLoad`` — so after an import (new payments change existing lines' Paid
and Balance) or a recalculation on a later day (days left, statuses), the kept results
are stale until something makes the spreadsheet recalculate them.

`refreshed_sheet` streams one sheet and gives it back with each calculated cell's kept
result replaced by the engine's value for that row (what the formula computes: the
LibreOffice differential test holds the two equal), written as the template writes it
(`cached_xml`). Only the ``t`` attribute and the ``<v>`` of cells that hold a formula in a
calculated column change; every other byte of the sheet is kept, including rows the
engine left out (a row with an error keeps its old result), the user's own cells and any
calculated cell the user overwrote with a value.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from .. import model as m
from ..codec import datetime_to_serial, to_excel
from .append import _CELL, _REF, Target, _encoded, _sheet_events, col_index
from .xlsxpart import clean_text


def cached_xml(value: Any, kind: str) -> tuple[str | None, str]:
    """(the cell's ``t`` attribute or None, the text of its ``<v>``) for an engine value of
    a calculated column, as template.py caches it through xlsxwriter: no value (or "") is
    an empty text result, a flag a boolean, a date its serial number."""
    v = None if isinstance(value, str) and value == "" else to_excel(value, kind)
    if isinstance(v, dt.datetime):
        v = datetime_to_serial(v)
    if v is None:
        return "str", ""
    if isinstance(v, bool):
        return "b", str(int(v))
    if isinstance(v, int):
        return None, str(v)
    if isinstance(v, float):
        return None, str(int(v)) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)
    return "str", escape(clean_text(v))


def row_values(table: m.Table, frame: pd.DataFrame, target: Target) -> dict[int, dict[int, tuple]]:
    """Excel row -> {column index: cached_xml} of the calculated columns found in the
    workbook's table (`target`), from the engine's frame of them (with ``_row``)."""
    if frame is None or "_row" not in frame or not len(frame):
        return {}
    where = {name.lower(): target.first_col + j for j, name in enumerate(target.columns)}
    columns = [(where[c.name.lower()], c) for c in table.calculated if c.name.lower() in where and c.key in frame]
    out: dict[int, dict[int, tuple]] = {}
    rows = frame["_row"].to_numpy()
    for col, c in columns:
        for r, v in zip(rows, frame[c.key].tolist()):
            out.setdefault(int(r), {})[col] = cached_xml(v, c.kind)
    return out


_T_ATTR = re.compile(r'\s+t="[^"]*"')
_VALUE = re.compile(r"<v>[^<]*</v>|<v/>")
_FORMULA_END = re.compile(r"</f>|<f\b[^>]*/>")


def _with_value(cell_xml: str, attrs: str, inner: str, t: str | None, v: str) -> str:
    """A formula cell's XML with its kept result replaced (its formula and other
    attributes as they were)."""
    attrs = _T_ATTR.sub("", attrs) + (f' t="{t}"' if t else "")
    inner = _VALUE.sub("", inner)
    end = _FORMULA_END.search(inner)
    inner = inner[:end.end()] + f"<v>{v}</v>" + inner[end.end():]
    return f"<c{attrs}>{inner}</c>"


def refresh_row(xml: str, values: Mapping[int, tuple]) -> tuple[str, int]:
    """A row's XML with the kept results of the cells in `values` (column index ->
    cached_xml) replaced where the cell holds a formula; and how many were replaced."""
    done = 0
    out, last = [], 0
    for found in _CELL.finditer(xml):
        inner = found.group(2)
        if inner is None or "<f" not in inner:
            continue
        ref = re.search(r'\br="([^"]*)"', found.group(1))
        cell = _REF.match(ref.group(1)) if ref else None
        if cell is None or col_index(cell.group(1)) not in values:
            continue
        t, v = values[col_index(cell.group(1))]
        out += [xml[last:found.start()], _with_value(found.group(0), found.group(1), inner, t, v)]
        last = found.end()
        done += 1
    if not done:
        return xml, 0
    out.append(xml[last:])
    return "".join(out), done


def refreshed_sheet(source: Callable[[], Iterator[str]], values: Mapping[int, Mapping[int, tuple]],
                    counts: dict | None = None) -> Callable[[], Iterable[bytes]]:
    """A producer of the sheet (`source`: its XML in pieces) with the kept results of the
    calculated cells in `values` (Excel row -> column index -> cached_xml) replaced;
    `counts["cells"]` gets how many were, once the sheet has been written."""
    def produce() -> Iterator[bytes]:
        def pieces() -> Iterator[str]:
            n = 0
            for kind, item in _sheet_events(source()):
                if kind == "row":
                    wanted = values.get(item.number)
                    if wanted:
                        text, done = refresh_row(item.xml, wanted)
                        n += done
                        yield text
                        continue
                    yield item.xml
                else:
                    yield item
            if counts is not None:
                counts["cells"] = n
        return _encoded(pieces())
    return produce
