"""IRIs of the policykg vocabulary and of the things a build describes.

One place decides every IRI, so the graph builder, canned queries, the endpoint and the app agree.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from rdflib import Namespace
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

PK = Namespace("https://w3id.org/policykg/ontology#")
ID = Namespace("https://w3id.org/policykg/id/")

#: Declared for every query policykg runs (CLI, endpoint, app, notebooks).
PREFIXES: dict[str, str] = {
    "pk": str(PK),
    "pkid": str(ID),
    "org": str(ORG),
    "dcterms": str(DCTERMS),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "xsd": str(XSD),
    "prov": str(PROV),
}


#: For showing ontology terms (``policykg describe``): the query prefixes and ``owl:``, which queries
#: do not declare because the build's data never uses it.
DISPLAY_PREFIXES: dict[str, str] = {**PREFIXES, "owl": str(OWL)}

#: The W3C namespace of SPARQL Query Results XML documents.
SPARQL_RESULTS = "http://www.w3.org/2005/sparql-results#"


def curie(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """``pk:leads`` for an IRI under a known prefix (the longest namespace wins), else ``<iri>``.

    ``prefixes`` defaults to :data:`PREFIXES`; a local part a CURIE cannot hold as written (``#``,
    ``?``, spaces) keeps the IRI whole, so the shortened form always reads back to the same IRI.
    """
    table = PREFIXES if prefixes is None else prefixes
    best = max((p for p, ns in table.items() if iri.startswith(ns)), key=lambda p: len(table[p]), default=None)
    if best is None:
        return f"<{iri}>"
    local = iri[len(table[best]) :]
    return f"{best}:{local}" if re.fullmatch(r"[\w\-./%]*", local) else f"<{iri}>"


def expand_curie(term: str, prefixes: dict[str, str] | None = None) -> str | None:
    """A full IRI for ``<iri>``, ``http…``/``urn:`` or a CURIE with a known prefix; None for anything else."""
    table = PREFIXES if prefixes is None else prefixes
    t = term.strip()
    if t.startswith("<") and t.endswith(">"):
        return t[1:-1]
    if t.startswith(("http://", "https://", "urn:")):
        return t
    prefix, sep, local = t.partition(":")
    if sep and prefix in table:
        return table[prefix] + local
    return None


def sparql_prologue() -> str:
    """PREFIX lines for engines that take no ``prefixes=`` argument (rdflib, remote stores)."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def _seg(text: str) -> str:
    """Percent-encode only what an IRI path segment cannot hold; Chinese names stay readable."""
    return "".join(ch if ord(ch) > 127 else quote(ch, safe="-_.~") for ch in text)


def segment(text: str) -> str:
    """An IRI path segment for an id (see :func:`_seg`)."""
    return _seg(text)


def plan_iri(plan_id: str) -> str:
    return f"{ID}{_seg(plan_id)}"


def chapter_iri(plan_id: str, number: int) -> str:
    return f"{plan_iri(plan_id)}/chapter/{number}"


def section_iri(plan_id: str, position: int) -> str:
    return f"{plan_iri(plan_id)}/section/{position}"


def task_iri(plan_id: str, position: int) -> str:
    return f"{plan_iri(plan_id)}/task/{position}"


def target_iri(plan_id: str, task_position: int, k: int) -> str:
    return f"{task_iri(plan_id, task_position)}/target/{k}"


def deadline_iri(plan_id: str, task_position: int, k: int) -> str:
    return f"{task_iri(plan_id, task_position)}/deadline/{k}"


def government_iri(gov_id: str) -> str:
    return f"{ID}gov/{_seg(gov_id)}"


def unit_iri(gov_id: str, unit_slug: str) -> str:
    return f"{government_iri(gov_id)}/unit/{_seg(unit_slug)}"


def unit_kind_iri(kind_slug: str) -> str:
    return f"{ID}kind/{_seg(kind_slug)}"


# --- follow-through (issue #15): reports, statements and link nodes


def report_iri(report_id: str) -> str:
    return f"{ID}report/{_seg(report_id)}"


def statement_iri(report_id: str, position: int) -> str:
    return f"{report_iri(report_id)}/statement/{position}"


def figure_iri(report_id: str, position: int, k: int) -> str:
    return f"{statement_iri(report_id, position)}/figure/{k}"


def link_iri(source_iri: str, kind: str, k: int) -> str:
    """A link node (pk:Link) hangs under its source: ``…/statement/3/evidence/1``, ``…/task/7/derivation/2``.

    ``kind`` is ``evidence`` or ``derivation``; ``k`` is the link's rank among the source's links.
    """
    return f"{source_iri}/{_seg(kind)}/{k}"
