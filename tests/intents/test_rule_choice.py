"""Choosing the answer rule: precision kept, unknown intents escalated, the most answered."""

from __future__ import annotations

import numpy as np
import pytest

from intents.answer_rule import NO_SIMILARITY_FLOOR, Evidence, Rule
from intents.members import TrainingConfig
from intents.rule_choice import choose_rule, choose_threshold, escalating_rule, widen_by_margin


def test_the_threshold_is_the_lowest_reaching_the_target_precision() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])
    assert choose_threshold(confidence, correct, 0.75) == 0.7  # 4 of the top 5 are right
    assert choose_threshold(confidence, correct, 1.0) == 0.9
    assert choose_threshold(confidence, ~correct, 0.9) == 1.0  # unreachable: answer nothing


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
