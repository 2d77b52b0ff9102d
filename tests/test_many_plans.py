"""Several plans in one build: ids, government-scoped units linked by kind, and incremental builds.

The second district is made from the real plan by rewriting its name (璧山 → 永川) and rewording a
phrase (全面 → 全方位), so it has its own units and some task texts of its own; a third file is a
"final text" of the Bishan plan (the draft mark removed), i.e. a second plan of the same government.
Incremental builds are checked against full builds of the same files: same triples, same records,
same search documents — and only the changed plan parsed and only its new texts embedded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph import namespaces as ns
from policykg.build import Build, BuildInfo, build
from policykg.config import DEFAULT_MODEL, Config
from sparql.run import query_store
from tests.conftest import PLAN_FILE, ROOT, copy_data

BISHAN = "chongqing-bishan-2021-2025"
YONGCHUAN = "chongqing-yongchuan-2021-2025"

DISTRICTS_SHARING_WITH_SIFAJU = """
SELECT ?district (COUNT(DISTINCT ?task) AS ?tasks)
WHERE {
  ?kind a pk:UnitKind ; rdfs:label "司法局"@zh .
  ?unit pk:kind ?kind ; org:subOrganizationOf ?gov .
  ?gov rdfs:label ?district .
  { ?unit pk:leads ?task } UNION { ?unit pk:responsibleFor ?task }
  ?task pk:text ?text .
  FILTER(CONTAINS(?text, "数据共享") || CONTAINS(?text, "信息共享"))
}
GROUP BY ?district
ORDER BY ?district
"""


def yongchuan_text() -> str:
    return PLAN_FILE.read_text(encoding="utf-8").replace("璧山", "永川").replace("全面", "全方位")


def final_text() -> str:
    return PLAN_FILE.read_text(encoding="utf-8").replace("（征求意见稿）", "")


def make_data(tmp: Path, *extra: str) -> Path:
    data = copy_data(tmp)
    if "yongchuan" in extra:
        (data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt").write_text(yongchuan_text(), encoding="utf-8")
    if "final" in extra:
        (data / "plans" / "chongqing-bishan-fazhi-zhengfu-2021-2025-final.txt").write_text(final_text(), encoding="utf-8")
    return data


def triples(b: Build) -> set[ox.Triple]:
    return {q.triple for q in b.store.ox}


def records(b: Build) -> list[dict[str, object]]:
    """Every plan's record as the build stores it (one file per plan)."""
    return [json.loads((b.path / e.record).read_text(encoding="utf-8")) for e in b.manifest.plans]


def full_build_of(plans: Path, tmp: Path, *, with_search: bool) -> Build:
    """A from-scratch build of the same files (its own build path, so its own empty cache)."""
    data = tmp / "full-data"
    shutil.copytree(plans.parent, data, ignore=shutil.ignore_patterns("build", ".build*", ".builds"))
    config = Config(data_dir=data, build_dir=tmp / "full-build")
    info = build(config, with_search=with_search)
    assert info.manifest.incremental.mode == "full"
    return Build.open(config, auto_build=False)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Build:
    data = make_data(tmp_path_factory.mktemp("two"), "yongchuan")
    config = Config(data_dir=data, build_dir=data / "build")
    build(config, with_search=False)
    return Build.open(config, auto_build=False)


def test_every_plan_has_its_own_id_and_iris(two: Build) -> None:
    assert [p.id for p in two.plans] == [BISHAN, YONGCHUAN]
    assert two.counts.plans == 2 and two.counts.tasks == 148
    for plan_id in (BISHAN, YONGCHUAN):
        n = query_store(two.store.ox, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?t pk:inPlan <{ns.plan_iri(plan_id)}> ; a pk:Task }}")
        assert int(n.rows[0][0].value) == 74  # type: ignore[union-attr]


def test_units_are_scoped_to_their_government_and_linked_by_kind(two: Build) -> None:
    bishan = ns.unit_iri("chongqing-bishan", "区司法局")
    yongchuan = ns.unit_iri("chongqing-yongchuan", "区司法局")
    assert bishan != yongchuan
    r = query_store(two.store.ox, f"SELECT ?k WHERE {{ <{bishan}> pk:kind ?k . <{yongchuan}> pk:kind ?k }}")
    assert [row[0].value for row in r.rows] == [ns.unit_kind_iri("司法局")]  # type: ignore[union-attr]
    # each district's 司法局 leads its own plan's tasks only
    r = query_store(two.store.ox, f"SELECT DISTINCT ?p WHERE {{ <{yongchuan}> pk:leads/pk:inPlan ?p }}")
    assert [row[0].value for row in r.rows] == [ns.plan_iri(YONGCHUAN)]  # type: ignore[union-attr]


