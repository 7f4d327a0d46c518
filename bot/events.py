"""The events a conversation publishes (new messages, state changes), as TypedDicts.

The store publishes them on the conversation's channel in the same write as the change; the
hub hands them to this process's listeners; the web chat turns them into frames.
"""

from __future__ import annotations

import json
from typing import Literal, TypedDict

from bot.models import MessageDict


class MessageEvent(TypedDict):
    """A message was appended to the history."""

    type: Literal["message"]
    message: MessageDict


class StateEvent(TypedDict):
    """The conversation's state changed."""

    type: Literal["state"]
    state: str


class NoteEvent(TypedDict):
    """An agent wrote an internal note (never shown to the customer)."""

    type: Literal["note"]
    note: MessageDict


class ResyncEvent(TypedDict):
    """The listener fell behind or the subscription was lost: reload from history."""

    type: Literal["resync"]


Event = MessageEvent | StateEvent | NoteEvent | ResyncEvent

RESYNC: ResyncEvent = {"type": "resync"}
EVENT_TYPES = ("message", "state", "note", "resync")


def message_event(message: MessageDict) -> str:
    """The encoded event for an appended message."""
    event: MessageEvent = {"type": "message", "message": message}
    return json.dumps(event)


def state_event(state: str) -> str:
    """The encoded event for a state change."""
    event: StateEvent = {"type": "state", "state": state}
    return json.dumps(event)


def note_event(note: MessageDict) -> str:
    """The encoded event for an internal note."""
    event: NoteEvent = {"type": "note", "note": note}
    return json.dumps(event)


def decode(data: str) -> Event | None:
    """An event from its JSON, or None when it is not one of ours."""
    try:
        event = json.loads(data)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
        return None
    return event  # type: ignore[return-value]
