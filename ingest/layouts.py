"""The layouts a plan's tasks are printed in, named once for records, reports and the evaluation.

A task's layout is read from how its units were given (``task_layout``); a plan lists the layouts of
its tasks, most tasks first, plus ``annual`` when it is an annual work plan whose relative deadlines
(年内, 6月底前, 三季度) are dated from its year.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .header import PLAN_WORD

if TYPE_CHECKING:
    from .outline import Node
    from .records import Plan

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
# a title that names a plan: items without units under it are measures (a notice's 一、会议时间 is not)
NO_TASK_MESSAGE = (
    "does not look like a plan: no task found (looked for numbered items 1．/（一）/一、/1、/（1）/① carrying a "
    "measure, role lines 责任单位：…, inline roles X牵头 and task tables 序号|工作任务|牵头单位)"
)


def task_layout(node: Node, has_units: bool, bracketed: bool, form: str, clause: str) -> str:
    """Bishan's （牵头单位：…；责任单位：…） is a clause; verbs (X牵头), short labels (牵头：X) and labels
    run on with a comma (（责任单位：X，配合单位：Y）) are inline phrases; unbracketed labels are role lines."""
    if node.row is not None:
        return TABLE
    if not has_units:
        return MEASURE
    if form == "verbs" or _SHORT_LABEL.search(clause) or (bracketed and _COMMA_LABEL.search(clause)):
        return INLINE
    return CLAUSE if bracketed else ROLE_LINE


_SHORT_LABEL = re.compile(r"(?:^|[；;，,\s])(?:牵头|配合|参与|协办|主办|责任)\s*[：:]")
_COMMA_LABEL = re.compile(r"[，,]\s*[\u4e00-\u9fff]{2,4}(?:单位|部门)\s*[：:]")


def refusal(plan: Plan) -> str | None:
    """Why ``plan`` is not built without ``--allow-empty``: no task, or only items without units in
    a text whose title names no plan (a notice's 一、会议时间 is no measure); None when it is a plan."""
    if not plan.tasks:
        return NO_TASK_MESSAGE
    named = any(t.lead_units or t.responsible_units or t.participating_units for t in plan.tasks)
    if not named and not PLAN_WORD.search(plan.title):
        return NO_TASK_MESSAGE + "; the items found name no unit and the title names no plan (方案/要点/意见 …)"
    return None


def require_tasks(plan: Plan) -> Plan:
    """``plan``, or the IngestError a build reports as its one line (exit 2)."""
    from .errors import IngestError

    reason = refusal(plan)
    if reason is not None:
        raise IngestError(reason, source=plan.source, hint="pass --allow-empty to build it anyway")
    return plan
