"""Benchmark: what making an answer's Python terms costs, one by one or through TSV with each distinct
cell made once (``sparql.results.rows_from_tsv``, what ``sparql.run.run_query`` does).

Why: an answer's terms are made in Python, one object per cell, and for the answers of many rows that
cost about as much as the query itself (chapter-coverage: 9,813 rows x 8 cells). Per canned SELECT
over the whole corpus, each a p50 of 5 runs after a warm-up:

- ``query``: the answer's rows counted, no term made;
- ``one by one``: ``tuple(solution)`` for every row, as ``run_query`` did before;
- ``TSV``: the answer written as SPARQL TSV by pyoxigraph (``sparql.run.capped_wire``, in Rust);
- ``read``: those bytes made into rows by ``rows_from_tsv``; with ``TSV``, what ``run_query`` does now.

Each query's rows are checked equal both ways, in the same order.

    python -m bench.answer_terms --store /tmp/rb1000/corpus-1000/build/store [--in-memory] [--query NAME]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(store: Any, text: str, name: str) -> str:
    """One table row: the query, then its terms made each way."""
    import pyoxigraph as ox

    from bench.store_tools import p50_ms
    from graph.namespaces import PREFIXES
    from sparql.defaults import DEFAULT_LIMIT
    from sparql.results import rows_from_tsv
    from sparql.run import capped_wire

    prefixes = dict(PREFIXES)

    def ask() -> ox.QuerySolutions:
        answer = store.query(text, prefixes=prefixes)
        assert isinstance(answer, ox.QuerySolutions)
        return answer

    def one_by_one() -> list[tuple[Any, ...]]:
        return [tuple(solution) for solution in ask()][:DEFAULT_LIMIT]

    data = capped_wire(ask(), DEFAULT_LIMIT)[0]
    rows = one_by_one()
    if rows_from_tsv(data) != rows:
        raise SystemExit(f"{name}: the rows read from TSV differ from the terms made one by one")
    query = p50_ms(lambda: sum(1 for _ in ask()))
    terms = p50_ms(one_by_one)
    tsv = p50_ms(lambda: capped_wire(ask(), DEFAULT_LIMIT))
    read = p50_ms(lambda: rows_from_tsv(data))
    distinct = len({cell for row in rows for cell in row})
    width = len(rows[0]) if rows else 0
    return (f"| {name} | {len(rows):,} × {width} | {distinct:,} | {query:,.1f} | {terms - query:,.1f} | "
            f"{tsv - query:,.1f} | {read:,.1f} | {terms:,.1f} | {tsv + read:,.1f} |")


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
    print("| canned query | rows × columns | distinct cells | query ms | one by one: terms ms | "
          "TSV ms | read ms | total: one by one | total: TSV + read |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cq in list_queries():
        if "search" in cq.requires or cq.form != "SELECT" or (args.query and cq.name not in args.query):
            continue  # pk:searchScore needs a search index; a CONSTRUCT has no rows
        print(measure(store, cq.for_plans([], in_memory=args.in_memory), cq.name), flush=True)


if __name__ == "__main__":
    main()
