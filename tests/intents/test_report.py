"""omnibot eval --report: the unknown-intent trade-off the answer rule was chosen on."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from bot.contracts import Prediction
from intents.calibration import Calibration, Rule, calibrate
from intents.evaluate import EvalResult, score
from intents.members import TrainingConfig
from intents.report import COVERAGE_COLUMNS, TRADE_OFF_COLUMNS, coverage_rows, write_report
from tests.intents.toy_catalogue import toy_catalogue

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    texts, labels, embeddings = toy_catalogue()
    _, _, found = calibrate(texts, labels, embeddings, TrainingConfig())
    assert found is not None
    return found


def evaluated(calibration: Calibration | None) -> tuple[list[Prediction], list[str], EvalResult]:
    predictions = [Prediction("a", 0.9, True), Prediction("b", 0.4, False)]
    labels = ["a", "a"]
    result = score(predictions, labels, [1.0], Rule(0.5), (1.0,))
    if calibration is not None:
        result = replace(
            result, unknown_target=calibration.unknown_target, trade_off=calibration.trade_off
        )
    return predictions, labels, result


def test_the_trade_off_is_drawn_and_its_points_written(
    tmp_path: Path, calibration: Calibration
) -> None:
    predictions, labels, result = evaluated(calibration)
    written = write_report(tmp_path, ["x", "y"], labels, predictions, result)
    png = tmp_path / "unknown_trade_off.png"
    assert png in written
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size > 10_000  # a drawn figure, not an empty canvas
    with (tmp_path / "unknown_trade_off.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == TRADE_OFF_COLUMNS
    assert [float(r["target"]) for r in rows] == [p.target for p in calibration.trade_off]
    chosen = next(r for r in rows if float(r["target"]) == calibration.unknown_target)
    assert float(chosen["answered"]) == pytest.approx(calibration.out_of_fold_answered, abs=1e-4)


def test_without_a_curve_no_trade_off_is_drawn_and_the_summary_stays_lean(
    tmp_path: Path, calibration: Calibration
) -> None:
    predictions, labels, result = evaluated(None)
    write_report(tmp_path, ["x", "y"], labels, predictions, result)
    assert not (tmp_path / "unknown_trade_off.png").exists()
    assert (tmp_path / "coverage_precision.png").stat().st_size > 0
    _, _, with_curve = evaluated(calibration)
    numbers = with_curve.to_dict()
    assert "trade_off" not in numbers
    assert numbers["unknown_target"] == calibration.unknown_target


def test_the_hindsight_curve_is_written_a_point_a_percent(tmp_path: Path) -> None:
    confidences = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    right = [True, True, True, False, True, True, False, True, False, False]
    predictions = [
        Prediction("a" if r else "b", c, True) for c, r in zip(confidences, right, strict=True)
    ]
    labels = ["a"] * len(predictions)
    rows = coverage_rows(predictions, labels, step=0.1)
    assert [round(a, 4) for a, _, _ in rows] == [round(0.1 * k, 4) for k in range(1, 11)]
    assert rows[2] == pytest.approx((0.3, 1.0, 0.8))
    assert rows[3] == pytest.approx((0.4, 0.75, 0.7))
    assert rows[-1] == pytest.approx((1.0, 0.6, 0.1))  # all answered: the accuracy
    _, _, result = evaluated(None)
    write_report(tmp_path, ["x"] * 10, labels, predictions, result)
    with (tmp_path / "coverage_precision.csv").open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert tuple(written[0]) == COVERAGE_COLUMNS
    assert len(written) == 100
    assert float(written[-1]["precision"]) == pytest.approx(0.6)
