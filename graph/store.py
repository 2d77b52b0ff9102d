"""Persistent RDF in Oxigraph, written through rdflib (oxrdflib) and read through pyoxigraph.

An oxrdflib ``Graph`` created without an identifier writes into a named graph with a fresh blank
node id, so a reopened store looks empty to default-graph queries. Every graph here uses rdflib's
``DATASET_DEFAULT_GRAPH_ID`` instead, and the tests check that a build survives a reopen.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from .namespaces import PREFIXES


class StoreError(Exception):
    """The store is missing or unreadable; the message says how to rebuild."""


class GraphStore:
    """An Oxigraph store directory. Opened read-only for queries, so many readers can share it."""

    def __init__(self, path: Path, store: ox.Store) -> None:
        self.path = path
        self.ox = store

    @classmethod
    def create(cls, path: Path, graph: Graph) -> GraphStore:
        """Write ``graph`` into a new store at ``path`` (which must not exist yet)."""
        if path.exists():
            raise StoreError(f"{path}: a store already exists here")
        target = Graph(store=OxigraphStore(), identifier=DATASET_DEFAULT_GRAPH_ID)
        target.open(str(path), create=True)
        for prefix, iri in PREFIXES.items():
            target.bind(prefix, iri, override=True)
        inner: ox.Store = target.store._inner  # type: ignore[attr-defined]
        # addN goes through oxrdflib's term conversion into the default graph, in batches
        batch: list[Any] = []
        for triple in graph:
            batch.append((*triple, target))
            if len(batch) >= 50_000:
                target.addN(batch)
                batch = []
        if batch:
            target.addN(batch)
        inner.flush()
        inner.optimize()
        # close the writer before anyone opens the directory read-only
        del inner, target, batch
        gc.collect()
        return cls.open(path)

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
