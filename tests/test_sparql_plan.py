"""Every canned query on the Bishan plan, checked two independent ways.

1. Against the plan text, read here with a few regular expressions (no ingest code): who leads
   what, sections and chapters, deadlines, targets. If the parser, the graph builder or a query
   drifts, a count stops matching what anyone can verify by reading the document.
2. Against a second SPARQL engine: the same query on the exported Turtle in rdflib's in-memory
   engine must give the same rows (literal forms and tie order normalised).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.sparql.operators import register_custom_function, unregister_custom_function

from graph.namespaces import PK, sparql_prologue
from sparql.engine import EmbeddedSparqlEngine
from sparql.queries import CannedQuery, get_query, list_queries
from sparql.results import QueryResult
from sparql.search import compute_scores, scorer_for_build

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CN = "〇一二三四五六七八九"


def cn_number(s: str) -> int:
    """Chinese numerals up to 99 (一 … 九十九), as printed in chapter and section labels."""
    if "十" in s:
        tens, _, units = s.partition("十")
        return (CN.index(tens) if tens else 1) * 10 + (CN.index(units) if units else 0)
    return CN.index(s)


@dataclass
class TextTask:
    number: int
    chapter: int
    section: int | None  # position of the section heading above it
    line: str
    clause: str = ""
    roles: dict[str, list[str]] = field(default_factory=dict)  # 牵头/责任/参加 -> names as printed
    raw: dict[str, str] = field(default_factory=dict)  # 牵头/责任/参加 -> the part as printed

    def lead(self) -> list[str]:
        return self.roles.get("牵头", [])


@dataclass
class TextPlan:
    text: str
    chapters: list[int]
    sections: list[tuple[int, str, int]]  # (position, label, chapter)
    tasks: dict[int, TextTask]


MARK = re.compile(
    r"(?m)^\s*(?P<ch>[一二三四五六七八九十]+)、|^\s*(?P<sec>（(?P<secnum>[一二三四五六七八九十]+)）)|(?P<task>\d{1,2})．"
)


def read_text_plan(path: Path) -> TextPlan:
    text = path.read_text(encoding="utf-8")
    chapters: list[int] = []
    sections: list[tuple[int, str, int]] = []
    tasks: dict[int, TextTask] = {}
    for m in MARK.finditer(text):
        if m.group("ch"):
            chapters.append(cn_number(m.group("ch")))
        elif m.group("sec"):
            sections.append((len(sections) + 1, m.group("sec"), chapters[-1]))
        else:
            line = text[m.end() : text.find("\n", m.end())]
            in_chapter = [s for s in sections if s[2] == chapters[-1]]
            t = TextTask(int(m.group("task")), chapters[-1], in_chapter[-1][0] if in_chapter else None, line)
            start = re.search(r"（(?:牵头|责任|参加)单位：", line)
            if start:
                t.clause = line[start.start() + 1 :].rstrip().removesuffix("）")
                for part in t.clause.split("；"):
                    role, _, names = part.partition("单位：")
                    t.raw[role] = names
                    t.roles[role] = [n.strip() for n in re.split(r"[、，,]", names) if n.strip()]
            tasks[t.number] = t
    return TextPlan(text, chapters, sections, tasks)


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_text(plan_file: Path) -> TextPlan:
    return read_text_plan(plan_file)


@pytest.fixture(scope="module")
def engine(built: Any) -> Iterator[EmbeddedSparqlEngine]:
    with EmbeddedSparqlEngine(built.store.path, workers=1, scorer=scorer_for_build(built)) as e:
        yield e


@pytest.fixture(scope="module")
def results(engine: EmbeddedSparqlEngine) -> dict[str, QueryResult]:
    return {q.name: engine.query(q.text) for q in list_queries()}


def rows(results: dict[str, QueryResult], name: str) -> list[dict[str, Any]]:
    return results[name].records()


@pytest.fixture(scope="module")
def names(engine: EmbeddedSparqlEngine) -> dict[str, set[str]]:
    """Each unit IRI -> every name it goes by (label and aliases), read from the graph."""
    out: dict[str, set[str]] = {}
    r = engine.query(
        "SELECT ?u ?n WHERE { ?u a org:Organization . { ?u rdfs:label ?n } UNION { ?u skos:altLabel ?n } }"
    )
    for rec in r.records():
        out.setdefault(rec["u"], set()).add(rec["n"])
    return out


def task_no(iri: str) -> int:
    return int(iri.rsplit("/", 1)[1])


def text_leads(plan: TextPlan, unit_names: set[str]) -> set[int]:
    return {n for n, t in plan.tasks.items() if unit_names & set(t.lead())}


# --- the canned query set itself ---------------------------------------------------------------------


def test_at_least_twelve_documented_canned_queries() -> None:
    qs = list_queries()
    assert len(qs) >= 12
    for q in qs:
        assert q.title_zh and q.title_en and q.description_zh and q.description_en
        assert re.search(r"[\u4e00-\u9fff]", q.title_zh), q.name
        assert "PREFIX" not in q.text.upper().split("SELECT")[0].replace("# ", ""), q.name
    assert get_query("unit-workload.rq").name == "unit-workload"
    with pytest.raises(KeyError, match="known"):
        get_query("no-such-query")


def test_every_canned_query_answers_on_the_plan(results: dict[str, QueryResult]) -> None:
    needs_more = {q.name for q in list_queries() if "alignment" in q.requires}  # tests/test_align.py
    for name, r in results.items():
        if name in needs_more:
            assert len(r) == 0, f"{name} answers without the data it needs"
            continue
        assert len(r) > 0, f"{name} returned nothing on the Bishan plan"
        assert not r.truncated


# --- against the plan text -----------------------------------------------------------------------------


def test_plan_overview_counts_match_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    [row] = rows(results, "plan-overview")
    start, end = map(int, re.search(r"（(\d{4})—(\d{4})年）", plan_text.text).groups())  # type: ignore[union-attr]
    assert (row["periodStart"], row["periodEnd"]) == (start, end) == (2021, 2025)
    assert row["chapters"] == len(plan_text.chapters) == 10
    assert row["sections"] == len(plan_text.sections) == 31
    assert row["tasks"] == len(plan_text.tasks) == 74
    assert row["status"] in plan_text.text and "征求意见稿" in row["status"]
    assert row["issuer"] == "重庆市璧山区"


def test_lead_counts_per_unit_match_the_text(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]]
) -> None:
    lead_rows = [r for r in rows(results, "tasks-per-unit-by-role") if r["role"] == "lead"]
    for r in lead_rows:
        assert r["tasks"] == len(text_leads(plan_text, names[r["unit"]])), r["unitLabel"]
    # every name printed as a lead unit belongs to a unit that leads
    printed = {n for t in plan_text.tasks.values() for n in t.lead()}
    covered = set().union(*(names[r["unit"]] for r in lead_rows))
    assert printed <= covered, printed - covered
    # the headline number, straight from the text: tasks whose lead list names 区司法局
    sfj = [r for r in lead_rows if r["unitLabel"] == "区司法局"]
    assert sfj and sfj[0]["tasks"] == sum("区司法局" in t.lead() for t in plan_text.tasks.values())


def test_workload_agrees_with_text_and_role_counts(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]]
) -> None:
    by_role = {(r["unit"], r["role"]): r["tasks"] for r in rows(results, "tasks-per-unit-by-role")}
    work = rows(results, "unit-workload")
    for r in work:
        assert r["lead"] == len(text_leads(plan_text, names[r["unit"]]))
        assert r["responsible"] == by_role.get((r["unit"], "responsible"), 0)
        assert r["participating"] == by_role.get((r["unit"], "participating"), 0)
        assert max(r["lead"], r["responsible"], r["participating"]) <= r["total"]
        assert r["total"] <= r["lead"] + r["responsible"] + r["participating"]
    totals = [r["total"] for r in work]
    assert totals == sorted(totals, reverse=True)


def test_co_leads_match_the_text(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]]
) -> None:
    got = rows(results, "co-leading-units")
    for r in got:
        both = text_leads(plan_text, names[r["a"]]) & text_leads(plan_text, names[r["b"]])
        assert r["tasks"] == len(both), (r["aLabel"], r["bLabel"])
    pairs = {frozenset(p) for t in plan_text.tasks.values() for p in _pairs(t.lead())}
    assert len(got) == len(pairs)


def _pairs(items: list[str]) -> Iterator[tuple[str, str]]:
    uniq = sorted(set(items))
    for i, a in enumerate(uniq):
        for b in uniq[i + 1 :]:
            yield a, b


def test_tasks_without_lead_match_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    got = [r["number"] for r in rows(results, "tasks-without-lead")]
    expected = sorted(n for n, t in plan_text.tasks.items() if "牵头单位" not in t.clause)
    assert got == expected and len(got) == 74 - plan_text.text.count("牵头单位：")


def test_sections_and_chapters_match_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    per_section = Counter(t.section for t in plan_text.tasks.values())
    got = rows(results, "sections-most-tasks")
    assert len(got) == len(plan_text.sections)
    for r in got:
        pos = int(r["section"].rsplit("/", 1)[1])
        assert r["label"] == plan_text.sections[pos - 1][1]
        assert r["tasks"] == per_section[pos], r["label"]
    assert [r["tasks"] for r in got] == sorted((r["tasks"] for r in got), reverse=True)

    per_chapter = Counter(t.chapter for t in plan_text.tasks.values())
    sections_per_chapter = Counter(s[2] for s in plan_text.sections)
    cov = rows(results, "chapter-coverage")
    assert [r["number"] for r in cov] == plan_text.chapters
    for r in cov:
        assert r["tasks"] == per_chapter[r["number"]]
        assert r["sections"] == sections_per_chapter[r["number"]]
        assert cn_number(r["label"]) == r["number"]


def test_task_path_matches_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    got = rows(results, "task-path")
    assert [r["number"] for r in got] == sorted(plan_text.tasks)
    for r in got:
        t = plan_text.tasks[r["number"]]
        assert cn_number(r["chapterLabel"]) == t.chapter
        expected = plan_text.sections[t.section - 1][1] if t.section else None
        assert r["sectionLabel"] == expected
        assert "法治政府建设" in r["planTitle"]


def test_section_anomalies_match_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    printed = [cn_number(label[1:-1]) for _, label, _ in plan_text.sections]
    counts = Counter(printed)
    expected = []
    for pos, n in enumerate(printed, 1):
        if counts[n] > 1:
            expected.append((pos, "repeated"))
        elif n != pos:
            expected.append((pos, "out of sequence"))
    got = [(r["position"], r["issue"]) for r in rows(results, "section-label-anomalies")]
    assert got == expected and expected  # the draft prints （二十八） twice and skips （二十七）


YEAR_END = re.compile(r"(20\d\d)年(?:\d{1,2}月)?底")


def test_deadlines_match_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    by_year: dict[int, set[int]] = {}
    for n, t in plan_text.tasks.items():
        for y in YEAR_END.findall(t.line):
            by_year.setdefault(int(y), set()).add(n)
    got = {r["year"]: r["tasks"] for r in rows(results, "deadlines-by-year")}
    assert got == {y: len(ns) for y, ns in by_year.items()}
    due = rows(results, "tasks-due-by-date")
    assert {r["number"] for r in due} == {n for y, ns in by_year.items() if y <= 2023 for n in ns}
    for r in due:
        assert r["wording"] in plan_text.tasks[r["number"]].line
        assert r["deadline"] <= "2023-12-31" and r["deadline"][:4] in r["wording"]


def test_targets_match_the_text(results: dict[str, QueryResult], plan_text: TextPlan) -> None:
    got = rows(results, "quantitative-targets")
    for r in got:
        line = plan_text.tasks[r["number"]].line
        assert r["phrase"] in line and r["context"] in line
        if r["unit"] == "%":
            assert f"{r['value']:g}%" in r["phrase"]
    with_numbers = {n for n, t in plan_text.tasks.items() if re.search(r"\d+%|不少于\d+|不低于\d+", t.line)}
    assert with_numbers <= {r["number"] for r in got}


def test_unit_types_and_collectives_are_consistent_with_the_text(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]], engine: EmbeddedSparqlEngine
) -> None:
    types = {r["type"]: r for r in rows(results, "units-by-type")}
    for n in types["judicial"]["names"].split("、"):
        assert "法院" in n or "检察院" in n
    for n in types["congress"]["names"].split("、"):
        assert "人大" in n or "政协" in n
    for n in types["collective"]["names"].split("、"):
        assert any(w in n for w in ("有关", "各", "镇", "街道", "区级")), n
    assert sum(r["units"] for r in types.values()) == len(names)

    mix = {(r["kind"], r["role"]): r for r in rows(results, "collective-vs-named")}
    lead_pairs = sum(
        len({u for u, ns in names.items() if ns & set(t.lead())}) for t in plan_text.tasks.values()
    )
    leads_total = sum(r["assignments"] for (k, role), r in mix.items() if role == "lead")
    assert leads_total == lead_pairs
    lead_net = results["lead-network"]
    assert sum(1 for t in lead_net.triples if t.predicate == ox.NamedNode(str(PK.leads))) == lead_pairs


def test_responsible_never_lead_match_the_text(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]]
) -> None:
    got = rows(results, "responsible-never-lead")
    all_leads = {n for t in plan_text.tasks.values() for n in t.lead()}
    for r in got:
        ns = names[r["unit"]]
        assert not ns & all_leads, r["unitLabel"]
        # collectives contain separators ("各镇人民政府、街道办事处"): match inside the printed part
        hits = {n for n, t in plan_text.tasks.items() if any(x in t.raw.get("责任", "") for x in ns)}
        assert r["responsibleFor"] == len(hits), r["unitLabel"]


def test_judicial_and_congress_rows_are_in_the_clause(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]]
) -> None:
    role_word = {"lead": "牵头", "responsible": "责任", "participating": "参加"}
    for r in rows(results, "judicial-and-congress-tasks"):
        t = plan_text.tasks[r["number"]]
        printed = " ".join(t.roles.get(role_word[r["role"]], []))
        unit = next(u for u, ns in names.items() if r["unitLabel"] in ns)
        assert any(n in printed for n in names[unit]), (r["number"], r["unitLabel"])


def test_tasks_most_units_lead_counts_match_the_text(
    results: dict[str, QueryResult], plan_text: TextPlan, names: dict[str, set[str]]
) -> None:
    got = rows(results, "tasks-most-units")
    assert len(got) == 20
    for r in got:
        t = plan_text.tasks[r["number"]]
        assert r["leads"] == len({u for u, ns in names.items() if ns & set(t.lead())})
        assert r["units"] >= r["leads"]
    assert [r["units"] for r in got] == sorted((r["units"] for r in got), reverse=True)


def test_search_inside_sparql_matches_search_and_text(
    results: dict[str, QueryResult], plan_text: TextPlan, built: Any
) -> None:
    hits = built.search_engine().scores_for("政务数据共享 信息公开", 30)
    top = {pos for (_, pos), _ in sorted(hits.items(), key=lambda kv: -kv[1])[:30]}
    early = {n for n, t in plan_text.tasks.items() if any(int(y) <= 2023 for y in YEAR_END.findall(t.line))}
    led = {n for n, t in plan_text.tasks.items() if "区司法局" in t.lead()}
    got = rows(results, "search-data-sharing-sifaju")
    assert {r["number"] for r in got} == top & early & led
    scores = [r["score"] for r in got]
    assert scores == sorted(scores, reverse=True)
    for r in got:
        assert r["score"] == pytest.approx(hits[("chongqing-bishan-2021-2025", r["number"])])


# --- against rdflib on the exported Turtle ---------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(config: Any, built: Any, tmp_path_factory: pytest.TempPathFactory) -> Graph:
    out = tmp_path_factory.mktemp("export") / "graph.ttl"
    cmd = [
        sys.executable,
        "-m",
        "policykg.cli",
        "export",
        "--format",
        "ttl",
        "-o",
        str(out),
        "--data",
        str(config.data_dir),
        "--build-dir",
        str(config.build),
    ]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, timeout=300)
    g = Graph()
    g.parse(out, format="turtle")
    return g


NUMERIC = ("integer", "decimal", "double", "float", "int", "long")


def norm(term: Any, var: str = "") -> Any:
    """A comparable form of a pyoxigraph or rdflib term: numbers by value, list-valued cells sorted."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode | URIRef):
        return ("iri", str(term.value if isinstance(term, ox.NamedNode) else term))
    if isinstance(term, ox.Literal):
        value, lang, dt = term.value, term.language or "", term.datatype.value
    elif isinstance(term, Literal):
        value, lang, dt = str(term), term.language or "", str(term.datatype or "")
    else:
        return ("other", str(term))
    if dt.rsplit("#", 1)[-1] in NUMERIC:
        return ("num", round(float(value), 9))
    if var == "names":  # GROUP_CONCAT: order is not defined by SPARQL
        value = "、".join(sorted(value.split("、")))
    return ("lit", value, lang)


