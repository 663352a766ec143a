"""The wheel is complete and publishable: what `pip install payorxl` gives, alone, builds
a macro workbook and the demo.

The distributions are built from a copy of the source (the build writes
payorxl.egg-info/ and build/ into the tree it builds, and the checkout is shared), with
`python -m build` (an sdist, then the wheel from that sdist) where `build` is installed,
else `pip wheel`. The wheel is installed with --no-deps into a fresh venv that reuses the
dependencies installed here (--system-site-packages, and a .pth naming this
environment's site-packages for when it is itself a venv); payorxl itself must then come
from the wheel, and `payorxl new` and `payorxl demo` run from a folder outside the
repository, with no PYTHONPATH. Last, `twine check --strict` where twine is installed."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vba_helpers import olevba_modules

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")   # oletools on pyparsing 3
ROOT = Path(__file__).resolve().parents[1]
# what the sdist is made of: pyproject.toml names README.md (readme) and LICENSE (license-files)
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "payorxl", "macros")
WINDOWS = os.name == "nt"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    shown = " ".join(map(str, args))
    assert r.returncode == 0, f"{shown} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def lines(text: str) -> list[str]:
    """Source lines without line-ending differences, Attribute lines or trailing blank lines."""
    out = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if not ln.startswith("Attribute ")]
    while out and not out[-1].strip():
        out.pop()
    return out


def build_distributions(tmp: Path) -> list[Path]:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp / "dist"
    if importlib.util.find_spec("build") is not None:
        run(sys.executable, "-m", "build", "--outdir", dist, src, cwd=tmp)
    else:
        run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "--wheel-dir", dist, src,
            cwd=tmp)
    return sorted(dist.iterdir())


def expected_wheel_files() -> set[str]:
    """Every module and data file of the package, and macros/*.bas as payorxl/macros/."""
    package = {f"payorxl/{p.relative_to(ROOT / 'payorxl').as_posix()}"
               for p in (ROOT / "payorxl").rglob("*")
               if p.is_file() and p.suffix in (".py", ".csv") and "__pycache__" not in p.parts}
    return package | {f"payorxl/macros/{p.name}" for p in (ROOT / "macros").glob("*.bas")}


def fresh_venv(tmp: Path) -> tuple[Path, Path]:
    """A venv that sees the dependencies installed here; (its python, its bin folder)."""
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=tmp)
    bindir = venv / ("Scripts" if WINDOWS else "bin")
    python = bindir / ("python.exe" if WINDOWS else "python")
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(run(python, "-c", where, cwd=tmp).stdout.strip())
    # --system-site-packages reaches the base interpreter's packages only: where the tests
    # run in a venv, its packages (pip included) are named here. A .pth's folders are
    # added after the venv's own site-packages, and their own .pth files are not run.
    here = [p for p in site.getsitepackages() + [site.getusersitepackages()] if Path(p).is_dir()]
    (purelib / "_payorxl_test_parent.pth").write_text("\n".join(here) + "\n")
    return python, bindir


def test_the_wheel_alone_builds_macro_workbooks_and_the_demo(tmp_path):
    dists = build_distributions(tmp_path)
    wheels = [d for d in dists if d.name.endswith(".whl")]
    assert len(wheels) == 1, dists
    wheel = wheels[0]

    # what is in it: every subpackage (pyproject.toml lists them by hand), the data, the VBA
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n.rsplit("/", 1)[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(f"{info}/METADATA").decode()
    missing = expected_wheel_files() - names
    assert not missing, f"not in the wheel (a subpackage missing from [tool.setuptools] packages?): {sorted(missing)}"
    assert f"{info}/licenses/LICENSE" in names
    assert re.search(r"^License-Expression: MIT$", metadata, re.M)
    assert not {n for n in names if n.startswith(("macros/", "tests/"))}

    python, bindir = fresh_venv(tmp_path)
    run(python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "--no-index", "--disable-pip-version-check",
        "-q", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")}
    imported = Path(run(python, "-c", "import payorxl; print(payorxl.__file__)", cwd=elsewhere, env=env).stdout.strip())
    assert imported.resolve().is_relative_to((tmp_path / "venv").resolve()), imported
    assert not imported.resolve().is_relative_to(ROOT), imported

    payorxl = bindir / ("payorxl.exe" if WINDOWS else "payorxl")
    run(payorxl, "new", "t.xlsm", cwd=elsewhere, env=env)
    book = elsewhere / "t.xlsm"
    with zipfile.ZipFile(book) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    found = olevba_modules(book)
    assert {"xlwings", "Dictionary", "PayorxlButtons", "xlwings_udfs"} <= set(found)
    for path in sorted((ROOT / "macros").glob("*.bas")):
        name = re.search(r'^Attribute VB_Name = "([^"]+)"', path.read_text(encoding="utf-8"), re.M).group(1)
        assert lines(found[name]) == lines(path.read_text(encoding="utf-8")), name

    out = run(payorxl, "demo", cwd=elsewhere, env=env).stdout
    demo = elsewhere / "demo" / "demo-practice.xlsm"
    assert demo.is_file(), out
    with zipfile.ZipFile(demo) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    assert "PayorxlButtons" in olevba_modules(demo)

    # publishable: PyPI's metadata and README rendering checks
    if importlib.util.find_spec("twine") is None:
        pytest.skip("twine is not installed (it is in the test extra), so `twine check` was not run; "
                    "the wheel was built, installed and run")
    run(sys.executable, "-m", "twine", "check", "--strict", *dists, cwd=tmp_path)
