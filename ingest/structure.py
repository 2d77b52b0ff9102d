"""The classified outline → chapters, sections and task drafts, with the numbering checks.

Chapters are the top-level headings; every heading below them is a section (identified by document
position, so a repeated label still gives two sections). Tasks that stand outside any chapter (a
flat 工作要点 of 1、2、3、 items, a table with no heading) belong to an implicit chapter numbered 0,
so every task has a chapter in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .numerals import int_to_chinese
from .outline import Node, Outline
from .records import Chapter, Defect, Section

IMPLICIT_CHAPTER = 0
_UNNUMBERED = ("table-heading", "category")


@dataclass
class TaskDraft:
    node: Node
    number: int
    label: str
    chapter: int
    section: int | None


@dataclass
class Structure:
    chapters: list[Chapter] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    drafts: list[TaskDraft] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)


def _numeral(label: str) -> str:
    return label.strip("（）()、.．。 ")


def build_structure(outline: Outline, source: str) -> Structure:
    out = Structure()
    chapter_prose: dict[int, list[str]] = {}
    section_of: dict[int, int] = {}  # id(node) → section position
    chapter_nodes: list[tuple[Node, Chapter]] = []
    for root in outline.roots:
        number = IMPLICIT_CHAPTER
        if root.kind != "task":
            number = _add_chapter(root, out, source)
            chapter_nodes.append((root, out.chapters[-1]))
        for node in root.walk():
            prose = _visit(node, number, out, section_of)
            chapter_prose.setdefault(number, []).extend(prose)
    if any(d.chapter == IMPLICIT_CHAPTER for d in out.drafts):
        first = min(d.node.line for d in out.drafts if d.chapter == IMPLICIT_CHAPTER)
        out.chapters.insert(0, Chapter(IMPLICIT_CHAPTER, "", "正文", first))
    nodes = list(outline.nodes())
    if nodes:
        last = nodes[-1]
        out.closing = list(last.after) if last.kind == "task" else last.title_and_prose()[1]
    last_chapter = out.chapters[-1] if out.chapters else None
    out.chapters = [
        Chapter(c.number, c.label, c.title, c.line,
                "\n".join(t for t in chapter_prose.get(c.number, []) if not (c is last_chapter and t in out.closing)))
        for c in out.chapters
    ]
    return out


def _add_chapter(root: Node, out: Structure, source: str) -> int:
    numeral = _numeral(root.label)
    number = root.number if root.number is not None else (out.chapters[-1].number + 1 if out.chapters else 1)
    expected = (out.chapters[-1].number + 1) if out.chapters else 1
    if number != expected and root.style not in _UNNUMBERED:
        out.defects.append(Defect("chapter_numbering", f"chapter {numeral}、 where {int_to_chinese(expected)}、 "
                                  "was expected", root.line, "warning", source))
    out.chapters.append(Chapter(number, numeral, root.title_and_prose()[0].strip(), root.line))
    return number


def _visit(node: Node, chapter: int, out: Structure, section_of: dict[int, int]) -> list[str]:
    """Record one node; returns the prose lines it adds to its chapter."""
    if node.kind == "task":
        section = next((section_of[id(a)] for a in _ancestors(node) if id(a) in section_of), None)
        number = node.number if node.number is not None else len(out.drafts) + 1
        label = str(number) if node.style == "n" else (node.label if node.style == "row" else _numeral(node.label))
        out.drafts.append(TaskDraft(node, number, label or str(number), chapter, section))
        return list(node.after)
    title, prose = node.title_and_prose()
    if node.parent is not None:
        position = len(out.sections) + 1
        out.sections.append(Section(position, node.label, node.number, title.strip(), chapter, node.line))
        section_of[id(node)] = position
    return prose


def _ancestors(node: Node) -> list[Node]:
    out: list[Node] = []
    parent = node.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return out


def check_section_numbers(sections: list[Section], nodes: dict[int, Node], source: str) -> list[Defect]:
    """Gaps, repeats and unreadable labels among sibling sections of one style.

    Numbering may run on across chapters (Bishan's （一）…（三十一）) or restart at （一） under a new
    parent; ``nodes`` maps a section's position to its outline node.
    """
    defects: list[Defect] = []

    def add(message: str, line: int) -> None:
        defects.append(Defect("section_numbering", message, line, "warning", source))

    state: dict[str, tuple[int | None, dict[int, int], Node | None]] = {}
    for s in sections:
        node = nodes[s.position]
        if node.style in _UNNUMBERED:
            continue
        previous, seen, parent = state.get(node.style, (None, {}, None))
        n = s.printed_number
        if n == 1 and previous is not None and node.parent is not parent:
            previous, seen = None, {}
        if n is None:
            add(f"section {s.label}{s.title} has no readable number (position {s.position})", s.line)
            state[node.style] = ((previous or 0) + 1, seen, node.parent)
            continue
        if n in seen:
            add(f"section label （{int_to_chinese(n)}） is printed again at position {s.position} "
                f"(first at position {seen[n]}): both are kept as separate sections", s.line)
        elif previous is not None and n > previous + 1:
            missing = "、".join(f"（{int_to_chinese(k)}）" for k in range(previous + 1, n))
            add(f"section numbering skips {missing} before （{int_to_chinese(n)}）", s.line)
        elif previous is not None and n <= previous:
            add(f"section （{int_to_chinese(n)}） comes after （{int_to_chinese(previous)}）", s.line)
        seen.setdefault(n, s.position)
        state[node.style] = (n, seen, node.parent)
    return defects


def check_task_numbers(drafts: list[TaskDraft], source: str) -> list[Defect]:
    """Skips, repeats and disorder among tasks of one numbering style; a restart at 1 under a new
    parent (1、2、3 in every section of a 工作要点) is not a defect."""
    defects: list[Defect] = []
    state: dict[str, tuple[int, set[int], Node | None]] = {}
    for d in drafts:
        style = d.node.style
        previous, seen, parent = state.get(style, (0, set(), None))
        if d.number == 1 and previous and d.node.parent is not parent:
            previous, seen = 0, set()
        if d.number in seen:
            message = f"task number {d.number} is printed twice"
        elif d.number > previous + 1:
            gap = f"{previous + 1}" if d.number == previous + 2 else f"{previous + 1}–{d.number - 1}"
            message = f"task numbering skips {gap}"
        elif d.number <= previous:
            message = f"task {d.number} comes after task {previous}"
        else:
            message = ""
        if message:
            defects.append(Defect("task_numbering", message, d.node.line, "warning", source))
        seen.add(d.number)
        state[style] = (max(previous, d.number), seen, d.node.parent)
    return defects