def test_one_query_answers_which_districts_share_data_with_the_sifaju(two: Build) -> None:
    r = query_store(two.store.ox, DISTRICTS_SHARING_WITH_SIFAJU)
    got = {rec["district"]: rec["tasks"] for rec in r.records()}
    assert set(got) == {"重庆市璧山区", "重庆市永川区"}
    # the count is the plan's own: tasks mentioning data sharing that the 司法局 leads or is responsible for
    bishan = next(p for p in two.plans if p.id == BISHAN)
    expected = sum(1 for t in bishan.tasks if ("数据共享" in t.text or "信息共享" in t.text)
                   and "区司法局" in (*t.lead_units, *t.responsible_units))
    assert expected > 0 and got["重庆市璧山区"] == expected


def test_a_final_text_beside_the_draft_shares_the_districts_units(tmp_path: Path) -> None:
    """Two plans of one issuer and period: ids apart (…-2), units and government the same IRIs."""
    data = make_data(tmp_path / "final", "final")
    config = Config(data_dir=data, build_dir=data / "build")
    build(config, with_search=False)
    b = Build.open(config, auto_build=False)
    assert [p.id for p in b.plans] == [BISHAN, f"{BISHAN}-2"]
    r = query_store(b.store.ox, """
        SELECT DISTINCT ?plan ?gov WHERE {
          ?task pk:inPlan ?plan . ?unit pk:leads ?task ; org:subOrganizationOf ?gov .
        } ORDER BY ?plan""")
    rows = [(rec["plan"].rsplit("/", 1)[1], rec["gov"]) for rec in r.records()]
    assert [plan for plan, _ in rows] == [BISHAN, f"{BISHAN}-2"]
    assert {gov for _, gov in rows} == {ns.government_iri("chongqing-bishan")}
    # the same 46 unit IRIs, not a second set for the final text
    units = query_store(b.store.ox, "SELECT (COUNT(DISTINCT ?u) AS ?n) WHERE { ?u pk:leads|pk:responsibleFor|"
                                    "pk:participatesIn ?t }").records()
    assert units[0]["n"] == 46


def _texts(plan_file: Path, config: Config) -> set[str]:
    """The texts the search index embeds for a plan: each task's views for the default model."""
    from ingest import load_unit_table, read_plan
    from search.choice import choose_model
    from search.documents import default_views, documents, views_of

    plan = read_plan(plan_file, load_unit_table(config.units))
    model = choose_model(config.model or DEFAULT_MODEL, [t.text for t in plan.tasks])[0]
    return {v for doc in documents([plan]) for v in views_of(doc, default_views(model))}


def test_adding_a_plan_parses_and_embeds_only_that_plan(tmp_path: Path) -> None:
    data = make_data(tmp_path / "inc")
    config = Config(data_dir=data, build_dir=data / "build")
    first = build(config)
    assert first.manifest.incremental.mode == "full"
    assert first.manifest.incremental.embedded_texts == len(_texts(PLAN_FILE, config))

    new_file = data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt"
    new_file.write_text(yongchuan_text(), encoding="utf-8")
    events: list[str] = []
    second = build(config, progress=lambda stage, _f: events.append(stage))
    inc = second.manifest.incremental
    assert inc.mode == "incremental"
    assert inc.parsed == [new_file.name]
    assert [e for e in events if e.startswith("parse ")] == [f"parse {new_file.name}"]
    assert inc.added == [YONGCHUAN] and inc.removed == []
    new_texts = _texts(new_file, config) - _texts(PLAN_FILE, config)
    assert 0 < len(new_texts) < len(_texts(PLAN_FILE, config))
    assert inc.embedded_texts == len(new_texts)

    assert inc.search == "incremental"  # the Bishan part of the index was carried over, not rebuilt
    bishan_entry = second.manifest.plans[0]
    assert (data / "build" / bishan_entry.record).stat().st_nlink >= 2  # a hard link, not a rewrite

    after = Build.open(config, auto_build=False)
    full = full_build_of(data / "plans", tmp_path, with_search=True)
    assert triples(after) == triples(full)
    assert after.counts == full.counts
    assert records(after) == records(full)
    hits = after.search_engine().search("数据共享", top=10).hits
    assert {h.plan for h in hits} == {BISHAN, YONGCHUAN}
    same_search(after, full)


def same_search(a: Build, b: Build) -> None:
    """Both builds' search indexes answer alike: same hits, same order, same scores, in every mode."""
    for query in ("数据共享", "行政复议 规范化", "川渝合作", "法治宣传"):
        for mode in ("bm25", "dense", "hybrid"):
            got = a.search_engine().search(query, top=20, mode=mode).hits
            want = b.search_engine().search(query, top=20, mode=mode).hits
            assert [(h.plan, h.position) for h in got] == [(h.plan, h.position) for h in want], (query, mode)
            assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-5), (query, mode)


# the search index is carried over in every case; when the edit renames a unit (区司法行政局, a
# word no other plan has), the kept tasks that contain a changed word are cut again
@pytest.mark.parametrize(("change", "search_mode"), [("edit", "incremental"), ("remove-same-government", "incremental"),
                                                     ("remove-other-government", "incremental")])
