"""Chinese names for defect kinds and severities, for reports that analysts read."""

from __future__ import annotations

DEFECT_KINDS_ZH: dict[str, str] = {
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
}
SEVERITY_ZH: dict[str, str] = {"error": "错误", "warning": "警告", "info": "提示"}


def defect_kind_zh(kind: str) -> str:
    return DEFECT_KINDS_ZH.get(kind, kind)
