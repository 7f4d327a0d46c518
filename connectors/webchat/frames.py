"""The web chat's JSON frames: parsing what clients send, building what the server sends.

Message frames carry the stored message, ``channel`` included: a customer reached on several
channels sees where each of their messages was written. The help-centre article a bot message
was answered from is named by its title and url only: its key and score are for agents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from bot.models import MessageDict
from bot.models.channels import WEBCHAT_MAX_CHARS
from bot.models.messages import MessageFields
from connectors.frames import FrameError as FrameError
from connectors.frames import parse_frame

MAX_TEXT_CHARS = WEBCHAT_MAX_CHARS  # a customer's message, as an agent's reply (bot.models)
HINT_DIGITS = 4  # a link's phone is shown by its last digits only
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ClientMessageFrame(TypedDict, total=False):
    """What a client sends: ``{"type": "message", "text": ..., "id": ...}``."""

    type: Literal["message"]
    text: str
    id: str


class SessionFrame(TypedDict):
    """The first server frame: the session token to resume with, and whether the visitor
    can carry on by SMS (the widget then offers "Continue by SMS")."""

    type: Literal["session"]
    token: str
    sms: bool


class ArticleLink(TypedDict):
    """The article a bot message was answered from, as the widget links it."""

    title: str
    url: str | None


class ClientMessageDict(MessageFields):
    """A message as a visitor's browser sees it."""

    article: NotRequired[ArticleLink]


class HistoryFrame(TypedDict):
    """The conversation so far."""

    type: Literal["history"]
    messages: list[ClientMessageDict]


class StateFrame(TypedDict):
    """Who is answering: ``bot``, ``waiting`` or ``agent``."""

    type: Literal["state"]
    state: str


class MessageFrame(ClientMessageDict):
    """One message of the conversation."""

    type: Literal["message"]


class ErrorFrame(TypedDict):
    """Why a client frame was refused."""

    type: Literal["error"]
    code: str
    message: str


class LinkFrame(TypedDict):
    """What became of the link (``?continue=``) a page was opened with: ``link_opened`` (this
    session now continues that SMS conversation) or ``link_offer`` (the visitor kept their own
    conversation; reconnecting with ``continue`` and ``confirm=1`` switches). ``phone_hint``
    names the phone the link was texted to by its last digits (``…1234``; empty if unknown)."""

    type: Literal["link_opened", "link_offer"]
    phone_hint: str


ServerFrame = SessionFrame | HistoryFrame | StateFrame | MessageFrame | ErrorFrame | LinkFrame


@dataclass(frozen=True)
class ClientMessage:
    """A customer's message frame; ``client_id`` lets a resend after reconnecting be deduped."""

    text: str
    client_id: str | None = None


def parse_client_frame(raw: str) -> ClientMessage:
    """Validate one client text frame, raising :class:`FrameError` when it is refused."""
    return parse_frame(raw, {"message": _message})


def _message(data: dict[str, Any]) -> ClientMessage:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError("empty_text", "a message needs a non-empty 'text'")
    if len(text) > MAX_TEXT_CHARS:
        raise FrameError("text_too_long", f"a message holds at most {MAX_TEXT_CHARS} characters")
    client_id = data.get("id")
    if client_id is not None and (
        not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id)
    ):
        raise FrameError("invalid_id", "'id' must be 1 to 64 letters, digits, '-' or '_'")
    return ClientMessage(text=text.strip(), client_id=client_id)


def session_frame(token: str, sms: bool = False) -> SessionFrame:
    """The frame naming the visitor's session token."""
    return {"type": "session", "token": token, "sms": sms}


def history_frame(messages: Sequence[MessageDict]) -> HistoryFrame:
    """The frame carrying the conversation so far (stored messages, as visitors see them)."""
    return {"type": "history", "messages": [client_message(m) for m in messages]}


def state_frame(state: str) -> StateFrame:
    """The frame naming the conversation's state."""
    return {"type": "state", "state": state}


def error_frame(error: FrameError) -> ErrorFrame:
    """The frame telling a client why its frame was refused."""
    return {"type": "error", "code": error.code, "message": error.message}


def message_frame(message: MessageDict) -> MessageFrame:
    """A stored message (``Message.to_dict()``) as a message frame."""
    return {"type": "message", **client_message(message)}


def client_message(message: MessageDict) -> ClientMessageDict:
    """A stored message as a visitor sees it: its article named by title and url only."""
    fields = message.copy()
    article = fields.pop("article", None)
    client: ClientMessageDict = {**fields}
    if article is not None:
        client["article"] = {"title": article["title"], "url": article["url"]}
    return client


def link_frame(kind: Literal["link_opened", "link_offer"], phone: str | None) -> LinkFrame:
    """The frame saying a link was opened, or offering it, naming its phone's last digits."""
    hint = "…" + phone[-HINT_DIGITS:] if phone and len(phone) > HINT_DIGITS else ""
    return {"type": kind, "phone_hint": hint}
