"""A message read as several requests: every answer in one reply, the rest to a person with
the ticket saying which part; a problem part handed over with its order looked up."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bot.contracts import TOPIC_SLOT, Context, Part, Reading
from bot.models import Conversation, Role, State
from bot.texts import Texts
from tests.core import ALICE, SCRIPT, Bot
from tests.support.fakes import ScriptedClassifier

TEXTS = Texts()
PROBLEM = "the customer reported a problem"


class PlusReader:
    """Reads "a + b" as the requests a and b; a request starting "!" as a problem about an
    order (handed over, the order looked up); "#n" keeps order number n."""

    def __init__(self) -> None:
        self.classifier = ScriptedClassifier(SCRIPT)
        self.contexts: list[Context] = []

    async def read(self, text: str, context: Context) -> Reading:
        self.contexts.append(context)
        parts = []
        for piece in text.split(" + "):
            prediction = await self.classifier.classify(piece.lstrip("!"))
            if piece.startswith("!"):
                parts.append(Part(piece, prediction, escalate=PROBLEM, attach="order_status"))
            else:
                parts.append(Part(piece, prediction))
        numbers = [w[1:] for w in text.split() if w.startswith("#")]
        return Reading(tuple(parts), {"order_number": numbers[0]} if numbers else {})


@pytest.fixture
def reader() -> PlusReader:
    return PlusReader()


@pytest.fixture
def bot(redis_client: aioredis.Redis, reader: PlusReader) -> Bot:
    return Bot(redis_client, reader=reader)


async def conversation(bot: Bot) -> Conversation:
    return await bot.store.load(await bot.store.resolve(ALICE))


async def test_two_requests_get_both_answers_in_order_in_one_reply(bot: Bot) -> None:
    await bot.say("hello + where is my order")
    assert bot.replies() == ["Hi!\n\nIt ships today."]
    stored = await conversation(bot)
    assert stored.state is State.BOT
    assert stored.slots[TOPIC_SLOT] == "order_status"  # the last request answered


async def test_an_unanswerable_part_gets_the_answer_and_a_person_with_the_part_named(
    bot: Bot,
) -> None:
    await bot.say("where is my order + can you engrave my initials on it")
    assert bot.replies() == [f"It ships today. {TEXTS.waiting}"]
    stored = await conversation(bot)
    assert stored.state is State.WAITING
    assert stored.escalation is not None
    assert stored.escalation.detail is not None
    assert "can you engrave my initials on it" in stored.escalation.detail
    assert "where is my order" not in stored.escalation.detail


async def test_a_problem_goes_to_a_person_with_the_order_looked_up(bot: Bot) -> None:
    await bot.say("!where is my order #12345")
    assert bot.replies() == [f"{TEXTS.sorry} {TEXTS.waiting}"]
    stored = await conversation(bot)
    assert stored.escalation is not None
    assert stored.escalation.reason == PROBLEM
    assert stored.escalation.detail == "Looked up: It ships today."
    assert stored.slots["order_number"] == "12345"  # kept with the conversation


async def test_an_unclear_message_offers_a_person(bot: Bot) -> None:
    await bot.say("blorp")
    assert bot.replies() == [TEXTS.rephrase]
    assert bot.connector.sent[-1][1].options == (TEXTS.person_option,)


async def test_the_reader_sees_the_turns_before_the_message_and_the_slots(
    bot: Bot, reader: PlusReader
) -> None:
    await bot.say("hello")
    await bot.say("where is my order")
    context = reader.contexts[-1]
    assert [(m.role, m.text) for m in context.turns] == [
        (Role.CUSTOMER, "hello"),
        (Role.BOT, "Hi!"),
    ]
    assert context.slots[TOPIC_SLOT] == "greeting"


class NudgeReader(PlusReader):
    """Reads "???" as a customer kept waiting."""

    async def read(self, text: str, context: Context) -> Reading:
        if text == "???":
            prediction = await self.classifier.classify(text)
            return Reading((Part(text, prediction, escalate="the customer is waiting"),))
        return await super().read(text, context)


async def test_a_wordless_nudge_the_reader_sees_as_waiting_goes_to_a_person(
    redis_client: aioredis.Redis,
) -> None:
    bot = Bot(redis_client, reader=NudgeReader())
    await bot.say("...")
    assert bot.replies() == [TEXTS.no_words]  # nothing to answer, nobody waiting
    await bot.say("???")
    assert bot.replies()[-1] == f"{TEXTS.sorry} {TEXTS.waiting}"
    assert (await conversation(bot)).state is State.WAITING
