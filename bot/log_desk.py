"""A development agent desk: tickets and customer messages go to the log.

Used when Slack is not configured, so escalation works end to end on a laptop.
"""

from __future__ import annotations

import logging

from bot.contracts import TicketChange
from bot.models import Conversation, Message, new_id

log = logging.getLogger("omnibot.desk")


class LogDesk:
    """Writes tickets to the ``omnibot.desk`` logger and remembers them for inspection."""

    def __init__(self) -> None:
        self.tickets: dict[str, list[Message]] = {}
        self.changes: dict[str, list[TicketChange]] = {}

    async def open_ticket(self, conversation: Conversation, reason: str) -> str:
        """Log a new ticket with the whole transcript."""
        ticket = f"console-{new_id()}"
        self.tickets[ticket] = list(conversation.messages)
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
        self.tickets.setdefault(ticket, []).append(message)
        log.info("ticket %s: %s wrote %d characters", ticket, message.role.value, len(message.text))

    async def update_ticket(
        self, ticket: str, conversation: Conversation, change: TicketChange
    ) -> None:
        """Log the ticket's new status."""
        self.changes.setdefault(ticket, []).append(change)
        log.info("ticket %s: %s by %s", ticket, change.status.value, change.agent or "nobody")
