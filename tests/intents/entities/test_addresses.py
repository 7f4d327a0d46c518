"""Street addresses and post codes, and numbers followed by words that are neither."""

from __future__ import annotations

import pytest

from intents.entities import addresses


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("12 High Street, Leeds LS1 4AB", "12 High Street, Leeds LS1 4AB"),
        ("new address is flat 3, 45 Queen's Road", "flat 3, 45 Queen's Road"),
        ("can u send it to 221B Baker St instead", "221B Baker St"),
        ("pls deliver to 7 mill lane, york yo1 7hh thanks", "7 mill lane, york yo1 7hh"),
        ("its 9 The Crescent, Kendal", "9 The Crescent, Kendal"),
        ("postcode is ls1 4ab", "ls1 4ab"),
        ("eircode D02 X285", "D02 X285"),
        ("123 Main St, Springfield, IL 62704", "123 Main St, Springfield, IL 62704"),
        ("Hauptstraße 5, 10115 Berlin", "Hauptstraße 5, 10115 Berlin"),
        ("moved to 4  Elm   Grove", "4 Elm Grove"),
    ],
)
def test_an_address_is_found_as_written(text: str, address: str) -> None:
    assert addresses.first(text) == address


@pytest.mark.parametrize(
    "text",
    [
        "2 shirts on the way apparently",
        "its been a 1 day drive for the courier",
        "back b4 2pm",
        "it took 3 weeks",
        "order 100234 never came",
        "12 street",
        "I ordered 3 items in the green",
    ],
)
def test_numbers_before_other_words_are_no_address(text: str) -> None:
    assert addresses.first(text) is None


def test_the_address_stops_before_the_order_number() -> None:
    spans = addresses.find("12 High Street and order 100234 please")
    assert [span.value for span in spans] == ["12 High Street"]
