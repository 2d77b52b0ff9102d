"""SPARQL: the canned-query gallery and an editor, run read-only with a time limit; tables, charts, downloads."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from policykg.app_pages import common as c
from sparql.queries import list_queries

b = c.current_build()
key = c.build_key()
cfg = c.config()
queries = {q.name: q for q in list_queries()}
names = ["", *queries]
default_name = "unit-workload" if "unit-workload" in queries else next(iter(queries), "")

st.title("SPARQL 查询")
st.caption(f"只读查询（SELECT / ASK / CONSTRUCT / DESCRIBE），时间限制 {cfg.query_timeout:g} 秒，"
           f"最多返回 {cfg.result_limit:,} 行。常用前缀（pk:、rdfs:、xsd: 等）已自动声明。"
           "可用 pk:searchScore(?task, \"检索词\", 前N名) 把语义检索得分引入查询。")


def _name(text: str) -> str:
    if text not in queries:
        raise KeyError(text)
    return text


c.url_state("q_name", "query", default_name, _name)
url_text = st.query_params.get("text")
if "q_text" not in st.session_state or (url_text is not None and url_text != st.session_state.get("_url_q_text")):
    chosen = st.session_state["q_name"]
    st.session_state["q_text"] = url_text if url_text is not None else (
        queries[chosen].text if chosen else "")
st.session_state["_url_q_text"] = url_text


plan_titles = {p.id: p.title or p.id for p in b.manifest.plans}


def _load_canned() -> None:
    """Picking a query from the gallery (or plans to limit it to) puts its text in the editor."""
    name = st.session_state["q_name"]
    if name:
        q = queries[name]
        st.session_state["q_text"] = q.for_plans(st.session_state.get("q_plans", []) if q.scopable else [])


left, right = st.columns([2, 3])
with left:
    st.selectbox("常用查询", names, key="q_name", on_change=_load_canned,
                 format_func=lambda n: queries[n].title_zh if n else "（自定义查询）")
    name = st.session_state["q_name"]
    if name:
        st.caption(c.md_escape(queries[name].description_zh))
        if "search" in queries[name].requires:
            st.caption("该查询使用语义检索得分（pk:searchScore）。")
        if len(plan_titles) > 1 and queries[name].scopable:
            # across many plans a corpus-wide query takes seconds; one district's plan, milliseconds
            st.multiselect("限定方案", list(plan_titles), key="q_plans", on_change=_load_canned,
                           format_func=lambda i: f"{plan_titles[i]}（{i}）", placeholder="全部方案",
                           help="只统计所选方案；不选则覆盖全部方案。")
with right:
    text = st.text_area("查询语句", key="q_text", height=260,
                        help="修改后按 Ctrl+Enter 或点击其他位置运行。")
with st.expander("语法高亮预览"):
    st.code(text, language="sparql", line_numbers=True)

c.url_sync("q_name", "query", "")
canned_text = queries[name].text if name else None
if text != canned_text and text.strip():
    st.query_params["text"] = text
    st.session_state["_url_q_text"] = text
elif "text" in st.query_params:
    del st.query_params["text"]
    st.session_state["_url_q_text"] = None

if not text.strip():
    st.info("请在上方输入查询语句，或从“常用查询”中选择一条。")
    st.stop()

answer = c.run_sparql(key, text)
if "error" in answer:
    st.error("查询未能执行：" + c.md_escape(answer["error"]), icon=":material/error:")
    st.stop()

rows = answer["records"]
df = pd.DataFrame(rows, columns=answer["variables"])
what = "个三元组" if answer["kind"] == "graph" else "行"
st.caption(f"{len(df)} {what} · 用时 {answer['elapsed'] * 1000:.0f} 毫秒 · 时间限制 {cfg.query_timeout:g} 秒")
if answer["note"]:
    st.warning(c.md_escape(answer["note"]))
if answer["kind"] == "ask":
    st.metric("ASK 结果", "是" if rows and rows[0].get("boolean") else "否")
else:
    st.dataframe(df, hide_index=True, width="stretch")

numeric = [col for col in df.columns if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])]
labels = [col for col in df.columns if col not in numeric
          and not df[col].astype(str).str.startswith(("http://", "https://")).all()]
# One numeric column and a label for it (an rdfs:label column if there is one): draw it as bars.
labels.sort(key=lambda col: not col.lower().endswith("label"))
if answer["kind"] == "select" and 1 < len(df) <= 200 and len(numeric) == 1 and labels:
    chart_df = df[[labels[0], numeric[0]]].copy()
    chart_df[labels[0]] = chart_df[labels[0]].astype(str)
    chart_df = chart_df.groupby(labels[0], as_index=False)[numeric[0]].sum()
    st.altair_chart(
        alt.Chart(chart_df)
        .mark_bar()
        .encode(
            x=alt.X(f"{numeric[0]}:Q", title=numeric[0]),
            y=alt.Y(f"{labels[0]}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=300)),
            tooltip=[labels[0], numeric[0]],
        )
        .properties(height=max(200, 22 * len(chart_df))),
        width="stretch",
    )

mimes = {"csv": "text/csv", "json": "application/sparql-results+json", "ttl": "text/turtle",
         "nt": "application/n-triples"}
with st.container(horizontal=True):
    for ext, data in answer["downloads"].items():
        st.download_button(f"下载结果（{ext.upper()}）", data, f"policykg-query.{ext}", mimes[ext], key=f"q_dl_{ext}")
