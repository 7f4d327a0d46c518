"""Frozen value types shared by the core, the connectors and the intent engine."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NotRequired, TypedDict

from bot.article import ArticleDict, ArticleRef, article_from_dict

# Text no store, vendor or tokenizer can take: UTF-16 surrogates (a JSON "\ud800" escape decodes
# to one; UTF-8 cannot encode it) and the C0 control characters but tab and line breaks, with DEL.
_UNFIT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WEBCHAT_MAX_CHARS = 2000  # the longest web chat message, either way (CHANNELS)


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


class LinkStep(StrEnum):
    """Where the chat flow that links a phone stands: waiting for the number, or its code."""

    PHONE = "phone"
    CODE = "code"


class Control(StrEnum):
    """A channel's control keyword (SMS STOP/START/HELP): never classified, never escalated."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


class Channel(StrEnum):
    """A channel's name, as addresses, messages and metrics carry it (a plain string on the
    wire: ``Address.channel`` stays ``str``, and a ``Channel`` compares equal to it)."""

    SMS = "sms"
    WEBCHAT = "webchat"
    # Not a customer's channel: a dead-lettered desk job is addressed to ("desk", cid), so the
    # outbox's replay can hand it back to the desk queue.
    DESK = "desk"


@dataclass(frozen=True)
class ChannelInfo:
    """What a customer channel can carry, declared once (:data:`CHANNELS`).

    ``name`` is how agents read the channel; ``max_chars`` the longest text one message may
    hold (None: any, the connector splits it); ``opt_out``: customers can opt out (SMS STOP)
    and are sent nothing until they opt in; ``links``: a "continue on the web" link can be
    sent there (the web chat is the web already).
    """

    name: str
    max_chars: int | None = None
    opt_out: bool = False
    links: bool = False


CHANNELS: Mapping[Channel, ChannelInfo] = MappingProxyType(
    {
        Channel.SMS: ChannelInfo("SMS", opt_out=True, links=True),
        Channel.WEBCHAT: ChannelInfo("web chat", max_chars=WEBCHAT_MAX_CHARS),
    }
)


def channel_info(channel: str | None) -> ChannelInfo | None:
    """What ``channel`` can carry; None for a name that is no customer channel."""
    try:
        return CHANNELS.get(Channel(channel)) if channel else None
    except ValueError:
        return None


def too_long(channel: str | None, text: str) -> bool:
    """Whether ``text`` is more than one message on ``channel`` can hold."""
    info = channel_info(channel)
    return info is not None and info.max_chars is not None and len(text) > info.max_chars


@dataclass(frozen=True, order=True)
class Address:
    """Where a customer can be reached: a channel and the channel's own id (phone, session)."""

    channel: str
    id: str


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
class Media:
    """A file attached to a message (an MMS picture): where it is and its content type."""

    url: str
    content_type: str


def clean_text(text: str) -> str:
    """``text`` as valid Unicode, safe to store, send and classify.

    A surrogate pair split into two code points is joined into its character, a lone surrogate
    becomes U+FFFD (the replacement character, so the reader sees something was there), and NUL
    and the other control characters but tab, line feed and carriage return are removed.
    """
    if text.isprintable() or _UNFIT.search(text) is None:  # the usual cases, no copy
        return text
    if _SURROGATE.search(text) is not None:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub("", text)


def new_id() -> str:
    """A fresh random identifier (32 hex digits)."""
    return uuid.uuid4().hex


class MediaDict(TypedDict):
    """An attachment as stored and sent in frames."""

    url: str
    content_type: str


class MessageFields(TypedDict):
    """The fields of a message every JSON form of it shares (:class:`MessageDict`, and the web
    chat's client-facing form, which names an article differently).

    ``channel`` is the channel a customer message came in on; it is part of client-facing frames
    too, so a customer who writes by SMS and web chat sees where each message was sent.
    """

    id: str
    role: str
    text: str
    ts: float
    author: NotRequired[str]
    channel: NotRequired[str]
    media: NotRequired[list[MediaDict]]
    control: NotRequired[str]
    seq: NotRequired[int]
    options: NotRequired[list[str]]


class MessageDict(MessageFields):
    """A message as stored in Redis and carried by hub events and the agents' frames."""

    article: NotRequired[ArticleDict]


@dataclass(frozen=True)
class Message:
    """One message of a conversation, as stored in its history.

    ``seq`` numbers a conversation's customer messages in the order they were accepted (the
    store assigns it); the conversation's ``answered`` cursor says up to which one the core has
    handled them. ``options`` are a bot message's suggested replies (Rasa buttons): quick
    replies in the web chat, numbered choices by SMS. ``article`` is the help-centre article a
    bot message was answered from.
    """

    role: Role
    text: str
    id: str = field(default_factory=new_id)
    ts: float = field(default_factory=time.time)
    author: str | None = None
    channel: str | None = None
    media: tuple[Media, ...] = ()
    control: Control | None = None
    seq: int | None = None
    options: tuple[str, ...] = ()
    article: ArticleRef | None = None

    def __post_init__(self) -> None:
        # Every message passes here, whoever wrote it (a customer on any channel, an agent in
        # Slack or the console) and whenever (stored before text was cleaned at the edge).
        object.__setattr__(self, "text", clean_text(self.text))
        if self.author is not None:
            object.__setattr__(self, "author", clean_text(self.author))

    def to_dict(self) -> MessageDict:
        """The JSON-ready form used in Redis and in web chat frames."""
        data: MessageDict = {
            "id": self.id,
            "role": self.role.value,
            "text": self.text,
            "ts": self.ts,
        }
        if self.author is not None:
            data["author"] = self.author
        if self.channel is not None:
            data["channel"] = self.channel
        if self.media:
            data["media"] = [{"url": m.url, "content_type": m.content_type} for m in self.media]
        if self.control is not None:
            data["control"] = self.control.value
        if self.seq is not None:
            data["seq"] = self.seq
        if self.options:
            data["options"] = list(self.options)
        if self.article is not None:
            data["article"] = self.article.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: MessageDict) -> Message:
        """The inverse of :meth:`to_dict`."""
        media = tuple(Media(m["url"], m["content_type"]) for m in data.get("media", ()))
        return cls(
            role=Role(data["role"]),
            text=str(data["text"]),
            id=str(data["id"]),
            ts=float(data["ts"]),
            author=data.get("author"),
            channel=data.get("channel"),
            media=media,
            control=Control(data["control"]) if "control" in data else None,
            seq=data.get("seq"),
            options=tuple(str(o) for o in data.get("options", ())),
            article=article_from_dict(data.get("article")),
        )


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


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as a connector hands it to the core.

    ``dedup_id`` is the vendor's own id for the message (Twilio's MessageSid, the web chat
    client's message id), so a retried webhook is recognised and handled once. ``control``
    marks a channel keyword (SMS STOP/START/HELP) the core handles without classifying.
    ``customer_id`` is set by a connector that already knows the address's customer (a web
    chat session resolves it once), saving a look-up per message.
    """

    address: Address
    text: str
    dedup_id: str = field(default_factory=new_id)
    ts: float = field(default_factory=time.time)
    media: tuple[Media, ...] = ()
    control: Control | None = None
    customer_id: str | None = None

    def __post_init__(self) -> None:
        # one cleaning point for every connector's customer text (see :func:`clean_text`)
        object.__setattr__(self, "text", clean_text(self.text))
