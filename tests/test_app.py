"""The Streamlit app, driven page by page with ``streamlit.testing.v1.AppTest``.

One private data folder (a copy of the plan and tables, no build) is opened by the app first, so the
first test exercises "no build yet → build with a progress bar → serve"; every later test reuses that
build through the app's process-wide ``st.cache_resource``. Expected answers come from the build's
records, never from the page under test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from streamlit.testing.v1 import AppTest

from ingest.records import ROLES
from policykg.build import Build
from policykg.config import Config
from policykg.manifest import read_manifest
from tests.conftest import copy_data

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = "policykg/app_pages"
TIMEOUT = 120


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder without a build, named by POLICYKG_DATA for the app (restored afterwards)."""
    data = copy_data(tmp_path_factory.mktemp("appdata"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYKG_DATA", str(data))
        mp.delenv("POLICYKG_BUILD", raising=False)
        yield data


@pytest.fixture(scope="module")
def first_open(app_data: Path) -> tuple[AppTest, float]:
    """The app's first open on a data folder without a build: it must build, then serve."""
    assert not (app_data / "build").exists()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    t0 = time.perf_counter()
    at.run()
    return at, time.perf_counter() - t0


@pytest.fixture(scope="module")
def build(first_open: tuple[AppTest, float], app_data: Path) -> Build:
    return Build(app_data / "build", Config(data_dir=app_data))


def open_page(page: str, **params: str) -> AppTest:
    """A fresh session on ``page`` (a file in policykg/app_pages) with URL query parameters."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(f"{PAGES}/{page}.py")
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def card_tasks(at: AppTest) -> list[int]:
    """Task numbers of the search result cards, in rank order (card headers read "**1\\. 任务 22** · …")."""
    found = [re.match(r"\*\*\d+\\\. 任务 (\d+)\*\*", m) for m in markdown(at)]
    return [int(m.group(1)) for m in found if m]


def linked_tasks(df: Any, column: str = "任务") -> set[int]:
    return {int(re.search(r"task=(\d+)", url).group(1)) for url in df[column]}  # type: ignore[union-attr]


# --- first open, every page -----------------------------------------------------------------------


def test_first_open_builds_then_serves(first_open: tuple[AppTest, float], app_data: Path) -> None:
    at, seconds = first_open
    assert not at.exception, [e.value for e in at.exception]
    assert read_manifest(app_data / "build").counts.tasks == 74
    assert (app_data / "build" / "search" / "manifest.json").exists(), "the app's build includes the search index"
    assert at.title[0].value == "法治政府建设任务图谱"  # the overview is the default page
    assert not at.progress, "the progress bar is removed once the build is done"
    print(f"\nfirst open with build: {seconds:.1f} s")


@pytest.mark.parametrize("page", ["overview", "search", "task", "unit", "network", "deadlines", "parent", "sparql"])
def test_every_page_runs_without_error(build: Build, page: str) -> None:
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]
    assert at.title, "every page has a title"


def test_overview_reports_plan_counts_and_defects(build: Build) -> None:
    at = open_page("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["任务"] == "74" and metrics["节"] == "31" and metrics["章"] == "10"
    plans = at.dataframe[0].value
    assert list(plans["标题"]) == [p.title for p in build.plans]
    defects = at.dataframe[2].value  # summary, then the filtered defect list
    warnings = [d for p in build.plans for d in p.defects if d.severity != "info"]
    assert len(defects) == len(warnings)
    assert set(defects["行号"].dropna().astype(int)) == {d.line for d in warnings if d.line}


# --- search ----------------------------------------------------------------------------------------


def test_search_finds_the_chuanyu_tasks(build: Build) -> None:
    at = open_page("search", q="川渝协同")
    top = card_tasks(at)[:5]
    assert {3, 11, 22} <= set(top), top
    # the matched words are highlighted, and document text is escaped markdown
    assert any(":orange-background[**川渝**]" in m for m in markdown(at))


def test_search_state_goes_into_the_url(build: Build) -> None:
    at = open_page("search")
    assert not card_tasks(at), "no query, no results"
    at.text_input(key="s_q").set_value("川渝协同")
    at.selectbox(key="s_chapter").set_value(5)
    at.run()
    assert at.query_params.get("q") == "川渝协同" and at.query_params.get("chapter") == "5"
    cards = card_tasks(at)
    chapter5 = {t.number for t in build.plans[0].tasks if t.chapter == 5}
    assert cards[0] == 22 and set(cards) <= chapter5, "chapter 5 holds task 22, not tasks 3 and 11"


def test_search_unit_filter_from_url(build: Build) -> None:
    at = open_page("search", q="培训", unit="区司法局", role="lead")
    numbers = card_tasks(at)
    expected = {t.number for p in build.plans for t in p.tasks if "区司法局" in t.lead_units}
    assert numbers and set(numbers) <= expected
    assert at.selectbox(key="s_unit").value == "区司法局"


def test_search_notes_are_shown(build: Build) -> None:
    at = open_page("search", q="区司法局牵头的任务")
    notes = " ".join(i.value for i in at.info)
    assert "区司法局" in notes, "the recognised unit filter is explained"
    expected = [t.number for p in build.plans for t in p.tasks if "区司法局" in t.lead_units][:10]
    assert card_tasks(at) == expected


# --- task, unit, network, deadlines -----------------------------------------------------------------


def test_task_page_shows_the_task_and_similar_tasks(build: Build) -> None:
    at = open_page("task", task="22")
    task = next(t for t in build.plans[0].tasks if t.position == 22)
    assert at.subheader[0].value == "任务 22"
    assert any("加强川渝执法协同" in m for m in markdown(at))
    similar = at.dataframe[0].value
    assert len(similar) == 5 and 22 not in linked_tasks(similar)
    assert any("区政府有关部门" in m and "责任单位" in m for m in markdown(at)) == ("区政府有关部门" in task.responsible_units)


def test_unit_page_lists_the_units_tasks_by_role(build: Build) -> None:
    at = open_page("unit", name="区司法局")
    assert at.subheader[0].value == "区司法局"
    plan = build.plans[0]
    for tab, role in zip(at.tabs, ROLES, strict=True):
        expected = {t.position for t in plan.tasks if "区司法局" in t.units(role)}
        shown = linked_tasks(tab.dataframe[0].value) if tab.dataframe else set()
        assert shown == expected, (role, shown ^ expected)
        assert tab.label.endswith(f"（{len(expected)}）")


def test_unit_page_accepts_a_body_name(build: Build) -> None:
    at = open_page("unit", name="司法局")
    assert at.selectbox(key="u_name").value == "区司法局"
    assert at.query_params.get("name") == "区司法局"


def test_network_page_views(build: Build) -> None:
    for params in ({}, {"view": "tasks"}, {"collectives": "1", "roles": "lead", "chapters": "5,6"}):
        at = open_page("network", **params)
        assert not at.error
    at = open_page("network", roles="lead", min="2")
    assert at.query_params.get("roles") == "lead" and at.query_params.get("min") == "2"


def test_network_graphml_download_is_the_graph_on_screen(build: Build) -> None:
    from analysis.network import co_assignment_graph
    from policykg.app_pages import common

    key = common.build_key(build.config)
    data = common.graphml(key, "units", False, ("lead",), ())
    g = nx.read_graphml(__import__("io").BytesIO(data))
    expected = co_assignment_graph(build.plans, include_collectives=False, roles=("lead",))
    assert g.number_of_nodes() == expected.number_of_nodes()
    assert g.number_of_edges() == expected.number_of_edges()


def test_deadlines_page_marks_overdue_against_the_reference_date(build: Build) -> None:
    as_of = dt.date(2023, 1, 1)
    at = open_page("deadlines", unit="区司法局", asof=as_of.isoformat())
    metrics = {m.label: m.value for m in at.metric}
    deadlines = [d for t in build.plans[0].tasks if "区司法局" in (*t.lead_units, *t.responsible_units,
                                                                  *t.participating_units) for d in t.deadlines]
    assert int(metrics["已到期"]) == sum(d.date < as_of for d in deadlines)
    assert int(metrics["未到期"]) == sum(d.date >= as_of for d in deadlines)
    assert len(at.dataframe[0].value) == len(deadlines)


# --- 上级对照 ------------------------------------------------------------------------------------------


def test_parent_page_without_a_parent_says_where_to_put_one(build: Build) -> None:
    at = open_page("parent")
    assert any("parents" in i.value for i in at.info)


def test_parent_page_shows_measures_carriers_and_local_additions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data folder with a parent plan: the build aligns the plan to it and the page shows that."""
    import shutil

    from policykg.build import build as make_build
    from policykg.parents import stored_parents

    data = copy_data(tmp_path / "data")
    source = ROOT / "data" / "parents" / "chongqing-fazhi-zhengfu-2021-2025-extract.txt"
    (data / "parents").mkdir()
    shutil.copy(source, data / "parents" / source.name)
    make_build(Config(data_dir=data))
    monkeypatch.setenv("POLICYKG_DATA", str(data))
    b = Build(data / "build", Config(data_dir=data))
    [summary] = b.manifest.alignments

    at = open_page("parent")
    assert at.query_params.get("parent") is None  # the automatic parent is the default, not in the URL
    assert "（自动识别）" in at.selectbox[1].format_func(at.selectbox[1].value)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["未承接"]) == summary.not_carried
    assert int(metrics["本级新增任务"]) == summary.local
    assert len(at.dataframe[0].value) == b.manifest.parents[0].measures
    assert len(at.dataframe[1].value) == summary.local

    at.selectbox[2].set_value("not_carried").run()  # the filter goes into the URL ...
    assert at.query_params["status"] == "not_carried"
    at = open_page("parent", status="not_carried")  # ... and a link with it opens the same view
    measures = at.dataframe[0].value
    assert set(measures["状态"]) == {"未承接"}
    [parent] = stored_parents(b)
    stored = json.loads((b.path / summary.record).read_text(encoding="utf-8"))
    assert list(measures["措施"]) == [parent.tasks[p - 1].label for p in stored["not_carried"]]


# --- SPARQL --------------------------------------------------------------------------------------------


def test_sparql_canned_query_shows_its_rows(build: Build) -> None:
    at = open_page("sparql", query="unit-workload")
    assert not at.error
    rows = at.dataframe[0].value
    named = {u for t in build.plans[0].tasks for r in ROLES for u in t.units(r)}
    assert set(rows["unitLabel"]) == named
    sifaju = rows[rows["unitLabel"] == "区司法局"].iloc[0]
    assert int(sifaju["lead"]) == sum("区司法局" in t.lead_units for t in build.plans[0].tasks)
    assert any("时间限制" in c.value for c in at.caption)


def test_sparql_gallery_loads_the_query_text(build: Build) -> None:
    from sparql.queries import get_query

    at = open_page("sparql")
    at.selectbox(key="q_name").set_value("units-by-type")
    at.run()
    assert at.text_area(key="q_text").value == get_query("units-by-type").text
    assert at.query_params.get("query") == "units-by-type" and "text" not in at.query_params
    assert not at.error and len(at.dataframe[0].value) > 0


@pytest.mark.parametrize(
    ("text", "says"),
    [("SELECT * WHERE { ?s ?p }", "syntax"), ("INSERT DATA { <a:b> <a:c> <a:d> }", "read-only")],
)
def test_bad_sparql_shows_an_error_not_a_traceback(build: Build, text: str, says: str) -> None:
    at = open_page("sparql", text=text)
    assert not at.exception
    assert len(at.error) == 1 and says in at.error[0].value.replace("\\", "")
    assert not at.dataframe


# --- safe text -------------------------------------------------------------------------------------------


def test_document_text_cannot_become_markup() -> None:
    from policykg.app_pages.common import highlight_md, md_escape

    nasty = "<script>alert(1)</script> **bold** [link](javascript:x) :red[x] $x$ `c`"
    escaped = md_escape(nasty)
    unescaped = re.sub(r"\\.", "", escaped)  # what is left once every escaped character is removed
    assert not re.search(r"[<>*\[\]()`$:]", unescaped), unescaped
    assert re.sub(r"\\(.)", r"\1", escaped) == nasty, "escaping shows the text exactly as written"
    marked = highlight_md("加强川渝执法协同[x](y)", [(2, 4, "川渝")])
    assert marked == r"加强:orange-background[**川渝**]执法协同\[x\]\(y\)"


# --- speed ------------------------------------------------------------------------------------------------

_TIMING = """
import time, json, statistics
wall0, cpu0 = time.perf_counter(), time.process_time()
from policykg.build import Build
from policykg.config import Config
wall1, cpu1 = time.perf_counter(), time.process_time()
b = Build.open(Config())
plans = len(b.plans)
wall2, cpu2 = time.perf_counter(), time.process_time()
e = b.search_engine()
e.search("法治政府建设", top=1)
wall3 = time.perf_counter()
queries = ["川渝协同", "行政执法人员培训", "区司法局牵头的任务", "数据共享", "重大行政决策合法性审查",
           "行政复议", "营商环境", "普法宣传", "应急管理", "政务公开"]
wall, cpu = [], []
for mode in ("hybrid", "dense", "bm25"):
    for q in queries:
        w, c = time.perf_counter(), time.process_time()
        e.search(q, top=10, mode=mode)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
print(json.dumps({"import": wall1 - wall0, "open": wall2 - wall1, "open_cpu": cpu2 - cpu0, "ready": wall2 - wall0,
                  "engine": wall3 - wall2, "median": statistics.median(wall), "max": max(wall),
                  "median_cpu": statistics.median(cpu), "max_cpu": max(cpu)}))
"""


def test_load_time_and_search_latency(build: Build, app_data: Path) -> None:
    """A cold process has the build open in under 3 s; a search answers in under 300 ms (server side).

    The limits are checked on CPU time, which other jobs on a shared machine cannot inflate; the
    wall-clock times are printed alongside.
    """
    env = {**os.environ, "POLICYKG_DATA": str(app_data)}
    out = subprocess.run([sys.executable, "-c", _TIMING], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300, check=True)
    n = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\ncold process: imports {n['import']:.2f} s + Build.open {n['open']:.3f} s = {n['ready']:.2f} s wall "
          f"({n['open_cpu']:.2f} s CPU); search engine + embedding model load {n['engine']:.2f} s; "
          f"search median {n['median'] * 1000:.1f} ms wall / {n['median_cpu'] * 1000:.1f} ms CPU, "
          f"max {n['max'] * 1000:.1f} ms wall / {n['max_cpu'] * 1000:.1f} ms CPU")
    assert n["open"] < 3.0 and n["open_cpu"] < 3.0
    assert n["median"] < 0.3 and n["max_cpu"] < 0.3
