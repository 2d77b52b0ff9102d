"""Build stage "align": parent plans from ``data/parents`` into the graph, and every child plan
aligned to its parents (the automatic rule, :func:`analysis.align.is_parent_of`).

Parent plans are read like plans (cached by content in the build cache) and described in the graph
(their measures are ``pk:Task`` of their own ``pk:Plan``), but not put in the search index: an
analyst searching the district's tasks must not get the municipal measures back. Their records
go to ``parents/<id>.json``. A plan of the build can be a parent too.

Incremental: an alignment is cached (``alignments/<key>.json`` in the build cache) under a key made
of both plans' record keys and ids, the model, the term list and the aligner's code, so a changed
plan re-aligns only the pairs it is in; the others are read back from the cache without loading a
plan. The store is patched by difference: the previous build's parent and alignment triples that
are not in this build's are deleted, this build's added.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from graph.corpus import NT, is_plan_owned, parse_ntriples, plan_ntriples
from graph.namespaces import government_iri
from ingest import load_unit_table, read_plan
from ingest.records import Plan, plan_from_dict

from .cache import code_fingerprint, sha256_file, write_atomic
from .config import Config
from .manifest import AlignmentSummary, BuildManifest, ParentSummary, PlanSummary
from .stages import record_bytes, unique_ids

if TYPE_CHECKING:
    from .build import Progress, _Run
    from .stores import StoreWriter

CODE_THAT_SHAPES_ALIGNMENTS = ("analysis/align.py", "graph/derivation.py", "search/text.py")
SUFFIXES = (".txt", ".docx", ".pdf")


def parents_dir(config: Config) -> Path:
    return config.data_dir / "parents"


def discover_parents(config: Config) -> list[Path]:
    folder = parents_dir(config)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


def parents_fingerprint(config: Config) -> str:
    """Of the parent plans' names and contents ("" without any), for ``Build.is_current``."""
    files = discover_parents(config)
    if not files:
        return ""
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


@dataclass
class AlignOutcome:
    parents: list[ParentSummary] = field(default_factory=list)
    alignments: list[AlignmentSummary] = field(default_factory=list)
    aligned: list[str] = field(default_factory=list)  # "child→parent" pairs aligned anew (cache misses)
    triples: int | None = None  # the store's size after the patch (None: nothing to do)
    fingerprint: str = ""


def _side_ntriples(build_dir: Path, manifest: BuildManifest | None, shared: set[str]) -> set[ox.Triple]:
    """The parent and alignment triples a finished build put in its store (read from its files),
    but for those about a government in ``shared`` (the IRIs of this build's plans' governments,
    which the plans themselves state)."""
    from analysis.align import links_from_dict
    from graph.derivation import alignment_ntriples

    out: set[ox.Triple] = set()
    if manifest is None:
        return out
    for p in manifest.parents:
        plan = plan_from_dict(json.loads((build_dir / p.record).read_text(encoding="utf-8")))
        out.update(t for t in parse_ntriples(plan_ntriples(plan))
                   if is_plan_owned(t, plan.id) or not (isinstance(t.subject, ox.NamedNode)
                                                        and t.subject.value in shared))
    for a in manifest.alignments:
        data = json.loads((build_dir / a.record).read_text(encoding="utf-8"))
        out.update(parse_ntriples(alignment_ntriples(a.child, a.parent, links_from_dict(data), local=data["local"],
                                                     not_carried=data["not_carried"], model=data["model"])))
    return out


