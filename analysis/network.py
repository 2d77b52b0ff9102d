"""Networks of units: who works with whom, who bridges, which groups form.

Two graphs are derived from the knowledge graph's NetworkX view (:func:`graph.nxgraph.build_networkx`,
also ``Build.networkx()``), so node ids are the same IRIs the RDF store and SPARQL queries use:

* the **unit–task bipartite graph** (``bipartite`` 0 = unit, 1 = task; edge ``role`` and ``weight``),
* the **unit–unit co-assignment graph**: an edge for every pair of units named on a common task,
  ``weight`` = number of shared tasks (counting only the roles asked for), ``both_lead`` = how many of
  those tasks both lead, ``distance`` = 1 / weight for path-based measures.

On the co-assignment graph: degree (how many partners), weighted degree (how many partner-task
pairs), betweenness (brokerage; computed on ``distance`` so frequent partners are close) and Louvain
communities, seeded so the same graph always yields the same partition. Each community gets a
readable label from the chapters and keywords of the tasks its members share.

As in :mod:`analysis.workload`, ``include_collectives`` chooses whether collective units (区政府有关部门,
各镇人民政府、街道办事处 …) are nodes; the choice is stored in ``G.graph["include_collectives"]``.
Collectives sit on almost every task and so are adjacent to almost every unit: with them in, the
network says little more than "everybody works with the departments"; without them, it shows the
actual working groups.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, TypeAlias

import jieba
import networkx as nx
import pandas as pd

from graph.nxgraph import REL, build_networkx
from ingest.records import ROLES, Plan, Role

from .workload import DEFAULT_WEIGHTS, RoleWeights, plans_of, short_title

jieba.setLogLevel(logging.WARNING)

ROLE_OF_REL: dict[str, Role] = {rel: role for role, rel in REL.items()}
DEFAULT_SEED = 42

Source: TypeAlias = Plan | Iterable[Plan] | nx.MultiDiGraph


def knowledge_graph(source: Source) -> nx.MultiDiGraph:
    """The NetworkX view of the knowledge graph: passed through, or built from plan records."""
    if isinstance(source, nx.MultiDiGraph):
        return source
    return build_networkx(plans_of(source))


@dataclass(frozen=True)
class TaskInfo:
    """What community labels need to know about a task (kept on ``G.graph["tasks"]``)."""

    iri: str
    label: str
    chapter: int
    chapter_title: str
    section_title: str
    text: str


def _task_infos(kg: nx.MultiDiGraph) -> dict[str, TaskInfo]:
    infos = {}
    for node, data in kg.nodes(data=True):
        if data.get("kind") != "task":
            continue
        chapter_title = section_title = ""
        for _, target, rel in kg.out_edges(node, data="rel"):
            if rel == "in_section":
                section_title = kg.nodes[target].get("label", "")
                for _, ch, rel2 in kg.out_edges(target, data="rel"):
                    if rel2 == "in_chapter":
                        chapter_title = kg.nodes[ch].get("label", "")
            elif rel == "in_chapter":
                chapter_title = kg.nodes[target].get("label", "")
        infos[node] = TaskInfo(node, data.get("label", node), int(data.get("chapter", 0)),
                               _strip_numbering(chapter_title), _strip_numbering(section_title),
                               data.get("text", ""))
    return infos


def _strip_numbering(label: str) -> str:
    """'二、健全…' → '健全…', '（一）推进…' → '推进…' (node labels carry the printed numbering)."""
    return re.sub(r"^(?:[一二三四五六七八九十百]+、|（[^）]*）)", "", label)


def _unit_roles(kg: nx.MultiDiGraph, include_collectives: bool, roles: Sequence[Role]
                ) -> dict[str, dict[str, Role]]:
    """task IRI → {unit IRI: role} for the roles and units asked for."""
    wanted = set(roles)
    out: dict[str, dict[str, Role]] = defaultdict(dict)
    for u, t, rel in kg.edges(data="rel"):
        role = ROLE_OF_REL.get(rel)
        if role is None or role not in wanted:
            continue
        if not include_collectives and kg.nodes[u].get("collective", False):
            continue
        out[t].setdefault(u, role)
    return out


def _task_order(kg: nx.MultiDiGraph) -> Any:
    """Sort key for (task IRI, …) items: plan, then document position, so graphs are built in a
    fixed order (Louvain's result depends on node order as well as on the seed)."""

    def key(item: tuple[str, Any]) -> tuple[str, int, str]:
        d = kg.nodes[item[0]]
        return (str(d.get("plan", "")), int(d.get("position", 0)), item[0])

    return key


def _unit_attrs(kg: nx.MultiDiGraph, unit: str) -> dict[str, Any]:
    d = kg.nodes[unit]
    return {"kind": "unit", "label": d.get("label", unit), "unit_type": d.get("unit_type", "other"),
            "collective": bool(d.get("collective", False))}


def unit_task_graph(
    source: Source,
    *,
    include_collectives: bool = True,
    roles: Sequence[Role] = ROLES,
    weights: RoleWeights = DEFAULT_WEIGHTS,
) -> nx.Graph:
    """Bipartite unit–task graph; edge ``role`` and ``weight`` (the role's weight).

    Every task is a node even when no unit of the chosen population is named on it, so a task
    without units shows up as an isolated node instead of silently vanishing.
    """
    kg = knowledge_graph(source)
    infos = _task_infos(kg)
    g = nx.Graph(include_collectives=include_collectives, roles=",".join(roles))
    for iri, info in infos.items():
        g.add_node(iri, kind="task", bipartite=1, label=info.label, chapter=info.chapter)
    for task, units in _unit_roles(kg, include_collectives, roles).items():
        for unit, role in units.items():
            g.add_node(unit, bipartite=0, **_unit_attrs(kg, unit))
            g.add_edge(unit, task, role=role, weight=weights.of(role))
    return g


def co_assignment_graph(
    source: Source, *, include_collectives: bool = True, roles: Sequence[Role] = ROLES
) -> nx.Graph:
    """Unit–unit graph: an edge per pair of units named together on a task (in any of ``roles``).

    ``roles=("lead",)`` gives the co-leading network. Node attributes: ``label``, ``unit_type``,
    ``collective``, ``tasks`` (number of tasks in the chosen roles), ``task_ids`` (their IRIs) and
    ``task_numbers`` (as printed) — tuples, which :func:`graphml_safe` joins with ``;``. Edge
    attributes: ``weight``, ``both_lead``, ``distance`` (= 1 / weight), ``task_ids``, ``task_numbers``.
    ``G.graph["tasks"]`` maps task IRIs to :class:`TaskInfo`, which :func:`communities` uses for labels.
    """
    kg = knowledge_graph(source)
    g = nx.Graph(include_collectives=include_collectives, roles=",".join(roles), tasks=_task_infos(kg))
    member: dict[str, list[str]] = defaultdict(list)
    numbers = {t: str(kg.nodes[t].get("number", t)) for t in g.graph["tasks"]}
    for task, units in sorted(_unit_roles(kg, include_collectives, roles).items(), key=_task_order(kg)):
        for unit in units:
            member[unit].append(task)
        for a, b in combinations(sorted(units), 2):
            if g.has_edge(a, b):
                e = g.edges[a, b]
                e["weight"] += 1
                e["task_ids"] += (task,)
            else:
                g.add_edge(a, b, weight=1, both_lead=0, task_ids=(task,))
            if units[a] == "lead" and units[b] == "lead":
                g.edges[a, b]["both_lead"] += 1
    for unit, tasks in member.items():
        g.add_node(unit, **_unit_attrs(kg, unit), tasks=len(tasks), task_ids=tuple(tasks),
                   task_numbers=tuple(numbers.get(t, t) for t in tasks))
    for _, _, e in g.edges(data=True):
        e["distance"] = 1.0 / e["weight"]
        e["task_numbers"] = tuple(numbers.get(t, t) for t in e["task_ids"])
    return g


def unit_metrics(g: nx.Graph) -> pd.DataFrame:
    """Degree, weighted degree and betweenness per unit, most connected first.

    ``betweenness`` is normalised and uses ``distance`` (1 / shared tasks): a unit scores high when
    it sits on the short paths between units that otherwise rarely work together — a broker.
    """
    between = nx.betweenness_centrality(g, weight="distance", normalized=True) if len(g) > 2 else {}
    rows = [
        {
            "unit": d.get("label", n),
            "unit_type": d.get("unit_type", "other"),
            "collective": bool(d.get("collective", False)),
            "tasks": int(d.get("tasks", 0)),
            "degree": int(g.degree(n)),
            "weighted_degree": int(g.degree(n, weight="weight")),
            "betweenness": float(between.get(n, 0.0)),
            "iri": n,
        }
        for n, d in g.nodes(data=True)
    ]
    cols = ["unit", "unit_type", "collective", "tasks", "degree", "weighted_degree", "betweenness", "iri"]
    df = pd.DataFrame(rows, columns=cols)
    df = df.sort_values(["weighted_degree", "degree", "unit"], ascending=[False, False, True], kind="stable")
    df = df.reset_index(drop=True)
    df.attrs = {"include_collectives": g.graph.get("include_collectives"), "roles": g.graph.get("roles")}
    return df


# --- communities -------------------------------------------------------------------------------

# Words that occur in almost every task of a 法治政府 plan, or carry no topic; left out of labels.
_STOPWORDS = frozenset(
    """
    加强 推进 推动 完善 健全 全面 深入 积极 依法 建立 落实 持续 切实 加快 坚持 实行 实现 提高 提升 强化 开展
    按照 通过 进行 根据 做好 做到 确保 不断 大力 充分 严格 规范 及时 同时 有关 相关 进一步 工作 机制 制度 体系
    建设 政府 行政 法治 部门 各类 重大 重要 依法依规 探索 深化 优化 创新 发挥 作用 推行 形成 严禁 不得 以及 方面
    领域 全区 我区 区级 有效 能力 水平 管理 服务 工作者 加大 力度 情况 要求 组织 实施 保障 支持 鼓励 注重 统筹
    """.split()
)
_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")


def task_words(text: str) -> list[str]:
    """Content words of a task text (jieba, 2+ Han characters, plan boilerplate left out)."""
    return [w for w in jieba.lcut(text) if _WORD.match(w) and w not in _STOPWORDS]


def distinctive_words(
    credit: Mapping[str, float], docs: Mapping[str, Sequence[str]], top: int = 4
) -> tuple[str, ...]:
    """Words most typical of a group of documents relative to all ``docs``.

    ``credit`` says how much each document belongs to the group (1 = fully); the score of a word is
    Σ credit × term frequency × log(N / document frequency), so words found in every task score 0
    and words frequent in the group but rare elsewhere win. Ties break alphabetically (stable labels).
    """
    n_docs = max(len(docs), 1)
    df_counts = Counter(w for words in docs.values() for w in set(words))
    scores: defaultdict[str, float] = defaultdict(float)
    for doc, c in credit.items():
        for w, tf in Counter(docs.get(doc, ())).items():
            scores[w] += c * tf * math.log(n_docs / df_counts[w])
    ranked = sorted(scores.items(), key=lambda x: (-x[1], x[0]))
    return tuple(w for w, s in ranked[:top] if s > 0)


@dataclass(frozen=True)
class Community:
    """A Louvain community of units, with what its members' shared tasks are about."""

    id: int  # 0 = largest community
    label: str  # e.g. "健全行政执法工作体系 / 健全突发事件应对体系 · 执法、监管、应急"
    units: tuple[str, ...]  # unit names, most connected within the community first
    unit_iris: tuple[str, ...]
    tasks: int  # tasks naming at least one member
    chapters: tuple[tuple[str, float], ...]  # (short chapter title, share of the community's tasks)
    keywords: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.units)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "size": self.size, "units": list(self.units),
                "tasks": self.tasks, "chapters": [[c, round(s, 3)] for c, s in self.chapters],
                "keywords": list(self.keywords)}


