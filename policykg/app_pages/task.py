"""任务: one task in full — where it sits, who does it, by when, what it targets, and what is like it."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_echarts import st_echarts

from policykg.app_pages import common as c

b = c.current_build()
key = c.build_key()
tasks = c.all_tasks(b)
multi_plan = len(b.plans) > 1
ids = [f"{p.id}|{t.position}" for p, t in tasks]
by_id = dict(zip(ids, tasks, strict=True))

st.title("任务详情")

# The URL names a task by plan and position (?plan=…&task=22); the selectbox works on "plan|position".
url_plan = st.query_params.get("plan") or b.plans[0].id


def _from_url(text: str) -> str:
    ident = f"{url_plan}|{int(text)}"
    if ident not in by_id:
        raise KeyError(text)
    return ident


c.url_state("t_task", "task", ids[0], _from_url)


def _label(ident: str) -> str:
    p, t = by_id[ident]
    head = f"任务 {t.label}：{t.text[:36]}{'…' if len(t.text) > 36 else ''}"
    return f"{head}（{p.id}）" if multi_plan else head


ident = st.selectbox("选择任务", ids, key="t_task", format_func=_label)
plan, task = by_id[ident]
st.query_params["task"] = str(task.position)
if multi_plan or "plan" in st.query_params:
    st.query_params["plan"] = plan.id
st.session_state["_url_t_task"] = str(task.position)

st.subheader(f"任务 {task.label}")
st.caption(c.md_escape(c.task_path(plan, task)) + f" · 原文第 {task.line} 行 · {c.md_escape(plan.title)}")
with st.container(border=True):
    st.markdown(c.md_escape(task.text))
if task.unit_clause:
    st.caption("单位表述（原文）：" + c.md_escape(task.unit_clause))

left, right = st.columns(2)
with left:
    st.markdown("##### 承担单位")
    for role, label in c.ROLE_LABELS.items():
        names = task.units(role)  # type: ignore[arg-type]
        st.markdown(f"**{label}单位：** {c.unit_links(names, plan.id if multi_plan else None)}")
with right:
    st.markdown("##### 时限与目标")
    deadlines = [{"date": d.date.isoformat(), "wording": d.wording} for d in task.deadlines]
    st.markdown("**时限：** " + (c.deadline_badges(deadlines) or "原文未规定"))
    if task.targets:
        st.dataframe(
            pd.DataFrame([{"目标": t.phrase, "数值": t.value, "单位": t.unit, "比较": t.comparator,
                           "所在语句": t.context} for t in task.targets]),
            hide_index=True, width="stretch",
        )
    else:
        st.caption("无量化目标")

if b.reports:  # annual reports in the build: what they say was done on this task (issue #15)
    st.markdown("##### 落实佐证（年度报告）")
    evidence = sorted((lk for _r, _p, lks in b.reports for lk in lks
                       if lk["plan"] == plan.id and lk["position"] == task.position),
                      key=lambda lk: (lk["year"] or 0, lk["report"], lk["statement"]))
    if not evidence:
        st.caption("年度报告中没有佐证这项任务的表述。")
    for lk in evidence:
        st.markdown(f"**{lk['year']}年** · 得分 {lk['score']:.2f} · {c.md_escape(lk['text'])}")
        st.caption("关联理由：" + c.md_escape(lk["reason"]))
    st.markdown(c.md_link("在落实情况页查看", "progress", task=task.label))

st.markdown("##### 最相似的任务")
top = st.slider("显示数量", 3, 15, 5, key="t_top")
try:
    similar = c.similar(key, plan.id, task.position, top)
except c.SEARCH_ERRORS as exc:
    st.error("检索索引不可用，无法列出相似任务：" + c.md_escape(exc), icon=":material/error:")
    similar = []
st.dataframe(
    pd.DataFrame(
        [
            {
                "任务": c.page_url("task", plan=h["plan"] if multi_plan else None, task=h["position"]),
                "相似度": h["score"],
                "所在节": f"{h['section_label']}{h['section_title']}",
                "内容": h["text"],
                "牵头单位": "、".join(h["lead_units"]),
            }
            for h in similar
        ],
        columns=["任务", "相似度", "所在节", "内容", "牵头单位"],
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "任务": st.column_config.LinkColumn("任务", display_text=r"task=(\d+)", width="small"),
        "相似度": st.column_config.ProgressColumn("相似度", min_value=0.0, max_value=1.0, format="%.3f"),
    },
)

st.markdown("##### 关系图")
st.caption("本任务、它所在的节、承担单位（按角色着色）和最相似的任务。可拖动、缩放；右上角可保存为图片。")
role_names = list(c.ROLE_UNIT_LABELS.values())
categories = ["本任务", "所在节", *role_names, "相似任务"]
centre = f"任务{task.label}"
nodes = [{"name": centre, "category": 0, "symbolSize": 40, "value": task.text[:60]}]
edges = []
section = plan.section(task.section)
if section:
    nodes.append({"name": f"{section.label}{section.title}", "category": 1, "symbolSize": 26})
    edges.append({"source": centre, "target": nodes[-1]["name"]})
seen = {n["name"] for n in nodes}
for i, role in enumerate(c.ROLE_LABELS):
    for name in task.units(role):  # type: ignore[arg-type]
        if name not in seen:
            seen.add(name)
            nodes.append({"name": name, "category": 2 + i, "symbolSize": 20})
        edges.append({"source": name, "target": centre, "value": c.ROLE_LABELS[role]})
for h in similar:
    name = f"任务{h['task']}" + (f"（{h['plan']}）" if multi_plan else "")
    if name not in seen:
        seen.add(name)
        nodes.append({"name": name, "category": 5, "symbolSize": 14, "value": round(h["score"], 3)})
        edges.append({"source": centre, "target": name, "lineStyle": {"type": "dashed"}})
colours = ["#d62728", "#7f7f7f", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd"]
st_echarts(c.echarts_graph(nodes, edges, categories, repulsion=320, colours=colours), height="460px",
           key=f"t_graph_{ident}")
