"""The build pipeline: plan files → records → RDF store + search index, written atomically.

A build is a directory (``manifest.json``, ``records.json``, ``store/``, ``search/``). It is written
under ``.builds/`` next to the build path and published by atomically replacing the ``build``
symlink, so an interrupted build leaves the previous one in place and usable. A file lock keeps two
builds from interleaving.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.nxgraph import build_networkx
from graph.rdf import plans_to_rdf
from graph.store import GraphStore
from ingest import IngestError, load_unit_table, read_plan
from ingest.records import Plan, plan_from_dict, plan_to_dict

from .config import DEFAULT_MODEL, Config

if TYPE_CHECKING:
    import networkx as nx

    from search.engine import SearchEngine

Progress = Callable[[str, float], None]
FORMAT_VERSION = 1
PLAN_SUFFIXES = (".txt", ".docx", ".pdf", ".text", ".md")
KEEP_BUILDS = 2


class BuildError(Exception):
    """A build is missing, stale or damaged; the message says what to run."""


def _quiet(stage: str, fraction: float) -> None:
    pass


def discover(paths: Sequence[Path]) -> list[Path]:
    """Plan files under the given files and folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PLAN_SUFFIXES
                            and not p.name.startswith("."))
        elif path.exists():
            found.append(path)
        else:
            raise IngestError("file not found", source=str(path), hint="check the path")
    if not found:
        raise IngestError("no plan files (.txt, .docx, .pdf) found", source=", ".join(map(str, paths)),
                          hint="put plans in data/plans or name them on the command line")
    return found


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _source_fingerprint(files: Sequence[Path], config: Config) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.resolve()).encode())
        h.update(_sha256(f).encode())
    if config.units.exists():
        h.update(_sha256(config.units).encode())
    return h.hexdigest()


@contextlib.contextmanager
def build_lock(build_path: Path) -> Iterator[None]:
    """One build at a time per build path; a second one waits for the first."""
    build_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = build_path.parent / f".{build_path.name}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unique_ids(plans: list[Plan]) -> list[Plan]:
    """Two plans of one issuer and period (a draft and the final text) keep apart by source."""
    from dataclasses import replace

    seen: dict[str, int] = {}
    out: list[Plan] = []
    for plan in plans:
        n = seen.get(plan.id, 0)
        seen[plan.id] = n + 1
        out.append(plan if n == 0 else replace(plan, id=f"{plan.id}-{n + 1}"))
    return out


@dataclass(frozen=True)
class BuildInfo:
    path: Path
    plans: int
    tasks: int
    triples: int
    defects: int
    seconds: float
    manifest: dict[str, Any] = field(default_factory=dict)


