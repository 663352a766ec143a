"""The native formulas as text: what can be checked without a spreadsheet engine, in the
fast lane (LibreOffice computes them in tests/workbook/test_native_formulas.py)."""
import html
import re
import zipfile
from pathlib import Path

from payorxl.workbook.formulas import col, table_formulas

TEMPLATE = Path(__file__).resolve().parents[2] / "workbook" / "payorxl-template.xlsm"

EXCEL_FORMULA_LIMIT = 8192          # characters, Excel's limit for one formula


def _without_strings(formula: str) -> str:
    return re.sub(r'"[^"]*"', '""', formula)


def test_every_formula_has_balanced_parentheses_and_fits_excel():
    for table, formulas in table_formulas().items():
        for key, formula in formulas.items():
            depth = 0
            for ch in _without_strings(formula):
                depth += (ch == "(") - (ch == ")")
                assert depth >= 0, f"{table}.{key}: a ')' closes nothing"
            assert depth == 0, f"{table}.{key}: {depth} '(' left open"
            assert len(formula) < EXCEL_FORMULA_LIMIT, f"{table}.{key}: {len(formula)} characters"


# A structured reference: a table name, then its bracketed specifier (' escapes the next character).
_TABLE_REF = re.compile(r"\b([A-Za-z_][\w.]*)\[")


def structured_references(formula: str) -> list[tuple[str, str]]:
    """(table, what is written between the table's own brackets) of every structured
    reference in `formula`: ``Claims[Paid]`` gives ("Claims", "Paid"),
    ``Claims[[#This Row],[Paid]]`` ("Claims", "[#This Row],[Paid]")."""
    text, out = _without_strings(formula), []
    for found in _TABLE_REF.finditer(text):
        i, depth = found.end() - 1, 0
        while i < len(text):
            if text[i] == "'":
                i += 2
                continue
            depth += {"[": 1, "]": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        out.append((found.group(1), text[found.end():i]))
    return out


def _live_formulas() -> list[str]:
    from payorxl.workbook import sheets
    out = [*sheets._by_payor("$A5").values(), *sheets._by_payor(None).values(), *sheets._live_kpis().values()]
    for deadline in ("Timely filing", "Appeal", "Resubmission", "Prompt pay", "Contract notice"):
        for key in ("missed", "missed_amount", "due_soon", "due_soon_amount"):
            out.append(sheets._live_deadline(key, deadline) or "")
    return out


def _template_formulas() -> list[str]:
    with zipfile.ZipFile(TEMPLATE) as z:
        return [html.unescape(f) for n in z.namelist() if n.startswith(("xl/worksheets/sheet", "xl/tables/table"))
                for f in re.findall(r"<(?:f|calculatedColumnFormula)\b[^>]*>([^<]*)<", z.read(n).decode("utf-8"))]


def test_a_column_name_with_special_characters_is_referenced_in_double_brackets():
    """Excel reads a whole-column reference whose name has a character other than letters,
    digits and spaces (Follow-up, % of Medicare) only as Table[[Name]] (Microsoft, "Using
    structured references with Excel tables": special characters need the column specifier
    in brackets); LibreOffice reads both forms."""
    assert col("Claims", "Follow-up") == "Claims[[Follow-up]]"
    assert col("Contracts", "% of Medicare") == "Contracts[[% of Medicare]]"
    assert col("Claims", "Date of Service") == "Claims[Date of Service]"
    assert col("T", "a'b#[c]") == "T[[a''b'#'[c']]]"
    formulas = [f for fs in table_formulas().values() for f in fs.values()] + _live_formulas()
    formulas += _template_formulas()
    single = [(table, inner) for f in formulas for table, inner in structured_references(f)
              if not inner.startswith("[") and not re.fullmatch(r"[A-Za-z0-9 ]+", inner)]
    assert single == []
    found = {(t, inner) for f in formulas for t, inner in structured_references(f)}
    assert {("Contracts", "[% of Medicare]"), ("Claims", "[Follow-up]"), ("PaymentRules", "[NPP %]")} <= found
