"""Semantic search over plan tasks: dense (sentence embeddings + faiss), BM25 (jieba + bm25s), fused."""

from __future__ import annotations

from typing import Any

# The engine pulls in faiss, bm25s and jieba (about 0.4 s): it is imported on first use, so that
# `import search.modes` (the CLI's option parser) stays cheap.
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


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'search' has no attribute {name!r}")
