"""The layouts a plan's tasks are printed in, named once for records, reports and the evaluation.

A task's layout is read from how its units were given (``task_layout``); a plan lists the layouts of
its tasks, most tasks first, plus ``annual`` when it is an annual work plan whose relative deadlines
(年内, 6月底前, 三季度) are dated from its year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .outline import Node

CLAUSE = "clause"  # 1. numbered item with a trailing bracketed labelled clause （牵头单位：…；责任单位：…）
ROLE_LINE = "role-line"  # 2. item followed by a role line 责任单位：… (own line or end of paragraph)
INLINE = "inline-roles"  # 3. role verbs after the names: （X牵头，Y配合）, X负责, 牵头：X；配合：Y
TABLE = "table"  # 4. a row of a task-division table
MEASURE = "measure"  # 5. a measure with no units
ANNUAL = "annual"  # 6. (plan level) an annual work plan with deadlines relative to its year
TASK_LAYOUTS: tuple[str, ...] = (CLAUSE, ROLE_LINE, INLINE, TABLE, MEASURE)
LAYOUTS: tuple[str, ...] = (*TASK_LAYOUTS, ANNUAL)
LAYOUT_ZH: dict[str, str] = {
    CLAUSE: "条目+括注分工",
    ROLE_LINE: "条目+分工行",
    INLINE: "行内分工",
    TABLE: "任务分工表",
    MEASURE: "无分工措施",
    ANNUAL: "年度工作要点",
}
NO_TASK_MESSAGE = (
    "does not look like a plan: no task found (looked for numbered items 1．/（一）/一、/1、/（1）/① carrying a "
    "measure, role lines 责任单位：…, inline roles X牵头 and task tables 序号|工作任务|牵头单位)"
)


def task_layout(node: Node, has_units: bool, bracketed: bool, form: str) -> str:
    if node.row is not None:
        return TABLE
    if not has_units:
        return MEASURE
    if form == "verbs" or (bracketed and _short_labels(node)):
        return INLINE
    if bracketed:
        return CLAUSE
    return ROLE_LINE


def _short_labels(node: Node) -> bool:
    """牵头：X；配合：Y inside brackets reads as an inline phrase, not as Bishan's labelled clause."""
    text = "".join(node.parts)
    return any(f"（{w}：" in text or f"；{w}：" in text for w in ("牵头", "配合", "参与", "协办", "主办"))