def build(config: Config, paths: Sequence[Path] | None = None, progress: Progress | None = None,
          *, with_search: bool = True) -> BuildInfo:
    """Build the graph (and the search index) for the plans at ``paths`` (default: the plans folder)."""
    report = progress or _quiet
    started = time.perf_counter()
    files = discover(list(paths) if paths else [config.plans])
    table = load_unit_table(config.units if config.units.exists() else None)
    target = config.build
    with build_lock(target):
        plans: list[Plan] = []
        for i, f in enumerate(files):
            report(f"parse {f.name}", i / len(files))
            plans.append(read_plan(f, table))
        plans = _unique_ids(plans)
        report("parse", 1.0)

        versions = target.parent / ".builds"
        versions.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        work = versions / f"{stamp}-{os.getpid()}"
        tmp = work.with_name(work.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            records = tmp / "records.json"
            records.write_text(json.dumps([plan_to_dict(p) for p in plans], ensure_ascii=False), encoding="utf-8")
            report("graph", 0.0)
            graph = plans_to_rdf(plans)
            report("store", 0.3)
            store = GraphStore.create(tmp / "store", graph)
            triples = len(store)
            del store
            report("store", 1.0)
            model = None
            if with_search:
                model = config.model or DEFAULT_MODEL
                from search.engine import SearchEngine

                SearchEngine.build(plans, tmp / "search", model=model,
                                   thesaurus=config.thesaurus if config.thesaurus.exists() else None,
                                   terms=config.terms if config.terms.exists() else None,
                                   progress=lambda stage, frac: report(f"search: {stage}", frac))
            manifest: dict[str, Any] = {
                "format": FORMAT_VERSION,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "sources": [str(f.resolve()) for f in files],
                "fingerprint": _source_fingerprint(files, config),
                "plans": [{"id": p.id, "title": p.title, "source": p.source, "sha256": p.sha256} for p in plans],
                "counts": {
                    "plans": len(plans),
                    "chapters": sum(len(p.chapters) for p in plans),
                    "sections": sum(len(p.sections) for p in plans),
                    "tasks": sum(len(p.tasks) for p in plans),
                    "units": sum(len(p.units) for p in plans),
                    "triples": triples,
                    "defects": sum(len(p.defects) for p in plans),
                },
                "model": model,
                "records_sha256": _sha256(records),
                "units_file": str(config.units),
            }
            # the manifest is written last: a build without one is incomplete
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            tmp.rename(work)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _publish(target, work)
        _prune(versions, keep={work.name})
        report("done", 1.0)
    counts: dict[str, int] = manifest["counts"]  # type: ignore[assignment]
    return BuildInfo(target, len(plans), counts["tasks"], triples, counts["defects"],
                     time.perf_counter() - started, manifest)


def _publish(target: Path, work: Path) -> None:
    """Point ``target`` at ``work`` in one atomic rename."""
    link = target.with_name(f".{target.name}.link-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(os.path.relpath(work, target.parent))
    if target.exists() and not target.is_symlink():
        # an old-style real directory: move it aside into .builds (kept as a previous build)
        target.rename(work.parent / f"legacy-{int(time.time())}")
    os.replace(link, target)


def _prune(versions: Path, keep: set[str]) -> None:
    """Keep the newest builds (readers may still hold the previous one open); drop partial leftovers."""
    entries = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    complete = [p for p in entries if not p.name.endswith(".partial")]
    for p in complete[KEEP_BUILDS:]:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in entries:
        if p.name.endswith(".partial") and time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


class Build:
    """A finished build, opened read-only. Heavy parts (store, graph, search) load on first use."""

    def __init__(self, path: Path, config: Config) -> None:
        self.path = path.resolve()
        self.config = config
        manifest_file = self.path / "manifest.json"
        if not manifest_file.exists():
            raise BuildError(f"{path}: no finished build here; run `policykg build`")
        try:
            self.manifest: dict[str, Any] = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BuildError(f"{manifest_file}: unreadable manifest ({exc}); run `policykg build` again") from exc
        records = self.path / "records.json"
        if not records.exists() or _sha256(records) != self.manifest.get("records_sha256"):
            raise BuildError(f"{records}: missing or does not match the manifest (damaged build); "
                             "run `policykg build` again")
        self.plans: list[Plan] = [plan_from_dict(d) for d in json.loads(records.read_text(encoding="utf-8"))]

    @classmethod
    def open(cls, config: Config | None = None, *, auto_build: bool = True, progress: Progress | None = None,
             paths: Sequence[Path] | None = None) -> Build:
        """Open the build, making it first when there is none or its sources changed."""
        config = config or Config()
        target = config.build
        if (target / "manifest.json").exists():
            try:
                existing = cls(target, config)
            except BuildError:
                if not auto_build:
                    raise
            else:
                if not auto_build or paths is None and existing.is_current():
                    return existing
        elif not auto_build:
            raise BuildError(f"{target}: no build yet; run `policykg build`")
        build(config, paths, progress)
        return cls(target, config)

    def is_current(self) -> bool:
        """Whether the build's sources and unit table are unchanged since it was made."""
        files = [Path(s) for s in self.manifest.get("sources", [])]
        if not files or not all(f.exists() for f in files):
            return False
        default = self.config.plans.resolve()
        if all(f.is_relative_to(default) for f in files) and default.is_dir():
            try:
                if [f.resolve() for f in discover([default])] != files:
                    return False  # plans were added to or removed from the folder
            except IngestError:
                return False
        if self.config.model and self.manifest.get("model") not in (None, self.config.model):
            return False  # a different embedding model was asked for
        return _source_fingerprint(files, self.config) == self.manifest.get("fingerprint")

    @cached_property
    def store(self) -> GraphStore:
        return GraphStore.open(self.path / "store")

    def networkx(self) -> nx.MultiDiGraph:
        return self._nx

    @cached_property
    def _nx(self) -> nx.MultiDiGraph:
        return build_networkx(self.plans)

    def search_engine(self) -> SearchEngine:
        return self._search

    @cached_property
    def _search(self) -> SearchEngine:
        from search.engine import SearchEngine

        directory = self.path / "search"
        if not directory.exists():
            raise BuildError(f"{self.path}: this build has no search index; run `policykg build`")
        return SearchEngine.load(directory, self.plans, model=self.config.model)

    def plan(self, plan_id: str) -> Plan:
        for p in self.plans:
            if p.id == plan_id:
                return p
        raise KeyError(plan_id)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.manifest["counts"])
