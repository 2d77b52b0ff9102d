"""RDF for CONSTRUCT/DESCRIBE results, written by pyoxigraph: Turtle, N-Triples, RDF/XML, JSON-LD.

One module for the four because they differ only in pyoxigraph's format; Turtle and RDF/XML get the
policykg prefixes so they read like the ontology.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from graph.namespaces import PREFIXES

from ..results import QueryResult
from .registry import GRAPH, Format


def writer(fmt: ox.RdfFormat) -> Callable[[QueryResult], bytes]:
    def write(r: QueryResult) -> bytes:
        prefixes = PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        data = ox.serialize(r.triples, format=fmt, prefixes=prefixes) or b""
        return data if not data or data.endswith(b"\n") else data + b"\n"

    return write


TURTLE = Format(
    "turtle", "text/turtle", GRAPH, writer(ox.RdfFormat.TURTLE), aliases=("ttl",),
    accepts=("application/turtle", "application/x-turtle"),
)
NTRIPLES = Format(
    "ntriples", "application/n-triples", GRAPH, writer(ox.RdfFormat.N_TRIPLES), aliases=("nt", "n-triples"),
)
RDFXML = Format(
    "rdfxml", "application/rdf+xml", GRAPH, writer(ox.RdfFormat.RDF_XML), aliases=("rdf",),
    accepts=("application/xml",),
)
JSONLD = Format(
    "jsonld", "application/ld+json", GRAPH, writer(ox.RdfFormat.JSON_LD), aliases=("json-ld",),
    accepts=("application/json",),
)
