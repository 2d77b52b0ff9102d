"""What the store benchmarks share (memory_vs_disk, query_versions, worker_overhead, answer_terms): a
command line naming a build's store and some canned queries, a p50 timer, and the machine's speed,
measured first and printed with the results, because on this VM it drifts by 2-4x within an hour
(BENCHMARKS.md, "A slow day")."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUNS = 5


def p50_ms(f: Callable[[], Any], runs: int = RUNS) -> float:
    """``f``'s median time in ms over ``runs`` calls, after one call to warm up."""
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def store_parser(doc: str, *, query_required: bool = False) -> argparse.ArgumentParser:
    """``--store DIR`` and ``--query NAME`` (repeatable; optional unless ``query_required``), with
    the first paragraph of the tool's docstring as its description."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a build's store directory")
    parser.add_argument("--query", action="append", default=[], required=query_required, metavar="NAME",
                        help="a canned query (repeatable)" + ("" if query_required else "; default: all of them"))
    return parser


def machine_speed() -> str:
    """The machine's speed now (``corpus_bench.calibrate``), as one line for a results table."""
    from bench.corpus_bench import calibrate, speed_text

    return f"machine: {speed_text(calibrate())}"
