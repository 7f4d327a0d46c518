"""The unknown-intent trade-off: how many in-scope messages the answer rule answers for each
share of unknown-intent messages it must keep out (UNKNOWN_ESCALATION_TARGET), measured where
the rule is chosen: out of fold on the training data, for the chosen blend weights.

A rule chosen for a stricter target also meets a laxer one, so the rule for a target is the
best of its own choice and of every stricter target's on the grid: raising the target never
answers more (the chooser samples thresholds, so its own choices alone could dip).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from intents.answer_rule import Evidence, Rule

TARGET_STEP = 0.025
# the targets the curve is drawn at: 0, 2.5 %, ..., 100 % (the configured one is added)
TARGETS = tuple(round(step * TARGET_STEP, 3) for step in range(round(1 / TARGET_STEP) + 1))


@dataclass(frozen=True)
class TradeOffPoint:
    """The rule chosen for one escalation target and what it does out of fold."""

    target: float  # the share of unknown-intent messages the rule had to escalate
    rule: Rule
    answered: float  # share of known-intent rows answered
    escalated: float  # share of unknown-intent rows escalated (kept out)
    precision: float | None  # of the answered known rows (None: nothing answered)

    def precise(self, target_precision: float) -> bool:
        """Whether the answers keep ``target_precision`` (answering nothing does)."""
        return self.precision is None or self.precision >= target_precision


def measure(
    target: float, rule: Rule, known: Evidence, correct: NDArray[np.bool_], unknown: Evidence
) -> TradeOffPoint:
    """What ``rule`` (chosen for ``target``) answers of ``known`` and keeps out of ``unknown``."""
    answered = rule.answers(known)
    return TradeOffPoint(
        target=target,
        rule=rule,
        answered=float(answered.mean()),
        escalated=float((~rule.answers(unknown)).mean()),
        precision=float(correct[answered].mean()) if answered.any() else None,
    )


def sweep(
    choose_for: Callable[[float], Rule],
    targets: Iterable[float],
    known: Evidence,
    correct: NDArray[np.bool_],
    unknown: Evidence,
    target_precision: float,
) -> tuple[TradeOffPoint, ...]:
    """The curve over ``targets`` (ascending), each point the better of ``choose_for(target)``
    and the point of the next stricter target, which meets this target too."""
    points: list[TradeOffPoint] = []
    stricter: TradeOffPoint | None = None
    for target in sorted(set(targets), reverse=True):
        point = measure(target, choose_for(target), known, correct, unknown)
        if (
            stricter is not None
            and stricter.precise(target_precision)
            and (not point.precise(target_precision) or stricter.answered > point.answered)
        ):
            point = replace(stricter, target=target)
        points.append(point)
        stricter = point
    return tuple(reversed(points))


def at(points: Sequence[TradeOffPoint], target: float) -> TradeOffPoint:
    """The point of the curve chosen for ``target`` (KeyError: the curve has none)."""
    for point in points:
        if math.isclose(point.target, target, abs_tol=1e-9):
            return point
    raise KeyError(f"no trade-off point at target {target}")
