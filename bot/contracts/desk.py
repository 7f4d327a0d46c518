"""The agent desk's contracts: what a desk implements (:class:`AgentDesk`), what it asks of the
core when agents act (:class:`DeskActions`), and the tickets and results between them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.models import Conversation, Message


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
