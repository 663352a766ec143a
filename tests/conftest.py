"""Two lanes for the suite, chosen here so that no test file has to carry a marker:

    python -m pytest -m "not slow" -n 2   # fast lane: every module of payorxl, ~2 min on 2 cores
    python -m pytest -m slow -n 2         # slow lane: LibreOffice, SIGKILL, property/fuzz, large files

`bash .ci/run` (scripts/test.sh) runs both. SLOW below is the one list of slow tests:
each entry is a test file, or a file::test (all its parameter sets), with why it is
slow; times are one run on the 2-core CI machine. Every LibreOffice test is slow: the
ones listed as such also get the `libreoffice` marker, and any test that carries that
marker itself is made slow too. A new test that takes more than a couple of seconds
belongs here.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LIBREOFFICE = "libreoffice"

# (node id, why it is slow, whether it runs LibreOffice)
SLOW: list[tuple[str, str, bool]] = [
    # hypothesis property tests: the whole engine on a hundred generated practices each (~43 s)
    ("tests/engine/test_properties.py", "hypothesis property tests of the whole engine", False),
    # hypothesis fuzzing of the 835/837 readers with random and structured X12 (~5 s)
    ("tests/x12/test_x12_fuzz.py", "hypothesis fuzz of the X12 readers", False),
    # builds and reads 50 MB 835 files, whole and cut mid-segment (~21 s)
    ("tests/x12/test_x12_large.py", "50 MB X12 files", False),
    # SIGKILLs `payorxl recalc` / an import at each write step: a fresh Python per kill (~9 s)
    ("tests/workbook/test_kill.py", "SIGKILL of subprocesses at every write step", False),
    # SIGKILLs `payorxl recalc` mid-write, then recalculates again in another process (~2 s)
    ("tests/workbook/test_stale_temp.py::test_leftover_of_a_killed_recalc_is_removed_by_the_next",
     "SIGKILL of a subprocess", False),
    # LibreOffice headless recalculates the native formulas, checked cell by cell (~8 s)
    ("tests/workbook/test_native_formulas.py", "LibreOffice headless", True),
    ("tests/workbook/test_live_figures.py", "LibreOffice headless", True),
    ("tests/workbook/test_index.py", "LibreOffice headless", True),
    # LibreOffice headless converts the .xlsm to .ods and its VBA is read back (~2 s)
    ("tests/excel/test_vba.py::test_libreoffice_reads_back_the_same_modules", "LibreOffice headless", True),
    # rebuilds the shipped template with workbook/build_template.py and compares every part
    ("tests/workbook/test_template_copy.py", "the template rebuild", False),
    # `payorxl demo` end to end: generates and writes the 4,500-line demo practice (~5 s)
    ("tests/test_demo_kpis.py", "builds the whole demo practice", False),
    # builds the demo practice as .xlsm and recalculates it twice, button and CLI (~5 s)
    ("tests/excel/test_macros.py::test_recalculate_writes_exactly_what_payorxl_recalc_writes",
     "builds and recalculates the demo workbook", False),
    # writes and reads a sheet of a million rows (~3 s)
    ("tests/test_hostile.py::test_a_million_row_sheet_is_read_as_its_rows", "a million-row sheet", False),
    # inflates a zip bomb up to the reader's limit (~2 s)
    ("tests/test_hostile.py::test_zip_bomb", "a zip bomb", False),
    # builds the sdist and wheel in a fresh build env, installs the wheel in a new venv and
    # runs `payorxl new` and `payorxl demo` from it (~15 s)
    ("tests/test_wheel.py::test_the_wheel_alone_builds_macro_workbooks_and_the_demo",
     "builds, installs and runs the wheel", False),
    # starts a Dask LocalCluster of 2 worker processes, twice (recalc and rollup), and
    # compares every part with the process pool's run (~12 s)
    ("tests/test_rollup.py::test_a_local_dask_cluster_writes_what_the_process_pool_writes",
     "two Dask LocalClusters of worker processes", False),
    # imports generated 835s of tens of thousands of rows under tracemalloc, twice or three
    # times each, to show memory bounded by the rows appended (~10 s)
    ("tests/x12/test_import_memory.py", "tracemalloc over large generated imports", False),
    # N imports (and recalcs) of one workbook at once in subprocesses: no row lost (~10 s)
    ("tests/test_hardening.py::test_concurrent_imports_are_serialised_or_refused_and_no_row_is_lost",
     "concurrent imports in subprocesses", False),
    ("tests/test_hardening.py::test_imports_and_recalcs_at_once_lose_nothing",
     "concurrent imports and recalcs in subprocesses", False),
    # a roll-up / `new --force` racing an import in another process, under the lock (~8 s)
    ("tests/workbook/test_locks_more.py::test_a_rollup_does_not_replace_a_portfolio_a_run_is_changing",
     "a roll-up racing a run in another process", False),
    ("tests/workbook/test_locks_more.py::test_new_force_does_not_replace_a_workbook_an_import_is_changing",
     "new --force racing an import in another process", False),
]


def _node(item: pytest.Item) -> str:
    """The item's node id from the repository root ("tests/...::test[param]"), whatever
    folder pytest was started in."""
    try:
        path = Path(item.path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return item.nodeid
    rest = item.nodeid.split("::", 1)
    return path + ("::" + rest[1] if len(rest) == 2 else "")


def _matches(nodeid: str, entry: str) -> bool:
    return nodeid == entry or nodeid.startswith((entry + "::", entry + "["))


@pytest.hookimpl(tryfirst=True)   # before -m deselects by the markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    used = set()
    nodes = [_node(item) for item in items]
    for item, node in zip(items, nodes):
        for entry, why, libreoffice in SLOW:
            if _matches(node, entry):
                used.add(entry)
                item.add_marker(pytest.mark.slow(why))
                if libreoffice:
                    item.add_marker(pytest.mark.libreoffice)
        if item.get_closest_marker(LIBREOFFICE) is not None:
            item.add_marker(pytest.mark.slow)
    # An entry whose file was collected but which names no test any more (renamed or
    # removed): say so, or a slow test would drift into the fast lane unnoticed. (Not
    # when the command line picked single tests: then the others are simply not here.)
    if any("::" in str(arg) for arg in config.args):
        return
    files = {node.split("::", 1)[0] for node in nodes}
    for entry, _why, _lo in SLOW:
        if "::" in entry and entry not in used and entry.split("::", 1)[0] in files:
            warnings.warn(pytest.PytestWarning(f"tests/conftest.py SLOW lists {entry}, which is no test"),
                          stacklevel=1)
