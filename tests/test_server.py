"""The SPARQL endpoint over the Bishan build: a real HTTP server on 127.0.0.1, real clients
(SPARQLWrapper and plain urllib), real worker processes.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from policykg.server import SparqlServer, make_server
from sparql.engine import EmbeddedSparqlEngine
from sparql.errors import QueryRefused
from sparql.protocol import SparqlEngine
from sparql.queries import list_queries
from sparql.remote import RemoteSparqlEngine, RemoteStore
from sparql.search import scorer_for_build

pytestmark = pytest.mark.slow

TIME_LIMIT = 2.0
MAX_QUERY = 100_000
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def server(built: Any) -> Iterator[SparqlServer]:
    srv = make_server(
        built, "127.0.0.1", 0, timeout=TIME_LIMIT, limit=500, workers=2, max_query_bytes=MAX_QUERY
    )
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def library(built: Any) -> Iterator[EmbeddedSparqlEngine]:
    with EmbeddedSparqlEngine(built.store.path, limit=500, scorer=scorer_for_build(built)) as e:
        yield e


def http(
    server: SparqlServer,
    path: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> tuple[int, Message, bytes]:
    req = urllib.request.Request(server.url + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get(server: SparqlServer, query: str, **params: str) -> tuple[int, Message, bytes]:
    headers = {"Accept": params.pop("accept")} if "accept" in params else {}
    if "origin" in params:
        headers["Origin"] = params.pop("origin")
    qs = urllib.parse.urlencode({"query": query, **params})
    return http(server, f"/sparql?{qs}", headers=headers)


def json_rows(body: bytes) -> list[dict[str, Any]]:
    doc = json.loads(body)
    return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]


def library_rows(library: EmbeddedSparqlEngine, text: str) -> list[dict[str, Any]]:
    r = library.query(text)
    return [{v: c.value for v, c in zip(r.variables, row, strict=True) if c is not None} for row in r.rows]


# --- every canned query: same answer through the endpoint as through the library ----------------------


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_canned_query_same_through_endpoint_and_library(
    name: str, server: SparqlServer, library: EmbeddedSparqlEngine
) -> None:
    q = next(q for q in list_queries() if q.name == name)
    if q.form in ("CONSTRUCT", "DESCRIBE"):
        status, headers, body = http(server, f"/queries/{name}")
        assert status == 200 and headers["Content-Type"].startswith("text/turtle")
        ours = {t for t in library.query(q.text).triples}
        theirs = {x.triple for x in ox.parse(body, format=ox.RdfFormat.TURTLE)}
        assert theirs == ours and ours
        return
    expected = library_rows(library, q.text)
    # /queries/NAME (GET) ...
    status, headers, body = http(server, f"/queries/{name}")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/sparql-results+json")
    assert json_rows(body) == expected
    # ... and the query text POSTed by a standard client
    client = SPARQLWrapper(server.url + "/sparql")
    client.setMethod("POST")
    client.setQuery(q.body)  # SPARQLWrapper sniffs the form from comments too ("workload" -> LOAD)
    client.setReturnFormat(JSON)
    doc = client.query().convert()
    assert [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]] == expected  # type: ignore[index]


def test_sparqlwrapper_get_xml_csv_and_turtle(server: SparqlServer, library: EmbeddedSparqlEngine) -> None:
    text = "SELECT ?unit ?label WHERE { ?unit pk:leads ?t ; rdfs:label ?label } GROUP BY ?unit ?label ORDER BY ?label"
    expected = library_rows(library, text)
    client = SPARQLWrapper(server.url + "/sparql")
    client.setQuery(text)
    client.setReturnFormat(XML)
    xml = client.query().convert()
    labels = [n.firstChild.data for n in xml.getElementsByTagName("literal")]  # type: ignore[union-attr]
    assert labels == [r["label"] for r in expected]
    client.setReturnFormat(CSV)
    data = client.query().convert()
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))  # type: ignore[union-attr]
    assert [dict(r) for r in table] == expected
    client.setQuery("CONSTRUCT { ?u pk:leads ?t } WHERE { ?u pk:leads ?t }")
    client.setReturnFormat(TURTLE)
    g = Graph()
    g.parse(data=client.query().convert(), format="turtle")  # type: ignore[arg-type]
    assert len(g) == len(library.query("SELECT * WHERE { ?u pk:leads ?t }"))


@pytest.mark.parametrize(
    "accept,fmt,ctype",
    [
        ("text/csv", None, "text/csv"),
        ("text/tab-separated-values", None, "text/tab-separated-values"),
        ("application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", None, "application/sparql-results+json"),
        ("text/csv;q=0.5, application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("text/csv", "tsv", "text/tab-separated-values"),
        (None, "table", "text/plain"),
    ],
)
def test_content_negotiation(server: SparqlServer, accept: str | None, fmt: str | None, ctype: str) -> None:
    params = {"accept": accept} if accept else {}
    if fmt:
        params["format"] = fmt
    # a browser page on another origin (YASGUI, a notebook) sends Origin and must be let in
    status, headers, body = get(server, "SELECT ?t WHERE { ?t a pk:Task } ORDER BY ?t LIMIT 3",
                                origin="http://example.org", **params)
    assert status == 200 and headers["Content-Type"].startswith(ctype)
    assert body.count(b"/task/") == 3
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "X-PolicyKG-Rows" in headers["Access-Control-Expose-Headers"]


def test_graph_results_negotiate_rdf_formats(server: SparqlServer) -> None:
    q = "CONSTRUCT { ?u pk:leads ?t } WHERE { ?u pk:leads ?t ; rdfs:label '区司法局'@zh }"
    status, headers, ttl = get(server, q)
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    status, headers, nt = get(server, q, accept="application/n-triples")
    assert headers["Content-Type"].startswith("application/n-triples")
    a = {x.triple for x in ox.parse(ttl, format=ox.RdfFormat.TURTLE)}
    b = {x.triple for x in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)}
    assert a == b and len(a) > 10
    status, _, body = get(server, q, format="csv")
    assert status == 406 and b"CONSTRUCT" in body


def test_cors_preflight(server: SparqlServer) -> None:
    status, headers, _ = http(
        server,
        "/sparql",
        method="OPTIONS",
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]


# --- read-only and limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how,payload,ctype",
    [
        ("form-update", "update=" + urllib.parse.quote("INSERT DATA { <urn:a> <urn:b> <urn:c> }"), None),
        ("update-body", "DELETE WHERE { ?s ?p ?o }", "application/sparql-update"),
        ("query-insert", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-query"),
        ("load", "LOAD <http://example.org/x.ttl>", "application/sparql-query"),
        (
            "service",
            "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
            "application/sparql-query",
        ),
        ("file", "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "application/sparql-query"),
    ],
)
def test_writes_and_outside_access_are_refused(
    server: SparqlServer, library: EmbeddedSparqlEngine, how: str, payload: str, ctype: str | None
) -> None:
    before = len(library.query("SELECT * WHERE { ?s ?p ?o }", limit=100_000))
    status, headers, body = http(
        server,
        "/sparql",
        data=payload.encode("utf-8"),
        headers={"Content-Type": ctype or "application/x-www-form-urlencoded"},
    )
    assert 400 <= status < 500, (how, status)
    assert headers["Content-Type"].startswith("text/plain")
    assert body.count(b"\n") == 1 and b"Traceback" not in body
    assert len(library.query("SELECT * WHERE { ?s ?p ?o }", limit=100_000)) == before
    status, _, _ = http(server, "/sparql?" + urllib.parse.urlencode({"update": "CLEAR ALL"}))
    assert status == 403


def test_runaway_query_is_stopped_while_others_are_answered(server: SparqlServer) -> None:
    slow: dict[str, Any] = {}

    def run_slow() -> None:
        t0 = time.perf_counter()
        slow["status"], _, slow["body"] = get(server, RUNAWAY)
        slow["seconds"] = time.perf_counter() - t0

    th = threading.Thread(target=run_slow)
    th.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    status, _, body = get(server, "SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }")
    fast = time.perf_counter() - t0
    th.join(30)
    assert status == 200 and json_rows(body) == [{"n": "74"}]
    assert fast < TIME_LIMIT, "the second query waited for the runaway one"
    assert slow["status"] == 503 and b"time limit" in slow["body"]
    assert TIME_LIMIT <= slow["seconds"] < TIME_LIMIT + 5
    # the killed worker was replaced: the endpoint still answers
    assert get(server, "ASK { ?t a pk:Task }")[0] == 200


def test_result_cap_is_reported(server: SparqlServer) -> None:
    status, headers, body = get(server, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200 and headers["X-PolicyKG-Truncated"] == "500"
    doc = json.loads(body)
    assert len(doc["results"]["bindings"]) == 500 and doc["policykg"]["truncated"] is True


def test_oversized_and_malformed_requests(server: SparqlServer) -> None:
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (MAX_QUERY + 10)
    status, _, body = http(
        server, "/sparql", data=big.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert status == 413 and b"limit" in body
    huge = b"query=" + b"x" * (MAX_QUERY * 3 + 10_000)
    status, _, _ = http(
        server, "/sparql", data=huge, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 413
    cases = [
        (b"query=%FF%FE", "application/x-www-form-urlencoded", 400),
        (b"\xff\xfe\x00", "application/sparql-query", 400),
        (b"SELECT ?x WHERE { ?x pk:text }", "application/sparql-query", 400),
        (b"SELECT * WHERE { ?x nope:p ?y }", "application/sparql-query", 400),
        (b"query=SELECT+*+WHERE+{}", "text/plain", 415),
        (b"nothing=1", "application/x-www-form-urlencoded", 400),
    ]
    for data, ctype, expected in cases:
        status, _, body = http(server, "/sparql", data=data, headers={"Content-Type": ctype})
        assert status == expected, (data, body)
        assert body.strip() and b"\n" not in body.strip() and b"Traceback" not in body
    assert (
        b"unknown prefix nope:"
        in http(server, "/sparql", data=cases[3][0], headers={"Content-Type": "application/sparql-query"})[2]
    )
    assert get(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", format="yaml")[0] == 400
    assert http(server, "/sparql")[0] == 400
    assert http(server, "/nowhere")[0] == 404


def test_index_and_canned_query_listing(server: SparqlServer) -> None:
    status, headers, body = http(server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode("utf-8")
    for q in list_queries():
        assert f"/queries/{q.name}" in page and q.title_zh in page
    status, _, body = http(server, "/", headers={"Accept": "application/json"})
    doc = json.loads(body)
    assert [q["name"] for q in doc["queries"]] == [q.name for q in list_queries()]
    assert doc["timeout_seconds"] == TIME_LIMIT
    status, headers, body = http(server, "/queries/unit-workload.rq")
    assert status == 200 and body.decode("utf-8") == next(
        q.text for q in list_queries() if q.name == "unit-workload"
    )
    assert http(server, "/queries/no-such")[0] == 404


def test_deeply_nested_query_answers_400_and_the_workers_keep_answering(server: SparqlServer) -> None:
    """5,000 nested groups (or sub-SELECTs) overflow Oxigraph's parser stack: refused up front, no worker dies."""
    pids = sorted(w.proc.pid for w in server.engine._pool._workers)  # type: ignore[attr-defined]
    groups = "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000
    subselects = "SELECT * WHERE { " + "{ SELECT * WHERE " * 3000 + "{ ?s ?p ?o }" + " }" * 3000 + " }"
    for query in (groups, subselects):
        status, headers, body = http(server, "/sparql", data=query.encode(),
                                     headers={"Content-Type": "application/sparql-query"})
        assert status == 400 and headers["Content-Type"].startswith("text/plain")
        assert b"levels deep" in body and body.count(b"\n") == 1
    assert get(server, "ASK { ?t a pk:Task }")[0] == 200
    assert sorted(w.proc.pid for w in server.engine._pool._workers) == pids  # type: ignore[attr-defined]


