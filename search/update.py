"""Incremental update of a search index: keep the previous index's vectors and tokens, embed only new plans.

Why: at a thousand plans, re-tokenising and re-indexing every task because one plan was added
costs a minute; an update keeps the vectors and tokens of every plan the previous index already
holds and only embeds and tokenises the added plans. BM25's statistics are global, so BM25 is
re-indexed from the stored token ids (seconds, not a minute). The result equals a build from
scratch over the same plans (tests/test_many_plans.py checks it).

When the user dictionary changed (a plan names a unit no other plan names), the kept tasks whose
text contains a changed word are cut again; no other text can cut differently (see
``search.text.ChineseTokenizer``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import Plan

from .choice import AUTO, choose_model
from .documents import Doc, combined_hash, documents, plan_hash, unit_words
from .embedders import get_embedder, normalise_spec
from .manifest import FileRef, IndexManifest, Sources, Staleness, StaleReason, staleness
from .storage import Dense, EmbeddingCache, IndexFiles, Progress, Tokens, embed_documents, extend, write_index
from .text import ChineseTokenizer, read_terms


def plan_entry(plan: Plan, views: Sequence[str]) -> dict[str, Any]:
    """What the manifest keeps per plan: enough to reuse the plan's part of the index in an update."""
    return {"id": plan.id, "sha256": plan.sha256, "tasks": len(plan.tasks), "hash": plan_hash(plan, views),
            "words": sorted(unit_words([plan]))}


def new_manifest(
    *, model: str, dim: int, views: Sequence[str], index: str, docs: int, dense: Dense,
    plans: list[dict[str, Any]], words: set[str], terms: Path | None, thesaurus: Path | None,
) -> IndexManifest:
    return IndexManifest(
        model=model, dimension=dim, count=docs, views=tuple(views), index=index,
        source_hash=combined_hash((p["hash"] for p in plans), views=views, words=words),
        vectors=len(dense.vec_doc), unique_texts=dense.unique, embedded=dense.embedded,
        chunked_tasks=dense.chunked, truncated_by_model=dense.truncated, plans=plans,
        terms=FileRef.of(terms), thesaurus=FileRef.of(thesaurus),
    )


@dataclass
class _Previous:
    """What an update carries over from the previous index."""

    directory: Path
    manifest: IndexManifest
    matrix: np.ndarray | None
    vec_doc: np.ndarray
    docs: list[list[Any]]
    tokens: Tokens
    words: list[str]

    def doc_spans(self) -> dict[str, list[int]]:
        """Where each plan's documents sit (contiguous blocks)."""
        spans: dict[str, list[int]] = {}
        for i, (pid, _pos) in enumerate(self.docs):
            span = spans.setdefault(pid, [i, i])
            span[1] = i + 1
        return spans


def _check(
    previous: Path, manifest: IndexManifest, model: str, sources: Sources, plan_ids: Sequence[str],
    new: dict[str, Plan], kept: dict[str, dict[str, Any]],
) -> None:
    why = staleness(previous, manifest, model=model, sources=sources)
    if why is None and (missing := [i for i in plan_ids if i not in new and i not in kept]):
        why = Staleness(StaleReason.PLANS, f"plan {missing[0]!r} is neither added nor in the previous index")
    if why is None and not (previous / "tokens.npz").exists():
        why = Staleness(StaleReason.TOKENS, "the previous index has no stored tokens")
    if why is not None:
        raise why.error(previous)


def _assemble(
    plan_ids: Sequence[str], new: dict[str, Plan], prev: _Previous, dense_new: Dense | None,
    tokens_new: Tokens, recut: dict[int, int], tokens_recut: Tokens,
) -> tuple[np.ndarray, np.ndarray, list[list[Any]], Tokens]:
    """The new index's vectors, their documents, document keys and tokens, plan by plan in order."""
    doc_span = prev.doc_spans()
    vec_start = np.searchsorted(prev.vec_doc, np.arange(len(prev.docs) + 1), side="left")
    new_doc_start: dict[str, int] = {}
    offset = 0
    for pid, plan in new.items():  # the added plans' documents, in the order they were given
        new_doc_start[pid] = offset
        offset += len(plan.tasks)
    blocks: list[np.ndarray] = []
    vec_doc: list[np.ndarray] = []
    doc_keys: list[list[Any]] = []
    token_parts: list[tuple[Tokens, int, int]] = []
    for pid in plan_ids:
        base = len(doc_keys)
        if pid in new:
            first, n = new_doc_start[pid], len(new[pid].tasks)
            if n and dense_new is not None:
                rows = (dense_new.vec_doc >= first) & (dense_new.vec_doc < first + n)
                blocks.append(dense_new.matrix[rows])
                vec_doc.append(dense_new.vec_doc[rows] - first + base)
            doc_keys += [[pid, t.position] for t in new[pid].tasks]
            extend(token_parts, tokens_new, first, first + n)
            continue
        lo, hi = doc_span.get(pid, [0, 0])
        if hi > lo and prev.matrix is not None:
            blocks.append(prev.matrix[vec_start[lo]:vec_start[hi]])
            vec_doc.append(prev.vec_doc[vec_start[lo]:vec_start[hi]] - lo + base)
        doc_keys += prev.docs[lo:hi]
        for doc in range(lo, hi):
            row = recut.get(doc)
            if row is None:
                extend(token_parts, prev.tokens, doc, doc + 1)
            else:
                extend(token_parts, tokens_recut, row, row + 1)
    dim = prev.manifest.dimension
    matrix = np.concatenate(blocks).astype(np.float32) if blocks else np.zeros((0, dim), np.float32)
    vec_doc_all = np.concatenate(vec_doc).astype(np.int32) if vec_doc else np.zeros(0, np.int32)
    return matrix, vec_doc_all, doc_keys, Tokens.concat(token_parts)


