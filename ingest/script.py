"""Traditional → Simplified Chinese (OpenCC), so one parser, unit table and search index serve both.

Plans from Hong Kong, Macao or Taiwan sources, or re-typed drafts, arrive in Traditional characters.
They are converted for parsing and matching; the original wording is kept beside each task.
"""

from __future__ import annotations

from functools import lru_cache

TRADITIONAL_SHARE = 0.02  # share of hanzi that t2s changes; Simplified text changes ~0


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def traditional_share(text: str, sample: int = 20000) -> float:
    """Share of the hanzi in ``text`` that are Traditional-only forms."""
    hanzi = "".join(ch for ch in text[: sample * 2] if "\u4e00" <= ch <= "\u9fff")[:sample]
    if not hanzi:
        return 0.0
    converted = to_simplified(hanzi)
    if len(converted) != len(hanzi):
        return 1.0
    return sum(a != b for a, b in zip(hanzi, converted, strict=True)) / len(hanzi)


def is_traditional(text: str) -> bool:
    return traditional_share(text) >= TRADITIONAL_SHARE
