"""StackFAQ in rotation (:mod:`intents.knowledge.rotation`) for ``bench/knowledge.py``.

The corpus is all 125 articles (``articles/`` and ``held_out/``), embedded once. The calibration
split's 50 articles rotate in 5 rounds of 10 held out (a 115-article index), the evaluation
split's 75 in 5 rounds of 15 held out (110 articles). The answer score's
features are chosen on the calibration rounds only (:func:`select`: greedy, each step adding
the feature that most raises the share answered right at the threshold, while it adds at least
``MIN_GAIN``), then fitted there (:func:`fit`); the evaluation rounds only measure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.knowledge_data import DATA
from intents.encoder import Encoder
from intents.knowledge.answerer import AnswerScorer, fit_scorer
from intents.knowledge.articles import content_hash, load_articles
from intents.knowledge.documents import Passage
from intents.knowledge.evaluation import LabelledQuestion
from intents.knowledge.features import FEATURES
from intents.knowledge.index import Fusion, load_or_build
from intents.knowledge.passages import split_all
from intents.knowledge.rotation import Asked, Corpus

MAX_FEATURES = 5
MIN_GAIN = 0.01  # a feature must answer 1 point more calibration questions right to be added
# The features each ranking's scorer may use: BM25 alone knows no cosine, the encoder no BM25.
# (No feature of the question's raw cosine with the article's title: StackFAQ's titles are the
# threads' questions, which the labelled questions paraphrase, and such a feature learnt that
# artefact and refused questions to a shop's topic titles; bench/README.md. The title enters as
# one more passage of its article, article_cosine, and relative to the other titles,
# title_margin.)
CANDIDATES: dict[Fusion, tuple[str, ...]] = {
    "bm25": ("bm25", "bm25_margin", "runner_up_gap", "top_article_passages"),
    "cosine": tuple(name for name in FEATURES if "bm25" not in name and name != "fused"),
    "scores": tuple(FEATURES),
    "rrf": tuple(FEATURES),
}


def passages_of(folder: Path) -> list[Passage]:
    """The passages of the articles in ``folder``."""
    return split_all(load_articles(folder).articles)


def corpus(cache_dir: Path, encoder: Encoder) -> Corpus:
    """Every StackFAQ article's passages and embeddings (cached like a served index)."""
    folders = (DATA / "articles", DATA / "held_out")
    key = hashlib.sha256("".join(content_hash(f) for f in folders).encode()).hexdigest()
    passages = [p for folder in folders for p in passages_of(folder)]
    return Corpus.of(load_or_build(cache_dir, f"stackfaq-all-{key[:32]}", passages, encoder))


def embed(encoder: Encoder, questions: Sequence[LabelledQuestion]) -> np.ndarray[Any, Any]:
    """The questions' embeddings, one row each."""
    return encoder.encode([q.question for q in questions])


def fit(asked: Sequence[Asked], names: Sequence[str], about: dict[str, Any]) -> AnswerScorer:
    """A scorer over ``names`` fitted on ``asked``, its threshold chosen on the same."""
    rows = [[FEATURES[name](a.hits) for name in names] for a in asked]
    labels, held = [a.right for a in asked], [a.held_out for a in asked]
    return fit_scorer(rows, labels, held, tuple(names), about)


def answered_right(asked: Sequence[Asked], scorer: AnswerScorer) -> float:
    """The share of the answerable questions ``scorer`` answers right on ``asked``."""
    outcomes = [a.outcome(scorer) for a in asked]
    answerable = sum(not o.held_out for o in outcomes)
    return sum(o.right for o in outcomes) / max(1, answerable)


def select(
    asked: Sequence[Asked], candidates: Sequence[str]
) -> list[tuple[tuple[str, ...], float]]:
    """Greedy forward selection on ``asked`` (calibration rounds): each step's features and the
    share answered right with them; the last step's are the chosen ones."""
    path: list[tuple[tuple[str, ...], float]] = []
    chosen: tuple[str, ...] = ()
    best = 0.0
    while len(chosen) < MAX_FEATURES:
        trials = [
            (answered_right(asked, fit(asked, (*chosen, n), {})), n)
            for n in candidates
            if n not in chosen
        ]
        share, name = max(trials, default=(0.0, ""))
        if not name or share < best + MIN_GAIN:
            break
        chosen, best = (*chosen, name), share
        path.append((chosen, share))
    return path
