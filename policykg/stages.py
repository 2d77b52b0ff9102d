"""The work inside a build's stages: parse plans, write records, plan the store patch, build the index.

:mod:`policykg.build` runs these in order (hash → parse → records → describe → store → search →
checksums → publish); each function here does one of them and knows nothing of the others' state.
The parse and describe stages use worker processes from :data:`PARALLEL_FROM` plans on; below that
a pool costs more to start (about a second) than it saves.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.corpus import parse_ntriples, plan_kinds, plan_ntriples, removal_triples
from graph.rdf import gov_id
from ingest import load_unit_table, read_plan
from ingest.layouts import require_tasks
from ingest.records import Plan, plan_from_dict, plan_to_dict

from .cache import BuildCache
from .config import Config
from .manifest import BuildManifest, PlanCounts, PlanSummary
from .progress import report_count

if TYPE_CHECKING:
    import pyoxigraph as ox

Progress = Callable[[str, float], None]
PARALLEL_FROM = 16  # parse in worker processes when at least this many plans need parsing
FULL_REBUILD_SHARE = 0.5  # above this share of changed plans, rebuild the store from scratch

# --- parse ------------------------------------------------------------------------------------------

_worker_table: Any = None


def _parse_in_worker(path: str, units: str | None, allow_empty: bool) -> dict[str, Any]:
    """Parse one plan in a worker process (the unit table is loaded once per worker)."""
    global _worker_table
    if _worker_table is None:
        _worker_table = load_unit_table(Path(units) if units else None)
    return plan_to_dict(read_plan(Path(path), _worker_table, allow_empty=allow_empty))


def _pool(n_jobs: int) -> ProcessPoolExecutor | None:
    workers = min(os.cpu_count() or 1, 8)
    return ProcessPoolExecutor(workers) if n_jobs >= PARALLEL_FROM and workers > 1 else None


def load_plans(files: Sequence[Path], shas: Sequence[str], keys: Sequence[str], which: Iterable[int],
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
            # cached by a build with --allow-empty: refused all the same without it
            found[i] = plan if config.allow_empty else require_tasks(plan)
        else:
            todo.append(i)
    pool = _pool(len(todo))
    if pool is None:
        table = load_unit_table(units_path) if todo else None
        for n, i in enumerate(todo):
            report_count(report, f"parse {files[i].name}", n, len(todo))
            found[i] = read_plan(files[i], table, allow_empty=config.allow_empty)
            cache.save_plan(keys[i], found[i])
    else:
        with pool:
            futures = {i: pool.submit(_parse_in_worker, str(files[i]), str(units_path) if units_path else None,
                                      config.allow_empty) for i in todo}
            for n, i in enumerate(todo):
                report_count(report, f"parse {files[i].name}", n, len(todo))
                found[i] = plan_from_dict(futures[i].result())
                cache.save_plan(keys[i], found[i])
    if todo:
        report_count(report, "parse", len(todo), len(todo))
    return found, [files[i].name for i in todo]


def unique_ids(ids: Sequence[str]) -> list[str]:
    """Two plans of one issuer and period (a draft and the final text) keep apart by source."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for pid in ids:
        n = seen.get(pid, 0)
        seen[pid] = n + 1
        out.append(pid if n == 0 else f"{pid}-{n + 1}")
    return out


# --- records ----------------------------------------------------------------------------------------


def plan_summary(plan: Plan, key: str, base_id: str) -> PlanSummary:
    """What the manifest keeps of a plan, so a later incremental build need not read its record."""
    return PlanSummary(
        id=plan.id, base_id=base_id, title=plan.title, source=plan.source, sha256=plan.sha256,
        key=key, record=f"records/{plan.id}.json", gov=gov_id(plan), kinds=plan_kinds(plan),
        counts=PlanCounts(chapters=len(plan.chapters), sections=len(plan.sections), tasks=len(plan.tasks),
                          units=len(plan.units), defects=len(plan.defects)),
        issuer=plan.issuer, period_start=plan.period_start, period_end=plan.period_end,
        layouts=list(plan.layouts), body_share=plan.body_share,
        tasks_without_units=sum(1 for t in plan.tasks
                                if not (t.lead_units or t.responsible_units or t.participating_units)),
    )