def communities(
    g: nx.Graph,
    *,
    seed: int = DEFAULT_SEED,
    resolution: float = 1.0,
    top_chapters: int = 2,
    top_keywords: int = 4,
) -> list[Community]:
    """Louvain communities of a co-assignment graph, seeded (same graph → same partition), labelled.

    The label is read from the tasks: each task is credited to a community in proportion to the
    share of its units that are members (a task staffed only by members counts 1, a task where they
    are 2 of 12 counts 1/6), so the collectives everyone shares do not make every community look the
    same. The label names the chapters with most credit and the words that are most typical of the
    community's tasks relative to the whole plan (credit-weighted term frequency × inverse document
    frequency over all tasks, words segmented with jieba).
    """
    if g.number_of_nodes() == 0:
        return []
    parts = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    parts = sorted((sorted(p) for p in parts), key=lambda p: (-len(p), p))
    infos: dict[str, TaskInfo] = g.graph.get("tasks", {})
    task_units: dict[str, set[str]] = defaultdict(set)
    for n, d in g.nodes(data=True):
        for t in d.get("task_ids", ()):
            task_units[t].add(n)
    docs = {t: task_words(infos[t].text) for t in task_units if t in infos}

    out = []
    for k, members in enumerate(parts):
        mset = set(members)
        credit = {t: len(us & mset) / len(us) for t, us in task_units.items() if us & mset}
        total = sum(credit.values()) or 1.0
        chap: defaultdict[str, float] = defaultdict(float)
        for t, c in credit.items():
            info = infos.get(t)
            if info is not None:
                chap[short_title(info.chapter_title) or f"第{info.chapter}章"] += c
        chapters = tuple((title, score / total) for title, score in
                         sorted(chap.items(), key=lambda x: (-x[1], x[0]))[:top_chapters])
        keywords = distinctive_words(credit, docs, top_keywords)
        strength = {n: sum(g.edges[n, m]["weight"] for m in g[n] if m in mset) for n in members}
        ordered = sorted(members, key=lambda n: (-strength[n], g.nodes[n].get("label", n)))
        label = " / ".join(c for c, _ in chapters)
        if keywords:
            label += " · " + "、".join(keywords)
        out.append(Community(
            id=k,
            label=label,
            units=tuple(g.nodes[n].get("label", n) for n in ordered),
            unit_iris=tuple(ordered),
            tasks=len(credit),
            chapters=chapters,
            keywords=keywords,
        ))
    return out


