"""Per-unit totals over a government's plans and reports: what the unit rankings read over a corpus.

Why: ``unit-workload`` and ``follow-through-by-unit`` rank every unit (33,600 at 1,000 plans) by a
count that spans plans. Summed from per-plan shares (graph/aggregates.py) every unit must be summed
before any can be ranked (unit-workload 298-370 ms at 1,000 plans); counted from the raw triples,
follow-through-by-unit joined 92,000 evidence links with 80,000 role links (1.1-1.3 s). The
evidence is in the reports' triples, and a task evidenced in two years counts once, so a per-plan
share cannot hold it at all (BENCHMARKS.md, "Follow-through with reports").

Why a government: a unit's IRI belongs to one government (:func:`graph.namespaces.unit_iri`), a
report is linked only to its own government's plans and names only that government's units
(:mod:`policykg.follow`). So everything these queries say about a unit (its tasks per role, how many
of the tasks it leads or is responsible for any report evidences, how many report statements name
it) is a function of its government's plan triples and report triples alone. :mod:`policykg.totals`
recomputes a government's totals whenever one of those changes (keyed on their cache keys) and
removes the old ones, so an incremental build cannot leave a stale count behind.

One node per unit that has a label and takes part in a task, ``…/gov/<g>/totals/<unit>``, pointing
at the unit (no fact points at it)::

    ?n pk:governmentTotalsOf ?unit ;
       pk:unitLeadCount 9 ; pk:unitResponsibleCount 3 ; pk:unitParticipatingCount 2 ;
       pk:unitTaskCount 14 ;                    # in any role
       pk:workloadOrder 60129542153 ;           # 14 * 2^32 + 9
       pk:roleOrder 36 , 13 , 10 ;              # per role with a task: tasks * 4 + the role's code
       # follow-through, only for units that lead or carry a task and are not collective:
       pk:accountableTaskCount 12 ; pk:reportedTaskCount 9 ; pk:unreportedTaskCount 3 ;
       pk:mentioningStatementCount 4 ;          # only when a statement names the unit
       pk:followThroughOrder 12884901900 .      # 3 * 2^32 + 12

and per pair of units that lead a task together (co-leading-units), ``…/totals/<a>/colead/<b>``::

    ?p pk:firstCoLead ?a ; pk:secondCoLead ?b ; pk:coLeadTaskCount 3 .   # STR(?a) < STR(?b)

An order key packs a ranking's first two sort keys into one inline integer (first * 2^32 +
second; a unit takes part in far fewer than 2^32 tasks), so a ranking's cut (its 1,000th largest
key) is one sort of inline integers, and a key is on exactly the nodes that are rows of its ranking.
``pk:roleOrder`` packs a (unit, role) row of tasks-per-unit-by-role the same way (tasks * 4 + the
role's code in :data:`ROLE_CODES`, only for a role with a task): one predicate holds every row, so
its cut and its rows are two scans of one predicate, not six of three with a filter on each
(BENCHMARKS.md, "One key per ranked row").
Only labelled units get nodes and pairs: the rankings join the unit's label, so others are no row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from .namespaces import PK

#: an order key is first * ORDER_SHIFT + second (a unit takes part in far fewer than 2^32 tasks)
ORDER_SHIFT = 2**32
#: pk:roleOrder is tasks * ROLE_SHIFT + the role's code (tasks-per-unit-by-role decodes it)
ROLE_SHIFT = 4
ROLE_CODES = {"lead": 0, "responsible": 1, "participating": 2}

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_ROLES = {str(PK.leads): "lead", str(PK.responsibleFor): "responsible", str(PK.participatesIn): "participating"}
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
    """``…/gov/<g>/unit/<u>`` → ``…/gov/<g>/totals/<u>``."""
    head, sep, tail = unit_iri.rpartition("/unit/")
    if not sep:
        raise ValueError(f"not a unit IRI: {unit_iri}")
    return f"{head}/totals/{tail}"


def unit_totals_triples(plan_nts: Iterable[bytes], report_nts: Iterable[bytes]) -> list[ox.Triple]:
    """The totals of one government's units, from its plans' and its reports' N-Triples."""
    roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    labelled: set[str] = set()
    collective: set[str] = set()
    for s, p, o in _triples(plan_nts):
        if p in _ROLES:
            roles[s][_ROLES[p]].add(o.value)
        elif p == _RDFS_LABEL:
            labelled.add(s)
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
    for unit in sorted(roles):
        if unit not in labelled or "/unit/" not in unit:
            continue  # the rankings join the unit's label: a unit without one is no row
        n = ox.NamedNode(node_iri(unit))
        r = roles[unit]
        lead, any_role = len(r["lead"]), len(r["lead"] | r["responsible"] | r["participating"])
        out += [ox.Triple(n, _p("governmentTotalsOf"), ox.NamedNode(unit)),
                ox.Triple(n, _p("unitLeadCount"), _int(lead)),
                ox.Triple(n, _p("unitResponsibleCount"), _int(len(r["responsible"]))),
                ox.Triple(n, _p("unitParticipatingCount"), _int(len(r["participating"]))),
                ox.Triple(n, _p("unitTaskCount"), _int(any_role)),
                ox.Triple(n, _p("workloadOrder"), _int(any_role * ORDER_SHIFT + lead))]
        out += [ox.Triple(n, _p("roleOrder"), _int(len(r[role]) * ROLE_SHIFT + code))
                for role, code in ROLE_CODES.items() if r[role]]
        accountable = r["lead"] | r["responsible"]
        if unit in collective or not accountable:
            continue  # follow-through-by-unit leaves collective units out, and lists units that answer for a task
        reported = len(accountable & evidenced)
        unreported = len(accountable) - reported
        out += [ox.Triple(n, _p("accountableTaskCount"), _int(len(accountable))),
                ox.Triple(n, _p("reportedTaskCount"), _int(reported)),
                ox.Triple(n, _p("unreportedTaskCount"), _int(unreported)),
                ox.Triple(n, _p("followThroughOrder"), _int(unreported * ORDER_SHIFT + len(accountable)))]
        statements = len(mentions.get(unit, set()) & in_report)
        if statements:
            out.append(ox.Triple(n, _p("mentioningStatementCount"), _int(statements)))
    out += _co_lead_pairs(roles, labelled)
    return out


