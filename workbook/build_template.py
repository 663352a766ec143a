"""Rebuild the shipped practice template, workbook/payorxl-template.xlsm, from code:

    python workbook/build_template.py

It is exactly what `payorxl new` writes (empty tables, Settings with their defaults,
the Dashboard buttons and PX_ formulas), with a fixed creation stamp and first
computation date so that the file is reproducible; tests/workbook/test_template_copy.py
rebuilds it and compares every part. Accountants copy it once per practice (or run
`payorxl new`)."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from payorxl import pipeline  # noqa: E402

TEMPLATE = HERE / "payorxl-template.xlsm"
CREATED = dt.datetime(2026, 1, 1)
AS_OF = dt.date(2026, 1, 1)


def build(path: Path = TEMPLATE) -> Path:
    pipeline.new_workbook(path, overwrite=True, as_of=AS_OF, created=CREATED)
    return path


if __name__ == "__main__":
    print(build())
