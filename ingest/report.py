"""Annual report text → a ``Report`` record of statements. Pure: no I/O.

The layout learned from published 法治政府建设情况报告 (district and town reports of 2020–2025): a
title (…人民政府关于2022年度法治政府建设情况的报告, …年法治政府建设工作报告, …工作总结), an opening
paragraph, then chapters 一、二、三、: what was done (主要举措和成效), what fell short (存在的不足), and
next year's work (下一步工作安排). Under a chapter, sections （一）… whose heading often runs on into
the text on the same line, numbered items 1．…, and inside a paragraph the items 一是…二是…三是….
Each item, or a paragraph without items, is one statement. Figures (审查重大合同39份) and the units a
statement names are read with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from .errors import IngestError
from .numerals import CHINESE_NUMERAL_CHARS, chinese_to_int, to_halfwidth_digits
from .parser import make_plan_id, normalise
from .records import Defect
from .report_records import Figure, Report, Statement, StatementKind
from .units import UnitTable

_N = CHINESE_NUMERAL_CHARS
_CHAPTER = re.compile(rf"^(?P<num>[{_N}]{{1,3}})\s*[、.．]\s*(?P<title>\S.*)$")
_SECTION = re.compile(rf"^[（(]\s*(?P<num>[{_N}]{{1,3}})\s*[）)]\s*(?P<title>\S.*)$")
_ITEM = re.compile(r"^(?P<num>[0-9０-９]{1,2})\s*[．.、](?![0-9０-９])\s*(?P<title>\S.*)$")
# 一是 … 二是 …: a marker at the start of a paragraph or after 。；：
_SHI = re.compile(rf"(?:^|(?<=[。；：:！]))\s*(?P<num>[{_N}]{{1,3}})是")
#: Titles of reports (not plans): what `document_kind` and `--kind` auto-detection look for.
REPORT_TITLE = re.compile(
    r"(法治政府建设(?:工作)?(?:情况|年度)?的?(?:工作)?报告|年度报告|工作报告|工作总结|情况的?报告|情况报告)$"
)
_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年")
_ISSUER = re.compile(
    r"^(?:中共)?(?P<issuer>(?:[\u4e00-\u9fff]{1,7}?(?:省|自治区))?(?:[\u4e00-\u9fff]{1,7}?市)?"
    r"(?:[\u4e00-\u9fff]{1,7}?(?:区|县|旗))?)"
)
_SHORTCOMING = re.compile(r"不足|问题|差距|短板")
_NEXT = re.compile(r"打算|安排|下一步|思路|计划|重点工作|工作要点|\d{4}年.*(?:工作|举措)$")
_PROGRESS = re.compile(r"举措|成效|情况|成绩|进展|主要工作|开展")
_FIGURE = re.compile(
    r"(?P<v>\d+(?:\.\d+)?)\s*(?P<approx>余|多)?\s*(?P<scale>万|亿)?\s*"
    r"(?P<u>个工作日|场次|人次|件次|户次|小时|学时|[%％]|件|份|项|个|场|次|名|人|家|条|部|起|户|元|期|天|篇|批|类|所|支|次)"
)
_CLAUSE_SPLIT = re.compile(r"[，。；！？,;：:]")
_TITLE_MAX = 60


def is_report_title(title: str) -> bool:
    """True for …年度法治政府建设情况的报告, …工作报告, …工作总结 (the title, without spaces)."""
    return bool(REPORT_TITLE.search(re.sub(r"\s+", "", title)))


def _title_lines(lines: list[str]) -> tuple[list[tuple[int, str]], int]:
    """The title's lines (a title is often broken over two) and the index of the first body line."""
    out: list[tuple[int, str]] = []
    i = 0
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            if out:
                continue
            continue
        if re.fullmatch(r"附件\s*\d*", line):
            continue
        if len(line) > _TITLE_MAX or line.endswith(("。", "：", ":")) or _CHAPTER.match(line):
            break
        out.append((i + 1, line))
        if is_report_title("".join(x for _, x in out)):
            return out, i + 1
        if len(out) >= 3:
            break
    return out, (out[-1][0] if out else i)


def document_kind(text: str) -> str:
    """``report`` when the first lines carry a report title, else ``plan``."""
    lines = normalise(text).split("\n")[:40]
    title, _ = _title_lines(lines)
    return "report" if title and is_report_title("".join(x for _, x in title)) else "plan"