def _co_lead_pairs(roles: dict[str, dict[str, set[str]]], labelled: set[str]) -> list[ox.Triple]:
    """co-leading-units: per pair of labelled units (ordered by IRI, as the query's STR filter), the
    tasks both lead, on a node under the first unit's: ``…/totals/<a>/colead/<b>``."""
    leads_of: dict[str, list[str]] = defaultdict(list)
    for unit in sorted(u for u in roles if u in labelled and "/unit/" in u):
        for task in roles[unit]["lead"]:
            leads_of[task].append(unit)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for units in leads_of.values():
        for i, a in enumerate(units):
            for b in units[i + 1:]:
                pairs[(a, b)] += 1
    out: list[ox.Triple] = []
    for (a, b), count in sorted(pairs.items()):
        n = ox.NamedNode(f"{node_iri(a)}/colead/{b.rpartition('/unit/')[2]}")
        out += [ox.Triple(n, _p("firstCoLead"), ox.NamedNode(a)), ox.Triple(n, _p("secondCoLead"), ox.NamedNode(b)),
                ox.Triple(n, _p("coLeadTaskCount"), _int(count))]
    return out


def unit_totals_ntriples(plan_nts: Iterable[bytes], report_nts: Iterable[bytes]) -> bytes:
    """:func:`unit_totals_triples` as N-Triples (what a build caches, loads and removes again)."""
    return ox.serialize(unit_totals_triples(plan_nts, report_nts), format=ox.RdfFormat.N_TRIPLES) or b""


__all__ = ["ORDER_SHIFT", "ROLE_CODES", "ROLE_SHIFT", "node_iri", "unit_totals_ntriples", "unit_totals_triples"]
