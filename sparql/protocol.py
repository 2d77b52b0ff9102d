"""The seam between SPARQL's callers (CLI, endpoint, app, notebooks) and the engines behind it.

Two engines answer queries: :class:`~sparql.engine.EmbeddedSparqlEngine` over a build's Oxigraph store
(worker processes) and :class:`~sparql.remote.RemoteSparqlEngine` over a SPARQL 1.1 server (a build
made with ``--store URL``). Both refuse the same queries, cap the same rows, honour the same time
limit and return the same :class:`~sparql.results.QueryResult`; callers type against
:class:`SparqlEngine` and get theirs from :func:`engine_for_build`.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, runtime_checkable

from .defaults import DEFAULT_LIMIT, DEFAULT_MAX_QUERY_BYTES, DEFAULT_TIMEOUT
from .engine import EmbeddedSparqlEngine, store_path_of
from .remote import RemoteSparqlEngine
from .results import QueryResult
from .search import Scorer


@runtime_checkable
class SparqlEngine(Protocol):
    """Checked, time-limited, size-capped SPARQL: what every caller of an engine may rely on."""

    timeout: float  # seconds a query may take unless the call says otherwise
    limit: int  # rows a result keeps unless the call says otherwise

    @property
    def workers(self) -> int:
        """Queries it answers at once."""
        ...

    def warm_up(self) -> None:
        """Be ready to answer (workers started, server reached), or raise a SparqlError saying why not."""
        ...

    def query(self, text: str, *, timeout: float | None = None, limit: int | None = None) -> QueryResult:
        """Answer ``text`` or raise a :class:`~sparql.errors.SparqlError` (refused, syntax, time limit…)."""
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> Self:
        ...

    def __exit__(self, *exc: object) -> None:
        ...


def engine_for_build(build: Any, *, timeout: float = DEFAULT_TIMEOUT, limit: int = DEFAULT_LIMIT,
                     workers: int = 1, scorer: Scorer | None = None,
                     max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES, in_memory: bool = False) -> SparqlEngine:
    """The engine for a build: remote when its graph is on a SPARQL server (``Build.is_remote``),
    otherwise embedded over its store directory (``build`` may also be a build or store directory),
    answering from a copy in memory with ``in_memory`` (a remote store ignores it: the server holds
    its own data)."""
    if getattr(build, "is_remote", False):
        return RemoteSparqlEngine(build.store, timeout=timeout, limit=limit, scorer=scorer,
                                  max_query_bytes=max_query_bytes)
    return EmbeddedSparqlEngine(store_path_of(build), timeout=timeout, limit=limit, workers=workers, scorer=scorer,
                                max_query_bytes=max_query_bytes, in_memory=in_memory)
