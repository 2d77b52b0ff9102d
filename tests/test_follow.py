"""Follow-through (issue #15): annual reports → statements → evidence links to the plan's tasks.

The reports are the Bishan 2022 and 2023 reports of data/reports (written for policykg in the
published style); the judged links are tests/eval/evidence.toml. The session build (conftest
``built``) has both reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from analysis import evaluate_evidence
from analysis.evidence import THRESHOLD, EvidenceLinker, plans_for_report
from analysis.progress import task_progress
from graph.namespaces import PREFIXES
from graph.reports import report_ntriples
from graph.validate import validate
from ingest import IngestError
from ingest.reader import read_source
from ingest.records import Plan
from ingest.report import document_kind, find_figures, is_report_title, parse_report
from ingest.report_records import Report, report_from_dict, report_to_dict
from policykg.build import Build, build
from policykg.config import Config
from sparql.queries import get_query
from tests.conftest import DATA, ROOT, copy_data

REPORT_2022 = DATA / "reports" / "chongqing-bishan-report-2022.txt"
REPORT_2023 = DATA / "reports" / "chongqing-bishan-report-2023.txt"


@pytest.fixture(scope="module")
def reports(bishan: Plan, unit_table: Any) -> list[Report]:
    known = {n for u in bishan.units for n in (u.name, *u.aliases)}
    out = []
    for path in (REPORT_2022, REPORT_2023):
        src = read_source(path)
        out.append(parse_report(src.text, source=src.source, units=unit_table, known_units=known, sha256=src.sha256))
    return out


def statement(report: Report, start: str) -> Any:
    (s,) = [s for s in report.statements if s.text.startswith(start)]
    return s


# --- parsing ------------------------------------------------------------------------------------


def test_report_header_year_government_and_id(reports: list[Report]) -> None:
    r22, r23 = reports
    assert r22.title == "重庆市璧山区人民政府关于2022年度法治政府建设情况的报告"
    assert (r22.issuer, r22.year, r22.id) == ("重庆市璧山区", 2022, "chongqing-bishan-report-2022")
    # the 2023 title is broken over two lines, as published titles often are
    assert r23.title == "重庆市璧山区人民政府关于2023年度法治政府建设情况的报告" and r23.year == 2023
    assert r22.preamble.startswith("2022年，区政府") and not r22.defects


def test_statements_are_items_and_paragraphs_with_their_headings(reports: list[Report]) -> None:
    r22 = reports[0]
    # （一）heading。一是…二是…三是… on one line gives three statements under that heading
    first = r22.statements[:3]
    assert [s.label for s in first] == ["一是", "二是", "三是"]
    assert all(s.line == first[0].line and "统筹推进法治政府建设" in s.heading for s in first)
    assert first[1].text.startswith("落实第一责任人职责。")
    # a numbered item 1．… is one statement, its title kept in its text and heading
    s = statement(r22, "推进权责清单动态管理")
    assert s.label == "1." and s.heading.endswith("推进权责清单动态管理")
    # inside a numbered item, 一是/二是 split it
    assert statement(r22, "推进“证照分离”改革").label == "二是"
    # a paragraph without markers is one statement
    assert statement(r22, "区经济信息委推进政务数据共享").label == ""


def test_kinds_follow_the_chapter(reports: list[Report]) -> None:
    r22 = reports[0]
    kinds = [s.kind for s in r22.statements]
    assert kinds.count("shortcoming") == 3 and kinds.count("plan") == 3
    assert set(kinds) == {"progress", "shortcoming", "plan"}
    assert statement(r22, "基层法治力量较为薄弱").kind == "shortcoming"
    assert statement(r22, "加强行政执法协调监督工作体系建设").kind == "plan"


def test_units_and_figures_of_a_statement(reports: list[Report]) -> None:
    s = statement(reports[0], "发挥法律顾问作用")
    assert [(f.phrase, f.value, f.unit) for f in s.figures] == [("39份", 39.0, "份"), ("210件", 210.0, "件")]
    s = statement(reports[0], "加强行刑衔接")
    assert s.units == ("区检察院", "区公安分局")
    s = statement(reports[0], "持续推进“最多跑一次”")
    assert [(f.phrase, f.value) for f in s.figures] == [("4.6万件", 46000.0), ("92%", 92.0)]
    assert [f.unit for f in find_figures("各单位开展学习200余场次，2022年底前完成")] == ["场次"]


def test_report_titles_and_document_kind(plan_file: Path) -> None:
    for title in ("重庆市璧山区人民政府关于2022年度法治政府建设情况的报告", "重庆市铜梁区2023年法治政府建设工作报告",
                  "某某区司法局2023年工作总结", "关于2021年法治政府建设情况的报告"):
        assert is_report_title(title), title
    assert not is_report_title("重庆市璧山区法治政府建设实施方案（2021—2025年）")
    assert document_kind(REPORT_2023.read_text(encoding="utf-8")) == "report"
    assert document_kind(plan_file.read_text(encoding="utf-8")) == "plan"


def test_json_round_trip(reports: list[Report]) -> None:
    for r in reports:
        assert report_from_dict(json.loads(json.dumps(report_to_dict(r), ensure_ascii=False))) == r


def test_a_report_in_word_and_gb18030_reads_the_same(tmp_path: Path, reports: list[Report], unit_table: Any) -> None:
    import docx

    text = REPORT_2022.read_text(encoding="utf-8")
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    document.save(tmp_path / "r.docx")
    (tmp_path / "r.txt").write_bytes(text.encode("gb18030"))
    for name in ("r.docx", "r.txt"):
        src = read_source(tmp_path / name)
        got = parse_report(src.text, source=name, units=unit_table)
        assert [s.text for s in got.statements] == [s.text for s in reports[0].statements]


def test_not_a_report_is_one_clear_error() -> None:
    with pytest.raises(IngestError, match="no statements"):
        parse_report("关于2022年度法治政府建设情况的报告\n\n没有章节的正文。", source="x.txt")
    with pytest.raises(IngestError, match="no text"):
        parse_report("  \n", source="x.txt")


# --- linking ------------------------------------------------------------------------------------


def test_linking_meets_the_targets_on_the_judged_links(reports: list[Report], bishan: Plan, tmp_path: Path) -> None:
    """Precision@1 ≥ 0.85 and recall ≥ 0.90 (issue #15); the README quotes the evaluation's figures.

    Scored under the model the weights were chosen with (evidence.MODEL), as the build links."""
    from analysis import evidence
    from search.engine import SearchEngine

    judgements, _ = evaluate_evidence.load_judgements()
    linker = EvidenceLinker(SearchEngine.build([bishan], tmp_path / "search", model=evidence.MODEL))
    links = [lk for r in reports for lk in linker.link_report(r, [bishan])]
    metrics, rows = evaluate_evidence.evaluate(judgements, reports, links)
    assert metrics.precision_at_1 >= 0.85, rows
    assert metrics.recall >= 0.90, rows
    assert metrics.unlinked_right >= 0.9
    assert all(THRESHOLD <= lk.score <= 1 and lk.reason.startswith("语义相似") for lk in links)
    # a unit the statement names, when it is a unit of the task, is said in the reason
    lk = next(lk for lk in links if lk.text.startswith("加强行政调解"))
    assert lk.task == "40" and lk.units == ("区司法局",) and "单位：区司法局" in lk.reason


def test_linking_holds_on_the_held_out_report(bishan: Plan, tmp_path: Path) -> None:
    """The 2021 report was written and judged after the weights and thresholds were fixed.

    Scored under the model the weights were chosen with (evidence.MODEL), as the build links."""
    from analysis import evidence
    from search.engine import SearchEngine

    held_out = ROOT / "tests" / "eval" / "evidence_heldout.toml"
    judgements, _ = evaluate_evidence.load_judgements(held_out)
    reports = evaluate_evidence.read_reports(ROOT / "tests" / "fixtures" / "reports", [bishan], DATA / "units.toml")
    linker = EvidenceLinker(SearchEngine.build([bishan], tmp_path / "search", model=evidence.MODEL))
    links = [lk for r in reports for lk in linker.link_report(r, [bishan])]
    metrics, rows = evaluate_evidence.evaluate(judgements, reports, links, held_out.name)
    assert metrics.precision_at_1 >= 0.85 and metrics.recall >= 0.90, rows


def test_reports_go_to_their_governments_plans_in_their_period(reports: list[Report], bishan: Plan) -> None:
    from dataclasses import replace

    assert plans_for_report(reports[0], [bishan]) == [bishan]
    assert plans_for_report(replace(reports[0], year=2019), [bishan]) == []
    assert plans_for_report(replace(reports[0], issuer="重庆市永川区"), [bishan]) == []


def test_removing_a_reports_triples_leaves_the_plan_whole(reports: list[Report], bishan: Plan) -> None:
    from graph.corpus import patch_store, plan_ntriples
    from policykg.follow import _owned

    nt = report_ntriples(reports[0], [bishan], [])
    store_dir = Path(__import__("tempfile").mkdtemp())
    try:
        store = ox.Store(str(store_dir / "s"))
        store.load(plan_ntriples(bishan), format=ox.RdfFormat.N_TRIPLES)
        before = set(store)
        store.load(nt, format=ox.RdfFormat.N_TRIPLES)
        del store
        triples = [q.triple for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)]
        patch_store(store_dir / "s", _owned(triples, reports[0].id), [])
        assert set(ox.Store(str(store_dir / "s"))) == before
    finally:
        shutil.rmtree(store_dir)


# --- the build ----------------------------------------------------------------------------------


def test_the_build_has_the_reports_and_their_links(built: Build) -> None:
    assert [r.id for r, _p, _l in built.reports] == ["chongqing-bishan-report-2022", "chongqing-bishan-report-2023"]
    for _report, plans, links in built.reports:
        assert plans == ["chongqing-bishan-2021-2025"] and len(links) > 25
    assert built.counts.reports == 2 and built.counts.evidence_links == sum(len(x[2]) for x in built.reports)
    shacl = validate(built.store.rdflib_graph())
    assert shacl.conforms, shacl.text[:2000]


def test_evidence_in_the_graph_matches_the_records(built: Build) -> None:
    q = """SELECT (COUNT(*) AS ?n) WHERE { ?l a pk:EvidenceLink ; pk:linkFrom ?s ; pk:linkTo ?t ; pk:score ?score .
           ?s pk:evidences ?t ; pk:inReport ?r . ?r prov:wasAttributedTo ?gov . ?plan pk:issuer ?gov .
           ?t pk:inPlan ?plan . ?r pk:reportsOn ?plan }"""
    (row,) = list(built.store.query(q))
    assert int(row[0].value) == built.counts.evidence_links


def test_canned_follow_through_queries_answer_what_the_records_say(built: Build) -> None:
    links = [lk for _r, _p, lks in built.reports for lk in lks]
    store = built.store
    rows = list(store.query(get_query("overdue-unreported").text))
    progress = task_progress(built.plans, links, as_of=__import__("datetime").date.today())
    overdue = [p.task for p in progress if p.status == "overdue-unreported"]
    assert sorted(int(r["number"].value) for r in rows) == sorted(map(int, overdue)) and overdue
    rows = list(store.query(get_query("tasks-without-evidence-by-year").text))
    for year in (2022, 2023):
        evidenced = {lk["task"] for lk in links if lk["year"] == year}
        got = {r["number"].value for r in rows if int(r["year"].value) == year}
        assert got == {t.label for t in built.plans[0].tasks} - evidenced
    rows = {r["unitLabel"].value: r for r in store.query(get_query("follow-through-by-unit").text)}
    sifa = rows["区司法局"]
    tasks = [t for t in built.plans[0].tasks if "区司法局" in (*t.lead_units, *t.responsible_units)]
    reported = {lk["position"] for lk in links}
    assert int(sifa["tasks"].value) == len(tasks)
    assert int(sifa["reported"].value) == sum(t.position in reported for t in tasks)


def test_adding_a_report_links_only_that_report(tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")
    (data / "reports").mkdir()
    shutil.copy(REPORT_2022, data / "reports" / REPORT_2022.name)
    config = Config(data_dir=data)
    build(config)
    first = Build.open(config, auto_build=False)
    assert first.manifest.incremental.reports.linked == ["chongqing-bishan-report-2022"]
    first_triples = set(first.store.ox)  # old builds are pruned: keep what it holds
    shutil.copy(REPORT_2023, data / "reports" / REPORT_2023.name)
    assert not first.is_current()  # a new report makes the build stale
    build(config)
    second = Build.open(config, auto_build=False)
    done = second.manifest.incremental
    assert (done.reports.linked, done.reports.reused, done.reports.removed) == (
        ["chongqing-bishan-report-2023"], ["chongqing-bishan-report-2022"], [])
    assert done.parsed == [] and done.embedded_texts == 0
    # the store is what a full build of both reports gives
    full_data = copy_data(tmp_path / "full", reports=True)
    build(Config(data_dir=full_data))
    full = Build.open(Config(data_dir=full_data), auto_build=False)
    assert set(second.store.ox) == set(full.store.ox)
    # and removing one takes exactly its triples out again
    (data / "reports" / REPORT_2023.name).unlink()
    build(config)
    third = Build.open(config, auto_build=False)
    assert third.manifest.incremental.reports.removed == ["chongqing-bishan-report-2023"]
    assert set(third.store.ox) == first_triples


def test_a_report_given_on_the_command_line_is_recognised_by_its_title(tmp_path: Path) -> None:
    data = copy_data(tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-m", "policykg.cli", "build", "--data", str(data), "--no-search",
         str(data / "plans"), str(REPORT_2023)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "1 plan(s)" in out.stdout and "1 report(s)" in out.stdout
    b = Build.open(Config(data_dir=data), auto_build=False)
    assert [r.id for r, _p, _l in b.reports] == ["chongqing-bishan-report-2023"]


# --- the CLI ------------------------------------------------------------------------------------


def run_cli(config: Config, *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "policykg.cli", *args, "--data", str(config.data_dir)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_evidence_rows(built: Build, config: Config) -> None:
    rows = json.loads(run_cli(config, "evidence", "--json", "--year", "2022"))
    assert rows and {"report", "year", "line", "text", "plan", "task", "score", "units"} <= set(rows[0])
    assert all(r["year"] == 2022 for r in rows)
    text = REPORT_2022.read_text(encoding="utf-8").splitlines()
    for r in rows:  # each row's line is where its statement stands in the report
        assert r["text"][:8] in text[r["line"] - 1]
    one = json.loads(run_cli(config, "evidence", "--json", "--task", "42"))
    assert [(r["year"], r["task"]) for r in one] == [(2022, "42")]
    assert "区司法局" in run_cli(config, "evidence", "--task", "40")


def test_cli_progress_lists_overdue_and_unreported_first(built: Build, config: Config) -> None:
    rows = json.loads(run_cli(config, "progress", "--json", "--as-of", "2026-06-30"))
    statuses = [r["status"] for r in rows]
    assert statuses == sorted(statuses, key=["overdue-unreported", "unreported", "reported"].index)
    first = rows[0]
    assert first["status"] == "overdue-unreported" and first["task"] == "51" and first["years"] == [2023]
    # as of a date before any deadline nothing is overdue
    early = json.loads(run_cli(config, "progress", "--json", "--as-of", "2021-06-30"))
    assert not any(r["status"] == "overdue-unreported" for r in early)
    assert "逾期未报告" in run_cli(config, "progress", "--as-of", "2026-06-30")
    assert PREFIXES["prov"] == "http://www.w3.org/ns/prov#"
