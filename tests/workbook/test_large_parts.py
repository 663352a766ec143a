"""A part of the workbook over the 2 GB ZIP's own fields hold (a Claims sheet of some
35,000 lines with its formulas) is written with ZIP64 (Excel and LibreOffice read it).
Shown here with the limit lowered, as writing 2 GB would take minutes."""
import zipfile

from payorxl import demo, pipeline
from payorxl.workbook.read import read_inputs


def test_a_part_over_the_zip_limit_is_written_with_zip64(tmp_path, monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 200_000)     # Claims of this demo is ~1 MB
    book = tmp_path / "big.xlsx"
    frames = demo.generate_large(300)
    pipeline.new_workbook(book, frames, as_of=demo.DEFAULT_AS_OF)
    with zipfile.ZipFile(book) as z:
        assert [i.filename for i in z.infolist() if i.file_size > zipfile.ZIP64_LIMIT]
        assert z.testzip() is None
    monkeypatch.undo()
    assert len(read_inputs(book).frames["Claims"]) == len(frames["Claims"]) == 300


def test_a_calculated_column_is_written_once_as_a_shared_formula(tmp_path):
    """Each calculated column's formula is written once, on the first data row, and the
    other rows share it (ECMA-376 18.3.1.40); openpyxl, a reader of its own, gives every
    row the column's formula, with the engine's value cached on each."""
    import re

    import openpyxl

    from payorxl import model as m
    from payorxl.workbook.formulas import table_formulas
    from payorxl.workbook.xlsxpart import col_letter

    book = tmp_path / "shared.xlsx"
    frames = demo.generate_large(40)
    pipeline.new_workbook(book, frames, as_of=demo.DEFAULT_AS_OF)
    n = len(frames["Claims"])
    with zipfile.ZipFile(book) as z:
        xml = z.read("xl/worksheets/sheet3.xml").decode()
    first = len(m.CLAIMS.columns)
    for j in range(len(m.CLAIMS.calculated)):
        letters = col_letter(first + j)
        assert re.search(rf'<c r="{letters}2"[^>]*><f t="shared" ref="{letters}2:{letters}{n + 1}" si="{j}">', xml)
        assert len(re.findall(rf'<c r="{letters}\d+"[^>]*><f t="shared" si="{j}"/><v>', xml)) == n - 1
    formulas = table_formulas()["Claims"]
    sheet = openpyxl.load_workbook(book)["Claims"]
    cached = openpyxl.load_workbook(book, data_only=True)["Claims"]
    for j, c in enumerate(m.CLAIMS.calculated):
        cells = [sheet.cell(r, first + j + 1).value for r in range(2, n + 2)]
        assert cells == ["=" + formulas[c.key]] * n, c.name
    role = [cached.cell(r, first + 1).value for r in range(2, n + 2)]
    assert m.CLAIMS.calculated[0].key == "role" and set(role) <= {"Line", "Next payer", "Void"} and "Line" in role
