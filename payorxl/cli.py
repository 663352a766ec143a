"""The `payorxl` command: a thin click shell over the library.

Each command parses its options and calls one library function (pipeline.recalc,
pipeline.new_workbook, ...); domain problems arrive as PayorxlError and leave as a
one-line message with its fix and exit status 1 — never a traceback.
"""
from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import pipeline
from .errors import PayorxlError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _date(ctx, param, value):
    if value is None:
        return None
    import datetime as dt
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD or MM/DD/YYYY")


AS_OF = click.option("--as-of", callback=_date, metavar="DATE",
                     help="Measure deadlines from this date (default: Settings, else today).")


class PayorxlGroup(click.Group):
    """Turns PayorxlError into a clean message and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PayorxlError as e:
            err_console.print(f"[bold red]error:[/] {e}")
            sys.exit(1)


@click.group(cls=PayorxlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="payorxl")
def main():
    """payorxl: payor contracts, claims and collections in an Excel workbook.

    Recalculates denial rates, missed and at-risk deadlines (filing, appeal, prompt pay,
    contract notice) and underpayments, and writes them to the workbook's own sheets.
    """


def _money(cents) -> str:
    return "" if cents is None else f"${cents / 100:,.2f}"


def _fmt_kpi(kpi) -> str:
    if kpi.value is None:
        return "n/a"
    return {"percent": f"{kpi.value:.1%}", "money": _money(kpi.value), "number": f"{kpi.value:,.1f}",
            "count": f"{kpi.value:,}"}[kpi.kind]


def print_kpis(results) -> None:
    t = Table(title=f"{results.settings.practice_name or 'Practice'} — as of {results.settings.as_of:%m/%d/%Y}")
    t.add_column("KPI")
    t.add_column("Value", justify="right")
    t.add_column("Definition", style="dim")
    for kpi in results.kpis.values():
        t.add_row(kpi.label, _fmt_kpi(kpi), (kpi.source + ": " if kpi.source else "") + kpi.definition)
    console.print(t)


def print_worklist(results, top: int) -> None:
    w = results.worklist.head(top)
    t = Table(title=f"Worklist — top {len(w)} of {len(results.worklist)}")
    for h in ("#", "Action", "Payor", "Claim", "Amount", "Deadline", "Days", "Status"):
        t.add_column(h, justify="right" if h in ("#", "Amount", "Days") else "left")
    for r in w.itertuples():
        t.add_row(str(r.rank), r.action, r.payor, f"{r.claim_id}/{r.line}" if r.claim_id else "",
                  _money(None if r.amount is None or r.amount != r.amount else int(r.amount)),
                  "" if r.deadline is None or r.deadline != r.deadline else f"{r.deadline:%m/%d/%Y}",
                  "" if r.days_left is None or r.days_left != r.days_left else str(r.days_left), r.status)
    console.print(t)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing file.")
@click.option("--practice", default="", help="Practice name for the Settings sheet.")
def new(path: Path, force: bool, practice: str):
    """Create a new, empty practice workbook at PATH (.xlsx).

    Example: payorxl new "Riverside FM.xlsx" --practice "Riverside Family Medicine"
    """
    pipeline.new_workbook(path, settings_values={"practice_name": practice}, overwrite=force)
    console.print(f"created {path}: fill in Contracts, FeeSchedule and Claims, then run "
                  f"'payorxl recalc \"{path}\"'")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="demo/demo-practice.xlsx")
@click.option("--force/--no-force", default=True, show_default=True, help="Replace an existing demo file.")
@click.option("--top", default=10, show_default=True, help="Worklist rows to print.")
def demo(path: Path, force: bool, top: int):
    """Write the demo practice workbook (default demo/demo-practice.xlsx), recalculate
    it and print its KPIs and the top of its worklist.

    The demo is generated (seeded, always the same) with planted problems: missed
    filing deadlines, underpaid lines, denials near their appeal deadline, a contract due
    for notice.
    """
    from .demo import generate_demo
    d = generate_demo()
    pipeline.new_workbook(path, d.frames(), d.settings, overwrite=force)
    results = pipeline.load(path)
    console.print(f"wrote {path} ({len(results.lines):,} claim lines)")
    print_kpis(results)
    print_worklist(results, top)


def _recalc_many(paths, as_of, output, backup, jobs):
    if len(paths) == 1:
        return [pipeline.recalc_safely(paths[0], as_of, output, backup)]
    summaries = []
    with Progress(TextColumn("recalculating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as progress:
        task = progress.add_task("recalc", total=len(paths))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(pipeline.recalc_safely, p, as_of, None, backup) for p in paths]
            for f in as_completed(futures):
                summaries.append(f.result())
                progress.advance(task)
    order = {str(p): i for i, p in enumerate(paths)}
    return sorted(summaries, key=lambda s: order[s.path])


def _expand(books) -> list[Path]:
    paths = []
    for b in books:
        p = Path(b)
        if p.is_dir():
            paths += sorted(q for q in p.iterdir() if q.suffix.lower() in (".xlsx", ".xlsm")
                            and not q.name.startswith(("~$", ".~payorxl-")) and ".backup." not in q.name)
        else:
            paths.append(p)
    return paths


@main.command()
@click.argument("books", nargs=-1, required=True, type=click.Path(path_type=Path))
@AS_OF
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the recalculated workbook here instead of in place (one BOOK only).")
@click.option("--backup", is_flag=True, help="Keep the previous file as NAME.backup.xlsx.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each workbook's results as CSV files into this folder.")
@click.option("--jobs", "-j", type=int, default=None, help="Processes for several workbooks (default: all cores).")
def recalc(books, as_of, output, backup, as_json, csv_dir, jobs):
    """Recalculate BOOKS (workbooks or folders of them) and rewrite their owned sheets.

    Only payorxl's sheets (Dashboard, Worklist, Scorecard, Aging, Portfolio,
    Exceptions) change; the user's sheets, formatting, VBA, buttons and charts are
    left byte for byte. Exit status 1 when any workbook failed.

    Example: payorxl recalc practices/ --as-of 2026-10-31
    """
    paths = _expand(books)
    if output and len(paths) != 1:
        raise PayorxlError("--output takes exactly one workbook")
    summaries = _recalc_many(paths, as_of, output, backup, jobs)
    if csv_dir:
        from .report import write_csv
        for s in summaries:
            if not s.failed:
                write_csv(Path(s.output), Path(csv_dir), as_of)
    if as_json:
        from dataclasses import asdict
        console.print_json(json.dumps([asdict(s) for s in summaries], default=str))
    else:
        t = Table(title="payorxl recalc")
        for h in ("Workbook", "Practice", "As of", "Lines", "Errors", "Denial rate", "Missed", "Due soon",
                  "Underpaid", "Result"):
            t.add_column(h)
        for s in summaries:
            k = s.kpis
            rate = k.get("initial_denial_rate")
            t.add_row(Path(s.path).name, s.practice, s.as_of, f"{s.claim_lines:,}" if not s.failed else "",
                      str(s.errors) if not s.failed else "",
                      "" if rate is None else f"{rate:.1%}", str(k.get("missed_deadlines", "")),
                      str(k.get("at_risk", "")), _money(k.get("underpayment")) if k else "",
                      f"[red]failed: {s.failed}[/]" if s.failed else "[green]ok[/]")
        console.print(t)
    if any(s.failed for s in summaries):
        sys.exit(1)


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option("--show-phi", is_flag=True, help="Show patient identifiers in the values.")
def check(book, as_of, as_json, show_phi):
    """Check BOOK's data: print every problem (sheet, row, column, value, fix).

    Exit status 1 when there are errors (rows the figures leave out); warnings alone
    exit 0. Nothing is written.
    """
    results = pipeline.load(book, as_of)
    problems = results.errors
    if as_json:
        console.print_json(json.dumps([e.as_dict(show_phi) for e in problems], default=str))
    else:
        for e in problems:
            color = "red" if e.severity == "error" else "yellow"
            console.print(f"[{color}]{e.severity}[/] {e.format(show_phi)}")
        n_err = sum(e.severity == "error" for e in problems)
        console.print(f"{book.name}: {n_err} error(s), {len(problems) - n_err} warning(s)")
    if any(e.severity == "error" for e in problems):
        sys.exit(1)


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@AS_OF
@click.option("--top", default=15, show_default=True, help="Worklist rows to print.")
def report(book, as_of, top):
    """Print BOOK's KPIs and the top of its worklist (nothing is written)."""
    results = pipeline.load(book, as_of)
    print_kpis(results)
    print_worklist(results, top)
