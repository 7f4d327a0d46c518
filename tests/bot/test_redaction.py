"""Personal data is masked with its kind and a hint; order numbers and ids never are."""

from __future__ import annotations

import re

import pytest

from bot.redaction import (
    CARD,
    CUSTOM,
    EMAIL,
    IBAN,
    PHONE,
    RedactPatternError,
    Span,
    compile_patterns,
    find,
    redact,
)
from bot.redaction.text import iban_ok, luhn_ok


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4242 4242 4242 4242 exp 12/25", "card [card •••• 4242] exp 12/25"),
        ("4111-1111-1111-1111", "[card •••• 1111]"),
        ("amex 378282246310005.", "amex [card •••• 0005]."),
        ("IBAN GB82 WEST 1234 5698 7654 32 thanks", "IBAN [iban GB•• ••••] thanks"),
        ("pay to de89370400440532013000", "pay to [iban DE•• ••••]"),
        ("mail jane.doe+x@example.co.uk!", "mail [email j•••@example.co.uk]!"),
        ("call me on +44 7700 900123", "call me on [phone •••• 123]"),
        ("ring (415) 555-2671 tonight", "ring [phone •••• 671] tonight"),
        ("Phone: 0494 92 82 32", "Phone: [phone •••• 232]"),
        ("Fax: 9498777106", "Fax: [phone •••• 106]"),
        ("Desk: 345-899-3560x4587", "Desk: [phone •••• 560]"),
    ],
)
def test_each_kind_is_masked_with_a_hint(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order 100412?",
        "order #100412 of 2 items at £12.50",
        "ORD-4501234567 shipped on 2026-03-14",
        "my id 4501234567",  # a bare ten-digit run with no word saying "phone"
        "order id is 4532015112830366",  # Luhn-valid, but after an order label
        "tracking 9400 1000 0000 0000 0000 00",
        "zip 12345-6789, 3 boxes on 12.03.2026",
        "55470 72 Acheron Road",
        "I paid 4242 4242 4242 4241 times",  # fails Luhn
        "GB82WEST12345698765433",  # fails mod-97
    ],
)
def test_order_numbers_ids_and_near_misses_are_left_alone(text: str) -> None:
    assert find(text) == []
    assert redact(text) == text


def test_spans_are_typed_in_order_and_do_not_overlap() -> None:
    text = "jo99@shop.com, card 4000056655665556, call 020 7946 0958"
    kinds = [span.kind for span in find(text)]
    assert kinds == [EMAIL, CARD, PHONE]
    email = find(text)[0]
    assert email == Span(EMAIL, 0, len("jo99@shop.com"))


def test_a_card_named_as_such_may_be_any_luhn_valid_number() -> None:
    # Maestro issues 12 digits; after "card no" the label is the card's, not an order's
    assert redact("card no 501864667909") == "card no [card •••• 7909]"
    assert [s.kind for s in find("card # 4485527627509597")] == [CARD]
    assert find("order # 4485527627509597") == []


def test_an_iban_stops_at_its_country_length() -> None:
    (span,) = find("GB82WEST12345698765432 ABC")
    assert (span.kind, span.end) == (IBAN, len("GB82WEST12345698765432"))
    assert find("GB82WEST12345698765432X") == []  # runs on into a longer word


def test_custom_patterns_are_masked_whole_and_overlaps_are_dropped() -> None:
    patterns = compile_patterns([r"\bVIP-\d{4}\b", r"VIP"])
    assert redact("member VIP-1234 here", patterns) == "member [redacted] here"
    assert [s.kind for s in find("VIP-1234 VIP", patterns)] == [CUSTOM, CUSTOM]


def test_a_bad_custom_pattern_is_an_error_naming_it() -> None:
    with pytest.raises(RedactPatternError, match=r"\(unclosed"):
        compile_patterns(["(unclosed"])


def test_regions_decide_which_national_numbers_are_read() -> None:
    text = "call 030 901820 please"  # a Berlin number written nationally
    assert [s.kind for s in find(text, regions=("DE",))] == [PHONE]
    assert redact(text, regions=("DE",)) == "call [phone •••• 820] please"


def test_the_checksums() -> None:
    assert luhn_ok("4242424242424242")
    assert not luhn_ok("4242424242424241")
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82 WEST 1234 5698 7654 31")


def test_text_without_personal_data_is_returned_as_is() -> None:
    text = "Thanks! 2 jumpers, size M"
    assert redact(text, (re.compile("nothing"),)) is text
