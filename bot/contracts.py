"""The protocols the core declares and the connectors and the intent engine implement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol

from aiohttp import web

from bot.article import ArticleRef
from bot.identity.verification import LinkGrant
from bot.models import Address, Conversation, InboundMessage, Message, Outcome

TOPIC_SLOT = "topic"  # the slot holding the intent the bot last answered

InboundHandler = Callable[[InboundMessage], Awaitable[Outcome]]
"""How a connector hands a customer's message to the core (``WorkStream.submit``)."""


class WebLinking(Protocol):
    """What the web chat asks of linking across channels (``bot.identity.linking.Linking``)."""

    async def peek_link(self, token: str) -> LinkGrant | None:
        """What a "continue on the web" link would open, leaving it unused (None: no such
        link now)."""
        ...

    async def open_link(self, token: str, address: Address) -> LinkGrant | None:
        """Redeem a link for web chat ``address``: the customer it now belongs to (None: no
        such link now)."""
        ...

    async def seal_code(self, cid: str, text: str) -> str:
        """What to store of a message: a typed verification code becomes a placeholder."""
        ...


@dataclass(frozen=True)
class Sent:
    """What a connector reports after handing a message to its vendor.

    ``segments`` is what the vendor bills (SMS segments), 0 where it does not apply;
    ``encoding`` names how the text was encoded for that count (``gsm7``, ``ucs2``).
    """

    vendor_id: str | None = None
    parts: int = 1
    segments: int = 0
    encoding: str | None = None


@dataclass(frozen=True)
class Unsure:
    """An earlier try of a message whose outcome is unknown: it started at ``since`` (unix
    seconds) and its process died, or the vendor's answer never came. ``known`` holds the
    vendor ids already recorded for the conversation's messages, which cannot be this one."""

    since: float
    known: frozenset[str] = frozenset()