def _choose(spec: str, prev: _Previous, plan_ids: Sequence[str], new: dict[str, Plan]) -> tuple[str, dict[str, Any]]:
    """``auto`` over the updated corpus; an update cannot change the model (a full build must)."""
    spans = prev.doc_spans()
    texts = [t.text for p in new.values() for t in p.tasks]
    for pid in plan_ids:
        if pid not in new and pid in spans:
            lo, hi = spans[pid]
            texts += prev.tokens.texts[lo:hi]
    model, choice = choose_model(spec, texts)
    if model != prev.manifest.model:
        raise Staleness(StaleReason.MODEL, f"auto now chooses {model!r} ({choice.get('reason', '')}), "
                        f"the previous index has {prev.manifest.model!r}").error(prev.directory)
    return model, choice


def update_index(
    previous: Path, directory: Path, plan_ids: Sequence[str], added: Sequence[Plan], *, model: str,
    thesaurus: Path | None, terms: Path | None, progress: Progress | None, embed_cache: Path | None,
) -> IndexManifest:
    """See ``SearchEngine.update``."""
    report = progress or (lambda _msg, _frac: None)
    started = time.perf_counter()
    previous, directory = Path(previous), Path(directory)
    prev_manifest = IndexManifest.read(previous)
    new = {p.id: p for p in added}
    kept = {e["id"]: e for e in prev_manifest.plans if "hash" in e and "words" in e}
    spec = normalise_spec(model)
    model = prev_manifest.model if spec == AUTO else spec  # auto: checked below, once the texts are known
    _check(previous, prev_manifest, model, Sources(terms, thesaurus), plan_ids, new, kept)
    views = prev_manifest.views
    words = set(read_terms(terms))
    for pid in plan_ids:
        words.update(unit_words([new[pid]]) if pid in new else kept[pid]["words"])
    tokenizer = ChineseTokenizer(words)

    report("reading the previous index", 0.02)
    matrix, vec_doc, docs, tokens = IndexFiles.read_for_update(previous, prev_manifest.index)
    old_words = (previous / "userdict.txt").read_text(encoding="utf-8").split()
    prev = _Previous(previous, prev_manifest, matrix, vec_doc, docs, tokens, old_words)
    model, choice = _choose(spec, prev, plan_ids, new)
    # words that came or went: only the texts that contain one are cut differently, and cut again
    changed = sorted(set(tokenizer.words) ^ set(old_words))
    recut = [i for i, text in enumerate(tokens.texts) if any(w in text for w in changed)]
    tokens_recut = Tokens.cut(tokenizer, [tokens.texts[i] for i in recut])

    docs_new: list[Doc] = documents(added)
    dense_new = None
    if docs_new:
        embedder = get_embedder(model)
        cache = EmbeddingCache(embed_cache, embedder.name) if embed_cache else None
        dense_new = embed_documents(docs_new, views, embedder, cache, report)
    report("lexical index", 0.9)
    tokens_new = Tokens.cut(tokenizer, [d.task.text for d in docs_new])
    matrix_all, vec_doc_all, doc_keys, tokens_all = _assemble(
        plan_ids, new, prev, dense_new, tokens_new, {doc: row for row, doc in enumerate(recut)}, tokens_recut
    )
    dense = Dense(
        matrix_all, vec_doc_all,
        unique=dense_new.unique if dense_new else 0,
        embedded=dense_new.embedded if dense_new else 0,
        chunked=prev_manifest.chunked_tasks + (dense_new.chunked if dense_new else 0),
        truncated=prev_manifest.truncated_by_model + (dense_new.truncated if dense_new else 0),
    )
    manifest = new_manifest(
        model=model, dim=prev_manifest.dimension, views=views, index=prev_manifest.index, docs=len(doc_keys),
        dense=dense, plans=[plan_entry(new[pid], views) if pid in new else kept[pid] for pid in plan_ids],
        words=words, terms=terms, thesaurus=thesaurus,
    )
    manifest.unique_texts = None  # not known without the kept plans' texts
    manifest.model_choice = choice
    manifest.update = {"mode": "incremental", "reused_plans": len(plan_ids) - len(new), "added_plans": len(new),
                       "changed_words": changed, "recut_tasks": len(recut)}
    manifest.seconds = {"embed": round(time.perf_counter() - started, 3)}
    write_index(directory, manifest, matrix_all, vec_doc_all, doc_keys, tokens_all, tokenizer,
                thesaurus, started, report, cache=embed_cache)
    return manifest
