"""Canned queries limited to some plans (``#@plan`` markers, ``--plan``, ``?plan=``).

The specification: a canned query limited to one plan of a corpus answers exactly what it answers
on a build of that plan alone; limited to every plan, what it answers unlimited.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from threading import Thread
from typing import Any

import pyoxigraph as ox
import pytest

from graph.namespaces import plan_iri
from policykg.build import Build, build
from policykg.config import Config
from sparql.engine import EmbeddedSparqlEngine
from sparql.queries import QueryFileError, QueryScopeError, list_queries, memory_form, parse_query_file
from tests.conftest import ROOT, copy_data
from tests.test_many_plans import BISHAN, YONGCHUAN, yongchuan_text

HEADER = "# title_zh: 测试\n# title_en: Test\n# description_zh: 测试\n# description_en: Test\n"


def canned(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "q.rq"
    path.write_text(HEADER + body, encoding="utf-8")
    return parse_query_file(path)


def test_markers_become_values_inside_every_group(tmp_path: Path) -> None:
    q = canned(tmp_path, """SELECT ?ch ?n WHERE {
  #@plan ?ch pk:inPlan ?plan .
  { SELECT ?ch (COUNT(?t) AS ?n) WHERE {
      #@plan ?t pk:inPlan ?plan .
      ?t pk:inChapter ?ch } GROUP BY ?ch }
}""")
    assert q.scopable and q.for_plans([]) == q.text
    text = q.for_plans(["a-2021-2025", "b-2021-2025"])
    values = f"VALUES ?plan {{ <{plan_iri('a-2021-2025')}> <{plan_iri('b-2021-2025')}> }}"
    assert text.count(values) == 2 and "#@plan" not in text
    assert f"  {values} ?ch pk:inPlan ?plan ." in text.splitlines()


def test_a_query_without_markers_or_a_bad_id_is_refused(tmp_path: Path) -> None:
    plain = canned(tmp_path, "SELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(QueryScopeError, match="cannot be limited"):
        plain.for_plans(["a"])
    marked = canned(tmp_path, "SELECT * WHERE {\n  #@plan ?s pk:inPlan ?plan .\n}")
    with pytest.raises(QueryScopeError, match="not a plan id"):
        marked.for_plans(["a> } ; DROP ALL #"])


def test_a_query_may_name_another_file_as_its_limited_form(tmp_path: Path) -> None:
    """Totals that span plans cannot be limited by markers: the header ``limited:`` names the file to
    limit instead (its raw version); unlimited, the query runs as written."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "q.rq").write_text(HEADER + "SELECT ?t WHERE {\n  #@plan ?t pk:inPlan ?plan .\n}",
                                           encoding="utf-8")
    q = canned(tmp_path, "# limited: raw/q.rq\nSELECT ?n WHERE { ?n pk:unitTaskCount ?c }")
    assert q.scopable and q.for_plans([]) == q.text
    limited = q.for_plans(["a-2021-2025"])
    assert f"VALUES ?plan {{ <{plan_iri('a-2021-2025')}> }} ?t pk:inPlan ?plan ." in limited
    assert "unitTaskCount" not in limited
    with pytest.raises(QueryFileError, match=r"limited form raw/none\.rq"):
        canned(tmp_path, "# limited: raw/none.rq\nSELECT * WHERE { ?s ?p ?o }")
    limited_by_name = [c.name for c in list_queries() if c.limited]
    assert {"unit-workload", "follow-through-by-unit", "co-leading-units"} <= set(limited_by_name)


def test_a_query_may_name_its_form_for_a_store_in_memory(tmp_path: Path) -> None:
    """The header ``memory:`` names the text a store in memory runs over the whole corpus; limited to
    plans, and on disk, the query runs as written; an edited text runs as sent."""
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "q.rq").write_text("SELECT ?t WHERE { ?t pk:position ?p OPTIONAL { ?t pk:number ?n } }",
                                              encoding="utf-8")
    q = canned(tmp_path, "# memory: memory/q.rq\nSELECT ?t WHERE {\n  #@plan ?t pk:inPlan ?plan .\n  ?t pk:number ?n\n}")
    assert q.memory is not None and "OPTIONAL" in q.memory
    assert q.for_plans([]) == q.text and q.for_plans([], in_memory=True) == q.memory
    assert "OPTIONAL" not in q.for_plans(["a-2021-2025"], in_memory=True)
    assert memory_form(q.text + "\n", tmp_path) == q.memory  # as the app's editor sends it
    assert memory_form(q.text.replace("?n", "?m"), tmp_path) == q.text.replace("?n", "?m")
    with pytest.raises(QueryFileError, match=r"memory form memory/none\.rq is not a file"):
        canned(tmp_path, "# memory: memory/none.rq\nSELECT * WHERE { ?s ?p ?o }")
    (tmp_path / "memory" / "ask.rq").write_text("ASK { ?s ?p ?o }", encoding="utf-8")
    with pytest.raises(QueryFileError, match=r"is a ASK, the query a SELECT"):
        canned(tmp_path, "# memory: memory/ask.rq\nSELECT * WHERE { ?s ?p ?o }")
    assert {"judicial-and-congress-tasks", "chapter-coverage", "sections-most-tasks",
            "tasks-without-evidence-by-year"} <= {c.name for c in list_queries() if c.memory}


