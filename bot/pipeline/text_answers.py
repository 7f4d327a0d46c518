"""Answering a customer's text while the bot has the conversation.

A bare score answering a survey is taken first, then a step of linking across channels, then
the reply an intent asked for; anything else is read (:mod:`bot.pipeline.reading`) and answered
(:mod:`bot.pipeline.answering`), after the cheap checks of :mod:`bot.pipeline.language`.
"""

from __future__ import annotations

from dataclasses import replace

from bot.contracts import Context, Prediction, Responder, Understanding
from bot.desk.handoff import Handoff
from bot.handled import Handled
from bot.identity.linking import Linking
from bot.insight import decisions
from bot.insight.csat import Surveys
from bot.models import Conversation, Message, Role
from bot.pipeline.answering import MAX_MISUNDERSTOOD, Answering, memory
from bot.pipeline.language import has_words, not_english
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store
from bot.texts import Texts

CONTEXT_TURNS = 6  # the recent messages a reading sees
OTHER_LANGUAGE_REASON = "the customer wrote in another language"


class TextAnswers:
    """Answers a customer's text message in a conversation the bot has."""

    def __init__(
        self,
        store: Store,
        reader: Understanding,
        responder: Responder,
        handoff: Handoff,
        answering: Answering,
        texts: Texts,
        linking: Linking | None = None,
        surveys: Surveys | None = None,
        patterns: decisions.Patterns = (),
    ) -> None:
        """``linking``: carrying the conversation across channels and ``surveys``: satisfaction
        surveys (off when None); ``patterns``: the shop's own redaction patterns."""
        self._store = store
        self._reader = reader
        self._responder = responder
        self._handoff = handoff
        self._answering = answering
        self._texts = texts
        self._linking = linking
        self._surveys = surveys
        self._patterns = patterns

    async def answer(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """Answer ``message``: a survey's score, a step of linking, the reply an intent asked
        for, or a message to read and answer."""
        if self._surveys is not None and await self._surveys.capture(
            conversation, message, done, fence
        ):
            return  # a survey's score: thanked and recorded, never read
        message = _chosen_option(conversation, message)
        if self._linking is not None:
            rest = await self._linking.route(conversation, message, done, fence)
            if rest is Handled.DONE:
                return
            conversation = rest
        if conversation.expect:
            released = await self._follow_up(conversation, message, done, fence)
            if released is not Handled.DONE:
                await self._classify(released, message, done, fence)
        else:
            await self._classify(conversation, message, done, fence)

    async def _classify(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        if not has_words(message.text):  # emoji, punctuation: nothing to answer...
            reading = await self._reader.read(message.text, _context(conversation))
            if any(part.escalate for part in reading.parts):  # ...but "???" from one waiting
                await self._answering.parts(conversation, reading.parts, done, fence)
            else:
                await self._answering.reply(conversation, self._texts.no_words, done, fence)
            return
        if not_english(message.text):
            await self._other_language(conversation, done, fence)
            return
        reading = await self._reader.read(message.text, _context(conversation))
        if reading.slots:  # what the customer told us stays with the conversation
            conversation = replace(conversation, slots={**conversation.slots, **reading.slots})
            done = {**done, "slots": conversation.slots}
        await self._answering.parts(conversation, reading.parts, done, fence)

    async def _other_language(
        self, conversation: Conversation, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        """A message in another language: asked once to write in English (with a person
        offered), then handed to a person."""
        if conversation.misunderstood < MAX_MISUNDERSTOOD:
            misunderstood = conversation.misunderstood + 1
            meta: MetaUpdate = {**done, "misunderstood": misunderstood}
            options = (self._texts.person_option,)
            event = decisions.asked(conversation, None, self._patterns)
            await self._answering.reply(
                conversation, self._texts.other_language, meta, fence, options, (event,)
            )
            return
        await self._handoff.escalate(conversation, OTHER_LANGUAGE_REASON, meta=done, fence=fence)

    async def _follow_up(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> Conversation | Handled:
        """Give the message to the intent that asked for it.

        :attr:`Handled.DONE` when that intent handled it; when it declines, the conversation as
        it stands once released (its slots and expectation cleared), to be classified as usual.
        """
        assert conversation.expect is not None
        pinned = Prediction.pinned(conversation.expect)
        answer = await self._responder.respond(pinned, conversation, message.text)
        if answer.text is None and answer.escalate is None:
            await self._store.record(conversation.id, meta=memory(answer), fence=fence)
            slots = conversation.slots if answer.slots is None else answer.slots
            return replace(conversation, expect=answer.expect, slots=slots)
        await self._answering.answer(conversation, pinned, answer, done, fence)
        return Handled.DONE


def _context(conversation: Conversation) -> Context:
    """What the reader sees: the turns before the conversation's last message, and its slots."""
    return Context(
        turns=tuple(conversation.messages[-CONTEXT_TURNS - 1 : -1]), slots=conversation.slots
    )


def _chosen_option(conversation: Conversation, message: Message) -> Message:
    """A bare number answering the last bot message's numbered options (SMS) as the option's
    text; any other message as it is."""
    choice = message.text.strip().rstrip(".)")
    if not choice.isdigit():
        return message
    asked = next((m for m in reversed(conversation.messages) if m.role is Role.BOT), None)
    if asked is None or not 1 <= int(choice) <= len(asked.options):
        return message
    return replace(message, text=asked.options[int(choice) - 1])
