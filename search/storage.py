"""The files of a search index: vectors, BM25 tokens, the embedding cache; written atomically.

```
manifest.json   IndexManifest (search.manifest)
vectors.npy     every view vector (flat index; an HNSW index is dense.faiss instead)
vec_doc.npy     the document of each vector
docs.json       [plan id, task position] per document
bm25/           bm25s index; tokens.npz: token ids and texts, what an update re-indexes from
userdict.txt    the tokenizer's user words; dictionary/: jieba's base dictionary (text.StoredFreq)
thesaurus.toml  a copy of the thesaurus used
```
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .bm25 import Bm25Index, index_flat
from .documents import Doc, views_of
from .embedders import Embedder
from .errors import CorruptIndexError
from .manifest import IndexManifest
from .text import DICTIONARY_DIR, ChineseTokenizer, StoredFreq

Progress = Callable[[str, float], None]


class EmbeddingCache:
    """Vectors by (model, text hash) in one directory, so unchanged texts are never embedded twice."""

    def __init__(self, directory: Path, model: str) -> None:
        tag = hashlib.sha256(model.encode()).hexdigest()[:16]
        self.path = Path(directory) / f"embeddings-{tag}.npz"
        self._data: dict[bytes, np.ndarray] | None = None

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).digest()

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._data is None:
            self._data = {}
            if self.path.exists():
                with np.load(self.path) as z:
                    keys, vecs = z["keys"], z["vectors"]
                # numpy's "S" dtype drops trailing NUL bytes, so a digest ending in 0x00 came back
                # 19 bytes long and never matched (1 text in 256 was embedded again): pad it back
                self._data = {bytes(k).ljust(20, b"\0"): v for k, v in zip(keys, vecs, strict=True)}
        return self._data

    def get_many(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        data = self._load()
        return {t: data[k] for t in texts if (k := self._key(t)) in data}

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        data = self._load()
        data.update({self._key(t): v for t, v in vectors.items()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(data), dtype="S20")
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=np.stack(list(data.values())).astype(np.float32))
        tmp.replace(self.path)


@dataclass
class Dense:
    """Vectors of some documents' views, in document order, with what making them cost."""

    matrix: np.ndarray  # float32 (vectors, dim)
    vec_doc: np.ndarray  # int32 document index of each vector
    unique: int = 0
    embedded: int = 0
    chunked: int = 0
    truncated: int = 0


