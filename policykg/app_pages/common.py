"""Shared plumbing of the app's pages: the cached build, cached library calls, URL state, safe text.

Why this module exists: every page needs the same build (opened once per process, not per rerun),
the same rule for putting document text on screen (escaped markdown, never raw HTML — plan texts
and queries are data, and a plan can contain anything), and the same way of keeping a page's state
in its URL so that a link reproduces what an analyst saw. Keeping these here means the page scripts
only compose library calls.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import networkx as nx
import pandas as pd
import streamlit as st

from ingest.errors import PolicykgError
from ingest.records import ROLES, Plan, Role, Task
from ingest.vocab import ANY_ROLE_LABEL as ANY_ROLE_LABEL  # the pages read the vocabulary as c.*
from ingest.vocab import ROLE_LABELS as ROLE_LABELS
from ingest.vocab import ROLE_UNIT_LABELS as ROLE_UNIT_LABELS
from ingest.vocab import SEVERITY_LABELS as SEVERITY_LABELS
from ingest.vocab import UNIT_TYPE_LABELS as UNIT_TYPE_LABELS
from policykg.build import Build, BuildError, build
from policykg.config import Config

if TYPE_CHECKING:
    from sparql.protocol import SparqlEngine

T = TypeVar("T")

TYPE_COLOURS: dict[str, str] = {
    "party": "#d62728",
    "government": "#1f77b4",
    "judicial": "#9467bd",
    "congress": "#ff7f0e",
    "collective": "#7f7f7f",
    "other": "#2ca02c",
}
MODE_LABELS: dict[str, str] = {"hybrid": "混合（推荐）", "dense": "语义", "bm25": "关键词"}

# URL paths of the pages (``st.Page(url_path=...)``); links between pages are built from these.
PAGE_PATHS: dict[str, str] = {
    "overview": "",
    "search": "search",
    "task": "task",
    "unit": "unit",
    "network": "network",
    "deadlines": "deadlines",
    "progress": "progress",
    "sparql": "sparql",
    "parent": "parent",
}

#: What a search can raise that an analyst can act on (rebuild); shown with st.error, never a traceback.
# a missing or stale index, a model not installed …: every user-actionable error is shown, not raised
SEARCH_ERRORS: tuple[type[Exception], ...] = (PolicykgError,)

BuildKey = tuple[str, str, str]  # (resolved build directory, data dir, build dir): what a cache entry is of


# --- safe text ------------------------------------------------------------------------------------

# Every ASCII punctuation character CommonMark lets a backslash escape, which covers markdown syntax,
# Streamlit's :colour[...] directives, $math$ and raw HTML (<script> stays text).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&\"'%/;?@,])")


def md_escape(text: object) -> str:
    """Text from a document or a user, made inert for ``st.markdown``: shown exactly as written.

    Lines are stripped (leading spaces would start a code block) and joined with hard breaks.
    """
    lines = [_MD_SPECIAL.sub(r"\\\1", line.strip()) for line in str(text).splitlines()]
    return "  \n".join(lines)


def highlight_md(text: str, spans: Iterable[Sequence[Any]]) -> str:
    """Escaped markdown of ``text`` with the (start, end, term) spans bold on an orange background."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (int(s[0]), int(s[1]))):
        start, end = int(span[0]), int(span[1])
        if start < pos or end <= start or end > len(text):
            continue  # overlapping or out of range: leave that text plain rather than garble it
        out.append(md_escape(text[pos:start]))
        out.append(f":orange-background[**{md_escape(text[start:end])}**]")
        pos = end
    out.append(md_escape(text[pos:]))
    return "".join(out)


def page_url(page: str, **params: object) -> str:
    """Relative URL of a page with query parameters (None values left out): what links point to."""
    query = urlencode({k: str(v) for k, v in params.items() if v not in (None, "")})
    path = PAGE_PATHS[page] or "./"
    return f"{path}?{query}" if query else path


def md_link(label: str, page: str, **params: object) -> str:
    """A markdown link to a page; the label is escaped, the URL is ours and percent-encoded."""
    return f"[{md_escape(label)}]({page_url(page, **params)})"


def unit_links(names: Sequence[str], plan: str | None = None) -> str:
    return "、".join(md_link(n, "unit", name=n, plan=plan) for n in names) or "—"


