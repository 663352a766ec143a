"""The `payorxl` command: a thin click shell over the library.

Each command parses its options and calls one library function (pipeline.recalc,
pipeline.new_workbook, ...); domain problems arrive as PayorxlError and leave as a
one-line message with its fix and exit status 1 — never a traceback.

What the user sees:
- Text from the user or the workbook (paths, practice and payor names, cell values,
  the messages that quote them) is never read as rich markup or emoji codes: both
  consoles have markup and emoji off, and styled output is built from `Text` pieces,
  so a payor `Medicare [/primary]` or a cell `[bold]x` prints as typed.
- On a terminal, lines wrap and tables fit its width. When stdout or stderr is not a
  terminal (piped to a file or a program, cron, click's CliRunner) its console has no
  width limit, whatever COLUMNS says (_Console): an error is one line with its fix
  ("error: <what>; <fix>"), `check` prints each problem on one line and its fix on the
  next, and the KPI, worklist and recalc tables keep their columns with every cell in
  full (never cut to "Deni…"). Programs should read --json rather than the tables.
- Money in every JSON output is in dollars (a number with at most two decimals, as in
  the CSV files and the workbook), never cents; rates are fractions.
- Exit status 1 when the command failed: a PayorxlError, a workbook `recalc` could
  not recalculate, errors found by `check`, a file `import` refused for a real problem.
  A file `import` skips because it is already imported is not a failure.
"""
from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import click
import pandas as pd
from rich.console import Console, ConsoleDimensions
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import pipeline
from .codec import dollars, is_na, safe_json
from .errors import PayorxlError

UNLIMITED = 1_000_000   # the width of a console that is not a terminal: lines are never wrapped or cut


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):   # no isatty, or a closed file
        return False


class _Console(Console):
    """A rich Console that wraps at the terminal's width on a terminal, and never wraps
    or cuts when its stream is not one (see the module docstring)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if _is_terminal(self.file) else ConsoleDimensions(UNLIMITED, size.height)


console = _Console(highlight=False, markup=False, emoji=False)
err_console = _Console(stderr=True, highlight=False, markup=False, emoji=False)


def _error(message) -> None:
    """'error: <message>' on stderr; the message is user text (never markup)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", str(message)))


def _text(value) -> Text:
    """A table cell or line holding `value` as it is (None, NaN and NA as blank)."""
    try:
        blank = value is None or bool(pd.isna(value))
    except (TypeError, ValueError):   # a list or array: not one missing value
        blank = False
    return Text("" if blank else str(value))


def _left_out(name: str, errors: int, where: str) -> Text | None:
    """The note under a command's figures when rows were left out of them."""
    if not errors:
        return None
    rows = "1 row with errors was" if errors == 1 else f"{errors:,} rows with errors were"
    return Text.assemble(f"{name}: ", (f"{rows} left out of the figures", "yellow"), f": {where}")


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
            _error(e)
            sys.exit(1)


@click.group(cls=PayorxlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="payorxl")
def main():
    """payorxl: payor contracts, claims and collections in an Excel workbook.

    Recalculates denial rates, missed and at-risk deadlines (filing, appeal, prompt pay,
    contract notice) and underpayments, and writes them to the workbook's own sheets.
    """


def _money(cents) -> str:
    return "" if is_na(cents) else f"${dollars(cents):,.2f}"


def _fmt_kpi(kpi) -> str:
    if kpi.value is None:
        return "n/a"
    return {"percent": f"{kpi.value:.1%}", "money": _money(kpi.value), "number": f"{kpi.value:,.1f}",
            "count": f"{kpi.value:,}"}[kpi.kind]


def print_kpis(results) -> None:
    t = Table(title=Text(f"{results.settings.practice_name or 'Practice'} — as of "
                         f"{results.settings.as_of:%m/%d/%Y}", style="table.title"))
    t.add_column("KPI")
    t.add_column("Value", justify="right")
    t.add_column("Definition", style="dim")
    for kpi in results.kpis.values():
        t.add_row(_text(kpi.label), _fmt_kpi(kpi), _text((kpi.source + ": " if kpi.source else "") + kpi.definition))
    console.print(t)


