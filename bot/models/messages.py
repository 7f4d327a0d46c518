"""Messages: who wrote them, what they hold, as stored and as a connector hands them in."""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

from bot.article import ArticleDict, ArticleRef, article_from_dict
from bot.models.channels import Address

# Text no store, vendor or tokenizer can take: UTF-16 surrogates (a JSON "\ud800" escape decodes
# to one; UTF-8 cannot encode it) and the C0 control characters but tab and line breaks, with DEL.
_UNFIT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Role(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Outcome(StrEnum):
    """What became of an inbound message."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class Control(StrEnum):
    """A channel's control keyword (SMS STOP/START/HELP): never classified, never escalated."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


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
    """A fresh random identifier (32 hex digits): unguessable, for customers and tickets."""
    return uuid.uuid4().hex


class _MessageIds:
    """Unique message identifiers without a system call each: a random prefix drawn once per
    process (again in a forked child) and a counter (``uuid4``'s ``os.urandom`` was 8.5 % of an
    answer process's event loop, and hands the GIL to the model threads)."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


# 32 hex digits like new_id(), unique (not secret): a message's or a webhook's own identifier
message_id = _MessageIds()


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
    id: str = field(default_factory=message_id)
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
    dedup_id: str = field(default_factory=message_id)
    ts: float = field(default_factory=time.time)
    media: tuple[Media, ...] = ()
    control: Control | None = None
    customer_id: str | None = None

    def __post_init__(self) -> None:
        # one cleaning point for every connector's customer text (see :func:`clean_text`)
        object.__setattr__(self, "text", clean_text(self.text))
