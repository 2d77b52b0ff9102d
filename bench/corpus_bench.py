"""Benchmark: policykg at 10, 100 and 1,000 synthetic plans (a benchmark, not a test).

For each corpus size it generates plans with ``bench/synth.py`` (seeded, SYNTHETIC), builds them in a
fresh child process (so peak RSS is that build's own), and measures: build time (and its stages),
triples, peak RSS, store size on disk, hybrid search p50/p95 over distinct queries, every canned
SPARQL query's p50 on the Oxigraph store, the same query once on rdflib's in-memory store (the
baseline ratio), and the time to add one plan to the built corpus (an incremental build).

    python -m bench.corpus_bench --sizes 10,100,1000 --out /tmp/policykg-bench

Results are printed as a Markdown table and written to ``<out>/results.json`` after every size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synth import generate_plan, report_name, report_years, write_reports  # noqa: E402

QUERIES = [
    "数据共享",
    "行政执法 监督",
    "法治宣传教育",
    "行政复议",
    "营商环境",
    "重大行政决策 合法性审查",
    "政务公开",
    "应急管理 预案",
    "证明事项告知承诺制",
    "公务员法律培训 学时",
    "基层 司法所",
    "信用监管",
    "规范性文件 备案审查",
    "川渝 合作",
    "执法人员 资格",
    "法律顾问",
    "社会矛盾纠纷 调解",
    "互联网+政务服务",
    "安全生产",
    "知识产权 保护",
]
RDFLIB_TIMEOUT = 30  # seconds per query on rdflib (pure Python); slower queries are reported as "≥"
IN_MEMORY = False  # Oxigraph answers from a copy of the store in memory (sparql.run.open_store)
RDFLIB_RAW = False  # also time each rewritten query's raw version (graph/queries/raw/) on rdflib
OX_TIMEOUT = 120.0  # seconds per query on Oxigraph


def _du(path: Path) -> int:
    seen: set[int] = set()
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def own_memory_kb(field: str = "VmHWM") -> int:
    """This process's peak RSS since it started (VmHWM; ``field="VmRSS"``: its RSS now). Not
    ru_maxrss: on Linux that is inherited across fork, so a build started by a benchmark process
    holding rdflib's 4 GB graph would report the parent's 4 GB as its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_build(data: Path, with_search: bool, store_url: str | None = None) -> dict[str, Any]:
    """Run one build in this (child) process and report what it cost (``store_url``: into that server)."""
    from policykg.build import build
    from policykg.config import Config

    config = Config(data_dir=data, store_url=store_url,
                    **({"build_dir": data / "build-remote"} if store_url else {}))
    t0 = time.perf_counter()
    info = build(config, with_search=with_search)
    seconds = time.perf_counter() - t0
    me = own_memory_kb()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the parse workers
    return {
        "seconds": seconds,
        "triples": info.triples,
        "tasks": info.tasks,
        "plans": info.plans,
        "reports": info.manifest.counts.reports,
        "evidence_links": info.manifest.counts.evidence_links,
        "peak_rss_mb": max(me, kids) / 1024,
        "incremental": dataclasses.asdict(info.manifest.incremental),
        "build_dir": str(info.path.resolve()),
    }


