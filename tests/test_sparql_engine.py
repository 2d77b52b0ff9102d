"""The SPARQL engine on a small hand-written graph: refusals, time limit, result cap, serializers.

These need no build: a few tasks in the shape graph/rdf.py emits, loaded into a real Oxigraph store.
Serialized results are read back with pyoxigraph's own result parsers (a second implementation),
so a formatting slip shows up as a mismatch rather than passing by construction.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.namespaces import PREFIXES
from sparql.defaults import MAX_NESTING
from sparql.engine import EmbeddedSparqlEngine
from sparql.errors import EngineBusy, QueryRefused, QuerySyntaxError, QueryTimeout, QueryTooLarge, SparqlError
from sparql.formats import FORMATS
from sparql.guard import check_query, lex, nesting
from sparql.queries import list_queries
from sparql.run import run_query
from sparql.search import compute_scores, search_calls
from sparql.workers import QueryPool

PLAN = "https://w3id.org/policykg/id/test-2021-2025"
FIXTURE = f"""
@prefix pk: <{PREFIXES["pk"]}> . @prefix rdfs: <{PREFIXES["rdfs"]}> . @prefix org: <{PREFIXES["org"]}> .
@prefix dcterms: <{PREFIXES["dcterms"]}> . @prefix xsd: <{PREFIXES["xsd"]}> .
<{PLAN}> a pk:Plan ; dcterms:title "测试方案"@zh ; pk:periodStart 2021 ; pk:periodEnd 2025 .
<{PLAN}/chapter/2> a pk:Chapter ; pk:number 2 ; pk:label "二" ; dcterms:title "第二章"@zh ; pk:inPlan <{PLAN}> .
<{PLAN}/task/1> a pk:Task ; pk:number 1 ; pk:position 1 ; pk:label "1" ; pk:inPlan <{PLAN}> ;
    pk:inChapter <{PLAN}/chapter/2> ; pk:text "推进数据共享，2023年底前完成。\\t制表符"@zh ;
    pk:deadline "2023-12-31"^^xsd:date .
<{PLAN}/task/2> a pk:Task ; pk:number 2 ; pk:position 2 ; pk:label "2" ; pk:inPlan <{PLAN}> ;
    pk:inChapter <{PLAN}/chapter/2> ; pk:text "加强执法, \\"协同\\""@zh .
<{PLAN}/task/2/target/1> a pk:Target ; pk:text "100%" ; pk:value 100.0 ; pk:unit "%" .
<{PLAN}/task/2> pk:target <{PLAN}/task/2/target/1> .
<urn:u:sfj> a org:Organization ; rdfs:label "区司法局"@zh ; pk:unitType "government" ;
    pk:leads <{PLAN}/task/1> , <{PLAN}/task/2> .
<urn:u:ga> a org:Organization ; rdfs:label "区公安分局"@zh ; pk:unitType "government" ;
    pk:responsibleFor <{PLAN}/task/1> .
