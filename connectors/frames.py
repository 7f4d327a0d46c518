"""What both WebSocket protocols (the web chat's and the agent console's) do with a client's
text frame before reading its fields: decode the JSON, insist on an object, pick the parser its
``type`` names. Refusals are :class:`FrameError`, which each socket turns into an error frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

INVALID_JSON_TEXT = "frames must be JSON objects"
TYPE_SHOWN_CHARS = 40  # an unknown type is echoed back this short (it is the client's text)

T = TypeVar("T")
FrameParser = Callable[[dict[str, Any]], T]
"""Reads the fields of one frame type (its JSON object) into a request, or raises FrameError."""


class FrameError(ValueError):
    """A client frame the server refuses; ``code`` is the error frame's slug."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode_object(raw: str) -> dict[str, Any]:
    """``raw`` as a JSON object; ``invalid_json`` for anything else, deep nesting included."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # deep nesting overflows the parser's stack
        raise FrameError("invalid_json", INVALID_JSON_TEXT) from None
    if not isinstance(data, dict):
        raise FrameError("invalid_json", INVALID_JSON_TEXT)
    return data


def parse_frame(raw: str, parsers: Mapping[str, FrameParser[T]]) -> T:
    """Decode ``raw`` and hand its object to the parser of its ``type``; ``unknown_type`` when
    no parser takes that type."""
    data = decode_object(raw)
    kind = data.get("type")
    parser = parsers.get(kind) if isinstance(kind, str) else None
    if parser is None:
        shown = str(kind)[:TYPE_SHOWN_CHARS]
        raise FrameError("unknown_type", f"unknown frame type {shown!r}")
    return parser(data)
