"""截止时间: every printed deadline on a timeline, those past a reference date (today) marked."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from policykg.app_pages import common as c

b = c.current_build()
key = c.build_key()
units = c.unit_names(b)
roles = ["any", *c.ROLE_LABELS]
multi_plan = len(b.plans) > 1

st.title("截止时间")


c.url_state("d_unit", "unit", "", c.member(["", *units]))
c.url_state("d_role", "role", "any", c.member(roles))
c.url_state("d_asof", "asof", dt.date.today(), dt.date.fromisoformat)

with st.container(horizontal=True):
    st.selectbox("单位", ["", *units], key="d_unit", format_func=lambda u: u or "（全部单位）", width=240)
    st.selectbox("角色", roles, key="d_role",
                 format_func=lambda r: c.ANY_ROLE_LABEL if r == "any" else c.ROLE_UNIT_LABELS[r], width=140)
    st.date_input("参照日期（判断是否到期）", key="d_asof", format="YYYY-MM-DD", width=220)
unit = st.session_state["d_unit"]
role = st.session_state["d_role"]
as_of: dt.date = st.session_state["d_asof"] or dt.date.today()
c.url_sync("d_unit", "unit", "")
c.url_sync("d_role", "role", "any")
c.url_sync("d_asof", "asof", dt.date.today(), lambda d: d.isoformat())

tasks = {(p.id, t.position): (p, t) for p, t in c.all_tasks(b)}
if unit:
    a = c.assignments(key)
    a = a[(a["unit"] == unit) & ((a["role"] == role) if role != "any" else True)]
    selected = set(zip(a["plan"], a["task"], strict=True))
else:
    selected = set(tasks)

chapter_titles = c.chapter_options(b)
rows = []
for (plan_id, position), (_plan, task) in sorted(tasks.items(), key=lambda kv: kv[0]):
    if (plan_id, position) not in selected:
        continue
    for d in task.deadlines:
        rows.append({
            "任务": f"任务{task.label}" + (f"（{plan_id}）" if multi_plan else ""),
            "编号": task.number,
            "日期": pd.Timestamp(d.date),
            "时限原文": d.wording,
            "状态": "已到期" if d.date < as_of else "未到期",
            "逾期天数": max(0, (as_of - d.date).days),
            "章": chapter_titles.get(task.chapter, str(task.chapter)),
            "牵头单位": "、".join(task.lead_units) or "—",
            "内容": task.text,
            "链接": c.page_url("task", plan=plan_id if multi_plan else None, task=position),
        })
df = pd.DataFrame(rows, columns=["任务", "编号", "日期", "时限原文", "状态", "逾期天数", "章", "牵头单位", "内容", "链接"])
undated = sum(1 for k in selected if not tasks[k][1].deadlines)

cols = st.columns(4)
cols[0].metric("有明确时限的任务", df["编号"].nunique() if not df.empty else 0)
cols[1].metric("已到期", int((df["状态"] == "已到期").sum()))
cols[2].metric("未到期", int((df["状态"] == "未到期").sum()))
cols[3].metric("未规定时限的任务", undated)

if df.empty:
    st.info("所选范围内没有规定时限的任务。")
    st.stop()

colours = alt.Scale(domain=["已到期", "未到期"], range=["#d62728", "#1f77b4"])
points = (
    alt.Chart(df.drop(columns=["内容", "链接"]))
    .mark_point(filled=True, size=110)
    .encode(
        x=alt.X("日期:T", title="截止日期", axis=alt.Axis(format="%Y-%m")),
        y=alt.Y("章:N", title=None, sort=list(c.chapter_options(b).values()),
                axis=alt.Axis(labelLimit=260)),
        color=alt.Color("状态:N", scale=colours, legend=alt.Legend(title=None, orient="top")),
        shape=alt.Shape("状态:N", legend=None),
        tooltip=["任务", "时限原文", alt.Tooltip("日期:T", format="%Y-%m-%d"), "状态", "逾期天数", "牵头单位"],
    )
)
today = pd.DataFrame({"日期": [pd.Timestamp(as_of)], "说明": [f"参照日期 {as_of.isoformat()}"]})
rule = alt.Chart(today).mark_rule(color="#d62728", strokeDash=[6, 4]).encode(x="日期:T", tooltip=["说明"])
label = alt.Chart(today).mark_text(align="left", dx=4, dy=-6, color="#d62728").encode(
    x="日期:T", y=alt.value(0), text="说明"
)
st.altair_chart((points + rule + label).properties(height=max(260, 34 * df["章"].nunique())), width="stretch")

st.dataframe(
    df.drop(columns=["编号"]).assign(日期=df["日期"].dt.date).sort_values(["日期", "任务"]),
    hide_index=True,
    width="stretch",
    column_order=["链接", "日期", "时限原文", "状态", "逾期天数", "牵头单位", "章", "内容"],
    column_config={
        "链接": st.column_config.LinkColumn("任务", display_text=r"task=(\d+)", width="small"),
        "逾期天数": st.column_config.NumberColumn(format="%d 天"),
    },
)
st.download_button("下载时限表（CSV）", c.csv_bytes(df.drop(columns=["链接"])), "policykg-deadlines.csv", "text/csv")
