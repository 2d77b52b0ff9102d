"""Benchmark: every canned query on the store on disk and on its copy in memory, runs interleaved.

Why: ``policykg serve --in-memory`` (``sparql.run.open_store``) trades start-up time and memory for
query time. On this VM the machine's speed drifts by 2-4x within an hour (BENCHMARKS.md, "A slow
day"), so two separate benchmark runs cannot say which store is faster for a query. Here both
stores are open in one process and each query's runs alternate between them (disk, memory, disk,
memory, ...), so a drift slows both alike and the ratio stands.

    python -m bench.memory_vs_disk --store /tmp/rb1000/corpus-1000/build/store

Prints the copy's time and added memory, and per canned query the p50 of 5 runs after a warm-up on
each store (whole corpus, the engine's 10,000-row cap, no worker) and disk / memory.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 5


def main() -> None:
    from bench.corpus_bench import own_memory_kb
    from bench.store_tools import machine_speed, store_parser
    from sparql.defaults import DEFAULT_LIMIT
    from sparql.queries import list_queries
    from sparql.run import open_store, run_query

    args = store_parser(__doc__).parse_args()
    speed = machine_speed()
    disk = open_store(args.store)
    before, t = own_memory_kb("VmRSS"), time.perf_counter()
    memory = open_store(args.store, in_memory=True,
                        progress=lambda n: print(f"  {n:,} quads copied", file=sys.stderr, flush=True))
    load_s, added = time.perf_counter() - t, (own_memory_kb("VmRSS") - before) / 1024
    print(f"copy into memory: {len(memory):,} quads in {load_s:.0f} s, +{added:,.0f} MB "
          f"({1024 * added / max(len(memory), 1):.2f} KB per quad); {speed}\n")
    print("| canned query | disk ms | memory ms | disk / memory |")
    print("|---|---:|---:|---:|")
    for cq in list_queries():
        if "search" in cq.requires or (args.query and cq.name not in args.query):
            continue  # pk:searchScore needs a search index: not a store's cost
        times: dict[str, list[float]] = {"disk": [], "memory": []}
        for i in range(RUNS + 1):
            for name, store in (("disk", disk), ("memory", memory)):
                elapsed = run_query(store, cq.text, limit=DEFAULT_LIMIT).elapsed
                if i:  # the first round warms both up
                    times[name].append(1000 * elapsed)
        d, m = statistics.median(times["disk"]), statistics.median(times["memory"])
        print(f"| {cq.name} | {d:,.1f} | {m:,.1f} | {d / m:.1f} |", flush=True)


if __name__ == "__main__":
    main()
