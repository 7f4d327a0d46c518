"""The tuning objectives' batches and losses (the tune that runs them: :mod:`intents.tuning`).

"proxy": the cosine-softmax head over batches of similar-length texts. "pairs": SetFit's
cosine-similarity loss over every pair of a batch, in batches dealt from runs of ``PAIR_GROUP``
examples of an intent so that each batch holds same-intent pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

WINDOW_BATCHES = 50  # texts are length-sorted within windows of this many batches
PAIR_GROUP = 4  # examples of an intent dealt together into a "pairs" batch (its positives)


def length_bucketed(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Shuffled batches of similar-length texts (half the padding, twice the speed)."""
    order = rng.permutation(len(lengths))
    window = batch_size * WINDOW_BATCHES
    batches: list[NDArray[np.int64]] = []
    for start in range(0, len(order), window):
        part = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [np.array(part[i : i + batch_size]) for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def intent_grouped(
    y: NDArray[np.int64], batch_size: int, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Batches cut from shuffled runs of up to ``PAIR_GROUP`` examples of one intent (each
    intent's rows shuffled first): every batch holds same-intent pairs, and as many batches as
    :func:`length_bucketed` makes."""
    runs: list[NDArray[np.int64]] = []
    for intent in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == intent))
        runs += [rows[i : i + PAIR_GROUP] for i in range(0, len(rows), PAIR_GROUP)]
    flat = np.concatenate([runs[i] for i in rng.permutation(len(runs))])
    return [flat[i : i + batch_size] for i in range(0, len(flat), batch_size)]


def pair_loss(pooled: Any, intents: Any) -> Any:
    """SetFit's objective on a batch: the mean squared gap between each pair's cosine and its
    target (1: same intent, 0: different), the same-intent pairs and the others weighed alike.
    ``pooled`` holds unit rows; ``intents`` their intent numbers."""
    import torch

    similarity = pooled @ pooled.T
    same = intents.unsqueeze(0) == intents.unsqueeze(1)
    positive = same & ~torch.eye(len(intents), dtype=torch.bool)
    error = (similarity - same.to(similarity.dtype)) ** 2
    terms = [error[mask].mean() for mask in (positive, ~same) if bool(mask.any())]
    return torch.stack(terms).mean()


def epoch_batches(
    rows: Sequence[str],
    y: NDArray[np.int64],
    objective: str,
    batch_size: int,
    rng: np.random.Generator,
) -> list[NDArray[np.int64]]:
    """One epoch's batches: of similar length for the proxy head, of runs of an intent's
    examples for the pair loss (which needs same-intent pairs in a batch)."""
    if objective == "pairs":
        return intent_grouped(y, batch_size, rng)
    return length_bucketed([len(t) for t in rows], batch_size, rng)


def batch_loss(
    model: Any, head: Any, tokens: Any, intents: Any, objective: str, scale: float
) -> Any:
    """The ``objective`` on one tokenised batch of examples of intents number ``intents``."""
    import torch

    hidden = model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    if objective == "pairs":
        return pair_loss(pooled, intents)
    proxies = torch.nn.functional.normalize(head.weight, dim=-1)
    return torch.nn.functional.cross_entropy(scale * pooled @ proxies.T, intents)
