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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.corpus import (
    create_store,
    parse_ntriples,
    plan_kinds,
    plan_ntriples,
    removal_triples,
    update_store,
)
from graph.nxgraph import build_networkx
from graph.rdf import gov_id
from graph.store import GraphStore
from ingest import IngestError, load_unit_table, read_plan
from ingest.records import Plan, plan_from_dict, plan_to_dict
from sparql.remote import RemoteStore, graph_iri, public_url

from .config import DEFAULT_MODEL, Config

if TYPE_CHECKING:
    import networkx as nx
    import pyoxigraph as ox

    from search.engine import SearchEngine

Progress = Callable[[str, float], None]
FORMAT_VERSION = 3  # 3: one record file per plan, per-plan summaries in the manifest
PLAN_SUFFIXES = (".txt", ".docx", ".pdf", ".text", ".md")
KEEP_BUILDS = 2
CACHE_DAYS = 7  # an entry of the build cache no kept build uses is dropped after this many days
PARALLEL_FROM = 16  # parse in worker processes when at least this many plans need parsing
FULL_REBUILD_SHARE = 0.5  # above this share of changed plans, rebuild the store from scratch
_ROOT = Path(__file__).resolve().parents[1]


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


def _source_fingerprint(files: Sequence[Path], config: Config, shas: Sequence[str] | None = None) -> str:
    h = hashlib.sha256()
    for i, f in enumerate(files):
        h.update(str(f.resolve()).encode())
        h.update((shas[i] if shas is not None else _sha256(f)).encode())
    # the unit table shapes records; the term list and thesaurus shape the search index
    for extra in (config.units, config.terms, config.thesaurus):
        h.update(_sha256(extra).encode() if extra.exists() else b"-")
    # the code that turns sources into records and triples: an upgraded parser makes old builds stale
    h.update(_code_fingerprint(*CODE_THAT_SHAPES_BUILDS).encode())
    return h.hexdigest()


CODE_THAT_SHAPES_BUILDS = ("ingest", "graph/rdf.py", "graph/namespaces.py", "graph/corpus.py")


