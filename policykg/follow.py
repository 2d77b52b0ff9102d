"""The follow-through stage of a build: annual reports parsed, linked to the plans' tasks, stored.

Reports come from ``data/reports/`` (every ``.txt``, ``.docx``, ``.pdf``), and from the command line
(``policykg build FILE``: a file whose title reads as a report — …情况的报告, …工作报告, …工作总结 —
or any file with ``--kind report``). Each report is linked to the plans of its government whose
period covers its year (``analysis.evidence``), with a search index over just those plans, made
from the build's cached vectors; so the links of one government's reports do not change when
another government's plan comes or goes.

Incremental: a report's links are cached under a key made of the report's parse, the record keys of
the plans it is linked to, the model and this stage's code. Adding a report links that report only;
the others' links, records and triples are taken from the cache. A build writes per report
``reports/<id>.json`` (the report, the plans it reports on, its links) and the manifest's
``reports`` entries and ``follow`` section (which reports were linked, which reused).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from graph import namespaces as ns
from graph.reports import report_gov_id, report_ntriples
from ingest import IngestError
from ingest.reader import read_source
from ingest.records import Plan
from ingest.report import document_kind, parse_report, with_plan_units
from ingest.report_records import Report, report_from_dict, report_to_dict
from ingest.units import UnitTable

from .manifest import BuildManifest, PlanSummary, ReportCounts, ReportsDone, ReportSummary
from .stores import StoreWriter

REPORT_SUFFIXES = (".txt", ".docx", ".pdf", ".text", ".md")
KINDS = ("auto", "plan", "report")
_ROOT = Path(__file__).resolve().parents[1]
_CODE = ("ingest/report.py", "ingest/report_records.py", "ingest/reader.py", "ingest/units.py",
         "analysis/evidence.py", "graph/reports.py", "graph/namespaces.py", "policykg/follow.py")
Progress = Callable[[str, float], None]


def code_fingerprint() -> str:
    h = hashlib.sha256()
    for rel in _CODE:
        h.update(rel.encode())
        h.update((_ROOT / rel).read_bytes())
    return h.hexdigest()[:16]


def discover_reports(folder: Path) -> list[Path]:
    """The report files of a folder (none when it does not exist), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.resolve() for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES and not p.name.startswith("."))


def kind_of(path: Path, kind: str = "auto") -> str:
    """``plan`` or ``report``: as given, or from the document's title when ``auto``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind != "auto":
        return kind
    try:
        return document_kind(read_source(path).text)
    except IngestError:
        return "plan"  # let the plan reader report what is wrong with it


def fingerprint(files: Sequence[Path]) -> str:
    """Names and contents of the report files (a build is stale when they change)."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(str(f).encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


@dataclass
class FollowResult:
    """What the stage gives the build: manifest entries, triples to add and remove, what was done."""

    entries: list[ReportSummary] = field(default_factory=list)
    add: list[bytes] = field(default_factory=list)
    remove: list[ox.Triple] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    links: int = 0

    @property
    def done(self) -> ReportsDone:
        return ReportsDone(linked=list(self.linked), reused=list(self.reused), removed=list(self.removed))


class FollowCache:
    """Parsed reports and linked reports (record + links + triples), next to the build's own cache."""

    def __init__(self, root: Path) -> None:
        self.parsed = root / "reports"
        self.linked = root / "evidence"
        for d in (self.parsed, self.linked):
            d.mkdir(parents=True, exist_ok=True)

    def load(self, folder: Path, key: str, suffix: str = ".json") -> bytes | None:
        path = folder / f"{key}{suffix}"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def save(self, folder: Path, key: str, data: bytes, suffix: str = ".json") -> None:
        tmp = folder / f".{key}{suffix}.tmp"
        tmp.write_bytes(data)
        tmp.replace(folder / f"{key}{suffix}")


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _owned(triples: Iterable[ox.Triple], report_id: str) -> list[ox.Triple]:
    """A report's own triples: not its government's type and label, which its plans assert too."""
    prefix = ns.report_iri(report_id)
    return [t for t in triples if isinstance(t.subject, ox.NamedNode)
            and (t.subject.value == prefix or t.subject.value.startswith(prefix + "/"))]


