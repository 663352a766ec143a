"""Render the demo workbook's Dashboard to a PNG with LibreOffice (pdf -> png), for the
README: `python scripts/render_dashboard.py [docs/dashboard.png]`.

A shortcut for scripts/render_sheets.py, which renders any sheet (the README's pictures:
`python scripts/render_sheets.py --out docs --sheet Dashboard --sheet Worklist --lower
--dpi 110`). The workbook itself is not touched."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_sheets import demo_book, only_sheet, render as render_sheets  # noqa: E402

__all__ = ["dashboard_only", "render"]


def dashboard_only(src: Path, dst: Path) -> None:
    only_sheet(src, dst, "Dashboard")


def render(out_png: Path, dpi: int = 110) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        render_sheets(demo_book(tmp), ["Dashboard"], tmp / "png", dpi=dpi)
        out_png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp / "png" / "Dashboard.png", out_png)
    return out_png


if __name__ == "__main__":
    print(render(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png")))
