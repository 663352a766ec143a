"""Reading a workbook's VBA back, for the tests that check what payorxl embeds: oletools'
olevba, an independent reader of the MS-OVBA format."""
from __future__ import annotations

from pathlib import Path


def olevba_modules(path: Path) -> dict[str, str]:
    """Module name -> source text, as olevba reads them from the workbook at `path`."""
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
