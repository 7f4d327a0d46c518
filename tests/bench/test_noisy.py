"""The noisy-text bench's noising: deterministic for a seed, 1-2 typing edits on letters, SMS
abbreviations on whole words only, never an empty message; and the retail engine reading the
issue's text-speak messages as their clean forms."""

from __future__ import annotations

import random

import pytest

from bench.noisy import (
    EDITS,
    QWERTY_NEIGHBOURS,
    abbreviate,
    add_noise,
    noisy_texts,
)
from intents.classifier import BatchedClassifier
from omnibot.engine import Intents

CUSTOMER_MESSAGES = [
    "How long does delivery take to Leeds??",
    "can you send back my trainers, they're the wrong size",
    "WHY has my refund not arrived yet, this is a joke",
    "what payment methods do you take",
    "please change my address to 12 Hill Road, thanks",
    "i ordered 2 days ago and nothing",
    "ok",
    "?",
    "x",
]


def levenshtein(a: str, b: str) -> int:
    """Inserts, deletes and substitutions to turn ``a`` into ``b``."""
    row = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (char != other))
    return row[len(b)]


# a swap of two letters is two substitutions; every other edit is one
EDIT_COST = {"drop": 1, "double": 1, "swap": 2, "neighbour": 1}


def test_same_seed_same_noise_other_seed_other_noise() -> None:
    texts = CUSTOMER_MESSAGES * 20
    assert noisy_texts(texts, seed=3) == noisy_texts(texts, seed=3)
    assert noisy_texts(texts, seed=3) != noisy_texts(texts, seed=4)
    assert len(noisy_texts(texts, seed=3)) == len(texts)


def test_one_or_two_edits_of_known_kinds_on_letters() -> None:
    rng = random.Random(7)
    counts = {1: 0, 2: 0}
    kinds: set[str] = set()
    for _ in range(300):
        for text in CUSTOMER_MESSAGES[:6]:
            noised = add_noise(text, rng)
            assert len(noised.edits) in (1, 2)
            counts[len(noised.edits)] += 1
            kinds.update(noised.edits)
            distance = levenshtein(noised.abbreviated, noised.text)
            assert distance <= sum(EDIT_COST[edit] for edit in noised.edits)
            if len(noised.edits) == 1:
                assert distance >= 1  # one edit always changes the text
            # digits, spaces and punctuation are never typed wrong
            assert [c for c in noised.text if not c.isalpha()] == [
                c for c in noised.abbreviated if not c.isalpha()
            ]
    assert kinds == set(EDITS)
    assert counts[1] > 500
    assert counts[2] > 500


def test_neighbouring_keys_are_qwerty_neighbours() -> None:
    assert set(QWERTY_NEIGHBOURS["g"]) == set("fhtyvb")
    assert set(QWERTY_NEIGHBOURS["q"]) == set("wa")
    assert set(QWERTY_NEIGHBOURS["p"]) == set("ol")
    for key, near in QWERTY_NEIGHBOURS.items():
        for other in near:
            assert key in QWERTY_NEIGHBOURS[other]  # touching is symmetric


def test_abbreviations_replace_whole_words_only() -> None:
    assert abbreviate("How can you send it back to me for free, please? Thanks") == (
        "hw cn u send it bak 2 me 4 free, pls? thx"
    )
    assert abbreviate("what is your address") == "wat is ur adress"
    # inside other words, or joined by an apostrophe, they stay
    assert abbreviate("tomato toast, forward, canada, showhow, cancel, Tom's") == (
        "tomato toast, forward, canada, showhow, cancel, Tom's"
    )
    assert abbreviate("you'll get it") == "you'll get it"
    assert abbreviate("I'm not sure, don't know") == "im not sure, dont know"


def test_never_empties_a_message() -> None:
    rng = random.Random(0)
    for _ in range(500):
        for text in ("x", "a", "?", "ok", "  z  ", "4"):
            noised = add_noise(text, rng)
            assert noised.text.strip()
    # no letters, no typos: "4" and "?" come back as they were
    assert add_noise("?", rng).text == "?"
    assert add_noise("4", rng).edits == ()


# The issue's messages, as a customer types them, with the intent their clean form gets.
TEXT_SPEAK = [
    ("hw long 4 delivry", "shipping_times"),
    ("cn i send bak shoes", "return_item"),
    ("chnage my adress pls", "change_delivery_address"),
    ("wat payment u take", "payment_methods"),
]


@pytest.fixture
def classifier(intents: Intents) -> BatchedClassifier:
    assert isinstance(intents.classifier, BatchedClassifier)
    return intents.classifier


@pytest.mark.parametrize(("text", "intent"), TEXT_SPEAK)
def test_retail_engine_answers_the_issues_text_speak(
    classifier: BatchedClassifier, text: str, intent: str
) -> None:
    prediction = classifier.predict([text])[0]
    assert prediction.intent == intent
    assert prediction.confident, prediction