def run(run: _Run, summaries: list[PlanSummary], writer: StoreWriter, tmp: Path, model: str,
        report: Progress) -> AlignOutcome:
    """The stage: parents read and recorded, pairs aligned (or read from the cache), store patched."""
    from analysis.align import align, is_parent_of, links_from_dict, links_to_dict
    from graph.derivation import alignment_ntriples
    from search.text import read_terms

    config, cache = run.config, run.cache
    outcome = AlignOutcome(fingerprint=parents_fingerprint(config))
    files = discover_parents(config)
    previous = run.previous
    if not files and not (previous and (previous.parents or previous.alignments)):
        return outcome
    report("align", 0.0)
    units_sha = sha256_file(config.units) if config.units.exists() else ""
    table = None
    plan_ids = {s.id for s in summaries}
    parents: list[tuple[Plan, str]] = []
    for f in files:
        sha = sha256_file(f)
        key = cache.record_key(sha, f.name, units_sha)
        plan = cache.load_plan(key)
        if plan is None or plan.sha256 != sha:
            if table is None:
                table = load_unit_table(config.units if config.units.exists() else None)
            plan = read_plan(f, table)
            cache.save_plan(key, plan)
        parents.append((plan, key))
    ids = unique_ids([p.id for p, _ in parents])
    kept: list[tuple[Plan, str]] = []
    for (plan, key), pid in zip(parents, ids, strict=True):
        if pid in plan_ids:
            continue  # the same plan is among the build's plans: it is described there
        kept.append((plan if plan.id == pid else _renamed(plan, pid), key))
    if kept:
        (tmp / "parents").mkdir()
    for plan, key in kept:
        (tmp / "parents" / f"{plan.id}.json").write_bytes(record_bytes(plan))
        outcome.parents.append(ParentSummary(
            id=plan.id, key=key, record=f"parents/{plan.id}.json", title=plan.title, source=plan.source,
            sha256=plan.sha256, issuer=plan.issuer, period_start=plan.period_start, period_end=plan.period_end,
            measures=len(plan.tasks)))

    # pairs, from the summaries alone: (child index, parent index or parent plan)
    index = {s.id: i for i, s in enumerate(summaries)}
    candidates: list[tuple[str, str, Any]] = [(s.id, s.key, i) for i, s in enumerate(summaries)]
    candidates += [(p.id, k, p) for p, k in kept]
    period = {s.id: (s.issuer, (s.period_start, s.period_end)) for s in summaries}
    period.update({p.id: (p.issuer, (p.period_start, p.period_end)) for p, _ in kept})
    terms = config.terms
    terms_sha = sha256_file(terms) if terms.exists() else ""
    code = code_fingerprint(*CODE_THAT_SHAPES_ALIGNMENTS)
    folder = cache.root / "alignments"
    folder.mkdir(parents=True, exist_ok=True)
    side: list[bytes] = [plan_ntriples(p) for p, _ in kept]
    for child in summaries:
        for pid, pkey, pref in candidates:
            if pid == child.id or not is_parent_of(*period[pid], *period[child.id]):
                continue
            key = hashlib.sha256("|".join([child.key, child.id, pkey, pid, model, terms_sha, code]).encode()).hexdigest()
            cached = folder / f"{key}.json"
            if cached.exists():
                data = json.loads(cached.read_text(encoding="utf-8"))
            else:
                report(f"align {child.id} → {pid}", 0.5)
                child_plan = run.final_plans([index[child.id]])[index[child.id]]
                parent_plan = pref if isinstance(pref, Plan) else run.final_plans([pref])[pref]
                words = read_terms(terms) if terms.exists() else []
                data = links_to_dict(align(child_plan, parent_plan, model=model, words=words))
                write_atomic(cached, json.dumps(data, ensure_ascii=False).encode("utf-8"))
                outcome.aligned.append(f"{child.id}→{pid}")
            record = f"alignments/{child.id}--{pid}.json"
            (tmp / "alignments").mkdir(exist_ok=True)
            try:
                os.link(cached, tmp / record)
            except OSError:
                (tmp / record).write_bytes(cached.read_bytes())
            side.append(alignment_ntriples(child.id, pid, links_from_dict(data), local=data["local"],
                                           not_carried=data["not_carried"], model=data["model"]))
            outcome.alignments.append(AlignmentSummary(
                child=child.id, parent=pid, key=key, record=record, links=len(data["links"]),
                local=len(data["local"]), not_carried=len(data["not_carried"])))
    shared = {government_iri(s.gov) for s in summaries}
    outcome.triples = _patch_store(writer, tmp, side, _side_ntriples(config.build.resolve(), previous, shared)
                                   if run.step is not None else set())
    report("align", 1.0)
    return outcome


def _renamed(plan: Plan, new_id: str) -> Plan:
    from dataclasses import replace

    return replace(plan, id=new_id)


def _patch_store(writer: StoreWriter, tmp: Path, side: list[bytes], before: set[ox.Triple]) -> int:
    """Delete the previous build's side triples that are gone, add this build's; the store's size."""
    now: set[ox.Triple] = set()
    for chunk in side:
        now.update(parse_ntriples(chunk))
    gone = [t for t in before if t not in now]
    add = ox.serialize(list(now), format=NT) or b""
    remote = getattr(writer, "remote", None)
    if remote is not None:
        remote.delete(gone)
        remote.insert([add])
        return len(remote)
    store = ox.Store(str(tmp / "store"))
    g = ox.DefaultGraph()
    for t in gone:
        store.remove(ox.Quad(t.subject, t.predicate, t.object, g))
    if add:
        store.bulk_load(add, format=NT, to_graph=g)
    store.flush()
    n = len(store)
    del store
    return n