def run_child(data: Path, with_search: bool, store_url: str | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.corpus_bench",
            "--child-build",
            str(data),
            *([] if with_search else ["--no-search"]),
            *(["--child-store", store_url] if store_url else []),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Timeout


def measure_queries(data: Path, rdflib_baseline: bool, with_search: bool) -> dict[str, Any]:
    from graph.namespaces import sparql_prologue
    from policykg.build import Build
    from policykg.config import Config
    from sparql.engine import EmbeddedSparqlEngine
    from sparql.errors import QueryTimeout
    from sparql.queries import list_queries
    from sparql.search import scorer_for_build

    b = Build.open(Config(data_dir=data), auto_build=False)
    search: dict[str, float] | None = None
    scorer = None
    if with_search:
        engine = b.search_engine()
        engine.search("预热", top=10)  # load the model once; then every query is new to the engine
        times = []
        for q in QUERIES:
            t = time.perf_counter()
            engine.search(q, top=10, mode="hybrid")
            times.append(time.perf_counter() - t)
        search = {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * _pct(times, 0.95)}
        scorer = scorer_for_build(b)
    store = b.store
    one_plan = b.manifest.plans[len(b.manifest.plans) // 2].id
    sparql: dict[str, dict[str, Any]] = {"_plan": {"id": one_plan}}
    in_process(store.path, scorer, sparql)
    # the time-limited engine (a worker process), so one runaway query cannot stall the benchmark
    # the engine's default row cap (10,000), as analysts run the queries from the CLI, endpoint and app
    with EmbeddedSparqlEngine(store.path, timeout=OX_TIMEOUT, scorer=scorer, in_memory=IN_MEMORY) as ox_engine:
        ox_engine.warm_up()
        for cq in list_queries():
            if "search" in cq.requires and scorer is None:
                continue  # a graph-only build has no search index for pk:searchScore
            runs = []
            for _ in range(5):
                try:
                    runs.append(ox_engine.query(cq.text).elapsed)
                except QueryTimeout:
                    runs = [-OX_TIMEOUT]  # negative: "more than"
                    break
            sparql.setdefault(cq.name, {})["p50_ms"] = 1000 * statistics.median(runs)
            if cq.scopable:  # the same query limited to one plan (policykg sparql NAME --plan ID)
                text = cq.for_plans([one_plan])
                ox_engine.query(text)
                scoped = [ox_engine.query(text).elapsed for _ in range(5)]
                sparql[cq.name]["plan_p50_ms"] = 1000 * statistics.median(scoped)
    if rdflib_baseline:
        t = time.perf_counter()  # (queries Oxigraph could not finish are not run on rdflib)
        g = store.to_memory_graph()
        load = time.perf_counter() - t
        runs_on: list[tuple[str, str, str]] = []  # (query, result key, text)
        for cq in list_queries():
            if cq.name not in sparql or "search" in cq.requires:
                continue  # pk:searchScore is policykg's own function on Oxigraph: rdflib has none
            if sparql[cq.name]["p50_ms"] > 0:
                runs_on.append((cq.name, "rdflib_ms", cq.text))
            if cq.scopable:
                runs_on.append((cq.name, "rdflib_plan_ms", cq.for_plans([one_plan])))
        if RDFLIB_RAW:  # the same question asked of plain rdflib, without the aggregates and totals
            from sparql.queries import QUERIES_DIR

            runs_on += [(raw.name, "rdflib_raw_ms", raw.text)
                        for raw in list_queries(QUERIES_DIR / "raw") if raw.name in sparql]
        signal.signal(signal.SIGALRM, _alarm)
        for name, key, text in runs_on:
            t = time.perf_counter()
            signal.alarm(RDFLIB_TIMEOUT)
            try:
                list(g.query(sparql_prologue() + text))
                sparql[name][key] = 1000 * (time.perf_counter() - t)
            except _Timeout:
                sparql[name][key] = -1000.0 * RDFLIB_TIMEOUT  # negative: "more than"
            finally:
                signal.alarm(0)
        sparql["_rdflib_load_s"] = {"seconds": load}
        del g
    return {"search": search, "sparql": sparql}


def in_process(store_path: Path, scorer: Any, sparql: dict[str, dict[str, Any]]) -> None:
    """Every canned query in this process (``sparql.run.run_query``, the 10,000-row cap, no worker
    round trip): p50 of 5 runs after a warm-up, whole corpus (``inproc_ms``) and one plan. With
    ``--in-memory``, on the copy :func:`sparql.run.open_store` makes, whose load time and memory go
    in ``_memory``."""
    from sparql.defaults import DEFAULT_LIMIT
    from sparql.queries import list_queries
    from sparql.run import open_store, run_query
    from sparql.search import compute_scores

    rss, t = own_memory_kb("VmRSS"), time.perf_counter()
    ox_store = open_store(store_path, in_memory=IN_MEMORY)
    if IN_MEMORY:
        sparql["_memory"] = {"load_s": time.perf_counter() - t, "quads": len(ox_store),
                             "rss_mb": (own_memory_kb("VmRSS") - rss) / 1024}
    one_plan = sparql["_plan"]["id"]
    for cq in list_queries():
        if "search" in cq.requires and scorer is None:
            continue
        # from memory, a query's memory form, as the engine runs it (sparql.queries.memory_form)
        texts = [("inproc_ms", cq.for_plans([], in_memory=IN_MEMORY))] + (
            [("inproc_plan_ms", cq.for_plans([one_plan]))] if cq.scopable else [])
        for key, text in texts:
            scores = compute_scores(text, scorer)
            run_query(ox_store, text, limit=DEFAULT_LIMIT, scores=scores)
            runs = [run_query(ox_store, text, limit=DEFAULT_LIMIT, scores=scores).elapsed for _ in range(5)]
            sparql.setdefault(cq.name, {})[key] = 1000 * statistics.median(runs)
    del ox_store


def measure_virtuoso(data: Path, out: Path, one_plan: str) -> dict[str, Any]:
    """Build the same corpus into a private Virtuoso (``--store URL``) and time every canned query
    there (5 runs after a warm-up, over HTTP, the same 10,000-row cap), whole corpus and one plan."""
    from bench.virtuoso import database_bytes, virtuoso
    from sparql.errors import SparqlError
    from sparql.queries import list_queries
    from sparql.remote import RemoteSparqlEngine, RemoteStore

    result: dict[str, Any] = {"queries": {}}
    folder = out / f"virtuoso-{data.name}"
    with virtuoso(folder) as (url, _):
        result["build"] = run_child(data, False, url)
        from policykg.build import Build
        from policykg.config import Config

        b = Build.open(Config(data_dir=data, build_dir=data / "build-remote", store_url=url), auto_build=False)
        assert isinstance(b.store, RemoteStore)
        engine = RemoteSparqlEngine(b.store, timeout=OX_TIMEOUT)
        for cq in list_queries():
            if "search" in cq.requires:
                continue  # the graph-only remote build has no search index
            entry: dict[str, float] = {}
            texts = [("p50_ms", cq.text)] + ([("plan_p50_ms", cq.for_plans([one_plan]))] if cq.scopable else [])
            for key, text in texts:
                try:
                    engine.query(text)
                    runs = [engine.query(text).elapsed for _ in range(5)]
                    entry[key] = 1000 * statistics.median(runs)
                except SparqlError as exc:
                    entry[key] = -1.0
                    entry[key + "_error"] = str(exc)[:200]  # type: ignore[assignment]
            result["queries"][cq.name] = entry
    result["database_bytes"] = database_bytes(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def bench_size(n: int, out: Path, seed: int, with_search: bool, rdflib_baseline: bool,
               with_virtuoso: bool = False, reuse: bool = False, reports: int = 0) -> dict[str, Any]:
    data = out / f"corpus-{n}"
    names = [generate_plan(i, seed)[0] for i in range(n)] if reuse else []
    if reuse and (data / "plans").is_dir() and set(names) <= {p.name for p in (data / "plans").iterdir()}:
        for extra in set((data / "plans").iterdir()) - {data / "plans" / name for name in names}:
            extra.unlink()  # the plan the last run added; the build below is then incremental (or full
            # when the describing code changed), and measures that build, not a cold one
        (data / "reports").mkdir(exist_ok=True)
        kept = {report_name(i, y) for i in range(n) for y in report_years(i, reports, seed)}
        for extra in set((data / "reports").iterdir()) - {data / "reports" / name for name in kept}:
            extra.unlink()  # that plan's reports, or reports of a run with a larger --reports
        for i in range(n):
            write_reports(data / "reports", i, reports, seed)  # the same texts: those there are unchanged
    else:
        shutil.rmtree(data, ignore_errors=True)
        (data / "plans").mkdir(parents=True)
        for name in ("units.toml", "thesaurus.toml", "terms.txt"):
            shutil.copy(ROOT / "data" / name, data / name)
        for i in range(n):
            name, text = generate_plan(i, seed)
            (data / "plans" / name).write_text(text, encoding="utf-8")
            write_reports(data / "reports", i, reports, seed)
    row: dict[str, Any] = {"plans": n}
    row["build"] = run_child(data, with_search)
    build_dir = Path(row["build"]["build_dir"])
    row["store_bytes"] = _du(build_dir / "store")
    row["build_bytes"] = _du(build_dir)
    row.update(measure_queries(data, rdflib_baseline, with_search))
    if with_virtuoso:
        row["virtuoso"] = measure_virtuoso(data, out, row["sparql"]["_plan"]["id"])
    name, text = generate_plan(n, seed)  # one more plan (and its reports): an incremental build
    (data / "plans" / name).write_text(text, encoding="utf-8")
    write_reports(data / "reports", n, reports, seed)
    row["add_one"] = run_child(data, with_search)
    return row


def calibrate() -> dict[str, float]:
    """How fast this machine is right now, in two fixed workloads: a pure-Python loop (what rdflib's
    time follows) and an Oxigraph sort of 20,000 long strings read from its dictionary (what our
    slow queries spend their time on). The same code ran 2.6-4x slower on one day than the day before
    (BENCHMARKS.md, "A slow day"), so every results.json says which kind of day it measured; that
    afternoon this gave a 0.39-0.73 s loop and a 178-334 ms sort."""
    import pyoxigraph as ox

    t = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    loop = time.perf_counter() - t
    store = ox.Store()
    p = ox.NamedNode("https://example.org/p")
    store.extend(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), p, ox.Literal(f"区政府有关部门第{i * 7919 % 20000}号"))
                 for i in range(20_000))
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        answer = store.query("SELECT ?s ?o WHERE { ?s <https://example.org/p> ?o } ORDER BY ?o")
        assert isinstance(answer, ox.QuerySolutions)
        list(answer)
        runs.append(time.perf_counter() - t)
    return {"python_loop_s": round(loop, 3), "oxigraph_sort_ms": round(1000 * statistics.median(runs), 1)}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg(),
        "speed_at_start": calibrate(),
    }


