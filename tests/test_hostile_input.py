"""Plans arrive as whatever a website offers: each input gives a graph with warnings or one clear line."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import IngestError, parse_plan, read_plan
from policykg.cli import main


def test_a_plan_cut_off_mid_task_is_built_with_warnings(tmp_path, plan_file, unit_table):
    text = plan_file.read_text(encoding="utf-8")
    cut = text[: text.index("重点部门行政调解组织建成率达100%")]  # inside task 40
    path = tmp_path / "truncated.txt"
    path.write_text(cut, encoding="utf-8")
    plan = read_plan(path, unit_table)
    assert [t.number for t in plan.tasks] == list(range(1, 41))
    assert plan.tasks[-1].unit_clause == "" and plan.tasks[-1].lead_units == ()
    assert any(d.kind == "no_unit_clause" and "task 40" in d.message for d in plan.defects)


@pytest.mark.slow
def test_a_10_mb_plan_parses_in_bounded_time(plan_file, unit_table):
    text = plan_file.read_text(encoding="utf-8")
    head, body = text[: text.index("二、健全政府机构")], text[text.index("二、健全政府机构"): text.index("全区各级各部门")]
    big = head + body * 252
    assert len(big.encode("utf-8")) > 10_000_000
    started = time.perf_counter()
    plan = parse_plan(big, units=unit_table)
    assert time.perf_counter() - started < 120
    assert len(plan.tasks) == 74 * 252
    assert any(d.kind == "chapter_numbering" for d in plan.defects)  # 一、二、…十、二、… repeats


def test_files_over_the_size_limit_are_refused(tmp_path, monkeypatch):
    from ingest import reader

    monkeypatch.setattr(reader, "MAX_BYTES", 1000)
    path = tmp_path / "huge.txt"
    path.write_bytes("一、总则\n".encode() * 200)
    with pytest.raises(IngestError, match="MB limit"):
        reader.read_source(path)


def test_mixed_full_and_half_width_numbering(unit_table):
    text = ("某区法治政府建设实施方案（2021—2025年）\n一、总则\n(一)第一节\n1.甲。（牵头单位：区司法局）\n"
            "２．乙。（牵头单位：区司法局）\n（二）第二节\n3、丙。（牵头单位：区司法局）\n")
    plan = parse_plan(text, units=unit_table)
    assert [(t.number, t.section) for t in plan.tasks] == [(1, 1), (2, 1), (3, 2)]
    assert [s.label for s in plan.sections] == ["(一)", "（二）"]


def _run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    return code, err


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=600).map(lambda s: s.encode("utf-8")),
    st.text(alphabet="一二三、（）1234．。牵头单位：责任区司法局；\n ", max_size=400).map(lambda s: s.encode("gb18030")),
))
def test_cli_build_on_arbitrary_bytes_never_shows_a_traceback(tmp_path_factory, capsys, payload):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "plan.txt"
    path.write_bytes(payload)
    config_dir = folder / "data"
    code, err = _run_cli(["build", "--no-search", "--data", str(config_dir), str(path)], capsys)
    assert code in (0, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err.strip().splitlines()[-1].startswith("policykg: error: ")


def test_unknown_command_and_bad_flags_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_directory_without_plans_is_one_line(tmp_path, capsys):
    (tmp_path / "plans").mkdir()
    code, err = _run_cli(["build", "--no-search", "--data", str(tmp_path)], capsys)
    assert code == 2 and "no plan files" in err and len(err.strip().splitlines()) == 1


def test_unit_table_errors_name_the_file(tmp_path, capsys, plan_file):
    data = tmp_path / "data"
    (data / "plans").mkdir(parents=True)
    (data / "plans" / "p.txt").write_bytes(plan_file.read_bytes())
    (data / "units.toml").write_text("[[unit]]\nname = \n", encoding="utf-8")
    code, err = _run_cli(["build", "--no-search", "--data", str(data)], capsys)
    assert code == 2 and "units.toml" in err and "not valid TOML" in err


def test_unresolved_units_are_reported_not_dropped(unit_table):
    text = "方案\n一、总则\n1．做好甲。（牵头单位：区新成立局；责任单位：区司法局）\n"
    plan = parse_plan(text, units=unit_table)
    assert plan.tasks[0].lead_units == ("区新成立局",)
    assert any(d.kind == "unresolved_unit" and "区新成立局" in d.message for d in plan.defects)
