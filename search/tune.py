"""Choose the fusion settings by measurement on the tuning sets (never on the frozen set).

    python -m search.tune [--model e5-small] [--sets tests/eval/queries.toml ...]

Builds one index of the Bishan plan with the model, then walks the fusion knobs in three stages
(method, RRF constant and dense weight; query-dependent weights; thesaurus use), keeping at each
stage the setting with the best score = (MRR + recall@5) / 2 of hybrid search over all tuning
queries, under the rule that hybrid must not rank below the best single retriever on MRR.
Prints every setting tried and the winner, as the JSON ``search.fusion.DEFAULTS`` takes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .engine import SearchEngine
from .evaluate import TUNING, bishan_plans, load_sets, score
from .fusion import FusionConfig


def _objective(engine: SearchEngine, queries: Sequence[Any], config: FusionConfig) -> tuple[float, float, float]:
    engine.fusion = config
    m = score(engine, queries, "hybrid")[0]
    return (m.mrr + m.recall) / 2, m.mrr, m.recall


def _stage(engine: SearchEngine, queries: Sequence[Any], base: FusionConfig, grid: Iterable[dict[str, Any]],
           floor: float) -> FusionConfig:
    best, best_value = base, -1.0
    for changes in grid:
        config = base.with_(**changes)
        value, mrr, recall = _objective(engine, queries, config)
        ok = mrr >= floor
        print(f"  {json.dumps(changes, ensure_ascii=False):70} MRR {mrr:.3f} R@5 {recall:.3f}"
              f"{'' if ok else '  (below the best single retriever)'}")
        if ok and value > best_value + 1e-9:
            best, best_value = config, value
    return best


def tune(engine: SearchEngine, queries: Sequence[Any]) -> FusionConfig:
    base = FusionConfig()  # the generic setting, not the model's tuned one: start from scratch
    engine.fusion = base
    floor = max(score(engine, queries, mode)[0].mrr for mode in ("dense", "bm25"))
    print(f"best single retriever MRR: {floor:.3f}")
    print("stage 1: method, RRF constant, dense weight")
    grid1 = [{"method": "rrf", "rrf_k": k, "weights": {"dense": w, "bm25": 1.0}}
             for k, w in itertools.product((5, 10, 20, 40, 60), (0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0))]
    grid1 += [{"method": "minmax", "weights": {"dense": w, "bm25": 1.0}} for w in (0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)]
    best = _stage(engine, queries, base, grid1, floor)
    print("stage 2: query-dependent weights")
    grid2 = [{"keyword_bm25": a, "question_dense": b} for a, b in itertools.product((1.0, 1.5, 2.0), (1.0, 1.5, 2.0))]
    best = _stage(engine, queries, best, grid2, floor)
    print("stage 3: thesaurus")
    grid3 = [{"thesaurus": t, "expansion_weight": e, "dense_expand": d}
             for t, e, d in itertools.product((True,), (0.25, 0.5, 1.0), (False, True))]
    grid3.append({"thesaurus": False})
    return _stage(engine, queries, best, grid3, floor)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.tune", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="e5-small")
    parser.add_argument("--sets", type=Path, nargs="*", default=list(TUNING))
    parser.add_argument("--views", default="", help="text,context,sentences (default: the model's)")
    args = parser.parse_args(argv)
    if any(p.name == "frozen.toml" for p in args.sets):
        parser.error("frozen.toml is the held-out set: report on it (python -m search.evaluate --frozen), never tune on it")
    queries, plan_path = load_sets(args.sets)
    with tempfile.TemporaryDirectory() as tmp:
        views = tuple(v for v in args.views.split(",") if v) or None
        engine = SearchEngine.build(bishan_plans(plan_path), Path(tmp) / "search", model=args.model, views=views)
        best = tune(engine, queries)
    chosen = {k: (dict(v) if k == "weights" else v) for k, v in best.__dict__.items()}
    print(f"chosen for {args.model}: {json.dumps(chosen, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
