"""Serving SPARQL from a copy of the store in memory (``policykg serve --in-memory``): the same
answers as the store on disk, from real worker processes and a real HTTP endpoint on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from policykg.config import Config
from sparql.engine import EmbeddedSparqlEngine
from sparql.errors import EngineBusy, EngineError, QueryTimeout
from sparql.queries import list_queries
from sparql.run import open_store
from sparql.search import scorer_for_build
from sparql.workers import QueryPool

# the fixture's quads are in named graphs: a cross product of three of them never finishes
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } }"


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 quads: a copy long enough to be caught loading, and a runaway that cannot finish."""
    path = tmp_path_factory.mktemp("memory") / "store"
    store = ox.Store(str(path))
    store.bulk_load(
        "".join(f"<urn:x:{i}> <urn:p> \"{i}\" <urn:g:{i % 7}> .\n" for i in range(200_000)).encode(),
        format=ox.RdfFormat.N_QUADS,
    )
    store.flush()
    del store
    return path


def test_the_copy_holds_every_quad_of_the_store_and_reports_progress(big_store: Path) -> None:
    seen: list[int] = []
    memory = open_store(big_store, in_memory=True, progress=seen.append, every=50_000)
    disk = open_store(big_store)
    assert seen == [50_000, 100_000, 150_000, 200_000]
    assert len(memory) == len(disk) == 200_000
    assert set(memory) == set(disk)


def test_a_missing_store_is_named_with_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"cannot open the store at .*nowhere.*policykg build"):
        open_store(tmp_path / "nowhere", in_memory=True)


def sorted_rows(result: Any, concat: bool) -> list[str]:
    """The answer as sorted lines: two stores may list the rows of an unordered query differently,
    and the items of a GROUP_CONCAT (``concat``) in any order (SPARQL leaves it open)."""
    if result.kind != "select":
        return sorted(result.serialize("ntriples").decode("utf-8").splitlines())

    def cell(value: Any) -> str:
        text = str(value)
        return "、".join(sorted(" ".join(sorted(text.split(" "))).split("、"))) if concat else text

    return sorted("\t".join(cell(v) for v in record.values()) for record in result.records())


def test_every_canned_query_answers_the_same_from_memory(built: Any) -> None:
    scorer = scorer_for_build(built)
    with EmbeddedSparqlEngine(built.store.path, timeout=60, limit=10**6, scorer=scorer) as disk, \
            EmbeddedSparqlEngine(built.store.path, timeout=60, limit=10**6, scorer=scorer, in_memory=True) as memory:
        memory.warm_up()
        answered = 0
        for cq in list_queries():
            a, b = disk.query(cq.text), memory.query(cq.text)
            concat = "GROUP_CONCAT" in cq.text
            assert sorted_rows(b, concat) == sorted_rows(a, concat), cq.name
            answered += bool(a.rows or a.triples)
        assert answered >= 15  # the Bishan build answers most canned queries with rows


def test_a_query_while_the_worker_copies_is_told_busy_then_answered(big_store: Path) -> None:
    pool = QueryPool(big_store, 1, in_memory=True)
    try:
        with pytest.raises(EngineBusy, match="copying the store into memory"):
            pool.run("ASK { ?s ?p ?o }", timeout=0.05, limit=10)
        pool.warm_up()  # waits for the copy
        assert pool.run("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", timeout=30,
                        limit=10).records() == [{"n": 200_000}]
    finally:
        pool.close()


def test_a_runaway_kills_its_memory_worker_and_the_next_query_waits_for_the_new_copy(big_store: Path) -> None:
    with EmbeddedSparqlEngine(big_store, timeout=1.0, workers=1, in_memory=True) as e:
        e.warm_up()
        with pytest.raises(QueryTimeout):
            e.query(RUNAWAY)
        deadline = time.monotonic() + 120
        while True:  # the replacement copies the store again; until then queries are told "busy"
            try:
                assert e.query("ASK { GRAPH ?g { <urn:x:5> ?p \"5\" } }", timeout=5).boolean is True
                break
            except EngineBusy:
                assert time.monotonic() < deadline


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYKG_SPARQL_IN_MEMORY", "1")
    assert Config().sparql_in_memory is True
    monkeypatch.setenv("POLICYKG_SPARQL_IN_MEMORY", "")
    assert Config().sparql_in_memory is False


def test_policykg_serve_in_memory_says_what_it_does_and_answers(built: Any) -> None:
    """The command an analyst runs: it says it is copying, then serves /sparql and the canned queries
    from memory."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "POLICYKG_DATA": str(built.config.data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("POLICYKG_BUILD", None)
    proc = subprocess.Popen([sys.executable, "-m", "policykg.cli", "serve", "--in-memory", "--workers", "1",
                             "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        lines = []
        while not any("endpoint on" in line for line in lines):
            line = proc.stderr.readline()
            assert line, f"serve exited {proc.poll()}:\n{''.join(lines)}"
            lines.append(line)
        said = "".join(lines)
        assert f"copying the graph into memory ({built.manifest.counts.triples:,} triples)" in said
        assert "the graph is in memory" in said and "1 workers, in memory" in said
        qs = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }"})
        req = urllib.request.Request(f"http://127.0.0.1:{port}/sparql?{qs}",
                                     headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            n = int(json.load(r)["results"]["bindings"][0]["n"]["value"])
        assert n == built.manifest.counts.tasks > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/queries/units-by-type?format=json", timeout=60) as r:
            assert len(json.load(r)["results"]["bindings"]) == 6
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_app_does_not_keep_a_busy_answer(big_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app caches answers and errors per query; "busy" is neither, and asked again it is answered."""
    from policykg.app_pages import common

    engine = EmbeddedSparqlEngine(big_store, timeout=0.05, workers=1, in_memory=True)
    monkeypatch.setattr(common, "sparql_engine", lambda key: engine)
    key, text = (str(big_store), "busy-test", "busy-test"), "ASK { GRAPH ?g { <urn:x:7> ?p ?o } }"
    try:
        first = common.run_sparql(key, text)
        assert first["kind"] == "EngineBusy" and "copying the store into memory" in first["error"]
        engine.warm_up()
        engine.timeout = 30
        again = common.run_sparql(key, text)
        assert again["kind"] == "ask" and "error" not in again
    finally:
        engine.close()