"""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sparql") / "store"
    store = ox.Store(str(path))
    store.load(FIXTURE.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    # enough triples that the runaway cross product cannot finish in the test's lifetime
    store.extend(
        ox.Quad(ox.NamedNode(f"urn:x:{i}"), ox.NamedNode("urn:p"), ox.Literal(str(i))) for i in range(300)
    )
    store.flush()
    del store
    return path


@pytest.fixture(scope="module")
def store(store_dir: Path) -> ox.Store:
    return ox.Store.read_only(str(store_dir))


@pytest.fixture(scope="module")
def engine(store_dir: Path):
    with EmbeddedSparqlEngine(store_dir, timeout=5, limit=50, workers=2) as e:
        e.warm_up()
        yield e


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://example.org/data.ttl>",
        "CLEAR DEFAULT",
        "DROP ALL",
        "prefix ex: <http://example.org/> insert { ?s ex:p 1 } where { ?s ?p ?o }",
    ],
)
def test_updates_are_refused_with_a_reason(query: str) -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        check_query(query)


def test_service_and_file_iris_are_refused() -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryRefused, match="file:"):
        check_query("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")
    with pytest.raises(QueryRefused, match="file:"):
        check_query("PREFIX f: <FILE:///tmp/> SELECT * WHERE { ?s ?p f:x }")


def test_graphs_on_other_hosts_are_refused_and_own_graphs_are_not() -> None:
    with pytest.raises(QueryRefused, match="another host"):
        check_query("SELECT * FROM <http://dbpedia.org/> WHERE { ?s ?p ?o }")
    with pytest.raises(QueryRefused, match="another host"):
        check_query("SELECT * FROM NAMED <http://127.0.0.1:8890/g> WHERE { GRAPH ?g { ?s ?p ?o } }")
    check_query("SELECT * FROM <https://w3id.org/policykg/id/x> WHERE { ?s ?p ?o }")
    check_query("SELECT ?from WHERE { ?from ?p <http://example.org/x> } # FROM <http://evil.example/>")


def test_keywords_inside_strings_comments_and_names_are_not_refused(store: ox.Store) -> None:
    q = (
        "# delete this comment, insert nothing\n"
        'SELECT ?insert ?load WHERE { ?insert pk:text ?load FILTER(CONTAINS(?load, "DELETE service")) '
        "OPTIONAL { ?insert pk:drop ?x } }"
    )
    check_query(q)  # must not raise
    assert run_query(store, q).rows == []


def test_size_limit_and_empty_query() -> None:
    with pytest.raises(QueryTooLarge, match="limit"):
        check_query("SELECT * WHERE { ?s ?p ?o } #" + "x" * 2000, max_bytes=1000)
    with pytest.raises(QuerySyntaxError):
        check_query("   ")


def test_read_only_is_enforced_by_the_store_itself(store_dir: Path) -> None:
    """Even past the text check, the worker's store cannot be written."""
    ro = ox.Store.read_only(str(store_dir))
    with pytest.raises((OSError, RuntimeError)):
        ro.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")


# --- running ---------------------------------------------------------------------------------------


def test_select_through_worker_equals_in_process(engine: EmbeddedSparqlEngine, store: ox.Store) -> None:
    q = "SELECT ?task ?label WHERE { ?u rdfs:label ?label ; pk:leads ?task } ORDER BY ?task"
    a, b = engine.query(q), run_query(store, q)
    assert a.variables == b.variables == ["task", "label"]
    assert a.rows == b.rows
    assert [r["task"].rsplit("/", 1)[1] for r in a.records()] == ["1", "2"]


def test_syntax_error_is_one_line(engine: EmbeddedSparqlEngine) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        engine.query("SELECT ?x WHERE { ?x pk:text }")
    assert "\n" not in str(err.value) and "syntax error" in str(err.value)


def test_unknown_prefix_is_a_syntax_error(engine: EmbeddedSparqlEngine) -> None:
    with pytest.raises(QuerySyntaxError, match="nope"):
        engine.query("SELECT * WHERE { ?x nope:p ?y }")


def test_result_cap_marks_truncation(engine: EmbeddedSparqlEngine) -> None:
    r = engine.query("SELECT * WHERE { ?s ?p ?o }")
    assert len(r) == 50 and r.truncated and "50" in r.note
    r = engine.query("SELECT * WHERE { ?s ?p ?o }", limit=5000)
    assert not r.truncated and 300 < len(r) < 5000
    g = engine.query("CONSTRUCT WHERE { ?s ?p ?o }", limit=10)
    assert g.kind == "graph" and len(g.triples) == 10 and g.truncated


def test_timeout_kills_the_worker_and_the_pool_recovers(store_dir: Path) -> None:
    with EmbeddedSparqlEngine(store_dir, timeout=1.0, workers=1) as e:
        e.warm_up()
        t0 = time.perf_counter()
        with pytest.raises(QueryTimeout, match="1 s"):
            e.query(RUNAWAY)
        assert time.perf_counter() - t0 < 4
        # the killed worker was replaced: the next query is answered
        assert e.query("ASK { ?s a pk:Task }", timeout=30).boolean is True


def test_runaway_does_not_block_a_second_worker(engine: EmbeddedSparqlEngine) -> None:
    outcome: dict[str, object] = {}

    def slow() -> None:
        try:
            engine.query(RUNAWAY, timeout=2.0)
        except SparqlError as e:
            outcome["slow"] = e

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    fast = engine.query("SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }")
    assert time.perf_counter() - t0 < 1.5
    assert fast.records() == [{"n": 2}]
    t.join(10)
    assert isinstance(outcome.get("slow"), QueryTimeout)