def with_communities(g: nx.Graph, comms: Sequence[Community]) -> nx.Graph:
    """A copy of ``g`` with node attributes ``community`` (id) and ``community_label``, for drawing
    and for Gephi's partition colouring."""
    h = g.copy()
    for c in comms:
        for n in c.unit_iris:
            if n in h:
                h.nodes[n]["community"] = c.id
                h.nodes[n]["community_label"] = c.label
    return h


# --- GraphML export ----------------------------------------------------------------------------

_SAFE = (bool, int, float, str)


def _safe_value(value: Any) -> bool | int | float | str | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | str):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        if all(isinstance(x, _SAFE) for x in items):
            return ";".join(str(x) for x in items)
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        item = value.item()
        return item if isinstance(item, _SAFE) else None
    return None


def _safe_attrs(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        v = _safe_value(value)
        if v is not None:
            out[str(key)] = v
    return out


def graphml_safe(g: nx.Graph) -> nx.Graph:
    """A copy whose graph, node and edge attributes are all bool/int/float/str (what GraphML holds).

    Sequences of scalars become ``;``-joined strings (``task_ids``), anything else (the
    ``TaskInfo`` map, None, NaN) is dropped. Every node gets a ``label``, which Gephi shows.
    """
    h = g.__class__()
    h.graph.update(_safe_attrs(dict(g.graph)))
    for n, d in g.nodes(data=True):
        h.add_node(str(n), **{"label": str(n), **_safe_attrs(d)})
    for a, b, d in g.edges(data=True):
        h.add_edge(str(a), str(b), **_safe_attrs(d))
    return h


def write_graphml(g: nx.Graph, path: Path | str) -> Path:
    """Write ``g`` as GraphML for Gephi (attributes made GraphML-safe first); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(graphml_safe(g), path, encoding="utf-8", prettyprint=True)
    return path


__all__ = [
    "DEFAULT_SEED",
    "Community",
    "TaskInfo",
    "co_assignment_graph",
    "communities",
    "distinctive_words",
    "graphml_safe",
    "knowledge_graph",
    "task_words",
    "unit_metrics",
    "unit_task_graph",
    "with_communities",
    "write_graphml",
]
