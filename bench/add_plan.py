"""Add one synthetic plan to a built corpus and measure the incremental build, then opening and search.

    python -m bench.corpus_bench --sizes 1000 --out /tmp/pk-bench       # makes /tmp/pk-bench/corpus-1000
    python -m bench.add_plan /tmp/pk-bench/corpus-1000 --index 1001
    python -m bench.add_plan /tmp/pk-bench/corpus-1000 --index 1002 --new-unit 区法治督察局

``--new-unit NAME`` writes NAME in place of 区司法局 (three times) in the new plan: a unit name no
other plan has, so the search index's user dictionary changes (the kept tasks containing a changed
word are cut again). The build runs in a child process (``bench.corpus_bench``), so its time and
peak RSS are its own. Then, in this process: opening the build, reading its records, loading the
search index, and hybrid search p50/p95 over ``bench.corpus_bench.QUERIES``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus_bench import QUERIES, _pct, run_child  # noqa: E402
from bench.synth import generate_plan  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="a data folder with a finished build (e.g. corpus_bench's corpus-1000)")
    ap.add_argument("--index", type=int, required=True, help="which synthetic plan to add (a new one: >= the size)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--new-unit", default="", metavar="NAME", help="name a unit no other plan names")
    args = ap.parse_args(argv)

    name, text = generate_plan(args.index, args.seed)
    if args.new_unit:
        if "区司法局" not in text:
            ap.error(f"synthetic plan {args.index} names no 区司法局 to rename; pick another --index")
        text = text.replace("区司法局", args.new_unit, 3)
    target = args.data / "plans" / name
    if target.exists():
        ap.error(f"{target} is already in the corpus; pick another --index")
    target.write_text(text, encoding="utf-8")

    r = run_child(args.data, True)
    inc = r["incremental"]
    out: dict[str, object] = {
        "seconds": round(r["seconds"], 2), "peak_rss_mb": round(r["peak_rss_mb"]), "mode": inc["mode"],
        "search": inc["search"], "embedded_texts": inc["embedded_texts"], "stages": inc["seconds"],
    }

    from policykg.build import Build
    from policykg.config import Config

    t = time.perf_counter()
    build = Build.open(Config(data_dir=args.data), auto_build=False)
    out["open_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    out["plans"] = len(build.plans)
    out["read_records_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    engine = build.search_engine()
    engine.search("预热", top=10)
    out["load_search_s"] = round(time.perf_counter() - t, 2)
    times = []
    for q in QUERIES:
        t = time.perf_counter()
        engine.search(q, top=10, mode="hybrid")
        times.append(time.perf_counter() - t)
    out["hybrid_p50_ms"] = round(1000 * statistics.median(times), 1)
    out["hybrid_p95_ms"] = round(1000 * _pct(times, 0.95), 1)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
