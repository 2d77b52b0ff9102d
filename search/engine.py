"""Hybrid semantic search over the tasks of policy plans: a thin engine over the search modules.

One document per task (``Task.text``, the task without its unit clause). Two retrievers
(``search.retrieval``):

* dense — a sentence embedder (``search.embedders``, chosen by name; ``auto`` picks by corpus
  size, ``search.choice``) and a faiss inner-product index over L2-normalised vectors, a task
  scoring its best view (``search.documents``);
* lexical — BM25 (``bm25s``) over jieba tokens with a user dictionary of the plans' own terms,
  so 川渝, 渝快办 and unit names stay whole.

A query is understood first (``search.query``: a unit named in it becomes a filter), expanded with
a colloquial→official thesaurus, and the retrievers' rankings are fused (``search.fusion``, pure
functions chosen by name and tuned by measurement). The index lives in a directory with its own
typed manifest (``search.manifest``), written and read by ``search.storage``, updated plan by plan
by ``search.update``; it is reloaded without re-embedding and refused when it was built with
another model or from other records.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import Plan

from . import fusion
from .bm25 import Bm25Index
from .choice import AUTO, DEFAULT_SPEC, choose_model
from .documents import (
    DEFAULT_VIEWS,
    FORMAT_VERSION,
    VIEWS,
    Doc,
    default_views,
    documents,
    source_hash,
    unit_words,
)
from .embedders import Embedder, get_embedder, normalise_spec
from .errors import (
    CorruptIndexError,
    IndexMissingError,
    ModelMismatchError,
    SearchIndexError,
    StaleIndexError,
)
from .fusion import FusionConfig
from .manifest import IndexManifest, staleness
from .modes import MODES
from .query import Facets, ParsedQuery, UnitLexicon, parse_query
from .results import Filters, Hit, SearchResult
from .retrieval import DenseRetriever, bm25_ranking
from .storage import EmbeddingCache, IndexFiles, Progress, Tokens, embed_documents, write_index
from .text import ChineseTokenizer, Thesaurus, read_terms, term_spans
from .update import new_manifest, plan_entry, update_index

__all__ = [
    "DEFAULT_VIEWS", "FORMAT_VERSION", "MODES", "VIEWS", "CorruptIndexError", "Filters", "FusionConfig", "Hit",
    "IndexMissingError", "ModelMismatchError", "SearchEngine", "SearchIndexError", "SearchResult",
    "StaleIndexError", "source_hash",
]

_REPO_DATA = Path(__file__).resolve().parents[1] / "data"


def _default_path(path: Path | None, name: str) -> Path | None:
    if path is not None:
        return path
    candidate = _REPO_DATA / name
    return candidate if candidate.exists() else None


def _check_options(views: Sequence[str], index: str) -> None:
    unknown = set(views) - set(VIEWS)
    if unknown or not views:
        raise ValueError(f"views must be a non-empty subset of {VIEWS}, not {list(views)}")
    if index not in ("flat", "hnsw"):
        raise ValueError(f"index must be 'flat' or 'hnsw', not {index!r}")


class SearchEngine:
    """A loaded search index over the tasks of some plans. Build or load it; do not construct it."""

    notes_at_build: list[str] = []  # noqa: RUF012 - replaced per instance by build()

    def __init__(
        self, directory: Path, plans: Sequence[Plan], manifest: IndexManifest, matrix: np.ndarray | None,
        hnsw: Any, vec_doc: np.ndarray, bm25: Bm25Index, tokenizer: ChineseTokenizer, thesaurus: Thesaurus,
    ) -> None:
        self.directory = directory
        self.plans = list(plans)
        self.index_manifest = manifest
        self.model = manifest.model
        self._bm25 = bm25
        self._tokenizer = tokenizer
        self.thesaurus = thesaurus
        self._docs: list[Doc] = documents(plans)
        self._key_to_doc = {(d.plan.id, d.task.position): i for i, d in enumerate(self._docs)}
        self._units = UnitLexicon(plans)
        self._dense = DenseRetriever(matrix, hnsw, vec_doc, len(self._docs))
        # Fusion knobs, per instance so the evaluation can measure alternatives on one index.
        self.fusion = fusion.defaults_for(self.model)
        self._query_vectors: dict[str, np.ndarray] = {}

    @property
    def manifest(self) -> dict[str, Any]:
        """The index's manifest as JSON (``index_manifest`` is the typed one)."""
        return self.index_manifest.to_json()

    # -------------------------------------------------------------------------------- build/load

    @classmethod
    def build(
        cls, plans: Sequence[Plan], directory: Path, *, model: str = DEFAULT_SPEC, thesaurus: Path | None = None,
        terms: Path | None = None, progress: Progress | None = None, views: Sequence[str] | None = None,
        index: str = "flat", embed_cache: Path | None = None,
    ) -> SearchEngine:
        """Embed and index every task of the plans into ``directory`` (replaced atomically).

        ``model``: an embedder name, path, or ``auto`` (by corpus size, ``search.choice``);
        ``views``: which texts are embedded per task (``search.documents``; default: the model's);
        ``index``: "flat"
        (exact) or "hnsw" (approximate, for very large collections); ``embed_cache``: a directory
        where vectors are kept by text hash, so rebuilding after small edits embeds only new texts.
        """
        report = progress or (lambda _msg, _frac: None)
        directory = Path(directory)
        thesaurus = _default_path(thesaurus, "thesaurus.toml")
        terms = _default_path(terms, "terms.txt")
        started = time.perf_counter()
        docs = documents(plans)
        model, choice = choose_model(normalise_spec(model), (d.task.text for d in docs))
        views = tuple(views) if views is not None else default_views(model)
        _check_options(views, index)
        if choice.get("asked") == AUTO:
            report(f"model {choice['reason']}", 0.0)
        words = unit_words(plans) | set(read_terms(terms))
        tokenizer = ChineseTokenizer(words)
        report("loading model", 0.0)
        embedder = get_embedder(model)
        cache = EmbeddingCache(embed_cache, embedder.name) if embed_cache else None
        dense = embed_documents(docs, views, embedder, cache, report)
        embedded_at = time.perf_counter()

        report("lexical index", 0.9)
        tokens = Tokens.cut(tokenizer, [d.task.text for d in docs])
        manifest = new_manifest(
            model=model, dim=embedder.dim, views=views, index=index, docs=len(docs), dense=dense,
            plans=[plan_entry(p, views) for p in plans], words=words, terms=terms, thesaurus=thesaurus,
        )
        manifest.model_choice = choice
        manifest.update = {"mode": "full", "reused_plans": 0, "added_plans": len(plans)}
        manifest.seconds = {"embed": round(embedded_at - started, 3)}
        matrix, hnsw, bm25 = write_index(
            directory, manifest, dense.matrix, dense.vec_doc, [[d.plan.id, d.task.position] for d in docs],
            tokens, tokenizer, thesaurus, started, report, cache=embed_cache,
        )
        engine = cls(directory, plans, manifest, matrix, hnsw, dense.vec_doc, bm25, tokenizer,
                     Thesaurus.load(thesaurus))
        engine.notes_at_build = [
            *([f"{dense.chunked} 个任务超过模型最大长度，已另按句子建立向量（取最大值）"] if dense.chunked else []),
            *([f"模型仍截断了 {dense.truncated} 段文本（单句超过模型最大长度）"] if dense.truncated else []),
        ]
        return engine

    @classmethod
    def update(
        cls, previous: Path, directory: Path, plan_ids: Sequence[str], added: Sequence[Plan], *,
        model: str = DEFAULT_SPEC, thesaurus: Path | None = None, terms: Path | None = None,
        progress: Progress | None = None, embed_cache: Path | None = None,
    ) -> dict[str, Any]:
        """Write into ``directory`` the index of ``plan_ids`` from the ``previous`` index plus ``added`` plans.

        Each id in ``plan_ids`` is either one of ``added`` or a plan the previous index holds
        unchanged (the caller vouches for that); only the added plans are embedded and tokenised
        (``search.update``). The result equals :meth:`build` over the same plans.

        Raises :class:`StaleIndexError` (or another :class:`SearchIndexError`) when the previous
        index cannot be reused: another model, format, term list or thesaurus; the caller then
        builds from scratch. Returns the new index's manifest as JSON.
        """
        manifest = update_index(
            previous, directory, plan_ids, added, model=model,
            thesaurus=_default_path(thesaurus, "thesaurus.toml"), terms=_default_path(terms, "terms.txt"),
            progress=progress, embed_cache=embed_cache,
        )
        return manifest.to_json()

    @staticmethod
    def read_manifest(directory: Path) -> dict[str, Any]:
        return IndexManifest.read(directory).to_json()

    @classmethod
    def is_current(cls, directory: Path, plans: Sequence[Plan], model: str | None = None) -> bool:
        """True when the index in directory was built from these plans, terms and this model."""
        try:
            manifest = IndexManifest.read(directory)
        except SearchIndexError:
            return False
        return staleness(Path(directory), manifest, model=_query_model(model), plans=plans) is None

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
        manifest = IndexManifest.read(directory)
        why = staleness(directory, manifest, model=_query_model(model), plans=plans if check_texts else None)
        if why is not None:
            raise why.error(directory)
        files = IndexFiles.read(directory, manifest.index)
        expected = [[d.plan.id, d.task.position] for d in documents(plans)]
        if (
            files.docs != expected
            or files.ntotal != len(files.vec_doc)
            or files.dim != manifest.dimension
            or (len(files.vec_doc) and int(files.vec_doc.max()) >= len(expected))
        ):
            raise CorruptIndexError(f"search index in {directory} does not match its manifest; rebuild it")
        thesaurus_path = Path(manifest.thesaurus.path or directory / "thesaurus.toml")
        if not thesaurus_path.exists():
            thesaurus_path = directory / "thesaurus.toml"
        return cls(directory, plans, manifest, files.matrix, files.hnsw, files.vec_doc, files.bm25,
                   files.tokenizer(directory), Thesaurus.load(thesaurus_path))

    # -------------------------------------------------------------------------------- retrieval

    @property
    def embedder(self) -> Embedder:
        return get_embedder(self.model)

    def _query_vector(self, text: str) -> np.ndarray:
        """A query's vector, remembered for the last 256 queries (the app reruns a page per click)."""
        vec = self._query_vectors.get(text)
        if vec is None:
            vec = self.embedder.embed_queries([text])[0]
            if len(self._query_vectors) >= 256:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[text] = vec
        return vec

    @cached_property
    def _facets(self) -> Facets:
        return Facets(self._docs, self._units)

    def _rankings(self, parsed: ParsedQuery, mode: str, mask: np.ndarray | None, pool: int,
                  expansions: list[tuple[str, tuple[str, ...]]], tokens: list[str],
                  expansion_tokens: list[str]) -> dict[str, list[tuple[int, float]]]:
        ranked: dict[str, list[tuple[int, float]]] = {}
        config = self.fusion
        if mode in ("bm25", "hybrid"):
            ranked["bm25"] = bm25_ranking(self._bm25, len(self._docs), tokens, expansion_tokens,
                                          config.expansion_weight, mask, pool)
        if mode in ("dense", "hybrid"):
            dense_query = parsed.text
            if config.dense_expand and expansions:
                dense_query += " " + " ".join(dict.fromkeys(t for _, terms in expansions for t in terms))
            qvec = self._query_vector(dense_query)
            ranked["dense"] = self._dense.search(qvec, pool, mask)
        return ranked

    def search(
        self, query: str, *, top: int = 10, mode: str = "hybrid", filters: Filters | None = None
    ) -> SearchResult:
        """Tasks best matching a query, with explanations (see ``Hit``)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        parsed = parse_query(query, filters or Filters(), self._units)
        mask = self._facets.mask(parsed)
        notes = parsed.notes
        result = SearchResult(query=query, mode=mode, hits=[], notes=notes, applied_filters=parsed.applied,
                              query_text=parsed.text if parsed.text or mask is not None else "")
        if not parsed.text and mask is None:
            notes.append("查询为空")
            return result
        if mask is not None and not mask.any():
            notes.append("没有任务符合筛选条件")
            return result
        expansions = self.thesaurus.expand(parsed.text) if self.fusion.thesaurus else []
        result.expansions = {k: list(v) for k, v in expansions}
        if expansions:
            notes.append("同义扩展：" + "；".join(f"{k}→{'、'.join(v)}" for k, v in expansions))
        tokens = self._tokenizer.tokens(parsed.text)
        expansion_tokens = [t for _, terms in expansions for term in terms for t in self._tokenizer.tokens(term)]
        if not tokens and not expansion_tokens and mask is not None:
            # Nothing left to rank by (e.g. "区司法局牵头的任务"): list the filtered tasks in order.
            notes.append("检索词为空，按文件顺序列出符合筛选条件的任务")
            result.hits = [self._hit(int(i), 0.0, {}, []) for i in np.flatnonzero(mask)[:top]]
            return result
        ranked = self._rankings(parsed, mode, mask, max(100, top * 5), expansions, tokens, expansion_tokens)
        fused = fusion.fuse(ranked, parsed.text, self.fusion) if mode == "hybrid" else fusion.single(ranked)
        explain = fusion.explain(ranked)
        highlight = list(dict.fromkeys(tokens + expansion_tokens))
        result.hits = [self._hit(d, fused[d], explain[d], highlight) for d in fusion.top(fused, top)]
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
        mask = np.ones(len(self._docs), dtype=bool)
        mask[doc] = False
        ranked = self._dense.search(self._dense.vector(doc), top, mask)
        source = self._docs[doc].task
        terms = self._tokenizer.tokens(source.text)
        hits = [
            self._hit(d, s, {"dense": {"rank": r, "score": round(s, 6)}}, terms)
            for r, (d, s) in enumerate(ranked, start=1)
        ]
        return SearchResult(query=source.text, mode="dense", hits=hits, query_text=source.text)

    # -------------------------------------------------------------------------------- explain

    def _hit(
        self, doc_id: int, score: float, matched_by: dict[str, dict[str, float | int]], terms: list[str]
    ) -> Hit:
        doc = self._docs[doc_id]
        task, plan = doc.task, doc.plan
        spans = term_spans(task.text, [t for t in terms if t and t in task.text])
        section = plan.section(task.section)
        chapter = plan.chapter(task.chapter)
        return Hit(
            plan=plan.id, position=task.position, task=task.label, score=score, text=task.text,
            chapter=task.chapter, chapter_title=chapter.title if chapter else "", section=task.section,
            section_label=section.label if section else "", section_title=section.title if section else "",
            lead_units=task.lead_units, responsible_units=task.responsible_units,
            participating_units=task.participating_units,
            deadlines=[{"date": d.date.isoformat(), "wording": d.wording} for d in task.deadlines],
            matched_by=matched_by,
            matched_terms=sorted({s[2] for s in spans}, key=lambda t: task.text.find(t)),
            spans=spans,
        )


def _query_model(model: str | None) -> str | None:
    """The model a caller asks queries to be embedded with; ``auto`` accepts whatever the index chose."""
    if model is None:
        return None
    spec = normalise_spec(model)
    return None if spec == AUTO else spec
