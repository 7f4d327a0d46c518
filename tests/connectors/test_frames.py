"""The frame decoding both WebSocket protocols share."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import frames as shared
from connectors.console import frames as console
from connectors.frames import FrameError, decode_object, parse_frame
from connectors.webchat import frames as webchat


def _echo(data: dict[str, Any]) -> dict[str, Any]:
    return data


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', "null", "[" * 100_000])
def test_anything_but_a_json_object_is_invalid_json(raw: str) -> None:
    with pytest.raises(FrameError) as caught:
        decode_object(raw)
    assert (caught.value.code, caught.value.message) == ("invalid_json", shared.INVALID_JSON_TEXT)


def test_the_type_picks_the_parser() -> None:
    assert parse_frame('{"type": "a", "x": 1}', {"a": _echo}) == {"type": "a", "x": 1}


@pytest.mark.parametrize("raw", ['{"type": "b"}', '{"x": 1}', '{"type": 5}', '{"type": ["a"]}'])
def test_a_type_no_parser_takes_is_unknown(raw: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, {"a": _echo})
    assert caught.value.code == "unknown_type"


def test_an_unknown_type_is_echoed_short() -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame('{"type": "' + "x" * 500 + '"}', {"a": _echo})
    assert len(caught.value.message) < 80


def test_both_protocols_refuse_with_the_shared_error() -> None:
    assert webchat.FrameError is console.FrameError is FrameError
    for parse in (webchat.parse_client_frame, console.parse_client_frame):
        with pytest.raises(FrameError) as caught:
            parse('{"a":' * 100_000)  # the console's parser used to let this RecursionError out
        assert caught.value.code == "invalid_json"
