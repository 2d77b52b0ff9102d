"""The graph on a real OpenLink Virtuoso (Debian ``virtuoso-opensource``) gives the embedded store's answers.

The test starts its own ``virtuoso-t`` on 127.0.0.1 (free ports, a temporary database folder, a
minimal ``virtuoso.ini``), grants SPARQL Update to the anonymous ``SPARQL`` user through ``isql``,
builds the Bishan plan into it with ``--store``-style configuration and runs every canned query
on both engines. Skipped only when the Virtuoso binaries are not installed (``scripts/setup.sh``
installs them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from bench.virtuoso import virtuoso_ini
from graph.namespaces import XSD
from policykg.build import Build, build
from policykg.config import Config
from sparql.engine import EmbeddedSparqlEngine
from sparql.queries import list_queries
from sparql.remote import RemoteSparqlEngine, RemoteStore, inline_search
from sparql.search import scorer_for_build
from tests.conftest import copy_data, free_port, serving

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt") or shutil.which("isql")
VSP = Path("/var/lib/virtuoso-opensource-7/vsp")

pytestmark = [
    pytest.mark.skipif(VIRTUOSO is None or ISQL is None,
                       reason="virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource)"),
    pytest.mark.slow,
]



@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Virtuoso; yields its SPARQL endpoint URL (with update rights for SPARQL)."""
    d = tmp_path_factory.mktemp("virtuoso")
    sql, http = free_port(), free_port()
    (d / "virtuoso.ini").write_text(virtuoso_ini(d, sql, http, buffers=20000, dirty=15000, max_seconds=120,
                                                root=VSP if VSP.is_dir() else d))
    url = f"http://127.0.0.1:{http}/sparql"
    cmd = [VIRTUOSO, "+foreground", "+configfile", str(d / "virtuoso.ini")]
    with serving(cmd, probe=f"{url}?query=ASK%7B%7D", log=d / "stdout.log", what="virtuoso-t",  # type: ignore[list-item]
                 seconds=120, grace=30, cwd=d):
        grant = 'GRANT SPARQL_UPDATE TO "SPARQL"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET (\'nobody\', 7);'
        out = subprocess.run([ISQL, f"127.0.0.1:{sql}", "dba", "dba", f"exec={grant}"],  # type: ignore[list-item]
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        yield url


@pytest.fixture(scope="module")
def remote_build(virtuoso: str, tmp_path_factory: pytest.TempPathFactory) -> Build:
    # with the annual reports and their links (which need the search embedder), as the session's `built`
    data = copy_data(tmp_path_factory.mktemp("vdata"), reports=True)
    config = Config(data_dir=data, build_dir=data / "build", store_url=virtuoso)
    build(config)
    return Build.open(config, auto_build=False)


_NUMERIC = {str(XSD[t]) for t in ("integer", "int", "long", "decimal", "double", "float", "short", "nonNegativeInteger")}
_STRING = str(XSD.string)


def norm(term: Any) -> Any:
    """One form per value: engines differ in numeric datatypes (COUNT as xsd:int), lexical forms
    (1.0E1 vs 10) and whether a plain string carries xsd:string; the values must agree."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if isinstance(term, ox.Triple):
        return tuple(norm(x) for x in (term.subject, term.predicate, term.object))
    assert isinstance(term, ox.Literal)
    if term.language:
        return ("lit", term.value, term.language.lower())
    dt = term.datatype.value
    if dt in _NUMERIC:
        return ("num", round(float(Decimal(term.value)), 6))
    if dt == _STRING:
        if "、" in term.value:  # GROUP_CONCAT: the order of the parts is up to the engine
            return ("lit", "、".join(sorted(term.value.split("、"))))
        return ("lit", term.value)
    return ("typed", term.value, dt)


def rows_of(result: Any) -> Counter[Any]:
    if result.kind == "graph":
        return Counter(norm(t) for t in result.triples)
    if result.kind == "ask":
        return Counter([result.boolean])
    return Counter(tuple(norm(c) for c in row) for row in result.rows)


def test_the_build_lands_in_its_own_named_graph(remote_build: Build, virtuoso: str) -> None:
    spec = remote_build.manifest.store
    assert spec.kind == "sparql" and spec.url == virtuoso
    assert spec.graph.startswith("https://w3id.org/policykg/graph/")
    store = remote_build.store
    assert isinstance(store, RemoteStore)
    assert len(store) == remote_build.counts.triples > 1500
    # the count is of this build's graph only: another graph does not leak into it
    other = RemoteStore(virtuoso, spec.graph + "-other")
    other.insert([b"<urn:x> <urn:y> <urn:z> ."])
    try:
        assert len(store) == remote_build.counts.triples
        assert len(other) == 1
    finally:
        other.drop()


def test_canned_queries_give_the_same_rows_on_virtuoso_and_oxigraph(remote_build: Build, built: Build) -> None:
    scorer = scorer_for_build(built)
    local = EmbeddedSparqlEngine(built.store.path, timeout=60, limit=100_000, scorer=scorer)
    remote = RemoteSparqlEngine(remote_build.store, timeout=60, limit=100_000, scorer=scorer)  # type: ignore[arg-type]
    assert built.counts.triples == remote_build.counts.triples
    try:
        for q in list_queries():
            ours = local.query(q.text)
            theirs = remote.query(q.text)
            assert ours.kind == theirs.kind, q.name
            # a query that needs an alignment answers nothing on the Bishan build (it has no parent
            # plan; test_align checks its rows) but must still compile and agree on Virtuoso
            assert len(ours) > 0 or "alignment" in q.requires, f"{q.name}: no rows on the embedded store"
            assert rows_of(ours) == rows_of(theirs), f"{q.name} differs on Virtuoso"
    finally:
        local.close()


def test_search_in_sparql_is_inlined_for_a_remote_store(built: Build) -> None:
    q = 'SELECT ?t ?s WHERE { ?t a pk:Task . BIND(pk:searchScore(?t, "数据共享", 5) AS ?s) }'
    text = inline_search(q, scorer_for_build(built))
    assert "searchScore" not in text and text.count("xsd:double") == 5
    with pytest.raises(Exception, match="BIND"):
        inline_search('SELECT ?t WHERE { ?t a pk:Task FILTER(pk:searchScore(?t, "x") > 0) }', scorer_for_build(built))


def test_an_incremental_build_patches_a_copy_of_the_graph(remote_build: Build, virtuoso: str,
                                                          tmp_path: Path) -> None:
    config = remote_build.config
    plan = next(config.plans.glob("*.txt"))
    second = config.plans / "chongqing-yongchuan-draft.txt"
    second.write_text(plan.read_text(encoding="utf-8").replace("璧山", "永川"), encoding="utf-8")
    try:
        info = build(config, with_search=False)
        inc = info.manifest.incremental
        assert inc.mode == "incremental" and inc.added == ["chongqing-yongchuan-2021-2025"]
        new = Build.open(config, auto_build=False)
        assert new.manifest.store.graph != remote_build.manifest.store.graph
        assert len(new.store) == info.triples > remote_build.counts.triples
        # the same triples as embedded Oxigraph gives for the two plans
        local = Config(data_dir=config.data_dir, build_dir=tmp_path / "local", store_url=None)
        build(local, with_search=False)
        ours = {norm(q.triple) for q in Build.open(local, auto_build=False).store.ox}
        theirs = {norm(t) for t in new.store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                                   limit=10**9).triples}
        assert ours == theirs
        print(json.dumps(inc.seconds))
    finally:
        second.unlink()


def test_the_endpoint_over_a_store_build_answers_from_the_server(remote_build: Build, built: Build) -> None:
    """`policykg serve` on a --store build: no embedded store exists, the server's graph answers."""
    from threading import Thread

    from policykg.server import make_server

    assert not (remote_build.path / "store").exists()
    server = make_server(remote_build, "127.0.0.1", 0, timeout=30, scorer=scorer_for_build(built))
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert isinstance(server.engine, RemoteSparqlEngine)
        body = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).encode()
        req = urllib.request.Request(f"{server.url}/sparql", data=body,
                                     headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.load(resp)
        assert int(data["results"]["bindings"][0]["n"]["value"]) == remote_build.counts.triples
        with urllib.request.urlopen(f"{server.url}/queries/units-by-type?format=json", timeout=30) as resp:
            rows = json.load(resp)["results"]["bindings"]
        assert len(rows) == 6
    finally:
        server.shutdown()
        server.server_close()


def test_the_remote_store_writer_patches_a_copy_and_discards_on_failure(virtuoso: str, tmp_path: Path) -> None:
    """The same contract as the local writer (tests/test_stores.py), on a named graph per build."""
    from policykg.stores import RemoteStoreWriter

    config = Config(data_dir=tmp_path, store_url=virtuoso)
    a = b"<urn:pk:a> <urn:pk:p> <urn:pk:b> .\n"
    c = b"<urn:pk:c> <urn:pk:p> <urn:pk:a> .\n"
    first, second = RemoteStoreWriter(config, "writer-1"), RemoteStoreWriter(config, "writer-2")
    try:
        assert first.write_all([a, b"<urn:pk:b> <urn:pk:p> <urn:pk:c> .\n"]) == 2
        assert second.can_update(first.spec, tmp_path)
        removed = next(iter(ox.parse(a, format=ox.RdfFormat.N_TRIPLES)))
        assert second.write_update(first.spec, tmp_path, [removed], [c]) == 2
        assert len(first.remote) == 2  # the previous build's graph is untouched
        second.discard()
        assert len(second.remote) == 0
    finally:
        first.discard()
        second.discard()
