"""Would OOXML shared formulas make the live Claims formulas affordable? (issue 17, item 5)

(History: sharing cut the memory, but LibreOffice 7.4 keeps a shared formula's cached
number dirty on loading, so the first calculate() after opening recomputed every shared cell
(27 s at 50,000 lines). payorxl instead writes short formulas: defined names for every
reference and for each repeated sub-expression, about 10 KB a Claims row from 60 KB.)

A payorxl workbook writes every Claims row's calculated columns as formulas of their own,
about 70 KB of text a claim line, and LibreOffice holds each one parsed: 3.1 GB of memory
to open 2,000 lines, 14.5 GB for 10,000 (benchmarks/results/uno_bench.md). Every row's
formula text is the same (structured references ``Claims[[#This Row],[...]]`` and names
relative to the row), which is what an OOXML shared formula expresses once: the column's
first cell holds ``<f t="shared" ref="T2:T2001" si="0">text</f>`` and the others
``<f t="shared" si="0"/>`` (ECMA-376 Part 1, 18.3.1.40).

This rewrites a workbook's Claims sheet that way (a copy; nothing else changes), then for
the original and the copy, each in LibreOffice headless with a profile of its own:

- opens it as payorxl users do (cached values kept) and saves it as CSV, under
  ``/usr/bin/time -v``: soffice's peak memory (max RSS), CPU and wall time;
- with ``--check``, recalculates the copy in full (payorxl.libreoffice.convert, every
  formula recomputed on load) and compares every calculated Claims cell with the values
  the engine cached in the original: LibreOffice must read the shared formulas as the
  same formulas.

What it cannot show: whether Excel accepts shared formulas that hold structured and
cross-sheet references (its own writer never shares such formulas; MS-XLSB's
SharedParsedFormula may not contain 3-D references). That needs desktop Excel.

Usage: python benchmarks/shared_formulas.py BOOK [BOOK ...] [--check] [--keep DIR]
(e.g. the uno_bench workbooks, benchmarks/data/practice-2k-uno-*.xlsx); --keep writes the
shared copies to DIR, to open in Excel (docs/excel.md, checklist step 23); --no-measure
only writes them. Writes benchmarks/results/shared-formulas.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from payorxl.libreoffice import convert, soffice  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*)><f>(.*?)</f>', re.S)


def claims_part(z: zipfile.ZipFile) -> str:
    """The path of the Claims sheet's part inside the package."""
    wb = z.read("xl/workbook.xml").decode()
    rid = re.search(r'<sheet [^>]*name="Claims"[^>]*r:id="(rId\d+)"', wb).group(1)
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rel = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', rel).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def share(src: Path, dst: Path) -> tuple[int, int, int]:
    """Write `src` to `dst` with each Claims column's formulas, where a cell's text equals
    the column's first formula's, as one shared formula. Returns the Claims part's size
    before and after, and the number of cells shared."""
    with zipfile.ZipFile(src) as zin:
        part = claims_part(zin)
        xml = zin.read(part).decode()
        first: dict[str, tuple[int, str, int]] = {}
        last: dict[str, int] = {}
        for m in CELL.finditer(xml):
            column, row = m.group(1), int(m.group(2))
            first.setdefault(column, (len(first), m.group(4), row))
            if m.group(4) == first[column][1]:
                last[column] = row
        shared = 0

        def rewrite(m: re.Match) -> str:
            nonlocal shared
            column, row, attrs, text = m.group(1), int(m.group(2)), m.group(3), m.group(4)
            si, text0, row0 = first[column]
            if text != text0 or row > last[column]:
                return m.group(0)
            shared += 1
            if row == row0:
                return f'<c r="{column}{row}"{attrs}><f t="shared" ref="{column}{row0}:{column}{last[column]}" ' \
                       f'si="{si}">{text}</f>'
            return f'<c r="{column}{row}"{attrs}><f t="shared" si="{si}"/>'

        out = CELL.sub(rewrite, xml)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, out.encode() if info.filename == part else zin.read(info.filename))
    return len(xml.encode()), len(out.encode()), shared


