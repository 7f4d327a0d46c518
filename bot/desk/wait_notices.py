"""What a customer waiting for an agent is told: that the team has their message, their place
in the queue and the typical wait, or (outside the agents' hours) when the agents are back.
The words are the :class:`~bot.texts.Texts` catalogue's."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.desk.hours import AgentHours
from bot.desk.tickets import Tickets
from bot.models import Conversation
from bot.texts import Texts


class WaitNotices:
    """The notices of a conversation handed to the agents, from the queue and the hours."""

    def __init__(self, tickets: Tickets, texts: Texts, hours: AgentHours | None = None) -> None:
        self._tickets = tickets
        self._texts = texts
        self._hours = hours

    def handed_off(self, conversation: Conversation) -> str:
        """What the customer is told at the hand-off: the agents are away, or they will answer."""
        return self._away_text(self._texts.away, conversation) or self._texts.waiting

    async def queued(self, conversation: Conversation) -> str:
        """What a waiting customer is told: the team has it, their place, the typical wait."""
        away = self._away_text(self._texts.queued_away, conversation)
        if away:
            return away
        place, typical = await self._tickets.queue_place(conversation.id)
        wait = ""
        if typical is not None:
            minutes = max(1, round(typical / 60))
            wait = self._texts.typical_wait.format(minutes=minutes, s="" if minutes == 1 else "s")
        return self._texts.queued.format(place=place or 1, wait=wait)

    def _away_text(self, template: str, conversation: Conversation) -> str | None:
        """``template`` filled in when the agents are away now, else None."""
        now = datetime.now(UTC)
        if self._hours is None or self._hours.is_open(now):
            return None
        channel = conversation.last_address.channel if conversation.last_address else None
        return template.format(
            when=self._hours.describe_opening(now), where=self._texts.where_on(channel)
        )