def _chapter_kind(title: str) -> StatementKind:
    if _SHORTCOMING.search(title):
        return "shortcoming"
    if _NEXT.search(title) and not _PROGRESS.search(title):
        return "plan"
    if _PROGRESS.search(title):
        return "progress"
    return "other"


def _context(text: str, start: int, end: int) -> str:
    left = max((m.end() for m in _CLAUSE_SPLIT.finditer(text, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE_SPLIT.finditer(text, end)), len(text))
    return text[left:right].strip()


def find_figures(text: str) -> tuple[Figure, ...]:
    """Figures a statement gives: 39份, 100余场次, 1.2万人次, 95.6%; years (2022年) are not figures."""
    norm = to_halfwidth_digits(text)
    out: list[Figure] = []
    for m in _FIGURE.finditer(norm):
        if norm[m.end() : m.end() + 1] == "年" or (m.group("u") == "年"):
            continue
        value = float(m.group("v"))
        if m.group("scale") == "万":
            value *= 10_000
        elif m.group("scale") == "亿":
            value *= 100_000_000
        unit = "%" if m.group("u") in "%％" else m.group("u")
        out.append(Figure(text[m.start() : m.end()].strip(), _context(text, m.start(), m.end()), value, unit))
    return tuple(out)


class _UnitFinder:
    """Units named inside free text: every name and alias of the unit table and of the given plans."""

    def __init__(self, table: UnitTable, known: Iterable[str]) -> None:
        self.table = table
        names = set(table.names()) | {k for k in known if len(k) >= 3}
        self.surfaces = sorted(names, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, self.surfaces))) if self.surfaces else None

    def find(self, text: str) -> tuple[str, ...]:
        if self.pattern is None:
            return ()
        found: list[str] = []
        for m in self.pattern.finditer(text):  # alternation is longest-first: 区公安分局 before 区公安局
            canonical = self.table.resolve(m.group(0)).canonical
            if canonical not in found:
                found.append(canonical)
        return tuple(found)


def _split_shi(text: str) -> tuple[str, list[tuple[str, str, int]]]:
    """A paragraph → (lead text, [(marker, item text, offset)]) for consecutive 一是, 二是, …"""
    marks: list[re.Match[str]] = []
    expected = 1
    for m in _SHI.finditer(text):
        if chinese_to_int(m.group("num")) == expected:
            marks.append(m)
            expected += 1
    if len(marks) < 2 and not (marks and marks[0].start() == 0):
        return text, []
    lead = text[: marks[0].start()].strip()
    items = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        items.append((m.group("num") + "是", text[m.end() : end].strip(), m.start()))
    return lead, items


def _head_and_rest(title: str) -> tuple[str, str]:
    """A section line whose heading runs on into text: heading up to the first 。, and the rest."""
    m = re.search(r"[。；]", title)
    if m and m.end() < len(title):
        return title[: m.start()].strip(), title[m.end() :].strip()
    return title.rstrip("。；").strip(), ""


class _BodyReader:
    """Reads a report's body line by line into statements, keeping the headings each sits under.

    Lines before the first chapter heading (一、…) are the preamble; a chapter's title decides the
    kind of the statements under it (progress, shortcomings, next year's plans)."""

    def __init__(self, finder: _UnitFinder) -> None:
        self.finder = finder
        self.preamble: list[str] = []
        self.statements: list[Statement] = []
        self.chapter_title = self.section_title = self.item_title = ""
        self.kind: StatementKind = "progress"
        self.seen_chapter = False

    def add(self, line_no: int, label: str, body: str) -> None:
        body = body.strip()
        if not body:
            return
        heading = " › ".join(x for x in (self.chapter_title, self.section_title, self.item_title) if x)
        self.statements.append(Statement(
            position=len(self.statements) + 1, line=line_no, label=label, heading=heading, text=body,
            kind=self.kind, units=self.finder.find(body), figures=find_figures(body),
        ))

    def add_paragraph(self, line_no: int, label: str, body: str) -> None:
        lead, items = _split_shi(body)
        if not items:
            self.add(line_no, label, body)
            return
        if lead and len(lead) > 40:  # a lead sentence that says something of its own
            self.add(line_no, label, lead)
        for marker, item, _offset in items:
            self.add(line_no, marker, item)

    def read(self, line_no: int, line: str) -> None:
        m_ch = _CHAPTER.match(line)
        if m_ch and chinese_to_int(m_ch.group("num")) and len(m_ch.group("title")) <= _TITLE_MAX:
            self.chapter_title = m_ch.group("title").strip().rstrip("。")
            self.section_title = self.item_title = ""
            self.kind = _chapter_kind(self.chapter_title)
            self.seen_chapter = True
        elif not self.seen_chapter:
            self.preamble.append(line)
        elif (m_sec := _SECTION.match(line)) and chinese_to_int(m_sec.group("num")):
            head, rest = _head_and_rest(m_sec.group("title"))
            self.section_title, self.item_title = head, ""
            if rest:
                self.add_paragraph(line_no, "", rest)
        elif m_item := _ITEM.match(line):
            self.read_item(line_no, m_item)
        else:
            self.add_paragraph(line_no, "", line)

    def read_item(self, line_no: int, m_item: re.Match[str]) -> None:
        head, rest = _head_and_rest(m_item.group("title"))
        self.item_title = head
        label = f"{to_halfwidth_digits(m_item.group('num'))}."
        lead, items = _split_shi(rest)
        if not items:
            self.add(line_no, label, f"{head}。{rest}" if rest else head)
            return
        if lead:
            self.add(line_no, label, f"{head}。{lead}")
        for marker, item, _offset in items:
            self.add(line_no, marker, item)


