"""Plan text → a ``Plan`` record. Pure: no I/O, so it is property-tested on arbitrary text.

Structure of a plan: a header (title, period, status), chapters printed 一、…, sections （一）…,
numbered tasks 1．…, each ending in a unit clause. Drafts have real defects (skipped and repeated
section numbers, truncated unit names, stray punctuation): they become ``Defect`` records and the
plan is still built. Sections and tasks are identified by document position, so a repeated label
still gives two sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin

from .clauses import parse_unit_clause, split_unit_clause
from .errors import IngestError
from .extract import find_deadlines, find_targets
from .numerals import CHINESE_NUMERAL_CHARS, chinese_to_int, int_to_chinese, to_halfwidth_digits
from .records import Chapter, Defect, Plan, Section, Task, Unit, UnitMention
from .script import is_traditional, to_simplified
from .units import UnitTable, infer_type, unit_kind

_N = CHINESE_NUMERAL_CHARS
CHAPTER_RE = re.compile(rf"^(?P<num>[{_N}]{{1,4}})\s*[、.．]\s*(?P<title>\S.*)$")
SECTION_RE = re.compile(rf"^[（(]\s*(?P<num>[{_N}]{{0,4}}|[^）)]{{0,4}})\s*[）)]\s*(?P<title>\S.*)$")
TASK_RE = re.compile(r"^(?P<num>[0-9０-９]{1,3})\s*[．.、](?![0-9０-９])\s*(?P<body>\S.*)$")
STATUS_RE = re.compile(r"^[（(](?P<status>[^（）()]{1,8}稿)[）)]$")
PERIOD_RE = re.compile(r"[（(]\s*(?P<a>[12]\d{3})\s*(?:年)?\s*[—–\-－~～至到]+\s*(?P<b>[12]\d{3})\s*年?\s*[）)]")
ISSUER_RE = re.compile(r"^(?P<issuer>(?:[\u4e00-\u9fff]{1,7}?(?:省|自治区))?(?:[\u4e00-\u9fff]{1,7}?市)?"
                       r"(?:[\u4e00-\u9fff]{1,7}?(?:区|县|旗))?)(?=[\u4e00-\u9fff（(])")
_HEADING_MAX = 80
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


def make_plan_id(issuer: str, start: int | None, end: int | None, fallback: str) -> str:
    """ASCII id from issuer and period: 重庆市璧山区, 2021–2025 → chongqing-bishan-2021-2025."""
    core = re.sub(r"(省|自治区|市|区|县|旗)(?=[\u4e00-\u9fff]|$)", " ", issuer).split()
    words = ["".join(lazy_pinyin(part)) for part in core if part]
    period = [str(y) for y in (start, end) if y]
    slug = "-".join([*words, *period]).lower()
    slug = re.sub(r"[^a-z0-9-]+", "", slug).strip("-")
    if slug:
        return slug
    fb = re.sub(r"[^a-z0-9-]+", "-", fallback.lower()).strip("-")
    return fb or "plan"


@dataclass
class _TaskDraft:
    number: int
    label: str
    chapter: int
    section: int | None
    line: int
    parts: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


@dataclass
class _State:
    source: str
    defects: list[Defect] = field(default_factory=list)

    def add(self, kind: str, message: str, line: int | None = None, severity: str = "warning") -> None:
        self.defects.append(Defect(kind, message, line, severity, self.source))  # type: ignore[arg-type]


def _is_heading(title: str) -> bool:
    return len(title) <= _HEADING_MAX and not title.rstrip().endswith(("。", "；"))


def parse_plan(text: str, *, source: str = "<text>", units: UnitTable | None = None, sha256: str = "",
               encoding: str = "utf-8") -> Plan:
    """Parse a plan's text. Raises IngestError when the text is not a plan at all."""
    table = units or UnitTable()
    state = _State(source)
    original_lines = normalise(text).split("\n")
    if not any(line.strip() for line in original_lines):
        raise IngestError("the document has no text", source=source, hint="give a plan document")
    script = "traditional" if is_traditional(text) else "simplified"
    if script == "traditional":
        # line by line, so each task can keep its original wording
        lines = [to_simplified(line) for line in original_lines]
        state.add("traditional_script", "the plan is in Traditional Chinese; converted to Simplified with OpenCC "
                  "(the original wording is kept with each task)", None, "info")
    else:
        lines = original_lines

    header: list[tuple[int, str]] = []
    chapters: list[Chapter] = []
    chapter_text: dict[int, list[str]] = {}
    sections: list[Section] = []
    drafts: list[_TaskDraft] = []
    trailing: list[str] = []  # prose after the last task: the plan's closing words
    current_chapter = 0
    current_section: int | None = None
    task_open = False  # the last task has not yet seen its unit clause

    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        m_task = TASK_RE.match(line)
        m_chapter = CHAPTER_RE.match(line)
        m_section = SECTION_RE.match(line)
        if m_chapter and _is_heading(m_chapter.group("title")) and chinese_to_int(m_chapter.group("num")):
            number = chinese_to_int(m_chapter.group("num")) or 0
            expected = (chapters[-1].number + 1) if chapters else 1
            if number != expected:
                state.add("chapter_numbering",
                          f"chapter {m_chapter.group('num')}、 where {int_to_chinese(expected)}、 was expected",
                          lineno)
            chapters.append(Chapter(number, m_chapter.group("num"), m_chapter.group("title").strip(), lineno))
            current_chapter, current_section, task_open = number, None, False
            trailing.clear()
            continue
        if m_section and _is_heading(m_section.group("title")) and current_chapter:
            label_num = m_section.group("num").strip()
            printed = chinese_to_int(label_num)
            position = len(sections) + 1
            label = line[: line.index(m_section.group("title"))].strip()
            sections.append(Section(position, label, printed, m_section.group("title").strip(),
                                    current_chapter, lineno))
            current_section, task_open = position, False
            trailing.clear()
            continue
        if m_task and current_chapter:
            number = int(to_halfwidth_digits(m_task.group("num")))
            drafts.append(_TaskDraft(number, str(number), current_chapter, current_section, lineno,
                                     [m_task.group("body").strip()], [lineno]))
            task_open = not split_unit_clause(m_task.group("body"))[1]
            trailing.clear()
            if raw[: len(raw) - len(raw.lstrip())]:
                state.add("stray_whitespace", f"task {number} is indented", lineno, "info")
            continue
        if not current_chapter:
            header.append((lineno, line))
            continue
        if drafts and task_open and drafts[-1].chapter == current_chapter:
            drafts[-1].parts.append(line)
            drafts[-1].lines.append(lineno)
            if split_unit_clause(line)[1]:
                task_open = False
            continue
        chapter_text.setdefault(current_chapter, []).append(line)
        trailing.append(line)

    if not chapters and not drafts:
        raise IngestError(
            "this does not look like a plan: no chapter headings (一、…) and no numbered tasks (1．…) found",
            source=source, hint="check that the file is a plan's text",
        )

    # --- header: title, status, period, issuer, preamble -----------------------------------
    title_parts: list[str] = []
    status = ""
    preamble: list[str] = []
    for _lineno, line in header:
        m_status = STATUS_RE.match(line)
        if m_status:
            status = m_status.group("status")
        elif re.fullmatch(r"附件\s*\d*", line):
            continue
        elif not preamble and len(line) <= 40 and not line.endswith(("。", "：", ":")):
            title_parts.append(line)
        else:
            preamble.append(line)
    title = "".join(title_parts)
    if not title:
        state.add("no_title", "no title found before the first chapter", 1)
    m_period = PERIOD_RE.search(title) or PERIOD_RE.search("".join(preamble[:1]))
    start = int(m_period.group("a")) if m_period else None
    end = int(m_period.group("b")) if m_period else None
    if not m_period:
        state.add("no_period", "no plan period (e.g. 2021—2025年) found in the title", 1, "info")
    m_issuer = ISSUER_RE.match(title)
    issuer = m_issuer.group("issuer") if m_issuer else ""
    if not issuer:
        state.add("no_issuer", "could not tell the issuing government from the title", 1, "info")
    plan_id = make_plan_id(issuer, start, end, source.rsplit(".", 1)[0])

    # --- section and task numbering ---------------------------------------------------------
    _check_section_numbers(sections, state)
    _check_task_numbers(drafts, state)

    # --- tasks: unit clauses, deadlines, targets --------------------------------------------
    tasks: list[Task] = []
    mentions_by_unit: dict[str, list[UnitMention]] = {}
    for position, draft in enumerate(drafts, start=1):
        paragraph = "".join(draft.parts)
        body, clause = split_unit_clause(paragraph)
        for pattern, what in _STRAY:
            for m in pattern.finditer(body):
                state.add("stray_punctuation", f"task {draft.label}: {what} in “…{body[max(0, m.start() - 8):m.end() + 4]}…”",
                          draft.line, "info")
        if not clause:
            state.add("no_unit_clause", f"task {draft.label} has no unit clause (牵头单位/责任单位)", draft.line)
            mentions: tuple[UnitMention, ...] = ()
        else:
            result = parse_unit_clause(clause, table, line=draft.line, source=source, task_label=draft.label)
            state.defects.extend(result.defects)
            mentions = result.mentions
        for mention in mentions:
            mentions_by_unit.setdefault(mention.canonical, []).append(mention)
        tasks.append(Task(
            position=position,
            number=draft.number,
            label=draft.label,
            chapter=draft.chapter,
            section=draft.section,
            text=body,
            unit_clause=clause,
            lead_units=tuple(m.canonical for m in mentions if m.role == "lead"),
            responsible_units=tuple(m.canonical for m in mentions if m.role == "responsible"),
            participating_units=tuple(m.canonical for m in mentions if m.role == "participating"),
            mentions=mentions,
            deadlines=find_deadlines(body),
            targets=find_targets(body),
            line=draft.line,
            original_text="".join(original_lines[n - 1].strip() for n in draft.lines) if script == "traditional" else "",
        ))
    if drafts and not any(t.unit_clause for t in tasks):
        state.add("no_unit_clauses", "no task has a unit clause: the plan names no responsible units", None)

    plan_units = _units(mentions_by_unit, table)
    _check_unit_levels(plan_units, issuer, state)

    return Plan(
        id=plan_id,
        title=title,
        issuer=issuer,
        period_start=start,
        period_end=end,
        status=status,
        source=source,
        sha256=sha256,
        encoding=encoding,
        preamble="\n".join(preamble),
        closing="\n".join(trailing),
        chapters=tuple(
            Chapter(c.number, c.label, c.title, c.line,
                    "\n".join(t for t in chapter_text.get(c.number, []) if not (c is chapters[-1] and t in trailing)))
            for c in chapters
        ),
        sections=tuple(sections),
        tasks=tuple(tasks),
        units=plan_units,
        defects=tuple(state.defects),
        script=script,
    )


