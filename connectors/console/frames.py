"""The agent console's JSON frames: parsing what the page sends, building what the server sends.

Client frames name the conversation they act on, so one socket can switch between
conversations; action frames also carry the agent's name, which the page keeps in
``localStorage`` (the console has no accounts: the token admits the whole team).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, NotRequired, TypedDict

from bot.contracts import AgentAction, AgentResult
from bot.models import MessageDict
from connectors.frames import FrameError as FrameError
from connectors.frames import FrameParser, parse_frame

MAX_TEXT_CHARS = 4000  # a reply or a note; a customer's channel may hold less (DeskActions)
MAX_AGENT_CHARS = 64
CONVERSATION_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: no trailing newline

TEXT_ACTIONS = (AgentAction.REPLY, AgentAction.NOTE)

# client -> server --------------------------------------------------------------------------


class OpenClientFrame(TypedDict):
    """Follow a conversation: its history now, its changes live."""

    type: Literal["open"]
    conversation: str


class ActionClientFrame(TypedDict, total=False):
    """Act on a conversation; ``text`` for ``reply`` and ``note`` only."""

    type: Literal["claim", "reply", "note", "resolve", "back_to_bot"]
    conversation: str
    agent: str
    text: str


ClientFrame = OpenClientFrame | ActionClientFrame


@dataclass(frozen=True)
class OpenRequest:
    """A parsed ``open`` frame."""

    conversation: str


@dataclass(frozen=True)
class ActionRequest:
    """A parsed action frame (``text`` is set for replies and notes)."""

    action: AgentAction
    conversation: str
    agent: str
    text: str | None = None


# server -> client --------------------------------------------------------------------------


class TicketDict(TypedDict):
    """One conversation as the list and the header show it.

    ``customer`` is a short label; ``address`` is the customer's SMS number, and None on web
    chat, whose address is the visitor's session token (it must never leave the server);
    ``reaches`` names every channel a customer linked (an SMS one with its number);
    ``max_chars`` is the longest reply the customer's channel carries (None: any, it is split).
    """

    conversation: str
    customer: str
    channel: str | None
    max_chars: int | None
    address: str | None
    reaches: list[str]
    state: str
    agent: str | None
    reason: str | None
    intent: str | None
    confidence: float | None
    detail: str | None
    escalated_at: float | None
    last_message: str | None


class ShownMessage(MessageDict):
    """A message as the console shows it: its text masked (:mod:`connectors.console.masking`);
    ``masked`` is set when something was, so the page offers to reveal the original."""

    masked: NotRequired[bool]


class ListFrame(TypedDict):
    """The waiting and claimed conversations; ``now`` is the server's clock for wait times."""

    type: Literal["list"]
    now: float
    conversations: list[TicketDict]


class HistoryFrame(TypedDict):
    """A followed conversation: its summary, whole history and internal notes."""

    type: Literal["history"]
    conversation: str
    ticket: TicketDict
    messages: list[ShownMessage]
    notes: list[ShownMessage]


class MessageFrame(TypedDict):
    """A message appended to a followed conversation."""

    type: Literal["message"]
    conversation: str
    message: ShownMessage


class StateFrame(TypedDict):
    """A followed conversation's new state and agent."""

    type: Literal["state"]
    conversation: str
    state: str
    agent: str | None


class NoteFrame(TypedDict):
    """An internal note added to a followed conversation."""

    type: Literal["note"]
    conversation: str
    note: ShownMessage


class OutcomeFrame(TypedDict):
    """What an action did (``outcome`` is an :class:`~bot.contracts.AgentOutcome` value) in
    words; ``action`` is what was done (a reply written as a note is a ``note``)."""

    type: Literal["outcome"]
    conversation: str
    action: str
    outcome: str
    message: str


class ErrorFrame(TypedDict):
    """Why a client frame was refused."""

    type: Literal["error"]
    code: str
    message: str


ServerFrame = (
    ListFrame | HistoryFrame | MessageFrame | StateFrame | NoteFrame | OutcomeFrame | ErrorFrame
)


def parse_client_frame(raw: str) -> OpenRequest | ActionRequest:
    """Validate one client text frame, raising :class:`FrameError` when it is refused."""
    return parse_frame(raw, PARSERS)


def _open(data: dict[str, Any]) -> OpenRequest | ActionRequest:
    return OpenRequest(_conversation(data.get("conversation")))


def _action(action: AgentAction, data: dict[str, Any]) -> OpenRequest | ActionRequest:
    conversation = _conversation(data.get("conversation"))
    text = _text(data.get("text")) if action in TEXT_ACTIONS else None
    return ActionRequest(action, conversation, _agent(data.get("agent")), text)


PARSERS: dict[str, FrameParser[OpenRequest | ActionRequest]] = {
    "open": _open,
    **{action.value: partial(_action, action) for action in AgentAction},
}


def _conversation(value: object) -> str:
    if not isinstance(value, str) or not CONVERSATION_RE.fullmatch(value):
        raise FrameError("invalid_conversation", "'conversation' must be a conversation id")
    return value


def _agent(value: object) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise FrameError("missing_agent", "enter your name first: customers see it")
    # Control and format characters could spoof other lines in transcripts and logs.
    if len(name) > MAX_AGENT_CHARS or any(unicodedata.category(c)[0] == "C" for c in name):
        raise FrameError("invalid_agent", f"a name is 1 to {MAX_AGENT_CHARS} printable characters")
    return name


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FrameError("empty_text", "write something first")
    if len(value) > MAX_TEXT_CHARS:
        raise FrameError("text_too_long", f"a text holds at most {MAX_TEXT_CHARS:,} characters")
    return value.strip()


def list_frame(now: float, conversations: Sequence[TicketDict]) -> ListFrame:
    """The frame listing the conversations with agents."""
    return {"type": "list", "now": now, "conversations": list(conversations)}


def history_frame(
    summary: TicketDict, messages: Sequence[ShownMessage], notes: Sequence[ShownMessage]
) -> HistoryFrame:
    """The frame carrying a followed conversation as it is now."""
    return {
        "type": "history",
        "conversation": summary["conversation"],
        "ticket": summary,
        "messages": list(messages),
        "notes": list(notes),
    }


def message_frame(conversation: str, message: ShownMessage) -> MessageFrame:
    """A new message of a followed conversation."""
    return {"type": "message", "conversation": conversation, "message": message}


def state_frame(conversation: str, state: str, agent: str | None) -> StateFrame:
    """A followed conversation's state change."""
    return {"type": "state", "conversation": conversation, "state": state, "agent": agent}


def note_frame(conversation: str, note: ShownMessage) -> NoteFrame:
    """A new internal note of a followed conversation."""
    return {"type": "note", "conversation": conversation, "note": note}


def outcome_frame(conversation: str, result: AgentResult) -> OutcomeFrame:
    """What an action did, in the words of :mod:`bot.desk.actions`."""
    return {
        "type": "outcome",
        "conversation": conversation,
        "action": result.action.value,
        "outcome": result.outcome.value,
        "message": result.message,
    }


def error_frame(error: FrameError) -> ErrorFrame:
    """The frame telling the page why its frame was refused."""
    return {"type": "error", "code": error.code, "message": error.message}
