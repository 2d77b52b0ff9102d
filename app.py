"""policykg — the analysts' app: `streamlit run app.py`.

This script only composes: it opens (or first builds, with a progress bar) the build named by
``POLICYKG_DATA`` / ``POLICYKG_BUILD`` and hands over to the page scripts in ``policykg/app_pages``.
Each page has its own URL path and keeps its state in query parameters, so any view can be shared
as a link. Logic lives in the library (ingest, graph, search); pages call it through cached wrappers
in ``policykg.app_pages.common``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from policykg.app_pages import common

HERE = Path(__file__).resolve().parent
PAGES = HERE / "policykg" / "app_pages"

st.set_page_config(page_title="法治政府建设任务图谱", page_icon=":material/gavel:", layout="wide")

build = common.ensure_build()

pages = [
    st.Page(PAGES / "overview.py", title="概览", icon=":material/home:", url_path="overview", default=True),
    st.Page(PAGES / "search.py", title="搜索", icon=":material/search:", url_path=common.PAGE_PATHS["search"]),
    st.Page(PAGES / "task.py", title="任务", icon=":material/description:", url_path=common.PAGE_PATHS["task"]),
    st.Page(PAGES / "unit.py", title="单位", icon=":material/account_balance:", url_path=common.PAGE_PATHS["unit"]),
    st.Page(PAGES / "network.py", title="工作量网络", icon=":material/hub:", url_path=common.PAGE_PATHS["network"]),
    st.Page(PAGES / "deadlines.py", title="截止时间", icon=":material/event:", url_path=common.PAGE_PATHS["deadlines"]),
    st.Page(PAGES / "progress.py", title="落实情况", icon=":material/fact_check:", url_path=common.PAGE_PATHS["progress"]),
    st.Page(PAGES / "parent.py", title="上级对照", icon=":material/account_tree:", url_path=common.PAGE_PATHS["parent"]),
    st.Page(PAGES / "sparql.py", title="SPARQL", icon=":material/code:", url_path=common.PAGE_PATHS["sparql"]),
]
page = st.navigation(pages)

with st.sidebar:
    counts = build.counts
    st.caption(
        f"{counts.plans} 份规划 · {counts.tasks} 项任务 · {counts.units} 个单位"
        + (f" · {counts.reports} 份年度报告" if counts.reports else "")
    )
    st.caption(f"构建时间 {build.manifest.created or '—'} · 模型 {build.manifest.model or '—'}")

page.run()
