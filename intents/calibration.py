"""Choosing the blend and the answer rule on the *training* data only, never on evaluation data.

- The blend weights maximise out-of-fold accuracy (k-fold cross-validation):
  :mod:`intents.blend_weights`.
- A message is answered when its blended confidence reaches a threshold *and* its closest
  training example is similar enough, or when its top intent leads the runner-up by a margin
  (:mod:`intents.answer_rule`). The rule keeps the target precision out of fold and escalates
  the target share of messages about *unknown* intents, simulated by training without a group
  of intents and scoring that group's examples, for each of a few groups
  (:mod:`intents.held_out`); how it is chosen is :mod:`intents.rule_choice`.
- The rule is chosen for each escalation target of a grid too: the trade-off curve
  (:mod:`intents.trade_off`) kept in :class:`Calibration`, of which the configured target's
  point is the chosen rule.

The names of those modules are importable from here too, where their callers first found them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from intents.answer_rule import NO_MARGIN as NO_MARGIN
from intents.answer_rule import NO_SIMILARITY_FLOOR as NO_SIMILARITY_FLOOR
from intents.answer_rule import Evidence as Evidence
from intents.answer_rule import Rule as Rule
from intents.blend_weights import WEIGHT_STEPS as WEIGHT_STEPS
from intents.blend_weights import choose_weights as choose_weights
from intents.blend_weights import pooled_weights as pooled_weights
from intents.blend_weights import weight_grid as weight_grid
from intents.held_out import Progress as Progress
from intents.held_out import out_of_fold as out_of_fold
from intents.held_out import unknown_scores as unknown_scores
from intents.members import Floats, Scores, TrainingConfig, blend
from intents.rule_choice import RULE_CANDIDATES as RULE_CANDIDATES
from intents.rule_choice import choose_rule as choose_rule
from intents.rule_choice import choose_threshold as choose_threshold
from intents.rule_choice import escalating_rule as escalating_rule
from intents.rule_choice import rule_for_each_target as rule_for_each_target
from intents.rule_choice import widen_by_margin as widen_by_margin
from intents.trade_off import TradeOffPoint

FALLBACK_THRESHOLD = 0.5  # when the data is too small to cross-validate
FALLBACK_WEIGHTS = (0.4, 0.3, 0.3)
MIN_CALIBRATED_EXAMPLES = 2  # an intent with fewer is left out of the choice of the rule


@dataclass(frozen=True)
class Calibration:
    """How the rule was chosen, as measured on the training data."""

    precision_threshold: float
    out_of_fold_accuracy: float
    out_of_fold_answered: float
    unknown_escalated: float | None
    unknown_target: float | None = None  # the escalation target the rule was chosen for
    # the rule chosen for each target and what it does out of fold (empty: no unknown rounds)
    trade_off: tuple[TradeOffPoint, ...] = ()


def choose(
    known: Scores,
    truth: NDArray[np.int64],
    unknown: Sequence[Scores] | None,
    config: TrainingConfig,
) -> tuple[tuple[float, ...], Rule, Calibration]:
    """Blend weights and answer rule from held-out scores of known intents (``truth``: their
    label indices) and of unknown ones."""
    return choose_pooled([known], [truth], unknown, config)


def choose_pooled(
    known: Sequence[Scores],
    truths: Sequence[NDArray[np.int64]],
    unknown: Sequence[Scores] | None,
    config: TrainingConfig,
) -> tuple[tuple[float, ...], Rule, Calibration]:
    """:func:`choose` over several groups of held-out scores of known intents, each from
    members over their own classes (``truths``: label indices in each group's classes): the
    groups are blended apart and their evidence judged together."""
    weights = pooled_weights(known, truths)
    evidence = Evidence.of(known, weights)
    correct = _right(known, truths, weights)
    lowest = choose_threshold(evidence.confidence, correct, config.target_precision)
    unknown_evidence = None if unknown is None else Evidence.of(unknown, weights)
    rule, curve = rule_for_each_target(evidence, correct, unknown_evidence, lowest, config)
    calibration = Calibration(
        precision_threshold=lowest,
        out_of_fold_accuracy=float(correct.mean()),
        out_of_fold_answered=float(rule.answers(evidence).mean()),
        unknown_escalated=(
            None if unknown_evidence is None else float((~rule.answers(unknown_evidence)).mean())
        ),
        unknown_target=config.target_unknown_escalated,
        trade_off=curve,
    )
    return weights, rule, calibration


def _right(
    groups: Sequence[Scores], truths: Sequence[NDArray[np.int64]], weights: Sequence[float]
) -> NDArray[np.bool_]:
    """Whether the blend's top intent is the true one, for every row of every group in turn."""
    return np.concatenate(
        [
            blend(group.members, weights).argmax(axis=1) == truth
            for group, truth in zip(groups, truths, strict=True)
        ]
    )


def calibrate(
    texts: Sequence[str],
    labels: Sequence[str],
    embeddings: Floats,
    config: TrainingConfig,
    progress: Progress | None = None,
) -> tuple[tuple[float, ...], Rule, Calibration | None]:
    """Blend weights, answer rule and how they were found, from the training data alone.

    Intents of a single example cannot be cross-validated: they are left out of the choice
    (which the others' examples still make) rather than leaving every intent uncalibrated.
    """
    y = np.asarray(labels)
    names, counts = np.unique(y, return_counts=True)
    several = np.isin(y, names[counts >= MIN_CALIBRATED_EXAMPLES])
    rows, kept = list(np.asarray(texts, dtype=object)[several]), [str(v) for v in y[several]]
    embedded = embeddings[several]
    classes = sorted(set(kept))
    truth = np.searchsorted(classes, np.asarray(kept))
    scores = out_of_fold(rows, embedded, kept, config, progress) if len(classes) > 1 else None
    if scores is None:
        return FALLBACK_WEIGHTS, Rule(FALLBACK_THRESHOLD), None
    unknown = unknown_scores(rows, embedded, kept, config, progress)
    return choose(scores, truth, unknown, config)
