"""Plan text → a ``Plan`` record. Pure: no I/O, so it is property-tested on arbitrary text.

A plan is a title block, then numbered parts in whatever layout its government used (README,
"Layouts"): Bishan's 一、/（一）/1． with a trailing （牵头单位：…）, items followed by a role line,
inline role phrases (X牵头，Y配合), task-division tables, measures without units, annual work plans
with deadlines relative to their year. ``ingest.outline`` tells headings from items by the
numbering in use; this module turns the outline into records. Drafts have real defects (skipped and
repeated section numbers, truncated unit names, stray punctuation): they become ``Defect`` records
and the plan is still built. A text in which no task is found is refused (``IngestError``) unless
``allow_empty``: a meeting notice must not become an empty graph without a word.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .clauses import parse_unit_clause, split_unit_clause
from .errors import IngestError
from .extract import find_deadlines, find_targets
from .header import make_plan_id, read_header
from .layouts import ANNUAL, NO_TASK_MESSAGE, require_tasks, task_layout
from .outline import build_outline
from .records import Deadline, Defect, Plan, Task, Unit, UnitMention
from .script import is_traditional, to_simplified
from .structure import TaskDraft, build_structure, check_section_numbers, check_task_numbers
from .tables import row_clause
from .units import UnitTable, infer_type, unit_kind

__all__ = ["make_plan_id", "normalise", "parse_plan"]

# zero-width and other format characters that word processors leave in copied text
_INVISIBLE = {ord(ch): None for ch in "\u200b\u200c\u200e\u200f\u2060\ufeff\u00ad\u202a\u202c"}
_STRAY = [
    (re.compile(r"[，、；：,;:]\s*[。.]"), "a separator right before 。"),
    (re.compile(r"、\s*等"), "、 right before 等"),
    (re.compile(r"([，、。；])\1"), "a doubled punctuation mark"),
    (re.compile(r"[。，；、]\s+(?=[\u4e00-\u9fff“])"), "a space after Chinese punctuation"),
]


def normalise(text: str) -> str:
    """Line endings, ideographic spaces and compatibility characters; full-width punctuation stays."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    return text.translate(_INVISIBLE)


@dataclass
class _State:
    source: str
    table: UnitTable
    year: int | None
    defects: list[Defect] = field(default_factory=list)

    def add(self, kind: str, message: str, line: int | None = None, severity: str = "warning") -> None:
        self.defects.append(Defect(kind, message, line, severity, self.source))  # type: ignore[arg-type]


def parse_plan(text: str, *, source: str = "<text>", units: UnitTable | None = None, sha256: str = "",
               encoding: str = "utf-8", allow_empty: bool = False) -> Plan:
    """Parse a plan's text. Raises IngestError when the text is empty, or has no task and not ``allow_empty``."""
    original_lines = normalise(text).split("\n")
    if not any(line.strip() for line in original_lines):
        raise IngestError("the document has no text", source=source, hint="give a plan document")
    script = "traditional" if is_traditional(text) else "simplified"
    lines = [to_simplified(line) for line in original_lines] if script == "traditional" else original_lines
    outline = build_outline(lines)
    header = read_header(outline.header)
    state = _State(source, units or UnitTable(), header.year)
    if script == "traditional":
        state.add("traditional_script", "the plan is in Traditional Chinese; converted to Simplified with OpenCC "
                  "(the original wording is kept with each task)", None, "info")
    structure = build_structure(outline, source)
    if not structure.drafts and not allow_empty:  # the cheap case first; refusal() below tells the rest
        raise IngestError(NO_TASK_MESSAGE, source=source, hint="pass --allow-empty to build it anyway")
    any_units = any(_has_units(d) for d in structure.drafts)
    for draft in structure.drafts:
        if draft.node.indented and draft.node.style == "n":
            structure.defects.append(Defect("stray_whitespace", f"task {draft.number} is indented", draft.node.line,
                                            "info", source))
    state.defects.extend(sorted(structure.defects, key=lambda d: d.line or 0))
    if not header.title:
        state.add("no_title", "no title found before the first chapter", 1)
    if header.start is None:
        state.add("no_period", "no plan period (e.g. 2021—2025年) found in the title", 1, "info")
    if not header.issuer:
        state.add("no_issuer", "could not tell the issuing government from the title", 1, "info")
    by_line = {n.line: n for n in outline.nodes() if n.kind != "task"}
    nodes = {s.position: by_line[s.line] for s in structure.sections}
    state.defects.extend(check_section_numbers(structure.sections, nodes, source))
    state.defects.extend(check_task_numbers(structure.drafts, source))

    mentions_by_unit: dict[str, list[UnitMention]] = {}
    tasks = [_task(position, d, state, any_units, original_lines if script == "traditional" else None,
                   mentions_by_unit) for position, d in enumerate(structure.drafts, start=1)]
    if tasks and not any_units:
        state.add("no_unit_clauses", "no task has a unit clause: the plan names no responsible units", None)
    plan_units = _units(mentions_by_unit, state.table)
    _check_unit_levels(plan_units, header.issuer, state)
    layouts = [name for name, _ in Counter(t.layout for t in tasks).most_common()]
    if header.year is not None and tasks:
        layouts.append(ANNUAL)
    plan = Plan(
        id=make_plan_id(header.issuer, header.start, header.end, source.rsplit(".", 1)[0]),
        title=header.title, issuer=header.issuer, period_start=header.start, period_end=header.end,
        status=header.status, source=source, sha256=sha256, encoding=encoding,
        preamble="\n".join(header.preamble), closing="\n".join(structure.closing),
        chapters=tuple(structure.chapters), sections=tuple(structure.sections), tasks=tuple(tasks),
        units=plan_units, defects=tuple(state.defects), script=script, layouts=tuple(layouts),
        body_share=_body_share(outline, tasks), year=header.year,
    )
    return plan if allow_empty else require_tasks(plan)


