"""The native formulas as text: what can be checked without a spreadsheet engine, in the
fast lane (LibreOffice computes them in tests/workbook/test_native_formulas.py)."""
import html
import re
import zipfile
from pathlib import Path

from payorxl import model as m
from payorxl.workbook.formulas import (
    _named,
    col,
    formula_name,
    index_names,
    row_name,
    settings_names,
    table_formulas,
    table_names,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "workbook" / "payorxl-template.xlsm"

EXCEL_FORMULA_LIMIT = 8192          # characters, Excel's limit for one formula
# the names defined besides table_names(): the settings (px_AsOf...) and the Index's
SHEET_NAMES = set(settings_names()) | set(index_names())


def _without_strings(formula: str) -> str:
    return re.sub(r'"[^"]*"', '""', formula)


def test_every_formula_has_balanced_parentheses_and_fits_excel():
    """The calculated columns' formulas and every defined name they read (a column's whole
    formula is one: formula_name)."""
    texts = {f"{table}.{key}": formula for table, formulas in table_formulas().items()
             for key, formula in formulas.items()}
    texts.update(table_names())
    for where, formula in texts.items():
        depth = 0
        for ch in _without_strings(formula):
            depth += (ch == "(") - (ch == ")")
            assert depth >= 0, f"{where}: a ')' closes nothing"
        assert depth == 0, f"{where}: {depth} '(' left open"
        assert len(formula) < EXCEL_FORMULA_LIMIT, f"{where}: {len(formula)} characters"


def test_a_calculated_column_reads_its_formula_by_name():
    """Each calculated column's cells hold one defined name, px_f_<Table>_<Column>, which
    holds the column's formula (LibreOffice parses every cell's text on opening): the
    name is defined, and its formula reads only defined names."""
    names = table_names()
    for table, formulas in table_formulas().items():
        for key, formula in formulas.items():
            header = next(c.name for c in m.TABLES[table].calculated if c.key == key)
            name = formula_name(table, header)
            assert name == "px_f_" + table + "_" + re.sub(r"\W", "", header)
            # (behind a TEXT never evaluated: it keeps LibreOffice from calculating the column in threads)
            assert formula == f'IF(FALSE(),TEXT(0,"0"),{name})'
            assert structured_references(names[name]) == []
            assert set(re.findall(r"\bpx_\w+", _without_strings(names[name]))) <= set(names) | SHEET_NAMES
    assert len(table_formulas()["Claims"]) == len(m.CLAIMS.calculated)


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
    """Every formula of the template: cells, calculated columns and defined names."""
    with zipfile.ZipFile(TEMPLATE) as z:
        parts = [n for n in z.namelist() if n.startswith(("xl/worksheets/sheet", "xl/tables/table"))]
        return ([html.unescape(f) for n in parts for f in re.findall(
                    r"<(?:f|calculatedColumnFormula)\b[^>]*>([^<]*)<", z.read(n).decode("utf-8"))]
                + list(_template_names().values()))


def _template_names() -> dict[str, str]:
    with zipfile.ZipFile(TEMPLATE) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
    return {name: html.unescape(ref) for name, ref in
            re.findall(r'<definedName\b[^>]*\bname="([^"]+)"[^>]*>([^<]*)<', book)}


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


def test_a_structured_reference_is_written_as_its_defined_name():
    """The calculated columns read other cells through defined names (formulas.py: what
    LibreOffice keeps per cell), each the structured reference it replaces or, for a cell
    of the same row, that column's cell relative to the row."""
    names: dict[str, str] = {}
    assert _named("IF(Claims[[#This Row],[Units]]=\"\",1,Claims[[#This Row],[Units]])", names) == \
        'IF(px_Claims_Units="",1,px_Claims_Units)'
    assert _named("INDEX(Contracts[[% of Medicare]],MATCH(x,Contracts[Payor],0))", names) == \
        "INDEX(px_Contracts_all_ofMedicare,MATCH(x,px_Contracts_all_Payor,0))"
    assert names == {"px_Claims_Units": "=Claims!$I1", "px_Contracts_all_ofMedicare": "=Contracts[[% of Medicare]]",
                     "px_Contracts_all_Payor": "=Contracts[Payor]"}
    assert m.CLAIMS.headers[8] == "Units"          # column I
    # the text of a string is never a reference
    assert _named('"Claims[Paid]"&px_AsOf', {}) == '"Claims[Paid]"&px_AsOf'


def test_every_calculated_column_reads_defined_names_that_point_at_their_columns():
    """In the template as built: no calculated column holds a structured reference; every
    px_ name one reads is defined; a row name's column is, in the table's own header row,
    the column it names; a whole-column name's table and column exist."""
    defined = _template_names()
    headers = {}
    with zipfile.ZipFile(TEMPLATE) as z:
        for part in (n for n in z.namelist() if n.startswith("xl/tables/table")):
            xml = z.read(part).decode("utf-8")
            table = re.search(r'<table\b[^>]*\bname="([^"]+)"', xml).group(1)
            headers[table] = [html.unescape(h) for h in re.findall(r'<tableColumn\b[^>]*\bname="([^"]*)"', xml)]
            for text in re.findall(r"<calculatedColumnFormula>([^<]*)<", xml):
                text = html.unescape(text)
                assert structured_references(text) == [], (table, text[:80])
                used = set(re.findall(r"\bpx_\w+", _without_strings(text)))
                assert used <= set(defined), used - set(defined)
    from payorxl.workbook.xlsxpart import col_letter
    rows = {n: r for n, r in table_names().items() if "_all_" not in n and not n.startswith(("px_m_", "px_f_"))}
    assert len(rows) > 40
    for name, ref in rows.items():
        table, letter = re.fullmatch(r"=(\w+)!\$([A-Z]+)1", ref).groups()
        assert defined[name] == ref[1:]
        column = next(i for i in range(len(headers[table])) if col_letter(i) == letter)
        assert name == row_name(table, headers[table][column])
    macros = {n: r for n, r in table_names().items() if n.startswith(("px_m_", "px_f_"))}
    assert len(macros) > 50
    for name, text in macros.items():       # a sub-expression or a column's formula, called by name
        assert defined[name] == text[1:] and structured_references(text) == []
        assert len(text) < EXCEL_FORMULA_LIMIT, name
        assert set(re.findall(r"\bpx_\w+", _without_strings(text))) <= set(defined)
    for name, ref in table_names().items():
        if "_all_" in name:
            (table, inner), = structured_references(ref)
            assert inner.strip("[]").replace("'", "") in headers[table], ref