def _code_fingerprint(*parts: str) -> str:
    """Hash of the code that shapes cached data, so a code change invalidates what it made."""
    h = hashlib.sha256()
    for part in parts:
        path = _ROOT / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(f.relative_to(_ROOT).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


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


def _unique_ids(ids: Sequence[str]) -> list[str]:
    """Two plans of one issuer and period (a draft and the final text) keep apart by source."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for pid in ids:
        n = seen.get(pid, 0)
        seen[pid] = n + 1
        out.append(pid if n == 0 else f"{pid}-{n + 1}")
    return out


# --- the cache of parsed plans and their triples ---------------------------------------------------


class BuildCache:
    """Per-plan records and triples, by content; shared by every build of one build path."""

    def __init__(self, build_path: Path) -> None:
        self.root = build_path.parent / f".{build_path.name}.cache"
        self.records = self.root / "records"
        self.triples = self.root / "triples"
        self.embeddings = self.root / "embeddings"
        for d in (self.records, self.triples):
            d.mkdir(parents=True, exist_ok=True)
        self._parser = _code_fingerprint("ingest")
        self._describer = _code_fingerprint("graph/rdf.py", "graph/namespaces.py", "graph/corpus.py")

    def record_key(self, sha: str, name: str, units_sha: str) -> str:
        return hashlib.sha256(f"{sha}|{name}|{units_sha}|{self._parser}".encode()).hexdigest()[:32]

    def triples_key(self, record_key: str, plan_id: str) -> str:
        return hashlib.sha256(f"{record_key}|{plan_id}|{self._describer}".encode()).hexdigest()[:32]

    def record_path(self, key: str) -> Path:
        return self.records / f"{key}.json"

    def load_plan(self, key: str) -> Plan | None:
        path = self.record_path(key)
        try:
            return plan_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing or from an older record format: parse again

    def save_plan(self, key: str, plan: Plan) -> None:
        _write_atomic(self.record_path(key),
                      json.dumps(plan_to_dict(plan), ensure_ascii=False).encode("utf-8"))

    def load_triples(self, key: str) -> bytes | None:
        path = self.triples / f"{key}.nt"
        return path.read_bytes() if path.exists() else None

    def save_triples(self, key: str, data: bytes) -> None:
        _write_atomic(self.triples / f"{key}.nt", data)

    def prune(self, manifests: Iterable[dict[str, Any]], max_age_days: float = CACHE_DAYS) -> int:
        """Drop cached records and triples that none of ``manifests`` uses and that are older than
        ``max_age_days``; returns how many files went.

        Why an age and not just "unused": an edit undone, or a plan moved out and back, finds its
        parse still cached for a while; without any limit the cache grows with every edit forever.
        The embedding cache (one file, by text) is not pruned here.
        """
        used_records: set[str] = set()
        used_triples: set[str] = set()
        for manifest in manifests:
            for entry in manifest.get("plans", []):
                if "key" in entry and "id" in entry:
                    used_records.add(entry["key"])
                    used_triples.add(self.triples_key(entry["key"], entry["id"]))
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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


_worker_table: Any = None


def _parse_in_worker(path: str, units: str | None) -> dict[str, Any]:
    """Parse one plan in a worker process (the unit table is loaded once per worker)."""
    global _worker_table
    if _worker_table is None:
        _worker_table = load_unit_table(Path(units) if units else None)
    return plan_to_dict(read_plan(Path(path), _worker_table))


def _pool(n_jobs: int) -> ProcessPoolExecutor | None:
    workers = min(os.cpu_count() or 1, 8)
    return ProcessPoolExecutor(workers) if n_jobs >= PARALLEL_FROM and workers > 1 else None


def _load_plans(files: Sequence[Path], shas: Sequence[str], keys: Sequence[str], which: Iterable[int],
                config: Config, cache: BuildCache, report: Progress) -> tuple[dict[int, Plan], list[str]]:
    """The plans at the given indices, from the cache or parsed now (in worker processes when many).

    Returns them by index, and the names of the files that had to be parsed (cache misses).
    """
    units_path = config.units if config.units.exists() else None
    found: dict[int, Plan] = {}
    todo: list[int] = []
    for i in which:
        plan = cache.load_plan(keys[i])
        if plan is not None and plan.sha256 == shas[i]:
            found[i] = plan
        else:
            todo.append(i)
    pool = _pool(len(todo))
    if pool is None:
        table = load_unit_table(units_path) if todo else None
        for n, i in enumerate(todo):
            report(f"parse {files[i].name}", n / max(1, len(todo)))
            found[i] = read_plan(files[i], table)
            cache.save_plan(keys[i], found[i])
    else:
        with pool:
            futures = {i: pool.submit(_parse_in_worker, str(files[i]), str(units_path) if units_path else None)
                       for i in todo}
            for n, i in enumerate(todo):
                report(f"parse {files[i].name}", n / max(1, len(todo)))
                found[i] = plan_from_dict(futures[i].result())
                cache.save_plan(keys[i], found[i])
    return found, [files[i].name for i in todo]


def _triples_for(plans: dict[int, Plan], keys: Sequence[str], cache: BuildCache) -> dict[int, bytes]:
    """N-Triples of the given plans, from the cache or described now (in worker processes when many)."""
    tkeys = {i: cache.triples_key(keys[i], p.id) for i, p in plans.items()}
    out: dict[int, bytes] = {}
    todo: list[int] = []
    for i, k in tkeys.items():
        data = cache.load_triples(k)
        if data is None:
            todo.append(i)
        else:
            out[i] = data
    pool = _pool(len(todo))
    if pool is None:
        made: Iterable[bytes] = (plan_ntriples(plans[i]) for i in todo)
    else:
        with pool:
            made = list(pool.map(plan_ntriples, [plans[i] for i in todo], chunksize=8))
    for i, data in zip(todo, made, strict=True):
        cache.save_triples(tkeys[i], data)
        out[i] = data
    return out


def _summary(plan: Plan, key: str, base_id: str) -> dict[str, Any]:
    """What the manifest keeps of a plan, so a later incremental build need not read its record."""
    return {
        "id": plan.id, "base_id": base_id, "title": plan.title, "source": plan.source, "sha256": plan.sha256,
        "key": key, "record": f"records/{plan.id}.json", "gov": gov_id(plan), "kinds": plan_kinds(plan),
        "counts": {"chapters": len(plan.chapters), "sections": len(plan.sections), "tasks": len(plan.tasks),
                   "units": len(plan.units), "defects": len(plan.defects)},
    }


def _link_or_write(dest: Path, sources: Sequence[Path], data: Callable[[], bytes]) -> None:
    """Hard-link the first existing source to ``dest`` (no copy, no parse); else write ``data()``."""
    for src in sources:
        try:
            os.link(src, dest)
            return
        except FileNotFoundError:
            continue
        except OSError:  # another file system: copy instead
            if src.exists():
                shutil.copyfile(src, dest)
                return
    dest.write_bytes(data())


@dataclass(frozen=True)
class BuildInfo:
    path: Path
    plans: int
    tasks: int
    triples: int
    defects: int
    seconds: float
    manifest: dict[str, Any] = field(default_factory=dict)


def _previous(target: Path) -> dict[str, Any] | None:
    """The manifest of the published build, when it can seed an incremental one."""
    try:
        manifest: dict[str, Any] = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT_VERSION or not all("key" in p for p in manifest.get("plans", [])):
        return None
    return manifest


def _store_spec(config: Config, work: Path) -> dict[str, Any]:
    if config.store_url:
        return {"kind": "sparql", "url": public_url(config.store_url), "graph": graph_iri(work.name)}
    return {"kind": "oxigraph", "path": "store"}


def _remote(config: Config, spec: dict[str, Any]) -> RemoteStore:
    url = config.store_url if config.store_url and public_url(config.store_url) == spec["url"] else spec["url"]
    return RemoteStore(url, spec["graph"], update_url=os.environ.get("POLICYKG_STORE_UPDATE_URL") or None)


def build(config: Config, paths: Sequence[Path] | None = None, progress: Progress | None = None,
          *, with_search: bool = True) -> BuildInfo:
    """Build the graph (and the search index) for the plans at ``paths`` (default: the plans folder).

    Incremental when a previous build can be reused (see the module docstring); the result is the
    same as a full build's either way.
    """
    report = progress or _quiet
    started = time.perf_counter()
    files = discover(list(paths) if paths else [config.plans])
    target = config.build
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 3)
        return now

    with build_lock(target):
        cache = BuildCache(target)
        shas = [_sha256(f) for f in files]
        units_sha = _sha256(config.units) if config.units.exists() else ""
        keys = [cache.record_key(sha, f.name, units_sha) for f, sha in zip(files, shas, strict=True)]
        t = lap("hash", started)
        previous = _previous(target)
        known = {e["key"]: e for e in previous["plans"]} if previous else {}
        # plans the previous build does not describe must be read (or parsed) to know their ids
        loaded, parsed = _load_plans(files, shas, keys, [i for i, k in enumerate(keys) if k not in known],
                                     config, cache, report)
        ids = _unique_ids([loaded[i].id if i in loaded else known[k]["base_id"] for i, k in enumerate(keys)])
        t = lap("parse", t)

        versions = target.parent / ".builds"
        versions.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        work = versions / f"{stamp}-{os.getpid()}"
        n = 1
        while work.exists() or work.with_name(work.name + ".partial").exists():
            n += 1  # a second build within the same second
            work = versions / f"{stamp}-{os.getpid()}-{n}"
        tmp = work.with_name(work.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        spec = _store_spec(config, work)
        remote = _remote(config, spec) if spec["kind"] == "sparql" else None
        def final_plans(which: Iterable[int]) -> dict[int, Plan]:
            """The plans at these indices with their build ids, read from the cache or parsed."""
            which = list(which)
            more, names = _load_plans(files, shas, keys, [i for i in which if i not in loaded], config, cache,
                                      report)
            loaded.update(more)
            parsed.extend(names)
            return {i: loaded[i] if loaded[i].id == ids[i] else replace(loaded[i], id=ids[i]) for i in which}

        try:
            step = _plan_store_update(previous, ids, keys, cache, spec, target)
            # the plans this build works on: all of them for a full build, the new ones otherwise
            # (which include every plan read above: a plan the previous build lacks is new)
            wanted = range(len(files)) if step is None else step.add
            plans = final_plans(wanted)
            report("parse", 1.0)
            summaries = [_summary(plans[i], keys[i], loaded[i].id) if i in plans else {**known[k], "id": ids[i]}
                         for i, k in enumerate(keys)]
            (tmp / "records").mkdir()
            for i, entry in enumerate(summaries):
                sources = [cache.record_path(keys[i])] if entry["base_id"] == entry["id"] else []
                if known.get(keys[i], {}).get("id") == entry["id"]:
                    sources.append(target / known[keys[i]]["record"])
                _link_or_write(tmp / entry["record"], sources, lambda i=i: json.dumps(  # type: ignore[misc]
                    plan_to_dict(plans[i]), ensure_ascii=False).encode("utf-8"))
            t = lap("records", t)
            report("graph", 0.0)
            nts = _triples_for({i: plans[i] for i in wanted}, keys, cache)
            t = lap("describe", t)
            report("store", 0.3)
            if remote is not None:
                if step is not None:
                    remote.copy_from(previous["store"]["graph"])  # type: ignore[index]
                    remote.delete(step.remove)
                    remote.insert(nts[i] for i in step.add)
                else:
                    remote.drop()
                    remote.insert(nts[i] for i in range(len(files)))
                triples = len(remote)
            elif step is not None:
                triples = update_store(target.resolve() / "store", tmp / "store", step.remove,
                                       (nts[i] for i in step.add))
            else:
                triples = create_store(tmp / "store", (nts[i] for i in range(len(files))))
            del nts
            t = lap("store", t)
            report("store", 1.0)
            model = None
            search: dict[str, Any] = {}
            if with_search:
                from search.embedders import normalise_spec

                model = normalise_spec(config.model or DEFAULT_MODEL)
                search = _build_search(config, model, target, tmp, ids, plans, step, cache, report,
                                       lambda: final_plans(range(len(files))))
                t = lap("search", t)
            counts = {name: sum(e["counts"][name] for e in summaries)
                      for name in ("chapters", "sections", "tasks", "units", "defects")}
            manifest: dict[str, Any] = {
                "format": FORMAT_VERSION,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "sources": [str(f.resolve()) for f in files],
                "fingerprint": _source_fingerprint(files, config, shas),
                "plans": summaries,
                "counts": {"plans": len(files), **counts, "triples": triples},
                "store": spec,
                "model": model,
                "units_file": str(config.units),
                "incremental": {
                    "mode": "incremental" if step is not None else "full",
                    "parsed": parsed,
                    "added": [ids[i] for i in step.add] if step is not None else list(ids),
                    "removed": step.removed if step is not None else [],
                    "embedded_texts": search.get("embedded"),
                    "search": (search.get("update") or {}).get("mode"),
                    "seconds": timings,
                },
            }
            manifest["files"] = file_checksums(tmp, previous=(target.resolve(), previous))
            t = lap("checksums", t)
            # the manifest is written last: a build without one is incomplete
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            tmp.rename(work)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if remote is not None:
                with contextlib.suppress(Exception):
                    remote.drop()
            raise
        _publish(target, work)
        _prune(versions, keep={work.name}, config=config)
        cache.prune(m for p in versions.iterdir() if (m := _previous(p)) is not None)
        report("done", 1.0)
    return BuildInfo(target, len(files), counts["tasks"], triples, counts["defects"],
                     time.perf_counter() - started, manifest)


def _build_search(config: Config, model: str, target: Path, tmp: Path, ids: Sequence[str], plans: dict[int, Plan],
                  step: _StoreStep | None, cache: BuildCache, report: Progress,
                  all_plans: Callable[[], dict[int, Plan]]) -> dict[str, Any]:
    """The search index: updated from the previous build's when only some plans changed, else built anew.

    ``plans`` holds the plans this build worked on; ``all_plans`` reads the others too, only needed
    when the index is built anew.
    """
    from search.engine import SearchEngine, SearchIndexError

    options: dict[str, Any] = {
        "model": model,
        "thesaurus": config.thesaurus if config.thesaurus.exists() else None,
        "terms": config.terms if config.terms.exists() else None,
        "progress": lambda stage, frac: report(f"search: {stage}", frac),
        "embed_cache": cache.embeddings,
    }
    if step is not None and (target / "search").is_dir():
        try:
            return SearchEngine.update(target / "search", tmp / "search", ids, [plans[i] for i in step.add],
                                       **options)
        except SearchIndexError as exc:
            report(f"search: rebuilding ({exc})", 0.0)
    everything = all_plans()
    engine = SearchEngine.build([everything[i] for i in range(len(ids))], tmp / "search", **options)
    return engine.manifest


@dataclass
class _StoreStep:
    """What an incremental build does to a copy of the previous store."""

    remove: list[ox.Triple]
    add: list[int]  # indices into the new plans
    removed: list[str]  # ids of plans that left or changed


def _plan_store_update(previous: dict[str, Any] | None, ids: Sequence[str], keys: Sequence[str],
                       cache: BuildCache, spec: dict[str, Any], target: Path) -> _StoreStep | None:
    """The delete/add step from the previous build to this one, or None when a full build is due.

    Reads no record of an unchanged plan: the removal needs only the triples of the remaining plans
    of the leaving plan's government (from the cache) and the unit kinds all remaining plans use
    (from the previous manifest).
    """
    if previous is None:
        return None
    prev_spec = previous.get("store") or {}
    if prev_spec.get("kind") != spec["kind"]:
        return None
    if spec["kind"] == "sparql" and prev_spec.get("url") != spec["url"]:
        return None
    if spec["kind"] == "oxigraph" and not (target / "store").is_dir():
        return None
    old = {(p["id"], p["key"]): p for p in previous["plans"]}
    new = set(zip(ids, keys, strict=True))
    add = [i for i, pair in enumerate(zip(ids, keys, strict=True)) if pair not in old]
    leaving = [p for p in previous["plans"] if (p["id"], p["key"]) not in new]
    if len(add) + len(leaving) > max(2, FULL_REBUILD_SHARE * len(ids)):
        return None
    unchanged = [old[pair] for pair in zip(ids, keys, strict=True) if pair in old]
    kinds_used = {k for e in unchanged for k in e["kinds"]}

    @functools.cache
    def triples_of_key(key: str, plan_id: str) -> tuple[ox.Triple, ...] | None:
        """A plan's triples, read once even when several leaving plans share its government."""
        data = cache.load_triples(cache.triples_key(key, plan_id))
        if data is None:
            plan = cache.load_plan(key)
            if plan is None:
                return None
            data = plan_ntriples(replace(plan, id=plan_id))
        return tuple(parse_ntriples(data))

    def triples_of(entry: dict[str, Any]) -> tuple[ox.Triple, ...] | None:
        return triples_of_key(entry["key"], entry["id"])

    remove: list[ox.Triple] = []
    for entry in leaving:
        old_triples = triples_of(entry)
        if old_triples is None:
            return None  # the cache was cleared: rebuild from scratch
        kept: set[ox.Triple] = set()
        for other in unchanged:
            if other["gov"] == entry["gov"]:
                theirs = triples_of(other)
                if theirs is None:
                    return None
                kept.update(theirs)
        remove += removal_triples(entry["id"], old_triples, kept, kinds_used)
    return _StoreStep(list(dict.fromkeys(remove)), add, [e["id"] for e in leaving])


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


def _prune(versions: Path, keep: set[str], config: Config | None = None) -> None:
    """Keep the newest builds (readers may still hold the previous one open); drop partial leftovers.

    A dropped build that lived on a SPARQL server also has its named graph dropped there.
    """
    entries = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    complete = [p for p in entries if not p.name.endswith(".partial")]
    for p in complete[KEEP_BUILDS:]:
        if p.name not in keep:
            spec = (_previous(p) or {}).get("store") or {}
            if spec.get("kind") == "sparql" and config is not None:
                with contextlib.suppress(Exception):
                    _remote(config, spec).drop()
            shutil.rmtree(p, ignore_errors=True)
    for p in entries:
        if p.name.endswith(".partial") and time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


# Files that change while a store is open, or that say nothing about its content.
_UNCHECKED = ("LOCK", "LOG")


def file_checksums(directory: Path, previous: tuple[Path, dict[str, Any] | None] | None = None
                   ) -> dict[str, list[Any]]:
    """Size and sha256 of every file of a build (records, store and search index), by relative path.

    ``previous``: the published build and its manifest. A file that is a hard link of one of its
    files (unchanged records, the store's immutable SST files) keeps that file's digest instead of
    being read again: at a thousand plans that is most of the build's bytes.
    """
    prev_dir, prev_manifest = previous or (None, None)
    prev_files: dict[str, list[Any]] = (prev_manifest or {}).get("files", {})
    out: dict[str, list[Any]] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if not path.is_file() or rel == "manifest.json" or path.name.startswith(_UNCHECKED):
            continue
        st = path.stat()
        known = prev_files.get(rel)
        if known is not None and prev_dir is not None and known[0] == st.st_size:
            with contextlib.suppress(OSError):
                if (prev_dir / rel).stat().st_ino == st.st_ino:
                    out[rel] = [st.st_size, known[1]]
                    continue
        out[rel] = [st.st_size, _sha256(path)]
    return out


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
        if self.manifest.get("format") != FORMAT_VERSION:
            raise BuildError(f"{path}: made by another version of policykg (format {self.manifest.get('format')}, "
                             f"this one reads {FORMAT_VERSION}); run `policykg build` again")
        self.check_files(deep=False)

    @cached_property
    def plans(self) -> list[Plan]:
        """The plans' records, read on first use (a thousand plans take seconds; `stats` needs none)."""
        plans: list[Plan] = []
        for entry in self.manifest["plans"]:
            path = self.path / entry["record"]
            try:
                plan = plan_from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise BuildError(f"{path}: unreadable record ({exc}); run `policykg build` again") from exc
            plans.append(plan if plan.id == entry["id"] else replace(plan, id=entry["id"]))
        return plans

    def check_files(self, *, deep: bool = True) -> None:
        """Compare the build's files with the manifest: presence and size always, content when ``deep``.

        A build damaged on disk (a truncated index, a deleted store file, a partial copy) is refused
        with a message that says how to rebuild, instead of answering queries from half a graph.
        """
        for rel, (size, digest) in self.manifest.get("files", {}).items():
            path = self.path / rel
            problem = ""
            if not path.is_file():
                problem = "is missing"
            elif path.stat().st_size != size:
                problem = f"has {path.stat().st_size:,} bytes, the manifest says {size:,}"
            elif deep and _sha256(path) != digest:
                problem = "does not match its checksum"
            if problem:
                raise BuildError(f"{path}: {problem} (damaged build); run `policykg build` to make a new one")

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
                if not auto_build or (paths is None and existing.is_current()):
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
        if self.config.model and self.manifest.get("model") is not None:
            from search.embedders import normalise_spec

            if self.manifest["model"] != normalise_spec(self.config.model):
                return False  # a different embedding model was asked for
        spec = self.manifest.get("store") or {}
        if self.config.store_url and (spec.get("kind") != "sparql" or spec.get("url") != public_url(self.config.store_url)):
            return False  # the graph was asked for on (another) SPARQL server
        return _source_fingerprint(files, self.config) == self.manifest.get("fingerprint")

    @cached_property
    def store(self) -> GraphStore:
        """The graph store: embedded Oxigraph, or (``--store URL`` builds) a :class:`RemoteStore`.

        Typed as ``GraphStore`` because a ``RemoteStore`` offers what callers use of one (``query``,
        ``ox``, ``rdflib_graph``, ``to_memory_graph``, ``len``); ``is_remote`` tells them apart.
        """
        spec = self.manifest.get("store") or {"kind": "oxigraph"}
        if spec.get("kind") == "sparql":
            return _remote(self.config, spec)  # type: ignore[return-value]
        return GraphStore.open(self.path / "store")

    @property
    def is_remote(self) -> bool:
        return (self.manifest.get("store") or {}).get("kind") == "sparql"

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

    def plan(self, plan_id: str) -> Plan:
        for p in self.plans:
            if p.id == plan_id:
                return p
        raise KeyError(plan_id)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.manifest["counts"])
