"""The live summaries' partial sums on the Index (workbook/blocks.py): each block cell's
cached value is its rows counted by hand, and the figures built from them add up to the
engine's. (LibreOffice recomputes them in tests/workbook/test_live_figures.py.)"""
from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest

from payorxl import demo, model as m, pipeline
from payorxl.codec import datetime_to_serial
from payorxl.workbook import blocks
from payorxl.workbook.read import read_inputs
from payorxl.workbook.xlsxpart import Formula

RANGE = re.compile(r"Claims!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)")


def _args(text: str) -> list[str]:
    """The arguments of the first COUNTIFS/SUMIFS call in `text`, split on commas outside
    quotes and brackets."""
    opened = text.index("(", text.index("IFS(")) + 1
    out, depth, quoted, start = [], 0, False, opened
    for i in range(opened, len(text)):
        ch = text[i]
        quoted ^= ch == '"'
        if quoted:
            continue
        if ch == "(":
            depth += 1
        elif ch == ")" and depth == 0:
            return out + [text[start:i]]
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    raise AssertionError(text)


def _matches(cell, criterion: str, as_of: float, days: float) -> bool:
    """COUNTIFS' reading of one criterion, written out cell by cell (a date is its serial)."""
    if isinstance(cell, dt.datetime):
        cell = float(datetime_to_serial(cell))
    if criterion == "TRUE":
        return cell is True
    if criterion.startswith('">"&(px_AsOf-'):
        return isinstance(cell, (int, float)) and not isinstance(cell, bool) and cell > as_of - days
    if criterion == '"<="&px_AsOf':
        return isinstance(cell, (int, float)) and not isinstance(cell, bool) and cell <= as_of
    literal = criterion[1:-1].replace('""', '"')
    op = re.match(r"(>=|<=|>|<|=)?", literal).group(1) or "="
    operand = literal[len(op):] if literal.startswith(op) else literal
    if op == "=":
        operand = re.sub(r"~(.)", r"\1", operand)
        return isinstance(cell, str) and cell.lower() == operand.lower()
    if not isinstance(cell, (int, float)) or isinstance(cell, bool):
        return False
    return {">": cell > float(operand), ">=": cell >= float(operand),
            "<": cell < float(operand), "<=": cell <= float(operand)}[op]


BLOCK_ROWS = 23      # ~7 blocks of the 150 lines, and the tail


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "BLOCK_ROWS", BLOCK_ROWS)
        path = tmp_path_factory.mktemp("blocks") / "practice.xlsx"
        pipeline.new_workbook(path, demo.generate_large(150), as_of=demo.DEFAULT_AS_OF)
    return path


def test_each_block_cell_is_its_rows_counted_by_hand(book):
    formulas = openpyxl.load_workbook(book)
    values = openpyxl.load_workbook(book, data_only=True)
    claims = list(values["Claims"].iter_rows(values_only=True))
    index = [list(r) for r in formulas["Index"].iter_rows(min_col=blocks.FIRST_COLUMN + 1, values_only=True)]
    cached = [list(r) for r in values["Index"].iter_rows(min_col=blocks.FIRST_COLUMN + 1, values_only=True)]
    as_of = float(datetime_to_serial(dt.datetime.combine(demo.DEFAULT_AS_OF, dt.time())))
    days = float(read_inputs(book).settings.ar_period_days)
    letters = {openpyxl.utils.get_column_letter(i + 1): i for i in range(len(claims[0]))}
    checked = set()
    for column in range(len(index[0])):
        for row in range(1, len(index)):
            text = index[row][column]
            if not (isinstance(text, str) and text.startswith("=IFERROR(")):
                continue
            call = text[len("=IFERROR("):text.index(",IF(ERROR.TYPE(")]
            assert text == f"=IFERROR({call},IF(ERROR.TYPE({call})=4,0,{call}))"     # only #REF! is 0
            args = _args(call)
            total = args.pop(0) if call.startswith("SUMIFS(") else None
            ranges = [RANGE.fullmatch(a).groups() for a in args[::2]]
            first, last = int(ranges[0][1]), min(int(ranges[0][2]), len(claims))
            got = 0
            for r in range(first, last + 1):
                cells = claims[r - 1]
                if all(_matches(cells[letters[letter]], crit, as_of, days)
                       for (letter, _, _), crit in zip(ranges, args[1::2])):
                    if total is None:
                        got += 1
                    else:
                        amount = cells[letters[RANGE.fullmatch(total).group(1)]]
                        got += amount if isinstance(amount, (int, float)) and not isinstance(amount, bool) else 0
            assert cached[row][column] == pytest.approx(got, abs=0.005), text
            checked.add((column, first > 2, int(ranges[0][2]) == blocks.SHEET_END))
    assert len({c for c, _, _ in checked}) > 100                    # terms
    firsts = [row[column] for column in range(len(index[0])) for row in index[1:2] if row[column]]
    assert len(firsts) == len(set(firsts))          # one column per term, wherever its figures show
    assert {(True, True), (False, False), (True, False)} <= {(a, b) for _, a, b in checked}   # first, inner, tail


