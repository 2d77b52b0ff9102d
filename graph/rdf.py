"""Records → RDF (rdflib). One function, one pass, the same records the NetworkX view reads."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, RDFS, SKOS, XSD

from ingest.parser import make_plan_id
from ingest.records import Plan, Role, Unit

from . import namespaces as ns
from .aggregates import aggregate_triples
from .namespaces import PK

ROLE_PREDICATES: dict[Role, URIRef] = {
    "lead": PK.leads,
    "responsible": PK.responsibleFor,
    "participating": PK.participatesIn,
}
TYPE_CLASSES = {
    "party": PK.PartyOrgan,
    "government": PK.GovernmentDepartment,
    "judicial": PK.JudicialOrgan,
    "congress": PK.CongressOrCPPCC,
    "collective": PK.CollectiveUnit,
}


def gov_id(plan: Plan) -> str:
    """Units are scoped to the issuing government; plans of one issuer share its units.

    Made from the issuer itself, not by cutting the period off the plan id: a second plan of one
    issuer and period (the final text beside the draft) has an id with a suffix (``…-2021-2025-2``),
    and a plan without an end year has a shorter id; both must still land on their government.
    """
    return make_plan_id(plan.issuer, None, None, plan.id) if plan.issuer else plan.id


def unit_uri(plan: Plan, name: str) -> URIRef:
    return URIRef(ns.unit_iri(gov_id(plan), name))


def zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def string(text: str) -> Literal:
    """An explicit xsd:string: what Oxigraph returns for a plain literal (RDF 1.1), so rdflib agrees."""
    return Literal(text, datatype=XSD.string)


def new_graph() -> Graph:
    g = Graph()
    for prefix, iri in ns.PREFIXES.items():
        g.bind(prefix, iri, override=True)
    return g


def _add_unit(g: Graph, plan: Plan, unit: Unit) -> URIRef:
    u = unit_uri(plan, unit.name)
    g.add((u, RDF.type, ORG.Organization))
    cls = TYPE_CLASSES.get(unit.type)
    if cls is not None:
        g.add((u, RDF.type, cls))
    g.add((u, RDFS.label, zh(unit.name)))
    g.add((u, SKOS.prefLabel, zh(unit.name)))
    for alias in unit.aliases:
        g.add((u, SKOS.altLabel, zh(alias)))
    g.add((u, PK.unitType, string(unit.type)))
    g.add((u, ORG.subOrganizationOf, URIRef(ns.government_iri(gov_id(plan)))))
    kind = URIRef(ns.unit_kind_iri(unit.kind))
    g.add((u, PK.kind, kind))
    g.add((kind, RDF.type, PK.UnitKind))
    g.add((kind, RDFS.label, zh(unit.kind)))
    return u


class _Collect:
    """Stands in for a Graph while one plan is described: its triples, deduplicated, in order."""

    def __init__(self) -> None:
        self.triples: dict[tuple[Any, Any, Any], None] = {}

    def add(self, triple: tuple[Any, Any, Any]) -> None:
        self.triples[triple] = None


def add_plan(g: Graph, plan: Plan) -> None:
    """Describe ``plan`` in ``g``: its facts, then its aggregates computed from those very triples
    (:mod:`graph.aggregates`), so both always come from one description."""
    facts = _Collect()
    _describe(cast(Graph, facts), plan)
    for t in facts.triples:
        g.add(t)
    for t in aggregate_triples(plan.id, facts.triples):
        g.add(t)


def _describe(g: Graph, plan: Plan) -> None:
    p = URIRef(ns.plan_iri(plan.id))
    gov = URIRef(ns.government_iri(gov_id(plan)))
    g.add((p, RDF.type, PK.Plan))
    g.add((p, DCTERMS.title, zh(plan.title or plan.source)))
    g.add((p, RDFS.label, zh(plan.title or plan.source)))
    g.add((p, DCTERMS.identifier, string(plan.id)))
    g.add((p, DCTERMS.source, string(plan.source)))
    if plan.sha256:
        g.add((p, PK.sha256, string(plan.sha256)))
    if plan.status:
        g.add((p, PK.status, zh(plan.status)))
    if plan.period_start:
        g.add((p, PK.periodStart, Literal(plan.period_start, datatype=XSD.integer)))
    if plan.period_end:
        g.add((p, PK.periodEnd, Literal(plan.period_end, datatype=XSD.integer)))
    g.add((p, PK.issuer, gov))
    g.add((gov, RDF.type, PK.Government))
    g.add((gov, RDFS.label, zh(plan.issuer or plan.id)))

    for c in plan.chapters:
        cu = URIRef(ns.chapter_iri(plan.id, c.number))
        g.add((cu, RDF.type, PK.Chapter))
        g.add((cu, PK.number, Literal(c.number, datatype=XSD.integer)))
        g.add((cu, PK.label, string(c.label)))
        g.add((cu, DCTERMS.title, zh(c.title)))
        g.add((cu, RDFS.label, zh(c.title)))
        g.add((cu, PK.inPlan, p))
    for s in plan.sections:
        su = URIRef(ns.section_iri(plan.id, s.position))
        g.add((su, RDF.type, PK.Section))
        g.add((su, PK.number, Literal(s.position, datatype=XSD.integer)))
        g.add((su, PK.position, Literal(s.position, datatype=XSD.integer)))
        g.add((su, PK.label, string(s.label)))
        if s.printed_number is not None:
            g.add((su, PK.printedNumber, Literal(s.printed_number, datatype=XSD.integer)))
        g.add((su, DCTERMS.title, zh(s.title)))
        g.add((su, RDFS.label, zh(s.title)))
        g.add((su, PK.inChapter, URIRef(ns.chapter_iri(plan.id, s.chapter))))
        g.add((su, PK.inPlan, p))

    units = {u.name: _add_unit(g, plan, u) for u in plan.units}
    for t in plan.tasks:
        tu = URIRef(ns.task_iri(plan.id, t.position))
        g.add((tu, RDF.type, PK.Task))
        g.add((tu, PK.number, Literal(t.number, datatype=XSD.integer)))
        g.add((tu, PK.position, Literal(t.position, datatype=XSD.integer)))
        g.add((tu, PK.label, string(t.label)))
        g.add((tu, RDFS.label, zh(f"任务{t.label}")))
        g.add((tu, PK.text, zh(t.text)))
        if t.unit_clause:
            g.add((tu, PK.unitClause, zh(t.unit_clause)))
        if t.original_text:
            g.add((tu, PK.originalText, Literal(t.original_text, lang="zh-Hant")))
        if t.section is not None:
            g.add((tu, PK.inSection, URIRef(ns.section_iri(plan.id, t.section))))
        g.add((tu, PK.inChapter, URIRef(ns.chapter_iri(plan.id, t.chapter))))
        g.add((tu, PK.inPlan, p))
        for mention in t.mentions:
            g.add((units[mention.canonical], ROLE_PREDICATES[mention.role], tu))
        for k, d in enumerate(t.deadlines, start=1):
            g.add((tu, PK.deadline, Literal(d.date, datatype=XSD.date)))
            du = URIRef(ns.deadline_iri(plan.id, t.position, k))
            g.add((tu, PK.hasDeadline, du))
            g.add((du, RDF.type, PK.Deadline))
            g.add((du, PK.date, Literal(d.date, datatype=XSD.date)))
            g.add((du, PK.text, zh(d.wording)))
        for k, target in enumerate(t.targets, start=1):
            xu = URIRef(ns.target_iri(plan.id, t.position, k))
            g.add((tu, PK.target, xu))
            g.add((xu, RDF.type, PK.Target))
            g.add((xu, PK.text, zh(target.phrase)))
            g.add((xu, PK.context, zh(target.context)))
            if target.value is not None:
                g.add((xu, PK.value, Literal(Decimal(str(target.value)), datatype=XSD.decimal)))
            g.add((xu, PK.unit, string(target.unit)))
            g.add((xu, PK.comparator, string(target.comparator)))


def plans_to_rdf(plans: Iterable[Plan], graph: Graph | None = None) -> Graph:
    """Describe plans in RDF; pass ``graph`` to add to an existing graph (e.g. an Oxigraph-backed one)."""
    g = graph if graph is not None else new_graph()
    for plan in plans:
        add_plan(g, plan)
    return g


__all__ = ["ROLE_PREDICATES", "add_plan", "gov_id", "new_graph", "plans_to_rdf", "unit_uri"]
