"""工作量网络: who works with whom (or which unit carries which task), sized by load, coloured by type."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_echarts import st_echarts

from policykg.app_pages import common as c

b = c.current_build()
key = c.build_key()
chapters = c.chapter_options(b)
KINDS = {"units": "单位协作网络", "tasks": "单位—任务网络"}

st.title("工作量网络")


def _roles(text: str) -> list[str]:
    roles: list[str] = [r for r in c.parse_list(text) if r in c.ROLE_LABELS]
    if not roles:
        raise ValueError(text)
    return roles


def _chapters(text: str) -> list[int]:
    return [n for n in (int(x) for x in c.parse_list(text)) if n in chapters]


def _kind(text: str) -> str:
    if text not in KINDS:
        raise KeyError(text)
    return text


c.url_state("n_kind", "view", "units", _kind)
c.url_state("n_roles", "roles", list[str](c.ROLE_LABELS), _roles)
c.url_state("n_chapters", "chapters", list[int](), _chapters)
c.url_state("n_collectives", "collectives", False, lambda t: t == "1")
c.url_state("n_min", "min", 1, int)
c.url_state("n_svg", "svg", False, lambda t: t == "1")

with st.container(horizontal=True):
    st.segmented_control("视图", list(KINDS), key="n_kind", format_func=lambda k: KINDS[k], required=True)
    st.multiselect("角色", list(c.ROLE_LABELS), key="n_roles", format_func=lambda r: c.ROLE_UNIT_LABELS[r],
                   placeholder="全部角色")
    st.multiselect("章", list(chapters), key="n_chapters", format_func=lambda n: chapters[n], placeholder="全部章")
with st.container(horizontal=True):
    st.toggle("包含集合主体", key="n_collectives",
              help="“区政府有关部门”等集合主体几乎出现在每项任务中，纳入后网络会被它们主导。")
    if st.session_state["n_kind"] == "units":
        st.slider("最少共同任务数（隐藏更弱的连线）", 1, 10, key="n_min")
    st.toggle("矢量图（工具栏保存为 SVG）", key="n_svg")

kind = st.session_state["n_kind"] or "units"
roles = tuple(r for r in c.ROLE_LABELS if r in (st.session_state["n_roles"] or list(c.ROLE_LABELS)))
picked = tuple(sorted(st.session_state["n_chapters"]))
collectives = bool(st.session_state["n_collectives"])
min_weight = int(st.session_state.get("n_min", 1))

c.url_sync("n_kind", "view", "units")
c.url_sync("n_roles", "roles", list(c.ROLE_LABELS), lambda v: ",".join(v))
c.url_sync("n_chapters", "chapters", [], lambda v: ",".join(str(x) for x in sorted(v)))
c.url_sync("n_collectives", "collectives", False, lambda v: "1" if v else "0")
c.url_sync("n_min", "min", 1)
c.url_sync("n_svg", "svg", False, lambda v: "1" if v else "0")

wl = c.workload(key, collectives, roles, picked)
load = dict(zip(wl["unit"], wl["load"], strict=True))
top_load = max(load.values(), default=1) or 1
types = list(c.UNIT_TYPE_LABELS)
categories = [c.UNIT_TYPE_LABELS[t] for t in types]


def _size(value: float) -> float:
    return 8 + 42 * (value / top_load) ** 0.5


nodes: list[dict[str, object]] = []
edges: list[dict[str, object]] = []
if kind == "units":
    g = c.co_assignment(key, collectives, roles, picked)
    keep = {n for a, z, w in g.edges(data="weight") if w >= min_weight for n in (a, z)}
    for n, d in g.nodes(data=True):
        if n not in keep:
            continue
        label = d.get("label", n)
        nodes.append({"name": label, "value": float(load.get(label, 0)), "symbolSize": _size(load.get(label, 0)),
                      "category": types.index(d.get("unit_type", "other"))})
    for a, z, d in g.edges(data=True):
        if d["weight"] >= min_weight:
            edges.append({"source": g.nodes[a].get("label", a), "target": g.nodes[z].get("label", z),
                          "value": int(d["weight"]), "lineStyle": {"width": min(8, 0.6 + d["weight"] * 0.6)}})
    title = f"单位协作网络（{len(nodes)} 个单位，{len(edges)} 条连线）"
else:
    g = c.unit_task(key, collectives, roles, picked)
    categories = [*categories, "任务"]
    for n, d in g.nodes(data=True):
        if d.get("kind") == "task":
            if g.degree(n) == 0 and picked and d.get("chapter") not in picked:
                continue
            nodes.append({"name": d.get("label", n), "symbolSize": 7, "category": len(types),
                          "value": int(g.degree(n))})
        else:
            label = d.get("label", n)
            nodes.append({"name": label, "value": float(load.get(label, 0)), "symbolSize": _size(load.get(label, 0)),
                          "category": types.index(d.get("unit_type", "other"))})
    names = {n: d.get("label", n) for n, d in g.nodes(data=True)}
    shown = {str(x["name"]) for x in nodes}
    edges = [{"source": names[a], "target": names[z], "value": c.ROLE_LABELS[d["role"]]}
             for a, z, d in g.edges(data=True) if names[a] in shown and names[z] in shown]
    title = f"单位—任务网络（{len(edges)} 条承担关系）"

st.caption("节点大小 = 加权工作量（牵头×3、责任×2、参加×1），颜色 = 单位类型。拖动、滚轮缩放；点击单位查看详情；"
           "右上角工具栏可保存图片。")
event = st_echarts(
    c.echarts_graph(nodes, edges, categories, title=title, repulsion=260 if kind == "units" else 90,
                    colours=[*(c.TYPE_COLOURS[t] for t in types), "#bcbd22"]),
    height="640px",
    renderer="svg" if st.session_state["n_svg"] else "canvas",
    key=f"n_chart_{kind}_{','.join(roles)}_{picked}_{collectives}_{min_weight}",
    on_select="rerun",
    selection_mode="points",
)

with st.container(horizontal=True):
    st.download_button("下载网络（GraphML，可用 Gephi 打开）", c.graphml(key, kind, collectives, roles, picked),
                       f"policykg-{kind}-network.graphml", "application/graphml+xml")
    st.download_button("下载工作量表（CSV）", c.csv_bytes(wl), "policykg-workload.csv", "text/csv")

clicked = c.selected_name(event)
unit_names = [str(x["name"]) for x in nodes if x.get("category") != len(types)]
if clicked in unit_names:
    st.session_state["n_detail"] = clicked
if st.session_state.get("n_detail") not in unit_names:
    st.session_state["n_detail"] = None
detail = st.selectbox("单位详情", sorted(unit_names, key=lambda u: -load.get(u, 0)), key="n_detail",
                      placeholder="点击图中的单位，或在此选择")
if detail:
    row = wl[wl["unit"] == detail]
    with st.container(border=True):
        st.markdown(f"**{c.md_escape(detail)}** · " + c.md_link("打开单位页", "unit", name=detail))
        if not row.empty:
            r = row.iloc[0]
            cols = st.columns(5)
            cols[0].metric("牵头", int(r["lead"]))
            cols[1].metric("责任", int(r["responsible"]))
            cols[2].metric("参加", int(r["participating"]))
            cols[3].metric("任务数", int(r["tasks"]))
            cols[4].metric("加权工作量", f"{float(r['load']):g}")
        if kind == "units":
            g = c.co_assignment(key, collectives, roles, picked)
            node = next((n for n, d in g.nodes(data=True) if d.get("label") == detail), None)
            if node is not None:
                st.dataframe(
                    pd.DataFrame(
                        [{"合作单位": g.nodes[m].get("label", m), "共同任务": int(e["weight"])} for m, e in g[node].items()],
                        columns=["合作单位", "共同任务"],
                    ).sort_values("共同任务", ascending=False).head(10),
                    hide_index=True, width="stretch",
                )