@dataclass
class _Linker:
    """Links one government's reports at a time; each government's search index is built once (from
    cached vectors) in a temporary folder and reused for all its reports in this build."""

    table: UnitTable
    plans_of: Callable[[Sequence[str]], list[Plan]]
    search_options: dict[str, Any]
    model: str | None
    progress: Progress
    tmp_root: Path
    engines: dict[str, Any] = field(default_factory=dict)

    def keep_only(self, gov: str) -> None:
        """Drop the search indexes of other governments (reports are linked government by government)."""
        for other in [g for g in self.engines if g != gov]:
            del self.engines[other]

    def link(self, report: Report, rid: str, gov: str, candidates: Sequence[PlanSummary],
             label: str, done: float) -> tuple[bytes, bytes]:
        """The report's build record (JSON) and its triples (N-Triples), linked to its plans."""
        from dataclasses import replace

        from analysis.evidence import EvidenceLinker, plans_for_report

        gov_plans = self.plans_of([e.id for e in candidates]) if candidates else []
        report = with_plan_units(report, self.table, {n for p in gov_plans for u in p.units
                                                      for n in (u.name, *u.aliases)})
        report = replace(report, id=rid)
        targets = plans_for_report(report, gov_plans)
        links = []
        if targets and self.model is not None:
            if gov not in self.engines:
                from analysis.evidence import MODEL as EVIDENCE_MODEL
                from search.engine import SearchEngine

                self.progress(f"{label}: index of {len(gov_plans)} plan(s)", done)
                self.engines[gov] = EvidenceLinker(SearchEngine.build(
                    gov_plans, self.tmp_root / f"search-{len(self.engines)}", model=EVIDENCE_MODEL,
                    **self.search_options))
            links = self.engines[gov].link_report(report, targets)
        data: dict[str, Any] = {"report": report_to_dict(report), "plans": [p.id for p in targets],
                                "links": [lk.to_json() for lk in links]}
        return json.dumps(data, ensure_ascii=False).encode(), report_ntriples(report, targets, links)


def _parsed(cache: FollowCache, path: Path, key: str, table: UnitTable) -> Report:
    """The report parsed, from the cache when its source, unit table and code are unchanged."""
    cached = cache.load(cache.parsed, key)
    if cached is not None:
        return report_from_dict(json.loads(cached))
    src = read_source(path)
    report = parse_report(src.text, source=src.source, units=table, sha256=src.sha256, encoding=src.encoding)
    cache.save(cache.parsed, key, json.dumps(report_to_dict(report), ensure_ascii=False).encode())
    return report


def _unique_id(report_id: str, used_ids: set[str]) -> str:
    """Two reports of one government and year (a draft and the final text) get -2, -3, …"""
    rid, k = report_id, 2
    while rid in used_ids:
        rid = f"{report_id}-{k}"
        k += 1
    used_ids.add(rid)
    return rid


def _summary(rid: str, key: str, path: Path, sha: str, gov: str, data: dict[str, Any]) -> ReportSummary:
    rep = data["report"]
    return ReportSummary(
        id=rid, key=key, record=f"reports/{rid}.json", path=str(path), title=rep["title"],
        source=path.name, sha256=sha, year=rep["year"], issuer=rep["issuer"], gov=gov,
        plans=list(data["plans"]),
        counts=ReportCounts(statements=len(rep["statements"]),
                            linked=len({lk["statement"] for lk in data["links"]}),
                            links=len(data["links"]), defects=len(rep["defects"])),
    )


def _removed_triples(cache: FollowCache, prev_entries: dict[str, ReportSummary], current: set[str],
                     result: FollowResult) -> None:
    """The triples of the previous build's reports that this build no longer has, to remove."""
    for key, old in prev_entries.items():
        if key in current:
            continue
        old_nt = cache.load(cache.linked, key, ".nt")
        if old_nt is None:
            raise IngestError(f"the cached triples of report {old.id} are gone",
                              source=old.source, hint="delete the build folder and run `policykg build`")
        result.remove.extend(_owned((q.triple for q in ox.parse(old_nt, format=ox.RdfFormat.N_TRIPLES)),
                                    old.id))
        result.removed.append(old.id)