def deadline_badges(deadlines: Sequence[dict[str, str]], today: dt.date | None = None) -> str:
    """Markdown badges for deadlines: red when the date has passed (overdue against today), blue otherwise."""
    day = today or dt.date.today()
    out = []
    for d in deadlines:
        overdue = dt.date.fromisoformat(d["date"]) < day
        colour, tag = ("red", "已到期 ") if overdue else ("blue", "")
        out.append(f":{colour}-badge[{tag}{md_escape(d['wording'])}（{d['date']}）]")
    return " ".join(out)


# --- the build ------------------------------------------------------------------------------------


def config() -> Config:
    """The app's configuration: ``Config()`` reads ``POLICYKG_DATA`` / ``POLICYKG_BUILD`` / ``POLICYKG_MODEL``."""
    return Config()


def build_key(cfg: Config | None = None) -> BuildKey:
    cfg = cfg or config()
    return (str(Path(cfg.build).resolve()), str(cfg.data_dir), str(cfg.build))


def _config_of(key: BuildKey) -> Config:
    return config().with_(data_dir=Path(key[1]), build_dir=Path(key[2]))


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(key: BuildKey) -> Build:
    """A build version opened once per process. The key holds the resolved directory, so publishing
    a new build (the ``build`` symlink moves) opens the new one instead of serving the old."""
    cfg = _config_of(key)
    b = Build(Path(key[0]), cfg)
    if not (b.path / "search").is_dir():
        raise BuildError(f"{b.path}: this build has no search index")
    return b


@st.cache_data(show_spinner=False, ttl=10)
def _is_current(key: BuildKey) -> bool:
    """Whether the plans and unit table are unchanged since the build; checked at most every 10 s."""
    return _open(key).is_current()


_STAGES: tuple[tuple[str, float, float], ...] = (
    # stage prefix, where it starts on the overall bar, its span (the search engine reports its own
    # fraction of the search stage, from loading the model to writing the index)
    ("parse", 0.0, 0.10),
    ("graph", 0.10, 0.05),
    ("store", 0.15, 0.10),
    ("search", 0.25, 0.68),
    # (binary fractions: where one stage ends and the next starts must be the same float)
    ("report", 0.9375, 0.03125),  # annual reports: parsed, linked to the tasks, stored (policykg.follow)
    ("totals", 0.96875, 0.0078125),  # each government's unit totals (policykg.totals)
    ("align", 0.98, 0.02),  # plans aligned to their parent plans (policykg.align_stage)
    ("done", 1.0, 0.0),
)
_STAGE_LABELS = {
    "parse": "解析规划文件",
    "graph": "生成知识图谱",
    "store": "写入图数据库",
    "report": "关联年度报告",
    "totals": "汇总各单位任务",
    "align": "对照上级方案",
    "search: loading model": "加载语义模型",
    "search: embedding": "计算语义向量",
    "search": "建立检索索引",
    "done": "完成",
}


def _overall(stage: str, fraction: float) -> tuple[float, str]:
    """A build stage and its fraction → (position on one overall progress bar, what the analyst reads)."""
    label = next((text for prefix, text in _STAGE_LABELS.items() if stage.startswith(prefix)), stage)
    for prefix, start, span in _STAGES:
        if stage.startswith(prefix):
            return min(1.0, start + span * max(0.0, min(1.0, fraction))), label
    return 0.0, label


def ensure_build() -> Build:
    """The current build; made (or remade, when the plans changed) with a progress bar when needed.

    A build without a search index (``policykg build --no-search``) is rebuilt too: every page of
    the app that searches needs one. Errors the analyst can act on stop the app with a message.
    """
    cfg = config()
    try:
        key = build_key(cfg)
        b = _open(key)
        if _is_current(key):
            warm_up(b)
            return b
    except BuildError:
        pass
    bar = st.progress(0.0, text="正在建立知识图谱与检索索引（首次打开或规划文件已更新）…")

    shown = [0.0]

    def report(stage: str, fraction: float) -> None:
        value, label = _overall(stage, fraction)
        shown[0] = max(shown[0], value)  # a stage the table does not know never moves the bar back
        bar.progress(shown[0], text=f"正在建立知识图谱与检索索引：{label}")

    try:
        try:
            Build(cfg.build, cfg)
            has_build = True
        except BuildError:
            has_build = False
        if has_build and not (Path(cfg.build) / "search").is_dir():
            build(cfg, progress=report)  # current but graph-only: Build.open would keep it as it is
        else:
            Build.open(cfg, progress=report)
        _is_current.clear()
        b = _open(build_key(cfg))
    except (PolicykgError, OSError) as exc:  # any error a user can act on, not only parsing
        bar.empty()
        st.error(f"无法建立知识图谱：{md_escape(exc)}")
        st.stop()
    bar.empty()
    warm_up(b)
    return b


