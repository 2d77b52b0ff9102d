"""How long ``policykg search`` takes from the shell, start to finish, on a Bishan build.

    python -m bench.cli_latency [--build-dir DIR] [--runs 7] [--model auto]

Builds the Bishan plan with the default model into a temporary folder (or uses ``--build-dir``),
then runs ``python -m policykg.cli search QUERY --build-dir DIR`` ``--runs`` times as separate
processes (a cold interpreter each time, as from the shell; the OS file cache is warm after the
first) and prints the median, minimum and maximum wall time, beside ``python -c pass`` for the
interpreter's own start. One more run, in-process, splits the time into phases: importing the CLI,
opening the build, loading the search index and model, and the first query. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "data" / "plans" / "chongqing-bishan-fazhi-zhengfu-2021-2025-draft.txt"
QUERIES = ["老百姓告政府，领导要出庭", "川渝协同", "政府乱发红头文件", "区司法局牵头的数据共享任务"]

_PHASES = """
import json, sys, time
t0 = time.perf_counter()
import policykg.cli as cli
from policykg.config import Config
from policykg.build import Build
t1 = time.perf_counter()
b = Build.open(Config(build_dir=__import__("pathlib").Path(sys.argv[1])), auto_build=False)
t2 = time.perf_counter()
engine = b.search_engine()
t3 = time.perf_counter()
engine.search(sys.argv[2], top=5)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open build": t2 - t1, "load index": t3 - t2, "query": t4 - t3,
                  "model": engine.model}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


def _wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, help="an existing build (default: build Bishan in a temp dir)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", default="auto")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        build_dir = args.build_dir or Path(tmp) / "build"
        if args.build_dir is None:
            subprocess.run([sys.executable, "-m", "policykg.cli", "build", "--build-dir", str(build_dir),
                            "--model", args.model, str(PLAN)], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=_env())
        base = [_wall([sys.executable, "-c", "pass"]) for _ in range(3)]
        _wall([sys.executable, "-m", "policykg.cli", "search", QUERIES[0], "--build-dir", str(build_dir)])  # warm
        times = []
        for i in range(args.runs):
            query = QUERIES[i % len(QUERIES)]
            times.append(_wall([sys.executable, "-m", "policykg.cli", "search", query, "--build-dir", str(build_dir),
                                "--top", "5"]))
        phases = json.loads(subprocess.run([sys.executable, "-c", _PHASES, str(build_dir), QUERIES[1]], check=True,
                                           capture_output=True, text=True, env=_env()).stdout)
    print(f"policykg search on the Bishan build (model {phases.pop('model')}), {args.runs} runs, "
          f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    print(f"  median {statistics.median(times):.2f} s   min {min(times):.2f} s   max {max(times):.2f} s   "
          f"(python -c pass: {statistics.median(base):.2f} s)")
    print("  phases of one run: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    print(f"  target: under 1 s — {'met' if statistics.median(times) < 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
