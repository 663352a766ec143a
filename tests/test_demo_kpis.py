"""`payorxl demo` end to end: the workbook it writes and the KPIs it prints report
exactly the problems the generator planted — no more, no fewer."""
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from payorxl import pipeline
from payorxl.cli import main
from payorxl.demo import generate_demo
from payorxl.workbook.sheets import DASHBOARD, TILE_ORDER, TILE_ROWS, TILES_PER_ROW


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    result = CliRunner().invoke(main, ["demo", str(path), "--top", "5"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return path, result.output, pipeline.load(path), generate_demo().planted


def keys(frame, mask):
    return sorted(zip(frame.loc[mask, "claim_id"], frame.loc[mask, "line"].astype(int)))


def test_exactly_the_planted_deadline_problems_are_reported(demo_run):
    _, _, results, planted = demo_run
    L = results.lines
    assert results.errors == []
    # A CO-29 denial is a missed filing deadline whatever the dates say (DESIGN.md).
    assert keys(L, L["filing_status"] == "Missed") == sorted(planted.missed_filing + planted.filed_late)
    assert keys(L, L["filing_status"] == "Due soon") == sorted(planted.filing_due_soon)
    assert keys(L, L["appeal_status"] == "Missed") == sorted(planted.appeal_missed)
    assert keys(L, L["appeal_status"] == "Due soon") == sorted(planted.appeal_due_soon)
    assert keys(L, L["prompt_pay_status"] == "Overdue") == sorted(planted.prompt_pay_overdue)
    assert keys(L, L["underpaid"]) == sorted(planted.underpaid)
    c = results.contracts
    assert sorted(c.loc[c["notice_status"] == "Due soon", "payor"]) == sorted(planted.notice_due_soon)


def test_printed_kpis_count_the_planted_problems(demo_run):
    _, output, results, planted = demo_run
    missed = len(planted.missed_filing) + len(planted.filed_late) + len(planted.appeal_missed) \
        + len(planted.prompt_pay_overdue)                          # 6 + 3 + 3 + 4 = 16
    due = len(planted.filing_due_soon) + len(planted.appeal_due_soon) + len(planted.notice_due_soon)  # 4+3+1
    assert results.kpis["missed_deadlines"].value == missed == 16
    assert results.kpis["at_risk"].value == due == 8
    lines = {ln.split("│")[1].strip(): ln.split("│")[2].strip() for ln in output.splitlines() if ln.count("│") >= 3}
    assert lines["Missed deadlines"] == "16"
    assert lines["Due soon"] == "8"
    L = results.lines
    under = int((L["expected_allowed"] - L["allowed"])[L["underpaid"]].sum())
    assert lines["Underpayments"] == f"${under / 100:,.2f}"
    assert "Worklist — top 5 of" in output


def test_dashboard_tiles_in_the_file_equal_the_kpis(demo_run):
    path, _, results, _ = demo_run
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Dashboard").to_python(skip_empty_area=False)
    for n, key in enumerate(TILE_ORDER):
        row, col = TILE_ROWS[n // TILES_PER_ROW], n % TILES_PER_ROW
        kpi = results.kpis[key]
        assert grid[row][col] == kpi.label
        expected = kpi.value / 100 if kpi.kind == "money" else kpi.value
        assert grid[row + 1][col] == pytest.approx(expected if expected is not None else "")
    b = DASHBOARD["denials"]
    first = results.denials_by["payor"].iloc[0]
    assert grid[b.first_data_row][0] == first["payor"]
    assert grid[b.first_data_row][3] == pytest.approx(first["denial_rate"])


def test_worklist_sheet_lists_every_open_planted_action(demo_run):
    path, _, results, planted = demo_run
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Worklist").to_python(skip_empty_area=False)
    header = grid[3]
    rows = [dict(zip(header, r)) for r in grid[4:] if r and r[0] != ""]
    assert [r["Rank"] for r in rows] == list(range(1, len(rows) + 1))
    actions = {(r["Claim ID"], int(r["Line"])): r["Action"] for r in rows if r["Claim ID"]}
    for k in planted.filing_due_soon:
        assert actions[k] == "File claim"
    for k in planted.appeal_due_soon:
        assert actions[k] == "Appeal denial"
    for k in planted.missed_filing:
        assert actions[k] == "Missed filing deadline"
    assert any(r["Action"] == "Give contract notice" and r["Payor"] in planted.notice_due_soon for r in rows)
