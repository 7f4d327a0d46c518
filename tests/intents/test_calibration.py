"""Choosing blend weights and the answer rule from training data alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from intents.calibration import (
    NO_SIMILARITY_FLOOR,
    Evidence,
    Rule,
    choose,
    choose_pooled,
    choose_rule,
    choose_threshold,
    choose_weights,
    escalating_rule,
    pooled_weights,
    unknown_scores,
    widen_by_margin,
)
from intents.members import Scores, TrainingConfig


def test_the_threshold_is_the_lowest_reaching_the_target_precision() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])
    assert choose_threshold(confidence, correct, 0.75) == 0.7  # 4 of the top 5 are right
    assert choose_threshold(confidence, correct, 1.0) == 0.9
    assert choose_threshold(confidence, ~correct, 0.9) == 1.0  # unreachable: answer nothing


def test_the_weights_favour_the_more_accurate_member() -> None:
    truth = np.array([0, 1, 0, 1])
    good = np.eye(2)[truth] * 0.8 + 0.1
    bad = np.eye(2)[1 - truth] * 0.8 + 0.1
    weights = choose_weights([bad, good, bad], truth)
    assert sum(weights) == pytest.approx(1)
    assert weights[1] > 0.5
    assert sorted(choose_weights([good, good, good], truth)) == [0.3, 0.3, 0.4]  # most even


def test_a_rule_answers_only_when_both_confidence_and_similarity_reach_it() -> None:
    evidence = Evidence(np.array([0.9, 0.9, 0.5]), np.array([0.8, 0.4, 0.9]))
    assert Rule(0.6, 0.5).answers(evidence).tolist() == [True, False, False]
    assert Rule(0.6).answers(evidence).tolist() == [True, True, False]


def test_the_similarity_floor_escalates_just_enough_unknown_messages() -> None:
    unknown = Evidence(np.array([0.2, 0.9, 0.9, 0.9]), np.array([0.9, 0.3, 0.5, 0.7]))
    assert escalating_rule(0.5, unknown, 0.25).min_similarity == NO_SIMILARITY_FLOOR
    rule = escalating_rule(0.5, unknown, 0.75)  # one escalated by confidence, two more needed
    assert rule.answers(unknown).tolist() == [False, False, False, True]


def test_unknown_intents_are_kept_out_by_similarity_when_that_costs_fewer_answers() -> None:
    config = TrainingConfig(target_precision=0.9, target_unknown_escalated=0.75)
    # known messages: confident and close to their examples; unknown ones: as confident
    # but far from every example, so only a similarity floor separates them cheaply
    known = Evidence(np.linspace(0.6, 0.99, 100), np.full(100, 0.9))
    unknown = Evidence(np.linspace(0.6, 0.99, 40), np.full(40, 0.5))
    rule = choose_rule(known, np.ones(100, dtype=bool), unknown, 0.6, config)
    assert rule.threshold == pytest.approx(0.6)
    assert 0.5 < rule.min_similarity <= 0.9
    assert rule.answers(known).all()
    assert not rule.answers(unknown).any()


def test_without_a_similarity_gap_the_threshold_rises_instead() -> None:
    config = TrainingConfig(target_precision=0.9, target_unknown_escalated=0.75)
    known = Evidence(np.linspace(0.6, 0.99, 100), np.full(100, 0.9))
    unknown = Evidence(np.linspace(0.5, 0.7, 40), np.full(40, 0.9))
    rule = choose_rule(known, np.ones(100, dtype=bool), unknown, 0.55, config)
    assert (~rule.answers(unknown)).mean() >= 0.75
    assert rule.answers(known).mean() > 0.7  # far more than a floor at 0.9 would keep
    assert choose_rule(known, np.ones(100, dtype=bool), None, 0.55, config) == Rule(0.55)


def test_a_rule_that_would_miss_the_precision_target_is_not_chosen() -> None:
    config = TrainingConfig(target_precision=0.95, target_unknown_escalated=0.5)
    known = Evidence(np.linspace(0.6, 0.99, 100), np.r_[np.full(50, 0.5), np.full(50, 0.9)])
    correct = np.r_[np.ones(50, dtype=bool), np.zeros(5, dtype=bool), np.ones(45, dtype=bool)]
    unknown = Evidence(np.full(10, 0.99), np.linspace(0.4, 0.95, 10))
    rule = choose_rule(known, correct, unknown, 0.6, config)
    answered = rule.answers(known)
    assert (~rule.answers(unknown)).mean() >= 0.5
    assert not answered.any() or correct[answered].mean() >= 0.95


def test_out_of_scope_examples_are_unknown_in_every_round() -> None:
    intents = ["a", "b", "c", "d", "e", "f", "out_of_scope"]
    texts = [f"{name} word{n} sample{n}" for name in intents for n in range(6)]
    labels = [name for name in intents for _ in range(6)]
    embeddings = np.random.default_rng(0).normal(size=(len(texts), 8))
    config = TrainingConfig(unknown_groups=3, folds=2)
    parts = unknown_scores(texts, embeddings, labels, config)
    assert parts is not None
    # six ordinary intents in three rounds of two, each round with the six out-of-scope ones
    assert [len(part.nearest) for part in parts] == [2 * 6 + 6] * 3
    plain = unknown_scores(texts, embeddings, labels, replace(config, out_of_scope=()))
    assert plain is not None
    assert sum(len(part.nearest) for part in plain) == len(texts)  # each intent hidden once


def test_a_clear_lead_answers_below_the_threshold_only_while_precision_holds() -> None:
    config = TrainingConfig()
    confidence = np.r_[np.full(50, 0.9), np.full(50, 0.4)]
    margin = np.r_[np.full(50, 0.8), np.linspace(0.05, 0.35, 50)]
    known = Evidence(confidence, np.full(100, 0.9), margin)
    # below the threshold, rows leading by 0.2 or more are right, the others wrong
    correct = np.r_[np.ones(50, dtype=bool), margin[50:] >= 0.2]
    widened = widen_by_margin(Rule(0.8), known, correct, None, config)
    assert 0.15 <= widened.min_margin <= 0.2
    assert correct[widened.answers(known)].mean() >= config.target_precision
    assert widened.answers(known).sum() > Rule(0.8).answers(known).sum()
    nothing_right = np.r_[np.ones(50, dtype=bool), np.zeros(50, dtype=bool)]
    strict = widen_by_margin(Rule(0.8), known, nothing_right, None, config)
    assert nothing_right[strict.answers(known)].mean() >= config.target_precision
    assert strict.answers(known).sum() <= 51  # one wrong row at most among 50 right ones


def test_the_lead_never_lets_unknown_intents_through_beyond_the_target() -> None:
    config = TrainingConfig()
    known = Evidence(np.full(10, 0.4), np.full(10, 0.9), np.full(10, 0.3))
    unknown = Evidence(np.full(10, 0.4), np.full(10, 0.9), np.full(10, 0.5))  # leading more
    rule = widen_by_margin(Rule(0.8), known, np.ones(10, dtype=bool), unknown, config)
    assert (~rule.answers(unknown)).mean() >= config.target_unknown_escalated
    assert not rule.answers(known).any()  # a margin letting them in would let unknown in too


def test_the_evidence_of_probability_rows_has_the_lead_over_the_runner_up() -> None:
    rows = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    evidence = Evidence.of_rows(rows, np.array([0.9, 0.8]))
    assert evidence.confidence.tolist() == [0.5, 0.8]
    assert evidence.margin is not None
    assert evidence.margin.tolist() == pytest.approx([0.2, 0.7])


def sure_scores(truth: np.ndarray, right: np.ndarray, classes: int) -> Scores:
    """Three members all 0.9 sure of the true class where ``right``, of another one elsewhere."""
    said = np.where(right, truth, (truth + 1) % classes)
    rows = np.full((len(truth), classes), 0.1 / (classes - 1))
    rows[np.arange(len(truth)), said] = 0.9
    return Scores([rows, rows, rows], np.full(len(truth), 0.9))


def test_pooled_groups_reach_a_precision_only_one_of_them_reaches_alone() -> None:
    config = TrainingConfig(target_precision=0.95)
    # three classes, all 20 right; two classes, 18 of 20 right (90 %): together 38 of 40
    truth_a, truth_b = np.arange(20) % 3, np.arange(20) % 2
    a = sure_scores(truth_a, np.ones(20, dtype=bool), 3)
    b = sure_scores(truth_b, np.arange(20) >= 2, 2)
    _, alone, _ = choose(b, truth_b, None, config)
    assert not alone.answers(Evidence.of([b], (0.4, 0.3, 0.3))).any()
    _, pooled, calibration = choose_pooled([a, b], [truth_a, truth_b], None, config)
    assert pooled.answers(Evidence.of([a, b], (0.4, 0.3, 0.3))).all()
    assert calibration.out_of_fold_answered == 1.0
    assert calibration.out_of_fold_accuracy == pytest.approx(38 / 40)


def test_pooled_weights_favour_the_member_right_on_more_rows_of_all_groups() -> None:
    truth_a, truth_b = np.arange(10) % 2, np.arange(30) % 3
    noise = np.full((10, 2), 0.5)
    # group a: member 0 right, member 1 wrong; group b (three times bigger): the other way round
    a = Scores([np.eye(2)[truth_a], np.eye(2)[1 - truth_a], noise], np.ones(10))
    b = Scores(
        [np.eye(3)[(truth_b + 1) % 3], np.eye(3)[truth_b], np.full((30, 3), 1 / 3)], np.ones(30)
    )
    weights = pooled_weights([a, b], [truth_a, truth_b])
    assert weights[1] > weights[0]
    assert pooled_weights([a], [truth_a])[0] > pooled_weights([a], [truth_a])[1]


def test_one_group_chooses_as_before_pooling() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 120)
    members = [rng.dirichlet(np.ones(4), 120) + np.eye(4)[truth] * w for w in (0.5, 0.2, 0.8)]
    known = Scores([m / m.sum(1, keepdims=True) for m in members], rng.uniform(0.3, 1, 120))
    unknown = [Scores([rng.dirichlet(np.ones(4), 30) for _ in range(3)], rng.uniform(0.2, 0.8, 30))]
    weights, rule, calibration = choose_pooled([known], [truth], unknown, TrainingConfig())
    # what choose gave on these scores before it took several groups (commit 38a7c91)
    assert weights == (0.4, 0.2, 0.4)
    assert rule.threshold == pytest.approx(0.3971657300070121, abs=1e-12)
    assert rule.min_similarity == pytest.approx(0.2977373014541333, abs=1e-12)
    assert rule.min_margin == 2.0
    assert (calibration.out_of_fold_answered, calibration.unknown_escalated) == (0.925, 0.7)
    assert repr(choose(known, truth, unknown, TrainingConfig())) == repr(
        (weights, rule, calibration)
    )
