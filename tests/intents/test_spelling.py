"""Putting typos and text-speak right against the training vocabulary."""

from __future__ import annotations

import time

from sklearn.feature_extraction.text import TfidfVectorizer

from intents.spelling import Speller, english_words

TRAINING = [
    "where is my parcel",
    "where is my order",
    "how long does delivery take",
    "how long is delivery to scotland",
    "can i send back these shoes",
    "change my delivery address",
    "what payment methods do you accept",
    "i want my money back",
    "i want a refund",
    "the refund has not arrived",
    "the sneakers were damaged",
]


def speller() -> Speller:
    return Speller.from_vectorizer(TfidfVectorizer(ngram_range=(1, 2)).fit(TRAINING))


def test_typos_one_edit_from_a_training_word_are_put_right() -> None:
    fix = speller()
    assert fix("hw long 4 delivry") == "how long 4 delivery"
    assert fix("wher is my parcle??") == "where is my parcel??"
    assert fix("chnage my adress") == "change my address"  # swapped, dropped
    assert fix("i want a refunnd") == "i want a refund"  # doubled
    assert fix("the refuns has not arrived") == "the refund has not arrived"  # neighbour key


def test_text_speak_is_expanded() -> None:
    assert speller()("cn u send bak my shoes pls, thx") == (
        "can you send back my shoes please, thanks"
    )


def test_known_short_numeric_and_far_words_stay() -> None:
    fix = speller()
    # known words, words under four letters, numbers, and words two edits away are untouched
    assert fix("Where is my ORDER") == "Where is my ORDER"
    assert fix("is it 2 days to Leeds") == "is it 2 days to Leeds"
    assert fix("order 12345 xyzzy") == "order 12345 xyzzy"
    assert fix("delvry") == "delvry"  # two letters dropped


def test_commonest_candidate_wins() -> None:
    # "carx" is one edit from "card" (in three examples) and "cart" (in one)
    fix = Speller.from_vectorizer(
        TfidfVectorizer().fit(["my card", "card declined", "card lost", "my cart is empty"])
    )
    assert fix("carx declined") == "card declined"
    assert fix("i want my mone back") == "i want my mone back"  # "money" is not in this one


def test_fast_enough_for_every_message() -> None:
    fix = Speller.from_vectorizer(
        TfidfVectorizer().fit(TRAINING * 50 + [f"w{i}" for i in range(2000)])
    )
    texts = ["hw long 4 delivry to edinburgh, its been agess!!"] * 200
    start = time.perf_counter()
    fix.all(texts)
    per_message_ms = (time.perf_counter() - start) * 1000 / len(texts)
    assert per_message_ms < 0.3


def test_english_words_the_training_lacks_stay() -> None:
    fix = Speller.from_vectorizer(
        TfidfVectorizer().fit([*TRAINING, "i want to call you", "the handles broke"]),
        english_words(),
    )
    assert "candles" in english_words()
    assert "delivry" not in english_words()
    # "tall" is one edit from "call", "candles" from "handles": real words, left alone
    assert fix("im quite tall and the candles were wrecked") == (
        "i'm quite tall and the candles were wrecked"
    )
    assert fix("hw long 4 delivry") == "how long 4 delivery"
