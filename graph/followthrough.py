"""Per-unit follow-through totals: what ``follow-through-by-unit`` ranks, counted once per government.

Why: that query ranks every unit (33,600 at 1,000 plans) by the tasks it leads or carries that no
annual report evidences. From the raw triples every unit's evidenced tasks must be counted before
any unit can be ranked: 92,000 evidence links joined with 80,000 role links took 1.1-1.3 s at
1,000 plans with two reports each (BENCHMARKS.md, "Follow-through with reports"). These counts are
not plan shares (graph/aggregates.py): the evidence is in the reports' triples, and a task
evidenced in two years counts once.

Why a government: a unit's IRI belongs to one government (:func:`graph.namespaces.unit_iri`), a
report is linked only to its own government's plans and names only that government's units
(:mod:`policykg.follow`). So everything the query says about a unit (the tasks it leads or is
responsible for, how many of them any report evidences, how many report statements name it) is a
function of its government's plan triples and report triples alone. :mod:`policykg.totals`
recomputes a government's totals whenever one of those changes (keyed on their cache keys) and
removes the old ones, so an incremental build cannot leave a stale count behind.

One node per unit, ``…/gov/<g>/followthrough/<unit>``, pointing at the unit (no fact points at
it), with copies of what the query prints::

    ?a pk:followThroughOfUnit ?unit ; pk:followThroughLabel "区司法局"@zh ;
       pk:accountableTaskCount 12 ; pk:reportedTaskCount 9 ; pk:unreportedTaskCount 3 ;
       pk:mentioningStatementCount 4 ;          # only when a statement names the unit
       pk:followThroughOrder 12884901900 .      # 3 * 2^32 + 12

``pk:followThroughOrder`` is unreported * 2^32 + tasks: one integer that orders the units as the
query's first two sort keys do, so its cut (the 1,000th largest) is one sort of inline integers.
The units the query leaves out get no node: collective units (``pk:CollectiveUnit``), units
without a label, units that lead or carry no task. Every node is then a row of the answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from .namespaces import PK

#: unreported * ORDER_SHIFT + tasks (a unit leads or carries far fewer than 2^32 tasks)
ORDER_SHIFT = 2**32

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_ACCOUNTABLE = {str(PK.leads), str(PK.responsibleFor)}
_COLLECTIVE = str(PK.CollectiveUnit)
_EVIDENCES, _MENTIONS, _IN_REPORT = str(PK.evidences), str(PK.mentions), str(PK.inReport)


def _p(name: str) -> ox.NamedNode:
    return ox.NamedNode(str(PK[name]))


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_XSD_INTEGER)


def _triples(nts: Iterable[bytes]) -> Iterable[tuple[str, str, ox.NamedNode | ox.Literal]]:
    """(subject IRI, predicate IRI, object) of the N-Triples whose subject and object are no blank nodes."""
    for nt in nts:
        for quad in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES):
            s, o = quad.subject, quad.object
            if isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode | ox.Literal):
                yield s.value, quad.predicate.value, o


def node_iri(unit_iri: str) -> str:
    """``…/gov/<g>/unit/<u>`` → ``…/gov/<g>/followthrough/<u>``."""
    head, sep, tail = unit_iri.rpartition("/unit/")
    if not sep:
        raise ValueError(f"not a unit IRI: {unit_iri}")
    return f"{head}/followthrough/{tail}"


def followthrough_triples(plan_nts: Iterable[bytes], report_nts: Iterable[bytes]) -> list[ox.Triple]:
    """The totals of one government's units, from its plans' and its reports' N-Triples."""
    tasks: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, list[ox.NamedNode | ox.Literal]] = defaultdict(list)
    collective: set[str] = set()
    for s, p, o in _triples(plan_nts):
        if p in _ACCOUNTABLE:
            tasks[s].add(o.value)
        elif p == _RDFS_LABEL and "/unit/" in s:
            if o not in labels[s]:
                labels[s].append(o)
        elif p == _RDF_TYPE and o.value == _COLLECTIVE:
            collective.add(s)
    evidenced: set[str] = set()
    mentions: dict[str, set[str]] = defaultdict(set)
    in_report: set[str] = set()
    for s, p, o in _triples(report_nts):
        if p == _EVIDENCES:
            evidenced.add(o.value)
        elif p == _MENTIONS:
            mentions[o.value].add(s)
        elif p == _IN_REPORT:
            in_report.add(s)
    out: list[ox.Triple] = []
    for unit in sorted(tasks):
        if unit in collective or not labels.get(unit) or "/unit/" not in unit:
            continue
        a = ox.NamedNode(node_iri(unit))
        n = len(tasks[unit])
        reported = len(tasks[unit] & evidenced)
        statements = len(mentions.get(unit, set()) & in_report)
        out += [ox.Triple(a, _p("followThroughOfUnit"), ox.NamedNode(unit)),
                ox.Triple(a, _p("accountableTaskCount"), _int(n)),
                ox.Triple(a, _p("reportedTaskCount"), _int(reported)),
                ox.Triple(a, _p("unreportedTaskCount"), _int(n - reported)),
                ox.Triple(a, _p("followThroughOrder"), _int((n - reported) * ORDER_SHIFT + n))]
        out += [ox.Triple(a, _p("followThroughLabel"), label) for label in labels[unit]]
        if statements:
            out.append(ox.Triple(a, _p("mentioningStatementCount"), _int(statements)))
    return out


def followthrough_ntriples(plan_nts: Iterable[bytes], report_nts: Iterable[bytes]) -> bytes:
    """:func:`followthrough_triples` as N-Triples (what a build caches, loads and removes again)."""
    return ox.serialize(followthrough_triples(plan_nts, report_nts), format=ox.RdfFormat.N_TRIPLES) or b""


__all__ = ["ORDER_SHIFT", "followthrough_ntriples", "followthrough_triples", "node_iri"]
