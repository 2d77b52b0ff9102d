"""Hybrid semantic search over the tasks of policy plans.

One document per task (``Task.text``, the task without its unit clause). Two retrievers:

* dense — a sentence embedder (``search.embedders``) and a faiss inner-product index over
  L2-normalised vectors. A task gets several vectors ("views"): its whole text and each of its
  sentences; a task's dense score is the best of its views (max pooling). Long tasks mix several
  topics, and one whole-text vector blurs them; a sentence vector keeps the topic a query asks
  about. Nothing is truncated: USE has no length limit and sentence views stay inside a
  transformer's window (the manifest reports any passage the model would still cut).
* lexical — BM25 (``bm25s``) over jieba tokens with a user dictionary of the plans' own terms,
  so 川渝, 渝快办 and unit names stay whole.

Results are fused by reciprocal rank fusion (rank-based, so the two retrievers' incomparable score
scales do not matter). Queries are expanded with a colloquial→official thesaurus; filters on unit
and role, chapter, deadline year and plan compose with the query, and a unit named inside the
query becomes a filter.

The index lives in a directory with its own ``manifest.json`` (model, dimension, counts, a hash of
everything indexed); it is reloaded without re-embedding, and is refused when it was built with
another model or from other records.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from ingest.records import ROLES, Plan, Role, Task, Unit
from ingest.vocab import ANY_ROLE_LABEL, ROLE_UNIT_LABELS

from .bm25 import index_flat
from .embedders import DEFAULT_MODEL, get_embedder, normalise_spec
from .modes import MODES
from .text import ChineseTokenizer, Thesaurus, read_terms, split_sentences, term_spans

# faiss's bundled type hints lack the search-parameter classes that its SWIG module does have.
_faiss: Any = faiss

FORMAT_VERSION = 3  # 2: per-plan source hashes, tokens.npz for updates; 3: texts in tokens.npz, fixed jieba total
VIEWS = ("text", "context", "sentences")
DEFAULT_VIEWS: tuple[str, ...] = ("text",)  # measured best with USE (python -m search.evaluate)
RRF_K = 60
EXPANSION_WEIGHT = 0.5  # BM25 weight of thesaurus terms relative to the user's own words
FUSION_WEIGHTS = {"dense": 0.7, "bm25": 1.0}  # measured: +0.02 recall@5 over equal weights
DENSE_EXPAND = False  # append thesaurus terms to the text the dense model embeds
_REPO_DATA = Path(__file__).resolve().parents[1] / "data"

Progress = Callable[[str, float], None]


# ------------------------------------------------------------------------------------ errors


class SearchIndexError(RuntimeError):
    """The search index cannot be used as asked; the message says what to do."""


class IndexMissingError(SearchIndexError):
    pass


class CorruptIndexError(SearchIndexError):
    pass


class ModelMismatchError(SearchIndexError):
    pass


class StaleIndexError(SearchIndexError):
    pass


# ------------------------------------------------------------------------------------ filters


@dataclass(frozen=True)
class Filters:
    """Restrictions that compose with the query (all given ones must hold).

    A unit may be given by canonical name, alias, or its body without level prefix (司法局);
    ``unit`` matches any role, the others one role each.
    """

    lead: str | None = None
    responsible: str | None = None
    participating: str | None = None
    unit: str | None = None
    chapter: int | None = None
    year: int | None = None
    plan: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


@dataclass
class Hit:
    """One task found, with what explains it."""

    plan: str
    position: int
    task: str  # number as printed
    score: float
    text: str
    chapter: int
    chapter_title: str
    section: int | None
    section_label: str
    section_title: str
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]
    participating_units: tuple[str, ...]
    deadlines: list[dict[str, str]]
    matched_by: dict[str, dict[str, float | int]] = field(default_factory=dict)
    matched_terms: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "task": self.task,
            "position": self.position,
            "score": round(float(self.score), 6),
            "text": self.text,
            "chapter": self.chapter,
            "chapter_title": self.chapter_title,
            "section": self.section,
            "section_label": self.section_label,
            "section_title": self.section_title,
            "lead_units": list(self.lead_units),
            "responsible_units": list(self.responsible_units),
            "participating_units": list(self.participating_units),
            "deadlines": self.deadlines,
            "matched_by": self.matched_by,
            "matched_terms": self.matched_terms,
            "spans": [list(s) for s in self.spans],
        }


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)
    applied_filters: dict[str, Any] = field(default_factory=dict)
    query_text: str = ""  # the text actually searched (after a unit named in it was removed)
    expansions: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "query_text": self.query_text,
            "mode": self.mode,
            "notes": self.notes,
            "applied_filters": self.applied_filters,
            "expansions": self.expansions,
            "hits": [h.to_json() for h in self.hits],
        }


# ------------------------------------------------------------------------------------ documents


@dataclass(frozen=True)
class _Doc:
    plan: Plan
    task: Task


def _documents(plans: Sequence[Plan]) -> list[_Doc]:
    return [_Doc(p, t) for p in plans for t in p.tasks]


def _views(doc: _Doc, views: Sequence[str]) -> list[str]:
    """The texts embedded for one task (see the module docstring for why several)."""
    out: list[str] = []
    task = doc.task
    if "text" in views:
        out.append(task.text)
    if "context" in views:
        section = doc.plan.section(task.section)
        chapter = doc.plan.chapter(task.chapter)
        head = "；".join(x for x in (chapter.title if chapter else "", section.title if section else "") if x)
        out.append(f"{head}：{task.text}" if head else task.text)
    if "sentences" in views:
        sentences = split_sentences(task.text)
        if len(sentences) > 1 or "text" not in views:
            out.extend(sentences)
    unique = [v for v in dict.fromkeys(out) if v]
    return unique or [task.text or " "]


def _unit_words(plans: Sequence[Plan]) -> set[str]:
    words: set[str] = set()
    for plan in plans:
        for unit in plan.units:
            words.add(unit.name)
            words.update(unit.aliases)
        for task in plan.tasks:
            words.update(task.lead_units + task.responsible_units + task.participating_units)
    return {w for w in words if len(w) >= 2}


def plan_hash(plan: Plan, views: Sequence[str]) -> str:
    """Hash of what one plan puts in an index (ids, positions, embedded texts): the part that can be reused."""
    h = hashlib.sha256()
    for doc in _documents([plan]):
        h.update(json.dumps([plan.id, doc.task.position, _views(doc, views)], ensure_ascii=False).encode())
    return h.hexdigest()


def _combined_hash(plan_hashes: Iterable[str], *, views: Sequence[str], words: Iterable[str]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT_VERSION, "views": list(views)}).encode())
    for ph in plan_hashes:
        h.update(ph.encode())
    h.update("\n".join(sorted(words)).encode())
    return h.hexdigest()


def source_hash(plans: Sequence[Plan], *, views: Sequence[str], words: Iterable[str]) -> str:
    """Hash of everything an index depends on besides the model: texts, titles, dictionary, format.

    Made of one hash per plan, so an index updated plan by plan (:meth:`SearchEngine.update`) and one
    built from scratch over the same plans agree.
    """
    return _combined_hash((plan_hash(p, views) for p in plans), views=views, words=words)


def _default_path(path: Path | None, name: str) -> Path | None:
    if path is not None:
        return path
    candidate = _REPO_DATA / name
    return candidate if candidate.exists() else None


def _file_sha(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------ unit lexicon


# A unit's body (司法局, 法院, 区委编办 → 委编办) is only matched on its own when it still reads as the
# name of a body; a truncated name's remainder (街道办事 → 办事) is an ordinary word and must not be.
_BODY_SUFFIX = re.compile(r"..*(局|委|办|院|室|中心|部|会|所|联|校|处|厅|站|队)$")


class _UnitLexicon:
    """Names by which units can be named in a filter or a query, resolved to canonical names."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.exact: dict[str, set[str]] = {}
        self.by_kind: dict[str, set[str]] = {}
        units: dict[str, Unit] = {}
        for plan in plans:
            for unit in plan.units:
                units.setdefault(unit.name, unit)
            for task in plan.tasks:
                for name in task.lead_units + task.responsible_units + task.participating_units:
                    units.setdefault(name, Unit(name, "other"))
        for unit in units.values():
            for surface in (unit.name, *unit.aliases):
                if len(surface) >= 2:
                    self.exact.setdefault(surface, set()).add(unit.name)
            if (
                unit.kind
                and _BODY_SUFFIX.search(unit.kind)
                and not unit.collective
                and unit.type != "collective"
            ):
                self.by_kind.setdefault(unit.kind, set()).add(unit.name)
        self.names = set(units)
        # Surfaces searched for inside a query, longest first so 区政务服务管理办 beats 政务服务.
        self.surfaces = sorted(set(self.exact) | set(self.by_kind), key=len, reverse=True)

    def resolve(self, name: str) -> set[str]:
        name = name.strip()
        if name in self.exact:
            return set(self.exact[name])
        if name in self.by_kind:
            return set(self.by_kind[name])
        return {n for n in self.names if name and name in n}

    def find_in(self, query: str) -> tuple[str, set[str]] | None:
        for surface in self.surfaces:
            if surface in query:
                return surface, self.exact.get(surface) or self.by_kind[surface]
        return None


