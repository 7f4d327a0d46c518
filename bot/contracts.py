"""The protocols the core declares and the connectors and the intent engine implement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from aiohttp import web

from bot.models import Address, Conversation, InboundMessage, Message, Outcome

InboundHandler = Callable[[InboundMessage], Awaitable[Outcome]]
"""How a connector hands a customer's message to the core (``Dispatcher.handle``)."""


@dataclass(frozen=True)
class Prediction:
    """The classifier's verdict on one text.

    ``confident`` says whether the engine's decision rule accepts ``intent`` as an answer; when
    it is false the core asks the customer to rephrase or escalates.
    """

    intent: str
    confidence: float
    confident: bool
    ranking: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Answer:
    """What the intent engine proposes: a text for the customer, and/or a reason to escalate.

    ``expect`` pins the customer's next message to that intent (an action asked a question);
    ``slots``, when not None, replaces the conversation's slots. An answer with neither text
    nor escalation means "not mine": the core classifies the message as usual.
    """

    text: str | None
    escalate: str | None = None
    expect: str | None = None
    slots: dict[str, str] | None = None


class IntentClassifier(Protocol):
    """Turns a customer's text into a :class:`Prediction`."""

    async def classify(self, text: str) -> Prediction: ...


class Responder(Protocol):
    """Picks the automated answer (template or custom action) for a confident prediction."""

    async def respond(self, prediction: Prediction, conversation: Conversation,
                      text: str) -> Answer: ...


class Connector(Protocol):
    """A customer channel: its HTTP routes, and delivery of messages to an address on it."""

    channel: ClassVar[str]

    def routes(self) -> list[web.RouteDef]: ...

    async def send(self, to: Address, message: Message) -> None: ...


class AgentDesk(Protocol):
    """Where human agents work (Slack; a local console for development)."""

    async def open_ticket(self, conversation: Conversation, reason: str) -> str: ...

    async def post(self, ticket: str, message: Message) -> None: ...
