"""The local store writer on a real Oxigraph store: a whole write, then a patch of a copy that
leaves the previous store as it was (what keeps the published build readable during a build).
The SPARQL-server writer is tested against a real Virtuoso in tests/test_virtuoso.py."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from graph.store import GraphStore
from policykg.config import Config
from policykg.manifest import StoreSpec
from policykg.stores import LocalStoreWriter, RemoteStoreWriter, open_store, store_writer

A = b"<urn:pk:a> <urn:pk:p> <urn:pk:b> .\n"
B = b'<urn:pk:b> <urn:pk:p> "\xe4\xb9\x99"@zh .\n'
C = b"<urn:pk:c> <urn:pk:p> <urn:pk:a> .\n"


def contents(store: GraphStore) -> set[str]:
    return {str(q.subject) for q in store.ox}


def test_a_patch_is_written_to_a_copy_and_the_previous_store_stays(tmp_path: Path) -> None:
    first_dir, second_dir = tmp_path / "b1.partial", tmp_path / "b2.partial"
    first_dir.mkdir()
    second_dir.mkdir()
    first = LocalStoreWriter(first_dir)
    assert first.write_all([A, B]) == 2
    second = LocalStoreWriter(second_dir)
    assert second.can_update(first.spec, first_dir)
    removed = next(iter(ox.parse(A, format=ox.RdfFormat.N_TRIPLES)))
    assert second.write_update(first.spec, first_dir, [removed], [C]) == 2
    assert contents(open_store(Config(), second.spec, second_dir)) == {"<urn:pk:b>", "<urn:pk:c>"}
    assert contents(open_store(Config(), first.spec, first_dir)) == {"<urn:pk:a>", "<urn:pk:b>"}
    # a later stage (the reports) patches what the writer wrote, in place
    assert second.patch([], [A]) == 3
    assert contents(open_store(Config(), second.spec, second_dir)) == {"<urn:pk:a>", "<urn:pk:b>", "<urn:pk:c>"}


def test_a_local_writer_does_not_patch_what_it_cannot_reach(tmp_path: Path) -> None:
    writer = LocalStoreWriter(tmp_path)
    (tmp_path / "published" / "store").mkdir(parents=True)
    assert writer.can_update(StoreSpec(kind="oxigraph", path="store"), tmp_path / "published")
    assert not writer.can_update(StoreSpec(kind="oxigraph", path="store"), tmp_path / "nothing-here")
    remote = StoreSpec(kind="sparql", url="http://127.0.0.1:1/sparql", graph="urn:g")
    assert not writer.can_update(remote, tmp_path / "published")


def test_the_writer_follows_the_config(tmp_path: Path) -> None:
    assert isinstance(store_writer(Config(store_url=None), "b1", tmp_path), LocalStoreWriter)
    remote = store_writer(Config(store_url="http://dba:secret@127.0.0.1:1/sparql"), "b1", tmp_path)
    assert isinstance(remote, RemoteStoreWriter)
    assert remote.spec.url == "http://127.0.0.1:1/sparql"  # no credentials in what the manifest records
    assert remote.spec.graph is not None and remote.spec.graph.endswith("b1")


def test_finishing_a_local_store_compacts_its_files_and_keeps_every_triple(tmp_path: Path) -> None:
    """Each bulk load and each patch leaves SST files a reader must probe; ``finish`` merges them."""
    writer = LocalStoreWriter(tmp_path)
    many = [b"".join(b'<urn:pk:s%d> <urn:pk:p> "%d" .\n' % (i, j) for i in range(j * 500, j * 500 + 500))
            for j in range(3)]
    writer.write_all(many)
    for j in range(3):  # three later stages' patches, as reports and alignment write them
        writer.patch([], [b'<urn:pk:r%d> <urn:pk:p> <urn:pk:s%d> .\n' % (j, j)])
    before = {str(q) for q in ox.Store.read_only(str(writer.path))}
    tables = len(list(writer.path.glob("*.sst")))
    writer.finish()
    assert {str(q) for q in ox.Store.read_only(str(writer.path))} == before
    assert len(before) == 1503
    assert len(list(writer.path.glob("*.sst"))) < tables