def _ratio(base: float | None, ours: float) -> str:
    """rdflib's time over ours; a negative rdflib time is a timeout ("at least")."""
    if base is None or ours <= 0:
        return "n/a"
    return f"≥{-base / ours:,.0f}" if base < 0 else f"{base / ours:,.0f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"≥{-value:,.0f}" if value < 0 else f"{value:,.1f}"


def query_table(r: dict[str, Any]) -> list[str]:
    """One size's canned queries: p50 ms over the whole corpus and limited to one plan, in this process
    (``run_query``) and through the worker engine the CLI, endpoint and app use; rdflib's time over the
    in-process one; Virtuoso's p50 over HTTP when measured."""
    sparql = r.get("sparql", {})
    virt = (r.get("virtuoso") or {}).get("queries", {})
    queries = sorted(q for q in sparql if not q.startswith("_"))
    if not queries:
        return []
    raw = any("rdflib_raw_ms" in sparql[q] for q in queries)
    head = ("| canned query | whole corpus: in-process (rdflib ×) | engine | one plan: in-process (rdflib ×) | engine |"
            + (" rdflib on the raw version: ms (×) |" if raw else "")
            + (" Virtuoso whole | Virtuoso one plan |" if virt else ""))
    mem = sparql.get("_memory")
    where = (f"; Oxigraph from memory: {mem['quads']:,} quads copied in {mem['load_s']:.0f} s, "
             f"+{mem['rss_mb']:,.0f} MB" if mem else "")
    out = ["", f"{r['plans']} plans (one plan: {sparql.get('_plan', {}).get('id', '?')}{where})", "", head,
           "|---|" + "---:|" * (4 + raw + (2 if virt else 0))]
    for q in queries:
        m = sparql[q]
        whole, one = m.get("inproc_ms"), m.get("inproc_plan_ms")
        cells = [
            f"{_ms(whole)} ({_ratio(m.get('rdflib_ms'), whole or 0)})",
            _ms(m.get("p50_ms")),
            f"{_ms(one)} ({_ratio(m.get('rdflib_plan_ms'), one or 0)})" if one is not None else "—",
            _ms(m.get("plan_p50_ms")),
        ]
        if raw:
            slow = m.get("rdflib_raw_ms")
            cells.append(f"{_ms(slow)} ({_ratio(slow, whole or 0)})" if slow is not None else "—")
        if virt:
            v = virt.get(q, {})
            cells += ["error" if f"{k}_error" in v else _ms(v.get(k)) for k in ("p50_ms", "plan_p50_ms")]
        out.append(f"| {q} | " + " | ".join(cells) + " |")
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| plans | tasks | reports (evidence links) | triples | build s | embed texts | peak RSS MB | store MB "
        "| search p50/p95 ms | add one plan s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        b = r["build"]
        s = r.get("search")
        lines.append(
            f"| {r['plans']} | {b['tasks']:,} | {b.get('reports', 0):,} ({b.get('evidence_links', 0):,}) | {b['triples']:,} | {b['seconds']:.1f} | "
            f"{b['incremental'].get('embedded_texts')} | {b['peak_rss_mb']:.0f} | {r['store_bytes'] / 2**20:.1f} | "
            + (f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}" if s else "—")
            + f" | {r['add_one']['seconds']:.1f} |"
        )
    lines += ["", "| plans | full build stages s | add one plan: stages s (search index) |", "|---:|---|---|"]
    for r in rows:
        stages = r["build"]["incremental"]["seconds"]
        add = r["add_one"]["incremental"]
        lines.append(
            f"| {r['plans']} | " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            + " | " + ", ".join(f"{k} {v:.2f}" for k, v in add["seconds"].items())
            + f" ({add.get('search') or 'no search'}, {add.get('embedded_texts')} texts embedded) |"
        )
    for r in rows:
        lines += query_table(r)
    return "\n".join(lines)


