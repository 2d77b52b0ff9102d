"""Persistent RDF in Oxigraph: opened read-only through pyoxigraph, and as an rdflib graph (oxrdflib).

Builds write the store in ``graph.corpus`` (per-plan triple sets bulk-loaded into the default
graph). An oxrdflib ``Graph`` created without an identifier would look at a named graph with a
fresh blank node id, so a reopened store would look empty: ``rdflib_graph`` uses rdflib's
``DATASET_DEFAULT_GRAPH_ID``, and the tests check that a build survives a reopen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from ingest.errors import PolicykgError

from .namespaces import PREFIXES


class StoreError(PolicykgError):
    """The store is missing or unreadable; the message says how to rebuild."""


class GraphStore:
    """An Oxigraph store directory. Opened read-only for queries, so many readers can share it."""

    def __init__(self, path: Path, store: ox.Store) -> None:
        self.path = path
        self.ox = store

    @classmethod
    def open(cls, path: Path, *, read_only: bool = True) -> GraphStore:
        if not path.is_dir():
            raise StoreError(f"{path}: no graph store here; run `policykg build` to make one")
        try:
            store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"{path}: the graph store cannot be opened ({exc}); run `policykg build` again") from exc
        return cls(path, store)

    def rdflib_graph(self) -> Graph:
        """The store as an rdflib Graph (default graph), for rdflib-based tools such as pyshacl."""
        return Graph(store=OxigraphStore(store=self.ox), identifier=DATASET_DEFAULT_GRAPH_ID)

    def query(self, sparql: str, **kwargs: Any) -> Any:
        """Run SPARQL with the policykg prefixes declared; returns pyoxigraph's result object."""
        return self.ox.query(sparql, prefixes=PREFIXES, use_default_graph_as_union=False, **kwargs)

    def __len__(self) -> int:
        return len(self.ox)

    def to_memory_graph(self) -> Graph:
        """Copy into rdflib's in-memory store (a second engine to check answers against)."""
        g = Graph()
        for prefix, iri in PREFIXES.items():
            g.bind(prefix, iri, override=True)
        data = self.ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        assert data is not None
        g.parse(data=data.decode("utf-8"), format="nt")
        return g
