"""Numbering marks at the start of a line: which style, which number, what follows.

Plans number their parts with a handful of styles, full- or half-width: 一、 (also 一． 一.),
（一）/(一), 1．/1./1、, （1）/(1), ①. Which style is a heading and which an item is not fixed: the
outline (``ingest.outline``) decides it from the nesting in use, so this module only reads marks.
1./1．/1、 are one style ("n"): plans mix them inside one list (a draft's 1.甲 ２．乙 3、丙).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numerals import CHINESE_NUMERAL_CHARS, chinese_to_int, to_halfwidth_digits

_N = CHINESE_NUMERAL_CHARS
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# style name → pattern; the first that matches wins, so (1) is tried before the (一) catch-all
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn、", re.compile(rf"^(?P<num>[{_N}]{{1,4}})\s*[、.．]\s*(?P<rest>\S.*)$")),
    ("(n)", re.compile(r"^[（(]\s*(?P<num>[0-9０-９]{1,3})\s*[）)]\s*(?P<rest>\S.*)$")),
    # a label of up to four characters holding a numeral: （二十八）, and a misprinted （二 十）
    ("(cn)", re.compile(rf"^[（(]\s*(?P<num>[{_N}]{{1,4}}|[^）)0-9０-９]{{0,4}})\s*[）)]\s*(?P<rest>\S.*)$")),
    ("n", re.compile(r"^(?P<num>[0-9０-９]{1,3})\s*[．.、](?![0-9０-９])\s*(?P<rest>\S.*)$")),
    ("circled", re.compile(rf"^(?P<num>[{_CIRCLED}])\s*(?P<rest>\S.*)$")),
)
STYLES: tuple[str, ...] = tuple(name for name, _ in _PATTERNS)


@dataclass(frozen=True)
class Mark:
    style: str  # one of STYLES
    number: int | None  # None when the label holds no readable numeral
    label: str  # as printed, e.g. "（二十八）", "1．"
    rest: str  # the text after the mark


def read_mark(line: str) -> Mark | None:
    """The numbering mark that opens ``line`` (already stripped), or None."""
    for style, pattern in _PATTERNS:
        m = pattern.match(line)
        if not m:
            continue
        num = m.group("num").strip()
        if style == "(cn)" and num and not any(ch in _N for ch in num):
            continue  # （注）…, （试行）…: a parenthesis, not a number
        rest = m.group("rest")
        return Mark(style, _number(style, num), line[: m.start("rest")].strip(), rest)
    return None


def _number(style: str, num: str) -> int | None:
    if style in ("n", "(n)"):
        return int(to_halfwidth_digits(num))
    if style == "circled":
        return _CIRCLED.index(num) + 1
    return chinese_to_int(num)
