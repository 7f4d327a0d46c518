"""The dispatcher's cheap checks before classifying: anything to read, and is it English."""

from __future__ import annotations

import pytest

from bot.pipeline.language import has_words, not_english


@pytest.mark.parametrize(("text", "expected"), [("👍👍", False), ("???", False), ("ok", True)])
def test_only_letters_or_digits_are_words(text: str, expected: bool) -> None:
    assert has_words(text) is expected


@pytest.mark.parametrize(
    "text",
    ["¿dónde está mi pedido? compré hace dos semanas", "где мой заказ", "wo ist meine Bestellung"],
)
def test_another_language_is_recognised(text: str) -> None:
    assert not_english(text)


@pytest.mark.parametrize(
    "text", ["hola, where is my order??", "wher is my ordr", "no, me neither", "12345"]
)
def test_english_however_written_is_english(text: str) -> None:
    assert not not_english(text)
