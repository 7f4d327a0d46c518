"""Rotation over articles: every article held out of the index exactly once, BM25 refitted on
each round's articles, and the report counting every round's questions."""

from __future__ import annotations

import numpy as np
import pytest

from intents.knowledge.answerer import AnswerScorer
from intents.knowledge.documents import Passage
from intents.knowledge.evaluation import LabelledQuestion
from intents.knowledge.rotation import Corpus, evaluate_rotation, groups, rotate
from tests.intents.knowledge.tiny_help_centre import passages

KEYS = [p.article for p in passages()]


def corpus() -> Corpus:
    """The tiny help centre with one-hot embeddings: a question embedded as its article's row
    has cosine 1 with it and 0 with every other."""
    return Corpus(passages(), np.eye(len(KEYS), dtype=np.float32))


def questions() -> tuple[list[LabelledQuestion], np.ndarray]:
    asked = [LabelledQuestion(f"question about {key}", key, "evaluation") for key in KEYS]
    return asked, np.eye(len(KEYS), dtype=np.float32)


def test_groups_deal_every_article_into_exactly_one_group_seeded() -> None:
    articles = [f"a{n}.md" for n in range(23)]
    dealt = groups(articles, rounds=5, seed=7)
    assert len(dealt) == 5
    assert sorted(a for group in dealt for a in group) == sorted(articles)  # each once
    assert {len(group) for group in dealt} <= {4, 5}
    assert groups(list(reversed(articles)), rounds=5, seed=7) == dealt  # order-independent
    assert groups(articles, rounds=5, seed=8) != dealt


def test_too_few_articles_or_rounds_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least"):
        groups(["a.md", "b.md"], rounds=3)
    with pytest.raises(ValueError, match="at least"):
        groups(["a.md", "b.md"], rounds=1)


def test_an_index_without_a_group_has_neither_its_passages_nor_its_bm25_statistics() -> None:
    extra = Passage("kettle.md", "Kettle", None, None, "Descale the kettle with citric acid.")
    whole = Corpus([*passages(), extra], np.eye(len(KEYS) + 1, dtype=np.float32))
    question, vector = "how do I descale a kettle?", np.zeros(len(KEYS) + 1, dtype=np.float32)
    kettle_before = whole.index_without(frozenset()).search_vector(question, vector, k=1)[0]
    assert kettle_before.passage.article == "kettle.md"
    without = whole.index_without(frozenset({"kettle.md", "merino.md"}))
    assert without.articles == frozenset(KEYS) - {"merino.md"}
    assert all(hit.bm25 == 0.0 for hit in without.search_vector(question, vector, k=10))


def test_bm25_counts_only_the_indexed_articles() -> None:
    # "gift" is in the gift-cards and discount-codes passages: without the gift-cards article
    # it is rarer, so the discount passage's BM25 for it rises (refitted, not masked).
    vector = np.zeros(len(KEYS), dtype=np.float32)

    def discount_bm25(held_out: frozenset[str]) -> float:
        hits = corpus().index_without(held_out).search_vector("gift", vector, k=10)
        return next(hit.bm25 for hit in hits if hit.passage.article == "discounts.md")

    assert discount_bm25(frozenset({"gift-cards.md"})) > discount_bm25(frozenset()) > 0.0


def test_every_question_is_held_out_once_and_answerable_in_the_other_rounds() -> None:
    asked_questions, vectors = questions()
    asked = rotate(corpus(), asked_questions, vectors, rounds=3, seed=1)
    assert len(asked) == 3 * len(KEYS)
    for key in KEYS:
        mine = [a for a in asked if a.question.article == key]
        assert [a.held_out for a in mine].count(True) == 1
        for one in mine:
            articles = {hit.passage.article for hit in one.hits}
            assert (key in articles) is not one.held_out  # held out: not in that round's index
            assert one.right is not one.held_out  # one-hot: the top hit is its own article


def test_the_rotation_report_counts_every_round() -> None:
    asked_questions, vectors = questions()
    asked = rotate(corpus(), asked_questions, vectors, rounds=3, seed=1)
    everything = AnswerScorer(("cosine",), (1.0,), 0.0, 0.0, {})  # answers every question
    report = evaluate_rotation(asked, everything)
    assert (report.answerable, report.held_out) == (2 * len(KEYS), len(KEYS))
    assert (report.answered_right, report.held_out_answered) == (2 * len(KEYS), len(KEYS))
    assert report.held_out_answered_share == 1.0
    sure = AnswerScorer(("cosine",), (40.0,), -20.0, 0.5, {})  # answers cosine > 0.5 only
    report = evaluate_rotation(asked, sure)
    assert (report.answered_right, report.held_out_answered, report.precision) == (12, 0, 1.0)
