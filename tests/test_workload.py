"""Workload, findings and networks of the Bishan plan, checked against counts read off the text.

Numbers below were counted by hand (and with grep) in
data/plans/chongqing-bishan-fazhi-zhengfu-2021-2025-draft.txt, not copied from the library's output:
e.g. 区司法局 is printed in 26 牵头单位 clauses (task 14 names it as lead *and* responsible; the
parser keeps lead), tasks 22, 24, 27 and 62 print only a 责任单位 clause.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import networkx as nx
import pytest

from analysis.network import (
    co_assignment_graph,
    communities,
    graphml_safe,
    unit_metrics,
    unit_task_graph,
    with_communities,
    write_graphml,
)
from analysis.workload import (
    RoleWeights,
    deadlines_by_year,
    find_issues,
    load_by_chapter,
    overdue_tasks,
    responsible_never_lead,
    short_title,
    task_deadlines,
    tasks_without_lead,
    unit_workload,
    units_named_once,
)
from graph.nxgraph import build_networkx
from ingest.records import Plan


def row(df, unit: str):
    hit = df[df["unit"] == unit]
    assert len(hit) == 1, f"{unit} not in table"
    return hit.iloc[0]


def by_label(g: nx.Graph) -> dict[str, str]:
    return {d["label"]: n for n, d in g.nodes(data=True)}


# --- weights -----------------------------------------------------------------------------------


def test_weights_parse_and_reject() -> None:
    assert RoleWeights.parse("3,2,1") == RoleWeights(3, 2, 1)
    assert RoleWeights.parse(" 5, 1.5 ,0 ") == RoleWeights(5, 1.5, 0)
    assert str(RoleWeights()) == "lead 3 / responsible 2 / participating 1"
    for bad in ("3,2", "a,b,c", "3,2,1,0", "3,-1,1"):
        with pytest.raises(ValueError):
            RoleWeights.parse(bad)


# --- workload ----------------------------------------------------------------------------------


def test_sifaju_leads_most_tasks(bishan: Plan) -> None:
    w = unit_workload(bishan)
    top_lead = w.sort_values("lead", ascending=False).iloc[0]
    assert top_lead["unit"] == "区司法局"
    sfj = row(w, "区司法局")
    assert (sfj["lead"], sfj["responsible"], sfj["participating"], sfj["tasks"]) == (26, 2, 0, 28)
    assert sfj["load"] == 26 * 3 + 2 * 2
    assert sfj["task_share"] == pytest.approx(28 / 74)
    # second-most leads: 区政府办公室, 14 clauses
    assert row(w, "区政府办公室")["lead"] == 14


def test_collectives_top_the_table_until_excluded(bishan: Plan) -> None:
    w = unit_workload(bishan)
    assert w.attrs["include_collectives"] is True
    # 各镇人民政府、街道办事处 is on 65 tasks (61 responsible, 4 participating: tasks 26, 33, 39, 44)
    assert list(w["unit"][:2]) == ["各镇人民政府、街道办事处", "区政府有关部门"]
    towns = row(w, "各镇人民政府、街道办事处")
    assert (towns["lead"], towns["responsible"], towns["participating"]) == (0, 61, 4)
    assert row(w, "区政府有关部门")["tasks"] == 63

    named = unit_workload(bishan, include_collectives=False)
    assert named.attrs["include_collectives"] is False
    assert not named["collective"].any()
    assert len(w) - len(named) == 6  # six collectives in this plan
    assert named.iloc[0]["unit"] == "区司法局"
    assert list(named["unit"][:4]) == ["区司法局", "区政府办公室", "区应急局", "区委依法治区办"]


def test_shares_and_weights(bishan: Plan) -> None:
    w = unit_workload(bishan)
    assert w["load_share"].sum() == pytest.approx(1.0)
    assert (w["load"] == w["lead"] * 3 + w["responsible"] * 2 + w["participating"]).all()
    only_lead = unit_workload(bishan, weights=RoleWeights(1, 0, 0))
    assert only_lead.attrs["weights"] == {"lead": 1.0, "responsible": 0.0, "participating": 0.0}
    assert (only_lead["load"] == only_lead["lead"]).all()
    # the ranking is sorted by load and stable
    assert list(w["load"]) == sorted(w["load"], reverse=True)
    # total mentions: 124 lead, 198 responsible, 8 participating
    assert (w["lead"].sum(), w["responsible"].sum(), w["participating"].sum()) == (124, 198, 8)


def test_load_by_chapter_adds_up(bishan: Plan) -> None:
    w = unit_workload(bishan, include_collectives=False).set_index("unit")
    m = load_by_chapter(bishan, include_collectives=False)
    assert list(m.columns) == list(range(1, 11))
    assert m.attrs["chapters"][6].startswith("健全突发事件应对体系")
    for unit in ("区司法局", "区应急局", "区发展改革委"):
        assert m.loc[unit].sum() == w.loc[unit, "load"]
    # 区应急局 leads tasks 30–34 and 36–39 (chapter 6, 突发事件应对); responsible on 8 (ch. 2), 24 (ch. 5)
    assert m.loc["区应急局", 6] == 9 * 3
    assert (m.loc["区应急局", 2], m.loc["区应急局", 5]) == (2, 2)
    assert m[1].sum() == 0  # chapter 1 is prose, no tasks
    counts = load_by_chapter(bishan, measure="tasks", include_collectives=False)
    assert counts.loc["区司法局"].sum() == 28


def test_deadlines_by_year(bishan: Plan) -> None:
    d = task_deadlines(bishan)
    assert list(d["number"]) == [40, 42, 56, 51, 58]
    assert [x.isoformat() for x in d["date"]] == ["2022-12-31", "2022-12-31", "2023-12-31", "2024-12-31",
                                                  "2025-12-31"]
    m = deadlines_by_year(bishan)
    assert list(m.columns) == ["2022", "2023", "2024", "2025", "none"]
    assert list(m.loc["区司法局"]) == [2, 1, 1, 1, 23]  # tasks 40, 42 | 56 | 51 | 58 (responsible)
    assert m.loc["区委编办", "2022"] == 1 and m.loc["区委编办", "2024"] == 1  # tasks 42 and 51
    assert "各镇人民政府、街道办事处" not in deadlines_by_year(bishan, include_collectives=False).index


# --- findings ----------------------------------------------------------------------------------


def test_tasks_without_lead(bishan: Plan) -> None:
    assert [t.number for t in tasks_without_lead(bishan)] == [22, 24, 27, 62]
    t27 = tasks_without_lead(bishan)[2]
    assert t27.unit_clause.startswith("责任单位") and "牵头单位" not in t27.unit_clause
    # no task of this plan is led only by a collective, so excluding collectives changes nothing
    assert [t.number for t in tasks_without_lead(bishan, include_collectives=False)] == [22, 24, 27, 62]


def test_units_named_once(bishan: Plan) -> None:
    once = {u.unit: (u.task.number, u.role) for u in units_named_once(bishan)}
    assert once == {
        "区工商联": (14, "lead"),
        "区委巡察办": (17, "lead"),
        "区委政法委": (23, "lead"),
        "区水利局": (24, "responsible"),
        "区委网信办": (32, "responsible"),
        "区农业农村委": (41, "responsible"),
        "区级有关单位": (45, "responsible"),
        "区统计局": (45, "responsible"),
        "区城市管理局": (52, "responsible"),
        "市政府有关部门": (58, "responsible"),
    }
    named = {u.unit for u in units_named_once(bishan, include_collectives=False)}
    assert named == set(once) - {"区级有关单位", "市政府有关部门"}


def test_responsible_never_lead(bishan: Plan) -> None:
    rnl = {u.unit: u.tasks for u in responsible_never_lead(bishan, include_collectives=False)}
    assert rnl["区交通局"] == ("24", "40", "41", "52")
    assert rnl["区金融办"] == ("13", "14")
    assert set(rnl) == {"区交通局", "区生态环境局", "区规划自然资源局", "区住房城乡建委", "区教委", "区金融办",
                        "区农业农村委", "区城市管理局", "区委网信办", "区水利局", "区统计局"}
    # units that lead at least once are never listed (区公安分局 leads task 34, 区法院 task 44)
    assert "区公安分局" not in rnl and "区法院" not in rnl
    with_coll = {u.unit for u in responsible_never_lead(bishan)}
    assert with_coll - set(rnl) == {"区级各部门", "区政府各部门", "区级有关单位", "市政府有关部门"}
    # 区政府有关部门 is a participant on tasks 26, 33, 39, 44: not "always responsible"
    assert "区政府有关部门" not in with_coll


def test_overdue_depends_on_date(bishan: Plan) -> None:
    assert overdue_tasks(bishan, as_of=dt.date(2022, 12, 31)) == []  # due that day, not yet past
    first = overdue_tasks(bishan, as_of=dt.date(2023, 1, 1))
    assert [(o.task.number, o.wording) for o in first] == [(40, "到2022年底"), (42, "2022年底前")]
    assert first[1].lead_units == ("区司法局", "区委编办")
    assert [o.task.number for o in overdue_tasks(bishan, as_of=dt.date(2026, 1, 1))] == [40, 42, 56, 51, 58]
    # default: today
    today = overdue_tasks(bishan)
    assert len(today) == sum(1 for t in bishan.tasks for d in t.deadlines if d.date < dt.date.today())


def test_findings_bundle_states_its_inputs(bishan: Plan) -> None:
    f = find_issues(bishan, as_of=dt.date(2024, 6, 1), include_collectives=False)
    j = f.to_json()
    assert j["as_of"] == "2024-06-01" and j["include_collectives"] is False
    assert [t["number"] for t in j["tasks_without_lead"]] == [22, 24, 27, 62]
    assert [o["task"]["number"] for o in j["overdue"]] == [40, 42, 56]
    assert len(j["units_named_once"]) == 8


# --- networks ----------------------------------------------------------------------------------


def test_bipartite_graph(bishan: Plan) -> None:
    b = unit_task_graph(bishan)
    units = [n for n, d in b.nodes(data=True) if d["bipartite"] == 0]
    tasks = [n for n, d in b.nodes(data=True) if d["bipartite"] == 1]
    assert (len(units), len(tasks)) == (46, 74)
    assert b.number_of_edges() == 124 + 198 + 8
    assert nx.is_bipartite(b)
    named = unit_task_graph(bishan, include_collectives=False)
    assert named.graph["include_collectives"] is False
    assert sum(1 for _, d in named.nodes(data=True) if d["kind"] == "task") == 74
    # task 27 names only 区政府有关部门: without collectives it is an isolated task node
    t27 = next(n for n, d in named.nodes(data=True) if d.get("label") == "任务27")
    assert named.degree(t27) == 0


def test_co_assignment_weights(bishan: Plan) -> None:
    g = co_assignment_graph(bishan, include_collectives=False)
    ids = by_label(g)
    # 区委编办 is on tasks 1, 20, 42, 51, 71; 区司法局 leads 20, 42, 51, 71 with it
    e = g.edges[ids["区司法局"], ids["区委编办"]]
    assert (e["weight"], e["both_lead"], e["task_numbers"]) == (4, 4, ("20", "42", "51", "71"))
    e = g.edges[ids["区应急局"], ids["区民政局"]]  # tasks 37, 38, both co-lead
    assert (e["weight"], e["both_lead"]) == (2, 2)
    e = g.edges[ids["区司法局"], ids["区民政局"]]  # 14: 司法局 lead / 民政局 resp; 40 the same
    assert (e["weight"], e["both_lead"]) == (2, 0)
    assert not g.has_edge(ids["区应急局"], ids["区委编办"])
    # every edge weight equals the number of tasks naming both units (brute force over the records)
    pairs: dict[frozenset[str], int] = {}
    coll = {u.name for u in bishan.units if u.collective}
    for t in bishan.tasks:
        names = sorted({m.canonical for m in t.mentions} - coll)
        for a, b in combinations(names, 2):
            pairs[frozenset((a, b))] = pairs.get(frozenset((a, b)), 0) + 1
    got = {frozenset((g.nodes[a]["label"], g.nodes[b]["label"])): d["weight"] for a, b, d in g.edges(data=True)}
    assert got == pairs


def test_collectives_toggle_network(bishan: Plan) -> None:
    full = co_assignment_graph(bishan)
    named = co_assignment_graph(bishan, include_collectives=False)
    assert (full.number_of_nodes(), named.number_of_nodes()) == (46, 40)
    assert full.graph["include_collectives"] and not named.graph["include_collectives"]
    m_full, m_named = unit_metrics(full), unit_metrics(named)
    # with collectives they are the brokers; without, 区司法局 is
    assert set(m_full.sort_values("betweenness", ascending=False)["unit"][:2]) == {
        "区政府有关部门", "各镇人民政府、街道办事处"}
    assert m_named.sort_values("betweenness", ascending=False).iloc[0]["unit"] == "区司法局"
    assert m_named.attrs["include_collectives"] is False
    sfj = m_named.set_index("unit").loc["区司法局"]
    assert sfj["tasks"] == 28 and sfj["degree"] == 34


def test_lead_only_network(bishan: Plan) -> None:
    g = co_assignment_graph(bishan, roles=("lead",))
    labels = set(by_label(g))
    assert "区交通局" not in labels  # never leads
    assert all(d["weight"] == d["both_lead"] for _, _, d in g.edges(data=True))
    # units that only ever lead alone (no co-lead) are absent: 区应急局 co-leads, so it is present
    assert "区应急局" in labels


def test_communities_deterministic_and_labelled(bishan: Plan) -> None:
    g = co_assignment_graph(bishan, include_collectives=False)
    a, b = communities(g), communities(co_assignment_graph(build_networkx([bishan]), include_collectives=False))
    assert [c.units for c in a] == [c.units for c in b]
    assert [c.label for c in a] == [c.label for c in b]
    members = [u for c in a for u in c.units]
    assert sorted(members) == sorted(by_label(g)) and len(members) == len(set(members))
    assert len(a) == 3
    home = {u: c for c in a for u in c.units}
    assert home["区应急局"] is home["区卫生健康委"] is home["区交通局"]
    assert home["区发展改革委"] is home["区商务委"] is home["区金融办"]
    assert home["区司法局"] is home["区纪委监委机关"]
    assert home["区应急局"] is not home["区司法局"]
    assert home["区应急局"].label.startswith("健全突发事件应对体系")
    assert home["区发展改革委"].chapters[0][0] == "健全政府机构职能体系"
    assert all(c.keywords and " · " in c.label for c in a)
    assert [c.size for c in a] == sorted((c.size for c in a), reverse=True)


def test_graphml_export_roundtrip(bishan: Plan, tmp_path) -> None:
    g = co_assignment_graph(bishan, include_collectives=False)
    h = with_communities(g, communities(g))
    safe = graphml_safe(h)
    for _, d in safe.nodes(data=True):
        assert all(isinstance(v, bool | int | float | str) for v in d.values())
    assert "tasks" not in safe.graph  # the TaskInfo map cannot go into GraphML
    path = write_graphml(h, tmp_path / "out" / "co.graphml")
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == 40 and back.number_of_edges() == g.number_of_edges()
    node = next(d for d in back.nodes(data=True) if d[1]["label"] == "区司法局")[1]
    assert node["community_label"] and isinstance(node["community"], int) and node["tasks"] == 28
    assert back.graph["include_collectives"] is False


def test_short_title() -> None:
    assert short_title("健全突发事件应对体系，依法预防处置重大突发事件") == "健全突发事件应对体系"
    assert short_title("加快推进法治化营商环境建设") == "加快推进法治化营商环境建设"
