"""A channel's control keywords (SMS STOP / START / HELP): consent and help, never classified,
never escalated."""

from __future__ import annotations

from bot.delivery.consent import Consent
from bot.desk.handoff import Handoff
from bot.insight.journal import EventType, JournalEvent, journal_event
from bot.models import Conversation, Message, State
from bot.models.messages import Control
from bot.pipeline.answering import Answering
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store
from bot.texts import Texts

CONSENT_EVENTS = {Control.OPT_OUT: EventType.OPTED_OUT, Control.OPT_IN: EventType.OPTED_IN}


class Controls:
    """Handles a message that is a control keyword."""

    def __init__(
        self, store: Store, consent: Consent, answering: Answering, handoff: Handoff, texts: Texts
    ) -> None:
        """``answering`` says the keyword's reply; ``handoff`` shows it to the agents."""
        self._store = store
        self._consent = consent
        self._answering = answering
        self._handoff = handoff
        self._texts = texts

    async def handle(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """STOP / START / HELP: consent and help, never classified, never escalated.

        The consent marker is keyed by address (another slot): the journal's ``opted_out`` /
        ``opted_in`` event goes with the write that moves past the message, so a crash in
        between has the message handled again (the marker set again) and the event written
        once."""
        address = conversation.last_address
        events: list[JournalEvent] = []
        if address is not None and message.control in CONSENT_EVENTS:
            if message.control is Control.OPT_OUT:
                await self._consent.opt_out(address)
            else:
                await self._consent.opt_in(address)
            kind = CONSENT_EVENTS[message.control]
            events.append(journal_event(kind, conversation.id, address.channel))
        text = {Control.OPT_IN: self._texts.opt_in, Control.HELP: self._texts.help}.get(
            message.control or Control.OPT_OUT
        )
        if text is None:
            await self._store.record(conversation.id, meta=done, fence=fence, events=events)
        else:
            await self._answering.reply(conversation, text, done, fence, events=events)
        if conversation.state is not State.BOT:  # the agent sees the keyword in the ticket
            await self._handoff.to_agents(conversation, message, None, True, fence=fence)
