"""The splits of a tuned build's calibration tunes: one for a big catalogue, cross-fitted ones
for a small one."""

from __future__ import annotations

from collections import Counter

import numpy as np

from intents.members import TrainingConfig
from intents.tuning import TuningConfig
from intents.tuning_splits import (
    CROSS_FIT_BELOW,
    calibration_splits,
    crossfit_splits,
    holdout_split,
)

# eight intents of ten examples, out-of-scope examples and an intent too small to lend any
LABELS = [f"intent_{n}" for n in range(8) for _ in range(10)] + ["out_of_scope"] * 5
LABELS += ["lonely"] * 2


def test_the_split_hides_a_quarter_of_the_intents_and_every_out_of_scope_one() -> None:
    labels = LABELS
    split = holdout_split(labels, TuningConfig(), TrainingConfig())
    assert split is not None
    y = np.asarray(labels)
    assert "out_of_scope" in set(y[split.unknown])
    assert len(set(y[split.unknown])) == 1 + 9 // 4
    assert not set(split.fit) & set(split.held)
    assert not set(split.fit) & set(split.unknown)
    assert len(split.fit) + len(split.held) + len(split.unknown) == len(labels)
    assert set(y[split.held]) <= set(y[split.fit])  # every judged intent was seen
    for intent in set(y[split.held]):
        assert (y[split.held] == intent).sum() == 2  # 20 % of 10
    if "lonely" not in set(y[split.unknown]):
        assert (y[split.fit] == "lonely").sum() == 2  # too few to lend any


def test_a_catalogue_too_small_to_hold_out_gives_no_split() -> None:
    assert holdout_split(["a", "b", "c"], TuningConfig(), TrainingConfig()) is None
    assert (
        holdout_split(
            ["a"] * 5 + ["oos"] * 5, TuningConfig(), TrainingConfig(out_of_scope=("oos",))
        )
        is None
    )


def test_cross_fitted_rounds_hold_every_known_row_once_and_hide_each_intent_once() -> None:
    splits = crossfit_splits(LABELS, TuningConfig(), TrainingConfig(), 3)
    assert splits is not None
    assert len(splits) == 3
    y = np.asarray(LABELS)
    hidden = [set(y[s.unknown]) - {"out_of_scope"} for s in splits]
    assert all("out_of_scope" in set(y[s.unknown]) for s in splits)
    assert sum(len(h) for h in hidden) == len(set().union(*hidden)) == 9  # disjoint, all
    held = Counter(row for s in splits for row in s.held.tolist())
    assert max(held.values()) == 1  # no row held out twice
    for split, unseen in zip(splits, hidden, strict=True):
        everything = np.concatenate([split.fit, split.held, split.unknown])
        assert sorted(everything.tolist()) == list(range(len(LABELS)))  # a partition
        assert set(y[split.held]) <= set(y[split.fit])  # every judged intent was seen
        assert not set(y[split.fit]) & unseen
    assert not set(np.flatnonzero(y == "lonely")) & set(held)  # too few to lend any
    # all an intent's rows but those dealt to the fold of the round hiding it (a third at most)
    per_intent = Counter(str(y[row]) for row in held)
    assert all(per_intent[f"intent_{n}"] >= 10 - 4 for n in range(8))
    assert len(held) >= 8 * 10 * 2 // 3


def test_a_small_catalogue_gets_the_configured_tunes_and_a_big_one_a_single_split() -> None:
    small = calibration_splits(LABELS, TuningConfig(), TrainingConfig())
    assert len(small) == TuningConfig().calibration_tunes
    assert len(calibration_splits(LABELS, TuningConfig(calibration_tunes=1), TrainingConfig())) == 1
    big = [f"intent_{n}" for n in range(40) for _ in range(200)]
    single = holdout_split(big, TuningConfig(), TrainingConfig())
    assert single is not None
    assert len(single.held) >= CROSS_FIT_BELOW
    (chosen,) = calibration_splits(big, TuningConfig(), TrainingConfig())
    assert np.array_equal(chosen.held, single.held)


def test_a_tiny_catalogue_falls_back_as_before() -> None:
    assert calibration_splits(["a", "b", "c"], TuningConfig(), TrainingConfig()) == []
    assert crossfit_splits(["a"] * 5 + ["b"] * 5, TuningConfig(), TrainingConfig(), 2) is None
    # three intents cannot be dealt into four groups: the single split
    labels = ["a"] * 5 + ["b"] * 5 + ["c"] * 5
    four = TuningConfig(calibration_tunes=4)
    assert crossfit_splits(labels, four, TrainingConfig(), 4) is None
    single = holdout_split(labels, four, TrainingConfig())
    assert single is not None
    (chosen,) = calibration_splits(labels, four, TrainingConfig())
    assert np.array_equal(chosen.held, single.held)
