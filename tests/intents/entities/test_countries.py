"""Countries customers name, and the words that only look like them."""

from __future__ import annotations

import pytest

from intents.entities import countries


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("do u deliver to ireland", "Ireland"),
        ("Can you send to Éire?", "Ireland"),
        ("how much is postage to the UK", "United Kingdom"),
        ("do you ship to the U.K. or only europe", "United Kingdom"),
        ("im in great britain", "United Kingdom"),
        ("what about scotland?", "Scotland"),
        ("and northern ireland??", "Northern Ireland"),
        ("do you ship to the us", "United States"),
        ("Shipping to the US and how long", "United States"),
        ("ship 2 US?", "United States"),
        ("usa delivery time", "United States"),
        ("can i get it sent to the states", "United States"),
        ("do u deliver to America", "United States"),
        ("i live in holland", "Netherlands"),
        ("send it to my sister in Deutschland", "Germany"),
        ("can i use my german address", "Germany"),
        ("NZ shipping cost?", "New Zealand"),
        ("delivery to norway or iceland?", "Norway"),
        ("SHIP TO THE US??", "United States"),
    ],
)
def test_a_named_country_is_found_by_its_usual_name(text: str, country: str) -> None:
    assert countries.first(text) == country


@pytest.mark.parametrize(
    "text",
    [
        "can you help us",
        "let us know when it ships",
        "WHY HASNT IT COME, TELL US NOW",
        "do you speak german",
        "can someone reply in french pls",
        "do you take american express",
        "is there a store in south america",
        "the 64 GB one",
        "i want the turkey print dress",
        "my order status says dispatched",
    ],
)
def test_words_that_only_look_like_countries_are_not(text: str) -> None:
    assert countries.first(text) is None


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("do u deliver to irleand", "Ireland"),
        ("hw long 2 germny", "Germany"),
        ("shipping to scotand??", "Scotland"),
        ("is austrailia ok", "Australia"),
        ("SWTIZERLAND DELIVERY", "Switzerland"),
        ("i live in the netherland", "Netherlands"),
    ],
)
def test_a_name_with_one_typo_is_still_found(text: str, country: str) -> None:
    assert countries.first(text) == country


@pytest.mark.parametrize(
    "text", ["im so hungry waiting for this", "inland delivery only?", "frances order", "spian"]
)
def test_words_one_typo_from_a_name_are_not_taken_for_it(text: str) -> None:
    assert countries.first(text) is None


def test_several_countries_are_found_in_order() -> None:
    spans = countries.find("do you ship to canada, the usa and the netherlands?")
    assert [span.value for span in spans] == ["Canada", "United States", "Netherlands"]
