"""The web chat's JSON frames: parsing what clients send, building what the server sends."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_TEXT_CHARS = 2000
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FrameError(ValueError):
    """A client frame the server refuses; ``code`` is the error frame's slug."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ClientMessage:
    """A customer's message frame; ``client_id`` lets a resend after reconnecting be deduped."""

    text: str
    client_id: str | None = None


def parse_client_frame(raw: str) -> ClientMessage:
    """Validate one client text frame, raising :class:`FrameError` when it is refused."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError("invalid_json", "frames must be JSON objects") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_json", "frames must be JSON objects")
    if data.get("type") != "message":
        raise FrameError("unknown_type", f"unknown frame type {data.get('type')!r}")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError("empty_text", "a message needs a non-empty 'text'")
    if len(text) > MAX_TEXT_CHARS:
        raise FrameError("text_too_long", f"a message holds at most {MAX_TEXT_CHARS} characters")
    client_id = data.get("id")
    if client_id is not None and (not isinstance(client_id, str)
                                  or not CLIENT_ID_RE.match(client_id)):
        raise FrameError("invalid_id", "'id' must be 1 to 64 letters, digits, '-' or '_'")
    return ClientMessage(text=text.strip(), client_id=client_id)


def error_frame(code: str, message: str) -> dict[str, Any]:
    """The frame telling a client why its frame was refused."""
    return {"type": "error", "code": code, "message": message}


def message_frame(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message (``Message.to_dict()``) as a message frame."""
    return {"type": "message", **message}
