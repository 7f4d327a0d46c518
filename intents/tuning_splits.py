"""Which rows the calibration tunes of a tuned build fit on, are judged on, and never see.

The tuned encoder cannot be judged on rows it was trained on, so the blend weights and answer
rule of :mod:`intents.tuned_model` come from *calibration* tunes, each without some rows of the
intents it knows (judged as known) and without a group of intents (judged as unknown). A big
catalogue holds out enough rows in one such tune (:func:`holdout_split`); a small one gets
several, cross-fitted (:func:`crossfit_splits`), so the rule is judged on many rows, not on a
handful.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from intents.members import TrainingConfig
from intents.tuning import TuningConfig

MIN_HELD_ROWS = 3  # an intent needs this many examples to lend some to the held-out part
# one calibration tune holding out at least this many known rows judges the rule well enough;
# under it, ``TuningConfig.calibration_tunes`` cross-fitted tunes
CROSS_FIT_BELOW = 1000


@dataclass(frozen=True)
class Holdout:
    """Row numbers of a calibration split: what the calibration tune and members fit on, the
    known intents' rows they are judged on, and the rows of the intents hidden from both."""

    fit: NDArray[np.int64]
    held: NDArray[np.int64]
    unknown: NDArray[np.int64]


def _shuffled_intents(
    y: NDArray[np.str_], training: TrainingConfig, rng: np.random.Generator
) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    """The out-of-scope intents (hidden in every round) and the others, shuffled."""
    classes = np.unique(y)
    always = classes[np.isin(classes, training.out_of_scope)]
    return always, rng.permutation(classes[~np.isin(classes, always)])


def holdout_split(
    labels: Sequence[str], tuning: TuningConfig, training: TrainingConfig
) -> Holdout | None:
    """A seeded split: a quarter of the intents (and every out-of-scope one) hidden, and
    ``tuning.holdout`` of each other intent's rows held out; an intent with fewer than
    ``MIN_HELD_ROWS`` examples stays whole in the fit part. None when nothing could be judged
    (no row held out, or fewer than two known intents)."""
    y = np.asarray(labels)
    rng = np.random.default_rng(tuning.seed)
    always, others = _shuffled_intents(y, training, rng)
    hidden = np.concatenate([others[: len(others) // 4], always])
    fit: list[int] = []
    held: list[int] = []
    for intent in others[len(others) // 4 :]:
        rows = rng.permutation(np.flatnonzero(y == intent))
        count = min(round(tuning.holdout * len(rows)), len(rows) - 2)
        count = count if len(rows) >= MIN_HELD_ROWS else 0
        held += rows[:count].tolist()
        fit += rows[count:].tolist()
    if not held or len(others) - len(others) // 4 < 2:
        return None
    return Holdout(
        np.sort(np.array(fit)), np.sort(np.array(held)), np.flatnonzero(np.isin(y, hidden))
    )


def row_folds(y: NDArray[np.str_], intents: Sequence[str], k: int, seed: int) -> NDArray[np.int64]:
    """Each row's fold in ``0..k-1``, stratified: an intent's rows dealt round the folds in a
    seeded order, starting where the previous intent stopped so the folds stay even; -1 for the
    rows of an intent under ``MIN_HELD_ROWS`` examples (never held) and of intents not listed."""
    rng = np.random.default_rng(seed)
    folds = np.full(len(y), -1, dtype=np.int64)
    start = 0
    for intent in intents:
        rows = rng.permutation(np.flatnonzero(y == intent))
        if len(rows) < MIN_HELD_ROWS:
            continue
        folds[rows] = (start + np.arange(len(rows))) % k
        start += len(rows)
    return folds


def crossfit_splits(
    labels: Sequence[str], tuning: TuningConfig, training: TrainingConfig, k: int
) -> list[Holdout] | None:
    """``k`` calibration splits: the intents (but the out-of-scope ones, hidden in every round)
    dealt into ``k`` groups and their rows into ``k`` stratified folds; round j hides group j
    and holds out fold j of the other intents' rows. Each intent is hidden in one round; each
    row is held out as known once, unless it falls in the fold of the round hiding its intent
    (then it is judged only as unknown). None when a round would judge nothing (no row held
    out, fewer intents than rounds, or fewer than two known ones)."""
    y = np.asarray(labels)
    always, others = _shuffled_intents(y, training, np.random.default_rng(tuning.seed))
    groups = np.array_split(others, k)
    if len(others) < k or len(others) - max(len(g) for g in groups) < 2:
        return None
    folds = row_folds(y, [str(i) for i in others], k, tuning.seed)
    splits = []
    for round_, group in enumerate(groups):
        unknown = np.isin(y, np.concatenate([group, always]))
        held = (folds == round_) & ~unknown
        if not held.any():
            return None
        fit = ~unknown & ~held
        splits.append(Holdout(np.flatnonzero(fit), np.flatnonzero(held), np.flatnonzero(unknown)))
    return splits


def calibration_splits(
    labels: Sequence[str], tuning: TuningConfig, training: TrainingConfig
) -> list[Holdout]:
    """The splits of the calibration tunes: one (:func:`holdout_split`) when it holds out at
    least ``CROSS_FIT_BELOW`` known rows or ``tuning.calibration_tunes`` is 1, else that many
    cross-fitted ones (the single split when they cannot be made); empty when nothing could be
    judged."""
    single = holdout_split(labels, tuning, training)
    if tuning.calibration_tunes > 1 and (single is None or len(single.held) < CROSS_FIT_BELOW):
        several = crossfit_splits(labels, tuning, training, tuning.calibration_tunes)
        if several is not None:
            return several
    return [] if single is None else [single]
