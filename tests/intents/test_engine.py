"""Training the intent model: heads, blend, and a threshold chosen on training data only."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from intents.engine import (
    OOS_LABEL,
    EngineConfig,
    NeighbourHead,
    choose_threshold,
    choose_weights,
    probabilities,
    train,
)

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("classes", [2, 5])
def test_fast_probabilities_match_predict_proba(classes: int) -> None:
    features = RNG.normal(size=(200, 8))
    labels = RNG.integers(0, classes, size=200)
    model = LogisticRegression().fit(features, labels)
    np.testing.assert_allclose(probabilities(model, features[:7]),
                               model.predict_proba(features[:7]), rtol=1e-10, atol=1e-12)


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


def test_the_neighbour_member_scores_each_intent_by_its_closest_example() -> None:
    examples = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    head = NeighbourHead.fit(examples, ["b", "a", "b"], temperature=0.1)
    proba = head.predict_proba(np.array([[0.0, 1.0], [1.0, 0.0]]))
    np.testing.assert_allclose(proba.sum(1), 1)
    assert proba[0, 0] > proba[0, 1]  # "a" (sorted first) holds [0, 1] exactly
    assert proba[1, 1] > proba[1, 0]


def clusters(names: list[str], per: int) -> tuple[list[str], list[str], np.ndarray]:
    """Texts and embeddings with one well-separated cluster per label."""
    centres = {name: RNG.normal(size=16) for name in names}
    texts, labels, rows = [], [], []
    for name in names:
        for i in range(per):
            texts.append(f"{name} example {i}")
            labels.append(name)
            rows.append(centres[name] + RNG.normal(scale=0.3, size=16))
    return texts, labels, np.array(rows)


def test_training_calibrates_on_training_data_and_never_answers_oos() -> None:
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", OOS_LABEL]
    texts, labels, embeddings = clusters(names, 20)
    model = train(texts, labels, embeddings, EngineConfig(folds=4))
    assert model.calibration is not None
    assert model.threshold == max(model.calibration.precision_threshold,
                                  model.calibration.unknown_threshold)
    assert model.calibration.out_of_fold_accuracy is not None
    assert model.calibration.out_of_fold_accuracy > 0.9
    predictions = model.predict(texts, embeddings)
    oos = [p for p, y in zip(predictions, labels, strict=True) if y == OOS_LABEL]
    assert all(p.intent == OOS_LABEL and not p.confident for p in oos)
    known = [p for p, y in zip(predictions, labels, strict=True) if y != OOS_LABEL]
    assert sum(p.confident for p in known) / len(known) > 0.8


def test_too_little_data_falls_back_to_a_fixed_threshold() -> None:
    texts, labels, embeddings = clusters(["a", "b"], 1)
    model = train(texts, labels, embeddings)
    assert model.calibration is None
    assert model.threshold == 0.5
