"""Choosing the answer rule from out-of-fold evidence of known and unknown intents.

- The threshold is never below the lowest out-of-fold confidence that keeps the target
  precision; together with the similarity floor it must escalate the target share of messages
  about *unknown* intents. Of the rules that do both, the one answering the most out-of-fold
  messages at the target precision wins: similarity tells unknown intents apart better than
  confidence does, so it costs fewer answers than raising the threshold alone.
- Below the threshold, a message is still answered when its top intent leads the runner-up by
  a margin: the lowest margin that keeps the target precision out of fold and the unknown
  intents escalated (many small intents spread the probability thin, while the lead stays
  clear: "do I have to pay to post it?" at 0.45 against 0.11).
- The rule is chosen for each escalation target of a grid too: the trade-off curve
  (:mod:`intents.trade_off`), of which the configured target's point is the chosen rule.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from intents.answer_rule import Evidence, Rule
from intents.members import Floats, TrainingConfig
from intents.trade_off import TARGETS, TradeOffPoint, at, sweep

RULE_CANDIDATES = 200  # thresholds tried when choosing the answer rule


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
