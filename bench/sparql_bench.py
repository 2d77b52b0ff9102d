"""Latency of every canned query: in-process, through the library engine, and through the endpoint.

    python bench/sparql_bench.py [--data DIR] [--build-dir DIR] [--repeat 7]

Three columns because they answer different questions: *in-process* is Oxigraph itself
(``run_query`` on a read-only store), *engine* adds the worker-process round trip that buys the
time limit, *endpoint* adds HTTP, content negotiation and JSON serialization. Each figure is the
median of ``--repeat`` runs after one warm-up run (the search query's first run loads the model).

Corpus mode, on any Oxigraph store (e.g. the 1,000-plan one; no build, no search index needed)::

    python bench/sparql_bench.py --store /tmp/policykg-sq/store --repeat 5 --rdflib-timeout 60

measures each canned query through :class:`sparql.engine.EmbeddedSparqlEngine` as analysts run it (the default
row cap, ``Config.result_limit``) and uncapped (``limit=10**9``), p50 of ``--repeat`` runs after a
warm-up, then the same queries once each on rdflib's in-memory store loaded from the same triples
(``--rdflib-timeout`` seconds per query by SIGALRM; 0 skips rdflib). The ratio is rdflib over the
uncapped Oxigraph p50 (both produce every row); ``≥`` marks an rdflib timeout. Queries that need the
search index (``requires: search``) are skipped. ``--queries DIR`` measures another set of ``.rq``
files (e.g. an older version of ``graph/queries``); ``--json FILE`` keeps the raw figures.
``--plan ID`` (repeatable) measures the queries limited to those plans (``#@plan`` markers, what
``policykg sparql NAME --plan ID`` runs), on Oxigraph and on rdflib alike.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.namespaces import sparql_prologue  # noqa: E402
from graph.textfmt import table  # noqa: E402
from policykg.config import Config  # noqa: E402
from sparql.engine import EmbeddedSparqlEngine  # noqa: E402
from sparql.errors import QueryTimeout  # noqa: E402
from sparql.queries import list_queries  # noqa: E402
from sparql.run import run_query  # noqa: E402
from sparql.search import compute_scores, scorer_for_build  # noqa: E402


def median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


class _Alarm(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Alarm


def _engine_p50(engine: EmbeddedSparqlEngine, text: str, limit: int, repeat: int) -> tuple[float | None, int, bool]:
    """(p50 ms or None on a timeout, rows, truncated) of ``repeat`` runs after a warm-up run."""
    try:
        first = engine.query(text, limit=limit)
    except QueryTimeout:
        return None, 0, False
    times = []
    for _ in range(repeat):
        times.append(engine.query(text, limit=limit).elapsed * 1000)
    return statistics.median(times), len(first), first.truncated


def _ms(v: float | None, timeout: float) -> str:
    return f"≥{timeout * 1000:,.0f}" if v is None else f"{v:,.1f}"


def corpus_main(args: argparse.Namespace) -> int:
    store_path: Path = args.store
    queries = [q for q in list_queries(args.queries) if "search" not in q.requires]
    if args.plan:
        queries = [q for q in queries if q.scopable]
    texts = {q.name: q.for_plans(args.plan) for q in queries}
    if args.only:
        queries = [q for q in queries if q.name in args.only.split(",")]
    cap = Config().result_limit
    load0 = os.getloadavg()
    figures: dict[str, dict[str, Any]] = {}
    with EmbeddedSparqlEngine(store_path, timeout=args.timeout, limit=cap) as engine:
        engine.warm_up()
        for q in queries:
            capped, rows, truncated = _engine_p50(engine, texts[q.name], cap, args.repeat)
            if truncated:
                full, rows, _ = _engine_p50(engine, texts[q.name], 10**9, args.repeat)
            else:
                full = capped  # the cap did not bite: the same run
            figures[q.name] = {"capped_ms": capped, "full_ms": full, "rows": rows, "truncated": truncated}
            print(f"{q.name}: capped {_ms(capped, args.timeout)} ms, full {_ms(full, args.timeout)} ms, "
                  f"{rows} rows", file=sys.stderr, flush=True)
    load1 = os.getloadavg()
    rdflib_load_s = None
    if args.rdflib_timeout > 0:
        from graph.store import GraphStore

        t0 = time.perf_counter()
        store = GraphStore.open(store_path)
        g = store.to_memory_graph()
        del store
        rdflib_load_s = time.perf_counter() - t0
        print(f"rdflib: loaded {len(g):,} triples in {rdflib_load_s:.0f} s", file=sys.stderr, flush=True)
        old = signal.signal(signal.SIGALRM, _on_alarm)
        try:
            for q in queries:
                t0 = time.perf_counter()
                signal.alarm(args.rdflib_timeout)
                try:
                    list(g.query(sparql_prologue() + texts[q.name]))
                    figures[q.name]["rdflib_ms"] = (time.perf_counter() - t0) * 1000
                except _Alarm:
                    figures[q.name]["rdflib_ms"] = None
                finally:
                    signal.alarm(0)
                r = figures[q.name]["rdflib_ms"]
                print(f"{q.name}: rdflib {_ms(r, args.rdflib_timeout)} ms", file=sys.stderr, flush=True)
        finally:
            signal.signal(signal.SIGALRM, old)
        del g
    load2 = os.getloadavg()

    out_rows = []
    for name, f in figures.items():
        row = [name, str(f["rows"]), _ms(f["capped_ms"], args.timeout),
               _ms(f["full_ms"], args.timeout) if f["truncated"] else "(same)"]
        if args.rdflib_timeout > 0:
            r, full = f.get("rdflib_ms"), f["full_ms"]
            row.append(_ms(r, args.rdflib_timeout))
            if full is None:
                row.append("n/a")
            elif r is None:
                row.append(f"≥{args.rdflib_timeout * 1000 / full:,.0f}")
            else:
                row.append(f"{r / full:,.0f}")
        out_rows.append(row)
    headers = ["query", "rows", f"p50 ms (cap {cap:,})", "p50 ms (no cap)"]
    if args.rdflib_timeout > 0:
        headers += ["rdflib ms", "rdflib ×"]
    print(table(headers, out_rows, max_width=40))
    triples = len(ox.Store.read_only(str(store_path)))
    loads = ", ".join(f"{a:.2f}/{b:.2f}/{c:.2f}" for a, b, c in (load0, load1, load2))
    print(f"\np50 of {args.repeat} runs after a warm-up, through EmbeddedSparqlEngine; store {store_path} "
          f"({triples:,} triples); "
          + (f"limited to plan(s) {', '.join(args.plan)}; " if args.plan else "")
          + f"load average (1/5/15 min) at start, after Oxigraph, at end: {loads}"
          + (f"; rdflib load {rdflib_load_s:.0f} s" if rdflib_load_s is not None else ""))
    if args.json:
        args.json.write_text(json.dumps({"queries": figures, "triples": triples, "repeat": args.repeat,
                                         "load": [load0, load1, load2], "rdflib_load_s": rdflib_load_s},
                                        indent=1), encoding="utf-8")
    return 0


def build_main(args: argparse.Namespace) -> int:
    from policykg.build import Build
    from policykg.server import make_server

    config = Config(**{k: v for k, v in (("data_dir", args.data), ("build_dir", args.build_dir)) if v})
    build = Build.open(config)
    scorer = scorer_for_build(build)
    store_path = build.store.path
    local = ox.Store.read_only(str(store_path))
    server = make_server(build, "127.0.0.1", 0, workers=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    try:
        with EmbeddedSparqlEngine(store_path, scorer=scorer) as engine:
            engine.warm_up()
            for q in list_queries(args.queries):
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: ./data)")
    ap.add_argument("--build-dir", type=Path, default=None, help="build folder (default: <data>/build)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--store", type=Path, default=None,
                    help="corpus mode: an Oxigraph store directory (engine and rdflib, no endpoint)")
    ap.add_argument("--queries", type=Path, default=None, help="folder of .rq files (default: graph/queries)")
    ap.add_argument("--only", default="", help="corpus mode: comma-separated query names")
    ap.add_argument("--plan", action="append", default=[], metavar="ID",
                    help="corpus mode: limit the canned queries to this plan (repeatable)")
    ap.add_argument("--timeout", type=float, default=120.0, help="corpus mode: Oxigraph time limit, s")
    ap.add_argument("--rdflib-timeout", type=int, default=0,
                    help="corpus mode: rdflib time limit per query, s (0: no rdflib baseline)")
    ap.add_argument("--json", type=Path, default=None, help="corpus mode: also write the figures here")
    args = ap.parse_args(argv)
    return corpus_main(args) if args.store else build_main(args)


if __name__ == "__main__":
    sys.exit(main())
