"""Answering the requests of a customer's message: in one reply, or with a person.

The dispatcher decides which message to answer and when; :class:`Answering` says it: every
answer of a message in order, the parts the bot cannot take handed to a person (the ticket
says which, with what the bot looked up for them), the unclear asked once to be put another
way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from bot.contracts import TOPIC_SLOT, Answer, Part, Prediction, Responder
from bot.delivery.outbox import Outbox
from bot.desk.handoff import Handoff
from bot.insight import decisions
from bot.insight.journal import JournalEvent
from bot.metrics import Metrics
from bot.models import Conversation, Message, Role
from bot.pipeline.reading import NO_ANSWER_REASON, Replies, detail, reply_to
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store
from bot.texts import Texts

MAX_MISUNDERSTOOD = 1  # ask to rephrase once, then escalate
LOW_CONFIDENCE_REASON = "the bot did not understand the customer"
# the answered counter's label for every help-centre answer: one label value an article would
# grow the metric's series with the size of the help centre
ARTICLE_LABEL = "article"

log = logging.getLogger(__name__)


class Answering:
    """Sends the bot's answers and hands conversations over, each in one fenced write."""

    def __init__(
        self,
        store: Store,
        responder: Responder,
        handoff: Handoff,
        outbox: Outbox,
        metrics: Metrics,
        texts: Texts,
        patterns: decisions.Patterns = (),
    ) -> None:
        """``patterns``: the shop's own redaction patterns (the journal's unsure messages)."""
        self._store = store
        self._responder = responder
        self._handoff = handoff
        self._outbox = outbox
        self._metrics = metrics
        self._texts = texts
        self._patterns = patterns

    async def parts(
        self,
        conversation: Conversation,
        parts: tuple[Part, ...],
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """Answer a message's requests: all in one reply, the rest with a person."""
        replies = await reply_to(self._responder, conversation, parts)
        if replies.held:
            await self.hand_over(conversation, replies, done, fence)
        elif replies.answers:
            await self.answer_all(conversation, replies.answers, done, fence)
        else:
            await self.unclear(conversation, replies.unclear[0].prediction, done, fence)

    async def unclear(
        self,
        conversation: Conversation,
        prediction: Prediction,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """Ask once to put it another way (a person offered too), then hand over."""
        if conversation.misunderstood < MAX_MISUNDERSTOOD:
            meta: MetaUpdate = {**done, "misunderstood": conversation.misunderstood + 1}
            options = (self._texts.person_option,)
            event = decisions.asked(conversation, prediction, self._patterns)
            await self.reply(conversation, self._texts.rephrase, meta, fence, options, (event,))
            log.info(
                "conversation %s: unsure (%s), asked to rephrase",
                conversation.id,
                _said(prediction),
            )
        else:
            _handed_over(conversation, LOW_CONFIDENCE_REASON, prediction)
            await self._handoff.escalate(
                conversation, LOW_CONFIDENCE_REASON, meta=done, prediction=prediction, fence=fence
            )

    async def hand_over(
        self,
        conversation: Conversation,
        replies: Replies,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """The answers the bot has, then the person for the parts it cannot take (the ticket
        says which, with the facts looked up for them)."""
        first = replies.held[0]
        attached = None
        if first.part.attach is not None:
            pinned = Prediction.pinned(first.part.attach)
            attached = (await self._responder.respond(pinned, conversation, first.part.text)).text
        said = [t for _, answer in replies.answers for t in (answer.text or "", *answer.more)]
        lead = first.lead or (self._texts.sorry if first.part.escalate else None)
        _handed_over(conversation, first.reason, first.part.prediction)
        await self._handoff.escalate(
            conversation,
            first.reason,
            lead=" ".join(t for t in ("\n\n".join(said), lead or "") if t) or None,
            meta={**done, "expect": None},
            prediction=first.part.prediction,
            fence=fence,
            detail=detail(replies, attached),
            events=[
                decisions.answered(conversation, p, answer, self._patterns)
                for p, answer in replies.answers
            ],
        )

    async def answer(
        self,
        conversation: Conversation,
        prediction: Prediction,
        answer: Answer,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """One answer: sent, or (it escalates or has no text) the hand-off with its lead."""
        if answer.escalate is not None or not answer.text:
            _handed_over(conversation, answer.escalate or NO_ANSWER_REASON, prediction)
            await self._handoff.escalate(
                conversation,
                answer.escalate or NO_ANSWER_REASON,
                lead=answer.text,
                meta={**done, **memory(answer)},
                prediction=prediction,
                fence=fence,
            )
            return
        await self.answer_all(conversation, ((prediction, answer),), done, fence)

    async def answer_all(
        self,
        conversation: Conversation,
        answers: Sequence[tuple[Prediction, Answer]],
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """Send the answers in order: one reply for several requests; the last answer's
        question (``expect``) and options stand."""
        for prediction, answer in answers:
            label = ARTICLE_LABEL if answer.article is not None else prediction.intent
            self._metrics.answered.labels(intent=label).inc()
        slots = dict(conversation.slots)
        for _, answer in answers:  # an action's slots replace what it was given
            if answer.slots is not None:
                cleared = conversation.slots.keys() - answer.slots.keys()
                slots = {k: v for k, v in {**slots, **answer.slots}.items() if k not in cleared}
        learnt = {k: v for k, v in slots.items() if conversation.slots.get(k) != v}
        if learnt:  # what an action learnt about the person stays on their profile
            await self._store.remember(conversation.customer_id, learnt)
        last = answers[-1][1]
        replies = bot_messages(answers)
        slots[TOPIC_SLOT] = answers[-1][0].intent
        meta: MetaUpdate = {**done, "misunderstood": 0, "expect": last.expect, "slots": slots}
        events = [decisions.answered(conversation, p, a, self._patterns) for p, a in answers]
        await self._outbox.say(
            conversation.id, conversation.last_address, replies, meta, fence=fence, events=events
        )
        log.info(
            "conversation %s: answered (%s)",
            conversation.id,
            ", ".join(_said(prediction) for prediction, _ in answers),
        )

    async def reply(
        self,
        conversation: Conversation,
        text: str,
        meta: MetaUpdate,
        fence: ConversationLock,
        options: tuple[str, ...] = (),
        events: Sequence[JournalEvent] = (),
    ) -> None:
        """One message from the bot, stored with ``meta`` and the journal's ``events``."""
        reply = Message(role=Role.BOT, text=text, options=options)
        await self._outbox.say(
            conversation.id, conversation.last_address, (reply,), meta, fence=fence, events=events
        )


def bot_messages(answers: Sequence[tuple[Prediction, Answer]]) -> list[Message]:
    """The bot's messages for ``answers``: each answer's texts, or one message joining them all
    when there are several; the last answer's options on the last message.

    An answer taken from a help-centre article names it on the message holding its text, the
    first. A joined reply holds one message, so it names one article: the first answer that
    had one, in reply order (the article the reply opens with; answers rarely bring two).
    """
    texts = [t for _, answer in answers for t in (answer.text or "", *answer.more) if t]
    if len(answers) > 1:
        texts = ["\n\n".join(texts)]
    replies = [Message(role=Role.BOT, text=t) for t in texts]
    replies[-1] = replace(replies[-1], options=answers[-1][1].options)
    article = next((a.article for _, a in answers if a.article is not None), None)
    replies[0] = replace(replies[0], article=article)
    return replies


def _said(prediction: Prediction) -> str:
    """What an INFO line says of a decision: the intent (``article:<key>`` for a help-centre
    answer) and its confidence, never the customer's words."""
    return f"{prediction.intent} {prediction.confidence:.2f}"


def _handed_over(conversation: Conversation, reason: str, prediction: Prediction | None) -> None:
    said = f" ({_said(prediction)})" if prediction is not None else ""
    log.info("conversation %s: handing over to a person%s: %s", conversation.id, said, reason)


def memory(answer: Answer) -> MetaUpdate:
    """The meta fields an answer sets: the pinned intent, and the slots when it gave them."""
    memory: MetaUpdate = {"expect": answer.expect}
    if answer.slots is not None:
        memory["slots"] = answer.slots
    return memory
