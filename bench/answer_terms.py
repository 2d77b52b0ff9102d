"""Benchmark: what making an answer's Python terms costs, one by one or through TSV with each distinct
cell made once (``sparql.results.rows_from_tsv``), and what ``sparql.run.run_query`` does (its first
``ONE_BY_ONE`` rows one by one, the rest through TSV when their cells repeat).

Why: an answer's terms are made in Python, one object per cell, and for the answers of many rows that
cost about as much as the query itself (chapter-coverage: 9,813 rows x 8 cells); but an answer of
long distinct texts costs more through TSV, which writes, splits and reads each text again. Per
canned SELECT over the whole corpus, the p50 of 5 runs after a warm-up, the four timings of a run
taken one after another so that a drift of the VM's speed slows each alike:

- ``query``: the answer's rows counted, no term made;
- ``one by one``: ``tuple(solution)`` for every row;
- ``TSV + read``: the answer written as SPARQL TSV by pyoxigraph (``sparql.run.capped_wire``, in
  Rust), then made into rows by ``rows_from_tsv``;
- ``run_query``: as the engine's worker and a notebook run it.

Each query's rows are checked equal all three ways, in the same order.

    python -m bench.answer_terms --store /tmp/rb1000/corpus-1000/build/store [--in-memory] [--query NAME]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 5


def measure(store: Any, text: str, name: str) -> str:
    """One table row: the query, then its terms made each way."""
    import pyoxigraph as ox

    from graph.namespaces import PREFIXES
    from sparql.defaults import DEFAULT_LIMIT
    from sparql.results import rows_from_tsv
    from sparql.run import capped_wire, run_query

    prefixes = dict(PREFIXES)

    def ask() -> ox.QuerySolutions:
        answer = store.query(text, prefixes=prefixes)
        assert isinstance(answer, ox.QuerySolutions)
        return answer

    def one_by_one() -> list[tuple[Any, ...]]:
        return [tuple(solution) for solution in ask()][:DEFAULT_LIMIT]

    data = capped_wire(ask(), DEFAULT_LIMIT)[0]
    rows = one_by_one()
    if rows_from_tsv(data) != rows or run_query(store, text).rows != rows:
        raise SystemExit(f"{name}: the rows read from TSV differ from the terms made one by one")
    ways: dict[str, Callable[[], Any]] = {
        "query": lambda: sum(1 for _ in ask()),
        "one by one": one_by_one,
        "TSV + read": lambda: rows_from_tsv(capped_wire(ask(), DEFAULT_LIMIT)[0]),
        "run_query": lambda: run_query(store, text),
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    for i in range(RUNS + 1):  # the first run warms up
        for way, f in ways.items():
            t = time.perf_counter()
            f()
            if i:
                times[way].append(time.perf_counter() - t)
    p50 = {way: 1000 * statistics.median(runs) for way, runs in times.items()}
    distinct = len({cell for row in rows for cell in row})
    width = len(rows[0]) if rows else 0
    return (f"| {name} | {len(rows):,} × {width} | {distinct:,} | {p50['query']:,.1f} | {p50['one by one']:,.1f} | "
            f"{p50['TSV + read']:,.1f} | {p50['run_query']:,.1f} |")


def main() -> None:
    from bench.store_tools import machine_speed, store_parser
    from sparql.queries import list_queries
    from sparql.run import open_store

    parser = store_parser(__doc__)
    parser.add_argument("--in-memory", action="store_true",
                        help="copy the store into memory first and run the queries' memory forms")
    args = parser.parse_args()
    store = open_store(args.store, in_memory=args.in_memory)
    print(f"{machine_speed()}; whole corpus, {'from memory' if args.in_memory else 'on disk'}\n")
    print("| canned query | rows × columns | distinct cells | query ms | one by one ms | TSV + read ms | run_query ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for cq in list_queries():
        if "search" in cq.requires or cq.form != "SELECT" or (args.query and cq.name not in args.query):
            continue  # pk:searchScore needs a search index; a CONSTRUCT has no rows
        print(measure(store, cq.for_plans([], in_memory=args.in_memory), cq.name), flush=True)


if __name__ == "__main__":
    main()