def test_busy_pool_says_so(store_dir: Path) -> None:
    pool = QueryPool(store_dir, 1)
    try:
        pool.warm_up()
        seen: list[BaseException] = []

        def runaway() -> None:
            try:
                pool.run(RUNAWAY, timeout=1.5, limit=10)
            except SparqlError as e:
                seen.append(e)

        th = threading.Thread(target=runaway)
        th.start()
        time.sleep(0.2)
        with pytest.raises(EngineBusy, match="busy"):
            pool.run("ASK {}", timeout=5, limit=10, wait=0.2)
        th.join(10)
        assert len(seen) == 1 and isinstance(seen[0], QueryTimeout)
    finally:
        pool.close()


# --- search inside SPARQL ----------------------------------------------------------------------------


def test_search_calls_are_read_from_literals_not_comments() -> None:
    q = (
        '# pk:searchScore(?task, "只在注释里", 5)\n'
        'SELECT * WHERE { BIND(pk:searchScore(?task, "数据共享") AS ?s) '
        'BIND(pk:searchRank(?task, "数据共享") AS ?r) '
        "BIND(<https://w3id.org/policykg/ontology#searchScore>(?task, 'x\\'y', 7) AS ?z) }"
    )
    assert search_calls(q) == [("数据共享", 20), ("x'y", 7)]
    with pytest.raises(QuerySyntaxError, match="string"):
        search_calls("SELECT * WHERE { BIND(pk:searchScore(?task, ?text) AS ?s) }")


def test_search_score_and_rank_bind_only_top_hits(store: ox.Store) -> None:
    hits = {f"{PLAN}/task/1": 0.9, f"{PLAN}/task/2": 0.4}

    def scorer(text: str, top: int) -> dict[str, float]:
        assert text == "数据共享"
        return dict(sorted(hits.items(), key=lambda kv: -kv[1])[:top])

    q = (
        "SELECT ?task ?score ?rank WHERE { ?task a pk:Task "
        'BIND(pk:searchScore(?task, "数据共享", 1) AS ?score) BIND(pk:searchRank(?task, "数据共享", 1) AS ?rank) '
        "} ORDER BY ?task"
    )
    r = run_query(store, q, scores=compute_scores(q, scorer)).records()
    assert r == [
        {"task": f"{PLAN}/task/1", "score": 0.9, "rank": 1},
        {"task": f"{PLAN}/task/2", "score": None, "rank": None},
    ]


def test_search_without_an_index_is_a_clear_error(engine: EmbeddedSparqlEngine) -> None:
    with pytest.raises(SparqlError, match="no search index"):
        engine.query('SELECT * WHERE { ?t a pk:Task BIND(pk:searchScore(?t, "x") AS ?s) }')


# --- serializers, read back with pyoxigraph's parsers -------------------------------------------------

SELECT_ALL = (
    "SELECT ?task ?text ?deadline ?value ?unit WHERE { ?task a pk:Task ; pk:text ?text . "
    "OPTIONAL { ?task pk:deadline ?deadline } OPTIONAL { ?task pk:target/pk:value ?value } "
    "OPTIONAL { ?u pk:responsibleFor ?task ; rdfs:label ?unit } } ORDER BY ?task"
)


@pytest.mark.parametrize(
    "fmt,oxfmt",
    [
        ("json", ox.QueryResultsFormat.JSON),
        ("xml", ox.QueryResultsFormat.XML),
        ("tsv", ox.QueryResultsFormat.TSV),
    ],
)
def test_serialized_results_parse_back_to_the_same_terms(store: ox.Store, fmt: str, oxfmt: object) -> None:
    result = run_query(store, SELECT_ALL)
    parsed = ox.parse_query_results(result.serialize(fmt), format=oxfmt)
    assert [v.value for v in parsed.variables] == result.variables
    back = [tuple(sol[v] for v in result.variables) for sol in parsed]
    assert back == result.rows
    assert any(r[2] is not None for r in back) and any(r[2] is None for r in back)  # unbound kept


def test_csv_is_rfc4180_with_plain_values(store: ox.Store) -> None:
    result = run_query(store, SELECT_ALL)
    data = result.serialize("csv")
    assert b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == result.variables
    assert rows[1][1] == "推进数据共享，2023年底前完成。\t制表符"
    assert rows[2][1] == '加强执法, "协同"' and float(rows[2][3]) == 100


