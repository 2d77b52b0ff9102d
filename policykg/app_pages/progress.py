"""落实情况: which tasks the annual reports give evidence for, year by year (tasks × years heat map).

A cell is a task and a report year, coloured by how many statements of that year's report evidence
the task; a task past a deadline with nothing reported since is marked. Choosing a cell (a click on
the map, or the 查看 selectors) lists its statements with their score and reason. Filters by unit
and chapter; every choice is kept in the URL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from analysis.progress import STATUS_LABELS, task_progress
from policykg.app_pages import common as c

b = c.current_build()
units = c.unit_names(b)
chapters = c.chapter_options(b)
multi_plan = len(b.plans) > 1

st.title("落实情况")

reports = b.reports
links: list[dict[str, Any]] = [lk for _r, _p, lks in reports for lk in lks]
years = sorted({r.year for r, _p, _l in reports if r.year is not None})
if not reports:
    st.info("构建中还没有年度报告。把法治政府建设情况报告放进 data/reports 文件夹（或 `policykg build 文件 --kind report`），"
            "重新构建后这里显示各任务逐年的落实佐证。")
    st.stop()

c.url_state("p_unit", "unit", "", c.member(["", *units]))
c.url_state("p_chapter", "chapter", 0, lambda s: int(s) if int(s) in chapters else 0)
c.url_state("p_asof", "asof", dt.date.today(), dt.date.fromisoformat)
with st.container(horizontal=True):
    st.selectbox("单位（牵头或责任）", ["", *units], key="p_unit", format_func=lambda u: u or "（全部单位）", width=260)
    st.selectbox("章", [0, *chapters], key="p_chapter",
                 format_func=lambda n: "（全部章）" if not n else f"{n}. {chapters[n]}", width=320)
    st.date_input("参照日期（判断是否逾期）", key="p_asof", format="YYYY-MM-DD", width=220)
unit: str = st.session_state["p_unit"]
chapter: int = st.session_state["p_chapter"]
as_of: dt.date = st.session_state["p_asof"] or dt.date.today()
c.url_sync("p_unit", "unit", "")
c.url_sync("p_chapter", "chapter", 0)
c.url_sync("p_asof", "asof", dt.date.today(), lambda d: d.isoformat())

rows = [r for r in task_progress(b.plans, links, as_of=as_of, unit=unit or None)
        if not chapter or r.chapter == chapter]

cols = st.columns(4)
cols[0].metric("任务", len(rows))
cols[1].metric("有落实佐证", sum(r.status == "reported" for r in rows))
cols[2].metric("尚无佐证", sum(r.status == "unreported" for r in rows))
cols[3].metric("逾期未报告", sum(r.status == "overdue-unreported" for r in rows))
st.caption(f"年度报告：{'、'.join(f'{r.year}年（{r.id}）' for r, _p, _l in reports)}。"
           "佐证由报告表述与任务的语义、关键词、单位和章节相似度得出，得分低于阈值的表述不关联。")

if not rows:
    st.info("所选范围内没有任务。")
    st.stop()


def task_name(r: Any) -> str:
    """The row label: the task, its plan when there are several, and a mark when overdue and unreported."""
    return (f"任务{r.task}" + (f"（{r.plan}）" if multi_plan else "")
            + (" ⚠逾期" if r.status == "overdue-unreported" else ""))


cells = pd.DataFrame(
    [{"任务": task_name(r), "年度": str(y), "表述数": r.years.get(y, 0), "状态": STATUS_LABELS[r.status],
      "牵头单位": "、".join(r.lead_units) or "—", "时限": r.deadline.wording if r.deadline else "",
      "内容": r.text[:60]}
     for r in rows for y in years],
    columns=["任务", "年度", "表述数", "状态", "牵头单位", "时限", "内容"],
)
order = [task_name(r) for r in rows]
pick = alt.selection_point(fields=["任务", "年度"], name="cell", on="click")
most = max(1, int(cells["表述数"].max()))
heat = (
    alt.Chart(cells)
    .mark_rect(stroke="#ffffff", strokeWidth=1)
    .encode(
        x=alt.X("年度:O", title="报告年度", axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("任务:N", sort=order, title=None,
                axis=alt.Axis(labelLimit=200, labelOverlap=False, labelFontSize=11)),
        # no evidence is grey, not the palest green: "nothing reported" must read as absence
        color=alt.condition(alt.datum["表述数"] > 0,
                            alt.Color("表述数:Q", title="佐证表述数",
                                      scale=alt.Scale(scheme="greens", domain=[0, most])),
                            alt.value("#eeeeee")),
        tooltip=["任务", "年度", "表述数", "状态", "时限", "牵头单位", "内容"],
    )
    .add_params(pick)
)
event = st.altair_chart(heat.properties(height=max(240, 20 * len(rows))), width="stretch",
                        on_select="rerun", key="p_heat")

# the chosen cell: from a click on the map, else from the URL / the selectors below
clicked = (getattr(event, "selection", None) or {}).get("cell") if event is not None else None
task_labels = [r.task for r in rows]
c.url_state("p_task", "task", "", c.member(["", *task_labels]))
c.url_state("p_year", "year", 0, lambda s: int(s) if int(s) in years else 0)
if clicked:
    choice = clicked[0]
    chosen = next((r for r in rows if task_name(r) == choice.get("任务")), None)
    if chosen is not None:
        st.session_state["p_task"] = chosen.task
        st.session_state["p_year"] = int(choice.get("年度", 0))
with st.container(horizontal=True):
    st.selectbox("查看任务", ["", *task_labels], key="p_task", format_func=lambda t: f"任务{t}" if t else "（选择任务）",
                 width=200)
    st.selectbox("年度", [0, *years], key="p_year", format_func=lambda y: f"{y}年" if y else "（全部年度）", width=160)
task_label: str = st.session_state["p_task"]
year: int = st.session_state["p_year"]
c.url_sync("p_task", "task", "")
c.url_sync("p_year", "year", 0)

if task_label:
    row = next(r for r in rows if r.task == task_label)
    st.subheader(f"任务{row.task}（{STATUS_LABELS[row.status]}）")
    st.markdown(c.md_escape(row.text))
    st.markdown(c.md_link("打开任务页", "task", plan=row.plan if multi_plan else None, task=row.position))
    mine = [lk for lk in links if lk["plan"] == row.plan and lk["position"] == row.position
            and (not year or lk["year"] == year)]
    if not mine:
        st.info(f"{year}年度报告中没有佐证这项任务的表述。" if year else "年度报告中没有佐证这项任务的表述。")
    by_report = {r.id: r for r, _p, _l in reports}
    for lk in sorted(mine, key=lambda x: (x["year"] or 0, x["statement"])):
        rep = by_report[lk["report"]]
        s = rep.statement(int(lk["statement"]))
        with st.container(border=True):
            st.markdown(f"**{lk['year']}年** · {c.md_escape(rep.title)} · 第{lk['line']}行 · 得分 {lk['score']:.2f}")
            if s is not None and s.heading:
                st.caption(c.md_escape(s.heading))
            st.markdown(c.md_escape(lk["text"]))
            if s is not None and s.figures:
                st.caption("数据：" + c.md_escape("、".join(f.phrase for f in s.figures)))
            st.caption("关联理由：" + c.md_escape(lk["reason"]))

with st.expander("按任务列表", expanded=False):
    table = pd.DataFrame(
        [{"任务": task_name(r), "状态": STATUS_LABELS[r.status], "时限": r.deadline.wording if r.deadline else "",
          **{f"{y}年": r.years.get(y, 0) for y in years}, "牵头单位": "、".join(r.lead_units), "内容": r.text}
         for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button("下载落实情况（CSV）", c.csv_bytes(table), "policykg-progress.csv", "text/csv")
    st.download_button("下载佐证关联（JSON）", c.json_bytes(links), "policykg-evidence.json", "application/json")

with st.expander("未关联的报告表述", expanded=False):
    kinds = {"progress": "工作成效", "shortcoming": "存在不足", "plan": "下步安排", "other": "其他"}
    linked = {(lk["report"], int(lk["statement"])) for lk in links}
    loose = pd.DataFrame(
        [{"年度": r.year, "行": s.line, "类别": kinds[s.kind], "表述": s.text}
         for r, _p, _l in reports for s in r.statements if (r.id, s.position) not in linked],
        columns=["年度", "行", "类别", "表述"])
    st.caption("得分低于阈值的工作成效表述（方案中没有对应任务），以及存在不足、下步安排两部分的表述。")
    st.dataframe(loose, hide_index=True, width="stretch")
