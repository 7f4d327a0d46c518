"""The unknown-intent trade-off curve: measured where the rule is chosen, monotone, and the
chosen rule is its point at the configured target."""

from __future__ import annotations

import numpy as np
import pytest

from intents.calibration import Evidence, Rule, calibrate
from intents.members import TrainingConfig
from intents.trade_off import TARGETS, at, sweep
from tests.intents.toy_catalogue import toy_catalogue


@pytest.fixture(scope="module")
def toy() -> tuple[list[str], list[str], np.ndarray]:
    return toy_catalogue(spread=1.1)


def test_the_curve_is_monotone_and_the_chosen_rule_lies_on_it(
    toy: tuple[list[str], list[str], np.ndarray],
) -> None:
    config = TrainingConfig()
    _, rule, calibration = calibrate(toy[0], toy[1], toy[2], config)
    assert calibration is not None
    curve = calibration.trade_off
    assert [p.target for p in curve] == sorted(TARGETS)  # 0.75 is on the grid
    answered = [p.answered for p in curve]
    assert answered == sorted(answered, reverse=True)  # a stricter target never answers more
    assert answered[0] > answered[-1]  # the toy's unknown intents do cost answers
    for point in curve:
        if point.precise(config.target_precision):
            assert point.escalated >= point.target
    chosen = at(curve, config.target_unknown_escalated)
    assert chosen.rule == rule
    assert calibration.unknown_target == config.target_unknown_escalated
    assert (chosen.answered, chosen.escalated) == (
        calibration.out_of_fold_answered,
        calibration.unknown_escalated,
    )


def test_a_target_off_the_grid_gets_its_own_point(
    toy: tuple[list[str], list[str], np.ndarray],
) -> None:
    config = TrainingConfig(target_unknown_escalated=0.73)
    _, rule, calibration = calibrate(toy[0], toy[1], toy[2], config)
    assert calibration is not None
    assert len(calibration.trade_off) == len(TARGETS) + 1
    assert at(calibration.trade_off, 0.73).rule == rule
    with pytest.raises(KeyError):
        at(calibration.trade_off, 0.74)


def test_a_stricter_targets_rule_is_kept_when_it_answers_more_and_stays_precise() -> None:
    known = Evidence(np.linspace(0.4, 1.0, 100), np.full(100, 0.9))
    unknown = Evidence(np.full(20, 0.3), np.full(20, 0.5))  # every rule here keeps them out
    rules = {0.5: Rule(0.9), 1.0: Rule(0.5)}  # the laxer target's own choice dips

    curve = sweep(rules.__getitem__, rules, known, np.ones(100, dtype=bool), unknown, 0.98)
    assert at(curve, 0.5).rule == Rule(0.5)
    assert at(curve, 0.5).answered == at(curve, 1.0).answered

    wrong_below = known.confidence >= 0.9  # Rule(0.5)'s answers miss the precision
    curve = sweep(rules.__getitem__, rules, known, wrong_below, unknown, 0.98)
    assert at(curve, 0.5).rule == Rule(0.9)
    assert at(curve, 1.0).precision == pytest.approx(wrong_below[known.confidence >= 0.5].mean())


def test_without_unknown_rounds_there_is_no_curve() -> None:
    texts, labels, embeddings = toy_catalogue(intents=3, per_intent=10)  # too few to hide
    _, rule, calibration = calibrate(texts, labels, embeddings, TrainingConfig())
    assert calibration is not None
    assert calibration.trade_off == ()
    assert calibration.unknown_escalated is None
    assert rule.threshold >= calibration.precision_threshold
