"""Write docs/tables.md from the table declarations in payorxl/model.py, so the column
reference cannot fall behind the code (tests/test_docs.py checks it is current).

    python scripts/gen_docs.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from payorxl import model as m  # noqa: E402


def render() -> str:
    out = ["# Workbook tables", "",
           "Generated from `payorxl/model.py` by `python scripts/gen_docs.py`; do not edit by hand.", ""]
    for t in m.INPUT_TABLES:
        out += [f"## {t.name}", "", t.description, ""]
        if t.key:
            out += [f"A row is identified by: {', '.join(t.column(k).name for k in t.key)} "
                    "(a repeated key is an error).", ""]
        out += ["| Column | Kind | Required | Default | Description |", "|---|---|---|---|---|"]
        for c in t.columns:
            kind = c.kind + (f" ({' / '.join(c.choices)})" if c.choices else "")
            default = "" if c.default in (None, "") else str(c.default)
            out.append(f"| {c.name} | {kind} | {'yes' if c.required else ''} | {default} | "
                       f"{c.description}{' Patient identifier.' if c.phi else ''} |")
        if t.calculated:
            out += ["", "Calculated columns (native formulas; the engine computes the same):", "",
                    "| Column | Kind | Description |", "|---|---|---|"]
            out += [f"| {c.name} | {c.kind} | {c.description} |" for c in t.calculated]
        out.append("")
    out += ["## Settings", "", "| Setting | Kind | Default | Description |", "|---|---|---|---|"]
    out += [f"| {s.name} | {s.kind} | {'' if s.default in (None, '') else s.default} | {s.description} |"
            for s in m.SETTINGS]
    out += ["", "## Owned sheets", "",
            "Rewritten by every recalculation: " + ", ".join(m.OWNED_SHEETS) + "; and the hidden Index "
            "(where each Claims row finds its line's Payments rows and its claim's lines, for the "
            "native formulas; written only where the workbook has payorxl's own).", ""]
    out += ["# Results", "",
            "Every table payorxl writes: the owned sheets, the PX_ formulas' spilled tables, "
            "`payorxl report --csv` (one `<name>.csv` each; money in dollars, dates YYYY-MM-DD) "
            "and the JSON outputs. The denial tables are written once per grouping "
            "(`denials_by_payor`, `_category`, `_cpt`, `_month`), the first column naming the group.", ""]
    for o in m.OUTPUTS:
        out += [f"## {o.title} (`{o.name}`)", "", o.description, "",
                "| Column | Key | Kind | Description |", "|---|---|---|---|"]
        out += [f"| {f.name} | {f.key} | {f.kind} | {f.description} |" for f in o.fields]
        out.append("")
    out += ["## KPIs", "", "| KPI | Label | Kind | Definition | Source |", "|---|---|---|---|---|"]
    out += [f"| {k.key} | {k.label} | {k.kind} | {k.definition} | {k.source} |" for k in m.KPIS]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    path = ROOT / "docs" / "tables.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(render())
    print(path)
