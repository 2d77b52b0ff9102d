"""概览: what is loaded, how much of it, what is wrong in the source, and which build this is."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ingest.vocab import defect_kind_label
from policykg.app_pages import common as c

b = c.current_build()
st.title("法治政府建设任务图谱")
st.caption("规划文本 → 知识图谱 → 语义检索。左侧选择页面；每个页面的网址都可以直接分享。")

counts = b.counts
cols = st.columns(6)
for col, (label, name) in zip(
    cols,
    [("规划", "plans"), ("章", "chapters"), ("节", "sections"), ("任务", "tasks"), ("单位", "units"),
     ("三元组", "triples")],
    strict=True,
):
    col.metric(label, f"{getattr(counts, name):,}")

st.subheader("已载入的规划")
plans = pd.DataFrame(
    [
        {
            "标题": p.title,
            "发文单位": p.issuer,
            "期限": f"{p.period_start or '?'}—{p.period_end or '?'}",
            "状态": p.status or "正式文本",
            "任务数": len(p.tasks),
            "单位数": len(p.units),
            "来源文件": p.source,
            "编号": p.id,
        }
        for p in b.plans
    ]
)
st.dataframe(plans, hide_index=True, width="stretch")

st.subheader("源文件问题报告")
defects = pd.DataFrame(
    [
        {
            "严重程度": c.SEVERITY_LABELS.get(d.severity, d.severity),
            "类型": defect_kind_label(d.kind),
            "行号": d.line,
            "说明": d.message,
            "文件": d.source or p.source,
        }
        for p in b.plans
        for d in p.defects
    ],
    columns=["严重程度", "类型", "行号", "说明", "文件"],
)
if defects.empty:
    st.success("未发现源文件问题。")
else:
    order = {label: i for i, label in enumerate(c.SEVERITY_LABELS.values())}
    summary = (
        defects.groupby(["严重程度", "类型"]).size().rename("数量").reset_index()
        .sort_values(["严重程度", "数量"], key=lambda s: s.map(order) if s.name == "严重程度" else -s)
    )
    left, right = st.columns([1, 2])
    left.dataframe(summary, hide_index=True, width="stretch")
    severity = right.multiselect("按严重程度筛选", list(c.SEVERITY_LABELS.values()), placeholder="全部",
                                 default=[v for v in c.SEVERITY_LABELS.values() if v != "提示"])
    shown = defects[defects["严重程度"].isin(severity)] if severity else defects
    shown = shown.sort_values(["严重程度", "行号"], key=lambda s: s.map(order) if s.name == "严重程度" else s)
    right.dataframe(shown, hide_index=True, width="stretch",
                    column_config={"行号": st.column_config.NumberColumn(format="%d")})
    st.download_button("下载问题报告（CSV）", c.csv_bytes(defects), "policykg-defects.csv", "text/csv")

st.subheader("本次构建")
m = b.manifest
st.dataframe(
    pd.DataFrame(
        [
            {"项目": "构建时间（UTC）", "值": m.created or "—"},
            {"项目": "语义模型", "值": m.model or "—"},
            {"项目": "构建目录", "值": str(b.path)},
            {"项目": "单位表", "值": m.units_file or "—"},
            *({"项目": "源文件", "值": s} for s in m.sources),
        ]
    ),
    hide_index=True,
    width="stretch",
)
