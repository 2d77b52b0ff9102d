"""Chinese text handling for search: tokenising, sentence splitting, the thesaurus, term spans.

BM25 only works on Chinese if the segmenter keeps the plan's own vocabulary whole (川渝, 渝快办,
双随机、一公开, unit names ...), so every index carries its own user dictionary. jieba's module-level
tokenizer is global state shared by every caller in the process; an index therefore owns a private
``jieba.Tokenizer`` built from its dictionary, and two indexes never see each other's words.
"""

from __future__ import annotations

import bisect
import logging
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jieba
import numpy as np

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


DICTIONARY_DIR = "dictionary"  # inside an index directory: jieba's base dictionary, memory-mapped


class _Keys:
    """Key i of a stored dictionary as UTF-8 bytes (for ``bisect``: UTF-8 order is code point order)."""

    def __init__(self, blob: Any, offsets: np.ndarray) -> None:
        self.blob, self.offsets = blob, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        return bytes(self.blob[self.offsets[i]:self.offsets[i + 1]])


class StoredFreq:
    """jieba's word → frequency table read on demand from memory-mapped arrays, with an overlay.

    Why: ``jieba.Tokenizer.initialize`` unmarshals its whole 498,000-entry table (about 1 s on two
    busy cores) before it can cut a three-word query; a ``policykg search`` from the shell must
    answer in under a second. A query looks up a few hundred fragments, each a binary search here
    (about 20 µs). Writes (``add_word``: the user dictionary) go to an ordinary dict in front, so a
    tokenizer over this table cuts exactly as one over jieba's own (tests/test_search.py checks it).
    """

    def __init__(self, directory: Path) -> None:
        # plain ndarray views of the maps: numpy.memmap's own indexing costs 1 µs per access
        self._keys = _Keys(np.load(directory / "keys.npy", mmap_mode="r").view(np.ndarray).data,
                           np.load(directory / "offsets.npy", mmap_mode="r").view(np.ndarray))
        self._freqs = np.load(directory / "freqs.npy", mmap_mode="r").view(np.ndarray)
        self._n = len(self._keys)
        self.overlay: dict[str, int] = {}

    def _find(self, word: str) -> int | None:
        key = word.encode("utf-8")
        i = bisect.bisect_left(self._keys, key)  # type: ignore[call-overload]
        return i if i < self._n and self._keys[i] == key else None

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self.overlay or self._find(word) is not None)

    def __getitem__(self, word: str) -> int:
        value = self.get(word)
        if value is None:
            raise KeyError(word)
        return value

    def get(self, word: str, default: int | None = None) -> int | None:
        if word in self.overlay:
            return self.overlay[word]
        i = self._find(word)
        return int(self._freqs[i]) if i is not None else default

    def __setitem__(self, word: str, value: int) -> None:
        self.overlay[word] = value

    @staticmethod
    def write(directory: Path) -> None:
        """Store jieba's base dictionary (before any user word) and its total in ``directory``."""
        tok = jieba.Tokenizer()
        tok.initialize()
        keys = sorted(k.encode("utf-8") for k in tok.FREQ)
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(k) for k in keys])
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "keys.npy", np.frombuffer(b"".join(keys), dtype=np.uint8))
        np.save(directory / "offsets.npy", offsets)
        np.save(directory / "freqs.npy", np.fromiter((tok.FREQ[k.decode("utf-8")] for k in keys), np.int64, len(keys)))
        (directory / "total.txt").write_text(str(tok.total), encoding="utf-8")


class ChineseTokenizer:
    """A private jieba tokenizer with a user dictionary, producing BM25 tokens.

    Uses ``cut_for_search`` so a long compound (行政规范性文件) also yields its parts (规范, 文件) and
    a query using only a part still matches. Terms containing characters jieba's dictionary format
    cannot hold (spaces) are skipped; ``、`` and ``+`` inside terms are kept by also matching the
    term literally (``force_terms``), because jieba's regex splits on them.
    """

    def __init__(
        self, words: Iterable[str], *, dictionary: Path | None = None, user_freq: dict[str, int] | None = None
    ) -> None:
        self.words = sorted({w.strip() for w in words if w and w.strip() and " " not in w.strip()})
        self._jieba: jieba.Tokenizer | None = None
        # a stored base dictionary (StoredFreq) instead of jieba's own, when one is given and exists
        self.dictionary = dictionary if dictionary is not None and (dictionary / "total.txt").exists() else None
        self.user_freq = user_freq  # user_freq_entries() of the same words, saved by a build
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
            if self.dictionary is not None:
                freq = StoredFreq(self.dictionary)
                tok.FREQ = freq
                tok.total = int((self.dictionary / "total.txt").read_text(encoding="utf-8"))
                tok.initialized = True
                if self.user_freq is not None:  # the user words' entries as a build left them
                    freq.overlay = dict(self.user_freq)
                    self._jieba = tok
                    return tok
            else:
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

    def user_freq_entries(self) -> dict[str, int]:
        """The dictionary entries the user words set: each word and its prefixes, as jieba holds them.

        ``add_word`` writes exactly these (a word's frequency, and 0 for a prefix not yet known),
        so a stored base dictionary plus these entries is this tokenizer's dictionary; a loaded
        index reads them instead of adding every word again (0.3 s for the Bishan plan's 178).
        """
        freq = self.jieba.FREQ
        return {w[:i]: int(freq[w[:i]]) for w in self.words for i in range(1, len(w) + 1)}

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
