"""A customer and their one conversation: its state, hand-off and what the bot waits for."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.models.channels import Address
from bot.models.messages import Message, Role


class State(StrEnum):
    """Who is answering the conversation: the bot, nobody yet (waiting for an agent) or an agent."""

    BOT = "bot"
    WAITING = "waiting"
    AGENT = "agent"


class LinkStep(StrEnum):
    """Where the chat flow that links a phone stands: waiting for the number, or its code."""

    PHONE = "phone"
    CODE = "code"


PROFILE_FIELDS = ("name", "email", "phone", "language")
TRANSIENT_SLOTS = frozenset({"requested_slot"})  # a form's progress, not about the person


@dataclass(frozen=True)
class Customer:
    """A person, with every address known to belong to them and what is known about them:
    ``name``, ``email``, ``phone`` (verified when linked by code), ``language``, and the free
    ``attributes`` actions set (a last order number)."""

    id: str
    addresses: tuple[Address, ...] = ()
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    ip: str | None = None  # where their web chat last connected from (rate limits; not a fact)

    def facts(self) -> dict[str, str]:
        """What is known, as slots for answers and actions: the attributes, then the fields
        that are set."""
        known = {name: getattr(self, name) for name in PROFILE_FIELDS if getattr(self, name)}
        return {**self.attributes, **known}


@dataclass(frozen=True)
class Escalation:
    """Why and when the bot let go of a conversation, with its last guess at the intent;
    ``detail`` tells the agents more (the part of a message the bot could not answer, the
    order it looked up)."""

    reason: str
    at: float = field(default_factory=time.time)
    intent: str | None = None
    confidence: float | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Survey:
    """A satisfaction survey the customer was asked and has not answered yet: when, and after
    what (``after``: "resolve", an agent resolved the conversation; "bot", the bot's answers
    settled it). Kept in the conversation's meta (field ``csat``); :mod:`bot.insight.csat`
    says when it counts."""

    asked_at: float
    after: str


@dataclass(frozen=True)
class Conversation:
    """A customer's single conversation: its state, hand-off details and history.

    ``expect`` names the intent whose action asked the customer something, so their next
    message goes straight back to it; ``linking`` is the step of linking a phone the customer
    is in (:mod:`bot.identity.linking`); ``slots`` are the values actions remembered.
    ``escalation`` is set while agents have it; ``previous_ticket`` is the ticket of the
    last escalation that ended, so a new one can link it; ``customer`` is the customer's
    profile (with every address only where a ticket shows them); ``survey`` the satisfaction
    survey asked and not answered yet.
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
    linking: LinkStep | None = None
    slots: dict[str, str] = field(default_factory=dict)
    answered: int = 0
    escalation: Escalation | None = None
    previous_ticket: str | None = None
    notified_at: float = 0.0
    survey: Survey | None = None
    # the profile; its addresses only where they are shown (a ticket), not on the hot path
    customer: Customer | None = None

    def unanswered(self) -> tuple[Message, ...]:
        """The customer messages accepted but not yet handled, oldest first."""
        return tuple(
            m
            for m in self.messages
            if m.role is Role.CUSTOMER and m.seq is not None and m.seq > self.answered
        )
