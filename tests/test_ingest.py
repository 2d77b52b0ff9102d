"""The Bishan plan, read exactly: structure, units per task, deadlines, targets and defects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest import IngestError, parse_plan, read_plan
from ingest.clauses import parse_unit_clause, split_unit_clause
from ingest.extract import find_deadlines, find_targets
from ingest.numerals import chinese_to_int, int_to_chinese
from ingest.records import plan_from_dict, plan_to_dict
from ingest.units import parse_unit_table

FIXTURES = Path(__file__).parent / "fixtures"


def expected_units() -> dict[str, tuple[tuple[str, ...], ...]]:
    rows = {}
    for line in (FIXTURES / "bishan_units.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, *roles = line.split("\t")
        rows[label] = tuple(tuple(x for x in r.split("|") if x) for r in roles)
    return rows


def test_plan_metadata(bishan):
    assert bishan.title == "重庆市璧山区法治政府建设实施方案（2021—2025年）"
    assert bishan.issuer == "重庆市璧山区"
    assert (bishan.period_start, bishan.period_end) == (2021, 2025)
    assert bishan.status == "征求意见稿"
    assert bishan.id == "chongqing-bishan-2021-2025"
    assert bishan.preamble.startswith("为全面深入贯彻落实")
    assert bishan.closing.startswith("全区各级各部门要")


def test_ten_chapters_in_order(bishan):
    assert [c.number for c in bishan.chapters] == list(range(1, 11))
    assert bishan.chapters[0].title == "深入学习贯彻习近平法治思想，努力实现法治政府建设全面突破"
    assert bishan.chapters[9].title == "加强党的领导，完善法治政府建设推进机制"
    assert bishan.chapters[0].text.startswith("高举中国特色社会主义伟大旗帜")


def test_31_sections_by_position_with_the_draft_numbering(bishan):
    sections = bishan.sections
    assert len(sections) == 31
    assert [s.position for s in sections] == list(range(1, 32))
    printed = [s.printed_number for s in sections]
    assert printed == [*range(1, 27), 28, 28, 29, 30, 31]  # no （二十七）, （二十八） twice
    first, second = sections[26], sections[27]
    assert first.label == second.label == "（二十八）"
    assert first.title == "深入推进“互联网+”监管执法" and first.chapter == 9
    assert second.title == "加强党对法治政府建设的领导" and second.chapter == 10


def test_74_tasks_with_full_text_and_no_unit_clause(bishan):
    tasks = bishan.tasks
    assert [t.number for t in tasks] == list(range(1, 75))
    t22 = tasks[21]
    assert t22.text.startswith("加强川渝执法协同。") and t22.text.endswith("协作打击违法行为。")
    assert "单位" not in t22.text
    assert tasks[73].text.endswith("选树宣传一批法治政府建设先进典型。")
    assert tasks[73].unit_clause.startswith("牵头单位：区委宣传部")
    # tasks belong to the section they follow; the two （二十八） keep their tasks apart
    assert {t.number for t in tasks if t.section == 27} == {61, 62}
    assert {t.number for t in tasks if t.section == 28} == {63, 64}


def test_units_of_every_task(bishan):
    expected = expected_units()
    assert len(expected) == 74
    for t in bishan.tasks:
        assert (t.lead_units, t.responsible_units, t.participating_units) == expected[t.label], t.label


def test_collectives_are_single_units(bishan):
    names = {u.name: u for u in bishan.units}
    towns = names["各镇人民政府、街道办事处"]
    assert towns.collective and towns.type == "collective"
    assert "各镇人民政府" not in names and "街道办事处" not in names
    for collective in ("区政府有关部门", "区政府各部门", "区级各部门", "区级有关单位"):
        assert names[collective].type == "collective"
    assert names["区委组织部"].type == "party"
    assert names["区法院"].type == "judicial"
    assert names["区人大常委会办公室"].type == "congress"
    assert names["区司法局"].type == "government"
    # 区卫生健康委、区应急局等区政府有关部门: named units and the collective
    assert bishan.tasks[7].responsible_units == ("区卫生健康委", "区应急局", "区政府有关部门",
                                                 "各镇人民政府、街道办事处")


def test_truncated_and_inconsistent_names_resolve_and_are_reported(bishan):
    t15 = bishan.tasks[14]
    assert "各镇人民政府、街道办事处" in t15.responsible_units
    assert any(m.raw == "各镇人民政府、街道办事" for m in t15.mentions)
    messages = [d.message for d in bishan.defects]
    assert any("'各镇人民政府、街道办事' is cut off" in m for m in messages)
    assert any("'区公安局' differs from '区公安分局'" in m for m in messages)
    assert any("市政府有关部门" in m and "municipal" in m for m in messages)
    assert "区公安局" in bishan.unit("区公安分局").aliases


def test_defects_name_the_section_numbering(bishan):
    numbering = [d for d in bishan.defects if d.kind == "section_numbering"]
    assert any("skips （二十七）" in d.message and d.line == 182 for d in numbering)
    assert any("（二十八） is printed again" in d.message and d.line == 190 for d in numbering)
    assert all(d.severity in ("info", "warning") for d in bishan.defects)


def test_a_unit_listed_twice_keeps_its_strongest_role(bishan):
    t14 = bishan.tasks[13]
    assert "区司法局" in t14.lead_units and "区司法局" not in t14.responsible_units
    assert any(d.kind == "duplicate_unit" and "task 14" in d.message for d in bishan.defects)


def test_deadlines_and_targets(bishan):
    by_number = {t.number: t for t in bishan.tasks}
    assert [(d.date, d.wording) for d in by_number[40].deadlines] == [(dt.date(2022, 12, 31), "到2022年底")]
    assert [(d.date, d.wording) for d in by_number[42].deadlines] == [(dt.date(2022, 12, 31), "2022年底前")]
    assert [d.date for d in by_number[51].deadlines] == [dt.date(2024, 12, 31)]
    assert [d.date for d in by_number[56].deadlines] == [dt.date(2023, 12, 31)]
    assert [(d.date, d.wording) for d in by_number[58].deadlines] == [(dt.date(2025, 12, 31), "2025年底")]
    with_deadline = sorted(t.number for t in bishan.tasks if t.deadlines)
    assert with_deadline == [40, 42, 51, 56, 58]
    phrases = {t.number: [x.phrase for x in t.targets] for t in bishan.tasks if t.targets}
    assert phrases == {16: ["达到100%"], 28: ["3个领域"], 40: ["达100%"], 68: ["不低于5%"],
                       70: ["两期以上", "至少接受一次"], 73: ["不少于60学时"]}
    sixty = by_number[73].targets[0]
    assert (sixty.value, sixty.unit, sixty.comparator) == (60.0, "学时", ">=")


def test_records_round_trip_through_json(bishan):
    assert plan_from_dict(plan_to_dict(bishan)) == bishan


# --- the pieces, on small inputs ----------------------------------------------------------------

TABLE = parse_unit_table("""
[[unit]]
name = "各镇人民政府、街道办事处"
type = "collective"
[[unit]]
name = "区政府有关部门"
type = "collective"
[[unit]]
name = "区司法局"
type = "government"
""")


def test_clause_forms():
    body, clause = split_unit_clause("做好工作。（牵头单位：区委党校（行政学院）；责任单位：区政府有关部门）")
    assert body == "做好工作。" and clause == "牵头单位：区委党校（行政学院）；责任单位：区政府有关部门"
    result = parse_unit_clause("责任单位：区政府有关部门按职责分工负责", TABLE)
    assert [(m.canonical, m.role) for m in result.mentions] == [("区政府有关部门", "responsible")]
    result = parse_unit_clause("牵头单位：区司法局；参加单位：区政府有关部门，各镇人民政府、街道办事处", TABLE)
    assert [(m.canonical, m.role) for m in result.mentions] == [
        ("区司法局", "lead"), ("区政府有关部门", "participating"), ("各镇人民政府、街道办事处", "participating")]
    result = parse_unit_clause("责任单位：区新设局", TABLE)
    assert result.mentions[0].canonical == "区新设局"
    assert [d.kind for d in result.defects] == ["unresolved_unit"]


def test_text_in_brackets_that_is_not_a_unit_clause_stays_in_the_task():
    body, clause = split_unit_clause("推进“三合一”常态化（试点）")
    assert clause == "" and body.endswith("（试点）")


@pytest.mark.parametrize("text,value", [("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("二十八", 28),
                                        ("三十一", 31), ("九十九", 99), ("一百零五", 105)])
def test_chinese_numerals(text, value):
    assert chinese_to_int(text) == value
    assert chinese_to_int(int_to_chinese(value)) == value


def test_deadline_forms():
    assert find_deadlines("到2022年底，完成") == (find_deadlines("到2022年底")[0],)
    assert find_deadlines("2023年6月底前完成")[0].date == dt.date(2023, 6, 30)
    assert find_deadlines("２０２４年底前")[0].date == dt.date(2024, 12, 31)
    assert find_deadlines("每年开展一次") == ()


def test_target_forms():
    assert [t.phrase for t in find_targets("覆盖率不低于95%，每年不少于2次")] == ["不低于95%", "不少于2次"]
    assert find_targets("落实“三个区分开来”要求") == ()


# --- not a plan ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t  ", "这是一段普通的文字，没有章节也没有任务。"])
def test_text_that_is_not_a_plan_is_one_clear_error(text):
    with pytest.raises(IngestError) as info:
        parse_plan(text, source="x.txt")
    assert "x.txt" in str(info.value) and "\n" not in str(info.value)


def test_full_width_and_half_width_task_numbers(unit_table):
    text = "某区方案（2021—2025年）\n一、总则\n（一）第一节\n1．甲。（牵头单位：区司法局）\n２．乙。（牵头单位：区司法局）\n3. 丙。（牵头单位：区司法局）\n"
    plan = parse_plan(text, units=unit_table)
    assert [t.number for t in plan.tasks] == [1, 2, 3]
    assert all(t.lead_units == ("区司法局",) for t in plan.tasks)


def test_a_plan_without_unit_clauses_is_built_with_a_warning(unit_table):
    plan = parse_plan("方案\n一、总则\n1．做好甲。\n2．做好乙。\n", units=unit_table)
    assert len(plan.tasks) == 2
    assert any(d.kind == "no_unit_clauses" for d in plan.defects)


def test_read_plan_names_the_file_for_missing_input(tmp_path):
    with pytest.raises(IngestError, match=r"missing\.txt: file not found"):
        read_plan(tmp_path / "missing.txt")
