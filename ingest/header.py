"""The title block before the first numbered line: title, status, period or year, issuer, preamble."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pypinyin import lazy_pinyin

STATUS_RE = re.compile(r"^[（(](?P<status>[^（）()]{1,8}稿)[）)]$")
PERIOD_RE = re.compile(r"[（(]\s*(?P<a>[12]\d{3})\s*(?:年)?\s*[—–\-－~～至到]+\s*(?P<b>[12]\d{3})\s*年?\s*[）)]")
# an annual plan names one year: 2024年法治政府建设工作要点
YEAR_RE = re.compile(r"(?<![0-9])(?P<y>[12]\d{3})\s*年(?!\s*[—–\-－~～至到])")
ANNUAL_RE = re.compile(r"(工作要点|工作安排|任务清单|工作计划|重点工作|责任清单|任务分工|分工方案|年度)")
ISSUER_RE = re.compile(r"^(?P<issuer>(?:[\u4e00-\u9fff]{1,7}?(?:省|自治区))?(?:[\u4e00-\u9fff]{1,7}?(?:市|自治州|盟))?"
                       r"(?:[\u4e00-\u9fff]{1,7}?(?:区|县|旗))?)(?=[\u4e00-\u9fff（(0-9])")


@dataclass(frozen=True)
class Header:
    title: str
    status: str
    preamble: list[str]
    start: int | None
    end: int | None
    year: int | None  # an annual plan's year
    issuer: str


def make_plan_id(issuer: str, start: int | None, end: int | None, fallback: str) -> str:
    """ASCII id from issuer and period: 重庆市璧山区, 2021–2025 → chongqing-bishan-2021-2025."""
    core = re.sub(r"(省|自治区|市|区|县|旗)(?=[\u4e00-\u9fff]|$)", " ", issuer).split()
    words = ["".join(lazy_pinyin(part)) for part in core if part]
    period = [str(y) for y in dict.fromkeys((start, end)) if y]
    slug = "-".join([*words, *period]).lower()
    slug = re.sub(r"[^a-z0-9-]+", "", slug).strip("-")
    if slug:
        return slug
    fb = re.sub(r"[^a-z0-9-]+", "-", fallback.lower()).strip("-")
    return fb or "plan"


#: What a plan's title calls it; a title line may be long when it carries one (or its period).
PLAN_WORD = re.compile(r"(方案|规划|纲要|意见|要点|计划|清单|措施|安排|任务|分工|举措|行动|办法|决定)")


def _title_like(line: str) -> bool:
    """A title line: no sentence end, and at most 40 characters, or at most 80 when it names the plan
    or its period. 新疆维吾尔自治区乌鲁木齐市沙依巴克区关于加快建设法治政府的实施意见（2021—2025年）
    is 44 characters: a long issuer, not a preamble sentence."""
    if line.endswith(("。", "：", ":")):
        return False
    return len(line) <= 40 or (len(line) <= 80 and bool(PLAN_WORD.search(line) or PERIOD_RE.search(line)))


def read_header(lines: list[tuple[int, str]]) -> Header:
    title_parts: list[str] = []
    status = ""
    preamble: list[str] = []
    for _lineno, line in lines:
        m_status = STATUS_RE.match(line)
        if m_status:
            status = m_status.group("status")
        elif re.fullmatch(r"附件\s*\d*", line):
            continue
        elif not preamble and _title_like(line):
            title_parts.append(line)
        else:
            preamble.append(line)
    title = "".join(title_parts)
    m_period = PERIOD_RE.search(title)
    m_year = YEAR_RE.search(title)
    year = int(m_year.group("y")) if not m_period and m_year and ANNUAL_RE.search(title) else None
    if year is None and m_period is None:
        m_period = PERIOD_RE.search("".join(preamble[:1]))
    start = int(m_period.group("a")) if m_period else year
    end = int(m_period.group("b")) if m_period else year
    m_issuer = ISSUER_RE.match(title)
    issuer = m_issuer.group("issuer") if m_issuer else ""
    return Header(title, status, preamble, start, end, year, issuer)
