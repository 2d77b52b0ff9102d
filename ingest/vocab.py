"""The project's vocabulary, once: roles, unit types, defect severities and kinds, and their labels.

Why one module at the bottom of the flow: the CLI, the app pages and the search engine each kept
their own copy of these maps (four role maps; two unit-type maps that disagreed, 党委 vs 党委部门),
so a label changed in one place showed differently in another. Every layer (ingest, graph, search,
analysis, policykg) may import this module; it imports nothing from the project.

The words a plan prints in its unit clause (牵头单位, 配合单位 …) are here too, because the parser
and anything that explains a clause must agree on them. The SPARQL-side constants (time limits,
CURIEs, IRIs) live with the SPARQL code.
"""

from __future__ import annotations

from typing import Literal

# ------------------------------------------------------------------------------------ roles

Role = Literal["lead", "responsible", "participating"]
ROLES: tuple[Role, ...] = ("lead", "responsible", "participating")

#: Short labels (table headers, metric captions): 牵头 / 责任 / 参加.
ROLE_LABELS: dict[Role, str] = {"lead": "牵头", "responsible": "责任", "participating": "参加"}
#: The role as printed in a plan's unit clause and in the app's filters: 牵头单位 / 责任单位 / 参加单位.
ROLE_UNIT_LABELS: dict[Role, str] = {r: f"{label}单位" for r, label in ROLE_LABELS.items()}
#: Label of "no role filter" in the app and in search notes.
ANY_ROLE_LABEL = "任一角色"

#: The headings a unit clause uses for each role (a clause reads 牵头单位：…；责任单位：…). Real plans
#: use 部门 as often as 单位, and 参与/配合/协办 for the participating role.
CLAUSE_ROLE_WORDS: dict[str, Role] = {
    "牵头单位": "lead",
    "牵头部门": "lead",
    "责任单位": "responsible",
    "责任部门": "responsible",
    "参加单位": "participating",
    "参与单位": "participating",
    "配合单位": "participating",
    "协办单位": "participating",
}

# ------------------------------------------------------------------------------------ unit types

UnitType = Literal["party", "government", "judicial", "congress", "collective", "other"]
UNIT_TYPES: tuple[UnitType, ...] = ("party", "government", "judicial", "congress", "collective", "other")

#: One label per unit type, in the CLI and the app alike (the app's fuller form won: 党委部门, not 党委).
UNIT_TYPE_LABELS: dict[UnitType, str] = {
    "party": "党委部门",
    "government": "政府部门",
    "judicial": "司法机关",
    "congress": "人大政协",
    "collective": "集合主体",
    "other": "其他",
}


def unit_type_label(unit_type: str) -> str:
    """The label of a unit type; an unknown type shows as itself, so a new type is visible, not hidden."""
    return UNIT_TYPE_LABELS.get(unit_type, unit_type)  # type: ignore[call-overload]


# ------------------------------------------------------------------------------------ defects

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")  # most severe first: the order reports sort by
SEVERITY_LABELS: dict[Severity, str] = {"error": "错误", "warning": "警告", "info": "提示"}

#: Chinese names of the defect kinds the parser reports, for reports that analysts read.
DEFECT_KIND_LABELS: dict[str, str] = {
    "chapter_numbering": "章序号异常",
    "section_numbering": "节序号异常",
    "task_numbering": "任务序号异常",
    "duplicate_unit": "单位重复列出",
    "inconsistent_unit": "单位名称不一致",
    "truncated_unit": "单位名称残缺",
    "unit_alias": "单位别称",
    "unresolved_unit": "未识别单位",
    "unit_level": "单位层级不符",
    "unit_clause_no_role": "分工缺少角色",
    "no_unit_clause": "任务缺少分工",
    "no_unit_clauses": "全文无分工",
    "stray_punctuation": "多余标点",
    "stray_whitespace": "多余空白",
    "traditional_script": "繁体转简体",
    "no_title": "缺少标题",
    "no_period": "缺少期限",
    "no_issuer": "缺少制定机关",
    "unreadable_clause": "分工无法识别",
}


def defect_kind_label(kind: str) -> str:
    """The Chinese name of a defect kind; a kind without one shows as its English key."""
    return DEFECT_KIND_LABELS.get(kind, kind)


def severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)  # type: ignore[call-overload]
