"""The native formulas as text: what can be checked without a spreadsheet engine, in the
fast lane (LibreOffice computes them in tests/workbook/test_native_formulas.py)."""
import re

from payorxl.workbook.formulas import table_formulas

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
