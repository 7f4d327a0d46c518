"""Scores of training rows by members that never saw them: out of fold for known intents, and
for "unknown" intents hidden from training a group at a time. :mod:`intents.calibration`
chooses the blend and the answer rule on them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold

from intents.members import Floats, Members, Scores, TrainingConfig

Progress = Callable[[str], None]


def out_of_fold(
    texts: Sequence[str],
    embeddings: Floats,
    labels: Sequence[str],
    config: TrainingConfig,
    progress: Progress | None = None,
) -> Scores | None:
    """The members' out-of-fold scores over the training rows (None: too few rows)."""
    y = np.asarray(labels)
    folds = min(config.folds, int(np.unique(y, return_counts=True)[1].min()))
    if folds < 2:
        return None
    members: list[Floats] | None = None
    nearest = np.zeros(len(y))
    text_array = np.asarray(texts, dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for number, (fit, held) in enumerate(splitter.split(text_array, y), start=1):
        if progress:
            progress(f"cross-validation fold {number}/{folds}")
        fitted = Members.fit(text_array[fit], embeddings[fit], y[fit], config)
        fold = fitted.scores(text_array[held], embeddings[held])
        if members is None:
            members = [np.zeros((len(y), p.shape[1])) for p in fold.members]
        for oof, part in zip(members, fold.members, strict=True):
            oof[held] = part
        nearest[held] = fold.nearest
    assert members is not None  # at least two folds ran
    return Scores(members=members, nearest=nearest)


def unknown_scores(
    texts: Sequence[str],
    embeddings: Floats,
    labels: Sequence[str],
    config: TrainingConfig,
    progress: Progress | None = None,
) -> list[Scores] | None:
    """How examples of intents hidden from training score, one round per group of hidden
    intents (each round's members know different intents, so rounds blend separately; None:
    too few intents)."""
    y = np.asarray(labels)
    classes = np.unique(y)
    always = classes[np.isin(classes, config.out_of_scope)]  # hidden in every round
    others = classes[~np.isin(classes, always)]
    groups = min(config.unknown_groups, len(others) // 2)
    if groups < 2:
        return None
    shuffled = np.random.default_rng(config.seed).permutation(others)
    text_array = np.asarray(texts, dtype=object)
    parts = []
    for number, group in enumerate(np.array_split(shuffled, groups), start=1):
        if progress:
            progress(f"unknown-intent simulation {number}/{groups}")
        unseen = np.isin(y, np.concatenate([group, always]))
        fitted = Members.fit(text_array[~unseen], embeddings[~unseen], y[~unseen], config)
        parts.append(fitted.scores(text_array[unseen], embeddings[unseen]))
    return parts