def test_head_answers_headers_only(server: SparqlServer) -> None:
    qs = urllib.parse.urlencode({"query": "SELECT ?t WHERE { ?t a pk:Task } LIMIT 2"})
    status, headers, body = http(server, f"/sparql?{qs}", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    assert headers["X-PolicyKG-Rows"] == "2" and headers["Server"] == "policykg-sparql"


def test_remote_engine_over_the_endpoint_answers_like_the_embedded_one(
    server: SparqlServer, library: EmbeddedSparqlEngine
) -> None:
    """The SparqlEngine protocol: the remote engine, pointed at this endpoint over HTTP, is a drop-in."""
    remote = RemoteSparqlEngine(RemoteStore(server.url + "/sparql", "urn:policykg:test"), limit=500)
    assert isinstance(remote, SparqlEngine) and isinstance(library, SparqlEngine)
    with remote:
        remote.warm_up()
        for q in list_queries():
            if "search" in q.requires:
                continue
            ours, theirs = library.query(q.text), remote.query(q.text)
            assert theirs.kind == ours.kind, q.name
            if ours.kind == "graph":
                assert set(theirs.triples) == set(ours.triples), q.name
            else:
                assert (theirs.variables, theirs.rows) == (ours.variables, ours.rows), q.name
        with pytest.raises(QueryRefused):
            remote.query("DROP ALL")


def raw(server: SparqlServer, request: bytes) -> bytes:
    """Send bytes as they are (urllib always adds Content-Length) and read the whole reply."""
    host, port = server.server_address
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(request)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def test_bodies_without_a_length_are_411_and_close_the_connection(server: SparqlServer) -> None:
    head = b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
    chunked = raw(server, head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nASK {\r\n1\r\n}\r\n0\r\n\r\n")
    no_length = raw(server, head + b"Connection: keep-alive\r\n\r\n")
    for reply in (chunked, no_length):
        status, _, rest = reply.partition(b"\r\n")
        assert status == b"HTTP/1.1 411 Length Required", reply
        assert b"connection: close" in rest.lower() and b"Content-Length" in rest.split(b"\r\n\r\n")[1]
