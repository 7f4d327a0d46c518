"""Cutting a message into the requests it makes, and only there."""

from __future__ import annotations

import pytest

from intents.splitting import MAX_CHARS, MAX_PARTS, split


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "how long do refunds take, and is there a store in Leeds?",
            ["how long do refunds take", "is there a store in Leeds?"],
        ),
        (
            "hw long 4 delivery to france? also do u take paypal",
            ["hw long 4 delivery to france?", "do u take paypal"],
        ),
        (
            "wheres my parcel and could you tell me the returns address",
            ["wheres my parcel", "could you tell me the returns address"],
        ),
        (
            "do you price match; can i still use my student discount",
            ["do you price match", "can i still use my student discount"],
        ),
        (
            "my hoodie came with a hole, and my refund from march never showed up",
            ["my hoodie came with a hole", "my refund from march never showed up"],
        ),
        (
            "is the Leeds shop open sunday btw i need to swap a dress",
            ["is the Leeds shop open sunday", "i need to swap a dress"],
        ),
        (
            "What\u2019s the cheapest delivery? Oh and what\u2019s the return window",
            ["What\u2019s the cheapest delivery?", "what\u2019s the return window"],
        ),
    ],
)
def test_separate_requests_are_cut_in_order(text: str, parts: list[str]) -> None:
    assert split(text) == parts


@pytest.mark.parametrize(
    "text",
    [
        "can I return and get a refund",
        "do u have the black and white converse in a 5",
        "is click and collect free?",
        "I want to cancel the order and get my money back",
        "can I also pay for it in store?",
        "the coat is warm and is light enough for spring?",
        "how long and how much for next day to Cork?",
    ],
)
def test_one_request_with_and_in_it_stays_whole(text: str) -> None:
    assert split(text) == [text]


def test_a_bare_order_number_stays_with_its_question() -> None:
    assert split("Hi! Where is my order? It's 12345") == ["Hi! Where is my order? It's 12345"]
    assert split("where's my stuff?? 100377") == ["where's my stuff?? 100377"]
    assert split("order no. 100412 pls, when will it come") == [
        "order no. 100412 pls, when will it come"
    ]


def test_a_greeting_goes_with_the_request_after_it() -> None:
    text = "Hello there, good morning! Can I pay with Klarna? And is there a store in York"
    assert split(text) == [
        "Hello there, good morning! Can I pay with Klarna?",
        "is there a store in York",
    ]
    assert split("hiya") == ["hiya"]


def test_a_new_line_cuts_only_before_a_new_request() -> None:
    assert split("hi\nwhere is my order\nalso do you sell gift cards") == [
        "hi\nwhere is my order",
        "do you sell gift cards",
    ]
    address = "please send it to\n14 Mill Lane\nYork YO1 7HH"
    assert split(address) == [address]


def test_abbreviations_and_initials_are_not_sentence_ends() -> None:
    assert split("Is the St. Albans branch open late on thursdays?") == [
        "Is the St. Albans branch open late on thursdays?"
    ]
    assert split("it's for J. Bloggs, can it go to her work address") == [
        "it's for J. Bloggs, can it go to her work address"
    ]


def test_more_requests_than_the_cap_are_read_whole() -> None:
    text = "Where's my order? Can I cancel it? Do you ship to Spain? What about to Portugal?"
    assert MAX_PARTS == 3
    assert split(text) == [text]
    assert len(split("Where's my order? Can I cancel it? Do you ship to Spain?")) == MAX_PARTS


def test_a_long_paste_is_read_whole() -> None:
    story = "I bought a jacket in the sale last month and wore it once. " * 6
    text = story + "Can I still return it? And do you refund the postage?"
    assert len(text) > MAX_CHARS
    assert split(text) == [text.strip()]


def test_a_pasted_email_thread_is_one_part() -> None:
    text = (
        "where is it??\n\n"
        "On Tue, 4 Mar 2025 at 09:12, Shop Support <help@example.com> wrote:\n"
        "> Thanks for your order. It will be dispatched soon.\n"
        "> Can we help with anything else?"
    )
    assert split(text) == [text]


def test_parts_are_stripped_and_blank_text_is_left_alone() -> None:
    assert split("  where is my order?   Also can i cancel it  ") == [
        "where is my order?",
        "can i cancel it",
    ]
    assert split("   ") == ["   "]


def test_a_problem_told_over_two_sentences_stays_one_part() -> None:
    text = "Tracking has it as delivered at 10am. Ive looked everywhere, nothing on my step"
    assert split(text) == [text]
    assert split("it says delivered. But there's no box. where do I go from here?") == [
        "it says delivered. But there's no box.",
        "where do I go from here?",
    ]
