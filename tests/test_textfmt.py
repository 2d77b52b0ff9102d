"""Plain-text tables line up by display width (rich's cell measure), not by character count."""

from __future__ import annotations

from graph.textfmt import clip, table, width


def test_columns_start_at_the_same_display_column_with_cjk_and_combining_marks() -> None:
    rows = [("区司法局", "政府部门", 26), ("各镇人民政府、街道办事处", "集合主体", 3), ("cafe\u0301 x", None, 1)]
    lines = table(["单位", "类型", "牵头"], rows).splitlines()
    assert len(lines) == 2 + len(rows) and lines[1].startswith("----")
    starts = set()
    for line, third in zip(lines[2:], ["26", "3", "1"], strict=True):
        starts.add(width(line[: line.rindex(third)]))
        assert line == line.rstrip()
    assert len(starts) == 1  # the last column starts at one display column in every row
    assert width("各镇") == 4 and width("e\u0301") == 1


def test_clip_marks_the_cut_and_never_exceeds_the_limit() -> None:
    assert clip("各镇人民政府、街道办事处", 9) == "各镇人民…"
    assert clip("a各镇人民政府", 8) == "a各镇人…"
    assert clip("a各镇人民政府", 7) == "a各镇…"  # a double-width character is not split in half
    assert clip("tab\tand\n newline", 60) == "tab and newline"
    for limit in range(2, 20):
        assert width(clip("法治政府建设实施方案（2021—2025年）", limit)) <= limit
