"""The graph the Bishan plan must give: RDF in a real Oxigraph store, NetworkX, SHACL, exports."""

from __future__ import annotations

import io
import json

import networkx as nx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from graph import namespaces as ns
from graph.export import export
from graph.nxgraph import build_networkx
from graph.rdf import plans_to_rdf
from graph.store import GraphStore, StoreError
from graph.validate import validate
from policykg.build import Build, build
from policykg.config import Config

PK = ns.PK
PLAN = "chongqing-bishan-2021-2025"


@pytest.fixture(scope="module")
def graph_build(tmp_path_factory, data_dir) -> Build:
    """A graph-only build (no search index) in its own folder, opened again from disk."""
    out = tmp_path_factory.mktemp("graph-build") / "build"
    config = Config(data_dir=data_dir, build_dir=out)
    build(config, with_search=False)
    return Build.open(config, auto_build=False)


def scalar(store: GraphStore, query: str) -> int:
    rows = list(store.query(query))
    return int(rows[0][0].value)


def test_counts_in_the_store(graph_build):
    store = graph_build.store
    assert scalar(store, "SELECT (COUNT(*) AS ?n) WHERE { ?c a pk:Chapter }") == 10
    assert scalar(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s a pk:Section }") == 31
    assert scalar(store, "SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }") == 74
    assert scalar(store, "SELECT (COUNT(*) AS ?n) WHERE { ?p a pk:Plan }") == 1
    assert scalar(store, "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?u pk:leads ?t . ?u rdfs:label '区司法局'@zh }") == 26


def test_the_store_survives_a_reopen(graph_build):
    # a fresh handle on the same directory, as a second process would open it
    again = GraphStore.open(graph_build.store.path)
    assert len(again) == graph_build.counts.triples > 1500
    assert scalar(again, "SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }") == 74


def test_a_missing_store_says_how_to_rebuild(tmp_path):
    with pytest.raises(StoreError, match="policykg build"):
        GraphStore.open(tmp_path / "nothing")


def test_graph_contract(bishan):
    g = plans_to_rdf([bishan])
    task22 = URIRef(ns.task_iri(PLAN, 22))
    assert (task22, RDF.type, PK.Task) in g
    assert g.value(task22, PK.number) == Literal(22)
    assert g.value(task22, PK.text).language == "zh"
    section = g.value(task22, PK.inSection)
    assert str(g.value(section, PK.label)) == "（九）"
    chapter = g.value(section, PK.inChapter)
    assert g.value(chapter, PK.number) == Literal(5)
    assert g.value(chapter, PK.inPlan) == URIRef(ns.plan_iri(PLAN))
    # the two sections printed （二十八） are two nodes
    twins = [s for s, label in g.subject_objects(PK.label) if str(label) == "（二十八）"]
    assert len(twins) == 2
    # deadlines are dates with their wording; targets keep their phrase
    task40 = URIRef(ns.task_iri(PLAN, 40))
    assert str(g.value(task40, PK.deadline)) == "2022-12-31"
    assert str(g.value(g.value(task40, PK.hasDeadline), PK.text)) == "到2022年底"
    target = g.value(URIRef(ns.task_iri(PLAN, 73)), PK.target)
    assert str(g.value(target, PK.text)) == "不少于60学时"
    # units: W3C ORG, collectives typed, aliases kept
    towns = URIRef(ns.unit_iri("chongqing-bishan", "各镇人民政府、街道办事处"))
    assert (towns, RDF.type, PK.CollectiveUnit) in g
    police = URIRef(ns.unit_iri("chongqing-bishan", "区公安分局"))
    assert Literal("区公安局", lang="zh") in set(g.objects(police, SKOS.altLabel))


def test_shacl_passes_on_the_build(graph_build):
    report = validate(graph_build.store.rdflib_graph())
    assert report.conforms, report.text


def test_shacl_fails_on_a_broken_graph(bishan):
    g = plans_to_rdf([bishan])
    task = URIRef(ns.task_iri(PLAN, 1))
    g.remove((task, PK.inChapter, None))
    g.add((task, PK.deadline, Literal("next year")))
    report = validate(g)
    assert not report.conforms and report.violations >= 2


def test_networkx_has_the_same_nodes_and_edges(bishan):
    nxg = build_networkx([bishan])
    rdf = plans_to_rdf([bishan])
    kinds = nx.get_node_attributes(nxg, "kind")
    assert sum(k == "task" for k in kinds.values()) == 74
    assert sum(k == "section" for k in kinds.values()) == 31
    assert sum(k == "unit" for k in kinds.values()) == len(bishan.units)
    rels = {d["rel"] for _, _, d in nxg.edges(data=True)}
    assert rels == {"leads", "responsible_for", "participates_in", "deadline", "in_section", "in_chapter", "in_plan"}
    for rel, pred in (("leads", PK.leads), ("responsible_for", PK.responsibleFor),
                      ("participates_in", PK.participatesIn)):
        nx_edges = {(u, v) for u, v, d in nxg.edges(data=True) if d["rel"] == rel}
        rdf_edges = {(str(s), str(o)) for s, o in rdf.subject_objects(pred)}
        assert nx_edges == rdf_edges


@pytest.mark.parametrize("fmt,parse_as", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_rdf_exports_parse_back(graph_build, fmt, parse_as):
    data = export(graph_build.store, graph_build.networkx(), fmt)
    g = Graph().parse(data=data.decode("utf-8"), format=parse_as)
    assert len(g) == graph_build.counts.triples
    if fmt == "jsonld":
        assert "@context" in json.loads(data)


def test_graphml_export_opens_in_networkx(graph_build):
    data = export(graph_build.store, graph_build.networkx(), "graphml")
    g = nx.read_graphml(io.BytesIO(data))
    assert g.number_of_nodes() == graph_build.networkx().number_of_nodes()
