"""The trained intent model: members (:mod:`intents.members`), their blend weights and the
answer rule, both chosen on the training data alone (:mod:`intents.calibration`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.contracts import Prediction
from intents.calibration import Calibration, Evidence, Progress, Rule, calibrate
from intents.members import Floats, Members, TrainingConfig, blend

RANKING_SIZE = 5
OOS_LABEL = "oos"  # a training label meaning "no intent": always escalated


@dataclass
class IntentModel:
    """A trained model: members, blend weights, answer rule. Picklable, read-only once trained."""

    members: Members
    labels: list[str]
    weights: tuple[float, ...]
    rule: Rule
    calibration: Calibration | None = None

    def predict(self, texts: Sequence[str], embeddings: Floats) -> list[Prediction]:
        """One :class:`Prediction` per text."""
        scores = self.members.scores(texts, embeddings)
        rows = blend(scores.members, self.weights)
        answers = self.rule.answers(Evidence.of_rows(rows, scores.nearest))
        return [
            self.prediction(row, bool(answer)) for row, answer in zip(rows, answers, strict=True)
        ]

    def prediction(self, row: Floats, answerable: bool) -> Prediction:
        """The prediction for one row of blended probabilities."""
        order = np.argsort(row)[::-1][:RANKING_SIZE]
        ranking = tuple((self.labels[i], float(row[i])) for i in order)
        intent, confidence = ranking[0]
        return Prediction(
            intent=intent,
            confidence=confidence,
            confident=answerable and intent != OOS_LABEL,
            ranking=ranking,
        )


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    embeddings: Floats,
    config: TrainingConfig | None = None,
    progress: Progress | None = None,
) -> IntentModel:
    """Choose weights and answer rule on the training data, then fit on all rows."""
    config = config or TrainingConfig()
    weights, rule, calibration = calibrate(texts, labels, embeddings, config, progress)
    if progress:
        progress("fitting on all training rows")
    members = Members.fit(texts, embeddings, labels, config)
    classes = [str(c) for c in np.unique(np.asarray(labels))]
    return IntentModel(
        members=members, labels=classes, weights=weights, rule=rule, calibration=calibration
    )
