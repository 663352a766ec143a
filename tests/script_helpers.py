"""Load a script of the repository (a benchmark, a build script) as a module, for the
tests that check it or use its helpers: scripts are not a package."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(relative: str):
    """The script at ROOT/relative (e.g. "benchmarks/udf_bench.py"), run as a module."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
