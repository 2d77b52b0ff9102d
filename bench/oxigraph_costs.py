"""Benchmark: what each kind of SPARQL operator costs per row in Oxigraph, on a built store.

Why: issue #17 asks for every canned query in under 300 ms over 1,000 plans (74,000 tasks). Whether
a query can get there depends on how many rows each operator touches and what one row costs: a
scan, an index probe per row (a BGP's nested-loop join), a hash join of two scans (sub-SELECTs),
and a sort by an integer, by a short string Oxigraph keeps inline, or by a long string it must read
from its dictionary at every comparison. This prints those costs on the task triples of a build,
so the floor of a per-task listing (``task-path``: 74,000 rows, five columns, sorted) can be read
off as a sum instead of guessed.

    python -m bench.oxigraph_costs --store /tmp/policykg-bench/corpus-1000/build/store

The store is opened read-only, as the CLI, endpoint and app open it; p50 of 5 runs after one
warm-up; listings keep the first 10,000 rows (the engine's default row cap), as analysts get them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: (name, what it measures, query). ``?rows`` counts what the operator touched.
PROBES: list[tuple[str, str, str]] = [
    ("scan", "one predicate's triples, counted",
     "SELECT (COUNT(*) AS ?rows) WHERE { ?t pk:number ?n }"),
    ("probe join", "BGP on one subject: an index probe per task",
     "SELECT (COUNT(*) AS ?rows) WHERE { ?t pk:number ?n ; pk:position ?p }"),
    ("hash join", "two single-pattern sub-SELECTs joined by hash",
     "SELECT (COUNT(*) AS ?rows) WHERE { { SELECT ?t ?n WHERE { ?t pk:number ?n } } "
     "{ SELECT ?t ?p WHERE { ?t pk:position ?p } } }"),
    ("listing, no order", "first 10,000 rows of one scan",
     "SELECT ?t ?n WHERE { ?t pk:number ?n }"),
    ("sort: integer", "every task sorted by its position",
     "SELECT ?t ?p WHERE { ?t pk:position ?p } ORDER BY ?p"),
    ("sort: short string", "sorted by its number (a string of a few bytes, kept inline)",
     "SELECT ?t ?n WHERE { ?t pk:number ?n } ORDER BY ?n"),
    ("sort: long string", "sorted by its text (read from the dictionary per comparison)",
     "SELECT ?t ?x WHERE { ?t pk:text ?x } ORDER BY ?x"),
    ("sort: tied long strings", "sorted by its plan's title (74 tasks share each title)",
     "SELECT ?t ?title WHERE { { SELECT ?t ?plan WHERE { ?t pk:inPlan ?plan } } "
     "{ SELECT ?plan ?title WHERE { ?plan a pk:Plan ; dcterms:title ?title } } } ORDER BY ?title"),
    # why a ranking's tie-break costs more than its ranking (unit-workload, tasks-without-lead): an
    # IRI, and a label longer than 15 bytes, is compared by reading both strings from the dictionary
    ("position 1", "whatever is first in its parent (pk:position 1: a plan's first task, a report's first statement), unsorted",
     "SELECT ?t WHERE { ?t pk:position 1 }"),
    ("position 1 by IRI", "the same, sorted by IRI (read from the dictionary per comparison)",
     "SELECT ?t WHERE { ?t pk:position 1 } ORDER BY ?t"),
    ("position 1 by text", "those with a text, sorted by it (a long string)",
     "SELECT ?t ?x WHERE { ?t pk:position 1 ; pk:text ?x } ORDER BY ?x"),
    ("position 1 by number", "those with a number, sorted by it (a short string, kept inline)",
     "SELECT ?t ?n WHERE { ?t pk:position 1 ; pk:number ?n } ORDER BY ?n"),
    # the floor of plan-overview, a listing of every plan: what one and two columns cost unsorted, and
    # what sorting by the title adds
    ("plans: one column", "every plan's IRI", "SELECT ?p WHERE { ?p a pk:Plan }"),
    ("plans: titles", "every plan with its title (read from the dictionary)",
     "SELECT ?p ?title WHERE { ?p a pk:Plan ; dcterms:title ?title }"),
    ("plans: titles sorted", "the same, sorted by the title",
     "SELECT ?p ?title WHERE { ?p a pk:Plan ; dcterms:title ?title } ORDER BY ?title"),
]


def measure(store_path: Path) -> list[tuple[str, str, float, int]]:
    import pyoxigraph as ox

    from graph.namespaces import PREFIXES
    from sparql.run import run_query

    store = ox.Store.read_only(str(store_path))
    tasks = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }",
                                      prefixes=dict(PREFIXES))))[0].value)
    out = []
    for name, what, text in PROBES:
        first = run_query(store, text)
        runs = [run_query(store, text).elapsed for _ in range(5)]
        # a count says what it touched; a listing cut at the row cap touched every task; else its rows
        rows = (int(first.rows[0][0].value) if text.startswith("SELECT (COUNT")
                else tasks if first.truncated else len(first.rows))
        out.append((name, what, 1000 * statistics.median(runs), rows))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a build's store/ folder")
    args = parser.parse_args()
    if not (args.store / "CURRENT").is_file():
        sys.exit(f"{args.store}: not an Oxigraph store (no CURRENT file); pass a build's store/ folder")
    print("| operator | what | p50 ms | rows touched | µs per row |")
    print("|---|---|---:|---:|---:|")
    for name, what, ms, rows in measure(args.store):
        print(f"| {name} | {what} | {ms:,.1f} | {rows:,} | {1000 * ms / rows:.2f} |")


if __name__ == "__main__":
    main()
