"""The tuning objectives' batches and losses: SetFit's pair loss and its batches."""

from __future__ import annotations

import numpy as np
import pytest

from intents.tuning_objectives import intent_grouped, length_bucketed, pair_loss


def test_the_pair_loss_is_zero_when_intents_are_apart_and_a_half_when_collapsed() -> None:
    import torch

    intents = torch.tensor([0, 0, 1, 1])
    apart = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert float(pair_loss(apart, intents)) == pytest.approx(0.0)
    collapsed = torch.tensor([[1.0, 0.0]] * 4)
    # positives exact, negatives off by 1: the two kinds weigh alike, however many of each
    assert float(pair_loss(collapsed, intents)) == pytest.approx(0.5)
    assert float(pair_loss(collapsed, torch.tensor([0, 1, 2, 3]))) == pytest.approx(1.0)


def test_pair_batches_hold_same_intent_pairs_and_every_row_once() -> None:
    y = np.repeat(np.arange(20), 6)
    rng = np.random.default_rng(0)
    batches = intent_grouped(y, 32, rng)
    assert len(batches) == len(length_bucketed([1] * len(y), 32, rng))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(y)))
    for batch in batches:
        assert len(set(y[batch].tolist())) < len(batch)  # some intent twice: a positive pair
