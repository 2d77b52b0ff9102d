"""单位: every unit with its load by role; one unit's tasks by role and the units it works with most."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from policykg.app_pages import common as c

b = c.current_build()
key = c.build_key()
units = c.unit_names(b)
multi_plan = len(b.plans) > 1

st.title("单位")


def _unit(text: str) -> str:
    if text in units:
        return text
    matches = [u for u in units if text and text in u]  # 司法局 → 区司法局, as in the search filters
    if len(matches) == 1:
        return matches[0]
    raise KeyError(text)


c.url_state("u_name", "name", units[0], _unit)


def _pick_row() -> None:
    """A row clicked in the table below opens that unit (callbacks run before the widgets are drawn)."""
    rows = st.session_state["u_table"].selection.rows
    shown = st.session_state.get("_u_table_units", [])
    if rows and rows[0] < len(shown):
        st.session_state["u_name"] = shown[rows[0]]


name = st.selectbox("选择单位", units, key="u_name")
c.url_sync("u_name", "name", None)

unit = next((u for p in b.plans if (u := p.unit(name))), None)
assignments = c.assignments(key)
mine = assignments[assignments["unit"] == name]

st.subheader(name)
facts = [f"类型：{c.UNIT_TYPE_LABELS.get(unit.type, unit.type) if unit else '其他'}"]
if unit and unit.collective:
    facts.append("集合主体（代表多个单位）")
if unit and unit.aliases:
    facts.append("别名：" + "、".join(unit.aliases))
st.caption(c.md_escape(" · ".join(facts)))
cols = st.columns(4)
for col, (role, label) in zip(cols, c.ROLE_LABELS.items(), strict=False):
    col.metric(f"{label}任务", int((mine["role"] == role).sum()))
cols[3].metric("涉及任务（去重）", int(mine[["plan", "task"]].drop_duplicates().shape[0]))
st.markdown(c.md_link("在搜索页查看该单位的全部任务", "search", unit=name)
            + " · " + c.md_link("在截止时间页查看", "deadlines", unit=name))

st.markdown("##### 按角色列出的任务")
texts = {(p.id, t.position): t for p, t in c.all_tasks(b)}
tabs = st.tabs([f"{label}（{int((mine['role'] == role).sum())}）" for role, label in c.ROLE_LABELS.items()])
for tab, role in zip(tabs, c.ROLE_LABELS, strict=True):
    rows = mine[mine["role"] == role]
    table = pd.DataFrame(
        [
            {
                "任务": c.page_url("task", plan=r.plan if multi_plan else None, task=r.task),
                "章": f"{r.chapter} {r.chapter_title}",
                "节": r.section_title,
                "内容": texts[(r.plan, r.task)].text,
                "时限": "；".join(d.wording for d in texts[(r.plan, r.task)].deadlines),
            }
            for r in rows.itertuples()
        ],
        columns=["任务", "章", "节", "内容", "时限"],
    )
    with tab:
        if table.empty:
            st.caption("无")
        else:
            st.dataframe(table, hide_index=True, width="stretch", key=f"u_tasks_{role}",
                         column_config={"任务": st.column_config.LinkColumn("任务", display_text=r"task=(\d+)",
                                                                            width="small")})

st.markdown("##### 最常合作的单位")
st.caption("两个单位同时出现在一项任务中（任一角色）即算一次合作；“共同牵头”指两者都是牵头单位。")
g = c.co_assignment(key, True, tuple(c.ROLE_LABELS), ())
node = next((n for n, d in g.nodes(data=True) if d.get("label") == name), None)
partners = pd.DataFrame(
    [
        {"单位": g.nodes[m].get("label", m), "类型": c.UNIT_TYPE_LABELS.get(g.nodes[m].get("unit_type", "other"), "其他"),
         "共同任务": int(e["weight"]), "共同牵头": int(e.get("both_lead", 0))}
        for m, e in (g[node].items() if node is not None else [])
    ],
    columns=["单位", "类型", "共同任务", "共同牵头"],
).sort_values(["共同任务", "共同牵头", "单位"], ascending=[False, False, True]).head(15)
st.dataframe(partners, hide_index=True, width="stretch")

st.divider()
st.markdown("##### 全部单位一览")
st.caption("点击表头排序；选中一行查看该单位。加权工作量 = 牵头×3 + 责任×2 + 参加×1（analysis.workload 的默认权重）。")
include = st.toggle("包含集合主体（如“区政府有关部门”）", value=True, key="u_collectives")
wl = c.workload(key, include)
st.session_state["_u_table_units"] = list(wl["unit"])
view = pd.DataFrame(
    {
        "单位": wl["unit"],
        "类型": [c.UNIT_TYPE_LABELS.get(t, t) for t in wl["unit_type"]],
        "牵头": wl["lead"],
        "责任": wl["responsible"],
        "参加": wl["participating"],
        "任务数": wl["tasks"],
        "加权工作量": wl["load"],
        "任务占比": wl["task_share"],
    }
)
st.dataframe(
    view, hide_index=True, width="stretch", key="u_table", on_select=_pick_row, selection_mode="single-row",
    column_config={"任务占比": st.column_config.ProgressColumn("任务占比", min_value=0.0, max_value=1.0,
                                                               format="percent")},
)
st.download_button("下载单位表（CSV）", c.csv_bytes(view), "policykg-units.csv", "text/csv")
