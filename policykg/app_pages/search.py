"""搜索: hybrid search over the tasks, with filters; query and filters live in the URL."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from policykg.app_pages import common as c

b = c.current_build()
key = c.build_key()

st.title("搜索任务")

units = c.unit_names(b)
chapters = c.chapter_options(b)
years = sorted({d.date.year for _, t in c.all_tasks(b) for d in t.deadlines})
roles = ["any", *c.ROLE_LABELS]


def _unit(text: str) -> str:
    if text not in units:
        units.append(text)  # an alias or a body (司法局) typed into the URL: the engine resolves it
    return text


def _choice(options: list[int]) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value not in options:
            raise ValueError(text)
        return value

    return parse


c.url_state("s_q", "q", "", str)
c.url_state("s_mode", "mode", "hybrid", c.member(list(c.MODE_LABELS)))
c.url_state("s_unit", "unit", "", _unit)
c.url_state("s_role", "role", "any", c.member(roles))
c.url_state("s_chapter", "chapter", 0, _choice([0, *chapters]))
c.url_state("s_year", "year", 0, _choice([0, *years]))
c.url_state("s_top", "top", 10, _choice([5, 10, 20, 50]))

query = st.text_input("检索内容", key="s_q", placeholder="例如：哪些任务涉及川渝协同",
                      help="可以用自然语言提问；查询中出现的单位名称会自动作为单位筛选条件。")
with st.container(horizontal=True):
    st.segmented_control("检索方式", list(c.MODE_LABELS), key="s_mode", format_func=lambda m: c.MODE_LABELS[m],
                         help="混合 = 语义向量 + 关键词（BM25），按排名融合")
    st.selectbox("单位", ["", *units], key="s_unit", format_func=lambda u: u or "（全部单位）", width=220)
    st.selectbox("角色", roles, key="s_role",
                 format_func=lambda r: c.ANY_ROLE_LABEL if r == "any" else c.ROLE_UNIT_LABELS[r], width=130)
    st.selectbox("章", [0, *chapters], key="s_chapter",
                 format_func=lambda n: "（全部章）" if n == 0 else chapters[n], width=260)
    st.selectbox("时限年份", [0, *years], key="s_year", format_func=lambda y: "（不限）" if y == 0 else f"{y}年",
                 width=120)
    st.selectbox("结果数", [5, 10, 20, 50], key="s_top", width=90)

mode = st.session_state.get("s_mode") or "hybrid"
unit = st.session_state["s_unit"] or None
role = st.session_state["s_role"]
chapter = st.session_state["s_chapter"] or None
year = st.session_state["s_year"] or None
top = st.session_state["s_top"]

c.url_sync("s_q", "q", "")
c.url_sync("s_mode", "mode", "hybrid")
c.url_sync("s_unit", "unit", "")
c.url_sync("s_role", "role", "any")
c.url_sync("s_chapter", "chapter", 0)
c.url_sync("s_year", "year", 0)
c.url_sync("s_top", "top", 10)

if not query.strip() and not (unit or chapter or year):
    st.info("输入检索内容，或选择筛选条件列出任务。示例：")
    for example in ("川渝协同", "行政执法人员培训", "区司法局牵头的任务", "数据共享", "重大行政决策合法性审查"):
        st.markdown("- " + c.md_link(example, "search", q=example))
    st.stop()

try:
    result = c.search(key, query, mode, unit, role, chapter, year, top)
except c.SEARCH_ERRORS as exc:
    st.error("检索索引不可用：" + c.md_escape(exc), icon=":material/error:")
    st.stop()
hits = result["hits"]

for note in result["notes"]:
    st.info(c.md_escape(note), icon=":material/info:")
st.caption(f"找到 {len(hits)} 项任务 · 检索方式：{c.MODE_LABELS[mode]} · 服务器用时 {result['elapsed_ms']:.0f} 毫秒")

if hits:
    table = pd.DataFrame(
        [
            {
                "排名": i,
                "任务": h["task"],
                "章": f"{h['chapter']} {h['chapter_title']}",
                "节": f"{h['section_label']}{h['section_title']}",
                "内容": h["text"],
                "牵头单位": "、".join(h["lead_units"]),
                "责任单位": "、".join(h["responsible_units"]),
                "参加单位": "、".join(h["participating_units"]),
                "时限": "；".join(f"{d['wording']}（{d['date']}）" for d in h["deadlines"]),
                "得分": h["score"],
                "规划": h["plan"],
            }
            for i, h in enumerate(hits, start=1)
        ]
    )
    with st.container(horizontal=True):
        st.download_button("下载结果（CSV）", c.csv_bytes(table), "policykg-search.csv", "text/csv")
        st.download_button("下载结果（JSON）", c.json_bytes(result), "policykg-search.json", "application/json")

RETRIEVERS = {"bm25": "关键词", "dense": "语义"}
multi_plan = len(b.plans) > 1
for i, h in enumerate(hits, start=1):
    with st.container(border=True):
        found = c.find_task(b, h["plan"], h["position"])
        where = c.task_path(*found) if found else f"{h['chapter_title']} › {h['section_label']}{h['section_title']}"
        st.markdown(f"**{i}\\. 任务 {c.md_escape(h['task'])}** · {c.md_escape(where)}"
                    + (f" · {c.md_escape(h['plan'])}" if multi_plan else ""))
        st.markdown(c.highlight_md(h["text"], h["spans"]))
        lines = [
            f"**牵头单位：** {c.unit_links(h['lead_units'])}",
            f"**责任单位：** {c.unit_links(h['responsible_units'])}",
        ]
        if h["participating_units"]:
            lines.append(f"**参加单位：** {c.unit_links(h['participating_units'])}")
        if h["deadlines"]:
            lines.append(f"**时限：** {c.deadline_badges(h['deadlines'])}")
        st.markdown("  \n".join(lines))
        why = [f"{RETRIEVERS.get(name, name)}第 {info['rank']} 名（{info['score']:.3f}）"
               for name, info in sorted(h["matched_by"].items())]
        terms = "、".join(h["matched_terms"])
        st.caption(c.md_escape("匹配依据：" + ("；".join(why) or "符合筛选条件")
                               + (f"；命中词：{terms}" if terms else "")
                               + f"；融合得分 {h['score']:.4f}")
                   + " · " + c.md_link("任务详情与相似任务", "task", plan=h["plan"], task=h["position"]))
