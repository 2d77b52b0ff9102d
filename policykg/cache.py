"""The build cache (``.<build>.cache/`` next to the build path): parsed plans and their triples, by content.

Why: a corpus of a thousand plans must not be re-parsed and re-described because one plan was
added. A record is keyed by the source's sha256, its file name, the unit table and the parser's own
code (a parser change re-parses everything, as it must); a plan's triples by its record key, its
final id and the describing code. The embedding cache (``embeddings/``, by text hash) belongs to
:mod:`search.engine`; this module only names its folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from ingest.records import Plan, plan_from_dict, plan_to_dict

from .manifest import BuildManifest

CACHE_DAYS = 7  # an entry of the build cache no kept build uses is dropped after this many days
_ROOT = Path(__file__).resolve().parents[1]
# the code that turns sources into records and triples: an upgraded parser makes old builds stale
CODE_THAT_SHAPES_BUILDS = ("ingest", "graph/rdf.py", "graph/aggregates.py", "graph/namespaces.py", "graph/corpus.py",
                           "graph/unit_totals.py", "policykg/totals.py")
#: the code that turns records into triples (a plan's facts and its aggregates)
CODE_THAT_DESCRIBES = ("graph/rdf.py", "graph/aggregates.py", "graph/namespaces.py", "graph/corpus.py",
                       "graph/unit_totals.py", "policykg/totals.py")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_fingerprint(*parts: str) -> str:
    """Hash of the code that shapes cached data, so a code change invalidates what it made."""
    h = hashlib.sha256()
    for part in parts:
        path = _ROOT / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(f.relative_to(_ROOT).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class BuildCache:
    """Per-plan records and triples, by content; shared by every build of one build path."""

    def __init__(self, build_path: Path) -> None:
        self.root = build_path.parent / f".{build_path.name}.cache"
        self.records = self.root / "records"
        self.triples = self.root / "triples"
        self.embeddings = self.root / "embeddings"
        for d in (self.records, self.triples):
            d.mkdir(parents=True, exist_ok=True)
        self._parser = code_fingerprint("ingest")
        self.describer = code_fingerprint(*CODE_THAT_DESCRIBES)

    def record_key(self, sha: str, name: str, units_sha: str) -> str:
        return hashlib.sha256(f"{sha}|{name}|{units_sha}|{self._parser}".encode()).hexdigest()[:32]

    def triples_key(self, record_key: str, plan_id: str) -> str:
        return hashlib.sha256(f"{record_key}|{plan_id}|{self.describer}".encode()).hexdigest()[:32]

    def record_path(self, key: str) -> Path:
        return self.records / f"{key}.json"

    def load_plan(self, key: str) -> Plan | None:
        path = self.record_path(key)
        try:
            return plan_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing or from an older record format: parse again

    def save_plan(self, key: str, plan: Plan) -> None:
        write_atomic(self.record_path(key), json.dumps(plan_to_dict(plan), ensure_ascii=False).encode("utf-8"))

    def load_triples(self, key: str) -> bytes | None:
        path = self.triples / f"{key}.nt"
        return path.read_bytes() if path.exists() else None

    def save_triples(self, key: str, data: bytes) -> None:
        write_atomic(self.triples / f"{key}.nt", data)

    def prune(self, manifests: Iterable[BuildManifest], max_age_days: float = CACHE_DAYS) -> int:
        """Drop cached records and triples that none of ``manifests`` uses and that are older than
        ``max_age_days``; returns how many files went.

        Why an age and not just "unused": an edit undone, or a plan moved out and back, finds its
        parse still cached for a while; without any limit the cache grows with every edit forever.
        The embedding cache (one file, by text) is not pruned here.
        """
        used_records: set[str] = set()
        used_triples: set[str] = set()
        for manifest in manifests:
            for entry in manifest.plans:
                used_records.add(entry.key)
                used_triples.add(self.triples_key(entry.key, entry.id))
        cutoff = time.time() - max_age_days * 86400
        dropped = 0
        for folder, used in ((self.records, used_records), (self.triples, used_triples)):
            for path in folder.iterdir():
                if path.stem in used or path.name.startswith("."):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        dropped += 1
        return dropped
