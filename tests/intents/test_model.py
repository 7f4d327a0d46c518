"""Training the intent model: members, blend and answer rule chosen on training data only."""

from __future__ import annotations

import numpy as np

from intents.calibration import Rule
from intents.members import TrainingConfig
from intents.model import OOS_LABEL, train

RNG = np.random.default_rng(0)


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
    model = train(texts, labels, embeddings, TrainingConfig(folds=4))
    assert model.calibration is not None
    assert model.rule.threshold >= model.calibration.precision_threshold
    assert model.calibration.out_of_fold_accuracy > 0.9
    assert model.calibration.unknown_escalated is not None
    assert model.calibration.unknown_escalated >= TrainingConfig().target_unknown_escalated
    predictions = model.predict(texts, embeddings)
    oos = [p for p, y in zip(predictions, labels, strict=True) if y == OOS_LABEL]
    assert all(p.intent == OOS_LABEL and not p.confident for p in oos)
    known = [p for p, y in zip(predictions, labels, strict=True) if y != OOS_LABEL]
    assert sum(p.confident for p in known) / len(known) > 0.8


def test_too_little_data_falls_back_to_a_fixed_threshold() -> None:
    texts, labels, embeddings = clusters(["a", "b"], 1)
    model = train(texts, labels, embeddings)
    assert model.calibration is None
    assert model.rule == Rule(0.5)


def test_an_intent_of_one_example_leaves_the_others_calibrated() -> None:
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    texts, labels, embeddings = clusters(names, 20)
    lone_text, lone_label, lone_row = clusters(["iota"], 1)
    model = train(
        texts + lone_text,
        labels + lone_label,
        np.vstack([embeddings, lone_row]),
        TrainingConfig(folds=4),
    )
    assert model.calibration is not None
    assert "iota" in model.labels
    assert model.rule.threshold >= model.calibration.precision_threshold
