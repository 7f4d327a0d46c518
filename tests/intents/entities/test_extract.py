"""All kinds at once: one kind per place in the text, and messages that are just entities."""

from __future__ import annotations

import time

import pytest

from intents.entities import extract, only_entities

SLOTS = {"order_number", "email", "country", "product", "address"}
FAST = 1.0  # seconds for 2,000 characters (~20 ms): a regex backtracking away would take minutes


def test_every_kind_in_one_message_is_found() -> None:
    text = (
        "order 100234, the blue hoodie, hasnt come. im in Ireland now, "
        "new address 3 Main Street, email me at pat.k@mail.ie"
    )
    assert extract(text) == {
        "order_number": "100234",
        "product": "hoodie",
        "country": "Ireland",
        "address": "3 Main Street",
        "email": "pat.k@mail.ie",
    }


def test_words_are_claimed_by_the_more_specific_kind() -> None:
    assert extract("send to 5 Ireland Road pls") == {"address": "5 Ireland Road"}
    assert extract("anna@france.fr") == {"email": "anna@france.fr"}
    assert extract("12 High St, Leeds LS1 4AB") == {"address": "12 High St, Leeds LS1 4AB"}


def test_each_kind_is_found_alongside_the_others() -> None:
    found = extract("is #100598 coming to the UK?")
    assert set(found) <= SLOTS
    assert found["order_number"] == "100598"
    assert found["country"] == "United Kingdom"
    assert "email" not in found


def test_a_message_without_entities_gives_none() -> None:
    assert extract("can you help us, its been 3 weeks and i paid 59.99!!") == {}


@pytest.mark.parametrize(
    "text",
    [
        "100234",
        "#100234",
        "its 100234 thanks",
        "it\u2019s 100234",  # a phone keyboard's apostrophe
        "order no. 100234 thx",
        "sorry, should be 100377!",
        "12 High St, Leeds LS1 4AB",
        "new address: 7 mill lane, york yo1 7hh",
        "email is pat.k@mail.ie",
        "ireland",
        "100234 and 100377",
    ],
)
def test_a_message_of_entities_and_filler_is_only_entities(text: str) -> None:
    assert only_entities(text)


@pytest.mark.parametrize(
    "text",
    [
        "where is 100234",
        "what about 100234?",
        "100234 hasnt arrived",
        "hello",
        "thanks",
        "",
        "call me on 07700 900123",
        "do you ship to ireland",
        "12 High St is wrong",
    ],
)
def test_a_message_that_asks_or_says_more_is_not(text: str) -> None:
    assert not only_entities(text)


@pytest.mark.parametrize(
    "text",
    [
        "hi, re order 100234, sent to 12 High St, Leeds LS1 4AB, the jeans. " * 30,
        "a." * 999 + "@x",  # a paste of junk that e-mail and address patterns start on
        "flat 1 " * 285,
    ],
)
def test_a_long_paste_is_read_quickly(text: str) -> None:
    start = time.perf_counter()
    extract(text)
    assert not only_entities(text + " why??")
    assert time.perf_counter() - start < FAST