def print_worklist(results, top: int) -> None:
    w = results.worklist.head(top)
    t = Table(title=f"Worklist — top {len(w)} of {len(results.worklist)}")
    for h in ("#", "Action", "Payor", "Claim", "Amount", "Deadline", "Days", "Status"):
        t.add_column(h, justify="right" if h in ("#", "Amount", "Days") else "left")
    for r in w.itertuples():
        t.add_row(str(r.rank), _text(r.action), _text(r.payor), _text(f"{r.claim_id}/{r.line}" if r.claim_id else ""),
                  _money(None if r.amount is None or r.amount != r.amount else int(r.amount)),
                  "" if r.deadline is None or r.deadline != r.deadline else f"{r.deadline:%m/%d/%Y}",
                  "" if r.days_left is None or r.days_left != r.days_left else str(r.days_left), _text(r.status))
    console.print(t)


MACROS = click.option("--macros/--no-macros", default=None,
                      help="With the Dashboard buttons and PX_ formulas for Excel (.xlsm, the default), "
                           "or a plain .xlsx without them. Default: as PATH's suffix says, else .xlsm.")


def workbook_path(path: Path, macros: bool | None) -> Path:
    """PATH with the suffix the --macros/--no-macros choice needs: a name without one
    gets .xlsm (.xlsx with --no-macros); a suffix that contradicts the flag is an error."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm"):
        return path.with_name(path.name + (".xlsx" if macros is False else ".xlsm"))
    if macros is True and suffix == ".xlsx":
        raise PayorxlError(f"{path.name}: a workbook with buttons and formulas is macro-enabled; "
                           f"name it {path.stem}.xlsm")
    if macros is False and suffix == ".xlsm":
        raise PayorxlError(f"{path.name}: with --no-macros the workbook is a plain one; "
                           f"name it {path.stem}.xlsx")
    return path


@main.command(short_help="Create a new, empty practice workbook.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing file.")
@click.option("--practice", default="", help="Practice name for the Settings sheet.")
@MACROS
def new(path: Path, force: bool, practice: str, macros: bool | None):
    """Create a new, empty practice workbook at PATH.

    PATH.xlsm (the default when PATH has no suffix) has the Dashboard buttons
    (Recalculate, Import remittance, Import claims, Check data) and the PX_ formulas
    for Excel: see docs/excel.md. PATH.xlsx, or --no-macros, is the plain workbook.

    \b
    Example:
      payorxl new "Riverside FM.xlsm" --practice "Riverside Family Medicine"
    """
    path = workbook_path(path, macros)
    pipeline.new_workbook(path, settings_values={"practice_name": practice}, overwrite=force)
    console.print(Text(f"created {path}: fill in Contracts, FeeSchedule and Claims, then run "
                       f"'payorxl recalc \"{path}\"'" + (" or press Recalculate in Excel"
                                                          if path.suffix.lower() == ".xlsm" else "")))


@main.command(short_help="Write the demo practice workbook and show its figures.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--force/--no-force", default=True, show_default=True, help="Replace an existing demo file.")
@click.option("--top", default=10, show_default=True, help="Worklist rows to print.")
@MACROS
def demo(path: Path | None, force: bool, top: int, macros: bool | None):
    """Write the demo practice workbook (default demo/demo-practice.xlsm, or .xlsx with
    --no-macros), recalculate it and print its KPIs and the top of its worklist.

    The demo is generated (seeded, always the same) with planted problems: missed
    filing deadlines, underpaid lines, denials near their appeal deadline, a contract due
    for notice.
    """
    from .demo import generate_demo
    path = workbook_path(path or Path("demo/demo-practice"), macros)
    d = generate_demo()
    pipeline.new_workbook(path, d.frames(), d.settings, overwrite=force)
    results = pipeline.load(path)
    console.print(Text(f"wrote {path} ({len(results.lines):,} claim lines)"))
    print_kpis(results)
    print_worklist(results, top)


@main.command("update-vba", short_help="Refresh a workbook's xlwings and payorxl VBA to the installed versions.")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the updated workbook here (.xlsm) instead of in place.")
def update_vba(book: Path, output: Path | None):
    """Replace the VBA that payorxl puts in BOOK (an .xlsm made by payorxl new) with the
    versions installed here: xlwings' own modules (xlwings, Dictionary) and payorxl's
    (PayorxlButtons, xlwings_udfs). Run it on each workbook after upgrading payorxl or
    xlwings: the xlwings module names the xlwings DLL and AppleScript of one version.

    Everything else stays as it is, byte for byte: sheets, data, buttons, ThisWorkbook
    and the sheets' code, your own VBA modules. Changes you made inside those four
    modules are replaced. The workbook must be closed in Excel.

    \b
    Example:
      payorxl update-vba "Riverside FM.xlsm"
    """
    import xlwings

    from .workbook.vba import update_vba as update
    done = update(book, output)
    installed = f"xlwings {xlwings.__version__}"
    if not done.replaced and not done.added:
        where = "nothing was written" if done.written is None else f"wrote a copy to {done.written}"
        console.print(Text(f"{book.name}: its VBA is already the installed version ({installed}); {where}"),
                      soft_wrap=True)
        return
    what = "; ".join(f"{verb} {', '.join(names)}" for verb, names in
                     (("replaced", done.replaced), ("added", done.added)) if names)
    console.print(Text(f"wrote {done.written}: {what} ({installed}); everything else is unchanged"),
                  soft_wrap=True)


def _run_many(fn, args: list[tuple], jobs, scheduler, label: str) -> list:
    """fn(*a) for each a of `args` on the process pool (`jobs` processes), or on a Dask
    cluster with `scheduler` (cluster.py), behind the same progress bar; in any order."""
    done = []
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False, disable=not _is_terminal(err_console.file)) as progress:
        task = progress.add_task(label, total=len(args))
        if scheduler:
            from . import cluster
            for result in cluster.run(fn, args, scheduler, jobs):
                done.append(result)
                progress.advance(task)
            return done
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(fn, *a) for a in args]
            for f in as_completed(futures):
                done.append(f.result())
                progress.advance(task)
    return done


def _recalc_many(paths, as_of, output, backup, jobs, scheduler=None):
    if len(paths) == 1:
        return [pipeline.recalc_safely(paths[0], as_of, output, backup)]
    summaries = _run_many(pipeline.recalc_safely, [(p, as_of, None, backup) for p in paths], jobs, scheduler,
                          "recalculating")
    order = {str(p): i for i, p in enumerate(paths)}
    return sorted(summaries, key=lambda s: order[s.path])


def _recalc_log_line(s: pipeline.Summary, now=None) -> str:
    """One line per workbook for a cron log: time, ok/failed, file name, counts; never a
    patient identifier (a failure's reason is payorxl's message about the file)."""
    import datetime as dt
    stamp = (now or dt.datetime.now()).replace(microsecond=0).isoformat()
    name = Path(s.path).name
    if s.failed:
        return f"{stamp} failed {name}: {' '.join(s.failed.split())}"
    return f"{stamp} ok {name} {s.claim_lines:,} lines {s.errors:,} left out"


def _json(value) -> str:
    """JSON for other tools: text that a spreadsheet would run as a formula (=, +, -, @,
    tab, CR first) leaves with a leading apostrophe, as in the CSV files (codec.safe_text)."""
    return json.dumps(safe_json(value), indent=2, default=str)


def _append_log(log_file: Path, lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    if str(log_file) == "-":
        sys.stderr.write(text)
    else:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write(text)


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


SCHEDULER = click.option(
    "--scheduler", metavar="ADDRESS",
    help='Run the workbooks on a Dask cluster: a scheduler ADDRESS (tcp://host:8786), or "local" for '
         'worker processes on this machine (--jobs of them, default 2). Needs pip install "payorxl[cluster]"; '
         "the workers need payorxl and the files on a shared path.")


@main.command(short_help="Recalculate workbooks and rewrite their owned sheets.")
@click.argument("books", nargs=-1, required=True, type=click.Path(path_type=Path))
@AS_OF
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the recalculated workbook here instead of in place (one BOOK only).")
@click.option("--backup", is_flag=True, help="Keep the previous file as NAME.backup.xlsx.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each workbook's results as CSV files into this folder.")
@click.option("--jobs", "-j", type=int, default=None, help="Processes for several workbooks (default: all cores).")
@SCHEDULER
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Append one line per workbook (time, ok/failed, file, lines, rows left out) to FILE; "
                   "'-' for stderr. No patient identifiers: for cron.")
def recalc(books, as_of, output, backup, as_json, csv_dir, jobs, scheduler, log_file):
    """Recalculate BOOKS (workbooks or folders of them) and rewrite their owned sheets.

    Only payorxl's sheets (Dashboard, Worklist, Scorecard, Aging, Portfolio,
    Exceptions) change; the user's sheets, formatting, VBA, buttons and charts are
    left byte for byte. Money in --json is in dollars. Exit status 1 when any workbook
    failed (each failure is one line on stderr: the workbook, what is wrong, the fix).

    \b
    Example:
      payorxl recalc practices/ --as-of 2026-10-31
    """
    paths = _expand(books)
    if not paths:
        raise PayorxlError(f"{', '.join(str(b) for b in books)}: no workbook (.xlsx or .xlsm) in this folder; "
                           "give a workbook or a folder holding some")
    if output and len(paths) != 1:
        raise PayorxlError("--output takes exactly one workbook")
    missing = {str(p) for p in paths if not p.exists()}
    if len(paths) == 1 and missing:
        raise PayorxlError(f"{paths[0]}: {_no_such_file(paths[0])}")
    found = _recalc_many([p for p in paths if str(p) not in missing], as_of, output, backup, jobs, scheduler) \
        if len(missing) < len(paths) else []
    by_path = {s.path: s for s in found}
    summaries = [by_path.get(str(p)) or pipeline.Summary(path=str(p), failed=_no_such_file(p)) for p in paths]
    if log_file:
        _append_log(log_file, [_recalc_log_line(s) for s in summaries])
    if csv_dir:
        from .report import write_csv
        for s in summaries:
            if not s.failed:
                write_csv(Path(s.output), Path(csv_dir), as_of)
    if as_json:
        click.echo(_json([_summary_json(s) for s in summaries]))
    elif len(summaries) > 1 or not summaries[0].failed:   # one failed workbook: only its error line
        t = Table(title="payorxl recalc")
        for h in ("Workbook", "Practice", "As of", "Lines", "Errors", "Denial rate", "Missed", "Due soon",
                  "Underpaid", "Result"):
            t.add_column(h)
        for s in summaries:
            k = s.kpis
            rate = k.get("initial_denial_rate")
            t.add_row(_text(Path(s.path).name), _text(s.practice), s.as_of,
                      f"{s.claim_lines:,}" if not s.failed else "", str(s.errors) if not s.failed else "",
                      "" if rate is None else f"{rate:.1%}", str(k.get("missed_deadlines", "")),
                      str(k.get("at_risk", "")), _money(k.get("underpayment")) if k else "",
                      Text("failed", style="red") if s.failed else Text("ok", style="green"))
        console.print(t)
        for s in summaries:
            note = None if s.failed else _left_out(
                Path(s.path).name, s.errors,
                f"see the Exceptions sheet (or run payorxl check \"{s.output or s.path}\")")
            if note:
                console.print(note)
    for s in summaries:
        if s.failed:   # in full, below the table: it says what to do
            name = Path(s.path).name
            _error(s.failed if s.failed.startswith((s.path, name)) else f"{s.path}: {s.failed}")
    if any(s.failed for s in summaries):
        sys.exit(1)


@main.command(short_help="Roll many practice workbooks up into one portfolio workbook.")
@click.argument("books", nargs=-1, required=True, type=click.Path(path_type=Path))
@AS_OF
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write (or refresh) the portfolio workbook here (.xlsx); only its owned sheets change.")
@click.option("--json", "as_json", is_flag=True, help="Print the roll-up as JSON (money in dollars).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write the roll-up tables as CSV files into DIR.")
@click.option("--deidentify", is_flag=True,
              help="As in report: pseudonymise any patient or claim identifier. A roll-up holds none "
                   "(practices, payors, CARC codes and counts only); practice names stay.")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Secret key of the pseudonyms (as in report).")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Append one line per workbook (time, ok/failed, file, lines, rows left out) to FILE; "
                   "'-' for stderr. No patient identifiers.")
@click.option("--jobs", "-j", type=int, default=None, help="Processes for several workbooks (default: all cores).")
@SCHEDULER
def rollup(books, as_of, output, as_json, csv_dir, deidentify, key_file, log_file, jobs, scheduler):
    """Roll BOOKS (practice workbooks or folders of them) up into one portfolio: a row per
    practice with every KPI and its numerator and denominator, totals recomputed from the
    summed figures (never averaged), and a payor benchmark across practices (denial rate,
    underpayment rate, days to pay, top denial reasons). Workbooks that cannot be read are
    listed with the reason; the rest roll up. Exit status 1 when any workbook failed.

    \b
    Example:
      payorxl rollup practices/ --output portfolio.xlsx --json --log rollup.log
    """
    from . import rollup as ru
    if key_file and not deidentify:
        raise click.UsageError("--key-file is used only with --deidentify")
    if deidentify:
        from . import pseudonym
        err_console.print(Text(pseudonym.load(key_file).notice()), soft_wrap=True)
    paths = [p for p in _expand(books) if output is None or not p.exists() or not output.exists()
             or p.resolve() != output.resolve()]
    if not paths:
        raise PayorxlError(f"{', '.join(str(b) for b in books)}: no workbook (.xlsx or .xlsm) in this folder; "
                           "give a workbook or a folder holding some")
    missing = {str(p) for p in paths if not p.exists()}
    present = [p for p in paths if str(p) not in missing]
    found = [ru.practice_figures(p, as_of) for p in present] if len(present) == 1 else \
        _run_many(ru.practice_figures, [(p, as_of) for p in present], jobs, scheduler, "rolling up")
    by_path = {f.path: f for f in found}
    figures = [by_path.get(str(p)) or ru.PracticeFigures(str(p), failed=_no_such_file(p)) for p in paths]
    result = ru.roll_up(figures)
    if log_file:
        _append_log(log_file, [ru.log_line(f) for f in figures])
    if output:
        ru.write_portfolio(result, output)
    if csv_dir:
        ru.write_csv(result, csv_dir)
    if as_json:
        click.echo(_json(result.as_json()))
    else:
        t = Table(title="payorxl rollup")
        for h in ("Workbook", "Practice", "As of", "Lines", "Left out", "Denial rate", "Net collection",
                  "Days in A/R", "A/R", "Underpaid"):
            t.add_column(h)
        rows = result.practices.to_dict("records") + ([result.totals] if len(result.practices) else [])
        for r in rows:
            def pct(v):
                return "" if v is None or is_na(v) else f"{v:.1%}"
            t.add_row(_text(r["workbook"]), _text(r["practice"]),
                      "" if r.get("as_of") is None or is_na(r.get("as_of")) else f"{r['as_of']:%Y-%m-%d}",
                      f"{int(r['claim_lines']):,}", f"{int(r['rows_left_out']):,}", pct(r["initial_denial_rate"]),
                      pct(r["net_collection_rate"]),
                      "" if r["days_in_ar"] is None or is_na(r["days_in_ar"]) else f"{r['days_in_ar']:.1f}",
                      _money(r["ar_total"]), _money(r["underpayment"]))
        console.print(t)
        if output:
            console.print(Text(f"wrote {output}"), soft_wrap=True)
    for f in figures:
        if f.failed:
            name = Path(f.path).name
            _error(f.failed if f.failed.startswith((f.path, name)) else f"{f.path}: {f.failed}")
    if any(f.failed for f in figures):
        sys.exit(1)


def _no_such_file(path: Path) -> str:
    return f"no such file; check the name and the folder, or make the workbook with 'payorxl new \"{path}\"'"


def _summary_json(s: pipeline.Summary) -> dict:
    """A recalc Summary for JSON: its KPIs as the CSV files carry them (money in dollars)."""
    from dataclasses import asdict

    from . import model as m
    from .codec import to_external
    d = asdict(s)
    d["kpis"] = {k: to_external(v, m.KPIS_BY_KEY[k].kind) if k in m.KPIS_BY_KEY else v for k, v in s.kpis.items()}
    return d


@main.command(short_help="Check a workbook's data: list every problem.")
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
        click.echo(_json([e.as_dict(show_phi) for e in problems]))
    else:
        for e in problems:
            color = "red" if e.severity == "error" else "yellow"
            console.print(Text.assemble((e.severity, color), " ", e.format(show_phi)))
        n_err = sum(e.severity == "error" for e in problems)
        console.print(Text(f"{book.name}: {n_err} error(s), {len(problems) - n_err} warning(s)"))
    if any(e.severity == "error" for e in problems):
        sys.exit(1)


@main.command(short_help="Print a workbook's KPIs and worklist; write CSV files.")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@AS_OF
@click.option("--top", default=15, show_default=True, help="Worklist rows to print.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write the results as CSV files into DIR/<workbook name>/ (as recalc --csv).")
@click.option("--deidentify", is_flag=True,
              help="Replace patient IDs, claim IDs, payor claim and line control numbers with stable "
                   "pseudonyms in everything printed or written; the CSVs then keep patient_id, "
                   "pseudonymised. Dates, payors, CPTs and amounts remain: this is not HIPAA "
                   "Safe Harbor de-identification.")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Secret key of the pseudonyms (default: $PAYORXL_PSEUDONYM_KEY_FILE, else "
                   "pseudonym.key in payorxl's configuration folder; created on first use).")
def report(book, as_of, top, csv_dir, deidentify, key_file):
    """Print BOOK's KPIs and the top of its worklist; with --csv, write the results as
    CSV files. The workbook is not changed.

    With --deidentify the same identifier always gets the same pseudonym under the same
    key (PT-..., CL-..., PC-..., LC-...), across runs and workbooks, so the output can
    still be grouped by patient or claim. Keep the key private: with it and a list of
    real IDs anyone can link pseudonyms back.

    \b
    Example:
      payorxl report "Riverside FM.xlsx" --deidentify --csv shared/
    """
    from . import report as rep
    pseudonyms = None
    if key_file and not deidentify:
        raise click.UsageError("--key-file is used only with --deidentify")
    if deidentify:
        from . import pseudonym
        pseudonyms = pseudonym.load(key_file)
        err_console.print(Text(pseudonyms.notice()), soft_wrap=True)
    results = rep.load(book, as_of, pseudonyms)
    print_kpis(results)
    print_worklist(results, top)
    note = _left_out(book.name, sum(e.severity == "error" for e in results.errors),
                     f"run payorxl check \"{book}\" to list them")
    if note:
        console.print(note)
    if csv_dir:
        written = rep.write_frames(results, Path(csv_dir) / book.stem, pseudonymised=deidentify)
        console.print(Text(f"wrote {len(written)} CSV files to {Path(csv_dir) / book.stem}"
                           + (" (identifiers pseudonymised)" if deidentify else " (no patient IDs)")),
                      soft_wrap=True)


SKIPPED = "skipped"   # how a file refused as already imported (or given twice) is shown: not a failure


def _import_line(f) -> Text:
    """One file's outcome, without patient identifiers (counts and totals only)."""
    kind = f" ({f.kind})" if f.kind else ""
    head = Text(f"{f.name}{kind}: ")
    if not f.ok:
        status, color = (f.status, "red") if f.failed else (SKIPPED if f.reason in f.NOT_FAILURES else f.status,
                                                              "yellow")
        return Text.assemble(head, (status, color), f": {f.message}")
    parts = [Text(f"{f.claims:,} claim(s)"), Text(f"{f.lines:,} line(s)")]
    if f.kind == "835":
        parts.append(Text(f"paid {_money(f.paid)}"))
        parts.append(Text("balanced") if f.balanced else
                     Text.assemble(("NOT balanced", "red"), " (imported, marked UNBALANCED)"))
        parts.append(Text(f"{f.matched:,} matched, {f.unmatched:,} unmatched"))
    elif f.kind in ("999", "277CA"):
        parts = [Text(f"{f.claims:,} status(es)")]
    else:
        parts.append(Text(f"charges {_money(f.charges)}"))
        if f.skipped:
            parts.append(Text(f"{f.skipped:,} line(s) already in Claims"))
    table = {"835": "Payments", "999": "Acknowledgements", "277CA": "Acknowledgements"}.get(f.kind, "Claims")
    where = f" → {table} rows {f.first_row}–{f.last_row}" if f.rows else ""
    return Text.assemble(head, (f.status, "green"), " ", Text(", ").join(parts), where)


