"""The answer score's ceiling: never below the score the ranked hits get, whatever the signs of
the coefficients, so skipping retrieval under a floor answers exactly as ranking would have."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import bm25s
import numpy as np
import pytest

from intents.encoder import Encoder
from intents.knowledge.answerer import AnswerScorer, KnowledgeAnswerer
from intents.knowledge.ceiling import FEATURE_BOUNDS, Probe, WordBounds, ceiling
from intents.knowledge.index import KnowledgeIndex, tokenize
from tests.intents.knowledge.tiny_help_centre import passages

# Questions about the demo help centre's articles, the catalogue's retail questions (which
# mostly have no article) and unrelated ones: some clear the floors below, most do not.
QUESTIONS = (
    "hi, what temperature should i wash my merino jumper at?",
    "Do your gift cards expire? I got one last christmas",
    "how can i check how much is left on my giftcard",
    "hi there, can I pay in instalments with klarna?",
    "how often shuold i wash my jeans",
    "ordering to canada, will i have to pay import duties?",
    "can i use two discount codes at once",
    "how should i trim a candle wick",
    "do you match amazon prices",
    "tell me about your gift cards",
    "how do I care for a merino jumper?",
    "how do I return an item?",
    "when will I get my money back",
    "how long does delivery take?",
    "do you ship to Canada?",
    "how much is shipping?",
    "what are your opening hours?",
    "can I buy online and pick up in store?",
    "is this item in stock?",
    "can I pay with paypal",
    "how do I cancel my order?",
    "I forgot my password",
    "can I change my delivery address?",
    "quick question: is delivery free? thank you",
    "Who won the football match last night?",
    "What is the capital of Peru?",
    "is it",
    "zzzz qqqq",
)
FLOORS = (0.0, 0.9, 0.99, 0.999)


@dataclass(frozen=True)
class Unbounded(AnswerScorer):
    """The shipped scorer with no ceiling: every question is ranked (the full path)."""

    def ceiling(self, probe: Probe) -> float:
        return 1.0


def test_word_bounds_hold_every_passages_bm25_and_are_tight_for_one_word() -> None:
    for method in ("lucene", "bm25+"):
        bm25 = bm25s.BM25(method=method)
        texts = [tokenize(p.search_text()) for p in passages()]
        bm25.index(texts, show_progress=False)
        bounds = WordBounds(bm25)
        for question in (*QUESTIONS, "merino merino wash", "gift card card"):
            words = tokenize(question)
            scores = bm25.get_scores(words) if words else np.zeros(len(texts))
            low, high = bounds.bounds(words)
            assert low <= scores.min(), (method, question)
            assert scores.max() <= high, (method, question)
        single = bm25.get_scores(["merino"])
        assert bounds.bounds(["merino"])[1] == pytest.approx(single.max(), rel=1e-3)


def probe(high: float = 2.0) -> Probe:
    """A hand-made probe: cosines in [0.1, 0.6], titles in [0.2, 0.5], BM25 in [0, high]."""
    cosine = np.asarray([0.1, 0.6, 0.3], dtype=np.float32)
    title = np.asarray([0.2, 0.5], dtype=np.float32)
    margin = np.asarray([-0.3, 0.3], dtype=np.float32)
    return Probe(["w"], cosine, title, margin, 0.0, high)


def test_a_negative_coefficient_takes_the_features_lower_bound() -> None:
    z_up = -1.0 + 2.0 * 0.6 + 1.0 * math.log1p(2.0)  # cosine high, bm25_margin high
    assert ceiling(("cosine", "bm25_margin"), (2.0, 1.0), -1.0, probe()) == pytest.approx(
        1.0 / (1.0 + math.exp(-z_up))
    )
    z_down = -1.0 - 2.0 * 0.1 - 1.0 * (-0.3)  # cosine low, title_margin low
    assert ceiling(("cosine", "title_margin"), (-2.0, -1.0), -1.0, probe()) == pytest.approx(
        1.0 / (1.0 + math.exp(-z_down))
    )


def test_a_feature_without_a_bound_never_lets_a_question_skip() -> None:
    assert "runner_up_gap" not in FEATURE_BOUNDS
    assert ceiling(("cosine", "runner_up_gap"), (1.0, 1.0), -50.0, probe()) == 1.0
    assert ceiling(("bm25_margin",), (1.0,), -50.0, probe(high=math.inf)) == 1.0


@pytest.mark.parametrize("seed", range(4))
def test_the_ceiling_is_never_below_the_score_with_any_signs(
    index: KnowledgeIndex, encoder: Encoder, seed: int
) -> None:
    rng = random.Random(seed)
    names = tuple(FEATURE_BOUNDS)
    coefficients = tuple(rng.uniform(-12.0, 12.0) for _ in names)
    scorer = AnswerScorer(names, coefficients, rng.uniform(-8.0, 2.0), 0.5, {})
    vectors = encoder.encode(list(QUESTIONS))
    for question, vector in zip(QUESTIONS, vectors, strict=True):
        probed = index.probe(question, vector)
        assert scorer.ceiling(probed) >= scorer.score(index.rank(probed)), question


def test_skipping_answers_exactly_as_ranking_whenever_an_article_could_win(
    help_centre: KnowledgeAnswerer,
) -> None:
    scorer = help_centre.scorer
    full = KnowledgeAnswerer(help_centre.index, help_centre.encoder, Unbounded(**vars(scorer)))
    outcomes: set[tuple[bool, bool]] = set()
    for question in QUESTIONS:
        reference = full.answer(question)
        vector = help_centre.encoder.encode([question])[0]
        top = scorer.ceiling(help_centre.index.probe(question, vector))
        for floor in FLOORS:
            expected = reference if reference and reference.score >= floor else None
            assert help_centre.answer(question, floor) == expected, (question, floor)
            outcomes.add((expected is not None, top < max(floor, scorer.threshold)))
    # articles won and lost above the ceiling, and questions were skipped under it
    assert {(True, False), (False, False), (False, True)} <= outcomes
