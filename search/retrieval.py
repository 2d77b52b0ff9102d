"""The two retrievers over a loaded index: dense (faiss vectors, max over a task's views) and BM25.

Each returns its documents best first with its own score; fusing them is ``search.fusion``'s job.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .bm25 import Bm25Index


class DenseRetriever:
    """Inner products of a query vector with every view vector; a task scores its best view.

    A flat index is a (vectors, dim) float32 matrix, memory-mapped, scored by one BLAS
    matrix-vector product: for one query at a time faiss's flat scan runs on one core, and this is
    about 3x faster at 74,000 vectors (bench/search_bench.py), which is what keeps hybrid search
    under 30 ms there. An HNSW index is a faiss index (approximate, for very large collections).
    """

    def __init__(self, matrix: np.ndarray | None, hnsw: Any, vec_doc: np.ndarray, n_docs: int) -> None:
        self.flat_matrix = matrix
        self.hnsw = hnsw
        self.vec_doc = vec_doc
        self.n_docs = n_docs
        self.ntotal = len(matrix) if matrix is not None else int(hnsw.ntotal)
        self.first_vec = np.full(n_docs, -1, dtype=np.int64)
        docs, first = np.unique(np.asarray(vec_doc), return_index=True)
        self.first_vec[docs] = first
        self.views_per_doc = max(1.0, len(vec_doc) / max(1, n_docs))

    def vector(self, doc: int) -> np.ndarray:
        """The first view vector of a document (its whole text)."""
        vec_id = int(self.first_vec[doc])
        if self.flat_matrix is not None:
            return np.array(self.flat_matrix[vec_id], dtype=np.float32)
        return np.asarray(self.hnsw.reconstruct(vec_id), dtype=np.float32)

    def _flat_search(self, query_vec: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k inner products over the flat index's vectors (faiss's result layout)."""
        matrix = self.flat_matrix
        assert matrix is not None
        scores = matrix @ query_vec.astype(np.float32).ravel()
        if mask is not None:
            scores = np.where(mask[self.vec_doc], scores, -np.inf)
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        best = best[np.isfinite(scores[best])]
        return scores[best][None, :], best.astype(np.int64)[None, :]

    def _hnsw_params(self, k_vec: int, mask: np.ndarray | None) -> tuple[Any, int]:
        import faiss

        faiss_any: Any = faiss  # its type hints lack the search-parameter classes its SWIG module has
        if mask is None:
            return faiss_any.SearchParametersHNSW(efSearch=max(64, k_vec)), k_vec
        vec_ids = np.flatnonzero(mask[self.vec_doc]).astype(np.int64)
        k_vec = min(k_vec, len(vec_ids))
        selector = faiss.IDSelectorBatch(vec_ids)
        return faiss_any.SearchParametersHNSW(sel=selector, efSearch=max(64, k_vec)), k_vec

    def search(self, query_vec: np.ndarray, k_docs: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        """The k_docs best documents by their best view (max pooling over views)."""
        if self.ntotal == 0 or k_docs <= 0 or (mask is not None and not mask.any()):
            return []
        k_vec = min(self.ntotal, int(k_docs * self.views_per_doc * 2) + 16)
        if self.flat_matrix is not None:
            sims, ids = self._flat_search(query_vec, k_vec, mask)
        else:
            params, k_vec = self._hnsw_params(k_vec, mask)
            sims, ids = self.hnsw.search(query_vec.reshape(1, -1).astype(np.float32), k_vec, params=params)
        best: dict[int, float] = {}
        for sim, vec_id in zip(sims[0], ids[0], strict=True):
            if vec_id < 0:
                continue
            doc = int(self.vec_doc[vec_id])
            if doc not in best:
                best[doc] = float(sim)
        return sorted(best.items(), key=lambda kv: -kv[1])[:k_docs]


def bm25_ranking(
    bm25: Bm25Index, n_docs: int, tokens: list[str], expansion: list[str], expansion_weight: float,
    mask: np.ndarray | None, pool: int,
) -> list[tuple[int, float]]:
    """Documents with a positive BM25 score, best first (at most ``pool``); thesaurus terms weigh less."""
    scores = np.zeros(n_docs, dtype=np.float32)
    known = bm25.vocab
    tokens = [t for t in tokens if t in known]
    expansion = [t for t in expansion if t in known and t not in tokens]
    if tokens:
        scores += bm25.get_scores(tokens)
    if expansion and expansion_weight:
        scores += expansion_weight * bm25.get_scores(expansion)
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    positive = np.flatnonzero(scores > 0)
    if len(positive) > pool:
        positive = positive[np.argpartition(-scores[positive], pool - 1)[:pool]]
    order = positive[np.argsort(-scores[positive], kind="stable")]
    return [(int(i), float(scores[i])) for i in order]