_ENGINE_LOCK = threading.Lock()
_WARMED: set[str] = set()


def search_engine(b: Build) -> Any:
    """The build's search engine; waits for a warm-up in progress instead of loading a second copy."""
    with _ENGINE_LOCK:
        return b.search_engine()


def _warm(b: Build) -> None:
    with _ENGINE_LOCK:
        try:
            b.search_engine().search("法治政府建设", top=1)  # loads the index and the embedding model
        except Exception:  # a failed warm-up shows up (with its message) on the first search
            _WARMED.discard(str(b.path))


def warm_up(b: Build) -> None:
    """Load the search index and embedding model in the background once per build, so the first
    search an analyst types does not pay the model's start-up (seconds) while pages that need no
    search open at once."""
    if str(b.path) not in _WARMED:
        _WARMED.add(str(b.path))
        threading.Thread(target=_warm, args=(b,), name="policykg-warm-up", daemon=True).start()


def current_build() -> Build:
    """The build the page works on (``app.py`` made sure it exists before running the page)."""
    return _open(build_key())


def all_tasks(b: Build) -> list[tuple[Plan, Task]]:
    return [(p, t) for p in b.plans for t in p.tasks]


def find_task(b: Build, plan_id: str | None, position: int) -> tuple[Plan, Task] | None:
    for p, t in all_tasks(b):
        if (plan_id is None or p.id == plan_id) and t.position == position:
            return p, t
    return None


def task_path(plan: Plan, task: Task) -> str:
    """Chapter › section of a task, as printed (plain text; escape before markdown)."""
    chapter = plan.chapter(task.chapter)
    section = plan.section(task.section)
    parts = [f"{chapter.label}、{chapter.title}" if chapter else f"第{task.chapter}章"]
    if section:
        parts.append(f"{section.label}{section.title}")
    return " › ".join(parts)


def unit_names(b: Build) -> list[str]:
    """Every unit named in the plans, in the order of the workload table (heaviest first)."""
    names = list(workload(build_key(), True)["unit"])
    seen = set(names)
    names += sorted({u for _, t in all_tasks(b) for r in ROLES for u in t.units(r)} - seen)
    return names


def chapter_options(b: Build) -> dict[int, str]:
    out: dict[int, str] = {}
    for p in b.plans:
        for c in p.chapters:
            out.setdefault(c.number, f"{c.label}、{c.title}")
    return dict(sorted(out.items()))


def plans_for_chapters(plans: Sequence[Plan], chapters: Sequence[int]) -> list[Plan]:
    """The plans restricted to the tasks of some chapters (all tasks when none are chosen)."""
    if not chapters:
        return list(plans)
    wanted = set(chapters)
    return [replace(p, tasks=tuple(t for t in p.tasks if t.chapter in wanted)) for p in plans]


# --- cached library calls ---------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=1024)
def search(key: BuildKey, query: str, mode: str, unit: str | None, role: str, chapter: int | None,
           year: int | None, top: int) -> dict[str, Any]:
    """``engine.search`` as JSON (hits, notes, applied filters); timed server-side in ``elapsed_ms``."""
    import time

    from search.engine import Filters

    filters = Filters(
        unit=unit if unit and role == "any" else None,
        lead=unit if unit and role == "lead" else None,
        responsible=unit if unit and role == "responsible" else None,
        participating=unit if unit and role == "participating" else None,
        chapter=chapter,
        year=year,
    )
    engine = search_engine(_open(key))
    t0 = time.perf_counter()
    result = engine.search(query, top=top, mode=mode, filters=filters)
    data = result.to_json()
    data["elapsed_ms"] = (time.perf_counter() - t0) * 1000
    return data


@st.cache_data(show_spinner=False, max_entries=512)
def similar(key: BuildKey, plan_id: str, position: int, top: int) -> list[dict[str, Any]]:
    return [h.to_json() for h in search_engine(_open(key)).similar(plan_id, position, top).hits]


