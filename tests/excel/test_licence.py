"""Only xlwings' open-source (BSD) part: payorxl, its tests and CI never need an xlwings
PRO licence key (payorxl serves medical practices: commercial use). The PRO parts
(xlwings.pro, xlwings.server, the remote and calamine engines) are never imported, and
XLWINGS_ON_SERVER is never set: without a key, `import xlwings` then fails."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRO = re.compile(r"xlwings\.pro|xlwings\.server|xlwings\s+import\s+server|XLWINGS_ON_SERVER|"
                 r"XLWINGS_LICENSE_KEY|LICENSE_KEY|xw\.Book\(json=|xlwings\.reports|_xlcalamine")


def test_no_pro_call_path_in_payorxl():
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "payorxl").rglob("*.py")
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if PRO.search(line)]
    assert offenders == []
    macros = [p for p in (ROOT / "macros").glob("*.bas") if "LICENSE_KEY" in p.read_text()]
    assert macros == []


def test_the_excel_adapters_load_without_a_key():
    """In a fresh interpreter with no licence key in the environment: every Excel module
    imports, xlwings reports no PRO, and the UDFs still compute."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_")}
    code = ("import xlwings, payorxl.excel.udfs as u, payorxl.excel.macros, payorxl.excel.books, "
            "payorxl.workbook.vba, sys; assert not xlwings.__pro__; "
            "assert not [m for m in sys.modules if m.startswith('xlwings.server') or m in "
            "('xlwings.pro._xlremote', 'xlwings.pro._xlofficejs', 'xlwings.pro._xlcalamine', 'xlwings.pro.caller')]; "
            "print(u.PX_DENIAL_RATE([['Claim ID','Line','Patient ID','Payor','CPT','Date of Service','Charge']], "
            "[['Claim ID','Line','Payor','Remit Date','Paid']]))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "PX_DENIAL_RATE: no claims adjudicated"


@pytest.mark.skipif(not os.environ.get("XLWINGS_LICENSE_KEY"),
                    reason="opt-in: runs only with an xlwings PRO licence key already in XLWINGS_LICENSE_KEY "
                           "(payorxl never needs one; this only shows the formulas also run on xlwings' "
                           "remote interpreter)")
def test_with_a_pro_key_a_formula_runs_through_the_remote_interpreter():
    """With a key (someone else's licence, not payorxl's), xlwings' own Office.js entry
    point calls PX_DENIAL_RATE as the web add-in would, arguments as 2-D lists."""
    import datetime as dt
    import types

    import xlwings.server as server

    from excel_helpers import CLAIMS, PAYMENTS
    from payorxl.excel import udfs
    module = types.ModuleType("px_remote")
    module.PX_DENIAL_RATE = server.func(udfs.PX_DENIAL_RATE)

    def as_sent(table):   # Office.js sends dates as serial numbers
        return [[(v - dt.datetime(1899, 12, 30)).days if isinstance(v, dt.datetime) else v for v in row]
                for row in table]
    data = {"func_name": "PX_DENIAL_RATE", "args": [as_sent(CLAIMS), as_sent(PAYMENTS)],
            "version": __import__("xlwings").__version__, "client": "Office.js", "caller_address": "Sheet1!A1",
            "culture_info_name": "en-US", "date_format": "M/d/yyyy", "runtime": "1.4"}
    result = server.custom_functions_call(data, module)
    assert result in (0.5, [[0.5]])