def _has_units(draft: TaskDraft) -> bool:
    node = draft.node
    if node.row is not None:
        return bool(node.row.roles)
    return bool(node.role_lines) or bool(split_unit_clause(node.text())[1])


def _clause(draft: TaskDraft) -> tuple[str, str, bool]:
    """(task text, unit clause, clause bracketed) of a draft."""
    node = draft.node
    if node.row is not None:
        return node.row.text, row_clause(node.row), False
    paragraph = node.text()
    body, clause = split_unit_clause(paragraph)
    bracketed = bool(clause) and paragraph.rstrip().rstrip("。").endswith(("）", ")"))
    extra = "；".join(line for _, line in node.role_lines)
    if extra:
        clause = f"{clause}；{extra}" if clause else extra
    return body, clause, bracketed


def _task(position: int, draft: TaskDraft, state: _State, any_units: bool, original: list[str] | None,
          mentions_by_unit: dict[str, list[UnitMention]]) -> Task:
    node = draft.node
    body, clause, bracketed = _clause(draft)
    for pattern, what in _STRAY:
        for m in pattern.finditer(body):
            state.add("stray_punctuation", f"task {draft.label}: {what} in “…{body[max(0, m.start() - 8):m.end() + 4]}…”",
                      node.line, "info")
    timeframe = node.row.timeframe if node.row is not None else ""
    form = ""
    mentions: tuple[UnitMention, ...] = ()
    if not clause:
        if any_units:
            state.add("no_unit_clause", f"task {draft.label} has no unit clause (牵头单位/责任单位)", node.line)
    else:
        line = node.role_lines[0][0] if node.role_lines and not bracketed else node.line
        result = parse_unit_clause(clause, state.table, line=line, source=state.source, task_label=draft.label)
        state.defects.extend(result.defects)
        mentions, form = result.mentions, result.form
        timeframe = timeframe or result.timeframe
    for mention in mentions:
        mentions_by_unit.setdefault(mention.canonical, []).append(mention)
    deadlines = _deadlines(body, timeframe, state.year)
    return Task(
        position=position, number=draft.number, label=draft.label, chapter=draft.chapter, section=draft.section,
        text=body, unit_clause=clause,
        lead_units=tuple(m.canonical for m in mentions if m.role == "lead"),
        responsible_units=tuple(m.canonical for m in mentions if m.role == "responsible"),
        participating_units=tuple(m.canonical for m in mentions if m.role == "participating"),
        mentions=mentions, deadlines=deadlines, targets=find_targets(body), line=node.line,
        original_text="".join(original[n - 1].strip() for n in node.lines) if original else "",
        layout=task_layout(node, bool(mentions), bracketed, form, clause), timeframe=timeframe,
    )


def _deadlines(body: str, timeframe: str, year: int | None) -> tuple[Deadline, ...]:
    found = [*find_deadlines(timeframe, year), *find_deadlines(body, year)] if timeframe else \
        list(find_deadlines(body, year))
    return tuple(dict.fromkeys(found))


def _body_share(outline, tasks: list[Task]) -> float:  # type: ignore[no-untyped-def]
    """Characters of task text and clauses over all characters after the title block."""
    body = sum(len(p) for n in outline.nodes() for p in [*n.parts, *n.after, *(x for _, x in n.role_lines)])
    body += sum(len(x) for x in outline.loose)
    in_tasks = sum(len(t.text) + len(t.unit_clause) + len(t.timeframe) for t in tasks)
    return round(min(1.0, in_tasks / body), 3) if body else 0.0


def _units(mentions: dict[str, list[UnitMention]], table: UnitTable) -> tuple[Unit, ...]:
    units: list[Unit] = []
    for name, ms in mentions.items():
        entry = table.entry(name)
        printed = sorted({m.raw for m in ms if m.raw != name})
        declared = list(entry.aliases) if entry else []
        aliases = tuple(dict.fromkeys([*declared, *printed]))
        utype = entry.type if entry else infer_type(name)
        units.append(Unit(name=name, type=utype, aliases=aliases, collective=utype == "collective",
                          kind=unit_kind(name)))
    return tuple(sorted(units, key=lambda u: (-len(mentions[u.name]), u.name)))


def _check_unit_levels(units: tuple[Unit, ...], issuer: str, state: _State) -> None:
    """A district plan that assigns work to 市政府有关部门 names a body of another level."""
    level = issuer[-1:] if issuer else ""
    if level not in ("区", "县", "旗"):
        return
    for u in units:
        if u.name.startswith("市") and not u.name.startswith(("市场",)):
            state.add("unit_level", f"unit {u.name!r} is a municipal body in a {level}-level plan "
                                    f"(perhaps {level}{u.name[1:]}?)", None)