def _title_defects(title: str, title_lines: list[tuple[int, str]], source: str) -> list[Defect]:
    if not title:
        return [Defect("no_title", "no report title found at the top", 1, "warning", source)]
    if not is_report_title(title):
        return [Defect("not_a_report_title", f"title {title!r} does not read as a report "
                       "(…情况的报告, …工作报告, …工作总结); read as a report because it was given as one",
                       title_lines[0][0], "info", source)]
    return []


def _report_year(title: str, preamble: list[str], source: str, defects: list[Defect]) -> int | None:
    """The year from the title, else from the opening paragraph (with a warning either way)."""
    m_year = _YEAR.search(title)
    if m_year:
        return int(m_year.group("y"))
    m_pre = _YEAR.search("".join(preamble[:1]))
    year = int(m_pre.group("y")) if m_pre else None
    defects.append(Defect("no_year", "no year in the title" + (f"; {year} taken from the opening paragraph"
                          if year else ""), 1, "warning", source))
    return year


def parse_report(text: str, *, source: str = "<text>", units: UnitTable | None = None,
                 known_units: Iterable[str] = (), sha256: str = "", encoding: str = "utf-8") -> Report:
    """Parse an annual report's text. Raises IngestError when no statement can be read from it."""
    lines = normalise(text).split("\n")
    if not any(line.strip() for line in lines):
        raise IngestError("the document has no text", source=source, hint="give a report document")
    title_lines, body_start = _title_lines(lines)
    title = "".join(x for _, x in title_lines)
    defects = _title_defects(title, title_lines, source)
    body = _BodyReader(_UnitFinder(units or UnitTable(), known_units))
    for idx in range(body_start, len(lines)):
        line = lines[idx].strip()
        if line:
            body.read(idx + 1, line)
    if not body.statements:
        raise IngestError("no statements found: a report needs chapters (一、…) with paragraphs under them",
                          source=source, hint="check that the file is an annual report, or read it as a plan")
    year = _report_year(title, body.preamble, source, defects)
    m_issuer = _ISSUER.match(title)
    issuer = m_issuer.group("issuer") if m_issuer else ""
    if not issuer:
        defects.append(Defect("no_issuer", "could not tell the reporting government from the title", 1,
                              "warning", source))
    slug = make_plan_id(issuer, None, None, source.rsplit(".", 1)[0])
    report_id = f"{slug}-report-{year}" if year else f"{slug}-report"
    return Report(
        id=report_id, title=title, issuer=issuer, year=year, source=source, sha256=sha256,
        encoding=encoding, preamble="\n".join(body.preamble), statements=tuple(body.statements),
        defects=tuple(defects),
    )


def with_plan_units(report: Report, units: UnitTable | None, known_units: Iterable[str]) -> Report:
    """The report with its statements' units found again, now also by the names its plans use.

    A report is parsed before the build knows which plans it reports on (by the unit table alone);
    once they are known, the names and aliases of their units are recognised too.
    """
    finder = _UnitFinder(units or UnitTable(), known_units)
    statements = tuple(replace(s, units=finder.find(s.text)) for s in report.statements)
    return replace(report, statements=statements)