@st.cache_data(show_spinner=False, max_entries=16)
def workload(key: BuildKey, include_collectives: bool, roles: tuple[str, ...] = ROLES,
             chapters: tuple[int, ...] = ()) -> pd.DataFrame:
    """Units by role with weighted load (``analysis.workload.unit_workload``), for the chosen roles and chapters."""
    from analysis.workload import unit_workload

    plans = plans_for_chapters(_open(key).plans, chapters)
    df = unit_workload(plans, include_collectives=include_collectives)
    if set(roles) != set(ROLES) and not df.empty:
        df = df[(df[list(roles)].sum(axis=1)) > 0].reset_index(drop=True)
    return df


@st.cache_data(show_spinner=False, max_entries=16)
def assignments(key: BuildKey) -> pd.DataFrame:
    from analysis.workload import assignments as assignment_table

    return assignment_table(_open(key).plans)


@st.cache_resource(show_spinner=False, max_entries=16)
def co_assignment(key: BuildKey, include_collectives: bool, roles: tuple[str, ...],
                  chapters: tuple[int, ...]) -> nx.Graph:
    from analysis.network import co_assignment_graph

    plans = plans_for_chapters(_open(key).plans, chapters)
    return co_assignment_graph(plans, include_collectives=include_collectives, roles=roles)  # type: ignore[arg-type]


@st.cache_resource(show_spinner=False, max_entries=16)
def unit_task(key: BuildKey, include_collectives: bool, roles: tuple[str, ...],
              chapters: tuple[int, ...]) -> nx.Graph:
    from analysis.network import unit_task_graph

    plans = plans_for_chapters(_open(key).plans, chapters)
    return unit_task_graph(plans, include_collectives=include_collectives, roles=roles)  # type: ignore[arg-type]


@st.cache_data(show_spinner=False, max_entries=16)
def graphml(key: BuildKey, kind: str, include_collectives: bool, roles: tuple[str, ...],
            chapters: tuple[int, ...]) -> bytes:
    """The network on screen as GraphML bytes (attributes made GraphML-safe), for Gephi."""
    from analysis.network import graphml_safe

    maker = co_assignment if kind == "units" else unit_task
    buf = io.BytesIO()
    nx.write_graphml(graphml_safe(maker(key, include_collectives, roles, chapters)), buf, encoding="utf-8")
    return buf.getvalue()


@st.cache_resource(show_spinner=False, max_entries=4)
def sparql_engine(key: BuildKey) -> SparqlEngine:
    """The time-limited SPARQL engine over the build (its store's worker process, or the SPARQL server
    of a ``--store`` build), kept for the life of the process.

    Streamlit runs each script run in a new thread, which ends with the run; the engine's workers
    outlive it because :mod:`sparql.workers` starts every worker from one long-lived thread.
    """
    from sparql.protocol import engine_for_build
    from sparql.search import scorer_for_build

    b = _open(key)
    cfg = _config_of(key)
    engine = engine_for_build(b, timeout=cfg.query_timeout, limit=cfg.result_limit, scorer=scorer_for_build(b),
                              in_memory=cfg.sparql_in_memory)
    if cfg.sparql_in_memory and not b.is_remote:  # wait for the copy here, once, rather than answer (and cache) "busy"
        with st.spinner(f"正在把图谱载入内存（{b.manifest.counts.triples:,} 个三元组），大型语料需数分钟……"):
            engine.warm_up()
    return engine


class _Busy(Exception):
    """A busy engine (all workers taken, or one still copying the store into memory): not an answer."""


def run_sparql(key: BuildKey, text: str) -> dict[str, Any]:
    """A query's rows and downloads, or its one-line error. Errors are cached like answers, except
    "busy": asked again a moment later, the same query may be answered."""
    try:
        return _run_sparql(key, text)
    except _Busy as exc:
        return {"error": str(exc), "kind": "EngineBusy"}


