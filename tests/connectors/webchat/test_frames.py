"""Parsing the web chat client's frames; the message frames the server sends them."""

from __future__ import annotations

import json

import pytest

from bot.article import ArticleRef
from bot.models import Message, Role
from connectors.webchat.frames import (
    MAX_TEXT_CHARS,
    FrameError,
    history_frame,
    message_frame,
    parse_client_frame,
)

CARE = ArticleRef("care/merino", "Caring for merino", "https://help.example.com/merino", 0.91)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('{"type": "typing"}', "unknown_type"),
        ('{"text": "hi"}', "unknown_type"),
        ('{"type": "message"}', "empty_text"),
        ('{"type": "message", "text": "   "}', "empty_text"),
        ('{"type": "message", "text": 42}', "empty_text"),
        (json.dumps({"type": "message", "text": "x" * (MAX_TEXT_CHARS + 1)}), "text_too_long"),
        ('{"type": "message", "text": "hi", "id": "has spaces"}', "invalid_id"),
    ],
)
def test_refused_frames_name_their_error(raw: str, code: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_client_frame(raw)
    assert caught.value.code == code


def test_a_valid_message_is_trimmed_and_keeps_its_id() -> None:
    frame = parse_client_frame('{"type": "message", "text": "  hi there ", "id": "a-1_B"}')
    assert frame.text == "hi there"
    assert frame.client_id == "a-1_B"


def test_the_longest_allowed_text_passes() -> None:
    text = "x" * MAX_TEXT_CHARS
    assert parse_client_frame(json.dumps({"type": "message", "text": text})).text == text


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_deeply_nested_frame_is_invalid_json(opening: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_client_frame(opening * 100_000)
    assert caught.value.code == "invalid_json"


def test_a_bot_message_frame_names_its_article_by_title_and_url_only() -> None:
    message = Message(role=Role.BOT, text="Wash it cold.", options=("Thanks",), article=CARE)
    frame = message_frame(message.to_dict())
    assert frame["article"] == {"title": "Caring for merino", "url": CARE.url}
    assert (frame["type"], frame["text"], frame["options"]) == (
        "message",
        "Wash it cold.",
        ["Thanks"],
    )
    wire = json.dumps(frame)
    assert "care/merino" not in wire  # the key and the score stay with agents
    assert "0.91" not in wire
    assert message.to_dict()["article"]["key"] == "care/merino"  # the stored form is untouched


def test_a_history_frame_names_articles_the_same_way() -> None:
    plain = Message(role=Role.CUSTOMER, text="how do I wash it?", channel="webchat")
    answered = Message(role=Role.BOT, text="Wash it cold.", article=CARE)
    frame = history_frame([plain.to_dict(), answered.to_dict()])
    assert "article" not in frame["messages"][0]
    assert frame["messages"][0]["channel"] == "webchat"
    assert frame["messages"][1]["article"] == {"title": "Caring for merino", "url": CARE.url}
