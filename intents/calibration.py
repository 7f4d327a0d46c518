"""Choosing the blend and the answer rule on the *training* data only, never on evaluation data.

- The blend weights maximise out-of-fold accuracy (k-fold cross-validation).
- A message is answered when its blended confidence reaches a threshold *and* its closest
  training example is similar enough. The threshold is never below the lowest out-of-fold
  confidence that keeps the target precision; together with the similarity floor it must
  escalate the target share of messages about *unknown* intents, simulated by training without
  a group of intents and scoring that group's examples, for each of a few groups. Of the rules
  that do both, the one answering the most out-of-fold messages at the target precision wins:
  similarity tells unknown intents apart better than confidence does, so it costs fewer
  answers than raising the threshold alone.
- Below the threshold, a message is still answered when its top intent leads the runner-up by
  a margin: the lowest margin that keeps the target precision out of fold and the unknown
  intents escalated (many small intents spread the probability thin, while the lead stays
  clear: "do I have to pay to post it?" at 0.45 against 0.11).
- The rule is chosen for each escalation target of a grid too: the trade-off curve
  (:mod:`intents.trade_off`) kept in :class:`Calibration`, of which the configured target's
  point is the chosen rule.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from intents.held_out import Progress as Progress
from intents.held_out import out_of_fold as out_of_fold
from intents.held_out import unknown_scores as unknown_scores
from intents.members import Floats, Scores, TrainingConfig, blend
from intents.trade_off import TARGETS, TradeOffPoint, at, sweep

WEIGHT_STEPS = 10  # blend weights are multiples of 1/10 summing to 1
FALLBACK_THRESHOLD = 0.5  # when the data is too small to cross-validate
FALLBACK_WEIGHTS = (0.4, 0.3, 0.3)
MIN_CALIBRATED_EXAMPLES = 2  # an intent with fewer is left out of the choice of the rule
NO_SIMILARITY_FLOOR = -1.0  # the lowest cosine similarity: every message passes
NO_MARGIN = 2.0  # above any lead a probability can have: the margin never answers alone
RULE_CANDIDATES = 200  # thresholds tried when choosing the answer rule


@dataclass(frozen=True)
class Evidence:
    """Blended top confidence, nearest-example similarity and (when known) the lead of the top
    intent over the runner-up of some scored messages."""

    confidence: Floats
    nearest: Floats
    margin: Floats | None = None

    @classmethod
    def of(cls, scores: Sequence[Scores], weights: Sequence[float]) -> Evidence:
        """Blend each of ``scores`` with ``weights`` and put the results together."""
        parts = [cls.of_rows(blend(s.members, weights), s.nearest) for s in scores]
        return cls(
            np.concatenate([p.confidence for p in parts]),
            np.concatenate([p.nearest for p in parts]),
            np.concatenate([p.margin for p in parts if p.margin is not None]),
        )

    @classmethod
    def of_rows(cls, rows: Floats, nearest: Floats) -> Evidence:
        """The evidence of blended probability ``rows`` (one per message)."""
        ordered = np.sort(rows, axis=1)
        second = ordered[:, -2] if rows.shape[1] > 1 else np.zeros(len(rows))
        return cls(ordered[:, -1], nearest, ordered[:, -1] - second)


@dataclass(frozen=True)
class Rule:
    """Answer when the nearest similarity >= ``min_similarity`` and either the confidence >=
    ``threshold`` or the top intent leads the runner-up by ``min_margin`` (with many intents,
    a clear lead is sure evidence even when the probability is spread thin)."""

    threshold: float
    min_similarity: float = NO_SIMILARITY_FLOOR
    min_margin: float = NO_MARGIN

    def answers(self, evidence: Evidence) -> NDArray[np.bool_]:
        """Which of the messages this rule answers."""
        sure = evidence.confidence >= self.threshold
        if evidence.margin is not None:
            sure = sure | (evidence.margin >= self.min_margin)
        return sure & (evidence.nearest >= self.min_similarity)


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


def weight_grid(members: int) -> list[tuple[float, ...]]:
    """Every blend of ``members`` weights in steps of 1/``WEIGHT_STEPS`` summing to 1."""
    grid = [
        steps
        for steps in itertools.product(range(WEIGHT_STEPS + 1), repeat=members)
        if sum(steps) == WEIGHT_STEPS
    ]
    return [tuple(step / WEIGHT_STEPS for step in steps) for steps in grid]


def choose_weights(members: Sequence[Floats], truth: NDArray[np.int64]) -> tuple[float, ...]:
    """The blend with the best out-of-fold accuracy (ties: the more even blend)."""
    return pooled_weights([Scores(list(members), np.zeros(len(truth)))], [truth])


def pooled_weights(
    groups: Sequence[Scores], truths: Sequence[NDArray[np.int64]]
) -> tuple[float, ...]:
    """The blend right on the most rows of all ``groups`` together (each group's members over
    its own classes, ``truths`` their label indices; ties: the more even blend)."""
    count = len(groups[0].members)
    even = 1 / count

    def score(weights: tuple[float, ...]) -> tuple[int, float]:
        hits = sum(
            int((blend(g.members, weights).argmax(1) == t).sum())
            for g, t in zip(groups, truths, strict=True)
        )
        return hits, -sum((w - even) ** 2 for w in weights)

    return max(weight_grid(count), key=score)


def choose_threshold(confidence: Floats, correct: NDArray[np.bool_], target: float) -> float:
    """The lowest confidence whose answers (confidence >= it) reach ``target`` precision."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    reaching = np.flatnonzero(precision >= target)
    if len(reaching) == 0:
        return 1.0
    return float(confidence[order][reaching.max()])


