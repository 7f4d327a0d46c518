"""The dispatcher on a real Redis with scripted intents: dedup, routing, rephrase, escalation."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.insight.journal import JournalEvent
from bot.models import InboundMessage, Outcome, Role, State
from bot.models.messages import Control, Media
from bot.pipeline.dispatcher import PROCESSING_FAILED_REASON
from bot.pipeline.text_answers import OTHER_LANGUAGE_REASON
from bot.redaction import redact
from bot.storage.store import Store
from bot.texts import Texts
from tests.conftest import ON_SERVER_AND_CLUSTER, ClientFactory
from tests.core import ALICE, Bot
from tests.support.polling import wait_until

pytestmark = ON_SERVER_AND_CLUSTER

TEXTS = Texts()


@pytest.fixture
def bot(redis_client: aioredis.Redis) -> Bot:
    return Bot(redis_client)


async def history(bot: Bot) -> list[tuple[Role, str]]:
    cid = await bot.store.resolve(ALICE)
    return [(m.role, m.text) for m in (await bot.store.load(cid)).messages]


async def test_answers_a_confident_intent_and_stores_both_messages(bot: Bot) -> None:
    assert await bot.say("where is my order") is Outcome.ACCEPTED
    assert bot.replies() == ["It ships today."]
    assert await history(bot) == [
        (Role.CUSTOMER, "where is my order"),
        (Role.BOT, "It ships today."),
    ]


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
    assert bot.replies() == [TEXTS.rephrase]
    await bot.say("more gibberish")
    assert bot.replies()[-1] == TEXTS.waiting
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.state is State.WAITING
    assert conversation.ticket in bot.desk.tickets


async def test_a_confident_answer_resets_the_rephrase_count(bot: Bot) -> None:
    await bot.say("gibberish")
    await bot.say("hello")
    await bot.say("gibberish again")
    assert bot.replies() == [TEXTS.rephrase, "Hi!", TEXTS.rephrase]


async def test_asking_for_a_person_escalates_at_once_with_the_transcript(bot: Bot) -> None:
    await bot.say("hello")
    await bot.say("human please")
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.state is State.WAITING
    assert conversation.ticket is not None
    transcript = [m.text for m in bot.desk.tickets[conversation.ticket]]
    assert transcript == ["hello", "Hi!", "human please", TEXTS.waiting]


async def test_while_waiting_messages_go_to_the_ticket_not_the_classifier(bot: Bot) -> None:
    await bot.say("human please")
    await bot.say("hello")
    assert bot.classifier.seen == ["human please"]
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.ticket is not None
    assert "hello" in [m.text for m in bot.desk.tickets[conversation.ticket]]
    assert bot.replies() == [TEXTS.waiting, TEXTS.queued.format(place=1, wait="")]


async def test_one_conversation_stays_in_order_across_processes(
    new_client: ClientFactory, bot: Bot
) -> None:
    other_client = new_client()
    other = Bot(other_client)
    try:
        await asyncio.gather(*((bot if i % 2 else other).say("hello") for i in range(10)))
    finally:
        await other_client.aclose()
    roles = [role for role, _ in await history(bot)]
    assert roles.count(Role.CUSTOMER) == roles.count(Role.BOT) == 10
    # Messages are stored as they arrive; each answer follows the message it answers, so
    # the k-th answer never comes before the k-th customer message.
    for k in range(1, 11):
        customers = [i for i, role in enumerate(roles) if role is Role.CUSTOMER]
        bots = [i for i, role in enumerate(roles) if role is Role.BOT]
        assert bots[k - 1] > customers[k - 1]
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.answered == 10
    assert conversation.unanswered() == ()


async def test_a_message_is_stored_at_once_and_answered_when_the_lock_frees(
    bot: Bot, store: Store
) -> None:
    cid = await store.resolve(ALICE)
    async with store.lock(cid):
        task = asyncio.create_task(bot.say("hello", dedup_id="SM5"))

        async def stored() -> bool:
            return len((await store.load(cid)).messages) == 1

        await wait_until(stored, what="the message being stored")
        assert not task.done()
        assert bot.replies() == []
    assert await task is Outcome.ACCEPTED
    assert bot.replies() == ["Hi!"]


async def test_a_message_left_unanswered_is_answered_with_the_next_one(bot: Bot) -> None:
    # accepted, then the process died before answering it
    outcome, _ = await bot.dispatcher.accept(InboundMessage(ALICE, "where is my order"))
    assert outcome is Outcome.ACCEPTED
    assert bot.replies() == []
    await bot.say("hello")
    assert bot.replies() == ["It ships today.", "Hi!"]
    assert [text for _, text in await history(bot)] == [
        "where is my order",
        "hello",
        "It ships today.",
        "Hi!",
    ]
    await bot.dispatcher.process(await bot.store.resolve(ALICE))  # nothing left to do
    assert bot.replies() == ["It ships today.", "Hi!"]


async def test_stop_opts_out_silently_and_start_opts_back_in(bot: Bot) -> None:
    await bot.say("STOP", control=Control.OPT_OUT)
    assert bot.replies() == []
    assert await bot.consent.opted_out(ALICE)
    await bot.say("hello")
    assert bot.replies() == []  # answered, but nothing is sent to an opted-out number
    await bot.say("START", control=Control.OPT_IN)
    assert bot.replies() == [TEXTS.opt_in]
    assert not await bot.consent.opted_out(ALICE)
    await bot.say("INFO", control=Control.HELP)
    assert bot.replies() == [TEXTS.opt_in, "HELP TEXT"]
    assert bot.classifier.seen == ["hello"]


async def test_a_picture_without_text_is_never_classified(bot: Bot) -> None:
    picture = (Media("https://media.example/1.jpg", "image/jpeg"),)
    await bot.say("", media=picture)
    assert bot.replies() == [TEXTS.media_only]
    assert bot.classifier.seen == []
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.messages[0].media == picture


async def test_a_dead_letter_skips_the_failed_message_and_escalates_with_the_reason(
    bot: Bot,
) -> None:
    await bot.say("hello")
    _, cid = await bot.dispatcher.accept(InboundMessage(ALICE, "poison"))
    await bot.dispatcher.dead_letter(cid, 0)  # a stale cursor: the message is not the next
    assert (await bot.store.load(cid)).answered == 1
    await bot.dispatcher.dead_letter(cid, 1)
    conversation = await bot.store.load(cid)
    assert (conversation.answered, conversation.state) == (2, State.WAITING)
    assert conversation.escalation is not None
    assert conversation.escalation.reason == PROCESSING_FAILED_REASON
    assert bot.replies() == ["Hi!", f"{TEXTS.processing_failed} {TEXTS.waiting}"]
    assert bot.classifier.seen == ["hello"]  # the failed message is never tried again
    await bot.dispatcher.process(cid)
    assert len(bot.replies()) == 2


async def test_a_dead_letter_while_with_agents_only_moves_the_cursor(bot: Bot) -> None:
    await bot.say("human please")
    _, cid = await bot.dispatcher.accept(InboundMessage(ALICE, "poison"))
    before = await bot.store.load(cid)
    assert before.state is State.WAITING
    await bot.dispatcher.dead_letter(cid, before.answered)
    after = await bot.store.load(cid)
    assert after.answered == before.answered + 1
    assert (after.state, after.escalation, after.messages) == (
        State.WAITING,
        before.escalation,
        before.messages,
    )


async def test_a_waiting_customer_is_told_at_once_but_not_after_every_message(
    redis_client: aioredis.Redis, bot: Bot
) -> None:
    await bot.say("human please")
    await bot.say("hellooo?? my order still hasnt come")
    await bot.say("this is a joke honestly")
    queued = TEXTS.queued.format(place=1, wait="")
    assert bot.replies() == [TEXTS.waiting, queued]
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.notified_at > 0  # in the meta: another process holds off too
    other = Bot(redis_client)  # another process
    await other.say("??")
    assert other.replies() == []


async def test_help_while_waiting_gets_the_help_text_alone(bot: Bot) -> None:
    await bot.say("human please")
    await bot.say("HELP", control=Control.HELP)
    assert bot.replies() == [TEXTS.waiting, "HELP TEXT"]


async def test_an_empty_message_gets_a_question_back(bot: Bot) -> None:
    await bot.say("   \n ")
    assert bot.replies() == [TEXTS.no_words]
    assert bot.classifier.seen == []


async def test_emoji_only_gets_a_question_back_and_never_escalates(bot: Bot) -> None:
    """Unless the reader sees a customer kept waiting (tests/bot/pipeline/test_parts.py)."""
    for text in ("👍", "😡😡😡", "???", "🙏 ..."):
        await bot.say(text)
    assert bot.replies() == [TEXTS.no_words] * 4
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.state is State.BOT


async def test_another_language_is_told_english_only_then_gets_a_person(bot: Bot) -> None:
    await bot.say("Hola, ¿dónde está mi pedido? Lo compré hace dos semanas")
    assert bot.replies() == [TEXTS.other_language]
    await bot.say("no entiendo, quiero hablar con alguien por favor")
    assert bot.replies()[-1] == TEXTS.waiting
    conversation = await bot.store.load(await bot.store.resolve(ALICE))
    assert conversation.state is State.WAITING
    assert conversation.escalation is not None
    assert conversation.escalation.reason == OTHER_LANGUAGE_REASON
    assert bot.classifier.seen == []


async def test_a_non_latin_script_is_another_language(bot: Bot) -> None:
    await bot.say("Где мой заказ? Уже две недели жду")
    await bot.say("hello")
    assert bot.replies() == [TEXTS.other_language, "Hi!"]


async def test_english_with_a_foreign_word_is_still_english(bot: Bot) -> None:
    await bot.say("hola, where is my order")
    assert bot.replies() != [TEXTS.other_language]
    assert bot.classifier.seen == ["hola, where is my order"]


async def journal_of(bot: Bot) -> list[JournalEvent]:
    return await bot.core.journal.of_customer(await bot.store.resolve(ALICE))


async def test_the_journal_records_each_message_and_decision(bot: Bot) -> None:
    await bot.say("where is my order")
    await bot.say("the parcel for jo@example.com is not here yet")
    await bot.say("please tell me about the parcel for jo@example.com")
    events = await journal_of(bot)
    assert [e["type"] for e in events] == [
        "message",
        "answered",
        "message",
        "asked",
        "message",
        "escalated",
    ]
    answered, asked, escalated = events[1], events[3], events[5]
    assert (answered.get("by"), answered.get("intent"), answered.get("confidence")) == (
        "intent",
        "order_status",
        0.9,
    )
    assert answered.get("message") == events[0].get("message")
    assert (asked.get("intent"), asked.get("confidence")) == ("unknown", 0.1)
    assert asked.get("text") == redact("the parcel for jo@example.com is not here yet")
    assert "jo@example.com" not in str(asked.get("text"))
    assert (escalated.get("reason"), escalated.get("intent")) == ("unsure", "unknown")
    assert escalated.get("text") == redact("please tell me about the parcel for jo@example.com")
    assert {e["channel"] for e in events} == {ALICE.channel}


async def test_the_journal_records_why_a_conversation_was_escalated(bot: Bot) -> None:
    await bot.say("human please")
    escalated = (await journal_of(bot))[-1]
    assert (escalated["type"], escalated.get("reason")) == ("escalated", "asked_for_person")
    assert (escalated.get("intent"), escalated.get("confidence")) == ("human", 0.95)
    assert "text" not in escalated  # the customer's words only when the bot was unsure


async def test_the_journal_records_opting_out_and_in(bot: Bot) -> None:
    await bot.say("STOP", control=Control.OPT_OUT)
    await bot.say("START", control=Control.OPT_IN)
    kinds = [e["type"] for e in await journal_of(bot)]
    assert kinds == ["message", "opted_out", "message", "opted_in"]


async def test_a_limited_processing_answers_the_first_messages_and_says_more_are_left(
    bot: Bot,
) -> None:
    for text in ("hello", "where is my order", "hello"):
        await bot.dispatcher.accept(InboundMessage(ALICE, text))
    cid = await bot.store.resolve(ALICE)
    assert await bot.dispatcher.process(cid, limit=1) is True
    assert bot.replies() == ["Hi!"]
    assert await bot.dispatcher.process(cid, limit=2) is False  # the last two: none left
    assert bot.replies() == ["Hi!", "It ships today.", "Hi!"]
    assert await bot.dispatcher.process(cid, limit=1) is False
