"""A/B of `payorxl recalc` between two versions of the code, in one run.

A change that should not change speed (a refactor) is checked by timing both versions on
the same workbook, interleaved (A, B, A, B, ...) so that the machine's drift and other
load fall on both alike, each next to the same floor (python-calamine reading the input
sheets, as benchmarks/run.py measures it). Version A is a git ref, checked out into a
temporary worktree; version B is this working tree. Each run is a fresh subprocess with
PYTHONPATH pointing at its version.

    python benchmarks/ab.py --ref d2ae6af --lines 100k --repeat 3

Prints, and writes to benchmarks/results/ab-<ref>.md, the median seconds of each, the
ratio recalc ÷ floor for each version and B ÷ A.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402
from run import AS_OF, FLOOR, PY, ROOT, SCRATCH, load1, measure  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
RECALC = ("import sys; sys.path.insert(0, {tree!r}); import payorxl; "
          "assert payorxl.__file__.startswith({tree!r}), payorxl.__file__; "
          "from payorxl.cli import main; sys.argv[0] = 'payorxl'; main()")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", required=True, help="git ref of version A (B is the working tree)")
    ap.add_argument("--lines", default="100k", help="claim lines of the workbook (10k, 100k...)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n = generate.parse_sizes(args.lines)[0]
    book = generate.ensure(n)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="payorxl-ab-") as tmp:
        worktree = Path(tmp) / "a"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(worktree), args.ref], cwd=ROOT, check=True)
        try:
            trees = {"A": worktree, "B": ROOT}
            times: dict[str, list[float]] = {"floor": [], "A": [], "B": []}
            out = SCRATCH / "ab-out.xlsx"
            loads = [load1()]
            for i in range(args.repeat):
                for name in ("floor", "A", "B"):
                    if name == "floor":
                        cmd, env = [PY, "-c", FLOOR, str(book)], {}
                    else:
                        # the version's own tree first on sys.path (measure() runs in the
                        # repository, whose payorxl/ would otherwise be found first)
                        cmd = [PY, "-c", RECALC.format(tree=str(trees[name])), "recalc", str(book),
                               "--output", str(out), "--as-of", AS_OF]
                        env = {}
                    status, secs, _, tail, _ = measure(cmd, env=env)
                    if status != "ok":
                        print(f"{name} failed: {tail[-300:]}")
                        return 1
                    times[name].append(secs)
                    print(f"  round {i + 1} {name:<5} {secs:7.2f} s", flush=True)
                    out.unlink(missing_ok=True)
            loads.append(load1())
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
    med = {k: statistics.median(v) for k, v in times.items()}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    lines = [f"# A/B of payorxl recalc at {n:,} claim lines ({args.repeat} interleaved rounds)", "",
             f"A = {args.ref}, B = the working tree at {head}{' (with changes)' if _dirty() else ''}; "
             f"load {loads[0]:.2f} → {loads[-1]:.2f} on {os.cpu_count()} cores.", "",
             "| run | median s | ÷ floor |", "|---|---|---|",
             f"| floor (calamine read) | {med['floor']:.2f} | 1.00 |",
             f"| A recalc | {med['A']:.2f} | {med['A'] / med['floor']:.2f} |",
             f"| B recalc | {med['B']:.2f} | {med['B'] / med['floor']:.2f} |", "",
             f"B ÷ A = {med['B'] / med['A']:.2f}", ""]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ab-{args.ref}.md").write_text(text)
    return 0


def _dirty() -> bool:
    return bool(subprocess.run(["git", "status", "--porcelain", "--", "payorxl"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    sys.exit(main())