def test_an_engine_in_memory_runs_a_canned_querys_memory_form(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine swaps the text only when it answers from memory, and answers the same rows."""
    import sparql.engine
    from sparql.queries import get_query

    store = tmp_path / "store"
    s = ox.Store(str(store))
    s.add(ox.Quad(ox.NamedNode("https://e.org/u"), ox.NamedNode("https://e.org/p"), ox.Literal("x")))
    s.flush()
    del s
    q = get_query("chapter-coverage")
    sent: list[str] = []
    real = sparql.engine.memory_form
    monkeypatch.setattr(sparql.engine, "memory_form", lambda text: sent.append(real(text)) or sent[-1])
    with EmbeddedSparqlEngine(store) as disk:
        disk.query(q.text)
    assert sent == []
    with EmbeddedSparqlEngine(store, in_memory=True) as memory:
        memory.query(q.text)
        memory.query(q.for_plans(["a-2021-2025"]))
    assert sent == [q.memory, q.for_plans(["a-2021-2025"])]


def test_every_query_file_ships_with_the_package() -> None:
    """A non-editable install carries only what ``[tool.setuptools.package-data]`` lists: with a
    limited form left out, loading the canned queries fails on an installed policykg (a ``limited:``
    header naming a missing file is an error), and a raw version is what the tests compare with."""
    import tomllib
    from fnmatch import fnmatch

    from sparql.queries import QUERIES_DIR

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    graph_dir = QUERIES_DIR.parent
    files = [p.relative_to(graph_dir).as_posix() for p in QUERIES_DIR.rglob("*.rq")]
    assert len(files) > len(list_queries())  # the raw versions and limited forms are among them
    missing = [f for f in files if not any(fnmatch(f, g) and f.count("/") == g.count("/") for g in globs["graph"])]
    assert not missing, f"add to [tool.setuptools.package-data] graph in pyproject.toml: {missing}"


def rows(result: Any) -> Counter[Any]:
    """Rows as a multiset; a GROUP_CONCAT's parts (joined by 、) in any order, as engines differ."""
    def cell(term: Any) -> Any:
        if isinstance(term, ox.Literal) and "、" in term.value:
            return "、".join(sorted(term.value.split("、")))
        return term

    if result.kind == "graph":
        return Counter(result.triples)
    return Counter(tuple(cell(c) for c in row) for row in result.rows)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Build]:
    """Bishan + Yongchuan in one build, and Yongchuan alone in another."""
    tmp = tmp_path_factory.mktemp("scope")
    both = copy_data(tmp / "both")
    (both / "plans" / "chongqing-yongchuan-2021-2025-draft.txt").write_text(yongchuan_text(), encoding="utf-8")
    alone = copy_data(tmp / "alone")
    for f in (alone / "plans").iterdir():
        f.unlink()
    (alone / "plans" / "chongqing-yongchuan-2021-2025-draft.txt").write_text(yongchuan_text(), encoding="utf-8")
    out = []
    for data in (both, alone):
        config = Config(data_dir=data, build_dir=data / "build")
        build(config, with_search=False)
        out.append(Build.open(config, auto_build=False))
    return out[0], out[1]


# Queries over alignments need a parent plan in the build; tests/test_align.py checks their scoping.
SCOPABLE = [q for q in list_queries() if q.scopable and "alignment" not in q.requires]


def test_most_canned_queries_can_be_limited_to_a_plan() -> None:
    assert len(SCOPABLE) >= 15, [q.name for q in list_queries() if not q.scopable]


@pytest.mark.parametrize("query", SCOPABLE, ids=lambda q: q.name)
def test_limited_to_one_plan_a_query_answers_as_on_that_plan_alone(query: Any, corpus: tuple[Build, Build]) -> None:
    both, alone = corpus
    with EmbeddedSparqlEngine(both.store.path, timeout=60, limit=10**6) as e_both, \
            EmbeddedSparqlEngine(alone.store.path, timeout=60, limit=10**6) as e_alone:
        scoped = e_both.query(query.for_plans([YONGCHUAN]))
        single = e_alone.query(query.text)
        assert len(single) > 0, f"{query.name}: no rows on the plan alone, nothing compared"
        assert rows(scoped) == rows(single)
        everything = e_both.query(query.for_plans([BISHAN, YONGCHUAN]))
        assert rows(everything) == rows(e_both.query(query.text))


def test_cli_and_endpoint_take_a_plan(corpus: tuple[Build, Build]) -> None:
    both, _ = corpus
    query = SCOPABLE[0]
    cmd = [sys.executable, "-m", "policykg.cli", "sparql", query.name, "--data", str(both.config.data_dir),
           "--format", "json"]
    out = subprocess.run([*cmd, "--plan", YONGCHUAN], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    n_scoped = len(json.loads(out.stdout).get("results", {}).get("bindings", []))
    bad = subprocess.run([*cmd, "--plan", "chongqing-yongchuan"], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert bad.returncode == 2 and "no plan 'chongqing-yongchuan'" in bad.stderr
    assert "did you mean chongqing-yongchuan-2021-2025" in bad.stderr

    from policykg.server import make_server

    server = make_server(both, "127.0.0.1", 0, timeout=30)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"{server.url}/queries/{query.name}?plan={YONGCHUAN}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert len(json.load(resp)["results"]["bindings"]) == n_scoped
        with urllib.request.urlopen(f"{server.url}/queries/{query.name}.rq?plan={YONGCHUAN}", timeout=30) as resp:
            assert f"VALUES ?plan {{ <{plan_iri(YONGCHUAN)}> }}" in resp.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{server.url}/queries/{query.name}?plan=nowhere-2020-2024", timeout=30)
        assert err.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_a_marker_inside_a_line_is_an_error_not_a_silent_comment(tmp_path: Path) -> None:
    from sparql.queries import QueryFileError

    with pytest.raises(QueryFileError, match="must start its own line"):
        canned(tmp_path, "SELECT * WHERE { #@plan ?s pk:inPlan ?plan .\n  ?s ?p ?o }")
