"""Reports, statements and evidence links → RDF (issue #15).

A report is a ``pk:Report`` (a ``prov:Entity``) attributed to its government with
``prov:wasAttributedTo`` and ``pk:reportsOn`` the plans it was linked to. Its statements are
``pk:Statement`` nodes with their text, heading, line, kind, the units they name (``pk:mentions``)
and their figures (``pk:figure``). Each evidence link is a link node::

    ?statement pk:evidences ?task .                               # shortcut
    ?link a pk:EvidenceLink ; pk:linkFrom ?statement ; pk:linkTo ?task ;
          pk:score 0.78 ; pk:rank 1 ; pk:reason "语义相似0.71；共同词：…"@zh .

Links are taken as given (``analysis.evidence`` makes them); this module only describes them, so
the graph layer does not depend on the analysis layer. ``links`` are anything with the attributes
of ``analysis.evidence.EvidenceLink`` used here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Protocol

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from ingest.parser import make_plan_id
from ingest.records import Plan
from ingest.report_records import Report

from . import namespaces as ns
from .namespaces import PK
from .rdf import new_graph, string, zh


class LinkLike(Protocol):
    report: str
    statement: int
    plan: str
    position: int
    score: float
    rank: int
    reason: str


def report_gov_id(report: Report) -> str:
    """The same government id as ``graph.rdf.gov_id`` gives the plans of that issuer."""
    return make_plan_id(report.issuer, None, None, report.id) if report.issuer else report.id


def _integer(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)


def add_report(g: Graph, report: Report, plan_ids: Iterable[str] = (), units: Collection[str] = ()) -> None:
    """Describe one report and its statements.

    ``units``: the names of the units of the plans it reports on. A statement's ``pk:mentions``
    points only at them: the graph describes units through plans, and a report must not add
    units of its own (a report whose government has no plan in the build adds none).
    """
    r = URIRef(ns.report_iri(report.id))
    gov_key = report_gov_id(report)
    gov = URIRef(ns.government_iri(gov_key))
    g.add((r, RDF.type, PK.Report))
    g.add((r, DCTERMS.title, zh(report.title or report.source)))
    g.add((r, RDFS.label, zh(report.title or report.source)))
    g.add((r, DCTERMS.identifier, string(report.id)))
    g.add((r, DCTERMS.source, string(report.source)))
    if report.sha256:
        g.add((r, PK.sha256, string(report.sha256)))
    if report.year is not None:
        g.add((r, PK.reportYear, _integer(report.year)))
    g.add((r, PROV.wasAttributedTo, gov))
    g.add((gov, RDF.type, PK.Government))
    g.add((gov, RDFS.label, zh(report.issuer or report.id)))
    for plan_id in plan_ids:
        g.add((r, PK.reportsOn, URIRef(ns.plan_iri(plan_id))))
    for s in report.statements:
        su = URIRef(ns.statement_iri(report.id, s.position))
        g.add((su, RDF.type, PK.Statement))
        g.add((su, PK.inReport, r))
        g.add((su, PK.position, _integer(s.position)))
        g.add((su, PK.line, _integer(s.line)))
        g.add((su, PK.text, zh(s.text)))
        g.add((su, RDFS.label, zh(f"{report.year or ''}年报告第{s.position}条")))
        if s.label:
            g.add((su, PK.label, string(s.label)))
        if s.heading:
            g.add((su, PK.heading, zh(s.heading)))
        g.add((su, PK.statementKind, string(s.kind)))
        if report.year is not None:
            g.add((su, PK.reportYear, _integer(report.year)))
        for name in s.units:
            if name in units:  # a unit of the plans reported on; the record keeps every name
                g.add((su, PK.mentions, URIRef(ns.unit_iri(gov_key, name))))
        for k, f in enumerate(s.figures, start=1):
            fu = URIRef(ns.figure_iri(report.id, s.position, k))
            g.add((su, PK.figure, fu))
            g.add((fu, RDF.type, PK.Figure))
            g.add((fu, PK.text, zh(f.phrase)))
            g.add((fu, PK.context, zh(f.context)))
            if f.value is not None:
                g.add((fu, PK.value, Literal(Decimal(str(f.value)), datatype=XSD.decimal)))
            g.add((fu, PK.unit, string(f.unit)))


def add_links(g: Graph, links: Iterable[LinkLike]) -> None:
    """Evidence links as link nodes beside the ``pk:evidences`` shortcut."""
    for link in links:
        su = URIRef(ns.statement_iri(link.report, link.statement))
        tu = URIRef(ns.task_iri(link.plan, link.position))
        lu = URIRef(ns.link_iri(str(su), "evidence", link.rank))
        g.add((su, PK.evidences, tu))
        g.add((lu, RDF.type, PK.EvidenceLink))
        g.add((lu, PK.linkFrom, su))
        g.add((lu, PK.linkTo, tu))
        g.add((lu, PK.score, Literal(Decimal(f"{link.score:.4f}"), datatype=XSD.decimal)))
        g.add((lu, PK.rank, _integer(link.rank)))
        g.add((lu, PK.reason, zh(link.reason)))


def reports_to_rdf(reports: Iterable[tuple[Report, Sequence[Plan]]], links: Iterable[LinkLike],
                   graph: Graph | None = None) -> Graph:
    """Reports (each with the plans it reports on) and their links, into one graph."""
    g = graph if graph is not None else new_graph()
    for report, plans in reports:
        add_report(g, report, [p.id for p in plans], {u.name for p in plans for u in p.units})
    add_links(g, links)
    return g


__all__ = ["add_links", "add_report", "report_gov_id", "reports_to_rdf"]


def report_ntriples(report: Report, plans: Sequence[Plan], links: Iterable[LinkLike]) -> bytes:
    """One report's triples with its links, as N-Triples (what a build caches, loads and removes again).

    Every triple's subject is the report or a resource under its IRI, except its government's
    ``pk:Government`` type and label, which its plans assert as well: removing a report removes
    exactly these triples and leaves the plans' whole.
    """
    g = reports_to_rdf([(report, plans)], links)
    return g.serialize(format="nt", encoding="utf-8")
