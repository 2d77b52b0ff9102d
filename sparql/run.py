"""One query on an open Oxigraph store, in this process: the worker's core, also handy in notebooks.

No time limit here (pyoxigraph has none): :mod:`sparql.workers` runs this in a process it can kill.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TypeVar

import pyoxigraph as ox

from graph.namespaces import PREFIXES

from .defaults import DEFAULT_LIMIT, DEFAULT_MAX_QUERY_BYTES
from .errors import EngineError, QuerySyntaxError, SparqlError, one_line
from .guard import check_query, explain_syntax_error
from .results import QueryResult
from .search import ScoreMap, Scorer, compute_scores, search_functions

T = TypeVar("T")


def take(items: Iterable[T], limit: int) -> tuple[list[T], bool]:
    """The first ``limit`` items, and whether there was one more (the result was cut)."""
    kept: list[T] = []
    for item in items:
        if len(kept) >= limit:
            return kept, True
        kept.append(item)
    return kept, False


def run_query(
    store: ox.Store,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    scores: ScoreMap | None = None,
    prefixes: Mapping[str, str] = PREFIXES,
) -> QueryResult:
    """Run ``text`` on ``store`` with the policykg prefixes declared, keeping at most ``limit`` rows."""
    t0 = time.perf_counter()
    try:
        answer = store.query(text, prefixes=dict(prefixes), custom_functions=search_functions(scores or {}))
        if isinstance(answer, ox.QueryBoolean):
            result = QueryResult("ask", boolean=bool(answer), limit=limit)
        elif isinstance(answer, ox.QuerySolutions):
            variables = [v.value for v in answer.variables]
            # a solution iterates its values in the order of ``variables``; tuple(sol) is one call per
            # row where looking each variable up is one per cell
            rows, truncated = take((tuple(sol) for sol in answer), limit)
            result = QueryResult("select", variables, rows, truncated=truncated, limit=limit)
        else:
            triples, truncated = take(answer, limit)
            result = QueryResult("graph", triples=triples, truncated=truncated, limit=limit)
    except SyntaxError as e:
        raise QuerySyntaxError(explain_syntax_error(text, one_line(e), prefixes)) from None
    except SparqlError:
        raise
    except Exception as e:  # pyoxigraph raises OSError/ValueError/RuntimeError for evaluation failures
        raise EngineError(f"query failed: {one_line(e)}") from None
    result.elapsed = time.perf_counter() - t0
    return result


def query_store(
    store: ox.Store,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    scorer: Scorer | None = None,
    max_bytes: int = DEFAULT_MAX_QUERY_BYTES,
) -> QueryResult:
    """Checked, search-aware query on an open store in this process (no time limit: trusted callers)."""
    check_query(text, max_bytes=max_bytes)
    return run_query(store, text, limit=limit, scores=compute_scores(text, scorer))