@st.cache_data(show_spinner=False, max_entries=256)
def _run_sparql(key: BuildKey, text: str) -> dict[str, Any]:
    from sparql.errors import EngineBusy, SparqlError

    engine = sparql_engine(key)
    try:
        result = engine.query(text)
    except EngineBusy as exc:
        raise _Busy(str(exc)) from None  # Streamlit does not cache a call that raises
    except SparqlError as exc:
        return {"error": str(exc), "kind": type(exc).__name__}
    out: dict[str, Any] = {
        "kind": result.kind,
        "records": result.records(),
        "variables": list(result.variables) if result.kind == "select" else
        (["boolean"] if result.kind == "ask" else ["subject", "predicate", "object"]),
        "elapsed": result.elapsed,
        "note": result.note,
        "downloads": {},
    }
    formats = {"csv": "csv", "json": "json"} if result.kind != "graph" else {"ttl": "turtle", "nt": "ntriples"}
    for ext, fmt in formats.items():
        out["downloads"][ext] = result.serialize(fmt)
    return out


# --- URL-bound widget state -------------------------------------------------------------------------


def member(options: Sequence[str]) -> Callable[[str], str]:
    """A URL-parameter parser that accepts only one of ``options`` (anything else keeps the default)."""

    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(text)
        return text

    return parse


def url_state(key: str, param: str, default: T, parse: Callable[[str], T]) -> None:
    """Seed widget ``key`` from the URL parameter ``param`` before the widget is drawn.

    The URL wins when it changed since this session last saw it (a shared link, a link from another
    page); otherwise the widget keeps what the analyst chose. Unparseable values fall back to the
    default rather than failing: a hand-edited URL must not break the page.
    """
    raw = st.query_params.get(param)
    seen_key = f"_url_{key}"
    if key not in st.session_state or (raw is not None and raw != st.session_state.get(seen_key)):
        try:
            value = parse(raw) if raw is not None else default
        except (ValueError, KeyError, TypeError):
            value = default
        st.session_state[key] = value
    st.session_state[seen_key] = raw


def url_sync(key: str, param: str, default: Any, fmt: Callable[[Any], str] = str) -> None:
    """Write widget ``key``'s value into the URL (removed when it is the default), so a link reproduces it."""
    value = st.session_state.get(key, default)
    empty = value is None or value == default or value == "" or value == [] or value == ()
    raw = None if empty else fmt(value)
    if raw is None:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != raw:
        st.query_params[param] = raw
    st.session_state[f"_url_{key}"] = raw


def parse_int(text: str) -> int:
    return int(text)


def parse_list(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


# --- downloads ----------------------------------------------------------------------------------------


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV with a BOM: Excel on Chinese Windows opens UTF-8 with a BOM correctly, without one it garbles."""
    return df.to_csv(index=False).encode("utf-8-sig")


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


# --- ECharts graph --------------------------------------------------------------------------------


def echarts_graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], categories: list[str], *,
                  title: str = "", layout: str = "force", repulsion: int = 220,
                  colours: Sequence[str] = ()) -> dict[str, Any]:
    """ECharts options for a graph series. Labels are drawn on the canvas and tooltips use rich text
    (``renderMode: richText``), so unit and task names are never interpreted as HTML. The toolbox
    saves the picture (PNG with the canvas renderer, SVG with the svg renderer)."""
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"renderMode": "richText", "confine": True},
        "legend": [{"data": categories, "bottom": 0, "type": "scroll"}],
        "toolbox": {
            "feature": {"saveAsImage": {"title": "保存为图片", "name": "policykg-network", "pixelRatio": 2},
                        "restore": {"title": "还原"}},
            "right": 10,
        },
        "animationDuration": 600,
        "series": [
            {
                "type": "graph",
                "layout": layout,
                "data": nodes,
                "links": edges,
                "categories": [
                    {"name": name, **({"itemStyle": {"color": colours[i]}} if i < len(colours) else {})}
                    for i, name in enumerate(categories)
                ],
                "roam": True,
                "draggable": True,
                "label": {"show": True, "position": "right", "fontSize": 11},
                "labelLayout": {"hideOverlap": True},
                "force": {"repulsion": repulsion, "edgeLength": [40, 160], "gravity": 0.08},
                "emphasis": {"focus": "adjacency", "lineStyle": {"width": 4}},
                "lineStyle": {"color": "source", "curveness": 0.1, "opacity": 0.5},
                "top": 40,
                "bottom": 40,
            }
        ],
    }


def selected_name(event: Any) -> str | None:
    """The node name a click on an ECharts graph selected (None for an edge or nothing)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        name = point.get("name") if isinstance(point, dict) else None
        if name:
            return str(name)
    return None


def role_of(task: Task, unit: str) -> Role | None:
    for role in ROLES:
        if unit in task.units(role):
            return role
    return None
