"""The search index's own ``manifest.json``, typed, and the one check of whether an index can serve.

An index is refused (and rebuilt) rather than answering wrongly: vectors of two models are not
comparable, a changed term list cuts texts differently, and changed task texts would point hits at
the wrong task. Every such condition is a :class:`StaleReason`, checked in :func:`staleness` alone,
for loading, for ``is_current`` and for incremental updates alike.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.records import Plan

from .documents import FORMAT_VERSION, source_hash, unit_words
from .embedders import normalise_spec
from .errors import (
    CorruptIndexError,
    IndexMissingError,
    ModelMismatchError,
    SearchIndexError,
    StaleIndexError,
)
from .text import read_terms

INDEX_FILES = ("vec_doc.npy", "docs.json", "bm25", "userdict.txt", "userdict.json")
DENSE_FILES = {"flat": "vectors.npy", "hnsw": "dense.faiss"}  # the vectors, by index kind
_REQUIRED = ("format", "model", "dimension", "count", "source_hash", "views")


def file_sha(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class FileRef:
    """A file the index depends on (term list, thesaurus) by path and content hash."""

    path: str = ""
    sha256: str = ""

    @classmethod
    def of(cls, path: Path | None) -> FileRef:
        return cls(str(path) if path else "", file_sha(path))


@dataclass
class IndexManifest:
    """What ``manifest.json`` records about an index (written by build and update, read by load)."""

    model: str
    dimension: int
    count: int  # documents (tasks)
    views: tuple[str, ...]
    source_hash: str
    vectors: int = 0
    unique_texts: int | None = None  # distinct texts embedded for this index (unknown after an update)
    embedded: int = 0  # texts embedded by the model (the rest came from the embedding cache)
    chunked_tasks: int = 0
    truncated_by_model: int = 0
    index: str = "flat"
    plans: list[dict[str, Any]] = field(default_factory=list)  # id, sha256, tasks, hash, words
    terms: FileRef = field(default_factory=FileRef)
    thesaurus: FileRef = field(default_factory=FileRef)
    update: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    model_choice: dict[str, Any] = field(default_factory=dict)  # how the model was picked ("auto")
    format: int = FORMAT_VERSION
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["views"] = list(self.views)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], where: Path) -> IndexManifest:
        """Parse a manifest; the format is checked here and nowhere else."""
        if data.get("format") != FORMAT_VERSION:
            raise StaleIndexError(
                f"{where}: search index format {data.get('format')} is not {FORMAT_VERSION}; rebuild it"
            )
        for key in _REQUIRED:
            if key not in data:
                raise CorruptIndexError(f"{where} lacks {key!r}; rebuild the index")
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values["views"] = tuple(data["views"])
        values["terms"] = FileRef(**data.get("terms", {}))
        values["thesaurus"] = FileRef(**data.get("thesaurus", {}))
        return cls(**values)

    @classmethod
    def read(cls, directory: Path) -> IndexManifest:
        path = Path(directory) / "manifest.json"
        if not path.exists():
            raise IndexMissingError(f"no search index in {directory} (build it: policykg build)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"{path} is unreadable ({exc}); rebuild the index") from exc
        if not isinstance(data, dict):
            raise CorruptIndexError(f"{path} is not a JSON object; rebuild the index")
        return cls.from_json(data, path)

    def write(self, directory: Path) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=2)
        (Path(directory) / "manifest.json").write_text(text, encoding="utf-8")


class StaleReason(enum.Enum):
    MODEL = "model"  # built with another embedding model
    FILES = "files"  # a file of the index is missing
    TERMS = "terms"  # the term list changed
    THESAURUS = "thesaurus"  # the thesaurus changed
    TEXTS = "texts"  # the plans' tasks or the dictionary changed
    PLANS = "plans"  # an update names a plan the index does not hold
    TOKENS = "tokens"  # the index has no stored tokens to update from


@dataclass(frozen=True)
class Staleness:
    """Why an index cannot serve as asked."""

    reason: StaleReason
    detail: str
    action: str = "rebuild it"

    def error(self, directory: Path) -> SearchIndexError:
        kind = {StaleReason.MODEL: ModelMismatchError, StaleReason.FILES: CorruptIndexError}.get(
            self.reason, StaleIndexError
        )
        return kind(f"search index in {directory} cannot be used: {self.detail}; {self.action}")


@dataclass(frozen=True)
class Sources:
    """The term list and thesaurus an index must have been built with (an update asks this)."""

    terms: Path | None
    thesaurus: Path | None


def staleness(
    directory: Path,
    manifest: IndexManifest,
    *,
    model: str | None = None,
    plans: Sequence[Plan] | None = None,
    sources: Sources | None = None,
) -> Staleness | None:
    """Why the index in ``directory`` cannot serve these plans with this model (None when it can).

    ``model``: the model queries will be embedded with (None: whatever the index was built with).
    ``plans``: re-hash every task text against the manifest (2 s at a thousand plans; skipped when
    None, for a caller that vouches for the plans). ``sources``: require this term list and thesaurus.
    """
    if model is not None and normalise_spec(model) != manifest.model:
        return Staleness(StaleReason.MODEL, f"it was built with model {manifest.model!r}, "
                         f"not {normalise_spec(model)!r} (vectors of two models are not comparable)",
                         "rebuild it with that model, or query with the index's model")
    for name in (*INDEX_FILES, DENSE_FILES.get(manifest.index, "dense.faiss")):
        if not (Path(directory) / name).exists():
            return Staleness(StaleReason.FILES, f"{name} is missing")
    if sources is not None:
        if file_sha(sources.terms) != manifest.terms.sha256:
            return Staleness(StaleReason.TERMS, "the term list changed")
        if file_sha(sources.thesaurus) != manifest.thesaurus.sha256:
            return Staleness(StaleReason.THESAURUS, "the thesaurus changed")
    if plans is not None:
        return _texts_staleness(Path(directory), manifest, plans)
    return None


def _texts_staleness(directory: Path, manifest: IndexManifest, plans: Sequence[Plan]) -> Staleness | None:
    terms_path = Path(manifest.terms.path) if manifest.terms.path else None
    if terms_path is not None and terms_path.exists():
        if file_sha(terms_path) != manifest.terms.sha256:
            return Staleness(StaleReason.TERMS, f"terms file {terms_path} changed")
        words = unit_words(plans) | set(read_terms(terms_path))
    elif terms_path is not None:
        # The terms file moved away (e.g. an installed build): trust the dictionary indexed with.
        words = unit_words(plans) | set((directory / "userdict.txt").read_text(encoding="utf-8").split())
    else:
        words = unit_words(plans)
    if source_hash(plans, views=manifest.views, words=words) != manifest.source_hash:
        return Staleness(StaleReason.TEXTS, "the plans' tasks (or the term dictionary) changed since it was built")
    return None