def run(files: Sequence[Path], *, table: UnitTable, units_sha: str, summaries: Sequence[PlanSummary],
        plans_of: Callable[[Sequence[str]], list[Plan]], previous: BuildManifest | None, fresh_store: bool,
        cache_root: Path, out: Path, search_options: dict[str, Any], model: str | None,
        progress: Progress) -> FollowResult:
    """Parse, link and describe the reports; write ``out/reports/<id>.json``.

    ``summaries``: the build's plan entries (id, key, gov); ``plans_of(ids)`` reads those plans;
    ``previous``: the last build's manifest; ``fresh_store``: the store was made anew (so every
    report's triples are added, none removed). A report whose parse, plans, model and code are
    unchanged is not linked again: its record and triples come from the cache.
    """
    cache = FollowCache(cache_root)
    code = code_fingerprint()
    result = FollowResult()
    (out / "reports").mkdir(exist_ok=True)
    prev_entries = {e.key: e for e in previous.reports} if previous is not None else {}
    by_gov: dict[str, list[PlanSummary]] = {}
    for summary in summaries:
        by_gov.setdefault(summary.gov, []).append(summary)
    used_ids: set[str] = set()
    linker = _Linker(table, plans_of, search_options, model, progress,
                     Path(tempfile.mkdtemp(prefix="policykg-follow-")))
    try:
        parsed = []
        for n, path in enumerate(files):
            progress(f"report {path.name}", 0.5 * n / max(1, len(files)))
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            pkey = _key("parse", sha, path.name, units_sha, code)
            report = _parsed(cache, path, pkey, table)
            parsed.append((path, sha, pkey, report, _unique_id(report.id, used_ids), report_gov_id(report)))
        # Linked government by government, holding one government's search index at a time: kept
        # for every government, 1,000 plans' reports took more than 24 GB (python -m bench.corpus_bench
        # --sizes 1000 --reports 2 was killed by the kernel's OOM killer).
        done: dict[int, tuple[ReportSummary, bytes, str]] = {}
        for n, i in enumerate(sorted(range(len(parsed)), key=lambda i: parsed[i][5])):
            path, sha, pkey, report, rid, gov = parsed[i]
            fraction = 0.5 + 0.5 * n / max(1, len(parsed))
            progress(f"report {path.name}", fraction)
            candidates = by_gov.get(gov, [])
            lkey = _key("link", pkey, rid, model or "", code, *sorted(f"{e.id}={e.key}" for e in candidates))
            record = cache.load(cache.linked, lkey)
            nt = cache.load(cache.linked, lkey, ".nt")
            if record is None or nt is None:
                linker.keep_only(gov)
                record, nt = linker.link(report, rid, gov, candidates, f"report {path.name}", fraction)
                cache.save(cache.linked, lkey, record)
                cache.save(cache.linked, lkey, nt, ".nt")
                result.linked.append(rid)
            else:
                result.reused.append(rid)
            (out / "reports" / f"{rid}.json").write_bytes(record)
            done[i] = (_summary(rid, lkey, path, sha, gov, json.loads(record)), nt, lkey)
        for i in range(len(parsed)):  # in the order of the files
            entry, nt, lkey = done[i]
            result.entries.append(entry)
            result.links += entry.counts.links
            if fresh_store or lkey not in prev_entries:
                result.add.append(nt)
        if not fresh_store:
            _removed_triples(cache, prev_entries, {e.key for e in result.entries}, result)
    finally:
        shutil.rmtree(linker.tmp_root, ignore_errors=True)
    progress("reports", 1.0)
    return result


def apply(writer: StoreWriter, result: FollowResult) -> int | None:
    """Patch the build's graph (local store or named graph on a server); its size, or None if untouched."""
    if not result.add and not result.remove:
        return None
    return writer.patch(result.remove, result.add)


def load_reports(build_path: Path, entries: Sequence[ReportSummary]
                 ) -> list[tuple[Report, list[str], list[dict[str, Any]]]]:
    """A build's reports: (report, ids of the plans it reports on, its links as dicts)."""
    out = []
    for entry in entries:
        path = build_path / entry.record
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            out.append((report_from_dict(data["report"]), list(data["plans"]), list(data["links"])))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IngestError(f"unreadable report record ({exc})", source=str(path),
                              hint="run `policykg build` again") from exc
    return out