@main.command("import", short_help="Import 835 remittances, 837P claims and 999/277CA acknowledgements.")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--allow-unbalanced", is_flag=True,
              help="Import an 835 that does not balance; its rows say 'UNBALANCED: <file>' in Source.")
@click.option("--dry-run", is_flag=True, help="Check the files and show what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def import_(book, files, allow_unbalanced, dry_run, as_json):
    """Import 835 remittances, 837P claim files and their 999/277CA acknowledgements into BOOK.

    835 lines become Payments rows, matched to their claim lines (unmatched ones are
    kept and listed in Reconciliation), and every adjustment an Adjustments row; 837P
    lines become Claims rows (a secondary claim reusing a claim ID is that line's next
    payer, a void voids it); 999 and 277CA statuses become Acknowledgements rows (a
    rejected claim counts as not filed). Each file is
    recorded in the ImportLog sheet: a file already imported is skipped ("already
    imported on ..."), so importing it again changes nothing, and is not an error. A
    file that is not readable, not one of those, or an 835 that does not balance
    (without --allow-unbalanced), stops the import before anything is written, and the
    exit status is 1. Money in --json is in dollars.

    \b
    Example:
      payorxl import "Riverside FM.xlsx" downloads/era-2026-11-02.835 claims.837 ack.277
    """
    from .importer import import_files
    result = import_files(book, files, allow_unbalanced=allow_unbalanced, dry_run=dry_run)
    if as_json:
        click.echo(_json(result.as_dict()))
    else:
        for f in result.files:
            console.print(_import_line(f), soft_wrap=True)
            # balancing failures: the first is in the message of a file refused for them
            failures = (f.failures if f.ok else f.failures[1:] if f.reason == f.UNBALANCED else [])
            for failure in failures[:20]:
                console.print(Text.assemble("    ", ("×", "red"), " ", failure), soft_wrap=True)
            if len(failures) > 20:
                console.print(f"    … and {len(failures) - 20} more balancing failure(s)", soft_wrap=True)
            if f.ok:
                for note in f.notes:
                    console.print(Text.assemble("    ", ("!", "yellow"), " ", note), soft_wrap=True)
                if f.reader_warnings:
                    console.print(f"    {len(f.reader_warnings)} reader warning(s) about values in the file",
                                  soft_wrap=True)
        for note in result.notes:
            console.print(Text.assemble(("!", "yellow"), " ", note), soft_wrap=True)
        if result.written:
            console.print(Text(f"wrote {book.name}; run 'payorxl recalc \"{book}\"' to refresh "
                               "the Dashboard and Worklist"), soft_wrap=True)
        elif dry_run:
            console.print("dry run: nothing was written", soft_wrap=True)
        else:
            console.print(Text(f"nothing was written to {book.name}"), soft_wrap=True)
    if any(f.failed for f in result.files):   # a file merely already imported is no failure
        sys.exit(1)
