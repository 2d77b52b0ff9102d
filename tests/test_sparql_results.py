"""A query's answer crosses from a worker process to the CLI, endpoint and app as a pickle: whatever
its rows and triples hold, what arrives equals what was sent, and a worker's answer equals the answer
in-process."""

from __future__ import annotations

import pickle
from pathlib import Path
from unittest.mock import patch

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

import sparql.run
from graph.namespaces import XSD
from sparql.engine import EmbeddedSparqlEngine
from sparql.results import QueryResult, rows_from_tsv
from sparql.run import capped_wire, run_query

iris = st.from_regex(r"https://example\.org/[a-z0-9/_\-]{0,20}", fullmatch=True).map(ox.NamedNode)
blanks = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).map(ox.BlankNode)
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)  # tabs, newlines, quotes, 中文
literals = st.one_of(
    texts.map(ox.Literal),
    st.tuples(texts, st.sampled_from(["zh", "en", "zh-hans"])).map(lambda t: ox.Literal(t[0], language=t[1])),
    st.integers(-(10**12), 10**12).map(lambda n: ox.Literal(str(n), datatype=ox.NamedNode(str(XSD.integer)))),
    st.dates().map(lambda d: ox.Literal(d.isoformat(), datatype=ox.NamedNode(str(XSD.date)))),
    st.tuples(texts, iris).map(lambda t: ox.Literal(t[0], datatype=t[1])),
)
cells = st.one_of(st.none(), iris, blanks, literals)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(*[cells] * n), max_size=12))))
def test_rows_arrive_as_they_were_sent(shape: tuple[int, list[tuple[object, ...]]]) -> None:
    width, rows = shape
    sent = QueryResult("select", [f"v{i}" for i in range(width)], rows, truncated=True, limit=7)  # type: ignore[arg-type]
    arrived = pickle.loads(pickle.dumps(sent))
    assert arrived == sent
    assert arrived.rows == rows  # (QueryResult's == compares every field; rows spelled out for the report)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(iris, blanks), iris, st.one_of(iris, blanks, literals)), max_size=12))
def test_triples_arrive_as_they_were_sent(spo: list[tuple[object, object, object]]) -> None:
    sent = QueryResult("graph", triples=[ox.Triple(s, p, o) for s, p, o in spo])  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(sent)) == sent


def test_rows_travel_as_tsv_and_rows_holding_triple_terms_as_terms() -> None:
    quoted = ox.Triple(ox.NamedNode("https://example.org/a"), ox.NamedNode("https://example.org/b"), ox.Literal("c"))
    plain = QueryResult("select", ["t"], [(ox.Literal("c"),), (None,)])
    assert isinstance(plain.__getstate__()["rows"], bytes)  # the fast path: written and read in Rust
    for sent in (QueryResult("select", ["t"], [(quoted,), (None,)]), QueryResult("select", [], [()]),
                 QueryResult("ask", boolean=True)):
        assert not isinstance(sent.__getstate__()["rows"], bytes)
        assert pickle.loads(pickle.dumps(sent)) == sent


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, max_size=25), st.integers(0, 30))
def test_answers_written_in_rust_are_cut_at_the_limit(values: list[str], limit: int) -> None:
    """A worker has pyoxigraph write a SELECT's rows (TSV) or a CONSTRUCT's triples (N-Triples) and
    stop at the row limit; read back, they are the first ``limit`` rows or triples as the terms
    themselves (tabs and newlines inside a literal included), and ``truncated`` says whether some were
    cut."""
    store = ox.Store()
    p = ox.NamedNode("https://example.org/p")
    store.extend(ox.Quad(ox.NamedNode(f"https://example.org/s{i:03d}"), p, ox.Literal(v)) for i, v in enumerate(values))
    select = "SELECT ?s ?o WHERE { ?s <https://example.org/p> ?o } ORDER BY ?s"
    construct = "CONSTRUCT { ?s <https://example.org/q> ?o } WHERE { ?s <https://example.org/p> ?o }"
    for text in (select, construct):
        here = run_query(store, text, limit=limit)
        sent = run_query(store, text, limit=limit, wire=True)
        assert sent.wire is not None and not sent.rows and not sent.triples and len(sent) == len(here)
        arrived = pickle.loads(pickle.dumps(sent))
        assert arrived.wire is None and (arrived.rows, arrived.triples) == (here.rows, here.triples)
        assert arrived.truncated == here.truncated == (len(values) > limit)
        data, cut = capped_wire(store.query(text), limit)  # type: ignore[arg-type]
        assert cut == (len(values) > limit)
        assert data.count(b"\n") == (text == select) + min(len(values), limit)