def test_the_figures_add_up_their_blocks_to_the_engines(book, monkeypatch):
    """A figure that is a sum of terms (an aging bucket, A/R, a count of missed deadlines)
    cached as the engine computed it equals the sum of its blocks' cached values."""
    monkeypatch.setattr(blocks, "BLOCK_ROWS", BLOCK_ROWS)
    values = openpyxl.load_workbook(book, data_only=True)
    layout = pipeline.lay_out(pipeline.load(book, demo.DEFAULT_AS_OF), read_inputs(book).frames)
    index = values["Index"]

    def total(found: re.Match) -> str:
        column = openpyxl.utils.column_index_from_string(found.group(1))
        return repr(sum(index.cell(r, column).value or 0 for r in range(2, int(found.group(2)) + 1)))

    summed = 0
    for sheet in ("Dashboard", "Scorecard", "Aging"):
        for c in layout[sheet]:
            if isinstance(c.value, Formula) and "SUM(Index!" in c.value.text:
                arithmetic = re.sub(r"SUM\(Index!\$([A-Z]+)\$2:\$[A-Z]+\$(\d+)\)", total, c.value.text)
                if re.fullmatch(r"[0-9.+\-() e]+", arithmetic):
                    assert eval(arithmetic) == pytest.approx(c.value.cached or 0, abs=0.01), (sheet, c)
                    summed += 1
                assert c.value.whole and "Index!" not in c.value.whole and "Claims[" in c.value.whole
    assert summed > 100


def test_a_workbook_without_payorxls_index_gets_whole_column_figures(book):
    """A workbook made before the Index (or whose Index is the user's own sheet) gets no
    partial sums: its live figures read whole Claims columns, as they did."""
    layout = pipeline.without_index(pipeline.lay_out(pipeline.load(book, demo.DEFAULT_AS_OF), read_inputs(book).frames))
    live = [c.value for s in ("Dashboard", "Scorecard", "Aging") for c in layout[s] if isinstance(c.value, Formula)]
    assert len(live) > 100 and not any("Index!" in f.text for f in live)
    assert sum("Claims[" in f.text for f in live) > 100


def test_past_the_sheets_last_column_a_term_reads_whole_columns(monkeypatch):
    """Hundreds of payors would need more Index columns than a sheet has: the terms past the
    last column read whole columns (right, and O(lines) per edit)."""
    monkeypatch.setattr(blocks, "MAX_TERMS", 2)
    b = blocks.Blocks(blocks.np.arange(2, 12), 11, {"Role": "T", "Balance": "AT", "Charge": "L"},
                      read_settings())
    with b.active():
        first = blocks.term("COUNTIFS", None, blocks.crit("Role", "Line"))
        second = blocks.term("SUMIFS", "Charge", blocks.crit("Role", "Line"))
        again = blocks.term("COUNTIFS", None, blocks.crit("Role", "Line"))
        third = blocks.term("SUMIFS", "Balance", blocks.number_crit("Balance", ">", 0))
    assert first == again and first.startswith("SUM(Index!") and second.startswith("SUM(Index!")
    assert third == 'SUMIFS(Claims[Balance],Claims[Balance],">0")'


def read_settings():
    return demo.demo_settings()


@pytest.mark.parametrize("name", ["Blue\x0bCross", "", "A" * 260])
def test_a_payor_name_no_literal_can_hold_keeps_whole_columns(name):
    """A name with a character XML forbids (a line break pasted from Word), a blank one or
    one past Excel's 255 characters of formula text: that payor's figures read whole
    columns (its cell, as before), never a broken or wrong literal."""
    from payorxl.workbook import sheets

    b = blocks.Blocks(blocks.np.arange(2, 12), 11, {h: "A" for h in m.CLAIMS.headers}, read_settings())
    with b.active():
        figures = sheets._by_payor("$A5", name)
        fine = sheets._by_payor("$A6", "Acme")
    assert all("Index!" not in f for f in figures.values()) and "Claims[Payor]" in figures["lines"]
    assert fine["lines"].startswith("SUM(Index!")


def test_a_claim_id_with_a_control_character_leaves_a_readable_workbook(tmp_path):
    """A claim ID with a pasted line break (\\x0b, which XML forbids) goes into the Index's
    formulas without it: the sheet stays well-formed (it was unreadable)."""
    frames = demo.generate_large(30)
    frames["Claims"].loc[0, "claim_id"] = "CLM\x0b001"
    path = tmp_path / "ctrl.xlsx"
    pipeline.new_workbook(path, frames, as_of=demo.DEFAULT_AS_OF)
    index = openpyxl.load_workbook(path)["Index"]
    assert index.max_row > 30 and index["C1"].value.startswith("=")
