"""omnibot eval's numbers with out-of-scope rows: an escalated ``oos`` row is right."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.contracts import Prediction
from intents.calibration import Rule
from intents.classifier import BatchedClassifier
from intents.evaluate import EvalResult, evaluate, score
from intents.report import write_report
from omnibot.engine import Intents

TIMINGS = [1.0, 2.0]


def issue_rows() -> tuple[list[Prediction], list[str]]:
    """400 known-intent rows (398 with the right top intent; 390 of those answered, 8 escalated;
    the 2 wrong ones answered) and 200 ``oos`` rows (190 escalated, 10 answered as refunds)."""
    predictions = (
        [Prediction("refund", 0.9, True)] * 390
        + [Prediction("refund", 0.3, False)] * 8
        + [Prediction("delivery", 0.8, True)] * 2
        + [Prediction("refund", 0.2, False)] * 190
        + [Prediction("refund", 0.7, True)] * 10
    )
    return predictions, ["refund"] * 400 + ["oos"] * 200


def scored(predictions: list[Prediction], labels: list[str]) -> EvalResult:
    return score(predictions, labels, TIMINGS, Rule(0.5), (1.0,))


def test_oos_rows_kept_out_count_right_and_known_rows_are_scored_apart() -> None:
    result = scored(*issue_rows())
    assert (result.test_rows, result.in_scope_rows, result.oos_rows) == (600, 400, 200)
    assert result.accuracy == pytest.approx(398 / 400)  # not 398 / 600: oos rows are not misses
    assert result.in_scope_accuracy == pytest.approx(390 / 400)  # escalations count wrong
    assert result.oos_recall == pytest.approx(190 / 200)
    assert result.overall_accuracy == pytest.approx((390 + 190) / 600)
    assert result.answered_share == pytest.approx((390 + 2 + 10) / 600)  # oos rows included
    assert result.answered_precision == pytest.approx(390 / 402)  # an answered oos row is wrong


def test_without_oos_rows_the_known_numbers_stay_as_they_were() -> None:
    predictions = [Prediction("a", 0.9, True), Prediction("b", 0.4, False)]
    result = scored(predictions, ["a", "a"])
    assert result.accuracy == 0.5
    assert result.oos_recall is None
    assert result.in_scope_accuracy == result.overall_accuracy == 0.5
    assert result.oos_rows == 0


def test_misclassified_rows_leave_out_escalated_oos_rows(tmp_path: Path) -> None:
    predictions, labels = issue_rows()
    texts = [f"row {i}" for i in range(len(labels))]
    write_report(tmp_path, texts, labels, predictions, scored(predictions, labels))
    with (tmp_path / "misclassified.csv").open(newline="") as handle:
        wrong = list(csv.DictReader(handle))
    assert sorted({(row["true"], row["predicted"], row["answered"]) for row in wrong}) == [
        ("oos", "refund", "True"),
        ("refund", "delivery", "True"),
    ]
    assert len(wrong) == 2 + 10


def test_an_evaluation_carries_the_trade_off_its_rule_was_chosen_on(intents: Intents) -> None:
    classifier = intents.classifier
    assert isinstance(classifier, BatchedClassifier)
    calibration = classifier.model.calibration
    assert calibration is not None
    assert calibration.trade_off  # the retail catalogue has enough intents to hide some
    result, _ = evaluate(classifier, ["where is my parcel", "hello"], ["order_status", "greet"])
    assert result.trade_off == calibration.trade_off
    assert result.unknown_target == calibration.unknown_target
