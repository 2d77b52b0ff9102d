"""The unit totals stage of a build: per government, the units' totals of :mod:`graph.unit_totals`,
written after the plans and the reports are in the store.

A government's totals are a function of its plans' triples and its reports' triples, so they are
cached under a key made of the plans' ids and record keys, the reports' link keys and the describing
code (:data:`policykg.cache.CODE_THAT_DESCRIBES` includes ``graph/unit_totals.py``). An incremental
build recomputes only the governments whose key changed: it removes the previous totals (read
back from the cache) and adds the new ones. A government whose last plan left loses its totals.
The manifest's ``incremental.unit_totals`` lists the governments recomputed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from graph.unit_totals import unit_totals_ntriples
from ingest import IngestError

from .cache import write_atomic
from .manifest import BuildManifest, PlanSummary, ReportSummary

Progress = Callable[[str, float], None]


def government_keys(plans: Sequence[PlanSummary], reports: Sequence[ReportSummary], describer: str) -> dict[str, str]:
    """Each government's totals key: its plans (id and record key), its reports (link key), the code."""
    parts: dict[str, list[str]] = {}
    for p in plans:
        parts.setdefault(p.gov, []).append(f"plan {p.id}={p.key}")
    for r in reports:
        if r.gov in parts:  # a report of a government without plans names no unit and evidences no task
            parts[r.gov].append(f"report {r.key}")
    return {gov: hashlib.sha256("\x00".join([describer, gov, *sorted(ps)]).encode()).hexdigest()[:32]
            for gov, ps in parts.items()}


@dataclass
class TotalsResult:
    """The patch for the store and the governments recomputed."""

    add: list[bytes] = field(default_factory=list)
    remove: list[ox.Triple] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)


def run(plans: Sequence[PlanSummary], reports: Sequence[ReportSummary], *, describer: str,
        previous: BuildManifest | None, fresh_store: bool, cache_root: Path,
        plan_triples: Callable[[Sequence[str]], dict[str, bytes]], report_triples: Callable[[str], bytes | None],
        progress: Progress) -> TotalsResult:
    """The store patch: every government's totals for a fresh store, the changed ones' otherwise.

    ``plan_triples(ids)``: the N-Triples of the plans with these ids; ``report_triples(key)``: a
    report's N-Triples by its link key (``None`` when the cache lost it).
    """
    folder = cache_root / "unit-totals"
    folder.mkdir(parents=True, exist_ok=True)
    keys = government_keys(plans, reports, describer)
    old = {} if fresh_store or previous is None else government_keys(previous.plans, previous.reports, describer)
    result = TotalsResult()
    plans_of: dict[str, list[str]] = {}
    for p in plans:
        plans_of.setdefault(p.gov, []).append(p.id)
    reports_of: dict[str, list[ReportSummary]] = {}
    for r in reports:
        reports_of.setdefault(r.gov, []).append(r)
    todo = sorted(gov for gov, key in keys.items() if old.get(gov) != key)
    for n, gov in enumerate(todo):
        progress(f"totals: {gov}", n / max(1, len(todo)))
        path = folder / f"{keys[gov]}.nt"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = _compute(gov, plans_of[gov], reports_of.get(gov, []), plan_triples, report_triples)
            write_atomic(path, data)
        result.add.append(data)
        result.computed.append(gov)
    for gov, key in sorted(old.items()):
        if keys.get(gov) == key:
            continue
        try:
            data = (folder / f"{key}.nt").read_bytes()
        except FileNotFoundError as exc:
            raise IngestError(f"the cached unit totals of government {gov} are gone",
                              source=str(folder), hint="delete the build folder and run `policykg build`") from exc
        result.remove.extend(q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    progress("totals", 1.0)
    return result


def _compute(gov: str, plan_ids: Sequence[str], reports: Sequence[ReportSummary],
             plan_triples: Callable[[Sequence[str]], dict[str, bytes]],
             report_triples: Callable[[str], bytes | None]) -> bytes:
    report_nts = []
    for r in reports:
        nt = report_triples(r.key)
        if nt is None:
            raise IngestError(f"the cached triples of report {r.id} are gone", source=r.source,
                              hint="delete the build folder and run `policykg build`")
        report_nts.append(nt)
    return unit_totals_ntriples(plan_triples(plan_ids).values(), report_nts)
