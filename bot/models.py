"""Frozen value types shared by the core, the connectors and the intent engine."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class State(StrEnum):
    """Who is answering the conversation: the bot, nobody yet (waiting for an agent) or an agent."""

    BOT = "bot"
    WAITING = "waiting"
    AGENT = "agent"


class Outcome(StrEnum):
    """What became of an inbound message."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True, order=True)
class Address:
    """Where a customer can be reached: a channel and the channel's own id (phone, session)."""

    channel: str
    id: str


@dataclass(frozen=True)
class Customer:
    """A person, with every address known to belong to them."""

    id: str
    addresses: tuple[Address, ...] = ()
    name: str | None = None


def new_id() -> str:
    """A fresh random identifier (32 hex digits)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Message:
    """One message of a conversation, as stored in its history."""

    role: Role
    text: str
    id: str = field(default_factory=new_id)
    ts: float = field(default_factory=time.time)
    author: str | None = None
    channel: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form used in Redis and in web chat frames."""
        data: dict[str, Any] = {"id": self.id, "role": self.role.value, "text": self.text,
                                "ts": self.ts}
        if self.author is not None:
            data["author"] = self.author
        if self.channel is not None:
            data["channel"] = self.channel
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """The inverse of :meth:`to_dict`."""
        return cls(role=Role(data["role"]), text=str(data["text"]), id=str(data["id"]),
                   ts=float(data["ts"]), author=data.get("author"), channel=data.get("channel"))


@dataclass(frozen=True)
class Conversation:
    """A customer's single conversation: its state, hand-off details and history.

    ``expect`` names the intent whose action asked the customer something, so their next
    message goes straight back to it; ``slots`` are the values actions remembered.
    """

    id: str
    customer_id: str
    state: State = State.BOT
    messages: tuple[Message, ...] = ()
    misunderstood: int = 0
    ticket: str | None = None
    agent: str | None = None
    last_address: Address | None = None
    expect: str | None = None
    slots: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as a connector hands it to the core.

    ``dedup_id`` is the vendor's own id for the message (Twilio's MessageSid, the web chat
    client's message id), so a retried webhook is recognised and handled once.
    """

    address: Address
    text: str
    dedup_id: str = field(default_factory=new_id)
    ts: float = field(default_factory=time.time)
