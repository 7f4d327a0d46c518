"""The calibrated answer score: the shipped calibration loads, answers a clear paraphrase and
refuses an unrelated question; a malformed calibration is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intents.encoder import Encoder
from intents.knowledge.answerer import (
    CALIBRATION,
    AnswerScorer,
    ArticleMatch,
    Attempt,
    CalibrationError,
    KnowledgeAnswerer,
    choose_threshold,
    fit_scorer,
)
from intents.knowledge.documents import Passage
from intents.knowledge.features import FEATURES, features
from intents.knowledge.index import Hit, KnowledgeIndex
from tests.intents.knowledge.tiny_help_centre import passages


@pytest.fixture(scope="module")
def answerer(encoder: Encoder) -> KnowledgeAnswerer:
    return KnowledgeAnswerer(
        KnowledgeIndex.build(passages(), encoder), encoder, AnswerScorer.load()
    )


def hit(article: str, cosine: float, bm25: float, rank: int) -> Hit:
    passage = Passage(article, article, None, None, "text")
    return Hit(passage, bm25, cosine, cosine, rank)


def test_the_shipped_calibration_loads_with_known_features_and_a_threshold() -> None:
    scorer = AnswerScorer.load()
    assert set(scorer.names) <= set(FEATURES)
    assert 0.0 < scorer.threshold < 1.0
    assert {"commit", "date", "fitted_on"} <= scorer.about.keys()


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("What's the best way to wash a merino wool jumper?", "merino.md"),
        ("Do your gift cards ever expire?", "gift-cards.md"),
    ],
)
def test_a_clear_paraphrase_is_answered_from_its_article(
    answerer: KnowledgeAnswerer, question: str, article: str
) -> None:
    match = answerer.answer(question)
    assert match is not None
    assert match.passage.article == article
    assert answerer.scorer.threshold <= match.score <= 1.0


@pytest.mark.parametrize(
    "question", ["Who won the football match last night?", "What is the capital of Peru?"]
)
def test_an_unrelated_question_is_refused(answerer: KnowledgeAnswerer, question: str) -> None:
    assert answerer.answer(question) is None


def test_a_clear_winner_scores_above_a_close_call() -> None:
    scorer = AnswerScorer.load()
    clear = [hit("a", 0.85, 8.0, 0), hit("b", 0.30, 1.0, 1)]
    close = [hit("a", 0.45, 2.0, 0), hit("b", 0.44, 2.0, 1)]
    assert scorer.score(clear) > scorer.threshold > scorer.score(close)
    assert scorer.score([]) == 0.0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "JSONDecodeError"),
        ('{"features": ["cosine"], "coefficients": [1.0], "intercept": 0}', "threshold"),
        (
            '{"features": ["vibes"], "coefficients": [1.0], "intercept": 0, "threshold": 0.5}',
            "unknown features vibes",
        ),
        (
            '{"features": ["cosine"], "coefficients": [], "intercept": 0, "threshold": 0.5}',
            "differ in number",
        ),
        (
            '{"features": ["cosine"], "coefficients": [NaN], "intercept": 0, "threshold": 0.5}',
            "not a finite number",
        ),
    ],
)
def test_a_malformed_calibration_is_a_clear_error(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalibrationError, match=reason) as raised:
        AnswerScorer.load(path)
    assert str(path) in str(raised.value)


def test_a_scorer_round_trips_through_its_json(tmp_path: Path) -> None:
    scorer = AnswerScorer.load()
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(scorer.to_json()), encoding="utf-8")
    assert AnswerScorer.load(path) == scorer
    assert json.loads(CALIBRATION.read_text(encoding="utf-8")) == scorer.to_json()


def test_the_threshold_is_the_lowest_score_keeping_the_precision() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    right = [True, True, True, False, True]
    held_out = [False] * 5
    assert choose_threshold(scores, right, held_out, target=0.75) == 0.5  # 4/5 right
    assert choose_threshold(scores, right, held_out, target=0.95) == 0.7  # 3/3 right
    assert choose_threshold([0.4], [False], [False], target=0.95) == 1.0  # answer nothing


def test_the_threshold_also_caps_held_out_questions_answered() -> None:
    scores = [0.9, 0.8, 0.7, 0.6]
    right = [True, False, True, True]
    held_out = [False, True, False, False]  # the one held-out question scores 0.8
    assert choose_threshold(scores, right, held_out, target=0.7, held_out_cap=1.0) == 0.6
    assert choose_threshold(scores, right, held_out, target=0.7, held_out_cap=0.0) == 0.9


def test_fit_scorer_learns_that_a_higher_cosine_means_right() -> None:
    rows = [[c / 10, 0.0] for c in range(10)]
    labels = [c >= 5 for c in range(10)]
    scorer = fit_scorer(rows, labels, [False] * 10, ["cosine", "cosine_margin"], {"why": "t"})
    assert scorer.coefficients[0] > 0
    assert scorer.about == {"why": "t"}
    low, high = (
        [hit("a", 0.1, 0, 0), hit("b", 0.1, 0, 1)],
        [hit("a", 0.9, 0, 0), hit("b", 0.9, 0, 1)],
    )
    assert scorer.score(high) >= scorer.threshold > scorer.score(low)


def test_a_threshold_judges_tied_scores_together() -> None:
    # Answering at 0.8 answers all three 0.8s, 2 right of 4: not the 2/2 of the first 0.8 alone.
    scores, right = [0.9, 0.8, 0.8, 0.8], [True, True, False, False]
    assert choose_threshold(scores, right, [False] * 4, target=0.75) == 0.9
    assert choose_threshold(scores, right, [False] * 4, target=0.5) == 0.8


def test_article_features_look_past_the_top_articles_other_passages() -> None:
    hits = [
        hit("a", 0.80, 1.0, 0),
        hit("a", 0.70, 6.0, 1),  # the top article's second passage: not a rival
        hit("b", 0.60, 2.0, 2),
        hit("c", 0.55, 0.0, 3),
    ]
    assert features(hits, ["article_cosine_margin"]) == pytest.approx([0.20])
    assert features(hits, ["runner_up_gap"]) == pytest.approx([0.05])  # b over c
    assert features(hits, ["top_article_passages", "bm25_agrees"]) == [2.0, 1.0]
    alone = [hit("a", 0.8, 1.0, 0), hit("a", 0.5, 3.0, 1)]  # one article: the last hit bounds
    assert features(alone, ["article_cosine_margin", "runner_up_gap"]) == pytest.approx([0.3, 0])
    assert features([hit("a", 0.8, 1.0, 0), hit("b", 0.7, 5.0, 1)], ["bm25_agrees"]) == [0.0]


def test_title_features_count_the_title_as_a_passage_and_against_other_titles() -> None:
    passage = Passage("a", "Gift cards", None, None, "text")
    closer_title = [Hit(passage, 1.0, 0.6, 0.6, 0, title_cosine=0.8, title_margin=0.3)]
    closer_passage = [Hit(passage, 1.0, 0.7, 0.7, 0, title_cosine=0.5, title_margin=-0.1)]
    names = ["article_cosine", "title_margin"]
    assert features(closer_title, names) == pytest.approx([0.8, 0.3])
    assert features(closer_passage, names) == pytest.approx([0.7, -0.1])


def test_an_attempt_settles_the_floors_it_can_answer() -> None:
    match = ArticleMatch(passages()[0], 0.95)
    ranked = Attempt(match)
    assert ranked.settles(0.0)
    assert ranked.settles(0.999)
    assert ranked.at(0.9) == match
    assert ranked.at(0.999) is None
    skipped = Attempt(None, 0.97)  # ranking skipped under a floor, the score's ceiling 0.97
    assert skipped.settles(0.999)
    assert not skipped.settles(0.97)
    assert not skipped.settles(0.0)
    assert skipped.at(0.999) is None
