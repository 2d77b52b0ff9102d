"""Property tests: whatever text arrives, the parser gives a plan or one clear IngestError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import IngestError, parse_plan
from ingest.clauses import parse_unit_clause, split_unit_clause
from ingest.extract import find_deadlines, find_targets
from ingest.records import plan_from_dict, plan_to_dict

PIECES = ["一、", "二、", "十、", "（一）", "（二十八）", "（）", "1．", "２．", "3.", "74．", "（牵头单位：", "；责任单位：",
          "参加单位：", "区司法局", "、", "，", "等区政府有关部门", "各镇人民政府、街道办事", "）", "。", "\n", "\n\n",
          "2023年底前", "到2022年底", "100%", "不少于60学时", "两期以上", "  ", "\u3000", "\ufeff", "附件",
          "（征求意见稿）", "重庆市某区方案（2021—2025年）",
          # the other layouts: role lines, inline roles, tables, annual plans, other numbering marks
          "责任单位：", "牵头单位：区司法局 配合单位：", "牵头：", "（区司法局牵头，", "按职责分工负责）", "负责）",
          "序号\t重点任务\t牵头单位\t完成时限\n", "\t", " | ", "〃", "同上", "某县2024年工作要点\n", "6月底前", "年内",
          "三季度", "长期坚持", "（1）", "①", "1、", "附件\n", "完成时限："]
plan_like = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=60).map("".join)
settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@given(st.text(max_size=400))
def test_arbitrary_text_gives_a_plan_or_one_clear_error(text):
    try:
        plan = parse_plan(text, source="fuzz.txt")
    except IngestError as exc:
        assert str(exc).startswith("fuzz.txt") and "\n" not in str(exc)
    else:
        assert plan_from_dict(plan_to_dict(plan)) == plan


@given(plan_like)
def test_plan_like_text_keeps_its_invariants(text):
    try:
        plan = parse_plan(text, source="fuzz.txt")
    except IngestError:
        return
    assert [s.position for s in plan.sections] == list(range(1, len(plan.sections) + 1))
    assert [t.position for t in plan.tasks] == list(range(1, len(plan.tasks) + 1))
    unit_names = {u.name for u in plan.units}
    for task in plan.tasks:
        assert task.chapter in {c.number for c in plan.chapters}
        assert task.section is None or 1 <= task.section <= len(plan.sections)
        named = task.lead_units + task.responsible_units + task.participating_units
        assert len(named) == len(set(named))  # a unit has one role per task
        assert set(named) <= unit_names
        assert all(d.wording in task.text or d.wording in task.timeframe for d in task.deadlines)
        assert all(t.phrase in task.text for t in task.targets)
    assert all(d.severity in ("info", "warning", "error") for d in plan.defects)


@given(st.text(max_size=200))
def test_clause_helpers_never_crash(text):
    body, clause = split_unit_clause(text)
    assert clause in text and body.strip() in text
    parse_unit_clause(text, _table())
    find_deadlines(text)
    find_targets(text)


def _table():
    from ingest.units import UnitTable

    return UnitTable()
