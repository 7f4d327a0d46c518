"""Parsing the web chat client's frames."""

from __future__ import annotations

import json

import pytest

from connectors.webchat.frames import MAX_TEXT_CHARS, FrameError, parse_client_frame


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
