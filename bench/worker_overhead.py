"""Benchmark: where the time goes between a query in-process and the same query through a worker.

Why: the CLI, endpoint and app run SPARQL in a worker process (``sparql.workers``), so that a
runaway query can be killed; the answer comes back pickled, its rows written as SPARQL TSV by
pyoxigraph and read back by pyoxigraph. corpus_bench's engine column was 1.5-2x
the in-process one for the queries with the most cells (BENCHMARKS.md, "Serving from memory"). This
splits that gap, per canned query, into its parts, each a p50 of 5 runs after a warm-up:

- ``query``: ``sparql.run.run_query`` in this process (rows as pyoxigraph terms);
- the answer as a worker sends it: ``run_query(..., wire=True)`` (a SELECT's rows written as SPARQL
  TSV by pyoxigraph, a CONSTRUCT's triples as N-Triples, no Python term made) and the pickling, then
  the unpickling in the parent (parsed by pyoxigraph, rows made into tuples); its cost over ``query``
  is the two less the query;
- the same as workers sent it before ``wire``: the in-process answer (terms) pickled, its rows
  written as TSV in Python (``QueryResult.__getstate__``), and unpickled; its cost over ``query`` is
  the pickling and unpickling;
- ``worker``: ``EmbeddedSparqlEngine.query`` end to end, and what it adds to ``query``.

    python -m bench.worker_overhead --store /tmp/rb1000/corpus-1000/build/store [--query NAME]
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(store: Any, engine: Any, cq: Any) -> str:
    """One table row: the query's parts, each timed on its own."""
    from bench.store_tools import p50_ms
    from sparql.run import run_query

    terms, wire = run_query(store, cq.text), pickle.dumps(run_query(store, cq.text, wire=True))
    before = pickle.dumps(terms)
    query = p50_ms(lambda: run_query(store, cq.text))
    sent = p50_ms(lambda: pickle.dumps(run_query(store, cq.text, wire=True)))
    load = p50_ms(lambda: pickle.loads(wire))
    old_sent, old_load = p50_ms(lambda: pickle.dumps(terms)), p50_ms(lambda: pickle.loads(before))
    worker = p50_ms(lambda: engine.query(cq.text))
    shape = f"{len(terms):,} × {len(terms.variables) or 3}"
    return (f"| {cq.name} | {shape} | {query:,.1f} | {len(wire):,} | {sent - query + load:,.1f} | "
            f"{len(before):,} | {old_sent + old_load:,.1f} | {worker:,.1f} | {worker - query:,.1f} |")


def main() -> None:
    from bench.store_tools import machine_speed, store_parser
    from sparql.engine import EmbeddedSparqlEngine
    from sparql.queries import list_queries
    from sparql.run import open_store

    args = store_parser(__doc__).parse_args()
    print(f"{machine_speed()}; whole corpus, on disk\n")
    store = open_store(args.store)
    print("| canned query | rows × columns | query ms | wire bytes | wire over query ms | before: bytes | "
          "before: over query ms | worker ms | worker − query ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with EmbeddedSparqlEngine(args.store, timeout=120) as engine:
        for cq in list_queries():
            if "search" in cq.requires or (args.query and cq.name not in args.query):
                continue  # pk:searchScore needs a search index
            print(measure(store, engine, cq), flush=True)

if __name__ == "__main__":
    main()
