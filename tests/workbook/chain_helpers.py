"""Workbooks as Excel leaves them after calculating: an xl/calcChain.xml listing formula
cells (tests of what a rewrite of an owned sheet does to it)."""
import zipfile
from pathlib import Path


def with_calc_chain(path: Path, entries: str) -> None:
    """`path` as Excel saves it after calculating: an xl/calcChain.xml listing formula cells,
    with its relationship and content type."""
    from payorxl.workbook.package import rewrite_parts
    from payorxl.workbook.xlsxpart import CALC_CHAIN
    with zipfile.ZipFile(path) as z:
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    types = types.replace("</Types>", '<Override PartName="/xl/calcChain.xml" ContentType="application/'
                          'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
    chain = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="http://schemas.'
             f'openxmlformats.org/spreadsheetml/2006/main">{entries}</calcChain>')
    rewrite_parts(path, path, {"xl/_rels/workbook.xml.rels": rels.encode(), "[Content_Types].xml": types.encode()})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(CALC_CHAIN, chain)


def sheet_id(path: Path, name: str) -> str:
    from payorxl.workbook.xlsxpart import sheet_ids
    with zipfile.ZipFile(path) as z:
        return sheet_ids(z.read("xl/workbook.xml").decode())[name]
