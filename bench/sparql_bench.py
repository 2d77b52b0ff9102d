"""Latency of every canned query: in-process, through the library engine, and through the endpoint.

    python bench/sparql_bench.py [--data DIR] [--build-dir DIR] [--repeat 7]

Three columns because they answer different questions: *in-process* is Oxigraph itself
(``run_query`` on a read-only store), *engine* adds the worker-process round trip that buys the
time limit, *endpoint* adds HTTP, content negotiation and JSON serialization. Each figure is the
median of ``--repeat`` runs after one warm-up run (the search query's first run loads the model).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.queries import list_queries  # noqa: E402
from graph.sparql import SparqlEngine, compute_scores, run_query, scorer_for_build  # noqa: E402
from graph.textfmt import table  # noqa: E402
from policykg.build import Build  # noqa: E402
from policykg.config import Config  # noqa: E402
from policykg.server import make_server  # noqa: E402


def median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: ./data)")
    ap.add_argument("--build-dir", type=Path, default=None, help="build folder (default: <data>/build)")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)

    config = Config(**{k: v for k, v in (("data_dir", args.data), ("build_dir", args.build_dir)) if v})
    build = Build.open(config)
    scorer = scorer_for_build(build)
    store_path = build.store.path
    local = ox.Store.read_only(str(store_path))
    server = make_server(build, "127.0.0.1", 0, workers=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    try:
        with SparqlEngine(store_path, scorer=scorer) as engine:
            engine.warm_up()
            for q in list_queries():
                scores = compute_scores(q.text, scorer)
                result = engine.query(q.text)  # warm-up (and the model load for search)
                url = f"{server.url}/queries/{q.name}"

                def endpoint(url: str = url) -> None:
                    with urllib.request.urlopen(url, timeout=60) as r:
                        r.read()

                endpoint()
                inproc = median_ms(lambda q=q, s=scores: run_query(local, q.text, scores=s), args.repeat)
                lib = median_ms(lambda q=q: engine.query(q.text), args.repeat)
                http = median_ms(endpoint, args.repeat)
                rows.append(
                    [q.name, q.title_zh, str(len(result)), f"{inproc:.1f}", f"{lib:.1f}", f"{http:.1f}"]
                )
    finally:
        server.shutdown()
        server.server_close()
    print(
        table(["query", "标题", "rows", "in-process ms", "engine ms", "endpoint ms"], rows, max_width=30)
    )
    print(f"\nmedian of {args.repeat} runs each; store {store_path} ({len(local):,} triples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
