"""Accepting customers' messages and answering them.

``accept(inbound)`` stores a message once (dedup, append, number: one atomic step) and is all a
connector waits for before acknowledging. ``process(cid)`` answers every customer message of
the conversation not yet handled, in history order, under the conversation's lock; each answer
advances the conversation's ``answered`` cursor in the same write, so a second ``process`` of
the same conversation (another worker, a retry) finds nothing left to do.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.contracts import Responder, Understanding
from bot.delivery.consent import Consent
from bot.delivery.outbox import Outbox
from bot.desk.handoff import Handoff
from bot.handled import Handled
from bot.identity.linking import Linking
from bot.insight import decisions
from bot.insight.csat import Surveys
from bot.metrics import Metrics
from bot.models import Conversation, InboundMessage, Message, Outcome, Role, State
from bot.pipeline import log_context
from bot.pipeline.answering import Answering
from bot.pipeline.controls import Controls
from bot.pipeline.text_answers import TextAnswers
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, RateLimitedError, Store
from bot.texts import Texts

PROCESSING_FAILED_REASON = "could not process a message"

log = logging.getLogger(__name__)


class Dispatcher:
    """Takes customers' messages from every connector and answers or escalates them."""

    def __init__(
        self,
        store: Store,
        consent: Consent,
        reader: Understanding,
        responder: Responder,
        handoff: Handoff,
        outbox: Outbox,
        metrics: Metrics,
        texts: Texts | None = None,
        linking: Linking | None = None,
        patterns: decisions.Patterns = (),
        surveys: Surveys | None = None,
    ) -> None:
        """``linking``: carrying the conversation across channels (off when None);
        ``patterns``: the shop's own redaction patterns (the journal's unsure messages);
        ``surveys``: satisfaction surveys (their answers taken before any reading)."""
        self._store = store
        self._handoff = handoff
        self._metrics = metrics
        self._texts = texts or Texts()
        self._answering = Answering(
            store, responder, handoff, outbox, metrics, self._texts, patterns
        )
        self._controls = Controls(store, consent, self._answering, handoff, self._texts)
        self._text = TextAnswers(
            store,
            reader,
            responder,
            handoff,
            self._answering,
            self._texts,
            linking=linking,
            surveys=surveys,
            patterns=patterns,
        )
        self._linking = linking
        self._surveys = surveys

    @property
    def metrics(self) -> Metrics:
        """The counters this dispatcher adds to."""
        return self._metrics

    async def accept(self, inbound: InboundMessage) -> tuple[Outcome, str]:
        """Store the message once and queue its conversation's work (a repeat of a message
        still unanswered queues it again); the outcome and the conversation id."""
        cid = inbound.customer_id or await self._store.resolve(inbound.address)
        with log_context.conversation(cid):
            return await self._accept(cid, inbound)

    async def _accept(self, cid: str, inbound: InboundMessage) -> tuple[Outcome, str]:
        channel = inbound.address.channel
        message = Message(
            role=Role.CUSTOMER,
            text=inbound.text,
            ts=inbound.ts,
            channel=channel,
            media=inbound.media,
            control=inbound.control,
        )
        try:
            accepted = await self._store.accept(cid, inbound.address, inbound.dedup_id, message)
        except RateLimitedError:
            self._metrics.inbound.labels(channel=channel, outcome="limited").inc()
            log.info("conversation %s: %s message refused, over the rate limit", cid, channel)
            raise
        outcome = Outcome.ACCEPTED if accepted and accepted.new else Outcome.DUPLICATE
        self._metrics.inbound.labels(channel=channel, outcome=outcome.value).inc()
        stored = accepted.conversation_id if accepted else cid
        # the words only at DEBUG: INFO lines never carry what a customer wrote
        log.info("conversation %s: %s message %s", stored, channel, outcome.value)
        log.debug("conversation %s: the customer wrote %r", stored, inbound.text)
        return outcome, stored

    async def process(self, cid: str, limit: int | None = None) -> bool:
        """Answer every message of conversation ``cid`` not yet handled, oldest first, or the
        first ``limit`` of them; True when some are left (past the limit)."""
        lock = self._store.lock(cid)
        with log_context.conversation(cid):
            left = await self._process(cid, lock, limit)
            if self._surveys is not None:  # an after-bot survey counts its quiet from here
                await self._surveys.processed(cid)
        return left

    async def _process(self, cid: str, lock: ConversationLock, limit: int | None) -> bool:
        answered = 0
        async with lock as conversation:
            while pending := conversation.unanswered():
                if limit is not None and answered >= limit:
                    return True
                await self._route(_upto(conversation, pending[0]), pending[0], lock)
                answered += 1
                if lock.released:  # the answer's write found nothing left and let go
                    return False
                conversation = await self._store.recent(cid)
        return False

    async def dead_letter(self, cid: str, answered: int) -> None:
        """Skip the message after cursor ``answered`` (its processing failed every try) and
        hand the conversation to a person, who sees why on the ticket. Nothing when the cursor
        moved meanwhile; a conversation already with agents only moves past it."""
        with log_context.conversation(cid):
            await self._dead_letter(cid, answered)

    async def _dead_letter(self, cid: str, answered: int) -> None:
        lock = self._store.lock(cid)
        async with lock as conversation:
            pending = conversation.unanswered()
            if conversation.answered != answered or not pending:
                return
            message = pending[0]
            done: MetaUpdate = {"answered": message.seq or 0}
            if conversation.state is not State.BOT:
                await self._store.record(cid, meta=done, fence=lock)
                return
            await self._handoff.escalate(
                _upto(conversation, message),
                PROCESSING_FAILED_REASON,
                lead=self._texts.processing_failed,
                meta={**done, "expect": None, "linking": None},
                fence=lock,
            )

    async def _route(
        self, conversation: Conversation, message: Message, fence: ConversationLock
    ) -> None:
        """Answer ``message``; every write is fenced by the conversation's lock."""
        done: MetaUpdate = {"answered": message.seq or 0}
        if message.control is not None:
            await self._controls.handle(conversation, message, done, fence)
        elif conversation.state is not State.BOT:
            await self._while_escalated(conversation, message, done, fence)
        elif not message.text.strip():
            text = self._texts.media_only if message.media else self._texts.no_words
            await self._answering.reply(conversation, text, {**done, "misunderstood": 0}, fence)
        else:
            await self._text.answer(conversation, message, done, fence)

    async def _while_escalated(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """The agents get every message; the bot still carries the conversation to another
        channel when asked (a customer waiting in the queue who has to leave)."""
        linked = (
            self._linking is not None
            and message.text.strip() != ""
            and await self._linking.route(conversation, message, done, fence) is Handled.DONE
        )
        await self._handoff.to_agents(
            conversation, message, None if linked else done, linked, fence=fence
        )


def _upto(conversation: Conversation, message: Message) -> Conversation:
    """The conversation as it stood when ``message`` arrived (later messages left out)."""
    index = conversation.messages.index(message)
    return replace(conversation, messages=conversation.messages[: index + 1])