def escalating_rule(threshold: float, unknown: Evidence, target: float) -> Rule:
    """``threshold`` with the lowest similarity floor that escalates ``target`` of ``unknown``."""
    passing = np.sort(unknown.nearest[unknown.confidence >= threshold])
    still_needed = math.ceil(target * len(unknown.nearest)) - (len(unknown.nearest) - len(passing))
    if still_needed <= 0:
        return Rule(threshold)
    # escalate the least similar of those the threshold lets through
    return Rule(threshold, float(np.nextafter(passing[still_needed - 1], np.inf)))


def choose_rule(
    known: Evidence,
    correct: NDArray[np.bool_],
    unknown: Evidence | None,
    lowest: float,
    config: TrainingConfig,
) -> Rule:
    """The rule answering the most ``known`` rows at the target precision (out of fold) while
    escalating the target share of ``unknown`` ones, with no threshold below ``lowest``."""
    if unknown is None:
        return Rule(lowest)
    above = unknown.confidence[unknown.confidence > lowest]
    candidates = np.unique(
        np.concatenate(
            [[lowest], np.quantile(above, np.linspace(0, 1, RULE_CANDIDATES)) if len(above) else []]
        )
    )
    best: tuple[int, Rule] | None = None
    for threshold in candidates:
        rule = escalating_rule(float(threshold), unknown, config.target_unknown_escalated)
        answered = rule.answers(known)
        if answered.any() and correct[answered].mean() < config.target_precision:
            continue
        if best is None or answered.sum() > best[0]:
            best = (int(answered.sum()), rule)
    if best is None:  # no rule keeps the precision: the strictest one
        return escalating_rule(float(candidates.max()), unknown, config.target_unknown_escalated)
    return best[1]


def widen_by_margin(
    rule: Rule,
    known: Evidence,
    correct: NDArray[np.bool_],
    unknown: Evidence | None,
    config: TrainingConfig,
) -> Rule:
    """``rule`` also answering messages whose top intent leads by the lowest margin that keeps
    the target precision out of fold and still escalates the target share of unknown-intent
    messages; ``rule`` itself when no margin does."""
    assert known.margin is not None
    left = known.margin[~rule.answers(known)]
    if len(left) == 0:
        return rule
    for margin in np.unique(np.quantile(left, np.linspace(0, 1, RULE_CANDIDATES))):
        widened = replace(rule, min_margin=float(margin))
        answered = widened.answers(known)
        if correct[answered].mean() < config.target_precision:
            continue
        if unknown is not None and (
            (~widened.answers(unknown)).mean() < config.target_unknown_escalated
        ):
            continue
        return widened  # the lowest margin that passes answers the most
    return rule


def rule_for_each_target(
    known: Evidence,
    correct: NDArray[np.bool_],
    unknown: Evidence | None,
    lowest: float,
    config: TrainingConfig,
) -> tuple[Rule, tuple[TradeOffPoint, ...]]:
    """The rule for the configured escalation target and the trade-off curve it lies on."""

    def choose_for(target: float) -> Rule:
        at_target = replace(config, target_unknown_escalated=target)
        rule = choose_rule(known, correct, unknown, lowest, at_target)
        return widen_by_margin(rule, known, correct, unknown, at_target)

    target = config.target_unknown_escalated
    if unknown is None:
        return choose_for(target), ()
    curve = sweep(choose_for, (*TARGETS, target), known, correct, unknown, config.target_precision)
    return at(curve, target).rule, curve


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
    correct = np.concatenate(
        [
            blend(group.members, weights).argmax(axis=1) == truth
            for group, truth in zip(known, truths, strict=True)
        ]
    )
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