def main() -> None:
    global RDFLIB_TIMEOUT, RDFLIB_RAW, IN_MEMORY
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--out", type=Path, default=Path("/tmp/policykg-bench"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-search", action="store_true", help="graph only (no embedding, no search)")
    parser.add_argument("--no-rdflib", action="store_true", help="skip the rdflib baseline")
    parser.add_argument("--rdflib-timeout", type=int, default=RDFLIB_TIMEOUT, help="seconds per rdflib query")
    parser.add_argument("--rdflib-raw", action="store_true",
                        help="also time each rewritten query's raw version (graph/queries/raw/, no aggregates "
                             "or totals) on rdflib over the whole corpus: plain rdflib asked the same question")
    parser.add_argument("--in-memory", action="store_true",
                        help="Oxigraph answers from a copy of the store in memory (policykg serve --in-memory), "
                             "in this process and in the worker; the copy's load time and memory are reported")
    parser.add_argument("--virtuoso", action="store_true",
                        help="also build each corpus into a private Virtuoso (--store) and time the queries there")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an existing corpus-N of the same seed under --out (no new plans; its build is updated)")
    parser.add_argument("--reports", type=int, default=0, metavar="N",
                        help="also each plan's first N synthetic annual reports (years of its period up to "
                             "2025), linked to its tasks by the build: the follow-through queries then "
                             "answer with evidence (needs the search stage)")
    parser.add_argument("--child-build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        print(json.dumps(child_build(args.child_build, not args.no_search, args.child_store)))
        return
    if args.reports and args.no_search:
        parser.error("--reports needs the search stage: reports are linked to tasks with the search "
                     "index (drop --no-search, or --reports)")
    RDFLIB_TIMEOUT, RDFLIB_RAW, IN_MEMORY = args.rdflib_timeout, args.rdflib_raw, args.in_memory
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "command": " ".join(sys.argv), "rows": []}
    print(f"corpus_bench: machine speed now: {speed_text(results['machine']['speed_at_start'])}", file=sys.stderr, flush=True)
    for n in (int(x) for x in args.sizes.split(",")):
        print(f"corpus_bench: {n} plans ...", file=sys.stderr, flush=True)
        results["rows"].append(bench_size(n, args.out, args.seed, not args.no_search, not args.no_rdflib,
                                          args.virtuoso, args.reuse, args.reports))
        (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
        print(table(results["rows"]), file=sys.stderr, flush=True)
    results["machine"]["speed_at_end"] = calibrate()
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(table(results["rows"]))
    print(f"\nmachine speed at start: {speed_text(results['machine']['speed_at_start'])}; "
          f"at end: {speed_text(results['machine']['speed_at_end'])}")


def speed_text(c: dict[str, float]) -> str:
    return f"Python loop {c['python_loop_s']:.2f} s, Oxigraph sort {c['oxigraph_sort_ms']:.0f} ms (bench.corpus_bench.calibrate)"


if __name__ == "__main__":
    main()
