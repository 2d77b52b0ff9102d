"""Every layout of the gallery read exactly, and each layout rule on its own."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import IngestError, parse_plan, read_plan
from ingest.clauses import parse_unit_clause, split_unit_clause
from ingest.evaluate import GALLERY, evaluate, format_table, table_rows
from ingest.extract import find_deadlines
from ingest.readers import readers
from ingest.units import UnitTable, unit_kind

EXPECTED = sorted(GALLERY.glob("*.expected.json"))


def test_the_gallery_has_ten_documents_or_more_in_every_layout():
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in EXPECTED]
    assert len(docs) >= 10
    layouts = {d["layout"] for d in docs}
    assert {"clause", "role-line", "inline-roles", "table", "measure", "mixed", "refusal"} <= layouts
    assert any(d.get("year") for d in docs)  # annual plans
    suffixes = {Path(d["document"]).suffix for d in docs}
    assert {".txt", ".docx", ".pdf"} <= suffixes


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_each_gallery_document_is_read_exactly(expected_path, unit_table):
    from ingest.evaluate import evaluate_document

    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    result = evaluate_document(GALLERY / expected["document"], expected, unit_table)
    assert result.exact, "\n".join(result.problems)


def test_the_evaluation_table_is_all_ones():
    rows = table_rows(evaluate())
    overall = next(r for r in rows if r["layout"] == "all")
    assert overall["tasks"] >= 40
    assert overall["precision"] == overall["recall"] == overall["unit_role_f1"] == 1.0
    assert "| table |" in format_table(rows)


def test_the_gallery_files_match_their_declaration():
    script = GALLERY / "make_gallery.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_role_lines_after_items_give_units_not_role_words(unit_table):
    text = ("某县2024年工作要点\n一、优化营商环境\n（一）推进企业开办便利化。压缩开办时间。\n责任单位：县发展改革局、县商务局\n"
            "（二）规范涉企检查。\n牵头单位：县市场监管局 配合单位：县司法局\n")
    plan = parse_plan(text, units=unit_table)
    assert [t.responsible_units for t in plan.tasks] == [("县发展改革局", "县商务局"), ()]
    assert plan.tasks[1].lead_units == ("县市场监管局",) and plan.tasks[1].participating_units == ("县司法局",)
    assert not any("牵头" in u.name or "单位" in u.name for u in plan.units)
    assert plan.layouts == ("role-line", "annual")


@pytest.mark.parametrize("clause,lead,responsible,participating", [
    ("市住房城乡建设局牵头，各区县政府按职责分工负责", ("市住房城乡建设局",), ("各区县政府",), ()),
    ("市司法局负责", (), ("市司法局",), ()),
    ("市发展改革委、市财政局按职责分工负责", (), ("市发展改革委", "市财政局"), ()),
    ("责任单位：市司法局，配合单位：市财政局", (), ("市司法局",), ("市财政局",)),
    ("牵头：市交通局；配合：市公安局、市城管局", ("市交通局",), (), ("市公安局", "市城管局")),
    ("牵头单位：市司法局；责任单位：市政府有关部门；参加单位：各区县政府", ("市司法局",), ("市政府有关部门",),
     ("各区县政府",)),
])
def test_inline_role_phrases(clause, lead, responsible, participating):
    result = parse_unit_clause(clause, UnitTable())
    got = tuple(tuple(m.canonical for m in result.mentions if m.role == r)
                for r in ("lead", "responsible", "participating"))
    assert got == (lead, responsible, participating)


def test_an_unreadable_clause_is_a_warning_with_its_line_never_a_unit():
    result = parse_unit_clause("牵头单位：市发展改革委牵头协调；配合单位：市财政局", UnitTable(), line=12)
    assert [m.canonical for m in result.mentions] == ["市财政局"]
    warning = next(d for d in result.defects if d.kind == "unreadable_clause")
    assert warning.line == 12 and warning.severity == "warning"


def test_split_finds_bracketed_unbracketed_and_verb_clauses():
    assert split_unit_clause("做好甲。（市司法局牵头，市财政局配合）") == ("做好甲。", "市司法局牵头，市财政局配合")
    assert split_unit_clause("做好甲。责任单位：县司法局") == ("做好甲。", "责任单位：县司法局")
    assert split_unit_clause("做好甲。市司法局牵头，各区县政府负责。") == ("做好甲。", "市司法局牵头，各区县政府负责")
    # a closing parenthesis that names no unit stays in the text
    assert split_unit_clause("推进试点（含两个街道）") == ("推进试点（含两个街道）", "")


def test_relative_deadlines_are_dated_from_the_plan_year():
    found = find_deadlines("年内完成，6月底前启动，三季度评估，上半年部署，年底前总结", 2024)
    assert [(d.date, d.wording) for d in found] == [
        (dt.date(2024, 12, 31), "年内"), (dt.date(2024, 6, 30), "6月底前"), (dt.date(2024, 9, 30), "三季度"),
        (dt.date(2024, 6, 30), "上半年"), (dt.date(2024, 12, 31), "年底前")]
    assert find_deadlines("年内完成") == ()  # no year, no date
    assert find_deadlines("长期坚持", 2024) == ()


def test_timeframe_without_a_date_is_kept_as_wording(unit_table):
    text = "某区2024年重点任务清单\n序号\t重点任务\t牵头单位\t完成时限\n1\t推行合同审查\t区司法局\t长期坚持\n"
    task = parse_plan(text, units=unit_table).tasks[0]
    assert task.timeframe == "长期坚持" and task.deadlines == () and task.layout == "table"


def test_merged_and_ditto_cells_are_carried_down(unit_table):
    text = ("某区2024年任务分工\n| 序号 | 工作任务 | 牵头单位 | 完成时限 |\n| 1 | 甲 | 区司法局 | 年内 |\n"
            "| 2 | 乙 | 〃 | 同上 |\n")
    tasks = parse_plan(text, units=unit_table).tasks
    assert [t.lead_units for t in tasks] == [("区司法局",), ("区司法局",)]
    assert [t.deadlines[0].date for t in tasks] == [dt.date(2024, 12, 31)] * 2


def test_measures_without_units_are_tasks_and_the_plan_says_it_names_none(unit_table):
    plan = read_plan(GALLERY / "05-measures-provincial.txt", unit_table)
    assert len(plan.tasks) == 6 and all(t.layout == "measure" for t in plan.tasks)
    assert any(d.kind == "no_unit_clauses" for d in plan.defects)
    assert not any(d.kind == "no_unit_clause" for d in plan.defects)  # one note, not one per task


def test_a_notice_is_refused_with_one_line_unless_allowed(unit_table):
    path = GALLERY / "12-meeting-notice.txt"
    with pytest.raises(IngestError) as info:
        read_plan(path, unit_table)
    message = str(info.value)
    assert "\n" not in message and "no task found" in message and "--allow-empty" in message
    plan = parse_plan(path.read_text(encoding="utf-8"), units=unit_table, allow_empty=True)
    assert plan.title.startswith("关于召开")


def test_unit_kinds_compare_across_levels():
    assert {unit_kind(n) for n in ("县司法局", "区司法局", "市司法局", "旗司法局", "州司法局")} == {"司法局"}
    assert unit_kind("市市场监管局") == "市场监管局" and unit_kind("市场监管局") == "市场监管局"


def test_body_share_and_layouts_are_reported(bishan):
    assert bishan.layouts == ("clause",)
    assert 0.8 < bishan.body_share < 1.0


def test_readers_are_registered_by_name():
    names = {r.name for r in readers()}
    assert {"text", "docx", "pdf", "doc"} <= names


@pytest.mark.parametrize("layout", ["clause", "role-line", "inline-roles", "table", "measure"])
def test_synthetic_plans_come_in_every_layout_and_parse_whole(layout, unit_table):
    from bench.synth import generate_plan

    name, text = generate_plan(5, layout=layout)
    plan = parse_plan(text, source=name, units=unit_table)
    assert len(plan.tasks) == 74
    assert plan.layouts[0] == layout
    with_units = sum(1 for t in plan.tasks if t.lead_units or t.responsible_units)
    assert with_units == (0 if layout == "measure" else 74)


def test_synthetic_reports_read_as_their_plans_reports(unit_table):
    """bench/synth.py --reports: each report is read as one, by the plan's government, for a year of
    its period (none after 2025), with one progress statement per reported task and one more per section."""
    from analysis.evidence import government_key
    from bench.synth import REPORTED_SHARE, generate_plan, generate_report, report_years
    from ingest.report import parse_report

    for index in (1, 2, 3):
        plan = parse_plan(generate_plan(index)[1], units=unit_table)
        years = report_years(index, 5)
        assert years and years == sorted(years) and years[-1] <= 2025
        assert all(plan.period_start <= y <= (plan.period_end or y) for y in years)
        for year in years:
            name, text = generate_report(index, year)
            report = parse_report(text, source=name, units=unit_table)
            assert report.year == year and government_key(report.issuer) == government_key(plan.issuer)
            progress = [s for s in report.statements if s.kind == "progress"]
            sections = {s.heading for s in progress}
            echoes = len(progress) - len(sections)
            assert 0.2 * len(plan.tasks) < echoes < 2 * REPORTED_SHARE * len(plan.tasks)
            assert [s.kind for s in report.statements if s.kind != "progress"] == ["shortcoming", "plan"]


def test_the_synthetic_corpus_mixes_layouts():
    from bench.synth import plan_layout

    assert {plan_layout(i) for i in range(100)} == {"clause", "role-line", "inline-roles", "table", "measure"}


def _gallery_data(tmp_path: Path, with_notice: bool) -> Path:
    import shutil

    data = tmp_path / "data"
    (data / "plans").mkdir(parents=True)
    for path in GALLERY.iterdir():
        if path.suffix in (".txt", ".docx", ".pdf") and (with_notice or "notice" not in path.name):
            shutil.copy(path, data / "plans" / path.name)
    shutil.copy(Path(__file__).resolve().parent.parent / "data" / "units.toml", data / "units.toml")
    return data


def test_a_build_reports_layouts_body_share_and_tasks_without_units_per_document(tmp_path, capsys):
    from policykg.cli import main
    from policykg.manifest import read_manifest

    data = _gallery_data(tmp_path, with_notice=False)
    assert main(["build", "--no-search", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "05-measures-provincial.txt: 6 tasks, layout measure" in out and "6 task(s) without units" in out
    assert "08-table-task-division.docx: 3 tasks, layout table+annual, 100% of body text in tasks" in out
    summaries = {p.source: p for p in read_manifest(data / "build").plans}
    assert summaries["10-mixed-layouts.txt"].layouts == ["clause", "role-line", "inline-roles", "measure", "table"]
    assert summaries["10-mixed-layouts.txt"].tasks_without_units == 1
    assert 0.5 < summaries["01-clause-county-plan.txt"].body_share < 1


def test_a_build_refuses_a_document_without_tasks_in_one_line_unless_allowed(tmp_path, capsys):
    from policykg.cli import main

    data = _gallery_data(tmp_path, with_notice=True)
    assert main(["build", "--no-search", "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("policykg: error: 12-meeting-notice.txt: does not look like a plan: no task found")
    assert main(["build", "--no-search", "--allow-empty", "--data", str(data)]) == 0
    assert "12-meeting-notice.txt" in capsys.readouterr().out
    # the refusal holds for a plan the cache kept from the --allow-empty build
    assert main(["build", "--no-search", "--data", str(data)]) == 2


def test_the_readme_shows_the_evaluation_table_the_command_prints():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert format_table(table_rows(evaluate())) in readme


def test_an_appendix_table_is_its_own_chapter_after_the_plan(unit_table):
    text = ("某区2024年任务清单\n一、总则\n1．做好甲。（牵头单位：区司法局）\n附件\n序号\t工作任务\t牵头单位\n"
            "1\t乙\t区财政局\n")
    plan = parse_plan(text, units=unit_table)
    assert [(c.number, c.title) for c in plan.chapters] == [(1, "总则"), (2, "附件")]
    assert [(t.text, t.chapter, t.layout) for t in plan.tasks] == [("做好甲。", 1, "clause"), ("乙", 2, "table")]


@pytest.mark.parametrize("issuer", ["新疆维吾尔自治区乌鲁木齐市沙依巴克区", "重庆市沙坪坝区", "广西壮族自治区柳州市柳南区"])
def test_a_long_issuer_keeps_the_title_and_the_measures(issuer):
    """A title line was read as preamble when it passed 40 characters (a region, a city and a
    three-character district): the measures plan then had no title and was refused as no plan."""
    title = f"{issuer}关于加快建设法治政府的实施意见（2023—2027年）"
    text = "\n".join([title, "", "为推进法治政府建设，结合实际，制定本意见。", "",
                      "一、健全依法行政制度体系", "（一）完善重大行政决策程序。严格落实重大行政决策程序规定。",
                      "（二）加强行政规范性文件管理。全面落实合法性审核机制。"])
    plan = parse_plan(text, source="measures.txt")
    assert plan.title == title
    assert plan.period_start == 2023 and len(plan.tasks) == 2
    assert plan.id.endswith("-2023-2027") and plan.id.count("-") >= 3
