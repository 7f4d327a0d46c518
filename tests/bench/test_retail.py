"""The retail test set and its bench: every intent has fresh test messages (none taught to the
engine), the bench sorts rows into wrong answers and escalations, and the bundled catalogue's
answers on the test set are at least 98 % right."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.retail import DEFAULT_TEST, TuningArgumentError, mistakes, report, tuning_config
from bot.contracts import Prediction
from intents.catalogue import load_catalogue
from intents.classifier import BatchedClassifier
from intents.evaluate import evaluate, read_labelled_csv
from intents.model import OOS_LABEL
from omnibot.engine import Intents
from omnibot.settings import DEFAULT_INTENTS_PATH

MIN_ROWS_PER_INTENT = 10
TARGET_PRECISION = 0.98
MIN_ANSWERED = 0.7  # precision bought by answering nothing would not do

CATALOGUE = load_catalogue(DEFAULT_INTENTS_PATH)
TEXTS, LABELS = read_labelled_csv(DEFAULT_TEST)


def test_every_intent_has_fresh_test_messages() -> None:
    counts = Counter(LABELS)
    assert set(counts) == set(CATALOGUE.intents) | {OOS_LABEL}
    assert min(counts.values()) >= MIN_ROWS_PER_INTENT, counts.most_common()[-3:]
    taught = {text.lower() for text in CATALOGUE.training_data()[0]}
    assert not {text.lower() for text in TEXTS} & taught
    assert len(set(TEXTS)) == len(TEXTS)


def test_rows_are_sorted_into_wrong_answers_and_escalations() -> None:
    predictions = [
        Prediction("store_hours", 0.9, True),  # right
        Prediction("shipping_costs", 0.8, True),  # wrong answer
        Prediction("thanks", 0.2, False),  # escalated, had an intent
        Prediction("greeting", 0.6, True),  # an oos row answered: wrong
        Prediction("greeting", 0.1, False),  # an oos row escalated: right
    ]
    labels = ["store_hours", "return_postage", "thanks", OOS_LABEL, OOS_LABEL]
    texts = [f"message {n}" for n in range(len(labels))]
    rows = mistakes(texts, labels, predictions)
    assert [row["text"] for row in rows["wrong_answers"]] == ["message 1", "message 3"]
    assert [row["text"] for row in rows["escalated"]] == ["message 2"]


def test_tuning_settings_are_read_from_the_command_line() -> None:
    config = tuning_config(2, ["word_embeddings=false", "calibration_tunes=2", "threads=1"])
    assert (config.seed, config.word_embeddings, config.calibration_tunes) == (2, False, 2)
    assert config.threads == 1
    assert tuning_config(0, ["calibration_epochs=0.5"]).calibration_epochs == 0.5
    assert tuning_config(0, ["word_embeddings=true"]).word_embeddings
    for wrong in (["no_such=1"], ["threads"], ["threads=two"], ["objective=triplets"]):
        with pytest.raises(TuningArgumentError):
            tuning_config(0, wrong)


async def test_the_bundled_catalogue_answers_the_retail_test_at_98_percent(
    intents: Intents,
) -> None:
    classifier = intents.classifier
    assert isinstance(classifier, BatchedClassifier)
    result, predictions = evaluate(classifier, TEXTS, LABELS)
    summary = report(result, TEXTS, LABELS, predictions)
    assert result.answered_precision is not None
    assert result.answered_precision >= TARGET_PRECISION, summary["confusions"]
    assert result.answered_share >= MIN_ANSWERED
