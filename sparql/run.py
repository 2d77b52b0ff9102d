"""One query on an open Oxigraph store, in this process: the worker's core, also handy in notebooks.

No time limit here (pyoxigraph has none): :mod:`sparql.workers` runs this in a process it can kill.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from graph.namespaces import PREFIXES

from .defaults import DEFAULT_LIMIT, DEFAULT_MAX_QUERY_BYTES
from .errors import EngineError, QuerySyntaxError, SparqlError, one_line
from .guard import check_query, explain_syntax_error
from .results import QueryResult, rows_from_tsv
from .search import ScoreMap, Scorer, compute_scores, search_functions

T = TypeVar("T")

#: In-process, a SELECT's first rows are made term by term; when at most a tenth of their cells are
#: distinct, the rest of a longer answer is read through TSV, where each distinct cell is made a term
#: once (:func:`sparql.results.rows_from_tsv`). Why: at 1,000 plans from memory, chapter-coverage's
#: 9,813 x 8 cells (47 distinct) took 302 ms made one by one and 216 through TSV, but answers of
#: distinct texts took 4-14 ms more through TSV (tasks-without-evidence-by-year 290 against 304),
#: and so did responsible-never-lead's 2,871 x 4 cells, a quarter of them distinct (98 against 111),
#: as each cell is written, split and read again (``python -m bench.answer_terms``; BENCHMARKS.md, "A
#: cut from counts per value"). The canned listings answer 1,000 rows.
ONE_BY_ONE = 1_000
#: the share of distinct cells among those rows at or under which the rest goes through TSV
DISTINCT_SHARE = 0.1


def take(items: Iterable[T], limit: int) -> tuple[list[T], bool]:
    """The first ``limit`` items, and whether there was one more (the result was cut)."""
    kept: list[T] = []
    for item in items:
        if len(kept) >= limit:
            return kept, True
        kept.append(item)
    return kept, False


class _Enough(Exception):
    """Raised from :class:`_CappedLines` to stop pyoxigraph writing once the row limit is passed."""


class _CappedLines(io.BytesIO):
    """A file for pyoxigraph's ``serialize`` that keeps what is written and stops the writing (and so
    the query) once more than ``lines`` lines have come."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.most, self.lines = lines, 0

    def write(self, data: Any, /) -> int:
        n = super().write(data)
        self.lines += bytes(data).count(b"\n")
        if self.lines > self.most:
            raise _Enough
        return n


def capped_wire(answer: ox.QuerySolutions | ox.QueryTriples, limit: int) -> tuple[bytes, bool]:
    """The answer written by pyoxigraph (in Rust: no Python term is made), solutions as SPARQL TSV
    (a header line, then a row per line) and triples as N-Triples (one per line; both formats escape
    the newlines inside terms), cut to the first ``limit`` rows or triples, and whether some were cut."""
    header = 1 if isinstance(answer, ox.QuerySolutions) else 0
    out = _CappedLines(header + limit)
    try:
        if isinstance(answer, ox.QuerySolutions):
            answer.serialize(out, format=ox.QueryResultsFormat.TSV)
        else:
            answer.serialize(out, format=ox.RdfFormat.N_TRIPLES)
    except _Enough:
        pass
    data = out.getvalue()
    if out.lines <= header + limit:
        return data, False
    rest = data.split(b"\n", header + limit)[-1]  # what follows the last line kept
    return data[: len(data) - len(rest)], True


def select_rows(answer: ox.QuerySolutions, width: int, limit: int) -> tuple[list[tuple[Any, ...]], bool]:
    """The first ``limit`` rows of ``answer`` as tuples of terms, and whether some were cut: the first
    :data:`ONE_BY_ONE` made term by term, the rest through TSV when those repeat their cells."""
    # a solution iterates its values in the order of the variables
    if limit <= ONE_BY_ONE:
        return take((tuple(sol) for sol in answer), limit)
    rows = [tuple(sol) for sol in itertools.islice(answer, ONE_BY_ONE)]  # (take would read one more)
    if len(rows) < ONE_BY_ONE:
        return rows, False
    distinct = len(set(itertools.chain.from_iterable(rows)))
    if distinct <= DISTINCT_SHARE * ONE_BY_ONE * width:  # from where the iteration stopped
        data, truncated = capped_wire(answer, limit - ONE_BY_ONE)
        return rows + rows_from_tsv(data), truncated
    rest, truncated = take((tuple(sol) for sol in answer), limit - ONE_BY_ONE)
    return rows + rest, truncated


def open_store(path: str | Path, *, in_memory: bool = False,
               progress: Callable[[int], None] | None = None, every: int = 1_000_000) -> ox.Store:
    """The store at ``path``, read-only; with ``in_memory``, a copy of it in Oxigraph's memory store.

    Why a copy: on disk every index probe and every string read is a RocksDB lookup. The whole-corpus
    listings that probe once per row and print a long label or title per row (plan-overview,
    responsible-never-lead, task-path…) ran 2.1-3.6x faster from memory at 1,000 plans, the
    aggregates 0.9-1.6x (``python -m bench.memory_vs_disk``; BENCHMARKS.md "Serving from memory").
    The price: 0.37 KB of memory per quad (+1.6 GB for the 4.41 M quads of 1,000 plans) and a copy
    of about 17 us per quad (75 s there), paid again by every worker that starts.
    The copy is a snapshot: like the read-only store, it does not see a later build.

    ``progress`` is called with the number of quads copied so far, every ``every`` quads.
    """
    try:
        disk = ox.Store.read_only(str(path))
    except OSError as e:
        raise EngineError(f"cannot open the store at {path}: {one_line(e)}; run `policykg build` first") from None
    if not in_memory:
        return disk
    memory = ox.Store()

    def counted() -> Iterable[ox.Quad]:
        for n, quad in enumerate(disk, 1):
            if progress is not None and n % every == 0:
                progress(n)
            yield quad

    memory.bulk_extend(counted())
    return memory


def run_query(
    store: ox.Store,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    scores: ScoreMap | None = None,
    prefixes: Mapping[str, str] = PREFIXES,
    wire: bool = False,
) -> QueryResult:
    """Run ``text`` on ``store`` with the policykg prefixes declared, keeping at most ``limit`` rows.

    ``wire`` (a worker's answer, to be pickled): a SELECT's rows stay SPARQL TSV and a CONSTRUCT's
    triples N-Triples, written by pyoxigraph (``QueryResult.wire``), and become terms only where the
    answer is read. Making the terms in the worker, writing them again in Python and reading them
    back took chapter-coverage's 9,813 x 8 cells 228-303 ms over the query at 1,000 plans; this way,
    23-123 ms (three runs of ``python -m bench.worker_overhead``).
    """
    t0 = time.perf_counter()
    try:
        answer = store.query(text, prefixes=dict(prefixes), custom_functions=search_functions(scores or {}))
        if isinstance(answer, ox.QueryBoolean):
            result = QueryResult("ask", boolean=bool(answer), limit=limit)
        elif isinstance(answer, ox.QuerySolutions):
            variables = [v.value for v in answer.variables]
            if wire:
                data, truncated = capped_wire(answer, limit)
                result = QueryResult("select", variables, truncated=truncated, limit=limit, wire=data)
            else:
                rows, truncated = select_rows(answer, len(variables), limit)
                result = QueryResult("select", variables, rows, truncated=truncated, limit=limit)
        elif wire:
            data, truncated = capped_wire(answer, limit)
            result = QueryResult("graph", truncated=truncated, limit=limit, wire=data)
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
