"""A part of the workbook over the 2 GB ZIP's own fields hold (a Claims sheet of some
200,000 lines with its formulas) is written with ZIP64 (Excel and LibreOffice read it).
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

