"""The blend weights of the three members: those right on the most out-of-fold rows."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from intents.members import Floats, Scores, blend

WEIGHT_STEPS = 10  # blend weights are multiples of 1/10 summing to 1


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
