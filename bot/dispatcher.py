"""``handle(inbound)``: dedup -> lock -> load -> route -> reply -> append."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.contracts import Answer, IntentClassifier, Prediction, Responder
from bot.handoff import Handoff
from bot.metrics import ANSWERED, INBOUND
from bot.models import Conversation, InboundMessage, Message, Outcome, Role, State
from bot.outbox import Outbox
from bot.store import Claim, Store

REPHRASE_TEXT = "Sorry, I didn't quite get that. Could you say it another way?"
MAX_MISUNDERSTOOD = 1  # ask to rephrase once, then escalate
LOW_CONFIDENCE_REASON = "the bot did not understand the customer"
NO_ANSWER_REASON = "no automated answer available"


class Dispatcher:
    """Takes customers' messages from every connector and answers or escalates them."""

    def __init__(self, store: Store, classifier: IntentClassifier, responder: Responder,
                 handoff: Handoff, outbox: Outbox) -> None:
        self._store = store
        self._classifier = classifier
        self._responder = responder
        self._handoff = handoff
        self._outbox = outbox

    async def handle(self, inbound: InboundMessage) -> Outcome:
        """Store the message once, then answer it; duplicates have no effect."""
        channel = inbound.address.channel
        claim = await self._store.claim(channel, inbound.dedup_id)
        if claim is not Claim.NEW:
            outcome = Outcome.DUPLICATE if claim is Claim.DONE else Outcome.IN_PROGRESS
            INBOUND.labels(channel=channel, outcome=outcome.value).inc()
            return outcome
        stored = False
        try:
            cid = await self._store.resolve(inbound.address)
            async with self._store.lock(cid):
                conversation = await self._store.load(cid)
                message = Message(role=Role.CUSTOMER, text=inbound.text, ts=inbound.ts,
                                  channel=channel)
                await self._store.record(cid, (message,), {"last_channel": channel,
                                                           "last_id": inbound.address.id})
                stored = True
                await self._store.mark_done(channel, inbound.dedup_id)
                conversation = replace(conversation, last_address=inbound.address,
                                       messages=(*conversation.messages, message))
                await self._route(conversation, message)
        finally:
            if not stored:
                await self._store.release_claim(channel, inbound.dedup_id)
        INBOUND.labels(channel=channel, outcome=Outcome.ACCEPTED.value).inc()
        return Outcome.ACCEPTED

    async def _route(self, conversation: Conversation, message: Message) -> None:
        if conversation.state is not State.BOT:
            await self._handoff.to_agents(conversation, message)
            return
        if conversation.expect and await self._follow_up(conversation, message.text):
            return
        prediction = await self._classifier.classify(message.text)
        if prediction.confident:
            answer = await self._responder.respond(prediction, conversation, message.text)
            await self._answer(conversation, prediction, answer)
        elif conversation.misunderstood < MAX_MISUNDERSTOOD:
            await self._reply(conversation, REPHRASE_TEXT, conversation.misunderstood + 1)
        else:
            await self._handoff.escalate(conversation, LOW_CONFIDENCE_REASON)

    async def _follow_up(self, conversation: Conversation, text: str) -> bool:
        """Give the message to the intent that asked for it; False if that intent declines."""
        assert conversation.expect is not None
        pinned = Prediction(intent=conversation.expect, confidence=1.0, confident=True)
        answer = await self._responder.respond(pinned, conversation, text)
        if answer.text is None and answer.escalate is None:
            await self._store.record(conversation.id, meta=_memory(answer))
            return False
        await self._answer(conversation, pinned, answer)
        return True

    async def _answer(self, conversation: Conversation, prediction: Prediction,
                      answer: Answer) -> None:
        if answer.escalate is not None or not answer.text:
            await self._handoff.escalate(conversation, answer.escalate or NO_ANSWER_REASON,
                                         lead=answer.text, meta=_memory(answer))
            return
        ANSWERED.labels(intent=prediction.intent).inc()
        await self._reply(conversation, answer.text, 0, _memory(answer))

    async def _reply(self, conversation: Conversation, text: str, misunderstood: int,
                     memory: dict[str, str] | None = None) -> None:
        reply = Message(role=Role.BOT, text=text)
        await self._store.record(conversation.id, (reply,),
                                 {"misunderstood": misunderstood, **(memory or {})})
        await self._outbox.deliver(conversation.last_address, (reply,))


def _memory(answer: Answer) -> dict[str, str]:
    """The meta fields an answer sets: the pinned intent, and the slots when it gave them."""
    memory = {"expect": answer.expect or ""}
    if answer.slots is not None:
        memory["slots"] = json.dumps(answer.slots)
    return memory
