"""Per-plan triple sets, and writing many plans into an Oxigraph store without rdflib in between.

Why not ``plans_to_rdf`` + an oxrdflib graph's ``addN`` for a corpus: an rdflib in-memory graph of
a thousand plans (~1.9M triples) costs gigabytes and minutes, and an incremental build must know
exactly which triples one plan contributes. So each plan is turned into its own triple set (the
very same triples :func:`graph.rdf.add_plan` describes — it writes into a sink here instead of an
rdflib graph), kept as N-Triples bytes that Oxigraph bulk-loads, and deleted again by value when
the plan changes or goes.

Triples a plan shares with others: units and their government are scoped to the issuing
government (``graph.rdf.gov_id``), so a draft and a final text of one district describe the same
unit IRIs; unit kinds (``pk:UnitKind``) are shared by every plan. Removing a plan therefore
deletes its shared triples only when no remaining plan of the same government asserts them, and
a kind's own triples only when no remaining plan has a unit of that kind
(:func:`removal_triples`, given the remaining plans' triples and kinds). Everything else a plan
says is about IRIs under its own plan IRI.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox
from oxrdflib._converter import to_ox
from rdflib import Graph

from ingest.records import Plan

from . import namespaces as ns
from .rdf import add_plan

NT = ox.RdfFormat.N_TRIPLES


class _Sink:
    """Stands in for an rdflib Graph in :func:`add_plan`: collects converted triples, deduplicated."""

    def __init__(self) -> None:
        self.triples: dict[ox.Triple, None] = {}

    def add(self, triple: tuple[Any, Any, Any]) -> None:
        s, p, o = triple
        # oxrdflib's own term conversion, so this write path and oxrdflib's store agree term by term
        self.triples[ox.Triple(to_ox(s), to_ox(p), to_ox(o))] = None  # type: ignore[arg-type]


def plan_triples(plan: Plan) -> list[ox.Triple]:
    """The triples :func:`graph.rdf.plans_to_rdf` gives for this one plan."""
    sink = _Sink()
    add_plan(cast(Graph, sink), plan)
    return list(sink.triples)


def plan_ntriples(plan: Plan) -> bytes:
    """The plan's triples as N-Triples (what the build caches and bulk-loads)."""
    return ox.serialize(plan_triples(plan), format=NT) or b""


def parse_ntriples(data: bytes) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(data, format=NT)]


def _owned_prefix(plan_id: str) -> tuple[str, str]:
    iri = ns.plan_iri(plan_id)
    return iri, iri + "/"


def is_plan_owned(triple: ox.Triple, plan_id: str) -> bool:
    """Whether a triple is about this plan's own resources (never shared with another plan)."""
    iri, prefix = _owned_prefix(plan_id)
    for term in (triple.subject, triple.object):
        if isinstance(term, ox.NamedNode) and (term.value == iri or term.value.startswith(prefix)):
            return True
    return False


def removal_triples(old_id: str, old_triples: Iterable[ox.Triple], kept: Set[ox.Triple],
                    kinds_used: Set[str]) -> list[ox.Triple]:
    """The triples to delete when plan ``old_id`` leaves a store.

    ``kept``: the triples of the remaining plans of the same government (only they share unit
    triples with it); ``kinds_used``: the IRIs of the unit kinds the remaining plans still use.
    Both are passed in rather than computed from records, so a build of a thousand plans can
    remove one without loading the other 999 (it reads them from its cache of per-plan triples).
    """
    out: list[ox.Triple] = []
    for t in old_triples:
        if is_plan_owned(t, old_id):
            out.append(t)
        elif t in kept:
            continue
        elif isinstance(t.subject, ox.NamedNode) and t.subject.value in kinds_used:
            continue
        else:
            out.append(t)
    return out


def plan_kinds(plan: Plan) -> list[str]:
    """IRIs of the unit kinds a plan's units belong to (shared across plans; see the module docstring)."""
    return sorted({ns.unit_kind_iri(u.kind) for u in plan.units})


def create_store(path: Path, chunks: Iterable[bytes]) -> int:
    """A new Oxigraph store at ``path`` from N-Triples chunks (bulk loaded, default graph); its size."""
    if path.exists():
        raise FileExistsError(f"{path}: a store already exists here")
    store = ox.Store(str(path))
    buffer: list[bytes] = []
    size = 0
    for chunk in chunks:
        buffer.append(chunk)
        size += len(chunk)
        if size > 32 << 20:  # ~32 MB of N-Triples per bulk load: bounded memory, few SST files
            store.bulk_load(b"".join(buffer), format=NT, to_graph=ox.DefaultGraph())
            buffer, size = [], 0
    if buffer:
        store.bulk_load(b"".join(buffer), format=NT, to_graph=ox.DefaultGraph())
    store.flush()
    n = len(store)
    del store
    return n


def compact_store(path: Path) -> None:
    """Compact the store at ``path`` (RocksDB ``compact_range`` over every index) before it is published.

    Why: a bulk load leaves a dozen overlapping SST files and each incremental patch adds more, and a
    read-only reader probes every file that may hold a key. Compacted, one index probe costs half as
    much: at 1,000 plans the corpus-wide canned queries that probe per row got 1.7-1.9x faster
    (follow-through-by-unit 2,958 -> 1,870 ms, tasks-without-lead 831 -> 474 ms; ``python -m
    bench.corpus_bench``), for 1.7 s of compaction.
    """
    store = ox.Store(str(path))
    store.optimize()
    store.flush()
    del store


def update_store(previous: Path, path: Path, remove: Iterable[ox.Triple], add: Iterable[bytes]) -> int:
    """Copy ``previous`` to ``path`` as a hard-link checkpoint, then delete and add triples there.

    ``Store.backup`` is cheap (RocksDB hard-links its immutable files), so the previous build stays
    untouched and readable while the new one is written; the caller publishes ``path`` atomically.
    """
    if path.exists():
        raise FileExistsError(f"{path}: a store already exists here")
    ox.Store.read_only(str(previous)).backup(str(path))
    return patch_store(path, remove, add)


def patch_store(path: Path, remove: Iterable[ox.Triple], add: Iterable[bytes]) -> int:
    """Delete ``remove`` from and add the N-Triples chunks ``add`` to the store at ``path``; its size."""
    store = ox.Store(str(path))
    g = ox.DefaultGraph()
    for t in remove:
        store.remove(ox.Quad(t.subject, t.predicate, t.object, g))
    for chunk in add:
        store.load(chunk, format=NT, to_graph=g)
    store.flush()
    n = len(store)
    del store
    return n
