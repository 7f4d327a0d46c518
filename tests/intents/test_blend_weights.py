"""Blend weights: the blend right on the most out-of-fold rows."""

from __future__ import annotations

import numpy as np
import pytest

from intents.blend_weights import choose_weights, pooled_weights
from intents.members import Scores


def test_the_weights_favour_the_more_accurate_member() -> None:
    truth = np.array([0, 1, 0, 1])
    good = np.eye(2)[truth] * 0.8 + 0.1
    bad = np.eye(2)[1 - truth] * 0.8 + 0.1
    weights = choose_weights([bad, good, bad], truth)
    assert sum(weights) == pytest.approx(1)
    assert weights[1] > 0.5
    assert sorted(choose_weights([good, good, good], truth)) == [0.3, 0.3, 0.4]  # most even


def test_pooled_weights_favour_the_member_right_on_more_rows_of_all_groups() -> None:
    truth_a, truth_b = np.arange(10) % 2, np.arange(30) % 3
    noise = np.full((10, 2), 0.5)
    # group a: member 0 right, member 1 wrong; group b (three times bigger): the other way round
    a = Scores([np.eye(2)[truth_a], np.eye(2)[1 - truth_a], noise], np.ones(10))
    b = Scores(
        [np.eye(3)[(truth_b + 1) % 3], np.eye(3)[truth_b], np.full((30, 3), 1 / 3)], np.ones(30)
    )
    weights = pooled_weights([a, b], [truth_a, truth_b])
    assert weights[1] > weights[0]
    assert pooled_weights([a], [truth_a])[0] > pooled_weights([a], [truth_a])[1]