def _check_section_numbers(sections: list[Section], state: _State) -> None:
    """Section labels run on across chapters: report gaps, repeats and unreadable labels."""
    previous: int | None = None
    seen: dict[int, int] = {}
    for s in sections:
        n = s.printed_number
        if n is None:
            state.add("section_numbering", f"section {s.label}{s.title} has no readable number (position {s.position})",
                      s.line)
            previous = (previous or 0) + 1
            continue
        if n in seen:
            state.add("section_numbering",
                      f"section label （{int_to_chinese(n)}） is printed again at position {s.position} "
                      f"(first at position {seen[n]}): both are kept as separate sections", s.line)
        elif previous is not None and n > previous + 1:
            missing = "、".join(f"（{int_to_chinese(k)}）" for k in range(previous + 1, n))
            state.add("section_numbering", f"section numbering skips {missing} before （{int_to_chinese(n)}）",
                      s.line)
        elif previous is not None and n <= previous:
            state.add("section_numbering", f"section （{int_to_chinese(n)}） comes after （{int_to_chinese(previous)}）",
                      s.line)
        seen.setdefault(n, s.position)
        previous = n


def _check_task_numbers(drafts: list[_TaskDraft], state: _State) -> None:
    previous = 0
    seen: set[int] = set()
    for d in drafts:
        if d.number in seen:
            state.add("task_numbering", f"task number {d.number} is printed twice", d.line)
        elif d.number > previous + 1:
            state.add("task_numbering", f"task numbering skips {previous + 1}–{d.number - 1}", d.line)
        elif d.number <= previous:
            state.add("task_numbering", f"task {d.number} comes after task {previous}", d.line)
        seen.add(d.number)
        previous = max(previous, d.number)


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