def test_ask_and_graph_formats(store: ox.Store) -> None:
    ask = run_query(store, "ASK { ?s pk:leads ?t }")
    assert json.loads(ask.serialize("json")) == {"head": {}, "boolean": True}
    assert bool(ox.parse_query_results(ask.serialize("xml"), format=ox.QueryResultsFormat.XML)) is True
    g = run_query(store, "CONSTRUCT { ?u pk:leads ?t } WHERE { ?u pk:leads ?t }")
    for name, rdf in (("turtle", ox.RdfFormat.TURTLE), ("ntriples", ox.RdfFormat.N_TRIPLES)):
        parsed = {q.triple for q in ox.parse(g.serialize(name), format=rdf)}
        assert parsed == set(g.triples) and len(parsed) == 2
    with pytest.raises(ValueError, match=r"CONSTRUCT|GRAPH"):
        g.serialize("csv")
    assert set(FORMATS) >= {"json", "xml", "csv", "tsv", "turtle", "ntriples", "table"}


def test_table_lines_up_chinese(store: ox.Store) -> None:
    text = run_query(
        store, "SELECT ?label ?t WHERE { ?u rdfs:label ?label ; pk:leads ?t } ORDER BY ?t"
    ).serialize("table")
    lines = text.decode("utf-8").splitlines()
    assert lines[0].startswith("label") and lines[2].startswith("区司法局  pkid:test-2021-2025/task/1")
    assert "(2 rows" in text.decode("utf-8")


def test_workers_outlive_the_thread_that_started_them(store_dir: Path) -> None:
    """PR_SET_PDEATHSIG fires when the *thread* that started the worker exits; a server starts and
    restarts workers from short-lived request threads, so those workers must survive them."""
    box: dict[str, EmbeddedSparqlEngine] = {}

    def start() -> None:
        e = EmbeddedSparqlEngine(store_dir, workers=1)
        e.warm_up()  # the worker has set its death signal before this thread ends
        box["e"] = e

    def runaway() -> None:
        with pytest.raises(QueryTimeout):
            box["e"].query(RUNAWAY, timeout=0.5)

    th = threading.Thread(target=start)
    th.start()
    th.join()
    engine = box["e"]
    try:
        time.sleep(0.5)
        assert engine.query("ASK { ?s a pk:Task }", timeout=30).boolean is True
        # the replacement started after a timeout in another short-lived thread must survive too
        t2 = threading.Thread(target=runaway)
        t2.start()
        t2.join()
        engine.warm_up()
        time.sleep(0.5)
        assert engine.query("ASK { ?s a pk:Task }", timeout=30).boolean is True
    finally:
        engine.close()


# --- deep nesting: refused before it reaches (and crashes) the parser --------------------------------

NESTED = {
    "groups": lambda n: "SELECT * WHERE " + "{" * n + " ?s ?p ?o " + "}" * n,
    "sub-selects": lambda n: "SELECT * WHERE { " + "{ SELECT * WHERE " * n + "{ ?s ?p ?o }" + " }" * n + " }",
    "blank nodes": lambda n: "SELECT * WHERE { ?s <urn:p> " + "[ <urn:p> " * n + "?o" + " ]" * n + " }",
    "collections": lambda n: "SELECT * WHERE { ?s <urn:p> " + "(" * n + "1" + ")" * n + " }",
    "negations": lambda n: "SELECT * WHERE { BIND(" + "!" * n + "true AS ?x) }",
}


@pytest.mark.parametrize("form", NESTED)
def test_deep_nesting_is_refused_with_a_reason(form: str) -> None:
    with pytest.raises(QuerySyntaxError, match=r"nests 6\d levels deep.*the limit is 64"):
        check_query(NESTED[form](MAX_NESTING + 1))
    check_query(NESTED[form](MAX_NESTING - 4))  # near the limit is allowed


def test_nesting_counts_syntax_not_strings_or_comments() -> None:
    check_query('SELECT * WHERE { ?s ?p "' + "{" * 500 + '" } # ' + "(" * 500)
    assert max(nesting(lex(q.text)[0]) for q in list_queries()) <= 17  # what MAX_NESTING's docstring says


def test_deeply_nested_query_does_not_kill_a_worker(engine: EmbeddedSparqlEngine) -> None:
    """5,000 nested groups overflow Oxigraph's parser stack (a segfault in the worker) unless refused."""
    before = sorted(w.proc.pid for w in engine._pool._workers)
    with pytest.raises(QuerySyntaxError, match="nests 5,000 levels"):
        engine.query(NESTED["groups"](5000))
    assert engine.query("ASK { ?s a pk:Task }").boolean is True
    assert sorted(w.proc.pid for w in engine._pool._workers) == before
