"""The embedded engine: checked, time-limited, size-capped SPARQL over a build's Oxigraph store.

What the CLI, the endpoint and the app use for a local build: :func:`~sparql.guard.check_query`
first, searches for ``pk:searchScore`` run once in this process (and cached), then the query in a
killable worker process (:mod:`sparql.workers`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .defaults import DEFAULT_LIMIT, DEFAULT_MAX_QUERY_BYTES, DEFAULT_TIMEOUT
from .errors import EngineError
from .guard import check_query
from .queries import memory_form
from .results import QueryResult
from .search import ScoreMap, Scorer, run_searches, search_calls
from .workers import QueryPool

#: Distinct (text, top) searches kept: the app repeats its queries, and a search costs ~10 ms.
SEARCH_CACHE = 128


class EmbeddedSparqlEngine:
    """SPARQL over a store directory in ``workers`` worker processes; see :class:`sparql.protocol.SparqlEngine`.

    ``in_memory``: each worker answers from a copy of the store in memory (faster corpus-wide listings;
    minutes to start on a large corpus: :func:`sparql.run.open_store`), and a canned query sent as
    written runs its memory form if it has one (:func:`sparql.queries.memory_form`).

    ``scorer`` backs ``pk:searchScore``; :func:`sparql.search.scorer_for_build` adapts a build's
    search engine. Searches are cached per (text, top), so a query repeated from the app does not
    search again.
    """

    def __init__(
        self,
        store_path: str | Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        limit: int = DEFAULT_LIMIT,
        workers: int = 1,
        scorer: Scorer | None = None,
        max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
        in_memory: bool = False,
    ) -> None:
        path = Path(store_path)
        if not path.is_dir():
            raise EngineError(f"no Oxigraph store at {path}; run `policykg build` first")
        self.store_path = path
        self.timeout = timeout
        self.limit = limit
        self.max_query_bytes = max_query_bytes
        self.scorer = scorer
        self.in_memory = in_memory
        self._pool = QueryPool(path, workers, in_memory=in_memory)
        self._search_cache: OrderedDict[tuple[str, int], dict[str, tuple[float, int]]] = OrderedDict()
        self._search_lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self._pool.size

    def warm_up(self) -> None:
        """Wait until every worker has opened the store (so the first query's timer is fair)."""
        self._pool.warm_up()

    def _scores(self, text: str) -> ScoreMap:
        out: ScoreMap = {}
        with self._search_lock:  # search engines are not guaranteed thread-safe
            for call in search_calls(text):
                if call not in self._search_cache:
                    self._search_cache.update(run_searches([call], self.scorer))
                    while len(self._search_cache) > SEARCH_CACHE:
                        self._search_cache.popitem(last=False)
                out[call] = self._search_cache[call]
        return out

    def query(self, text: str, *, timeout: float | None = None, limit: int | None = None) -> QueryResult:
        t0 = time.perf_counter()
        check_query(text, max_bytes=self.max_query_bytes)
        if self.in_memory:
            text = memory_form(text)
        result = self._pool.run(
            text,
            timeout=self.timeout if timeout is None else timeout,
            limit=self.limit if limit is None else limit,
            scores=self._scores(text),
        )
        result.elapsed = time.perf_counter() - t0
        return result

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> EmbeddedSparqlEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def store_path_of(build_or_dir: Any) -> Path:
    """The store directory of a ``Build`` (``build.store.path``) or of a build directory path."""
    if isinstance(build_or_dir, str | Path):
        p = Path(build_or_dir)
        return p / "store" if (p / "store").is_dir() else p
    return Path(build_or_dir.store.path)
