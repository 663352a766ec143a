"""Render the demo workbook's Dashboard to a PNG with LibreOffice (pdf -> png), for the
README: `python scripts/render_dashboard.py [docs/dashboard.png]`.

The other sheets are hidden in a scratch copy (a zip-level edit of xl/workbook.xml), so
the PDF holds the Dashboard alone; the workbook itself is not touched."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from payorxl import libreoffice, pipeline
from payorxl.demo import generate_demo


def dashboard_only(src: Path, dst: Path) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                xml = data.decode()
                xml = re.sub(r'<sheet (?![^>]*name="Dashboard")([^>]*?)(\s*/>)',
                             lambda m: f'<sheet state="hidden" {m.group(1)}{m.group(2)}', xml)
                data = xml.encode()
            zout.writestr(info, data)


def render(out_png: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        d = generate_demo()
        book = tmp / "demo.xlsx"
        pipeline.new_workbook(book, d.frames(), d.settings)
        only = tmp / "dashboard.xlsx"
        dashboard_only(book, only)
        pdf = libreoffice.convert(only, tmp, to="pdf", recalculate=False)  # values are cached
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp / "page")],
                       check=True)
        page = next(tmp.glob("page*.png"))
        out_png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, out_png)
    return out_png


if __name__ == "__main__":
    print(render(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png")))
