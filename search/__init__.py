"""Semantic search over plan tasks: dense (sentence embeddings + faiss), BM25 (jieba + bm25s), fused."""

from .engine import (
    CorruptIndexError,
    Filters,
    Hit,
    IndexMissingError,
    ModelMismatchError,
    SearchEngine,
    SearchIndexError,
    SearchResult,
    StaleIndexError,
)

__all__ = [
    "CorruptIndexError",
    "Filters",
    "Hit",
    "IndexMissingError",
    "ModelMismatchError",
    "SearchEngine",
    "SearchIndexError",
    "SearchResult",
    "StaleIndexError",
]