def open_cost(book: Path) -> dict[str, float]:
    """LibreOffice opening `book` (cached values kept) and saving it as CSV: max RSS (GB),
    CPU and wall seconds, from /usr/bin/time -v."""
    with tempfile.TemporaryDirectory(prefix="payorxl-shared-") as tmp:
        cmd = ["/usr/bin/time", "-v", soffice(), f"-env:UserInstallation=file://{tmp}/profile", "--headless",
               "--convert-to", "csv", "--outdir", tmp, str(book)]
        done = subprocess.run(cmd, capture_output=True, text=True)
    text = done.stderr
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text).group(1)
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
    return {"rss_gb": rss / 1024 / 1024, "cpu_s": cpu, "wall_s": seconds}


def same_values(shared: Path, original: Path) -> tuple[int, int]:
    """Cells compared and cells different: every calculated Claims cell of `shared`, recalculated
    in full by LibreOffice, against the engine's cached value in `original`."""
    from python_calamine import CalamineWorkbook
    with tempfile.TemporaryDirectory(prefix="payorxl-shared-") as tmp:
        recalculated = convert(shared, tmp, "xlsx", recalculate=True, timeout=3600)
        got = CalamineWorkbook.from_path(str(recalculated)).get_sheet_by_name("Claims").to_python()
    want = CalamineWorkbook.from_path(str(original)).get_sheet_by_name("Claims").to_python()
    start = list(want[0]).index("Role")
    cells = different = 0
    for a, b in zip(got[1:], want[1:]):
        for x, y in zip(a[start:], b[start:]):
            cells += 1
            close = isinstance(x, float) and isinstance(y, (int, float)) and abs(x - y) < 1e-6
            different += not (close or x == y)
    return cells, different


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("books", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true", help="recalculate the copies and compare every value")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="write the shared copies here")
    ap.add_argument("--no-measure", action="store_true", help="only write the copies (with --keep)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="payorxl-shared-") as tmp:
        for book in args.books:
            where = args.keep or Path(tmp)
            where.mkdir(parents=True, exist_ok=True)
            copy = where / f"shared-{book.name}"
            before, after, cells = share(book, copy)
            print(f"{book.name}: Claims part {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB, {cells:,} cells shared"
                  f"{f' ({copy})' if args.keep else ''}")
            if args.no_measure:
                continue
            plain, shared = open_cost(book), open_cost(copy)
            check = same_values(copy, book) if args.check else None
            rows.append((book.name, before, after, plain, shared, check))
            print(f"  open: {plain} -> {shared}; check {check}")
    if not rows:
        return
    lines = ["| workbook | Claims part (MB) | soffice max RSS (GB) | soffice CPU (s) | wall (s) | "
             "calculated cells equal after a full recalculation |",
             "|---|---:|---:|---:|---:|---|"]
    for name, before, after, plain, shared, check in rows:
        verdict = "not checked" if check is None else f"{check[0] - check[1]:,} of {check[0]:,}"
        lines.append(f"| {name} | {before / 1e6:.1f} → {after / 1e6:.1f} | {plain['rss_gb']:.1f} → "
                     f"{shared['rss_gb']:.1f} | {plain['cpu_s']:.1f} → {shared['cpu_s']:.1f} | "
                     f"{plain['wall_s']:.0f} → {shared['wall_s']:.0f} | {verdict} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "shared-formulas.md").write_text(
        f"# Shared formulas in Claims: LibreOffice's cost to open ({dt.datetime.now():%Y-%m-%dT%H:%M})\n\n"
        "Written by `python benchmarks/shared_formulas.py` (method in its docstring): each workbook as "
        "payorxl writes it → the same with each Claims column's formulas shared.\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