class DeliveryError(Exception):
    """A connector could not hand a message to its vendor.

    ``permanent`` errors (an invalid or unsubscribed number) are not retried; others (rate
    limits, vendor errors, network) are, after ``retry_after`` seconds when the vendor said so.
    ``maybe_sent`` says the vendor may have taken the message all the same (a timeout, a cut
    connection, a server error), so the next try first asks the vendor.
    """

    def __init__(
        self,
        detail: str,
        permanent: bool = False,
        code: int | None = None,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


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

    @classmethod
    def pinned(cls, intent: str) -> Prediction:
        """A prediction the conversation decided, not the classifier (the intent that asked
        for the message, the one that takes a bare entity, a look-up for the agents)."""
        return cls(intent=intent, confidence=1.0, confident=True)


@dataclass(frozen=True)
class Answer:
    """What the intent engine proposes: a text for the customer, and/or a reason to escalate.

    ``more`` are further messages after ``text``, in order (a rule's several responses);
    ``options`` are the suggested replies of the last of them (Rasa buttons);
    ``expect`` pins the customer's next message to that intent (an action asked a question);
    ``slots``, when not None, replaces the conversation's slots; ``article`` is the
    help-centre article ``text`` was taken from (recorded on the bot's message); ``repair``
    says ``text`` asks the customer to put it another way (the bot's last answer missed). An answer
    with neither text nor escalation means "not mine": the core classifies the message as usual.
    """

    text: str | None
    escalate: str | None = None
    expect: str | None = None
    slots: dict[str, str] | None = None
    more: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    article: ArticleRef | None = None
    repair: bool = False


@dataclass(frozen=True)
class Context:
    """What reading a message sees of its conversation: the recent ``turns`` before it (oldest
    first) and the conversation's ``slots`` (entities found so far; :data:`TOPIC_SLOT` names
    the intent last answered)."""

    turns: tuple[Message, ...] = ()
    slots: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    """One request of a customer's message and what to do about it.

    ``prediction`` is the intent to answer (answered only when ``confident``); ``escalate``, when
    set, hands the conversation to a person for that reason instead (a problem with no answer
    of its own, frustration); ``attach`` names an intent whose answer the agents get on the
    ticket (the order the customer wrote about, looked up).
    """

    text: str
    prediction: Prediction
    escalate: str | None = None
    attach: str | None = None


@dataclass(frozen=True)
class Reading:
    """A message read with its conversation: its requests in order, and the entities found
    in it (slot name to value), to keep with the conversation."""

    parts: tuple[Part, ...]
    slots: dict[str, str] = field(default_factory=dict)


class Understanding(Protocol):
    """Reads a customer's message with its conversation (``intents.reading.Reader``)."""

    async def read(self, text: str, context: Context) -> Reading: ...


class IntentClassifier(Protocol):
    """Turns a customer's text into a :class:`Prediction`."""

    async def classify(self, text: str) -> Prediction: ...

    def close(self) -> None:
        """Release the model threads and models (the service is shutting down)."""
        ...


class Responder(Protocol):
    """Picks the automated answer (template or custom action) for a confident prediction."""

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer: ...


class Sender(Protocol):
    """Delivery of messages to addresses on one channel."""

    async def send(
        self, to: Address, message: Message, unsure: Unsure | None = None
    ) -> Sent | None:
        """Hand ``message`` to the vendor; raise :class:`DeliveryError` when that fails.

        With ``unsure`` an earlier try may have reached the vendor: a sender that can look up
        what its vendor took sends only what is missing (others send again)."""
        ...


class Connector(Sender, Protocol):
    """A customer channel: its HTTP routes, and delivery of messages to an address on it."""

    channel: ClassVar[str]

    def routes(self) -> list[web.AbstractRouteDef]: ...


class TicketStatus(StrEnum):
    """Where a ticket stands, as the desk shows it."""

    WAITING = "waiting"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    BACK_TO_BOT = "back_to_bot"


@dataclass(frozen=True)
class TicketChange:
    """A ticket's new status, who changed it and when."""

    status: TicketStatus
    agent: str | None = None
    at: float = 0.0


class AgentDesk(Protocol):
    """Where human agents work (Slack; a local console for development).

    Failures raise :class:`DeliveryError` (``permanent`` when retrying cannot help); the core
    keeps the desk's work queued in Redis and retries it in order.
    """

    async def open_ticket(self, conversation: Conversation, reason: str) -> str:
        """Open a ticket with the whole transcript; its id."""
        ...

    async def post(self, ticket: str, message: Message) -> None:
        """Add a later message of the conversation to the ticket."""
        ...

    async def update_ticket(
        self, ticket: str, conversation: Conversation, change: TicketChange
    ) -> None:
        """Show the ticket's new status (claimed, resolved, back to the bot)."""
        ...


class AgentAction(StrEnum):
    """What an agent can do to a conversation from a desk."""

    CLAIM = "claim"
    REPLY = "reply"
    NOTE = "note"
    RESOLVE = "resolve"
    BACK_TO_BOT = "back_to_bot"


class AgentOutcome(StrEnum):
    """What an agent's action did."""

    DONE = "done"
    ALREADY_YOURS = "already_yours"  # a Claim by the agent who has it
    TAKEN = "taken"  # a Claim on a conversation another agent has
    CLOSED = "closed"  # the conversation is back with the bot: nothing reaches the customer
    TOO_LONG = "too_long"  # a reply longer than the customer's channel carries: not sent
    NOT_OURS = "not_ours"  # a ticket that is no conversation's


@dataclass(frozen=True)
class AgentResult:
    """An agent's action as the desk reports it: what was done (a reply written as a note is
    a ``NOTE``), its outcome, and the outcome in words for the agent."""

    action: AgentAction
    outcome: AgentOutcome
    message: str

    @property
    def refused(self) -> bool:
        """Whether the action changed nothing the agent meant to (the desk should say why)."""
        return self.outcome not in (AgentOutcome.DONE, AgentOutcome.ALREADY_YOURS)


class DeskActions(Protocol):
    """What a desk asks of the core when agents act (the inbound side of :class:`AgentDesk`).

    ``ticket`` is the desk ticket the agent acted in, when the desk has tickets: an action in
    an older, closed one reaches nobody (``CLOSED``). A new desk implements
    :class:`AgentDesk`, calls these, and needs nothing else of the core.
    """

    async def conversation_of(self, ticket: str) -> str | None:
        """The conversation a desk ticket belongs to, if it is one of ours."""
        ...

    async def claim(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        """The agent takes the conversation; the customer is told."""
        ...

    async def reply(
        self, cid: str, agent: str, text: str, ticket: str | None = None
    ) -> AgentResult:
        """The agent's words go to the customer (written as a note, they stay a note)."""
        ...

    async def note(self, cid: str, agent: str, text: str) -> AgentResult:
        """An internal note, kept with the conversation, never sent to the customer."""
        ...

    async def resolve(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        """The conversation is resolved and goes back to the bot."""
        ...

    async def back_to_bot(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        """The conversation goes back to the bot, unresolved."""
        ...
