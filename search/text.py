"""Chinese text handling for search: tokenising, sentence splitting, the thesaurus, term spans.

BM25 only works on Chinese if the segmenter keeps the plan's own vocabulary whole (川渝, 渝快办,
双随机、一公开, unit names ...), so every index carries its own user dictionary. jieba's module-level
tokenizer is global state shared by every caller in the process; an index therefore owns a private
``jieba.Tokenizer`` built from its dictionary, and two indexes never see each other's words.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jieba

# jieba logs "Building prefix dict ..." on every tokenizer initialisation; that is noise for users.
jieba.setLogLevel(logging.WARNING)
logging.getLogger("jieba").setLevel(logging.WARNING)

# Function words and plan boilerplate that would otherwise match almost every task.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 和 与 及 等 对 在 是 为 将 把 被 由 从 向 以 于 并 或 而 其 之 中 上 下 有 无 不 要 应 应当 可 能 能不能
    怎么 怎样 如何 什么 哪些 哪个 哪 吗 呢 吧 啊 呀 时 时候 后 前 里 个 各 这 那 这些 那些 一些 我 我们 你 他 她 它 们
    任务 事 事情 问题 方面 工作 有关 相关 进一步 加强 推进 推动 完善 健全 全面 深入 积极 依法 建立 落实 持续 切实 加快
    坚持 实行 实现 提高 提升 强化 开展 按照 通过 进行 根据 做好 做到 确保 不断 大力 充分 严格 规范 及时 同时 一个 一次 到 给 也 都 就 还 又 很 让
    """.split()
)

_PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[。；！？!?;])")


def read_terms(path: Path | None) -> list[str]:
    """Terms from a one-per-line file (``#`` comments, optional frequency after a space)."""
    if path is None or not path.exists():
        return []
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            terms.append(line.split()[0])
    return terms


class ChineseTokenizer:
    """A private jieba tokenizer with a user dictionary, producing BM25 tokens.

    Uses ``cut_for_search`` so a long compound (行政规范性文件) also yields its parts (规范, 文件) and
    a query using only a part still matches. Terms containing characters jieba's dictionary format
    cannot hold (spaces) are skipped; ``、`` and ``+`` inside terms are kept by also matching the
    term literally (``force_terms``), because jieba's regex splits on them.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted({w.strip() for w in words if w and w.strip() and " " not in w.strip()})
        self._jieba: jieba.Tokenizer | None = None
        # Terms jieba cannot keep whole (it splits on punctuation like 、 + before using the dictionary).
        self.force_terms = tuple(
            sorted((w for w in self.words if re.search(r"[^\w]", w)), key=len, reverse=True)
        )

    @property
    def jieba(self) -> jieba.Tokenizer:
        """jieba with the user words, and its total frequency held at the base dictionary's.

        Why hold the total: jieba scores a cut by log(word frequency / total), and ``add_word``
        raises the total, so adding a word anywhere would shift how every text is cut. Held, a
        text's cut depends only on the dictionary words inside it; so when a new plan brings a new
        unit name, only the tasks containing that name need cutting again
        (:meth:`search.engine.SearchEngine.update` relies on this).
        """
        if self._jieba is None:
            tok = jieba.Tokenizer()
            tok.initialize()
            total = tok.total
            for word in self.words:
                # High frequency so the user word wins over the dictionary's split.
                tok.add_word(word, freq=max(1000, 200 * len(word)))
                tok.total = total
                tok.suggest_freq(word, tune=True)
                tok.total = total
            self._jieba = tok
        return self._jieba

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens of a text: words and search sub-words, stop words and punctuation removed."""
        out: list[str] = []
        rest = text
        for term in self.force_terms:
            if term in rest:
                out.extend([term] * rest.count(term))
                rest = rest.replace(term, " ")
        for tok in self.jieba.cut_for_search(rest):
            tok = tok.strip().lower()
            if not tok or tok in STOPWORDS or _PUNCT.match(tok):
                continue
            out.append(tok)
        return out


def split_sentences(text: str, *, min_chars: int = 6) -> list[str]:
    """Sentences of a task (split at 。；！？); fragments shorter than ``min_chars`` join the previous one."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    out: list[str] = []
    for part in parts:
        if out and len(part) < min_chars:
            out[-1] += part
        else:
            out.append(part)
    return out or ([text.strip()] if text.strip() else [])


@dataclass(frozen=True)
class Thesaurus:
    """Colloquial → official wording (``data/thesaurus.toml``); expands a query, never rewrites it."""

    entries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def load(cls, path: Path | None) -> Thesaurus:
        if path is None or not path.exists():
            return cls({}, "")
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML ({exc}); fix the thesaurus file") from exc
        terms = data.get("terms", data)
        entries: dict[str, tuple[str, ...]] = {}
        for key, value in terms.items():
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{path}: entry {key!r} must map to a list of strings")
            entries[str(key)] = tuple(value)
        return cls(entries, str(path))

    def expand(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """The (colloquial word, official terms) pairs whose word occurs in the query.

        Longest words first; a word inside an already matched longer word (手机 inside 智能手机)
        still counts, because both mappings are meant to apply.
        """
        found = []
        for key in sorted(self.entries, key=len, reverse=True):
            if key in query:
                found.append((key, self.entries[key]))
        return found


def term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, term) spans of terms in text, longest term first, for highlighting."""
    taken = [False] * len(text)
    spans: list[tuple[int, int, str]] = []
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        start = text.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(taken[start:end]):
                spans.append((start, end, term))
                for i in range(start, end):
                    taken[i] = True
            start = text.find(term, end)
    return sorted(spans)


def mark(text: str, spans: Sequence[tuple[int, int, str]], left: str = "【", right: str = "】") -> str:
    """Text with each span wrapped in brackets (the CLI's highlighting)."""
    out, pos = [], 0
    for start, end, _ in sorted(spans):
        out.append(text[pos:start])
        out.append(f"{left}{text[start:end]}{right}")
        pos = end
    out.append(text[pos:])
    return "".join(out)
