"""A build's ``manifest.json``, typed: what was built from what, read and written only here.

Why typed: the manifest was a dict read by string key in some eighty places (CLI, app pages, the
endpoint, tests, benchmarks), so a renamed key failed at the reader, far from the writer. Now
:class:`BuildManifest` and :class:`PlanSummary` are the one definition; :func:`read_manifest` and
:func:`write_manifest` the one reader and writer; the format check happens once, in
:func:`read_manifest`, with one message ("rebuild with `policykg build`").

Adding a field is one line: give it a default, and manifests written before it still read (the
default fills in). A change that old manifests cannot satisfy (a renamed or retyped field) bumps
:data:`FORMAT_VERSION`, which makes every older build rebuild.

The search index keeps its own manifest (``search/manifest.json``, owned by :mod:`search`); this
module does not read it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.errors import PolicykgError

FORMAT_VERSION = 3  # 3: one record file per plan, per-plan summaries in the manifest
MANIFEST_NAME = "manifest.json"
REBUILD = "rebuild with `policykg build`"


class BuildError(PolicykgError):
    """A build is missing, stale or damaged; the message says what to run."""


@dataclass(frozen=True)
class PlanCounts:
    """How much one plan holds; a build's totals are their sums (plus plans and triples)."""

    chapters: int = 0
    sections: int = 0
    tasks: int = 0
    units: int = 0
    defects: int = 0


@dataclass(frozen=True)
class BuildCounts(PlanCounts):
    plans: int = 0
    triples: int = 0
    reports: int = 0  # annual reports (issue #15)
    evidence_links: int = 0  # statement → task links of those reports

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PlanSummary:
    """What a build keeps of one plan, so a later incremental build need not read its record.

    ``key`` is the plan's record key in the build cache (source sha256, file name, unit table,
    parser code); ``base_id`` its id before de-duplication (two plans of one issuer and period);
    ``gov`` and ``kinds`` are what removing its triples from a shared store needs.
    """

    id: str
    base_id: str
    key: str
    record: str  # path of the record file, relative to the build
    title: str = ""
    source: str = ""
    sha256: str = ""
    gov: str = ""
    kinds: list[str] = field(default_factory=list)
    counts: PlanCounts = field(default_factory=PlanCounts)
    issuer: str = ""  # with the period: which plan is whose parent, without reading the record
    period_start: int | None = None
    period_end: int | None = None
    # how the document was read (ingest.layouts): layouts recognised, most tasks first; the share of
    # its body text that ended up in tasks; tasks that name no unit
    layouts: list[str] = field(default_factory=list)
    body_share: float = 0.0
    tasks_without_units: int = 0


@dataclass(frozen=True)
class ReportCounts:
    statements: int = 0
    linked: int = 0  # statements with at least one evidence link
    links: int = 0
    defects: int = 0


@dataclass(frozen=True)
class ReportSummary:
    """What a build keeps of one annual report (``policykg.follow``).

    ``key`` is the report's link key in the follow-through cache (its parse, the record keys of the
    plans it is linked to, the model, the code): an unchanged key means its links and triples are
    reused as they are; ``plans`` are the ids of the plans it reports on.
    """

    id: str
    key: str
    record: str  # reports/<id>.json, relative to the build
    path: str  # the source file, resolved
    title: str = ""
    source: str = ""
    sha256: str = ""
    year: int | None = None
    issuer: str = ""
    gov: str = ""
    plans: list[str] = field(default_factory=list)
    counts: ReportCounts = field(default_factory=ReportCounts)


@dataclass(frozen=True)
class ReportsDone:
    """Which reports this build linked anew, which it reused from the cache, which left."""

    linked: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoreSpec:
    """Where a build's graph lives: ``store/`` in the build (oxigraph) or a named graph on a server."""

    kind: Literal["oxigraph", "sparql"] = "oxigraph"
    path: str | None = None  # oxigraph: relative to the build
    url: str | None = None  # sparql: the query endpoint, without credentials
    graph: str | None = None  # sparql: the named graph of this build


