"""How a question scores the help-centre passages: BM25's words, the fusion, the hits.

BM25 runs over :meth:`Passage.search_text` as :func:`tokenize` splits it (lower-case words,
English stop-words dropped; no stemmer, since ``bm25s``'s needs PyStemmer). The BM25 score and
the cosine of the question's embedding with the passage's are fused by normalised scores
(``FUSION``): the cosine plus ``BM25_WEIGHT`` times the BM25 score divided by the question's
best BM25 score (``bench/README.md`` measures it against reciprocal rank fusion). A
:class:`Hit` also carries its article title's cosine with the question and that title's margin
over the best other article's title (:func:`title_margins`), which the answer score reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from numpy.typing import NDArray

from intents.knowledge.documents import Passage

BM25_WEIGHT = 0.05  # normalised BM25 beside the cosine: chosen on the calibration split
RRF_K = 60  # reciprocal rank fusion's damping constant (Cormack et al. 2009)
Fusion = Literal["scores", "rrf", "bm25", "cosine"]
FUSION: Fusion = "scores"
_WORD = re.compile(r"\w+")
_STOP = frozenset(STOPWORDS_EN)


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


def title_margins(title: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each article's title cosine minus the best title cosine of any other article (the
    runner-up's for the best one; 0 with a single article)."""
    if len(title) < 2:
        return np.zeros_like(title)
    second, first = np.partition(title, len(title) - 2)[-2:]
    margins: NDArray[np.float32] = title - np.where(title >= first, second, first)
    return margins
