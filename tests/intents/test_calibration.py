"""Choosing blend weights and the answer rule from training data alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from intents.answer_rule import Evidence
from intents.calibration import choose, choose_pooled, unknown_scores
from intents.members import Scores, TrainingConfig


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
