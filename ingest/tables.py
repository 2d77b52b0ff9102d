"""Task-division tables (任务分工表, 重点任务清单, 责任清单) as rows of text.

Readers give a table as one line per row with cells separated by a tab (.docx, PDF) and merged
cells written as 〃; a plain-text table separates cells by tabs, | or ｜, or runs of two or more
spaces. A table starts at a header row whose cells name a task column and a role column, in any
order and wording (序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 …); its rows are tasks until a line
that is not a row. A cell printed 〃 / 同上 (or merged, which the readers print as 〃) carries the
cell above down, so one lead written once for several rows leads each of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numerals import chinese_to_int, to_halfwidth_digits

DITTO = "〃"
_DITTOS = {DITTO, "同上", "同前", "″", "々"}
# column kinds, tried in this order on each header cell
_COLUMNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("seq", re.compile(r"^(序号|编号|序|项次)$")),
    ("lead", re.compile(r"(牵头|主办)")),
    ("participating", re.compile(r"(配合|参与|参加|协办|协同)")),
    ("responsible", re.compile(r"(责任单位|责任部门|责任主体|实施单位|落实单位|承办单位|责任)")),
    ("time", re.compile(r"(时限|时间|节点|期限)")),
    ("category", re.compile(r"(类别|领域|板块|分类|方面|专项|项目类型)")),
    ("task", re.compile(r"(任务|措施|内容|事项|举措|要点|目标|工作)")),
)
_MAX_HEADER_CELL = 12
_PIPE = re.compile(r"\s*[|｜]\s*")
_SPACES = re.compile(r"\s{2,}")
_RULE = re.compile(r"^[-—:：\s]*$")


@dataclass(frozen=True)
class Columns:
    kinds: tuple[str, ...]  # one kind per cell position ("" for a column we do not read)
    separator: str  # "tab", "pipe" or "spaces"


@dataclass
class Row:
    line: int
    label: str
    number: int | None
    text: str
    roles: dict[str, str] = field(default_factory=dict)  # role → names as printed in the cell
    timeframe: str = ""
    category: str = ""


def split_cells(line: str, separator: str | None = None) -> tuple[list[str], str]:
    """Cells of a table line and the separator used; one cell when the line is not a row."""
    if separator in (None, "tab") and "\t" in line:
        return [c.strip() for c in line.split("\t")], "tab"
    if separator in (None, "pipe") and ("|" in line or "｜" in line):
        return [c for c in _PIPE.split(line.strip().strip("|｜").strip())], "pipe"
    if separator in (None, "spaces") and _SPACES.search(line.strip()):
        return [c.strip() for c in _SPACES.split(line.strip())], "spaces"
    return [line.strip()], ""


def read_header(line: str) -> Columns | None:
    """The column kinds of a header row, or None when ``line`` is not one."""
    cells, separator = split_cells(line)
    if len(cells) < 3 or any(len(c) > _MAX_HEADER_CELL for c in cells):
        return None
    kinds: list[str] = []
    for cell in cells:
        name = re.sub(r"\s+", "", cell)
        kind = next((k for k, pattern in _COLUMNS if pattern.search(name)), "")
        kinds.append(kind)
    roles = {"lead", "responsible", "participating"}
    if "task" not in kinds or not roles & set(kinds):
        return None
    return Columns(tuple(kinds), separator)


class TableReader:
    """Reads the rows under one header, carrying merged and ditto cells down."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self.previous: dict[int, str] = {}
        self.count = 0

    def cells(self, line: str) -> list[str] | None:
        """The cells of a row, or None when the line does not continue the table."""
        cells, separator = split_cells(line, self.columns.separator)
        if not separator or len(cells) < 2:
            return None
        return cells

    def row(self, cells: list[str], line: int) -> Row | None:
        """A task row; None for a rule line (|---|) or a row with no task text."""
        if all(_RULE.match(c) for c in cells):
            return None
        values: dict[str, list[str]] = {}
        for index, kind in enumerate(self.columns.kinds):
            if not kind or index >= len(cells):
                continue
            value = cells[index].strip()
            if value in _DITTOS:
                value = self.previous.get(index, "") if kind != "task" else ""
            self.previous[index] = value
            values.setdefault(kind, []).append(value)
        text = "：".join(v for v in values.get("task", []) if v)
        if not text:
            return None
        self.count += 1
        label = next(iter(values.get("seq", [])), "") or str(self.count)
        number = _row_number(label)
        roles: dict[str, str] = {kind: "、".join(v for v in values[kind] if v)
                                 for kind in ("lead", "responsible", "participating")
                                 if kind in values and any(values[kind])}
        return Row(line, label, number, text, roles, " ".join(values.get("time", [])).strip(),
                   " ".join(values.get("category", [])).strip())


def _row_number(label: str) -> int | None:
    digits = to_halfwidth_digits(label).strip("．.、（）() ")
    if digits.isdigit():
        return int(digits)
    return chinese_to_int(digits)


def row_clause(row: Row) -> str:
    """The row's unit columns as a labelled clause, so one clause reader serves prose and tables."""
    labels = {"lead": "牵头单位", "responsible": "责任单位", "participating": "配合单位"}
    parts = []
    for kind, names in row.roles.items():
        names = re.sub(r"\s+", "、", names.strip())
        parts.append(f"{labels[kind]}：{names}")
    return "；".join(parts)
