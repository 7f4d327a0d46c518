"""E-mail addresses as customers type them."""

from __future__ import annotations

import pytest

from intents.entities import emails


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("my email is sarah.jones84@gmail.com", "sarah.jones84@gmail.com"),
        ("its Tom_B+shop@Outlook.CO.UK, can u resend the invoice", "Tom_B+shop@outlook.co.uk"),
        ("send it to (j.o-brien@mail.example.ie).", "j.o-brien@mail.example.ie"),
        ("email:anna@web.de thx", "anna@web.de"),
    ],
)
def test_an_address_is_found_and_its_domain_lower_cased(text: str, email: str) -> None:
    assert emails.first(text) == email


@pytest.mark.parametrize(
    "text",
    [
        "i emailed you @ 9am",
        "sarah.jones84@gmail",
        "@shop on twitter said 2 days",
        "you can reach me at sarah at gmail dot com",
        "user@.com",
    ],
)
def test_what_is_not_an_address_is_left_alone(text: str) -> None:
    assert emails.first(text) is None


def test_both_addresses_are_found_in_order() -> None:
    spans = emails.find("change it from old@mail.com to new.me@mail.com please")
    assert [span.value for span in spans] == ["old@mail.com", "new.me@mail.com"]