def embed_documents(
    docs: Sequence[Doc], views: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None, report: Progress
) -> Dense:
    """Every view of every document, each distinct text embedded once (and only when not cached).

    A task longer than the model's window would be cut silently; such tasks also get one vector
    per sentence (max pooling), so their tail stays searchable.
    """
    report("checking lengths", 0.02)
    cut = set(embedder.truncated([d.task.text for d in docs])) if "sentences" not in views else set()
    vec_texts: list[str] = []
    vec_doc: list[int] = []
    for i, doc in enumerate(docs):
        doc_views = [*views, "sentences"] if i in cut else views
        for text in views_of(doc, doc_views):
            vec_texts.append(text)
            vec_doc.append(i)
    unique = list(dict.fromkeys(vec_texts))
    vectors_by_text: dict[str, np.ndarray] = cache.get_many(unique) if cache else {}
    todo = [t for t in unique if t not in vectors_by_text]
    truncated = embedder.truncated(todo) if todo else []  # sentences still too long for the model
    batch = 512
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        for text, vec in zip(chunk, embedder.embed_passages(chunk), strict=True):
            vectors_by_text[text] = vec
        if cache and (start // batch) % 20 == 19:  # keep long runs' work if they are interrupted
            cache.put_many({t: vectors_by_text[t] for t in todo[: start + len(chunk)]})
        report("embedding", 0.05 + 0.8 * min(1.0, (start + len(chunk)) / max(1, len(todo))))
    if cache:
        cache.put_many({t: vectors_by_text[t] for t in todo})
    matrix = (
        np.stack([vectors_by_text[t] for t in vec_texts]).astype(np.float32)
        if vec_texts
        else np.zeros((0, embedder.dim), np.float32)
    )
    return Dense(matrix, np.asarray(vec_doc, dtype=np.int32), len(unique), len(todo), len(cut), len(truncated))


def _tokenize(tokenizer: ChineseTokenizer, texts: Sequence[str]) -> list[list[str]]:
    """BM25 tokens per text; a text repeated across plans (drafts, copied wording) is cut once."""
    memo: dict[str, list[str]] = {}
    out = []
    for text in texts:
        toks = memo.get(text)
        if toks is None:
            toks = memo[text] = tokenizer.tokens(text) or ["∅"]
        out.append(toks)
    return out


@dataclass
class Tokens:
    """Every document's BM25 tokens as ids into a vocabulary, and the text they were cut from.

    What an update needs: BM25 is re-indexed from the ids, and when the user dictionary changed,
    the documents whose text contains a changed word are found by their text and cut again.
    """

    vocab: list[str]
    ids: np.ndarray  # int32, all documents' token ids back to back
    offsets: np.ndarray  # int64, len(documents) + 1
    texts: list[str]

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[str]], texts: Sequence[str]) -> Tokens:
        index: dict[str, int] = {}
        ids = [index.setdefault(t, len(index)) for toks in lists for t in toks]
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(t) for t in lists])
        return cls(list(index), np.asarray(ids, dtype=np.int32), offsets, list(texts))

    @classmethod
    def cut(cls, tokenizer: ChineseTokenizer, texts: Sequence[str]) -> Tokens:
        return cls.from_lists(_tokenize(tokenizer, texts), texts)

    @classmethod
    def concat(cls, parts: Sequence[tuple[Tokens, int, int]]) -> Tokens:
        """Documents ``lo:hi`` of each part, in order, over one vocabulary of the tokens they use."""
        vocab: dict[str, int] = {}
        ids: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        texts: list[str] = []
        for part, lo, hi in parts:
            chunk = part.ids[part.offsets[lo]:part.offsets[hi]]
            used = np.unique(chunk)
            remap = np.zeros(len(part.vocab), dtype=np.int32)
            remap[used] = [vocab.setdefault(part.vocab[u], len(vocab)) for u in used.tolist()]
            ids.append(remap[chunk])
            lengths.append(np.diff(part.offsets[lo:hi + 1]))
            texts += part.texts[lo:hi]
        offsets = np.zeros(sum(len(x) for x in lengths) + 1, dtype=np.int64)
        if lengths:
            offsets[1:] = np.cumsum(np.concatenate(lengths))
        all_ids = np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, np.int32)
        return cls(list(vocab), all_ids, offsets, texts)

    def bm25(self) -> Any:
        """The BM25 index of these documents (``search.bm25``: bm25s's numbers, numpy's speed)."""
        return index_flat(self.ids, self.offsets, {t: i for i, t in enumerate(self.vocab)})

    def save(self, path: Path) -> None:
        # texts as one UTF-8 buffer with offsets: numpy's fixed-width strings would pad every task
        # text to the longest one
        encoded = [t.encode("utf-8") for t in self.texts]
        text_offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        text_offsets[1:] = np.cumsum([len(b) for b in encoded])
        np.savez(path, vocab=np.asarray(self.vocab, dtype=str), ids=self.ids, offsets=self.offsets,
                 text_bytes=np.frombuffer(b"".join(encoded), dtype=np.uint8), text_offsets=text_offsets)

    @classmethod
    def load(cls, path: Path) -> Tokens:
        with np.load(path) as z:
            data = z["text_bytes"].tobytes()
            bounds = z["text_offsets"].tolist()
            texts = [data[bounds[i]:bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]
            return cls(z["vocab"].tolist(), z["ids"], z["offsets"], texts)


def extend(parts: list[tuple[Tokens, int, int]], source: Tokens, lo: int, hi: int) -> None:
    """Add documents ``lo:hi`` of ``source``, merged with the previous run when they continue it."""
    if parts and parts[-1][0] is source and parts[-1][2] == lo:
        parts[-1] = (source, parts[-1][1], hi)
    else:
        parts.append((source, lo, hi))


def _faiss_index(matrix: np.ndarray, dim: int) -> Any:
    import faiss

    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    if len(matrix):
        hnsw.add(np.ascontiguousarray(matrix, dtype=np.float32))
    return hnsw


def _dictionary_source(cache: Path | None) -> Path:
    """jieba's base dictionary stored once per jieba version (in the build cache, else the temp dir)."""
    import jieba

    version = getattr(jieba, "__version__", "0")
    root = cache if cache is not None else Path(tempfile.gettempdir()) / f"policykg-{os.getuid()}"
    source = root / f"jieba-dictionary-{version}"
    if not (source / "total.txt").exists():
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".jieba-dictionary-", dir=root))
        StoredFreq.write(tmp)
        try:
            tmp.rename(source)
        except OSError:  # another process stored it first
            shutil.rmtree(tmp, ignore_errors=True)
    return source


