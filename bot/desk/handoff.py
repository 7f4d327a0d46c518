"""The bot/human hand-off: ``bot`` -> ``waiting`` -> ``agent`` -> ``bot``.

Every change is stored in one write with its copy for the customer's channel (the outbox's
queue), then the desk is given its work (:class:`DeskQueue`: queued in Redis, in order,
retried while the desk is down). The
agents' actions answer with an :class:`AgentOutcome` (a second agent's Claim, a reply to a
conversation already back with the bot, one its channel cannot carry), which
:mod:`bot.desk.actions` puts in words for the desk. What the customer is told is the
:class:`~bot.texts.Texts` catalogue's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.contracts import AgentOutcome, Prediction, TicketChange, TicketStatus
from bot.delivery.outbox import Outbox
from bot.desk.hours import AgentHours
from bot.desk.queue import DeskJob, DeskQueue, open_job, post_job, update_job
from bot.desk.tickets import Tickets
from bot.insight import decisions
from bot.insight.journal import EventType, JournalEvent, journal_event
from bot.metrics import Metrics
from bot.models import Conversation, Message, Role, State
from bot.models.channels import too_long
from bot.models.conversation import Escalation
from bot.models.messages import clean_text
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store
from bot.texts import Texts

# A waiting customer's first message after the hand-off is acknowledged at once (with their
# place in the queue); later ones at most this often. ``notified_at`` in the conversation's meta
# (0 at the hand-off) is when the last acknowledgement went out, so the rule holds across
# processes. Once an agent has claimed the conversation, the agent answers: no acknowledgements.
NOTICE_EVERY_S = 180.0

log = logging.getLogger(__name__)


class Handoff:
    """Moves a conversation between the bot and human agents and tells every side."""

    def __init__(
        self,
        store: Store,
        tickets: Tickets,
        desk: DeskQueue,
        outbox: Outbox,
        metrics: Metrics,
        hours: AgentHours | None = None,
        texts: Texts | None = None,
        patterns: decisions.Patterns = (),
    ) -> None:
        """``patterns``: the shop's own redaction patterns (the journal's unsure messages)."""
        self._store = store
        self._tickets = tickets
        self._hours = hours
        self._desk = desk
        self._outbox = outbox
        self._metrics = metrics
        self._texts = texts or Texts()
        self._patterns = patterns

    async def escalate(
        self,
        conversation: Conversation,
        reason: str,
        lead: str | None = None,
        meta: MetaUpdate | None = None,
        prediction: Prediction | None = None,
        fence: ConversationLock | None = None,
        detail: str | None = None,
        events: Sequence[JournalEvent] = (),
    ) -> None:
        """Hand the conversation to the agents (the caller holds its lock: ``fence``).

        ``meta`` holds further conversation fields to store in the same write; ``prediction``
        is the bot's last guess and ``detail`` what else the agents should know, both shown on
        the ticket. The journal's ``escalated`` event (why, the guess) goes in the same write,
        after ``events`` (the answers the bot gave first).
        """
        event = decisions.escalated(conversation, reason, prediction, self._patterns)
        escalation = Escalation(
            reason,
            intent=prediction.intent if prediction else None,
            confidence=prediction.confidence if prediction else None,
            detail=detail,
        )
        waiting = self._away_text(self._texts.away, conversation) or self._texts.waiting
        notice = Message(role=Role.BOT, text=f"{lead} {waiting}" if lead else waiting)
        await self._outbox.say(
            conversation.id,
            conversation.last_address,
            (notice,),
            {
                **(meta or {}),
                "state": State.WAITING,
                "misunderstood": 0,
                "escalation": escalation,
                "ticket": None,
                "notified_at": 0.0,  # the next message is acknowledged at once
            },
            fence=fence,
            events=(*events, event),
        )
        self._metrics.escalations.labels(reason=reason).inc()
        await self._tickets.mark_open(conversation.id, escalation.at)
        await self._desk.push(conversation.id, (open_job(),))

    async def to_agents(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate | None,
        answered: bool = False,
        fence: ConversationLock | None = None,
    ) -> None:
        """Forward a customer's message to the ticket (the caller holds the lock: ``fence``).

        The desk's job is queued before ``done`` (the handled cursor) is stored, so a crash
        in between can post a message twice but never lose it. While waiting, the customer is
        told their message is with the team (see :data:`NOTICE_EVERY_S`). ``answered``: the bot
        replied to it already (no queue notice on top).
        """
        await self._desk.push(conversation.id, (post_job(message),))
        now = time.time()
        if (
            not answered
            and conversation.state is State.WAITING
            and now - conversation.notified_at >= NOTICE_EVERY_S
            and message.role is Role.CUSTOMER
        ):
            notice = Message(role=Role.BOT, text=await self._queue_text(conversation))
            await self._outbox.say(
                conversation.id,
                conversation.last_address,
                (notice,),
                {**(done or {}), "notified_at": now},
                fence=fence,
            )
        elif done:
            await self._store.record(conversation.id, meta=done, fence=fence)

    async def _queue_text(self, conversation: Conversation) -> str:
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

    async def claim(
        self, conversation_id: str, agent: str, ticket: str | None = None
    ) -> AgentOutcome:
        """An agent takes the conversation: state ``agent``, the customer is told.

        ``ticket``: the desk ticket the agent acted on; an older, closed one is refused.
        """
        lock = self._store.lock(conversation_id)
        async with lock as conversation:
            if _closed(conversation, ticket):
                return AgentOutcome.CLOSED
            if conversation.state is State.AGENT:
                return (
                    AgentOutcome.ALREADY_YOURS
                    if conversation.agent == agent
                    else AgentOutcome.TAKEN
                )
            await self._join(conversation, agent, lock)
            return AgentOutcome.DONE

    async def agent_reply(
        self, conversation_id: str, agent: str, text: str, ticket: str | None = None
    ) -> AgentOutcome:
        """An agent's words go to the customer on the channel they last used.

        A first reply to a waiting conversation claims it. ``ticket``: the desk ticket the
        agent replied in; a reply in an older, closed one reaches nobody. A reply longer than
        that channel's messages hold is refused (``TOO_LONG``) for the agent to split.
        """
        lock = self._store.lock(conversation_id)
        async with lock as conversation:
            address = conversation.last_address
            if too_long(address.channel if address else None, text):
                return AgentOutcome.TOO_LONG
            if _closed(conversation, ticket):
                return AgentOutcome.CLOSED
            if conversation.state is State.WAITING:
                await self._join(conversation, agent, lock)
            reply = Message(role=Role.AGENT, text=text, author=agent)
            event = _agent_event(EventType.AGENT_REPLY, conversation, reply.author)
            await self._outbox.say(
                conversation_id, conversation.last_address, (reply,), fence=lock, events=(event,)
            )
            return AgentOutcome.DONE

    async def note(self, conversation_id: str, agent: str, text: str) -> AgentOutcome:
        """An agent's internal note: kept with the conversation, never sent to the customer
        (its journal event in the note's transaction)."""
        note = Message(role=Role.SYSTEM, text=text, author=agent)
        # a note concerns no customer channel: no read of the conversation for one
        event = journal_event(EventType.NOTE, conversation_id, agent=note.author)
        await self._tickets.add_note(conversation_id, note, (event,))
        return AgentOutcome.DONE

    async def back_to_bot(
        self,
        conversation_id: str,
        agent: str | None = None,
        resolved: bool = False,
        ticket: str | None = None,
    ) -> AgentOutcome:
        """Return the conversation to the bot (Resolve or Back to bot); ``ticket`` as for
        :meth:`claim`."""
        texts = self._texts
        text = texts.resolved.format(agent=agent or "The agent") if resolved else texts.back_to_bot
        status = TicketStatus.RESOLVED if resolved else TicketStatus.BACK_TO_BOT
        lock = self._store.lock(conversation_id)
        async with lock as conversation:
            if _closed(conversation, ticket):
                return AgentOutcome.CLOSED
            change = TicketChange(status, agent, time.time())
            kind = EventType.RESOLVED if resolved else EventType.BACK_TO_BOT
            await self._change(
                conversation,
                State.BOT,
                text,
                {
                    "agent": None,
                    "ticket": None,
                    "escalation": None,
                    "previous_ticket": conversation.ticket or conversation.previous_ticket,
                },
                update_job(change, conversation.ticket),
                lock,
                _agent_event(kind, conversation, clean_text(agent) if agent else None),
            )
            await self._tickets.mark_closed(conversation_id)
            return AgentOutcome.DONE

    async def _join(self, conversation: Conversation, agent: str, fence: ConversationLock) -> None:
        agent = clean_text(agent)  # a name from Slack or the console, kept in the meta
        change = TicketChange(TicketStatus.CLAIMED, agent, time.time())
        since = conversation.escalation.at if conversation.escalation else change.at
        await self._tickets.mark_claimed(conversation.id, change.at - since)
        await self._change(
            conversation,
            State.AGENT,
            self._texts.joined.format(agent=agent),
            {"agent": agent},
            update_job(change, None),
            fence,
            _agent_event(EventType.CLAIMED, conversation, agent),
        )

    async def _change(
        self,
        conversation: Conversation,
        state: State,
        text: str,
        meta: MetaUpdate,
        job: DeskJob,
        fence: ConversationLock,
        event: JournalEvent,
    ) -> None:
        notice = Message(role=Role.SYSTEM, text=text)
        await self._outbox.say(
            conversation.id,
            conversation.last_address,
            (notice,),
            {**meta, "state": state},
            fence=fence,
            events=(event,),
        )
        await self._desk.push(conversation.id, (job,))


def _agent_event(kind: EventType, conversation: Conversation, agent: str | None) -> JournalEvent:
    """An agent's action on the conversation, for the journal."""
    return journal_event(
        kind, conversation.id, decisions.channel_of(conversation), agent=agent or None
    )


def _closed(conversation: Conversation, ticket: str | None) -> bool:
    """Whether an agent's action cannot reach the customer: the conversation is back with the
    bot, or ``ticket`` is not its open ticket (a resolved one; the conversation may have been
    escalated again since, and that newer ticket is not the old thread's to answer)."""
    return conversation.state is State.BOT or (ticket is not None and conversation.ticket != ticket)
