"""Benchmark: a canned query as it is now against its text at other git revisions, runs interleaved.

Why: rewriting a canned query for speed needs a before and an after on the same store, and on this
VM the machine's speed drifts by 2-4x within an hour (BENCHMARKS.md, "A slow day"), so two
benchmark runs made apart cannot say which text is faster. Here every version runs in one process on
one store, and the runs alternate (now, REV, now, REV, ...), so a drift slows each alike.

    python -m bench.query_versions --store /tmp/rb1000/corpus-1000/build/store \\
        --query sections-most-tasks --against 9b40207

Prints, per version, the p50 of 5 runs after a warm-up (in-process, the engine's 10,000-row cap,
no worker), whether its rows are the current version's, and whether they come in the same order
(rows that tie on every sort key may not). ``--raw`` adds the raw-triples version
(graph/queries/raw/); ``--plans N`` limits every version to the build's first N plans (as
``policykg sparql --plan``; a query's ``limited:`` form when it has one) instead of the whole corpus;
``--in-memory`` runs on a copy in memory, where a version with a memory form (``# memory:``) runs
that form over the whole corpus, as the engine would; ``--other-form`` adds the current query's text
for the other store (as written, in memory; its memory form, on disk).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sparql.queries import CannedQuery

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 5


def committed(revision: str, name: str) -> CannedQuery:
    """The canned query ``name`` as committed at ``revision``, parsed from that revision's queries
    folder (``git archive``) so that a ``limited:`` header finds its file; a clear exit if absent."""
    from sparql.queries import parse_query_file

    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "graph/queries"], capture_output=True)
    with tempfile.TemporaryDirectory(prefix="query_versions-") as folder:
        if archive.returncode == 0:
            subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        path = Path(folder) / "graph" / "queries" / f"{name}.rq"
        if not path.is_file():
            sys.exit(f"query_versions: no graph/queries/{name}.rq at {revision} {archive.stderr.decode().strip()}")
        return parse_query_file(path)  # reads the query and its limited form now


def first_plans(store: Path, n: int) -> list[str]:
    """The ids of the first ``n`` plans of the build that holds ``store`` (its manifest)."""
    from policykg.manifest import read_manifest

    return read_manifest(store.parent).plan_ids[:n]


def main() -> None:
    from bench.store_tools import machine_speed, store_parser
    from sparql.defaults import DEFAULT_LIMIT
    from sparql.queries import QUERIES_DIR, get_query, parse_query_file
    from sparql.run import open_store, run_query

    parser = store_parser(__doc__, query_required=True)
    parser.add_argument("--against", action="append", default=[], metavar="REV",
                        help="a git revision whose text of the query to compare (repeatable)")
    parser.add_argument("--raw", action="store_true", help="also the raw-triples version (graph/queries/raw/)")
    parser.add_argument("--plans", type=int, metavar="N", help="limited to the build's first N plans")
    parser.add_argument("--in-memory", action="store_true", help="on a copy of the store in memory")
    parser.add_argument("--other-form", action="store_true",
                        help="also the current query's form for the other store (as written in memory, its "
                             "memory form on disk), when it has a memory form")
    args = parser.parse_args()
    scope = first_plans(args.store, args.plans) if args.plans else []
    speed = machine_speed()
    store = open_store(args.store, in_memory=args.in_memory)
    print(f"{speed}; store {'in memory' if args.in_memory else 'on disk'}; "
          f"{f'limited to {len(scope)} plans' if scope else 'whole corpus'}\n")
    print("| canned query | version | p50 ms | rows (triples) | same rows as now | in the same order |")
    print("|---|---|---:|---:|---|---|")
    for name in args.query:
        queries: dict[str, CannedQuery] = {"now": get_query(name)}
        for rev in args.against:
            queries[rev] = committed(rev, name)
        if args.raw:
            queries["raw"] = parse_query_file(QUERIES_DIR / "raw" / f"{name}.rq")
        versions = {v: q.for_plans(scope, in_memory=args.in_memory) for v, q in queries.items()}
        if args.other_form and queries["now"].memory and not scope:
            other = "now, as written" if args.in_memory else "now, memory form"
            versions[other] = queries["now"].for_plans([], in_memory=not args.in_memory)
        times: dict[str, list[float]] = {v: [] for v in versions}
        rows: dict[str, list[tuple[object, ...]]] = {}
        for i in range(RUNS + 1):
            for version, text in versions.items():
                r = run_query(store, text, limit=DEFAULT_LIMIT)
                if i:
                    times[version].append(1000 * r.elapsed)
                else:  # the first round warms up and keeps the rows
                    rows[version] = [tuple(map(str, row)) for row in (r.rows if r.kind == "select" else r.triples)]
        for version in versions:
            same = "yes" if sorted(rows[version]) == sorted(rows["now"]) else "NO"
            # rows that tie on every sort key may come in any order
            order = "yes" if rows[version] == rows["now"] else "no"
            print(f"| {name} | {version} | {statistics.median(times[version]):,.1f} | {len(rows[version]):,} | {same} "
                  f"| {order} |", flush=True)


if __name__ == "__main__":
    main()
