"""The bot/human hand-off: ``bot`` -> ``waiting`` -> ``agent`` -> ``bot``."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.contracts import AgentDesk
from bot.metrics import Metrics
from bot.models import Conversation, Message, Role, State
from bot.outbox import Outbox, Result
from bot.store import MetaUpdate, Store

WAITING_TEXT = "I'm passing you to a member of our team. An agent will join shortly."
JOINED_TEXT = "{agent} joined the conversation."
BACK_TO_BOT_TEXT = "You're back with the assistant. Ask me anything, or ask for a person again."
RESOLVED_TEXT = "{agent} marked the conversation as resolved. You're back with the assistant."
UNDELIVERED_TEXT = ("Not delivered to the customer ({result}): {reason}. They will not see "
                    "this reply.")
UNDELIVERED_REASONS = {Result.SUPPRESSED: "they opted out of this channel (SMS STOP)",
                       Result.FAILED: "the channel refused the message",
                       Result.DEAD: "the channel kept failing; it is in the dead-letter list"}

log = logging.getLogger(__name__)


class Handoff:
    """Moves a conversation between the bot and human agents and tells every side."""

    def __init__(self, store: Store, desk: AgentDesk, outbox: Outbox,
                 metrics: Metrics | None = None) -> None:
        self._store = store
        self._desk = desk
        self._outbox = outbox
        self._metrics = metrics or Metrics()

    async def escalate(self, conversation: Conversation, reason: str,
                       lead: str | None = None, meta: MetaUpdate | None = None) -> None:
        """Hand the conversation to the agents (the caller holds its lock).

        ``meta`` holds further conversation fields to store in the same write.
        """
        text = f"{lead} {WAITING_TEXT}" if lead else WAITING_TEXT
        notice = Message(role=Role.BOT, text=text)
        await self._store.record(conversation.id, (notice,),
                                 {**(meta or {}), "state": State.WAITING, "misunderstood": 0})
        await self._outbox.deliver(conversation.id, conversation.last_address, (notice,))
        self._metrics.escalations.labels(reason=reason).inc()
        waiting = replace(conversation, state=State.WAITING,
                          messages=(*conversation.messages, notice))
        await self.open_ticket(waiting, reason)

    async def open_ticket(self, conversation: Conversation, reason: str) -> str | None:
        """Open the desk ticket with the whole transcript; on failure log it and return None.

        A conversation left without a ticket gets one on the customer's next message.
        """
        try:
            ticket = await self._desk.open_ticket(conversation, reason)
        except Exception:
            log.exception("could not open a ticket for conversation %s", conversation.id)
            return None
        await self._store.record(conversation.id, meta={"ticket": ticket})
        return ticket

    async def to_agents(self, conversation: Conversation, message: Message,
                        done: MetaUpdate | None) -> None:
        """Forward a customer's message to the ticket's thread (the caller holds the lock).

        ``done`` (the handled cursor) is stored once the desk has the message.
        """
        if conversation.ticket is None:
            # the new ticket's transcript already holds the message
            await self.open_ticket(conversation, "customer wrote while waiting without a ticket")
        else:
            await self._desk.post(conversation.ticket, message)
        if done:
            await self._store.record(conversation.id, meta=done)

    async def claim(self, conversation_id: str, agent: str) -> None:
        """An agent takes the conversation: state ``agent``, the customer is told."""
        async with self._store.lock(conversation_id):
            conversation = await self._store.load(conversation_id)
            await self._change(conversation, State.AGENT, JOINED_TEXT.format(agent=agent),
                               {"agent": agent})

    async def agent_reply(self, conversation_id: str, agent: str, text: str) -> None:
        """An agent's words go to the customer on the channel they last used."""
        async with self._store.lock(conversation_id):
            conversation = await self._store.load(conversation_id)
            if conversation.state is not State.AGENT or conversation.agent != agent:
                await self._change(conversation, State.AGENT, JOINED_TEXT.format(agent=agent),
                                   {"agent": agent})
            reply = Message(role=Role.AGENT, text=text, author=agent)
            await self._store.record(conversation_id, (reply,))
            results = await self._outbox.deliver(conversation_id, conversation.last_address,
                                                 (reply,))
            if results and results[0] is not Result.SENT and conversation.ticket:
                await self._tell_agents(conversation.ticket, results[0])

    async def _tell_agents(self, ticket: str, result: Result) -> None:
        notice = Message(role=Role.SYSTEM, text=UNDELIVERED_TEXT.format(
            result=result.value, reason=UNDELIVERED_REASONS[result]))
        try:
            await self._desk.post(ticket, notice)
        except Exception:
            log.exception("could not tell ticket %s that a reply was not delivered", ticket)

    async def back_to_bot(self, conversation_id: str, agent: str | None = None,
                          resolved: bool = False) -> None:
        """Return the conversation to the bot (Resolve or Back to bot)."""
        text = RESOLVED_TEXT.format(agent=agent or "The agent") if resolved else BACK_TO_BOT_TEXT
        async with self._store.lock(conversation_id):
            conversation = await self._store.load(conversation_id)
            if conversation.state is not State.BOT:
                await self._change(conversation, State.BOT, text,
                                   {"agent": None, "ticket": None})

    async def _change(self, conversation: Conversation, state: State, text: str,
                      meta: MetaUpdate) -> None:
        notice = Message(role=Role.SYSTEM, text=text)
        await self._store.record(conversation.id, (notice,), {**meta, "state": state})
        await self._outbox.deliver(conversation.id, conversation.last_address, (notice,))
