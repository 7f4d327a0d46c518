"""The retrieval index over help-centre passages: BM25 (``bm25s``) and MiniLM embeddings, fused.

A question is scored against every passage both ways: BM25 and the cosine of its embedding with
each passage's, fused as :mod:`intents.knowledge.scoring` says. Each article's title is
embedded too (once per article), for the title features of a :class:`Hit`. At a few thousand
passages scoring all of them is a sparse row sum and one matrix-vector product (well under a
millisecond), so there is no candidate stage to tune. :meth:`KnowledgeIndex.search_vector` is
:meth:`~KnowledgeIndex.probe` (the cosines and the bounds of the BM25 scores) then
:meth:`~KnowledgeIndex.rank` (BM25 and the fusion): the answerer ranks only questions whose
probe leaves an answer possible (:mod:`intents.knowledge.ceiling`).

An index is saved as one folder per content hash (:mod:`intents.knowledge.index_folder`); a
folder that cannot be read is :class:`CorruptIndex`, which :func:`load_or_build` rebuilds.
The names of those two modules are importable from here too, where their callers first found
them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import bm25s
import numpy as np
from numpy.typing import NDArray

from intents.blas import one_thread
from intents.encoder import Encoder
from intents.knowledge.ceiling import Probe, WordBounds
from intents.knowledge.documents import Passage
from intents.knowledge.index_folder import INDEX_VERSION as INDEX_VERSION
from intents.knowledge.index_folder import CorruptIndex as CorruptIndex
from intents.knowledge.index_folder import IndexParts, read_index, write_index
from intents.knowledge.index_folder import index_path as index_path
from intents.knowledge.scoring import BM25_WEIGHT as BM25_WEIGHT
from intents.knowledge.scoring import FUSION as FUSION
from intents.knowledge.scoring import RRF_K as RRF_K
from intents.knowledge.scoring import Fusion as Fusion
from intents.knowledge.scoring import Hit as Hit
from intents.knowledge.scoring import fuse as fuse
from intents.knowledge.scoring import title_margins
from intents.knowledge.scoring import tokenize as tokenize

log = logging.getLogger(__name__)

DEFAULT_K = 10
ENCODE_BATCH = 64  # passages per encode() call while building: one progress step
TitleVectors = Mapping[str, NDArray[np.float32]]  # article key -> its title's embedding


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
        return Probe(words, cosine, title, title_margins(title), low, high)

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
        write_index(path, IndexParts(self.passages, self._bm25, self.embeddings, self.titles))

    @classmethod
    def load(cls, path: Path) -> KnowledgeIndex:
        """The index saved in ``path``; :class:`CorruptIndex` when missing or unreadable."""
        parts = read_index(path)
        return cls(parts.passages, parts.bm25, parts.embeddings, parts.titles)


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
