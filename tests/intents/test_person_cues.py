"""A plain request for a person (intents/person_cues.py), as customers write it."""

from __future__ import annotations

import pytest

from intents.person_cues import asks_for_person


@pytest.mark.parametrize(
    "text",
    [
        "ur bot is rubbish let me talk to someone real",
        "can i speak to an actual person pls",
        "get me a real human this bot is useless",
        "put me through to a manager please",
        "ugh just put me thru to a manager plz",
        "HUMAN PLS",
        "can I talk to someone about my order 100412",
        "transfer me to an operator",
        "i\u2019d like to speak with customer service",
    ],
)
def test_a_request_for_a_person_is_found(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "are you a real person?",
        "do i need to speak to someone to return it?",
        "i dont want to talk to anyone, just tell me where my parcel is",
        "how do i talk to my bank about the charge",
        "the person at the door left the parcel outside",
        "my manager ordered this for me",
    ],
)
def test_other_words_about_people_are_not_a_request(text: str) -> None:
    assert not asks_for_person(text)
