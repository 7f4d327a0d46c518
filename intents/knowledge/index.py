"""The retrieval index over help-centre passages: BM25 (``bm25s``) and MiniLM embeddings, fused.

A question is scored against every passage both ways: BM25 over :meth:`Passage.search_text`
(lower-case words, English stop-words dropped; no stemmer, since ``bm25s``'s needs PyStemmer)
and the cosine of its embedding with each passage's. Each article's title is embedded too (once
per article): a hit carries its article title's cosine with the question and that title's margin
over the best other article's title, which the answer score reads. At a few thousand passages
scoring all of them is a sparse row sum and one matrix-vector product (well under a
millisecond), so there is no candidate stage to tune. The two are fused by normalised scores
(``FUSION``): the cosine plus ``BM25_WEIGHT`` times the BM25 score divided by the question's
best BM25 score (``bench/README.md`` measures it against reciprocal rank fusion).
:meth:`KnowledgeIndex.search_vector` is :meth:`~KnowledgeIndex.probe` (the cosines and the
bounds of the BM25 scores) then :meth:`~KnowledgeIndex.rank` (BM25 and the fusion): the answerer
ranks only questions whose probe leaves an answer possible (:mod:`intents.knowledge.ceiling`).

An index is saved as one folder, ``<cache>/knowledge/<content hash>.v<INDEX_VERSION>/``: the
``bm25s`` arrays (``.npy`` + JSON, never a pickle), ``embeddings.npy``, ``titles.npy`` (one row
per article, in the order articles first appear among the passages), ``passages.json`` and
``meta.json``; written under a partial name and renamed, so a reader sees a whole index or
none. A folder that cannot be read is :class:`CorruptIndex`; :func:`load_or_build` rebuilds it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from numpy.typing import NDArray

from intents.blas import one_thread
from intents.encoder import Encoder
from intents.knowledge.ceiling import Probe, WordBounds
from intents.knowledge.documents import Passage

log = logging.getLogger(__name__)

INDEX_VERSION = 2  # part of the saved folder's name: bump when the saved layout or scores change
BM25_WEIGHT = 0.05  # normalised BM25 beside the cosine: chosen on the calibration split
RRF_K = 60  # reciprocal rank fusion's damping constant (Cormack et al. 2009)
DEFAULT_K = 10
ENCODE_BATCH = 64  # passages per encode() call while building: one progress step
Fusion = Literal["scores", "rrf", "bm25", "cosine"]
FUSION: Fusion = "scores"
_WORD = re.compile(r"\w+")
_STOP = frozenset(STOPWORDS_EN)
_META, _PASSAGES, _EMBEDDINGS, _BM25 = "meta.json", "passages.json", "embeddings.npy", "bm25"
_TITLES = "titles.npy"
TitleVectors = Mapping[str, NDArray[np.float32]]  # article key -> its title's embedding


class CorruptIndex(Exception):  # noqa: N818 - the name other modules import
    """A saved index folder that is missing a file or holds one that cannot be read."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"knowledge index {path} is unreadable: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its scores: raw BM25, cosine, the fused score ranked on, its
    0-based rank; its article title's cosine with the question and that title's margin over the
    best title of any other article (0 when the index has no title embeddings)."""

    passage: Passage
    bm25: float
    cosine: float
    fused: float
    rank: int
    title_cosine: float = 0.0
    title_margin: float = 0.0


def tokenize(text: str) -> list[str]:
    """The words BM25 matches on: lower-case, English stop-words dropped."""
    return [word for word in _WORD.findall(text.lower()) if word not in _STOP]


def index_path(cache_dir: Path, content_hash: str) -> Path:
    """Where the index of the articles hashing to ``content_hash`` is saved."""
    return cache_dir / "knowledge" / f"{content_hash}.v{INDEX_VERSION}"


def fuse(bm25: NDArray[np.float32], cosine: NDArray[np.float32], how: Fusion) -> NDArray[Any]:
    """One fused score per passage from the BM25 and cosine scores of a question."""
    if how == "bm25":
        return bm25
    if how == "cosine":
        return cosine
    if how == "rrf":
        ranks = np.empty((2, len(bm25)), dtype=np.float64)
        for row, scores in enumerate((bm25, cosine)):
            ranks[row, np.argsort(-scores, kind="stable")] = np.arange(len(scores))
        fused: NDArray[Any] = (1.0 / (RRF_K + 1 + ranks)).sum(axis=0)
        return fused
    best = float(bm25.max()) if len(bm25) else 0.0
    return cosine + (BM25_WEIGHT * bm25 / best if best > 0 else 0.0)


class KnowledgeIndex:
    """Passages with their BM25 index and embeddings; :meth:`search` ranks them for a question."""

    def __init__(
        self,
        passages: list[Passage],
        bm25: bm25s.BM25,
        embeddings: NDArray[np.float32],
        titles: NDArray[np.float32],
    ) -> None:
        self.passages = passages
        self.article_keys = list(dict.fromkeys(passage.article for passage in passages))
        self.articles = frozenset(self.article_keys)
        self._bm25 = bm25
        self._word_bounds = WordBounds(bm25)
        self.embeddings = embeddings
        if titles.shape[0] != len(self.article_keys):
            raise ValueError("a knowledge index needs one title embedding per article")
        self.titles = titles  # one row per article, in the order of article_keys
        rows = {key: row for row, key in enumerate(self.article_keys)}
        self._article_row = np.asarray([rows[p.article] for p in passages], dtype=np.intp)
        self._rows_of: dict[str, list[int]] = {}
        for row, passage in enumerate(passages):
            self._rows_of.setdefault(passage.article, []).append(row)

    def article_passages(self, key: str) -> list[Passage]:
        """The passages of the article ``key``, in order (none for an article not indexed)."""
        return [self.passages[row] for row in self._rows_of.get(key, [])]

    def article_cosines(self, key: str, vector: NDArray[np.float32]) -> list[float]:
        """The cosine of the embedded question ``vector`` with each passage of the article
        ``key``, in the order of :meth:`article_passages`."""
        rows = self._rows_of.get(key, [])
        with one_thread():
            cosines = self.embeddings[rows] @ vector.astype(np.float32)
        return [float(c) for c in cosines]

    def title_vectors(self) -> dict[str, NDArray[np.float32]]:
        """Each article's title embedding, by article key."""
        return dict(zip(self.article_keys, self.titles, strict=True))

    @classmethod
    def from_embeddings(
        cls,
        passages: list[Passage],
        embeddings: NDArray[np.float32],
        titles: TitleVectors | None = None,
    ) -> KnowledgeIndex:
        """An index of ``passages`` whose embeddings (one row each) and articles' ``titles`` are
        already computed (reused across indexes of subsets when measuring; without ``titles``
        the title features are 0): BM25 is fitted on these passages alone, so its statistics
        are this index's own."""
        if not passages or len(passages) != len(embeddings):
            raise ValueError("a knowledge index needs passages, one embedding row each")
        bm25 = bm25s.BM25()
        bm25.index([tokenize(p.search_text()) for p in passages], show_progress=False)
        keys = list(dict.fromkeys(passage.article for passage in passages))
        zero = np.zeros(embeddings.shape[1], dtype=np.float32)
        rows = [zero if titles is None else titles[key] for key in keys]
        return cls(passages, bm25, embeddings.astype(np.float32), np.stack(rows).astype(np.float32))

    @classmethod
    def build(
        cls,
        passages: list[Passage],
        encoder: Encoder,
        progress: Callable[[int, int], None] | None = None,
    ) -> KnowledgeIndex:
        """Index ``passages``, embedding each with ``encoder``; ``progress(done, total)`` after
        each batch of embeddings (the slow part)."""
        if not passages:
            raise ValueError("a knowledge index needs at least one passage")
        texts = [passage.search_text() for passage in passages]
        rows = []
        for start in range(0, len(texts), ENCODE_BATCH):
            rows.append(encoder.encode(texts[start : start + ENCODE_BATCH]))
            if progress is not None:
                progress(min(start + ENCODE_BATCH, len(texts)), len(texts))
        titles = {p.article: p.title for p in passages}
        vectors = encoder.encode(list(titles.values()))
        return cls.from_embeddings(
            passages, np.concatenate(rows), dict(zip(titles, vectors, strict=True))
        )

    def search(self, question: str, encoder: Encoder, k: int = DEFAULT_K) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first."""
        return self.search_vector(question, encoder.encode([question])[0], k)

    def search_vector(
        self, question: str, vector: NDArray[np.float32], k: int = DEFAULT_K, how: Fusion = FUSION
    ) -> list[Hit]:
        """:meth:`search` with the question already embedded as ``vector`` (and a choice of
        fusion, for measuring)."""
        return self.rank(self.probe(question, vector), k, how)

    def probe(self, question: str, vector: NDArray[np.float32]) -> Probe:
        """What the ranking of ``question`` (embedded as ``vector``) needs before BM25: its
        cosines with the passages and titles, and the range of its BM25 scores."""
        words = tokenize(question)
        # One BLAS thread: a 2,000 x 384 product takes ~0.03 ms, and on a busy 2-core machine a
        # second BLAS thread waiting on a descheduled first made it ~10 ms (bench/README.md).
        with one_thread():
            cosine = self.embeddings @ vector.astype(np.float32)
            title = self.titles @ vector.astype(np.float32)
        low, high = self._word_bounds.bounds(words)
        return Probe(words, cosine, title, _title_margins(title), low, high)

    def rank(self, probe: Probe, k: int = DEFAULT_K, how: Fusion = FUSION) -> list[Hit]:
        """The ``k`` best passages for the probed question, best first (BM25 computed now)."""
        words = probe.words
        bm25 = np.asarray(
            self._bm25.get_scores(words) if words else np.zeros(len(self.passages)),
            dtype=np.float32,
        )
        fused = fuse(bm25, probe.cosine, how)
        count = min(k, len(self.passages))
        top = np.argpartition(-fused, count - 1)[:count]
        top = top[np.argsort(-fused[top], kind="stable")]
        rows = self._article_row
        return [
            Hit(
                self.passages[i],
                float(bm25[i]),
                float(probe.cosine[i]),
                float(fused[i]),
                rank,
                float(probe.title[rows[i]]),
                float(probe.title_margin[rows[i]]),
            )
            for rank, i in enumerate(top)
        ]

    def save(self, path: Path) -> None:
        """Write the index to the folder ``path`` atomically (partial folder, then a rename)."""
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        self._bm25.save(str(partial / _BM25), show_progress=False)
        np.save(partial / _EMBEDDINGS, self.embeddings, allow_pickle=False)
        np.save(partial / _TITLES, self.titles, allow_pickle=False)
        rows = [asdict(passage) for passage in self.passages]
        (partial / _PASSAGES).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        meta = {"version": INDEX_VERSION, "passages": len(rows)}
        (partial / _META).write_text(json.dumps(meta), encoding="utf-8")
        if path.exists():  # a corrupt or stale copy: replaced whole
            shutil.rmtree(path, ignore_errors=True)
        try:
            partial.rename(path)
        except OSError:  # another process saved the same index first: keep theirs
            shutil.rmtree(partial, ignore_errors=True)

    @classmethod
    def load(cls, path: Path) -> KnowledgeIndex:
        """The index saved in ``path``; :class:`CorruptIndex` when missing or unreadable."""
        if not path.is_dir():
            raise CorruptIndex(path, "no such index folder")
        try:
            meta = json.loads((path / _META).read_text(encoding="utf-8"))
            if meta.get("version") != INDEX_VERSION:
                raise CorruptIndex(path, f"version {meta.get('version')!r}, not {INDEX_VERSION}")
            rows = json.loads((path / _PASSAGES).read_text(encoding="utf-8"))
            passages = [Passage(**row) for row in rows]
            embeddings = np.load(path / _EMBEDDINGS, allow_pickle=False)
            titles = np.load(path / _TITLES, allow_pickle=False)
            bm25 = bm25s.BM25.load(str(path / _BM25), show_progress=False, verbosity=0)
        except CorruptIndex:
            raise
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise CorruptIndex(path, f"{type(error).__name__}: {error}") from error
        count = len(passages)
        if meta.get("passages") != count or embeddings.shape[0] != count:
            raise CorruptIndex(path, "passages, embeddings and meta.json disagree on the count")
        if int(bm25.scores.get("num_docs", -1)) != count:
            raise CorruptIndex(path, "the BM25 arrays index another number of passages")
        if titles.shape[0] != len(dict.fromkeys(p.article for p in passages)):
            raise CorruptIndex(path, "titles.npy holds another number of articles")
        return cls(passages, bm25, embeddings.astype(np.float32), titles.astype(np.float32))


def _title_margins(title: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each article's title cosine minus the best title cosine of any other article (the
    runner-up's for the best one; 0 with a single article)."""
    if len(title) < 2:
        return np.zeros_like(title)
    second, first = np.partition(title, len(title) - 2)[-2:]
    margins: NDArray[np.float32] = title - np.where(title >= first, second, first)
    return margins


def load_or_build(
    cache_dir: Path,
    content_hash: str,
    passages: list[Passage],
    encoder: Encoder,
    progress: Callable[[int, int], None] | None = None,
) -> KnowledgeIndex:
    """The saved index of ``content_hash`` or, when there is none or it is corrupt, one built
    from ``passages`` and saved."""
    path = index_path(cache_dir, content_hash)
    if path.exists():
        try:
            return KnowledgeIndex.load(path)
        except CorruptIndex as error:
            log.warning("%s; building it again", error)
    index = KnowledgeIndex.build(passages, encoder, progress)
    index.save(path)
    return index
