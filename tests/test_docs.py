"""Docs that cannot fall behind: every command is in the README with an example and has
--help; every KPI is defined in the README; the table reference is generated from the
model and current."""
import importlib.util
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from payorxl import model as m
from payorxl.cli import main
from payorxl.conversion import empty_frame
from payorxl.engine import calculate

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_setup_commands_and_ci_runs_the_second():
    block = re.search(r"## Set up: two commands.*?```bash\n(.*?)```", README, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in block.strip().splitlines()]
    assert commands == ["pip install -e . && payorxl demo", "bash .ci/run"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_and_a_readme_example(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert re.search(rf"^payorxl {command}\b", README, re.M), f"no README example of 'payorxl {command}'"


def test_every_kpi_is_defined_in_the_readme():
    frames = {t.name: empty_frame(t) for t in m.INPUT_TABLES}
    kpis = calculate(frames, m.Settings.make("2026-01-01")).kpis
    table = README.split("## The KPIs")[1].split("##")[0]
    rows = {line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")}
    for kpi in kpis.values():
        assert re.sub(r" \(\$[^)]*\)$", "", kpi.label) in rows, f"README's KPI table lacks a row for {kpi.label}"


def test_table_reference_is_generated_and_current():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (ROOT / "docs" / "tables.md").read_text() == gen.render(), "run: python scripts/gen_docs.py"
