"""Out of scope: intents the model was not trained on are escalated, not answered.

A small, fast version of ``bench/unknown_intents.py`` on part of BANKING77 (public data nobody
here wrote, CC BY 4.0: see ``tests/data/banking77/README.md``): 20 intents, 5 of them held out
of training. The slice ships with the tests, so they need nothing outside the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.build import BuildOptions, build_classifier
from intents.classifier import BatchedClassifier
from intents.evaluate import holdout_experiment, read_labelled_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "banking77"
HELD_OUT = [
    "getting_virtual_card",
    "card_swallowed",
    "pin_blocked",
    "balance_not_updated_after_bank_transfer",
    "cancel_transfer",
]


@pytest.fixture(scope="module")
def subset() -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]], list[str]]:
    train = read_labelled_csv(DATA / "train.csv")
    test = read_labelled_csv(DATA / "test.csv")
    assert len(set(train[1])) == len(set(test[1])) == 20
    return train, test, HELD_OUT


def test_held_out_intents_are_escalated_while_known_ones_are_answered(
    subset: tuple[tuple[list[str], list[str]], tuple[list[str], list[str]], list[str]],
    tmp_path: Path,
) -> None:
    train, test, held_out = subset

    def build(texts: list[str], labels: list[str]) -> BatchedClassifier:
        return build_classifier(texts, labels, tmp_path, BuildOptions())

    result = holdout_experiment(build, train, test, held_out)
    assert set(result.held_out) == set(held_out)
    assert result.unknown_escalated >= 0.6
    assert result.known_accuracy >= 0.93
    assert result.known_answered_precision is not None
    assert result.known_answered_precision >= 0.97
    assert result.known_answered >= 0.8
