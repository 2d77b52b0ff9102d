"""A plan's lines → an outline of numbered nodes, then headings vs task items.

Pass 1 reads marks (``ingest.numbering``), role lines and table rows into a tree: a mark of a style
already open closes the nodes below it (a sibling), a new style opens a child. Lines without a mark
continue the open node until its unit clause is seen; after that they are prose.

Pass 2 decides from the numbering in use, not from fixed marks: a node with children is a heading;
a style that has children somewhere is a heading style, and a leaf of it is a task only when it
names units (a chapter with prose only, like Bishan's 一、, stays a chapter); a leaf of any other
style carries a measure and is a task, units or not. Nodes under 指导思想/基本原则/工作目标 … frame the
plan and are never tasks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .clauses import split_unit_clause
from .numbering import Mark, read_mark
from .roles import ROLE_LINE_RE, TIME_LINE_RE
from .tables import Row, TableReader, read_header

_HEADING_MAX = 80
FRAMING = re.compile(r"^(?:总体要求|指导思想|基本原则|工作原则|主要原则|主要目标|工作目标|总体目标|发展目标|目标任务|总体思路|"
                     r"适用范围|编制依据|工作思路|目标要求|基本要求)")
_TABLE_HEADING_MAX = 30
_SHORT_TITLE = 30  # a line this short without punctuation, followed by more text, is an item's title
_APPENDIX = re.compile(r"^附\s*件\s*[0-9０-９一二三四五六七八九十]*\s*[：:]?$")


def is_heading_text(title: str) -> bool:
    return len(title) <= _HEADING_MAX and not title.rstrip().endswith(("。", "；"))


@dataclass(eq=False)
class Node:
    style: str  # numbering style, "row" for a table row, "table-heading" for a row-wide cell
    number: int | None
    label: str  # the mark as printed: "（二十八）", "74．", a table's 序号
    line: int
    indented: bool = False
    parts: list[str] = field(default_factory=list)  # its own text: the marked line, then continuations
    lines: list[int] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # prose after its unit clause
    role_lines: list[tuple[int, str]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    closed: bool = False
    row: Row | None = None
    kind: str = ""  # decided in pass 2: "heading", "task" or "framing"

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1

    def text(self) -> str:
        """Its own text as one paragraph. Wrapped lines join as printed; a short heading line on its
        own (（一）推进政府机构职能优化 / 继续优化…) is set off from the paragraph under it by 。."""
        first, rest = (self.parts[0], self.parts[1:]) if self.parts else ("", [])
        if rest and len(first) <= _SHORT_TITLE and not re.search(r"[，。；：,;:）)]$|[，。；]", first):
            return first + "。" + "".join(rest)
        return "".join(self.parts)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def title_and_prose(self) -> tuple[str, list[str]]:
        """A heading's title; a long first line (（一）指导思想。以…) gives its first sentence."""
        first = self.parts[0] if self.parts else ""
        prose = [*self.parts[1:], *self.after]
        if is_heading_text(first) or "。" not in first:
            return first, prose
        head, _, rest = first.partition("。")
        return head, [rest, *prose] if rest else prose


@dataclass
class Outline:
    header: list[tuple[int, str]]
    roots: list[Node]
    loose: list[str]  # prose after a table ended, before the next node

    def nodes(self) -> Iterator[Node]:
        for root in self.roots:
            yield from root.walk()