@settings(max_examples=100, deadline=None)
@given(st.lists(cells, min_size=1, max_size=4), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=20))
def test_rows_made_from_tsv_are_the_terms_pyoxigraph_gives(pool: list[object], picks: list[tuple[int, int]]) -> None:
    """Past its first rows (``sparql.run.ONE_BY_ONE``, 2 here), an answer in-process whose cells repeat
    is written as TSV by pyoxigraph and each distinct cell made a term once (``rows_from_tsv``); the rows
    equal the terms pyoxigraph gives row by row, whatever the cells hold (tabs, newlines, quotes, 中文,
    blank nodes, typed literals), repeated or unbound, and are cut at the row limit."""
    store = ox.Store()
    ex = "https://example.org/"
    for i, (a, b) in enumerate(picks):
        row = ox.NamedNode(f"{ex}row{i:02d}")
        store.add(ox.Quad(row, ox.NamedNode(ex + "at"), ox.Literal(i)))
        for column, pick in (("a", a), ("b", b)):
            value = pool[pick % len(pool)]
            if value is not None:
                store.add(ox.Quad(row, ox.NamedNode(ex + column), value))  # type: ignore[arg-type]
    text = (f"SELECT ?row ?a ?b WHERE {{ ?row <{ex}at> ?i OPTIONAL {{ ?row <{ex}a> ?a }} "
            f"OPTIONAL {{ ?row <{ex}b> ?b }} }} ORDER BY ?i")
    one_by_one = [tuple(solution) for solution in store.query(text)]  # type: ignore[union-attr]
    assert rows_from_tsv(capped_wire(store.query(text), 100)[0]) == one_by_one  # type: ignore[arg-type]
    for share in (0.0, 1.0):  # the rest one by one, or through TSV
        with patch.object(sparql.run, "ONE_BY_ONE", 2), patch.object(sparql.run, "DISTINCT_SHARE", share):
            assert run_query(store, text).rows == one_by_one and len(one_by_one) == len(picks)
            cut = run_query(store, text, limit=3)
            assert cut.rows == one_by_one[:3] and cut.truncated == (len(picks) > 3)


def test_a_workers_answer_equals_the_answer_in_process(tmp_path: Path) -> None:
    store = ox.Store(str(tmp_path / "store"))
    ex = "https://example.org/"
    store.extend([
        ox.Quad(ox.NamedNode(ex + "u1"), ox.NamedNode(ex + "label"), ox.Literal("区司法局\t（牵头）", language="zh")),
        ox.Quad(ox.NamedNode(ex + "u1"), ox.NamedNode(ex + "tasks"), ox.Literal(26)),
        ox.Quad(ox.NamedNode(ex + "u2"), ox.NamedNode(ex + "label"), ox.Literal('"区财政局"\n')),
        ox.Quad(ox.BlankNode("b0"), ox.NamedNode(ex + "label"), ox.Literal("")),
    ])
    store.flush()
    del store
    queries = [
        f"SELECT ?u ?label ?n WHERE {{ ?u <{ex}label> ?label OPTIONAL {{ ?u <{ex}tasks> ?n }} }} ORDER BY ?label",
        f"SELECT ?n WHERE {{ ?u <{ex}label> ?l OPTIONAL {{ ?u <{ex}tasks> ?n }} }} ORDER BY ?n",
        f"CONSTRUCT {{ ?u <{ex}name> ?l }} WHERE {{ ?u <{ex}label> ?l }}",
    ]
    queries += [  # rows of no variables; a triple term (RDF 1.2) in a cell
        "SELECT * WHERE { }",
        f"SELECT ?t WHERE {{ ?u <{ex}tasks> ?n BIND(<<( ?u <{ex}tasks> ?n )>> AS ?t) }}",
    ]
    local = ox.Store.read_only(str(tmp_path / "store"))
    with EmbeddedSparqlEngine(tmp_path / "store", timeout=30) as engine:
        for text in (queries[0], queries[2]):  # cut at the row limit: a SELECT, a CONSTRUCT
            cut_here, cut_there = run_query(local, text, limit=1), engine.query(text, limit=1)
            assert (cut_there.rows, cut_there.triples) == (cut_here.rows, cut_here.triples)
            assert len(cut_here) == 1 and cut_there.truncated
        for text in queries:
            here, there = run_query(local, text), engine.query(text)
            assert (there.kind, there.variables, there.truncated) == (here.kind, here.variables, here.truncated)
            if here.kind == "graph":
                assert sorted(map(str, there.triples)) == sorted(map(str, here.triples)) and len(here.triples) == 3
            else:
                assert there.rows == here.rows and len(here.rows) > 0
                if "OPTIONAL" in text:
                    assert any(None in row for row in here.rows)  # unbound cells travel too