_ROLE_WORDS: tuple[tuple[str, Role], ...] = (
    ("牵头负责", "lead"),
    ("牵头", "lead"),
    ("主责", "lead"),
    ("责任", "responsible"),
    ("参加", "participating"),
    ("参与", "participating"),
    ("配合", "participating"),
)


# ------------------------------------------------------------------------------------ engine


class SearchEngine:
    """A loaded search index over the tasks of some plans. Build or load it; do not construct it."""

    def __init__(
        self,
        directory: Path,
        plans: Sequence[Plan],
        manifest: dict[str, Any],
        index: faiss.Index,
        vec_doc: np.ndarray,
        bm25: bm25s.BM25,
        tokenizer: ChineseTokenizer,
        thesaurus: Thesaurus,
    ) -> None:
        self.directory = directory
        self.plans = list(plans)
        self.manifest = manifest
        self.model = str(manifest["model"])
        self._index = index
        self._vec_doc = vec_doc
        self._bm25 = bm25
        self._tokenizer = tokenizer
        self.thesaurus = thesaurus
        self._docs = _documents(plans)
        self._key_to_doc = {(d.plan.id, d.task.position): i for i, d in enumerate(self._docs)}
        self._units = _UnitLexicon(plans)
        self._doc_tokens: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self._doc_first_vec = np.full(len(self._docs), -1, dtype=np.int64)
        for vec_id in range(len(vec_doc) - 1, -1, -1):
            self._doc_first_vec[vec_doc[vec_id]] = vec_id
        self._views_per_doc = max(1.0, len(vec_doc) / max(1, len(self._docs)))
        # Fusion knobs, per instance so the evaluation can measure alternatives on one index.
        self.rrf_k = RRF_K
        self.weights = dict(FUSION_WEIGHTS)
        self.dense_expand = DENSE_EXPAND

    # -------------------------------------------------------------------------------- build/load

    @classmethod
    def build(
        cls,
        plans: Sequence[Plan],
        directory: Path,
        *,
        model: str = DEFAULT_MODEL,
        thesaurus: Path | None = None,
        terms: Path | None = None,
        progress: Progress | None = None,
        views: Sequence[str] = DEFAULT_VIEWS,
        index: str = "flat",
        embed_cache: Path | None = None,
    ) -> SearchEngine:
        """Embed and index every task of the plans into ``directory`` (replaced atomically).

        ``views``: which texts are embedded per task (see module docstring); ``index``: "flat"
        (exact) or "hnsw" (approximate, for very large collections); ``embed_cache``: a directory
        where vectors are kept by text hash, so rebuilding after small edits embeds only new texts.
        """
        report = progress or (lambda _msg, _frac: None)
        directory = Path(directory)
        model = normalise_spec(model)
        unknown = set(views) - set(VIEWS)
        if unknown or not views:
            raise ValueError(f"views must be a non-empty subset of {VIEWS}, not {list(views)}")
        if index not in ("flat", "hnsw"):
            raise ValueError(f"index must be 'flat' or 'hnsw', not {index!r}")
        thesaurus = _default_path(thesaurus, "thesaurus.toml")
        terms = _default_path(terms, "terms.txt")
        started = time.perf_counter()

        docs = _documents(plans)
        words = _unit_words(plans) | set(read_terms(terms))
        tokenizer = ChineseTokenizer(words)
        report("loading model", 0.0)
        embedder = get_embedder(model)
        cache = _EmbeddingCache(embed_cache, embedder.name) if embed_cache else None
        dense = _embed_documents(docs, views, embedder, cache, report)
        embedded_at = time.perf_counter()

        report("lexical index", 0.9)
        tokens = _Tokens.cut(tokenizer, [d.task.text for d in docs])
        manifest = _manifest(
            model=model, dim=embedder.dim, views=views, index=index, docs=len(docs), dense=dense,
            plans=[_plan_entry(p, views) for p in plans], words=words, terms=terms, thesaurus=thesaurus,
        )
        manifest["update"] = {"mode": "full", "reused_plans": 0, "added_plans": len(plans)}
        manifest["seconds"] = {"embed": round(embedded_at - started, 3)}
        faiss_index, bm25 = _write_index(
            directory, manifest, dense.matrix, dense.vec_doc, [[d.plan.id, d.task.position] for d in docs],
            tokens, tokenizer.words, thesaurus, index, started, report,
        )
        engine = cls(
            directory,
            plans,
            manifest,
            faiss_index,
            dense.vec_doc,
            bm25,
            tokenizer,
            Thesaurus.load(thesaurus),
        )
        engine.notes_at_build = [
            *([f"{dense.chunked} 个任务超过模型最大长度，已另按句子建立向量（取最大值）"] if dense.chunked else []),
            *([f"模型仍截断了 {dense.truncated} 段文本（单句超过模型最大长度）"] if dense.truncated else []),
        ]
        return engine

    @classmethod
    def update(
        cls,
        previous: Path,
        directory: Path,
        plan_ids: Sequence[str],
        added: Sequence[Plan],
        *,
        model: str = DEFAULT_MODEL,
        thesaurus: Path | None = None,
        terms: Path | None = None,
        progress: Progress | None = None,
        embed_cache: Path | None = None,
    ) -> dict[str, Any]:
        """Write into ``directory`` the index of ``plan_ids`` from the ``previous`` index plus ``added`` plans.

        Why: at a thousand plans, re-tokenising and re-indexing every task because one plan was
        added costs a minute; an update keeps the previous index's vectors and tokens of every plan
        it already holds (each id in ``plan_ids`` is either one of ``added`` or a plan the previous
        index holds unchanged — the caller vouches for that) and only embeds and tokenises the
        added plans. The BM25 statistics are global, so BM25 is re-indexed from the stored token
        ids (seconds, not a minute). The result equals :meth:`build` over the same plans.

        When the user dictionary changed (a plan names a unit no other plan names), the kept tasks
        whose text contains a changed word are cut again; no other text can cut differently.

        Raises :class:`StaleIndexError` when the previous index cannot be reused: another model,
        format, term list or thesaurus; the caller then builds from scratch. Returns the new
        index's manifest.
        """
        report = progress or (lambda _msg, _frac: None)
        started = time.perf_counter()
        previous, directory = Path(previous), Path(directory)
        model = normalise_spec(model)
        prev = cls.read_manifest(previous)
        thesaurus = _default_path(thesaurus, "thesaurus.toml")
        terms = _default_path(terms, "terms.txt")
        new = {p.id: p for p in added}
        kept = {e["id"]: e for e in prev.get("plans", []) if "hash" in e and "words" in e}
        why = ""
        if prev.get("format") != FORMAT_VERSION:
            why = f"index format {prev.get('format')} is not {FORMAT_VERSION}"
        elif prev["model"] != model:
            why = f"the previous index was built with {prev['model']!r}, not {model!r}"
        elif (prev.get("terms", {}).get("sha256"), prev.get("thesaurus", {}).get("sha256")) != (
            _file_sha(terms), _file_sha(thesaurus)
        ):
            why = "the term list or thesaurus changed"
        elif missing := [i for i in plan_ids if i not in new and i not in kept]:
            why = f"plan {missing[0]!r} is neither added nor in the previous index"
        elif not (previous / "tokens.npz").exists():
            why = "the previous index has no stored tokens"
        if why:
            raise StaleIndexError(f"cannot update the search index in {previous}: {why}")
        views = tuple(prev["views"])
        words = set(read_terms(terms))
        for pid in plan_ids:
            words.update(_unit_words([new[pid]]) if pid in new else kept[pid]["words"])
        old_words = (previous / "userdict.txt").read_text(encoding="utf-8").split()
        tokenizer = ChineseTokenizer(words)
        # words that came or went (a plan naming a unit no other plan names): only the texts that
        # contain one are cut differently (see ChineseTokenizer), and only they are cut again
        changed = sorted(set(tokenizer.words) ^ set(old_words))

        report("reading the previous index", 0.02)
        try:
            old_index = faiss.read_index(str(previous / "dense.faiss"))
            old_matrix = old_index.reconstruct_n(0, old_index.ntotal) if old_index.ntotal else None
            old_vec_doc = np.load(previous / "vec_doc.npy")
            old_docs = json.loads((previous / "docs.json").read_text(encoding="utf-8"))
            old_tokens = _Tokens.load(previous / "tokens.npz")
        except Exception as exc:
            raise CorruptIndexError(f"search index in {previous} is damaged ({exc}); rebuild it") from exc
        del old_index
        if len(old_tokens.texts) != len(old_docs):
            raise CorruptIndexError(f"search index in {previous}: tokens.npz does not match docs.json; rebuild it")
        recut = [i for i, text in enumerate(old_tokens.texts) if any(w in text for w in changed)]
        recut_at = {doc: row for row, doc in enumerate(recut)}
        tokens_recut = _Tokens.cut(tokenizer, [old_tokens.texts[i] for i in recut])
        # where each kept plan's documents and vectors sit in the previous index (contiguous blocks)
        doc_span: dict[str, list[int]] = {}
        for i, (pid, _pos) in enumerate(old_docs):
            span = doc_span.setdefault(pid, [i, i])
            span[1] = i + 1
        vec_start = np.searchsorted(old_vec_doc, np.arange(len(old_docs) + 1), side="left")

        docs_new = _documents(added)
        embedder = get_embedder(model) if docs_new else None
        cache = _EmbeddingCache(embed_cache, embedder.name) if embed_cache and embedder else None
        dense_new = _embed_documents(docs_new, views, embedder, cache, report) if embedder else None
        report("lexical index", 0.9)
        tokens_new = _Tokens.cut(tokenizer, [d.task.text for d in docs_new])
        new_doc_start: dict[str, int] = {}
        for i, d in enumerate(docs_new):
            new_doc_start.setdefault(d.plan.id, i)

        blocks: list[np.ndarray] = []
        vec_doc: list[np.ndarray] = []
        doc_keys: list[list[Any]] = []
        token_parts: list[tuple[_Tokens, int, int]] = []
        for pid in plan_ids:
            base = len(doc_keys)
            if pid in new:
                first = new_doc_start.get(pid, 0)
                n = len(new[pid].tasks)
                assert dense_new is not None or n == 0
                if n and dense_new is not None:
                    rows = (dense_new.vec_doc >= first) & (dense_new.vec_doc < first + n)
                    blocks.append(dense_new.matrix[rows])
                    vec_doc.append(dense_new.vec_doc[rows] - first + base)
                doc_keys += [[pid, t.position] for t in new[pid].tasks]
                _extend(token_parts, tokens_new, first, first + n)
            else:
                lo, hi = doc_span.get(pid, [0, 0])
                if hi > lo and old_matrix is not None:
                    blocks.append(old_matrix[vec_start[lo]:vec_start[hi]])
                    vec_doc.append(old_vec_doc[vec_start[lo]:vec_start[hi]] - lo + base)
                doc_keys += old_docs[lo:hi]
                for doc in range(lo, hi):
                    row = recut_at.get(doc)
                    if row is None:
                        _extend(token_parts, old_tokens, doc, doc + 1)
                    else:
                        _extend(token_parts, tokens_recut, row, row + 1)
        dim = int(prev["dimension"])
        matrix = np.concatenate(blocks).astype(np.float32) if blocks else np.zeros((0, dim), np.float32)
        vec_doc_all = np.concatenate(vec_doc).astype(np.int32) if vec_doc else np.zeros(0, np.int32)
        tokens = _Tokens.concat(token_parts)
        plan_entries = [_plan_entry(new[pid], views) if pid in new else kept[pid] for pid in plan_ids]
        dense = _Dense(
            matrix, vec_doc_all,
            unique=int(dense_new.unique) if dense_new else 0,
            embedded=int(dense_new.embedded) if dense_new else 0,
            chunked=int(prev.get("chunked_tasks", 0)) + (dense_new.chunked if dense_new else 0),
            truncated=int(prev.get("truncated_by_model", 0)) + (dense_new.truncated if dense_new else 0),
        )
        manifest = _manifest(
            model=model, dim=dim, views=views, index=str(prev.get("index", "flat")), docs=len(doc_keys),
            dense=dense, plans=plan_entries, words=words, terms=terms, thesaurus=thesaurus,
        )
        manifest["unique_texts"] = None  # not known without the kept plans' texts
        manifest["update"] = {"mode": "incremental", "reused_plans": len(plan_ids) - len(new),
                              "added_plans": len(new), "changed_words": changed, "recut_tasks": len(recut)}
        manifest["seconds"] = {"embed": round(time.perf_counter() - started, 3)}
        _write_index(directory, manifest, matrix, vec_doc_all, doc_keys, tokens, tokenizer.words,
                     thesaurus, str(prev.get("index", "flat")), started, report)
        return manifest

    notes_at_build: list[str] = []  # noqa: RUF012 - replaced per instance by build()

    @staticmethod
    def read_manifest(directory: Path) -> dict[str, Any]:
        path = Path(directory) / "manifest.json"
        if not path.exists():
            raise IndexMissingError(f"no search index in {directory} (build it: policykg build)")
        try:
            manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"{path} is unreadable ({exc}); rebuild the index") from exc
        for key in ("format", "model", "dimension", "count", "source_hash", "views"):
            if key not in manifest:
                raise CorruptIndexError(f"{path} lacks {key!r}; rebuild the index")
        return manifest

    @classmethod
    def is_current(cls, directory: Path, plans: Sequence[Plan], model: str | None = None) -> bool:
        """True when the index in directory was built from these plans, terms and this model."""
        try:
            manifest = cls.read_manifest(directory)
        except SearchIndexError:
            return False
        return not cls._staleness(Path(directory), manifest, plans, model)

    @staticmethod
    def _staleness(
        directory: Path, manifest: dict[str, Any], plans: Sequence[Plan], model: str | None,
        *, check_texts: bool = True,
    ) -> str:
        """Why an index cannot serve these plans/model ("" when it can)."""
        if manifest.get("format") != FORMAT_VERSION:
            return f"index format {manifest.get('format')} is not {FORMAT_VERSION}"
        if model is not None and normalise_spec(model) != manifest["model"]:
            return f"index was built with model {manifest['model']!r}, not {normalise_spec(model)!r}"
        for name in ("dense.faiss", "vec_doc.npy", "docs.json", "bm25", "userdict.txt"):
            if not (directory / name).exists():
                return f"{name} is missing"
        if not check_texts:
            return ""
        terms = manifest.get("terms", {})
        terms_path = Path(terms["path"]) if terms.get("path") else None
        if terms_path is not None and terms_path.exists():
            if _file_sha(terms_path) != terms.get("sha256"):
                return f"terms file {terms_path} changed"
            words = _unit_words(plans) | set(read_terms(terms_path))
        elif terms_path is not None:
            # The terms file moved away (e.g. an installed build): trust the dictionary indexed with.
            words = _unit_words(plans) | set((directory / "userdict.txt").read_text(encoding="utf-8").split())
        else:
            words = _unit_words(plans)
        if source_hash(plans, views=manifest["views"], words=words) != manifest["source_hash"]:
            return "the plans' tasks (or the term dictionary) changed since the index was built"
        return ""

    @classmethod
    def load(
        cls, directory: Path, plans: Sequence[Plan], *, model: str | None = None, check_texts: bool = True
    ) -> SearchEngine:
        """Open an index without re-embedding anything.

        ``check_texts=False`` skips re-hashing every task text against the manifest (2 s at a
        thousand plans) for a caller that already knows the index was made from these plans — a
        build checks both against its own manifest's checksums. Ids, positions and counts are
        always compared.

        Raises ``IndexMissingError`` / ``CorruptIndexError`` when there is no usable index,
        ``ModelMismatchError`` when ``model`` is given and the index was built with another one
        (vectors of two models are not comparable), ``StaleIndexError`` when the plans changed.
        """
        directory = Path(directory)
        manifest = cls.read_manifest(directory)
        if model is not None and normalise_spec(model) != manifest["model"]:
            raise ModelMismatchError(
                f"the search index in {directory} was built with model {manifest['model']!r}; "
                f"it cannot answer queries embedded with {normalise_spec(model)!r}. "
                "Rebuild the index with that model, or query with the index's model."
            )
        why = cls._staleness(directory, manifest, plans, None, check_texts=check_texts)
        if why:
            cls_err = CorruptIndexError if "missing" in why else StaleIndexError
            raise cls_err(f"search index in {directory} cannot be used: {why}; rebuild it")
        try:
            index = faiss.read_index(str(directory / "dense.faiss"))
            vec_doc = np.load(directory / "vec_doc.npy")
            bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False, verbosity=0)
            docs = json.loads((directory / "docs.json").read_text(encoding="utf-8"))
        except Exception as exc:
            raise CorruptIndexError(f"search index in {directory} is damaged ({exc}); rebuild it") from exc
        expected = [[d.plan.id, d.task.position] for d in _documents(plans)]
        if (
            docs != expected
            or index.ntotal != len(vec_doc)
            or index.d != manifest["dimension"]
            or (len(vec_doc) and int(vec_doc.max()) >= len(expected))
        ):
            raise CorruptIndexError(f"search index in {directory} does not match its manifest; rebuild it")
        words = (directory / "userdict.txt").read_text(encoding="utf-8").split()
        thesaurus_path = Path(manifest.get("thesaurus", {}).get("path") or directory / "thesaurus.toml")
        if not thesaurus_path.exists():
            thesaurus_path = directory / "thesaurus.toml"
        return cls(
            directory,
            plans,
            manifest,
            index,
            vec_doc,
            bm25,
            ChineseTokenizer(words),
            Thesaurus.load(thesaurus_path),
        )

    # -------------------------------------------------------------------------------- retrieval

    @property
    def embedder(self) -> Any:
        return get_embedder(self.model)

    def _allowed(self, filters: Filters, applied: dict[str, Any], notes: list[str]) -> np.ndarray | None:
        """Boolean mask over documents, or None when nothing restricts."""
        if filters.is_empty():
            return None
        mask = np.ones(len(self._docs), dtype=bool)
        facets = self._facets
        for role in (*ROLES, None):
            value = getattr(filters, role or "unit")
            if value is None:
                continue
            names = self._units.resolve(value)
            key = role or "unit"
            applied[key] = {"value": value, "units": sorted(names), **applied.get(key, {})}
            if not names:
                notes.append(f"未找到单位“{value}”，没有任务符合该条件")
            roles: tuple[Role, ...] = (role,) if role else ROLES
            mask &= self._select([facets.by_unit.get((n, r), ()) for n in names for r in roles])
        if filters.chapter is not None:
            applied["chapter"] = filters.chapter
            mask &= facets.chapter == filters.chapter
        if filters.year is not None:
            applied["year"] = filters.year
            mask &= self._select([facets.by_year.get(filters.year, ())])
        if filters.plan is not None:
            applied["plan"] = filters.plan
            if filters.plan not in facets.plan_index:
                notes.append(f"没有编号为“{filters.plan}”的规划")
            mask &= facets.plan == facets.plan_index.get(filters.plan, -1)
        return mask

    def _select(self, groups: Sequence[Sequence[int]]) -> np.ndarray:
        out = np.zeros(len(self._docs), dtype=bool)
        for group in groups:
            if len(group):
                out[np.asarray(group, dtype=np.int64)] = True
        return out

    @functools.cached_property
    def _facets(self) -> _Facets:
        return _Facets(self._docs)

    def _unit_from_query(
        self, query: str, filters: Filters, applied: dict[str, Any], notes: list[str]
    ) -> tuple[str, Filters]:
        """Recognise a unit named in the query; make it a filter and remove it from the text."""
        found = self._units.find_in(query)
        if not found:
            return query, filters
        surface, _names = found
        start = query.index(surface)
        after = query[start + len(surface) :]
        role: Role | None = None
        role_word = ""
        for word, r in _ROLE_WORDS:
            if after.startswith(word) or after.lstrip("的").startswith(word):
                role, role_word = r, word
                break
        if role is None and after.lstrip("的").startswith("负责"):
            role_word = "负责"  # "X负责的": X in any role (the plans' 责任单位 is not what people mean)
        removed = surface + (after[: after.index(role_word) + len(role_word)] if role_word else "")
        rest = query[:start] + query[start + len(removed) :]
        rest = re.sub(r"^[的和及与，,、\s]+|[的和及与，,、\s]+$", "", rest.replace(surface, ""))
        rest = re.sub(r"^的", "", rest).strip()
        key = role or "unit"
        if getattr(filters, key) is not None:
            return query, filters  # an explicit filter on that role wins; leave the query alone
        filters = Filters(**{**filters.__dict__, key: surface})
        applied[key] = {"from_query": True}
        label = ROLE_UNIT_LABELS[role] if role else ANY_ROLE_LABEL
        notes.append(f"查询中的“{surface}”已作为单位筛选条件（{label}），并从检索词中去除")
        return rest, filters

    def _bm25_scores(self, tokens: list[str], expansion: list[str]) -> np.ndarray:
        scores = np.zeros(len(self._docs), dtype=np.float32)
        known = self._bm25.vocab_dict
        tokens = [t for t in tokens if t in known]
        expansion = [t for t in expansion if t in known and t not in tokens]
        if tokens:
            scores += self._bm25.get_scores(tokens)
        if expansion:
            scores += EXPANSION_WEIGHT * self._bm25.get_scores(expansion)
        return scores

    @cached_property
    def _flat_matrix(self) -> np.ndarray | None:
        """The vectors a flat faiss index holds, as a zero-copy numpy view.

        For one query at a time, faiss's flat scan runs on one core; the same exact inner products
        as one BLAS matrix-vector product over this view are about 3x faster at 74,000 vectors
        (bench/search_bench.py), which is what keeps hybrid search under 30 ms there.
        """
        if not isinstance(self._index, faiss.IndexFlat) or self._index.ntotal == 0:
            return None
        n, d = self._index.ntotal, self._index.d
        return faiss.rev_swig_ptr(self._index.get_xb(), n * d).reshape(n, d)

    def _flat_search(self, query_vec: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k inner products over the flat index's vectors (faiss's result layout)."""
        matrix = self._flat_matrix
        assert matrix is not None
        scores = matrix @ query_vec.astype(np.float32).ravel()
        if mask is not None:
            scores = np.where(mask[self._vec_doc], scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[np.isfinite(scores[top])]
        return scores[top][None, :], top.astype(np.int64)[None, :]

    def _dense_scores(self, query_vec: np.ndarray, k_docs: int, mask: np.ndarray | None) -> dict[int, float]:
        """Best view score per document for the k_docs best documents (max pooling over views)."""
        if self._index.ntotal == 0 or k_docs <= 0:
            return {}
        k_vec = min(self._index.ntotal, int(k_docs * self._views_per_doc * 2) + 16)
        params = None
        if mask is not None:
            allowed_docs = np.flatnonzero(mask)
            if len(allowed_docs) == 0:
                return {}
            vec_ids = np.flatnonzero(mask[self._vec_doc]).astype(np.int64)
            k_vec = min(k_vec, len(vec_ids))
            selector = faiss.IDSelectorBatch(vec_ids)
            params = (
                _faiss.SearchParametersHNSW(sel=selector, efSearch=max(64, k_vec))
                if isinstance(self._index, faiss.IndexHNSW)
                else _faiss.SearchParameters(sel=selector)
            )
        elif isinstance(self._index, faiss.IndexHNSW):
            params = _faiss.SearchParametersHNSW(efSearch=max(64, k_vec))
        if self._flat_matrix is not None:
            sims, ids = self._flat_search(query_vec, k_vec, mask)
        else:
            sims, ids = self._index.search(query_vec.reshape(1, -1).astype(np.float32), k_vec, params=params)
        best: dict[int, float] = {}
        for sim, vec_id in zip(sims[0], ids[0], strict=True):
            if vec_id < 0:
                continue
            doc = int(self._vec_doc[vec_id])
            if doc not in best:
                best[doc] = float(sim)
        return dict(sorted(best.items(), key=lambda kv: -kv[1])[:k_docs])

    def search(
        self, query: str, *, top: int = 10, mode: str = "hybrid", filters: Filters | None = None
    ) -> SearchResult:
        """Tasks best matching a query, with explanations (see ``Hit``)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        notes: list[str] = []
        applied: dict[str, Any] = {}
        filters = filters or Filters()
        text, filters = self._unit_from_query(query.strip(), filters, applied, notes)
        mask = self._allowed(filters, applied, notes)
        if not text and mask is None:
            notes.append("查询为空")
            return SearchResult(query=query, mode=mode, hits=[], notes=notes, applied_filters=applied)
        result = SearchResult(
            query=query, mode=mode, hits=[], notes=notes, applied_filters=applied, query_text=text
        )
        if mask is not None and not mask.any():
            notes.append("没有任务符合筛选条件")
            return result
        expansions = self.thesaurus.expand(text)
        result.expansions = {k: list(v) for k, v in expansions}
        if expansions:
            notes.append("同义扩展：" + "；".join(f"{k}→{'、'.join(v)}" for k, v in expansions))
        tokens = self._tokenizer.tokens(text)
        expansion_tokens = [
            t for _, terms in expansions for term in terms for t in self._tokenizer.tokens(term)
        ]
        if not tokens and not expansion_tokens and mask is not None:
            # Nothing left to rank by (e.g. "区司法局牵头的任务"): list the filtered tasks in order.
            docs = np.flatnonzero(mask) if mask is not None else np.arange(len(self._docs))
            notes.append("检索词为空，按文件顺序列出符合筛选条件的任务")
            result.hits = [self._hit(int(i), 0.0, {}, []) for i in docs[:top]]
            return result

        pool = max(100, top * 5)
        ranked: dict[str, list[tuple[int, float]]] = {}
        if mode in ("bm25", "hybrid"):
            scores = self._bm25_scores(tokens, expansion_tokens)
            if mask is not None:
                scores = np.where(mask, scores, 0.0)
            positive = np.flatnonzero(scores > 0)
            if len(positive) > pool:
                positive = positive[np.argpartition(-scores[positive], pool - 1)[:pool]]
            order = positive[np.argsort(-scores[positive], kind="stable")]
            ranked["bm25"] = [(int(i), float(scores[i])) for i in order]
        if mode in ("dense", "hybrid"):
            dense_query = text if text.strip() else query
            if self.dense_expand and expansions:
                dense_query += " " + " ".join(dict.fromkeys(t for _, terms in expansions for t in terms))
            qvec = self.embedder.embed_queries([dense_query])[0]
            ranked["dense"] = list(self._dense_scores(qvec, pool, mask).items())

        fused: dict[int, float] = {}
        explain: dict[int, dict[str, dict[str, float | int]]] = {}
        for name, items in ranked.items():
            for rank, (doc, score) in enumerate(items, start=1):
                explain.setdefault(doc, {})[name] = {"rank": rank, "score": round(score, 6)}
                fused[doc] = fused.get(doc, 0.0) + (
                    self.weights[name] / (self.rrf_k + rank) if mode == "hybrid" else score
                )
        order_docs = sorted(fused, key=lambda d: (-fused[d], d))[:top]
        highlight = list(dict.fromkeys(tokens + expansion_tokens))
        result.hits = [self._hit(d, fused[d], explain[d], highlight) for d in order_docs]
        if not result.hits:
            notes.append("没有找到相关任务")
        return result

    def scores_for(self, query: str, top: int = 100) -> dict[tuple[str, int], float]:
        """Hybrid scores of the best ``top`` tasks, keyed by (plan id, task position) — for SPARQL."""
        hits = self.search(query, top=top, mode="hybrid").hits
        return {(h.plan, h.position): h.score for h in hits}

    def similar(self, plan_id: str, task_position: int, top: int = 10) -> SearchResult:
        """Tasks (in any loaded plan) whose dense vectors are closest to a given task's own text."""
        doc = self._key_to_doc.get((plan_id, task_position))
        if doc is None:
            raise KeyError(f"no task at position {task_position} in plan {plan_id!r}")
        vec_id = int(self._doc_first_vec[doc])
        vec = np.asarray(self._index.reconstruct(vec_id), dtype=np.float32)
        mask = np.ones(len(self._docs), dtype=bool)
        mask[doc] = False
        scores = self._dense_scores(vec, top, mask)
        source = self._docs[doc].task
        hits = [
            self._hit(d, s, {"dense": {"rank": r, "score": round(s, 6)}}, self._tokenizer.tokens(source.text))
            for r, (d, s) in enumerate(scores.items(), start=1)
        ]
        return SearchResult(query=source.text, mode="dense", hits=hits, query_text=source.text)

    # -------------------------------------------------------------------------------- explain

    def _hit(
        self, doc_id: int, score: float, matched_by: dict[str, dict[str, float | int]], terms: list[str]
    ) -> Hit:
        doc = self._docs[doc_id]
        task, plan = doc.task, doc.plan
        present = [t for t in terms if t and t in task.text]
        spans = term_spans(task.text, present)
        section = plan.section(task.section)
        chapter = plan.chapter(task.chapter)
        return Hit(
            plan=plan.id,
            position=task.position,
            task=task.label,
            score=score,
            text=task.text,
            chapter=task.chapter,
            chapter_title=chapter.title if chapter else "",
            section=task.section,
            section_label=section.label if section else "",
            section_title=section.title if section else "",
            lead_units=task.lead_units,
            responsible_units=task.responsible_units,
            participating_units=task.participating_units,
            deadlines=[{"date": d.date.isoformat(), "wording": d.wording} for d in task.deadlines],
            matched_by=matched_by,
            matched_terms=sorted({s[2] for s in spans}, key=lambda t: task.text.find(t)),
            spans=spans,
        )


