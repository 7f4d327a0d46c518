"""Product words, singular or plural, and the same words used otherwise."""

from __future__ import annotations

import pytest

from intents.entities import products


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("cn i send bak shoes", "shoe"),
        ("the trainers i got r too small", "trainer"),
        ("my new Hoodies are falling apart", "hoodie"),
        ("2 tshirts in the wrong size", "t-shirt"),
        ("the T-Shirt has a hole", "t-shirt"),
        ("jeans dont fit", "jeans"),
        ("one earbud isnt charging", "earbuds"),
        ("the headphones stopped working after a week", "headphones"),
        ("my laptop wont turn on", "laptop"),
        ("the blender arrived smashed", "blender"),
        ("got 3 batteries instead of 4", "battery"),
        ("where are my dresses", "dress"),
        ("the watch strap snapped", "watch"),
        ("flip-flops r the wrong colour", "flip flop"),
        ("phone case came without the phone", "phone case"),
    ],
)
def test_a_product_word_is_found_as_its_singular(text: str, product: str) -> None:
    assert products.first(text) == product


@pytest.mark.parametrize(
    "text",
    [
        "my phone number changed",
        "please phone me back",
        "watch out for the courier",
        "it wont boot up",
        "i topped up my account",
        "in case it gets lost",
        "where is my order",
    ],
)
def test_the_same_words_used_otherwise_are_not_products(text: str) -> None:
    assert products.first(text) is None


def test_every_product_is_found_in_order() -> None:
    spans = products.find("ordered a coat, 2 pairs of boots and a phone charger")
    assert [span.value for span in spans] == ["coat", "boot", "phone", "charger"]
