"""Deadlines and quantitative targets inside a task's text, each kept with its wording."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from .numerals import chinese_to_int, to_halfwidth_digits
from .records import Deadline, Target

_YEAR_END = re.compile(r"(?:(?:到|至|在|于)\s*)?(?P<y>[12]\d{3})\s*年\s*(?:底|末|年底|年末)(?:之?前)?")
_MONTH = re.compile(r"(?:(?:到|至|在|于)\s*)?(?P<y>[12]\d{3})\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月(?:底|末)?(?:之?前)?")
_HALF = re.compile(r"(?:(?:到|至|在|于)\s*)?(?P<y>[12]\d{3})\s*年\s*(?:上半年|年中)(?:之?前)?")
# relative to the plan's year (annual plans: 工作要点, 工作安排, 任务清单)
_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11,
             "十二": 12}
_REL_MONTH = re.compile(r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月(?:份)?\s*(?:(?P<d>[0-9]{1,2})\s*日)?\s*"
                        r"(?:底之?前|末之?前|底|末|中旬之?前|上旬之?前|下旬之?前|之前|前)")
_REL_QUARTER = re.compile(r"(?:第\s*)?(?P<q>[一二三四1-4])\s*季度(?:末|底)?(?:之?前)?")
_REL_HALF = re.compile(r"(?P<h>上半年|下半年|年中)(?:之?前)?")
_REL_YEAR = re.compile(r"(?:年内|年底之?前|年底|年末之?前|年末|本年度内|今年底前?)")
NO_DATE_WORDING = re.compile(r"(长期坚持|持续推进|持续开展|常态化推进|长期推进|长期)")

_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百]+)"
_MEASURE = r"(?:学时|小时|个工作日|工作日|天|次|期|项|家|人次|人|名|场|件|个领域|个部门|个方面|个)"
_GE = r"(?:不少于|不低于|至少|超过|高于|达到|达)"
_LE = r"(?:不超过|不高于|低于|少于|控制在)"

_PERCENT = re.compile(rf"(?P<cmp>{_GE}|{_LE})?\s*(?P<v>\d+(?:\.\d+)?)\s*[%％](?P<post>以上|以下)?")
_WITH_COMPARATOR = re.compile(
    rf"(?P<cmp>{_GE}|{_LE})[\u4e00-\u9fff]{{0,3}}?(?P<v>{_NUM})(?P<u>{_MEASURE})(?P<post>以上|以下)?"
)
_WITH_POSTFIX = re.compile(rf"(?P<v>{_NUM})(?P<u>{_MEASURE})(?P<post>以上|以下)")
_ARABIC_COUNT = re.compile(rf"(?P<v>\d+)(?P<u>{_MEASURE})")
_CLAUSE_SPLIT = re.compile(r"[，。；！？,;]")


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def find_deadlines(text: str, year: int | None = None) -> tuple[Deadline, ...]:
    """Dates a task must be done by: 2023年底前 → 2023-12-31, 2022年6月底 → 2022-06-30.

    With ``year`` (an annual plan's year), wording relative to it becomes a date too: 年内 / 年底前 →
    12-31, 6月底前 → 06-30, 三季度 → 09-30, 上半年 → 06-30; the wording is kept with each date.
    """
    text = to_halfwidth_digits(text)
    found: list[tuple[int, Deadline]] = []
    taken: list[range] = []
    for pattern in (_YEAR_END, _MONTH, _HALF):
        for m in pattern.finditer(text):
            if any(m.start() in r for r in taken):
                continue
            year = int(m.group("y"))
            if pattern is _YEAR_END:
                date = dt.date(year, 12, 31)
            elif pattern is _MONTH:
                date = _last_day(year, int(m.group("m")))
            else:
                date = dt.date(year, 6, 30)
            taken.append(range(m.start(), m.end()))
            found.append((m.start(), Deadline(date, m.group(0).strip())))
    if year is not None:
        found.extend(_relative(text, year, taken))
    found.sort(key=lambda x: x[0])
    return tuple(d for _, d in found)


def _relative(text: str, year: int, taken: list[range]) -> list[tuple[int, Deadline]]:
    out: list[tuple[int, Deadline]] = []
    for pattern in (_REL_MONTH, _REL_QUARTER, _REL_HALF, _REL_YEAR):
        for m in pattern.finditer(text):
            if any(m.start() in r or (m.end() - 1) in r for r in taken):
                continue
            if pattern is _REL_MONTH:
                month = _CN_MONTH.get(m.group("m")) or int(m.group("m"))
                day = int(m.group("d") or 0)
                last = _last_day(year, month)
                date = last.replace(day=day) if 0 < day <= last.day else last
            elif pattern is _REL_QUARTER:
                quarter = "一二三四".find(m.group("q")) + 1 or int(m.group("q"))
                date = _last_day(year, quarter * 3)
            elif pattern is _REL_HALF:
                date = dt.date(year, 12, 31) if m.group("h") == "下半年" else dt.date(year, 6, 30)
            else:
                date = dt.date(year, 12, 31)
            taken.append(range(m.start(), m.end()))
            out.append((m.start(), Deadline(date, m.group(0).strip())))
    return out


def _value(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        n = chinese_to_int(token.replace("两", "二"))
        return float(n) if n is not None else None


def _comparator(cmp: str | None, post: str | None) -> str:
    if post == "以上" or (cmp and re.fullmatch(_GE, cmp) and cmp not in ("达到", "达")):
        return ">="
    if post == "以下" or (cmp and re.fullmatch(_LE, cmp)):
        return "<="
    return "="


def _context(text: str, start: int, end: int) -> str:
    left = max((m.end() for m in _CLAUSE_SPLIT.finditer(text, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE_SPLIT.finditer(text, end)), len(text))
    return text[left:right].strip()


def find_targets(text: str) -> tuple[Target, ...]:
    """Quantitative targets: 100%, 不低于5%, 不少于60学时, 两期以上, 3个领域, 至少接受一次."""
    norm = to_halfwidth_digits(text)
    spans: list[tuple[int, int, Target]] = []
    for pattern in (_PERCENT, _WITH_COMPARATOR, _WITH_POSTFIX, _ARABIC_COUNT):
        for m in pattern.finditer(norm):
            if any(s < m.end() and m.start() < e for s, e, _ in spans):
                continue
            groups = m.groupdict()
            unit = "%" if pattern is _PERCENT else groups["u"]
            start, end = m.start(), m.end()
            spans.append((start, end, Target(
                phrase=text[start:end].strip(),
                context=_context(text, start, end),
                value=_value(groups["v"]),
                unit=unit,
                comparator=_comparator(groups.get("cmp"), groups.get("post")),
            )))
    spans.sort(key=lambda x: x[0])
    return tuple(t for _, _, t in spans)