class _Facets:
    """Per-document filter columns, computed once, so a filter costs array operations, not a scan."""

    def __init__(self, docs: Sequence[_Doc]) -> None:
        self.chapter = np.fromiter((d.task.chapter for d in docs), np.int32, len(docs))
        self.plan_index: dict[str, int] = {}
        for d in docs:
            self.plan_index.setdefault(d.plan.id, len(self.plan_index))
        self.plan = np.fromiter((self.plan_index[d.plan.id] for d in docs), np.int32, len(docs))
        self.by_unit: dict[tuple[str, Role], list[int]] = {}
        self.by_year: dict[int, list[int]] = {}
        for i, d in enumerate(docs):
            for role in ROLES:
                for name in d.task.units(role):
                    self.by_unit.setdefault((name, role), []).append(i)
            for year in {x.date.year for x in d.task.deadlines}:
                self.by_year.setdefault(year, []).append(i)


class _EmbeddingCache:
    """Vectors by (model, text hash) in one directory, so unchanged texts are never embedded twice."""

    def __init__(self, directory: Path, model: str) -> None:
        tag = hashlib.sha256(model.encode()).hexdigest()[:16]
        self.path = Path(directory) / f"embeddings-{tag}.npz"
        self._data: dict[bytes, np.ndarray] | None = None

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).digest()

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._data is None:
            self._data = {}
            if self.path.exists():
                with np.load(self.path) as z:
                    keys, vecs = z["keys"], z["vectors"]
                self._data = {bytes(k): v for k, v in zip(keys, vecs, strict=True)}
        return self._data

    def get_many(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        data = self._load()
        return {t: data[k] for t in texts if (k := self._key(t)) in data}

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        data = self._load()
        data.update({self._key(t): v for t, v in vectors.items()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(data), dtype="S20")
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=np.stack(list(data.values())).astype(np.float32))
        tmp.replace(self.path)


# ------------------------------------------------------------------------------------ index assembly


@dataclass
class _Dense:
    """Vectors of some documents' views, in document order, with what making them cost."""

    matrix: np.ndarray  # float32 (vectors, dim)
    vec_doc: np.ndarray  # int32 document index of each vector
    unique: int = 0
    embedded: int = 0
    chunked: int = 0
    truncated: int = 0


def _embed_documents(
    docs: Sequence[_Doc], views: Sequence[str], embedder: Any, cache: _EmbeddingCache | None, report: Progress
) -> _Dense:
    """Every view of every document, each distinct text embedded once (and only when not cached).

    A task longer than the model's window would be cut silently; such tasks also get one vector
    per sentence (max pooling), so their tail stays searchable.
    """
    report("checking lengths", 0.02)
    cut = set(embedder.truncated([d.task.text for d in docs])) if "sentences" not in views else set()
    vec_texts: list[str] = []
    vec_doc: list[int] = []
    for i, doc in enumerate(docs):
        doc_views = [*views, "sentences"] if i in cut else views
        for text in _views(doc, doc_views):
            vec_texts.append(text)
            vec_doc.append(i)
    unique = list(dict.fromkeys(vec_texts))
    vectors_by_text: dict[str, np.ndarray] = cache.get_many(unique) if cache else {}
    todo = [t for t in unique if t not in vectors_by_text]
    truncated = embedder.truncated(todo) if todo else []  # sentences still too long for the model
    batch = 512
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        for text, vec in zip(chunk, embedder.embed_passages(chunk), strict=True):
            vectors_by_text[text] = vec
        if cache and (start // batch) % 20 == 19:  # keep long runs' work if they are interrupted
            cache.put_many({t: vectors_by_text[t] for t in todo[: start + len(chunk)]})
        report("embedding", 0.05 + 0.8 * min(1.0, (start + len(chunk)) / max(1, len(todo))))
    if cache:
        cache.put_many({t: vectors_by_text[t] for t in todo})
    matrix = (
        np.stack([vectors_by_text[t] for t in vec_texts]).astype(np.float32)
        if vec_texts
        else np.zeros((0, embedder.dim), np.float32)
    )
    return _Dense(matrix, np.asarray(vec_doc, dtype=np.int32), len(unique), len(todo), len(cut), len(truncated))


def _tokenize(tokenizer: ChineseTokenizer, texts: Sequence[str]) -> list[list[str]]:
    """BM25 tokens per text; a text repeated across plans (drafts, copied wording) is cut once."""
    memo: dict[str, list[str]] = {}
    out = []
    for text in texts:
        toks = memo.get(text)
        if toks is None:
            toks = memo[text] = tokenizer.tokens(text) or ["∅"]
        out.append(toks)
    return out


def _extend(parts: list[tuple[_Tokens, int, int]], source: _Tokens, lo: int, hi: int) -> None:
    """Add documents ``lo:hi`` of ``source``, merged with the previous run when they continue it."""
    if parts and parts[-1][0] is source and parts[-1][2] == lo:
        parts[-1] = (source, parts[-1][1], hi)
    else:
        parts.append((source, lo, hi))


@dataclass
class _Tokens:
    """Every document's BM25 tokens as ids into a vocabulary, and the text they were cut from.

    What an update needs: BM25 is re-indexed from the ids, and when the user dictionary changed,
    the documents whose text contains a changed word are found by their text and cut again.
    """

    vocab: list[str]
    ids: np.ndarray  # int32, all documents' token ids back to back
    offsets: np.ndarray  # int64, len(documents) + 1
    texts: list[str]

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[str]], texts: Sequence[str]) -> _Tokens:
        index: dict[str, int] = {}
        ids = [index.setdefault(t, len(index)) for toks in lists for t in toks]
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(t) for t in lists])
        return cls(list(index), np.asarray(ids, dtype=np.int32), offsets, list(texts))

    @classmethod
    def cut(cls, tokenizer: ChineseTokenizer, texts: Sequence[str]) -> _Tokens:
        return cls.from_lists(_tokenize(tokenizer, texts), texts)

    @classmethod
    def concat(cls, parts: Sequence[tuple[_Tokens, int, int]]) -> _Tokens:
        """Documents ``lo:hi`` of each part, in order, over one vocabulary of the tokens they use."""
        vocab: dict[str, int] = {}
        ids: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        texts: list[str] = []
        for part, lo, hi in parts:
            chunk = part.ids[part.offsets[lo]:part.offsets[hi]]
            used = np.unique(chunk)
            remap = np.zeros(len(part.vocab), dtype=np.int32)
            remap[used] = [vocab.setdefault(part.vocab[u], len(vocab)) for u in used.tolist()]
            ids.append(remap[chunk])
            lengths.append(np.diff(part.offsets[lo:hi + 1]))
            texts += part.texts[lo:hi]
        offsets = np.zeros(sum(len(x) for x in lengths) + 1, dtype=np.int64)
        if lengths:
            offsets[1:] = np.cumsum(np.concatenate(lengths))
        all_ids = np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32)
        return cls(list(vocab), all_ids, offsets, texts)

    def bm25(self) -> bm25s.BM25:
        """The BM25 index of these documents (``search.bm25``: bm25s's numbers, numpy's speed)."""
        return index_flat(self.ids, self.offsets, {t: i for i, t in enumerate(self.vocab)})

    def save(self, path: Path) -> None:
        # texts as one UTF-8 buffer with offsets: numpy's fixed-width strings would pad every task
        # text to the longest one
        encoded = [t.encode("utf-8") for t in self.texts]
        text_offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        text_offsets[1:] = np.cumsum([len(b) for b in encoded])
        np.savez(path, vocab=np.asarray(self.vocab, dtype=str), ids=self.ids, offsets=self.offsets,
                 text_bytes=np.frombuffer(b"".join(encoded), dtype=np.uint8), text_offsets=text_offsets)

    @classmethod
    def load(cls, path: Path) -> _Tokens:
        with np.load(path) as z:
            data = z["text_bytes"].tobytes()
            bounds = z["text_offsets"].tolist()
            texts = [data[bounds[i]:bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]
            return cls(z["vocab"].tolist(), z["ids"], z["offsets"], texts)


def _plan_entry(plan: Plan, views: Sequence[str]) -> dict[str, Any]:
    """What the manifest keeps per plan: enough to reuse the plan's part of the index in an update."""
    return {"id": plan.id, "sha256": plan.sha256, "tasks": len(plan.tasks), "hash": plan_hash(plan, views),
            "words": sorted(_unit_words([plan]))}


def _manifest(
    *, model: str, dim: int, views: Sequence[str], index: str, docs: int, dense: _Dense,
    plans: list[dict[str, Any]], words: set[str], terms: Path | None, thesaurus: Path | None,
) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": model,
        "dimension": dim,
        "count": docs,
        "vectors": len(dense.vec_doc),
        "unique_texts": dense.unique,
        "embedded": dense.embedded,
        "chunked_tasks": dense.chunked,
        "truncated_by_model": dense.truncated,
        "views": list(views),
        "index": index,
        "source_hash": _combined_hash((p["hash"] for p in plans), views=views, words=words),
        "plans": plans,
        "terms": {"path": str(terms) if terms else "", "sha256": _file_sha(terms)},
        "thesaurus": {"path": str(thesaurus) if thesaurus else "", "sha256": _file_sha(thesaurus)},
    }