def _rdflib_rows(graph: Graph, q: CannedQuery, scores: dict[Any, Any]) -> tuple[list[str], list[Any]]:
    def score(task: Any, text: Any, top: Any = None) -> Any:
        k = int(top) if top is not None else 20
        hit = scores.get((str(text), k), {}).get(str(task))
        return None if hit is None else Literal(hit[0])

    register_custom_function(URIRef(str(PK.searchScore)), score)
    try:
        res = graph.query(sparql_prologue() + q.text)
    finally:
        unregister_custom_function(URIRef(str(PK.searchScore)), score)
    if res.type == "CONSTRUCT":
        return [], sorted((norm(s), norm(p), norm(o)) for s, p, o in res)
    variables = [str(v) for v in res.vars or []]
    return variables, sorted(tuple(norm(row[v], v) for v in variables) for row in res)  # type: ignore[index]


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_same_rows_as_rdflib_on_exported_turtle(
    name: str, results: dict[str, QueryResult], exported: Graph, built: Any
) -> None:
    q = get_query(name)
    r = results[name]
    scores = compute_scores(q.text, scorer_for_build(built))
    variables, theirs = _rdflib_rows(exported, q, scores)
    if r.kind == "graph":
        ours = sorted((norm(t.subject), norm(t.predicate), norm(t.object)) for t in r.triples)
    else:
        assert variables == r.variables
        ours = sorted(tuple(norm(c, v) for c, v in zip(row, r.variables, strict=True)) for row in r.rows)
    assert ours == theirs
