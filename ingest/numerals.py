"""Chinese numerals as printed in plan headings (一 … 九十九), and full-width digits."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

CHINESE_NUMERAL_CHARS = "零〇一二两三四五六七八九十百"


def to_halfwidth_digits(text: str) -> str:
    return text.translate(_FULLWIDTH)


def chinese_to_int(text: str) -> int | None:
    """Parse 一 … 九百九十九; None when the text is not such a numeral."""
    if not text or any(ch not in CHINESE_NUMERAL_CHARS for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS[ch]
    return total + current


def int_to_chinese(n: int) -> str:
    """The inverse for 1 … 999, used to name expected labels in defect messages."""
    if n <= 0 or n >= 1000:
        return str(n)
    names = "零一二三四五六七八九"
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += names[hundreds] + "百"
        if tens == 0 and ones:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else names[tens]) + "十"
    if ones:
        out += names[ones]
    return out
