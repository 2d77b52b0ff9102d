"""How plans word the role of a unit, mapped to the three roles of the records.

The mapping (documented in README, "Layouts"):

| printed                                                        | role           |
|----------------------------------------------------------------|----------------|
| 牵头单位 / 牵头部门 / 牵头 / 主办单位 / 主办 / "X牵头" / "X主办"      | lead           |
| 责任单位 / 责任部门 / 责任主体 / 实施单位 / "X负责" / "X按职责分工负责" | responsible    |
| 参加单位 / 参与单位 / 配合单位 / 协办单位 / 协同单位 / 配合 / 参与 / 协办 / "X配合" / "X参与" | participating |

Labels are followed by a colon (责任单位：X); verbs follow the names ("X牵头，Y配合"). Time labels
(完成时限 / 时间节点 / 完成时间) mark a deadline segment inside a clause or a line of its own.
"""

from __future__ import annotations

import re

from .vocab import CLAUSE_ROLE_WORDS, Role

ROLE_LABELS: dict[str, Role] = {
    **CLAUSE_ROLE_WORDS,  # 牵头单位/牵头部门, 责任单位/责任部门, 参加/参与/配合/协办单位
    "主办单位": "lead",
    "责任主体": "responsible",
    "实施单位": "responsible",
    "配合部门": "participating",
    "协同单位": "participating",
    # short labels, only with a colon: 牵头：X；配合：Y
    "牵头": "lead",
    "主办": "lead",
    "责任": "responsible",
    "配合": "participating",
    "参与": "participating",
    "参加": "participating",
    "协办": "participating",
}
TIME_LABELS = ("完成时限", "时间节点", "完成时间", "时限要求", "时限")

# verbs after the names, longest first so 按职责分工负责 wins over 负责
ROLE_VERBS: tuple[tuple[str, Role], ...] = (
    ("按照职责分工分别负责", "responsible"),
    ("按职责分工分别负责", "responsible"),
    ("按照职责分工负责", "responsible"),
    ("按职责分工负责", "responsible"),
    ("按照职责负责", "responsible"),
    ("按职责负责", "responsible"),
    ("分别负责", "responsible"),
    ("共同负责", "responsible"),
    ("具体负责", "responsible"),
    ("负责", "responsible"),
    ("牵头", "lead"),
    ("主办", "lead"),
    ("配合", "participating"),
    ("参与", "participating"),
    ("协办", "participating"),
    ("协同", "participating"),
)

_LABEL_ALT = "|".join(sorted(ROLE_LABELS, key=len, reverse=True))
_TIME_ALT = "|".join(TIME_LABELS)
LABEL_RE = re.compile(rf"^({_LABEL_ALT})\s*[：:]\s*")
TIME_LABEL_RE = re.compile(rf"^({_TIME_ALT})\s*[：:]\s*")
# a labelled role or time segment starting inside a segment, after a comma or a space
INNER_LABEL_RE = re.compile(rf"[，,\s]+(?=(?:{_LABEL_ALT}|{_TIME_ALT})\s*[：:])")
VERB_RE = re.compile("(" + "|".join(v for v, _ in ROLE_VERBS) + r")$")
VERB_ROLE: dict[str, Role] = dict(ROLE_VERBS)
# words that never belong inside a unit name: a name holding one is a clause misread
ROLE_WORD_RE = re.compile(r"(牵头|负责|配合|参与|[：:]|协办$|主办$|协同$)")  # 区政协办公室 holds 协办
# a line that is a role line: 责任单位：…, 牵头单位：… 配合单位：…, 牵头：…
ROLE_LINE_RE = re.compile(rf"^(?:{_LABEL_ALT})\s*[：:]\s*\S")
TIME_LINE_RE = re.compile(rf"^(?:{_TIME_ALT})\s*[：:]\s*\S")
# a unit name ends like one of these (for verb clauses without labels, which need this check)
UNIT_END_RE = re.compile(r"(局|委|办|部|院|厅|政府|中心|会|所|队|处|室|站|馆|校|集团|公司|单位|部门|机关|法院|检察院|"
                         r"街道|乡镇|镇|组|署|社|行|台|团|联|协)$")
