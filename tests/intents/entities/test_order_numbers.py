"""Order numbers in what customers write, and the numbers that are something else."""

from __future__ import annotations

import pytest

from intents.entities import order_numbers


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("100234", "100234"),
        ("hi where's my order #100377??", "100377"),
        ("its order no. 100412 thx", "100412"),
        ("ordr numbr is 100598 pls check", "100598"),
        ("Order:100655 still not here!!", "100655"),
        ("ORD-100234 was meant to come tuesday", "100234"),
        ("ord100377", "100377"),
        ("no.1004128 sorry typo", "1004128"),
        ("(100234)", "100234"),
        ("my order is 100234.", "100234"),
        ("100234, it was the blue hoodie", "100234"),
        ("ordered 2 jackets on 100598 and they came in 1 bag", "100598"),
    ],
)
def test_a_number_the_customer_gives_is_found(text: str, number: str) -> None:
    assert order_numbers.first(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "call me on +44 7700 900123",
        "my mobile is 07700900123",
        "ring 0113 496 0000 after 5",
        "it was £129.99 and i paid with 12500 points",
        "the 10000 mAh power bank",
        "i paid £12500 for the tv",
        "it cost 1,299.00",
        "ordered it on 12/03/2026",
        "in 2026 i ordered twice",
        "it's been 3 weeks, still nothing",
        "card 4111 1111 1111 1111 was charged",
        "send it to 12 High St, Leeds LS1 4AB",
        "123 Main St, Springfield, IL 62704",
        "jo12345@gmail.com",
        "ref AB123456",
        "tracking link shop.example/track/1002345",
        "12345678901 is the number on the box",
    ],
)
def test_numbers_that_are_not_orders_are_left_alone(text: str) -> None:
    assert order_numbers.first(text) is None


def test_every_number_is_found_in_order() -> None:
    text = "two orders: 100377 and #100234, the 2nd one came damaged"
    assert [span.value for span in order_numbers.find(text)] == ["100377", "100234"]


def test_the_pattern_gives_the_digits_as_its_first_group() -> None:
    match = order_numbers.ORDER_NUMBER.search("order #100234 pls")
    assert match is not None
    assert match.group(1) == "100234"
