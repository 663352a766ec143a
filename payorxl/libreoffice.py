"""LibreOffice headless as an independent spreadsheet engine.

payorxl's calculated columns are native formulas; LibreOffice recalculating them is the
independent check that they mean what the engine computes. It is also how the Dashboard
is rendered to a picture for the README. LibreOffice keeps cached values of .xlsx files on
load unless told otherwise, so each run uses a private profile that forces a full
recalculation on load (OOXMLRecalcMode = 0, "always").
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import PayorxlError

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(src: str | Path, outdir: str | Path, to: str = "xlsx", timeout: int = 600,
            recalculate: bool = True) -> Path:
    """Open `src` in LibreOffice headless — with recalculation forced on load unless
    `recalculate` is False (cached values kept) — and save it as `to` (xlsx, pdf, ods)
    in `outdir`. Returns the written file."""
    exe = soffice()
    if exe is None:
        raise PayorxlError("LibreOffice (soffice) is not installed; "
                           "install it with: apt-get install libreoffice-calc-nogui")
    src, outdir = Path(src).resolve(), Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="payorxl-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        if recalculate:
            (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--calc",
               "--convert-to", to, "--outdir", str(outdir), str(src)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = outdir / (src.stem + "." + to.split(":")[0])
    if done.returncode != 0 or not out.exists():
        raise PayorxlError(f"LibreOffice could not convert {src.name}: "
                           f"{(done.stderr or done.stdout).strip()[:500]}")
    return out