def _link_tree(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copyfile(path, target / path.name)


def write_index(
    directory: Path, manifest: IndexManifest, matrix: np.ndarray, vec_doc: np.ndarray,
    doc_keys: list[list[Any]], tokens: Tokens, tokenizer: ChineseTokenizer, thesaurus: Path | None,
    started: float, report: Progress, cache: Path | None = None,
) -> tuple[np.ndarray | None, Any, Bm25Index]:
    """Index the vectors and tokens and write the index directory, replacing any old one atomically.

    Returns what a search needs: the flat vectors (or None) or the HNSW faiss index, and BM25.
    """
    report("indexing", 0.92)
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    hnsw = _faiss_index(matrix, manifest.dimension) if manifest.index == "hnsw" else None
    bm25 = tokens.bm25()
    dictionary = _dictionary_source(cache)

    report("writing", 0.96)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        if hnsw is not None:
            import faiss

            faiss.write_index(hnsw, str(tmp / "dense.faiss"))
        else:
            np.save(tmp / "vectors.npy", matrix)
        np.save(tmp / "vec_doc.npy", np.asarray(vec_doc, dtype=np.int32))
        (tmp / "docs.json").write_text(json.dumps(doc_keys, ensure_ascii=False), encoding="utf-8")
        bm25.save(str(tmp / "bm25"), show_progress=False)
        tokens.save(tmp / "tokens.npz")
        (tmp / "userdict.txt").write_text("\n".join(tokenizer.words) + "\n", encoding="utf-8")
        (tmp / "userdict.json").write_text(json.dumps(tokenizer.user_freq_entries(), ensure_ascii=False),
                                           encoding="utf-8")
        _link_tree(dictionary, tmp / DICTIONARY_DIR)
        if thesaurus is not None and thesaurus.exists():
            shutil.copyfile(thesaurus, tmp / "thesaurus.toml")
        manifest.seconds["total"] = round(time.perf_counter() - started, 3)
        manifest.write(tmp)
        if directory.exists():
            old = directory.with_name(f".{directory.name}-old-{os.getpid()}")
            directory.rename(old)
            tmp.rename(directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report("done", 1.0)
    return (None if hnsw is not None else matrix), hnsw, Bm25Index.from_bm25s(bm25)


@dataclass
class IndexFiles:
    """An index's files as loaded for searching.

    Flat vectors, BM25's arrays and jieba's dictionary are memory-mapped, and neither faiss nor
    bm25s is imported (only an HNSW index needs faiss): opening an index reads only what a query
    touches, which is what keeps ``policykg search`` from the shell under a second.
    """

    matrix: np.ndarray | None  # flat index: the vectors
    hnsw: Any  # HNSW index: the faiss index
    vec_doc: np.ndarray
    bm25: Bm25Index
    docs: list[list[Any]]
    words: list[str]
    user_freq: dict[str, int]

    def tokenizer(self, directory: Path) -> ChineseTokenizer:
        """The index's tokenizer over its stored dictionary (jieba's own when there is none)."""
        return ChineseTokenizer(self.words, dictionary=directory / DICTIONARY_DIR, user_freq=self.user_freq)

    @property
    def ntotal(self) -> int:
        return len(self.matrix) if self.matrix is not None else int(self.hnsw.ntotal)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1]) if self.matrix is not None else int(self.hnsw.d)

    @classmethod
    def read(cls, directory: Path, kind: str) -> IndexFiles:
        try:
            matrix, hnsw = None, None
            if kind == "hnsw":
                import faiss

                hnsw = faiss.read_index(str(directory / "dense.faiss"))
            else:
                matrix = np.load(directory / "vectors.npy", mmap_mode="r")
            vec_doc = np.load(directory / "vec_doc.npy", mmap_mode="r")
            bm25 = Bm25Index.load(directory / "bm25")
            docs = json.loads((directory / "docs.json").read_text(encoding="utf-8"))
            words = (directory / "userdict.txt").read_text(encoding="utf-8").split()
            user_freq = json.loads((directory / "userdict.json").read_text(encoding="utf-8"))
        except Exception as exc:
            raise CorruptIndexError(f"search index in {directory} is damaged ({exc}); rebuild it") from exc
        return cls(matrix, hnsw, vec_doc, bm25, docs, words, user_freq)

    @classmethod
    def read_for_update(
        cls, directory: Path, kind: str
    ) -> tuple[np.ndarray | None, np.ndarray, list[list[Any]], Tokens]:
        """The vectors, their documents, the document keys and the tokens an update carries over."""
        try:
            if kind == "hnsw":
                import faiss

                old = faiss.read_index(str(directory / "dense.faiss"))
                matrix = old.reconstruct_n(0, old.ntotal) if old.ntotal else None
            else:
                matrix = np.load(directory / "vectors.npy")
            vec_doc = np.load(directory / "vec_doc.npy")
            docs = json.loads((directory / "docs.json").read_text(encoding="utf-8"))
            tokens = Tokens.load(directory / "tokens.npz")
        except Exception as exc:
            raise CorruptIndexError(f"search index in {directory} is damaged ({exc}); rebuild it") from exc
        if len(tokens.texts) != len(docs):
            raise CorruptIndexError(f"search index in {directory}: tokens.npz does not match docs.json; rebuild it")
        return matrix, vec_doc, docs, tokens