@dataclass(frozen=True)
class IncrementalReport:
    """What this build did: ``full`` or ``incremental``, what it parsed, added, removed, embedded."""

    mode: Literal["full", "incremental"] = "full"
    parsed: list[str] = field(default_factory=list)  # file names parsed (cache misses)
    added: list[str] = field(default_factory=list)  # plan ids written to the store
    removed: list[str] = field(default_factory=list)  # plan ids taken out of the previous store
    embedded_texts: int | None = None  # texts embedded anew (None: no search index)
    search: str | None = None  # the search index's own mode: "full" or "incremental"
    reports: ReportsDone = field(default_factory=ReportsDone)
    unit_totals: list[str] = field(default_factory=list)  # governments whose unit totals were recomputed
    seconds: dict[str, float] = field(default_factory=dict)  # by stage


@dataclass(frozen=True)
class ParentSummary:
    """A parent plan of ``data/parents`` (policykg.align_stage): in the graph, not in search."""

    id: str
    key: str  # record key in the build cache
    record: str  # parents/<id>.json, relative to the build
    title: str = ""
    source: str = ""
    sha256: str = ""
    issuer: str = ""
    period_start: int | None = None
    period_end: int | None = None
    measures: int = 0


@dataclass(frozen=True)
class AlignmentSummary:
    """One child plan aligned to one parent plan (policykg.align_stage, analysis.align)."""

    child: str
    parent: str
    key: str  # alignment key in the build cache (both plans' keys, the model, the aligner's code)
    record: str  # alignments/<child>--<parent>.json, relative to the build
    links: int = 0
    local: int = 0
    not_carried: int = 0


@dataclass(frozen=True)
class BuildManifest:
    """The manifest of one build. ``files`` maps each file's relative path to [size, sha256]."""

    fingerprint: str
    plans: list[PlanSummary]
    counts: BuildCounts
    store: StoreSpec
    format: int = FORMAT_VERSION
    created: str = ""
    sources: list[str] = field(default_factory=list)
    model: str | None = None
    units_file: str = ""
    incremental: IncrementalReport = field(default_factory=IncrementalReport)
    files: dict[str, list[Any]] = field(default_factory=dict)
    parents: list[ParentSummary] = field(default_factory=list)
    alignments: list[AlignmentSummary] = field(default_factory=list)
    parents_fingerprint: str = ""  # of data/parents ("" when empty): a change there makes the build stale
    reports: list[ReportSummary] = field(default_factory=list)
    reports_fingerprint: str = ""  # names and contents of the report files read
    describer: str = ""  # fingerprint of the code that made the triples: another one cannot patch this store

    @property
    def plan_ids(self) -> list[str]:
        return [p.id for p in self.plans]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Any, where: str = "manifest") -> BuildManifest:
        """The manifest in ``data``; :class:`BuildError` naming ``where`` when it is not one of ours."""
        if not isinstance(data, dict):
            raise BuildError(f"{where}: not a build manifest; {REBUILD}")
        if data.get("format") != FORMAT_VERSION:
            raise BuildError(f"{where}: made by another version of policykg (format {data.get('format')}, "
                             f"this one reads {FORMAT_VERSION}); {REBUILD}")
        try:
            return _load(cls, data)
        except (TypeError, ValueError, KeyError) as exc:
            raise BuildError(f"{where}: damaged manifest ({exc}); {REBUILD}") from exc


def read_manifest(directory: Path) -> BuildManifest:
    """The manifest of the build in ``directory``; :class:`BuildError` saying what to run when it
    is missing (an unfinished build: the manifest is written last), unreadable or of another format."""
    path = Path(directory) / MANIFEST_NAME
    if not path.exists():
        raise BuildError(f"{directory}: no finished build here; run `policykg build`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(f"{path}: unreadable manifest ({exc}); {REBUILD}") from exc
    return BuildManifest.from_dict(data, str(path))


def try_read_manifest(directory: Path) -> BuildManifest | None:
    """The manifest when there is a readable one of this format, else None (no reason needed)."""
    try:
        return read_manifest(directory)
    except BuildError:
        return None


def write_manifest(directory: Path, manifest: BuildManifest) -> None:
    """Write the manifest last: a build directory without one is unfinished."""
    (Path(directory) / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")


# --- dict -> dataclass, by the fields' annotations --------------------------------------------------


def _load(cls: type, data: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be an object, not {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise KeyError(f"{cls.__name__} lacks {f.name!r}")
    return cls(**kwargs)  # keys this version does not know are ignored


def _convert(tp: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _load(tp, value)
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise TypeError(f"expected a list, not {type(value).__name__}")
        return [_convert(item, v) for v in value]
    if origin in (typing.Union, types.UnionType) and value is not None:
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    return value