def link_or_write(dest: Path, sources: Sequence[Path], data: Callable[[], bytes]) -> None:
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


def record_bytes(plan: Plan) -> bytes:
    return json.dumps(plan_to_dict(plan), ensure_ascii=False).encode("utf-8")


# --- describe ---------------------------------------------------------------------------------------


def triples_for(plans: dict[int, Plan], keys: Sequence[str], cache: BuildCache) -> dict[int, bytes]:
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


# --- store: the incremental patch -------------------------------------------------------------------


@dataclass
class StoreStep:
    """What an incremental build does to a copy of the previous store."""

    remove: list[ox.Triple]
    add: list[int]  # indices into the new plans
    removed: list[str]  # ids of plans that left or changed


def plan_store_update(previous: BuildManifest, ids: Sequence[str], keys: Sequence[str],
                      cache: BuildCache) -> StoreStep | None:
    """The delete/add step from the previous build to this one, or None when a full build is due.

    Reads no record of an unchanged plan: the removal needs only the triples of the remaining plans
    of the leaving plan's government (from the cache) and the unit kinds all remaining plans use
    (from the previous manifest). Whether the previous store can be reused at all is the store
    writer's question (:meth:`policykg.stores.StoreWriter.can_update`), asked before this.
    """
    old = {(p.id, p.key): p for p in previous.plans}
    new = set(zip(ids, keys, strict=True))
    add = [i for i, pair in enumerate(zip(ids, keys, strict=True)) if pair not in old]
    leaving = [p for p in previous.plans if (p.id, p.key) not in new]
    if len(add) + len(leaving) > max(2, FULL_REBUILD_SHARE * len(ids)):
        return None
    unchanged = [old[pair] for pair in zip(ids, keys, strict=True) if pair in old]
    kinds_used = {k for e in unchanged for k in e.kinds}

    @functools.cache
    def triples_of(key: str, plan_id: str) -> tuple[ox.Triple, ...] | None:
        """A plan's triples, read once even when several leaving plans share its government."""
        data = cache.load_triples(cache.triples_key(key, plan_id))
        if data is None:
            plan = cache.load_plan(key)
            if plan is None:
                return None
            data = plan_ntriples(replace(plan, id=plan_id))
        return tuple(parse_ntriples(data))

    remove: list[ox.Triple] = []
    for entry in leaving:
        old_triples = triples_of(entry.key, entry.id)
        if old_triples is None:
            return None  # the cache was cleared: rebuild from scratch
        kept: set[ox.Triple] = set()
        for other in unchanged:
            if other.gov == entry.gov:
                theirs = triples_of(other.key, other.id)
                if theirs is None:
                    return None
                kept.update(theirs)
        remove += removal_triples(entry.id, old_triples, kept, kinds_used)
    return StoreStep(list(dict.fromkeys(remove)), add, [e.id for e in leaving])


# --- search -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchOutcome:
    """What the build records of the search stage (from the index's own manifest)."""

    model: str
    embedded: int | None
    mode: str | None


def build_search(config: Config, model: str, target: Path, tmp: Path, ids: Sequence[str],
                 plans: dict[int, Plan], step: StoreStep | None, cache: BuildCache, report: Progress,
                 all_plans: Callable[[], dict[int, Plan]]) -> SearchOutcome:
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
    index: dict[str, Any] | None = None
    if step is not None and (target / "search").is_dir():
        try:
            index = SearchEngine.update(target / "search", tmp / "search", ids, [plans[i] for i in step.add],
                                        **options)
        except SearchIndexError as exc:
            report(f"search: rebuilding ({exc})", 0.0)
    if index is None:
        everything = all_plans()
        index = SearchEngine.build([everything[i] for i in range(len(ids))], tmp / "search", **options).manifest
    # the model the index was built with: "auto" resolves to one by corpus size (search.choice)
    return SearchOutcome(str(index.get("model") or model), index.get("embedded"),
                         (index.get("update") or {}).get("mode"))
