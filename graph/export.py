"""Exports of a build: Turtle, N-Triples, JSON-LD (from the store), GraphML (from NetworkX)."""

from __future__ import annotations

import io

import networkx as nx
import pyoxigraph as ox

from .namespaces import PREFIXES
from .store import GraphStore

FORMATS = ("ttl", "nt", "jsonld", "graphml")


def export(store: GraphStore, nxg: nx.MultiDiGraph, fmt: str) -> bytes:
    if fmt == "ttl":
        # no prefix for instance IRIs: Turtle would have to escape every "/" in their local names
        prefixes = {p: iri for p, iri in PREFIXES.items() if p != "pkid"}
        data = store.ox.dump(format=ox.RdfFormat.TURTLE, from_graph=ox.DefaultGraph(), prefixes=prefixes)
        return data or b""
    if fmt == "nt":
        return store.ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()) or b""
    if fmt == "jsonld":
        g = store.to_memory_graph()
        return g.serialize(format="json-ld", context=dict(PREFIXES), indent=1).encode("utf-8")
    if fmt == "graphml":
        buf = io.BytesIO()
        nx.write_graphml(nxg, buf, encoding="utf-8")
        return buf.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
