"""The dispatcher on a real Redis with scripted intents: dedup, routing, rephrase, escalation."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from bot.dispatcher import REPHRASE_TEXT, Dispatcher
from bot.handoff import WAITING_TEXT, Handoff
from bot.models import Address, InboundMessage, Outcome, Role, State
from bot.outbox import Outbox
from bot.store import Claim, Store
from connectors.console_desk import ConsoleDesk
from tests.fakes import RecordingConnector, ScriptedClassifier, TableResponder

ALICE = Address("test", "alice")
SCRIPT = {"where is my order": ("order_status", 0.9), "human please": ("human", 0.95),
          "hello": ("greeting", 0.9)}


class Bot:
    """A dispatcher with its collaborators, as one process would hold them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.connector = RecordingConnector()
        self.desk = ConsoleDesk()
        self.classifier = ScriptedClassifier(SCRIPT)
        outbox = Outbox(store, {"test": self.connector})
        self.handoff = Handoff(store, self.desk, outbox)
        responder = TableResponder({"order_status": "It ships today.", "greeting": "Hi!"},
                                   escalate={"human": "asked for a person"})
        self.dispatcher = Dispatcher(store, self.classifier, responder, self.handoff, outbox)

    async def say(self, text: str, dedup_id: str | None = None) -> Outcome:
        inbound = InboundMessage(ALICE, text)
        if dedup_id:
            inbound = InboundMessage(ALICE, text, dedup_id=dedup_id)
        return await self.dispatcher.handle(inbound)

    def replies(self) -> list[str]:
        return [message.text for _, message in self.connector.sent]


@pytest.fixture
def bot(store: Store) -> Bot:
    return Bot(store)


async def history(bot: Bot) -> list[tuple[Role, str]]:
    cid = await bot.store.resolve(ALICE)
    return [(m.role, m.text) for m in (await bot.store.load(cid)).messages]


async def test_answers_a_confident_intent_and_stores_both_messages(bot: Bot) -> None:
    assert await bot.say("where is my order") is Outcome.ACCEPTED
    assert bot.replies() == ["It ships today."]
    assert await history(bot) == [(Role.CUSTOMER, "where is my order"),
                                  (Role.BOT, "It ships today.")]


async def test_a_retried_message_is_handled_once(bot: Bot) -> None:
    assert await bot.say("where is my order", dedup_id="SM1") is Outcome.ACCEPTED
    assert await bot.say("where is my order", dedup_id="SM1") is Outcome.DUPLICATE
    assert bot.replies() == ["It ships today."]
    assert len(await history(bot)) == 2


async def test_concurrent_retries_produce_one_reply(bot: Bot) -> None:
    outcomes = await asyncio.gather(*(bot.say("hello", dedup_id="SM9") for _ in range(5)))
    assert outcomes.count(Outcome.ACCEPTED) == 1
    assert bot.replies() == ["Hi!"]


async def test_low_confidence_asks_to_rephrase_once_then_escalates(bot: Bot) -> None:
    await bot.say("gibberish")
    assert bot.replies() == [REPHRASE_TEXT]
    await bot.say("more gibberish")
    assert bot.replies()[-1] == WAITING_TEXT
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.state is State.WAITING
    assert conversation.ticket in bot.desk.tickets


async def test_a_confident_answer_resets_the_rephrase_count(bot: Bot) -> None:
    await bot.say("gibberish")
    await bot.say("hello")
    await bot.say("gibberish again")
    assert bot.replies() == [REPHRASE_TEXT, "Hi!", REPHRASE_TEXT]


async def test_asking_for_a_person_escalates_at_once_with_the_transcript(bot: Bot) -> None:
    await bot.say("hello")
    await bot.say("human please")
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.state is State.WAITING
    assert conversation.ticket is not None
    transcript = [m.text for m in bot.desk.tickets[conversation.ticket]]
    assert transcript == ["hello", "Hi!", "human please", WAITING_TEXT]


async def test_while_waiting_messages_go_to_the_ticket_not_the_classifier(bot: Bot) -> None:
    await bot.say("human please")
    await bot.say("hello")
    assert bot.classifier.seen == ["human please"]
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.ticket is not None
    assert bot.desk.tickets[conversation.ticket][-1].text == "hello"
    assert bot.replies() == [WAITING_TEXT]


async def test_one_conversation_stays_in_order_across_processes(redis_url: str,
                                                                bot: Bot) -> None:
    other_client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    other = Bot(Store(other_client))
    try:
        await asyncio.gather(*((bot if i % 2 else other).say("hello") for i in range(10)))
    finally:
        await other_client.aclose()
    roles = [role for role, _ in await history(bot)]
    assert roles.count(Role.CUSTOMER) == 10
    # Under the conversation lock every customer message is followed by its own answer.
    assert roles[0::2] == [Role.CUSTOMER] * 10
    assert Role.CUSTOMER not in roles[1::2]


async def test_a_message_waits_for_the_conversation_lock(bot: Bot, store: Store) -> None:
    cid = await store.resolve(ALICE)
    async with store.lock(cid):
        task = asyncio.create_task(bot.say("hello", dedup_id="SM5"))
        await asyncio.sleep(0.1)
        assert not task.done()
    assert await task is Outcome.ACCEPTED
    assert bot.replies() == ["Hi!"]


async def test_a_failure_before_storing_gives_the_claim_back(bot: Bot, store: Store) -> None:
    cid = await store.resolve(ALICE)
    async with store.lock(cid):
        blocked = store.lock  # every lock attempt now gives up at once

        def impatient(conversation_id: str) -> Lock:
            lock = blocked(conversation_id)
            lock.blocking_timeout = 0.05
            return lock

        bot.store.lock = impatient  # type: ignore[method-assign,assignment]
        with pytest.raises(LockError):
            await bot.say("hello", dedup_id="SM6")
    assert await history(bot) == []
    assert await store.claim("test", "SM6") is Claim.NEW
