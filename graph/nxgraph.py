"""Records → NetworkX MultiDiGraph with the same nodes (IRIs) and edges as the RDF graph."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from ingest.records import Plan, Role

from . import namespaces as ns
from .rdf import gov_id

REL: dict[Role, str] = {"lead": "leads", "responsible": "responsible_for", "participating": "participates_in"}


def date_node(iso: str) -> str:
    return f"date:{iso}"


def build_networkx(plans: Iterable[Plan]) -> nx.MultiDiGraph:
    """Nodes carry ``kind`` (plan/chapter/section/task/unit/date) and ``label``; edges carry ``rel``."""
    g = nx.MultiDiGraph()
    for plan in plans:
        p = ns.plan_iri(plan.id)
        g.add_node(p, kind="plan", label=plan.title, plan=plan.id, issuer=plan.issuer)
        for c in plan.chapters:
            cn = ns.chapter_iri(plan.id, c.number)
            g.add_node(cn, kind="chapter", label=f"{c.label}、{c.title}", number=c.number, plan=plan.id)
            g.add_edge(cn, p, rel="in_plan")
        for s in plan.sections:
            sn = ns.section_iri(plan.id, s.position)
            g.add_node(sn, kind="section", label=f"{s.label}{s.title}", number=s.position, plan=plan.id,
                       chapter=s.chapter)
            g.add_edge(sn, ns.chapter_iri(plan.id, s.chapter), rel="in_chapter")
        for u in plan.units:
            g.add_node(ns.unit_iri(gov_id(plan), u.name), kind="unit", label=u.name, unit_type=u.type,
                       collective=u.collective, plan=plan.id)
        for t in plan.tasks:
            tn = ns.task_iri(plan.id, t.position)
            g.add_node(tn, kind="task", label=f"任务{t.label}", number=t.number, position=t.position,
                       plan=plan.id, chapter=t.chapter, section=t.section if t.section is not None else 0,
                       text=t.text)
            if t.section is not None:
                g.add_edge(tn, ns.section_iri(plan.id, t.section), rel="in_section")
            else:
                g.add_edge(tn, ns.chapter_iri(plan.id, t.chapter), rel="in_chapter")
            for m in t.mentions:
                g.add_edge(ns.unit_iri(gov_id(plan), m.canonical), tn, rel=REL[m.role])
            for d in t.deadlines:
                dn = date_node(d.date.isoformat())
                g.add_node(dn, kind="date", label=d.date.isoformat(), date=d.date.isoformat())
                g.add_edge(tn, dn, rel="deadline", wording=d.wording)
    return g
