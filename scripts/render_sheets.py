"""Render sheets of a practice workbook to PNG with LibreOffice (pdf -> png), as they print:

    python scripts/render_sheets.py                       # every owned sheet of the demo -> render/
    python scripts/render_sheets.py --out docs --sheet Dashboard --sheet Worklist --first-page
    python scripts/render_sheets.py --book my.xlsm --sheet Claims --pages 2

For each sheet a scratch copy of the workbook is made with every other sheet hidden (a
zip-level edit of xl/workbook.xml), LibreOffice prints it to PDF with the sheet's own
print setup (landscape, fit to width, repeated headers), and pdftoppm turns its pages
into <out>/<sheet>.png (page 1) and <out>/<sheet>-<n>.png (further pages, with --pages).
The page count of each sheet is printed. The workbook itself is not touched; without
--book the demo practice is built into a temporary folder first.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from payorxl import libreoffice, pipeline
from payorxl.demo import generate_demo
from payorxl.model import OWNED_SHEETS


def only_sheet(src: Path, dst: Path, keep: str) -> None:
    """A copy of `src` in which every sheet but `keep` is hidden and `keep` is active."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                xml = data.decode()
                names = re.findall(r'<sheet\b[^>]*\bname="([^"]*)"', xml)
                xml = re.sub(r'(<sheet\b)([^>]*?)\s+state="[^"]*"', r"\1\2", xml)   # unhide all first
                xml = re.sub(rf'<sheet (?![^>]*name="{re.escape(keep)}")([^>]*?)(\s*/>)',
                             lambda m: f'<sheet state="hidden" {m.group(1)}{m.group(2)}', xml)
                # LibreOffice prints a hidden sheet that has a print area: drop the others'.
                xml = re.sub(rf'<definedName name="_xlnm\.Print_Area" localSheetId="(?!{names.index(keep)}")\d+"[^>]*>'
                             r"[^<]*</definedName>", "", xml)
                xml = re.sub(r'activeTab="\d+"', f'activeTab="{names.index(keep)}"', xml)
                if "activeTab=" not in xml:
                    xml = xml.replace("<workbookView ", f'<workbookView activeTab="{names.index(keep)}" ', 1)
                data = xml.encode()
            elif re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
                data = re.sub(rb'\stabSelected="1"', b"", data)
            zout.writestr(info, data)


def demo_book(folder: Path) -> Path:
    d = generate_demo()
    book = folder / "demo.xlsx"
    pipeline.new_workbook(book, d.frames(), d.settings)
    return book


def render(book: Path, sheets: list[str], out: Path, pages: int = 1, dpi: int = 80) -> dict[str, int]:
    """PNGs of the first `pages` pages of each sheet in `out`; returns each sheet's page count."""
    counts = {}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for sheet in sheets:
            scratch = tmp / f"{re.sub(r'[^A-Za-z0-9]+', '_', sheet)}.xlsx"
            only_sheet(book, scratch, sheet)
            pdf = libreoffice.convert(scratch, tmp, to="pdf", recalculate=False)   # values are cached
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
            counts[sheet] = int(re.search(r"Pages:\s+(\d+)", info).group(1)) if "Pages:" in info else 0
            prefix = tmp / f"page-{scratch.stem}"
            subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", str(pages), str(pdf),
                            str(prefix)], check=True)
            for n, page in enumerate(sorted(tmp.glob(f"{prefix.name}*.png")), start=1):
                shutil.copy(page, out / (f"{sheet}.png" if n == 1 else f"{sheet}-{n}.png"))
    return counts


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--book", type=Path, help="the workbook (default: the demo practice, built afresh)")
    ap.add_argument("--sheet", action="append", help="a sheet to render (repeatable; default: every owned sheet)")
    ap.add_argument("--out", type=Path, default=Path("render"), help="folder for the PNGs (default: render/)")
    ap.add_argument("--pages", type=int, default=1, help="pages to render per sheet (default 1)")
    ap.add_argument("--dpi", type=int, default=80)
    ap.add_argument("--lower", action="store_true", help="name the files in lower case (docs/dashboard.png)")
    args = ap.parse_args(argv)
    sheets = args.sheet or list(OWNED_SHEETS)
    with tempfile.TemporaryDirectory() as tmp:
        book = args.book or demo_book(Path(tmp))
        counts = render(book, sheets, args.out, args.pages, args.dpi)
    if args.lower:
        for sheet in sheets:
            for png in args.out.glob(f"{sheet}*.png"):
                png.rename(png.with_name(png.name.lower()))
    for sheet, n in counts.items():
        print(f"{sheet}: {n} page(s)")


if __name__ == "__main__":
    main(sys.argv[1:])