def _write_index(
    directory: Path, manifest: dict[str, Any], matrix: np.ndarray, vec_doc: np.ndarray,
    doc_keys: list[list[Any]], tokens: _Tokens, words: Sequence[str], thesaurus: Path | None, index: str,
    started: float, report: Progress,
) -> tuple[faiss.Index, bm25s.BM25]:
    """Index the vectors and tokens and write the index directory, replacing any old one atomically."""
    report("indexing", 0.92)
    dim = int(manifest["dimension"])
    if index == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        faiss_index: faiss.Index = hnsw
    else:
        faiss_index = faiss.IndexFlatIP(dim)
    if len(matrix):
        faiss_index.add(np.ascontiguousarray(matrix, dtype=np.float32))
    bm25 = tokens.bm25()

    report("writing", 0.96)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        faiss.write_index(faiss_index, str(tmp / "dense.faiss"))
        np.save(tmp / "vec_doc.npy", np.asarray(vec_doc, dtype=np.int32))
        (tmp / "docs.json").write_text(json.dumps(doc_keys, ensure_ascii=False), encoding="utf-8")
        bm25.save(str(tmp / "bm25"), show_progress=False)
        tokens.save(tmp / "tokens.npz")
        (tmp / "userdict.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        if thesaurus is not None and thesaurus.exists():
            shutil.copyfile(thesaurus, tmp / "thesaurus.toml")
        manifest.setdefault("seconds", {})["total"] = round(time.perf_counter() - started, 3)
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if directory.exists():
            old = directory.with_name(f".{directory.name}-old-{os.getpid()}")
            directory.rename(old)
            tmp.rename(directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report("done", 1.0)
    return faiss_index, bm25