class _Builder:
    def __init__(self) -> None:
        self.header: list[tuple[int, str]] = []
        self.roots: list[Node] = []
        self.stack: list[Node] = []
        self.current: Node | None = None
        self.table: TableReader | None = None
        self.loose: list[str] = []
        self.appendix = False  # a 附件 line was read: the next short line titles the appendix
        self.styles_with_children: set[str] = set()

    def attach(self, node: Node, mark_style: str | None) -> None:
        if mark_style is not None:
            styles = [n.style for n in self.stack]
            if mark_style in styles:
                del self.stack[styles.index(mark_style):]
            node.parent = self.stack[-1] if self.stack else None
            self.stack.append(node)
        else:  # a table row is a leaf under the innermost heading
            node.parent = self.stack[-1] if self.stack else None
        (node.parent.children if node.parent else self.roots).append(node)
        if node.parent is not None:
            self.styles_with_children.add(node.parent.style)
        self.current = node

    def feed(self, lineno: int, raw: str) -> None:
        line = raw.strip()
        columns = read_header(line)
        if columns is not None:
            if self.appendix:  # 附件 then straight a table: the appendix is its heading
                self.attach(Node("appendix", None, "附件", lineno, parts=["附件"], lines=[lineno]), "appendix")
            self._close_items()
            self.table, self.appendix = TableReader(columns), False
            return
        if self.roots and _APPENDIX.match(line):
            self.stack.clear()
            self.current, self.table, self.appendix = None, None, True
            return
        if self.appendix:
            self.appendix = False
            if read_mark(line) is None and is_heading_text(line) and len(line) <= _TABLE_HEADING_MAX:
                self.attach(Node("appendix", None, "附件", lineno, parts=[line], lines=[lineno]), "appendix")
                return
        if self.table is not None and self._table_line(lineno, line):
            return
        mark = read_mark(line)
        if mark is not None:
            self._open(lineno, raw, line, mark)
        elif not self.roots:
            self.header.append((lineno, line))
        elif self.current is None:
            self.loose.append(line)
        elif ROLE_LINE_RE.match(line) or TIME_LINE_RE.match(line):
            self.current.role_lines.append((lineno, line))
            self.current.closed = True
        elif not self.current.closed:
            self.current.parts.append(line)
            self.current.lines.append(lineno)
            self.current.closed = bool(split_unit_clause(line)[1])
        else:
            self.current.after.append(line)

    def _close_items(self) -> None:
        """A table starts: the open item (a measure, not a heading) cannot hold it; its heading does."""
        while self.stack:
            top = self.stack[-1]
            if top.style in self.styles_with_children or (is_heading_text(top.parts[0]) and not top.closed):
                break
            self.stack.pop()

    def _open(self, lineno: int, raw: str, line: str, mark: Mark) -> None:
        node = Node(mark.style, mark.number, mark.label, lineno, indented=raw[: len(raw) - len(raw.lstrip())] != "",
                    parts=[mark.rest.strip()], lines=[lineno])
        node.closed = bool(split_unit_clause(mark.rest)[1])
        self.attach(node, mark.style)

    def _table_line(self, lineno: int, line: str) -> bool:
        """Consume a line of the open table; False ends the table (the line is read as usual)."""
        assert self.table is not None
        cells = self.table.cells(line)
        if cells is None:
            if read_mark(line) is None and ROLE_LINE_RE.match(line) is None and len(line) <= _TABLE_HEADING_MAX \
                    and not line.endswith(("。", "；", "：")):
                # a row-wide cell inside the table (营商环境类): a heading for the rows below
                node = Node("table-heading", None, "", lineno, parts=[line], lines=[lineno])
                self.attach(node, "table-heading")
                return True
            if read_mark(line) is None:
                self.table = None
            return False
        row = self.table.row(cells, lineno)
        if row is not None:
            node = Node("row", row.number, row.label, lineno, parts=[row.text], lines=[lineno], closed=True, row=row)
            if row.category:
                self._category(row.category, lineno)
            self.attach(node, None)
        return True

    def _category(self, category: str, lineno: int) -> None:
        """A 类别 column: a new value opens a heading for the rows below it."""
        top = self.stack[-1] if self.stack else None
        if top is not None and top.style == "category" and top.parts == [category]:
            return
        self.attach(Node("category", None, "", lineno, parts=[category], lines=[lineno]), "category")


def build_outline(lines: list[str]) -> Outline:
    builder = _Builder()
    for lineno, raw in enumerate(lines, start=1):
        if raw.strip():
            builder.feed(lineno, raw)
    outline = Outline(builder.header, builder.roots, builder.loose)
    _classify(outline)
    return outline


def has_units(node: Node) -> bool:
    return bool(node.row and node.row.roles) or bool(node.role_lines) or bool(split_unit_clause(node.text())[1])


def _classify(outline: Outline) -> None:
    nodes = list(outline.nodes())
    heading_styles = {n.style for n in nodes if n.children}
    for node in nodes:
        framed = node.parent is not None and node.parent.kind == "framing"
        title = node.parts[0] if node.parts else ""
        if framed or (node.style != "row" and FRAMING.match(title)):
            node.kind = "framing"
        elif node.children or node.style in ("table-heading", "category"):
            node.kind = "heading"
        elif node.style == "row":
            node.kind = "task"
        elif node.style in heading_styles:
            node.kind = "task" if has_units(node) else "heading"
        else:
            node.kind = "task"
