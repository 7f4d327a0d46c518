"""The highest answer score a question could reach, known before its BM25 scores are computed.

Most questions a shop's customers ask have no article that could answer them, yet retrieval
scored every passage with BM25 for each (issue 22: ~0.3 to 0.5 core-ms a message). The answer
score is a logistic regression over features of the top hits, so bounding each feature over
*any* hits the question can have bounds the score: a question whose ceiling stays under the
score an article would need skips BM25, the ranking and the features, and gets no article, the
same as the full path would give it.

The bounds come from what is cheap for a question (:class:`Probe`): its cosine with every
passage and title (one matrix-vector product the ranking needs anyway), the title margins, and
the largest and smallest BM25 any passage could have: each query word's largest (smallest)
score in any passage, summed over the words, read once per index from ``bm25s``'s sparse score
matrix (:class:`WordBounds`). A feature without a bound here makes the ceiling 1.0 (never skip).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

# float32 sums in bm25s round up by at most ~1e-6 relative for a few dozen words: a bound
# widened by this much stays above any passage's computed score.
BM25_SLACK = 1e-4
Z_SLACK = 1e-9  # the logistic sum of the bound is rounded like the score's: kept a hair above


@dataclass(frozen=True)
class Probe:
    """What a question's ranking needs before BM25: its words, its cosine with every passage
    and every article title, each title's margin over the best other title, and the range any
    passage's BM25 score for these words lies in."""

    words: list[str]
    cosine: NDArray[np.float32]
    title: NDArray[np.float32]
    title_margin: NDArray[np.float32]
    bm25_low: float
    bm25_high: float


class WordBounds:
    """Each vocabulary word's largest and smallest BM25 score in any passage (0 for a passage
    without it), from ``bm25s``'s score matrix: columns are word ids (``indptr``), rows the
    passages holding the word (``indices``) with its score (``data``); BM25L and BM25+ add a
    per-word score for passages without the word (``nonoccurrence_array``)."""

    def __init__(self, bm25: Any) -> None:
        scores = bm25.scores
        data = np.asarray(scores["data"], dtype=np.float64)
        indptr = np.asarray(scores["indptr"], dtype=np.int64)
        words = len(indptr) - 1
        self._vocab: Mapping[str, int] = bm25.vocab_dict
        self._high = np.zeros(words, dtype=np.float64)
        self._low = np.zeros(words, dtype=np.float64)
        held = indptr[1:] > indptr[:-1]  # words some passage holds (others stay 0)
        if held.any():
            starts = indptr[:-1][held]
            column = data[: indptr[-1]]
            self._high[held] = np.maximum(np.maximum.reduceat(column, starts), 0.0)
            self._low[held] = np.minimum(np.minimum.reduceat(column, starts), 0.0)
        extra = getattr(bm25, "nonoccurrence_array", None)
        if extra is not None:  # added to every passage's score, holding the word or not
            self._high += np.asarray(extra, dtype=np.float64)
            self._low += np.asarray(extra, dtype=np.float64)
        # Python floats: summing a question's few words is ~5x faster than numpy indexing
        self._high_of: list[float] = self._high.tolist()
        self._low_of: list[float] = self._low.tolist()

    def bounds(self, words: Sequence[str]) -> tuple[float, float]:
        """The smallest and largest BM25 score any passage can have for the query ``words``
        (a repeated word counts each time, as ``bm25s`` counts it; unknown words score 0)."""
        ids = [self._vocab[word] for word in words if word in self._vocab]
        low = sum(self._low_of[i] for i in ids)
        high = sum(self._high_of[i] for i in ids)
        return low - BM25_SLACK * abs(low), high + BM25_SLACK * abs(high)


def _log_bm25(value: float) -> float:
    """``log1p`` of a BM25 bound; -inf below -1 (a bound no feature can use)."""
    return math.log1p(value) if value > -1.0 else -math.inf


def _bm25_margin(probe: Probe) -> tuple[float, float]:
    """The top hit's log BM25 over another hit's, both between the probe's BM25 bounds."""
    low, high = _log_bm25(probe.bm25_low), _log_bm25(probe.bm25_high)
    return low - high, high - low


def _article_cosine(probe: Probe) -> tuple[float, float]:
    """The larger of a passage's cosine and its title's, over any passage."""
    low = max(float(probe.cosine.min()), float(probe.title.min()))
    return low, max(float(probe.cosine.max()), float(probe.title.max()))


# Each feature's lowest and highest value over any hits the probed question can have
# (:data:`intents.knowledge.features.FEATURES` names them).
FEATURE_BOUNDS: dict[str, Callable[[Probe], tuple[float, float]]] = {
    "cosine": lambda probe: (float(probe.cosine.min()), float(probe.cosine.max())),
    "bm25": lambda probe: (_log_bm25(probe.bm25_low), _log_bm25(probe.bm25_high)),
    "bm25_margin": _bm25_margin,
    "article_cosine": _article_cosine,
    "title_margin": lambda probe: (
        float(probe.title_margin.min()),
        float(probe.title_margin.max()),
    ),
}


def ceiling(
    names: Sequence[str], coefficients: Sequence[float], intercept: float, probe: Probe
) -> float:
    """The highest score ``1 / (1 + exp(-(intercept + Σ c·feature)))`` any hits of the probed
    question can reach: each feature at its upper bound when its coefficient is positive, at
    its lower bound when negative; 1.0 when a feature has no bound (or an infinite one)."""
    z = intercept + Z_SLACK
    for name, coefficient in zip(names, coefficients, strict=True):
        bound = FEATURE_BOUNDS.get(name)
        if bound is None:
            return 1.0
        low, high = bound(probe)
        value = high if coefficient >= 0 else low
        if not math.isfinite(value):
            return 1.0
        z += coefficient * value
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