def test_changing_or_removing_a_plan_equals_a_full_build(tmp_path: Path, change: str, search_mode: str) -> None:
    data = make_data(tmp_path / "chg", "yongchuan", "final")
    config = Config(data_dir=data, build_dir=data / "build")
    build(config)
    before = Build.open(config, auto_build=False)
    assert [p.id for p in before.plans] == [BISHAN, f"{BISHAN}-2", YONGCHUAN]
    final = data / "plans" / "chongqing-bishan-fazhi-zhengfu-2021-2025-final.txt"
    yong = data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt"
    if change == "edit":
        yong.write_text(yongchuan_text().replace("区司法局", "区司法行政局", 3), encoding="utf-8")
    elif change == "remove-same-government":
        final.unlink()  # its units are Bishan's: they must stay for the draft
    else:
        yong.unlink()  # the 永川 units go; the kinds they share with 璧山 stay
    info: BuildInfo = build(config)
    inc = info.manifest.incremental
    assert inc.mode == "incremental"
    assert inc.parsed == ([yong.name] if change == "edit" else [])
    assert inc.search == search_mode
    update = json.loads((data / "build" / "search" / "manifest.json").read_text(encoding="utf-8"))["update"]
    if change == "edit":
        assert "区司法行政局" in update["changed_words"]
    after = Build.open(config, auto_build=False)
    full = full_build_of(data / "plans", tmp_path, with_search=True)
    assert triples(after) == triples(full)
    assert after.counts == full.counts
    assert records(after) == records(full)
    same_search(after, full)


def test_the_previous_build_is_untouched_by_an_incremental_one(tmp_path: Path) -> None:
    data = make_data(tmp_path / "keep")
    config = Config(data_dir=data, build_dir=data / "build")
    build(config, with_search=False)
    old = Build.open(config, auto_build=False)
    old_triples = triples(old)
    (data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt").write_text(yongchuan_text(), encoding="utf-8")
    build(config, with_search=False)
    again = Build(old.path, config)  # the old version folder, opened again
    assert triples(again) == old_triples
    assert len(triples(Build.open(config, auto_build=False))) > len(old_triples)


def test_cli_builds_a_folder_and_prints_plan_ids(tmp_path: Path) -> None:
    data = make_data(tmp_path / "cli", "yongchuan")
    env_cmd = [sys.executable, "-m", "policykg.cli"]
    out = subprocess.run([*env_cmd, "build", str(data / "plans"), "--data", str(data), "--no-search"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "2 plan(s)" in out.stdout and "148 tasks" in out.stdout
    out = subprocess.run([*env_cmd, "stats", "--json", "--data", str(data)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert json.loads(out.stdout)["plan_ids"] == [BISHAN, YONGCHUAN]
    out = subprocess.run([*env_cmd, "tasks", "--lead", "区司法局", "--json", "--data", str(data)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    rows = json.loads(out.stdout)
    assert {r["plan"] for r in rows} == {BISHAN, YONGCHUAN}
    assert sum(r["plan"] == BISHAN for r in rows) == sum(r["plan"] == YONGCHUAN for r in rows) > 0


def test_the_cache_drops_old_entries_no_kept_build_uses(tmp_path: Path) -> None:
    """Edits leave old parses behind; after CACHE_DAYS unused they go, what builds use stays."""
    import os
    import time

    from policykg.cache import CACHE_DAYS, BuildCache

    data = make_data(tmp_path / "prune", "yongchuan")
    config = Config(data_dir=data, build_dir=data / "build")
    yong = data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt"
    cache = BuildCache(config.build)
    edits = ["全方位", "全方面", "全方向"]
    for word in edits:  # three versions of one plan: builds keep the last two
        yong.write_text(yongchuan_text().replace("全方位", word), encoding="utf-8")
        build(config, with_search=False)
    records_of = {p.name for p in cache.records.iterdir()}
    assert len(records_of) == 4  # Bishan + three versions of 永川
    old = time.time() - (CACHE_DAYS + 1) * 86400
    for path in [*cache.records.iterdir(), *cache.triples.iterdir()]:
        os.utime(path, (old, old))
    yong.write_text(yongchuan_text().replace("全方位", "全方略"), encoding="utf-8")
    build(config, with_search=False)
    kept = {e.key for e in Build.open(config, auto_build=False).manifest.plans}
    left = {p.stem for p in cache.records.iterdir()}
    # the first two versions are used by no kept build and old: gone; the third is in the previous build
    assert kept <= left and len(left) == 3
    assert len(list(cache.triples.iterdir())) == 3
    assert Build.open(config, auto_build=False).counts.tasks == 148


def test_editing_the_term_list_makes_the_build_stale_and_reindexes_search(tmp_path: Path) -> None:
    data = make_data(tmp_path / "terms")
    config = Config(data_dir=data, build_dir=data / "build")
    build(config)
    assert Build.open(config, auto_build=False).is_current()
    with (data / "terms.txt").open("a", encoding="utf-8") as f:
        f.write("\n法治体检\n")
    assert not Build.open(config, auto_build=False).is_current()
    info = build(config)
    assert info.manifest.incremental.search == "full"  # the old index's words no longer hold
    assert "法治体检" in (data / "build" / "search" / "userdict.txt").read_text(encoding="utf-8").split()
