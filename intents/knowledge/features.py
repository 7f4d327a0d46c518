"""The features of a question's hits the answer score is a logistic regression over (the
candidates ``python -m bench.knowledge --calibrate`` chooses from, by name)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from intents.knowledge.index import Hit


def _other(hits: Sequence[Hit]) -> Hit:
    """The best hit from another article than the top one's (else the last hit: a bound)."""
    top = hits[0].passage.article
    return next((hit for hit in hits[1:] if hit.passage.article != top), hits[-1])


def _best_per_article(hits: Sequence[Hit], score: Callable[[Hit], float]) -> list[float]:
    """The best ``score`` of each article's hits, in the order the articles first appear."""
    best: dict[str, float] = {}
    for hit in hits:
        key = hit.passage.article
        best[key] = max(best.get(key, -math.inf), score(hit))
    return list(best.values())


def _article_margin(hits: Sequence[Hit], score: Callable[[Hit], float]) -> float:
    """The top article's best ``score`` minus the best of any other article among the hits
    (the last hit's when all hits are from one article)."""
    best = _best_per_article(hits, score)
    return best[0] - (max(best[1:]) if len(best) > 1 else score(hits[-1]))


def _runner_up_gap(hits: Sequence[Hit]) -> float:
    """The second article's best fused score minus the third's (the last hit stands in for a
    missing one): with the margin to the second, whether the top two stand above the rest (the
    question's topic is in the index) or the top one leads a flat field of neighbours (the
    calibration gives it a positive weight)."""
    fused = _best_per_article(hits, lambda hit: hit.fused) + [hits[-1].fused] * 2
    return fused[1] - fused[2]


# Features of the hits, best first (never empty). BM25 grows with the question's length in
# matched words: its logarithm keeps a long question from dominating. The article-level ones
# are candidates for telling a question the index has an article for from one it only has
# neighbours for: the top article's best cosine over any other's, how the runner-ups stand,
# how many of the top passages it holds, whether BM25's best article among the hits is it.
FEATURES: dict[str, Callable[[Sequence[Hit]], float]] = {
    "cosine": lambda hits: hits[0].cosine,
    "bm25": lambda hits: math.log1p(hits[0].bm25),
    "fused": lambda hits: hits[0].fused,
    "cosine_margin": lambda hits: hits[0].cosine - _other(hits).cosine,
    "bm25_margin": lambda hits: math.log1p(hits[0].bm25) - math.log1p(_other(hits).bm25),
    "fused_margin": lambda hits: hits[0].fused - _other(hits).fused,
    "article_cosine_margin": lambda hits: _article_margin(hits, lambda hit: hit.cosine),
    "runner_up_gap": _runner_up_gap,
    # The article's best evidence with its title counted as one more passage: a question
    # closer to the title than to any passage asks about the article as a whole.
    "article_cosine": lambda hits: max(hits[0].cosine, hits[0].title_cosine),
    # How far the top article's title stands above every other article's title.
    "title_margin": lambda hits: hits[0].title_margin,
    "top_article_passages": lambda hits: sum(
        hit.passage.article == hits[0].passage.article for hit in hits
    ),
    "bm25_agrees": lambda hits: float(_article_margin(hits, lambda hit: hit.bm25) >= 0),
}


def features(hits: Sequence[Hit], names: Sequence[str]) -> list[float]:
    """The values of the features ``names`` for ``hits``."""
    return [FEATURES[name](hits) for name in names]
