"""Where a build writes its graph: embedded Oxigraph in the build directory, or a SPARQL server.

Why two small classes behind one protocol: the build pipeline used to ask "local or ``--store URL``?"
at every step (write, update, clean up after a failure, prune, open). Now it asks once
(:func:`store_writer`) and calls the same four methods either way; the spec the writer returns is
what the manifest records, and :func:`open_store` / :func:`drop_store` read it back.

Both writers keep the build atomic: the local one writes ``store/`` inside the unpublished build
directory; the remote one writes a named graph of its own per build (:func:`sparql.remote.graph_iri`)
that no published build points at until the build is published, and drops it on failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from graph.corpus import compact_store, create_store, patch_store, update_store
from graph.store import GraphStore
from sparql.remote import RemoteStore, graph_iri, public_url

from .config import Config
from .manifest import StoreSpec

if TYPE_CHECKING:
    import pyoxigraph as ox


class StoreWriter(Protocol):
    """Writes one build's graph, whole or as a patch of the previous build's."""

    spec: StoreSpec

    def can_update(self, previous: StoreSpec, published: Path) -> bool:
        """Whether the previous build's graph (described by ``previous``, published at ``published``)
        can be copied and patched instead of written anew."""
        ...

    def write_all(self, nts: Iterable[bytes]) -> int:
        """Write every plan's N-Triples; returns the number of triples stored."""
        ...

    def write_update(self, previous: StoreSpec, published: Path, remove: list[ox.Triple],
                     add: Iterable[bytes]) -> int:
        """Copy the previous graph, delete ``remove``, insert ``add``; returns the number of triples."""
        ...

    def patch(self, remove: Iterable[ox.Triple], add: Iterable[bytes]) -> int:
        """Change the graph this writer wrote (a later stage, e.g. the reports); returns its size."""
        ...

    def finish(self) -> None:
        """Make the written graph ready to be read (after the last stage that changes it)."""
        ...

    def discard(self) -> None:
        """Undo what a failed build wrote outside its unpublished directory."""
        ...


class LocalStoreWriter:
    """Embedded Oxigraph in ``store/`` of the unpublished (``.partial``) build directory."""

    def __init__(self, build_dir: Path) -> None:
        self.spec = StoreSpec(kind="oxigraph", path="store")
        self.path = build_dir / "store"

    def can_update(self, previous: StoreSpec, published: Path) -> bool:
        return previous.kind == "oxigraph" and (published / "store").is_dir()

    def write_all(self, nts: Iterable[bytes]) -> int:
        return create_store(self.path, nts)

    def write_update(self, previous: StoreSpec, published: Path, remove: list[ox.Triple],
                     add: Iterable[bytes]) -> int:
        # a hard-link checkpoint of the published store, then the patch (graph.corpus.update_store)
        return update_store(published.resolve() / (previous.path or "store"), self.path, remove, add)

    def patch(self, remove: Iterable[ox.Triple], add: Iterable[bytes]) -> int:
        return patch_store(self.path, remove, add)

    def finish(self) -> None:
        compact_store(self.path)  # half the cost per index probe for the queries (graph.corpus)

    def discard(self) -> None:
        pass  # the store lives in the unpublished directory, which the build removes


class RemoteStoreWriter:
    """A named graph of its own on a SPARQL 1.1 server (``--store URL``)."""

    def __init__(self, config: Config, build_name: str) -> None:
        assert config.store_url
        self.spec = StoreSpec(kind="sparql", url=public_url(config.store_url), graph=graph_iri(build_name))
        self.remote = remote_store(config, self.spec)

    def can_update(self, previous: StoreSpec, published: Path) -> bool:
        return previous.kind == "sparql" and previous.url == self.spec.url and previous.graph is not None

    def write_all(self, nts: Iterable[bytes]) -> int:
        self.remote.drop()
        self.remote.insert(nts)
        return len(self.remote)

    def write_update(self, previous: StoreSpec, published: Path, remove: list[ox.Triple],
                     add: Iterable[bytes]) -> int:
        assert previous.graph is not None
        self.remote.copy_from(previous.graph)
        return self.patch(remove, add)

    def patch(self, remove: Iterable[ox.Triple], add: Iterable[bytes]) -> int:
        self.remote.delete(remove)
        self.remote.insert(add)
        return len(self.remote)

    def finish(self) -> None:
        pass  # the server keeps its own indexes

    def discard(self) -> None:
        self.remote.drop()


def store_writer(config: Config, build_name: str, directory: Path) -> StoreWriter:
    """The writer for build ``build_name`` being written in ``directory`` (its ``.partial`` folder):
    a SPARQL server when ``config.store_url`` is set, else ``store/`` in the directory."""
    if config.store_url:
        return RemoteStoreWriter(config, build_name)
    return LocalStoreWriter(directory)


def remote_store(config: Config, spec: StoreSpec) -> RemoteStore:
    """A client for the graph ``spec`` names. The credentials come from ``config.store_url`` when it
    is the same server (the manifest keeps the URL without them), else from the environment."""
    assert spec.url is not None and spec.graph is not None
    url = config.store_url if config.store_url and public_url(config.store_url) == spec.url else spec.url
    return RemoteStore(url, spec.graph, update_url=os.environ.get("POLICYKG_STORE_UPDATE_URL") or None)


def open_store(config: Config, spec: StoreSpec, build_dir: Path) -> GraphStore:
    """The graph of a finished build, for reading.

    Typed as ``GraphStore`` because a ``RemoteStore`` offers what callers use of one (``query``,
    ``ox``, ``rdflib_graph``, ``to_memory_graph``, ``len``); ``Build.is_remote`` tells them apart.
    """
    if spec.kind == "sparql":
        return remote_store(config, spec)  # type: ignore[return-value]
    return GraphStore.open(build_dir / (spec.path or "store"))


def drop_store(config: Config, spec: StoreSpec) -> None:
    """Remove what a pruned build left outside its directory (its named graph on a server)."""
    if spec.kind == "sparql":
        remote_store(config, spec).drop()
