"""A development agent desk: tickets and customer messages go to the log.

Used when Slack is not configured, so escalation works end to end on a laptop. The agent
console reads tickets and histories from Redis; this desk only keeps a small, bounded memory
of the latest tickets for inspection (tests, a debugger), so a long-running service does not
grow with every escalation.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from typing import TypeVar

from bot.contracts import TicketChange
from bot.models import Conversation, Message, new_id

MAX_TICKETS = 64  # the most recently touched tickets remembered; older ones are forgotten
MAX_ENTRIES = 100  # per ticket: its latest messages, and its latest changes

log = logging.getLogger("omnibot.desk")

T = TypeVar("T")


class LogDesk:
    """Writes tickets to the ``omnibot.desk`` logger and remembers the latest for inspection."""

    def __init__(self, max_tickets: int = MAX_TICKETS, max_entries: int = MAX_ENTRIES) -> None:
        self.tickets: OrderedDict[str, deque[Message]] = OrderedDict()
        self.changes: OrderedDict[str, deque[TicketChange]] = OrderedDict()
        self._max_tickets = max_tickets
        self._max_entries = max_entries

    async def open_ticket(self, conversation: Conversation, reason: str) -> str:
        """Log a new ticket with the whole transcript."""
        ticket = f"console-{new_id()}"
        self._remember(self.tickets, ticket).extend(conversation.messages)
        reaches = conversation.customer.addresses if conversation.customer else ()
        log.info(
            "ticket %s for conversation %s: %s (%d messages; channels: %s)",
            ticket,
            conversation.id,
            reason,
            len(conversation.messages),
            ", ".join(sorted({a.channel for a in reaches})) or "-",
        )
        return ticket

    async def post(self, ticket: str, message: Message) -> None:
        """Log a customer's message on the ticket."""
        self._remember(self.tickets, ticket).append(message)
        log.info("ticket %s: %s wrote %d characters", ticket, message.role.value, len(message.text))

    async def update_ticket(
        self, ticket: str, conversation: Conversation, change: TicketChange
    ) -> None:
        """Log the ticket's new status."""
        self._remember(self.changes, ticket).append(change)
        log.info("ticket %s: %s by %s", ticket, change.status.value, change.agent or "nobody")

    def _remember(self, memory: OrderedDict[str, deque[T]], ticket: str) -> deque[T]:
        """The ticket's entries, now the most recent; the least recent ticket goes past the cap."""
        entries = memory.get(ticket)
        if entries is None:
            entries = memory[ticket] = deque(maxlen=self._max_entries)
        memory.move_to_end(ticket)
        while len(memory) > self._max_tickets:
            memory.popitem(last=False)
        return entries
