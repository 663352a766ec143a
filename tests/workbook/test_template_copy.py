"""The template shipped in workbook/ is what its script builds: rebuilt here, every zip
part is identical (so nothing in it was edited by hand, and it is not stale)."""
import importlib.util
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_template_equals_a_fresh_build(tmp_path):
    spec = importlib.util.spec_from_file_location("build_template", ROOT / "workbook" / "build_template.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    fresh = script.build(tmp_path / "fresh.xlsm")
    with zipfile.ZipFile(script.TEMPLATE) as shipped, zipfile.ZipFile(fresh) as built:
        assert shipped.namelist() == built.namelist()
        differ = [n for n in shipped.namelist() if shipped.read(n) != built.read(n)]
    assert differ == [], f"rebuild it: python workbook/build_template.py ({differ})"
    assert "xl/vbaProject.bin" in zipfile.ZipFile(fresh).namelist()
