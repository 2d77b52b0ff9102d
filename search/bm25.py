"""BM25 indexing over flat token-id arrays: bm25s's index, computed with numpy instead of a loop.

Why: ``bm25s.BM25.index`` walks the corpus one document at a time in Python (a ``Counter`` per
document, a set intersection per document for the document frequencies). At 74,000 tasks that is
about 3 s, paid again by every incremental build, because BM25's statistics are global and adding
one plan changes every score. The same numbers come out of a few array operations over the token
ids that the index already stores (``tokens.npz``): about ten times faster.

The result is a plain ``bm25s.BM25`` with the same ``scores`` arrays, bit for bit, as bm25s's own
indexing would give (``tests/test_search_bm25.py`` checks this on the real plan and on random
corpora), so saving, loading and scoring stay bm25s's. Only bm25s's default method, Lucene BM25,
is implemented; other methods fall back to bm25s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def index_flat(ids: np.ndarray, offsets: np.ndarray, vocab: Mapping[str, int]) -> Any:
    """A ``bm25s.BM25`` of documents given as token ids back to back (``offsets``: len(docs) + 1)."""
    import bm25s

    bm25 = bm25s.BM25()
    n_docs = len(offsets) - 1
    if n_docs <= 0:
        return bm25
    vocab_dict = dict(vocab)
    if bm25.method != "lucene" or bm25.idf_method != "lucene":  # pragma: no cover - bm25s defaults changed
        bounds = offsets.tolist()
        flat = ids.tolist()
        bm25.index(([flat[bounds[i]:bounds[i + 1]] for i in range(n_docs)], vocab_dict), show_progress=False)
        return bm25
    n_vocab = len(vocab_dict)
    lengths = np.diff(offsets).astype(np.int64)
    avg_doc_len = lengths.mean()  # float64, as bm25s computes it
    doc_of_token = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique(doc_of_token * n_vocab + ids.astype(np.int64), return_counts=True)
    docs = pairs // n_vocab
    terms = pairs % n_vocab
    doc_freq = np.bincount(terms, minlength=n_vocab)
    # idf with math.log per term, as bm25s does (numpy's vectorised log may differ in the last bit)
    idf = np.zeros(n_vocab, dtype=bm25.dtype)
    for term in np.flatnonzero(doc_freq).tolist():
        df = int(doc_freq[term])
        idf[term] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    # the term-frequency part in the order and precision of bm25s's per-document arithmetic
    tf64 = tf.astype(bm25.dtype).astype(np.float64)
    norm = bm25.k1 * ((1 - bm25.b) + (bm25.b * lengths.astype(np.float64)) / avg_doc_len)
    tfc = tf64 / (norm[docs] + tf64)
    scores = (idf[terms].astype(np.float64) * tfc).astype(bm25.dtype)
    data, indices, indptr = bm25._np_csc(
        data=scores,
        rows=docs.astype(bm25.int_dtype),
        cols=terms.astype(bm25.int_dtype),
        shape=(n_docs, n_vocab),
    )
    bm25.scores = {"data": data.astype(bm25.dtype), "indices": indices, "indptr": indptr, "num_docs": n_docs}
    bm25.nonoccurrence_array = None
    if "" not in vocab_dict:  # bm25s's empty token, for queries with no known token
        vocab_dict[""] = max(vocab_dict.values(), default=-1) + 1
    bm25.vocab_dict = vocab_dict
    bm25.unique_token_ids_set = set(vocab_dict.values())
    return bm25


@dataclass
class Bm25Index:
    """Scoring over a saved bm25s index without bm25s: its CSC arrays (memory-mapped) and vocabulary.

    Why: importing bm25s pulls in scipy (about 0.3 s), and a search from the shell must answer in
    under a second. A score is the sum, over the query's tokens in order, of the token's column
    of precomputed term scores, added in float32 in the same order as bm25s adds them, so the
    numbers are bm25s's own (tests/test_search_bm25.py).
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    vocab: dict[str, int]
    num_docs: int

    @classmethod
    def from_bm25s(cls, bm25: Any) -> Bm25Index:
        scores = bm25.scores
        return cls(scores["data"], scores["indices"], scores["indptr"], dict(bm25.vocab_dict),
                   int(scores["num_docs"]))

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        """Read an index written by ``bm25s.BM25.save`` (lucene method, the only one written)."""
        params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") != "lucene":
            raise ValueError(f"{directory}: BM25 method {params.get('method')!r} is not lucene; rebuild")

        def array(name: str) -> np.ndarray:
            return np.load(directory / f"{name}.csc.index.npy", mmap_mode="r")

        vocab = json.loads((directory / "vocab.index.json").read_text(encoding="utf-8"))
        return cls(array("data"), array("indices"), array("indptr"), vocab, int(params["num_docs"]))

    def get_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the tokens (tokens not in the vocabulary are ignored)."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for token in tokens:
            t = self.vocab.get(token)
            if t is None:
                continue
            start, end = int(self.indptr[t]), int(self.indptr[t + 1])
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores
