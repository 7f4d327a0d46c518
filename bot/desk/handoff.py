"""The bot/human hand-off: ``bot`` -> ``waiting`` -> ``agent`` -> ``bot``.

Every change is stored in one write with its copy for the customer's channel (the outbox's
queue), then the desk is given its work (:class:`DeskQueue`: queued in Redis, in order,
retried while the desk is down). The
agents' actions answer with an :class:`AgentOutcome` (a second agent's Claim, a reply to a
conversation already back with the bot, one its channel cannot carry), which
:mod:`bot.desk.actions` puts in words for the desk. What the customer is told is the
:class:`~bot.texts.Texts` catalogue's (while waiting: :mod:`bot.desk.wait_notices`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from bot.contracts import AgentOutcome, Prediction, TicketChange, TicketStatus
from bot.delivery.outbox import Outbox
from bot.desk.handoff_state import (
    agent_event,
    back_to_bot_meta,
    closed_to_agent,
    escalation_of,
    waiting_meta,
)
from bot.desk.hours import AgentHours
from bot.desk.queue import DeskJob, DeskQueue, open_job, post_job, update_job
from bot.desk.tickets import Tickets
from bot.desk.wait_notices import WaitNotices
from bot.insight import decisions
from bot.insight.journal import EventType, JournalEvent, journal_event
from bot.metrics import Metrics
from bot.models import Conversation, Message, Role, State
from bot.models.channels import too_long
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
        self._desk = desk
        self._outbox = outbox
        self._metrics = metrics
        self._texts = texts or Texts()
        self._notices = WaitNotices(tickets, self._texts, hours)
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
        escalation = escalation_of(reason, prediction, detail)
        waiting = self._notices.handed_off(conversation)
        notice = Message(role=Role.BOT, text=f"{lead} {waiting}" if lead else waiting)
        await self._outbox.say(
            conversation.id,
            conversation.last_address,
            (notice,),
            {**(meta or {}), **waiting_meta(escalation)},
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
            notice = Message(role=Role.BOT, text=await self._notices.queued(conversation))
            await self._outbox.say(
                conversation.id,
                conversation.last_address,
                (notice,),
                {**(done or {}), "notified_at": now},
                fence=fence,
            )
        elif done:
            await self._store.record(conversation.id, meta=done, fence=fence)

    async def claim(
        self, conversation_id: str, agent: str, ticket: str | None = None
    ) -> AgentOutcome:
        """An agent takes the conversation: state ``agent``, the customer is told.

        ``ticket``: the desk ticket the agent acted on; an older, closed one is refused.
        """
        lock = self._store.lock(conversation_id)
        async with lock as conversation:
            if closed_to_agent(conversation, ticket):
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
            if closed_to_agent(conversation, ticket):
                return AgentOutcome.CLOSED
            if conversation.state is State.WAITING:
                await self._join(conversation, agent, lock)
            reply = Message(role=Role.AGENT, text=text, author=agent)
            event = agent_event(EventType.AGENT_REPLY, conversation, reply.author)
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
            if closed_to_agent(conversation, ticket):
                return AgentOutcome.CLOSED
            change = TicketChange(status, agent, time.time())
            kind = EventType.RESOLVED if resolved else EventType.BACK_TO_BOT
            await self._change(
                conversation,
                State.BOT,
                text,
                back_to_bot_meta(conversation),
                update_job(change, conversation.ticket),
                lock,
                agent_event(kind, conversation, clean_text(agent) if agent else None),
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
            agent_event(EventType.CLAIMED, conversation, agent),
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
