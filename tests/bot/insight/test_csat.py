"""Satisfaction surveys on a real Redis: asked after a resolve and after the bot, answered by a
bare score, never twice, never to an opted-out address."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from bot.core import Core, CoreConfig
from bot.desk.actions import HandoffActions
from bot.insight.csat_rules import SCORES, SurveyTexts
from bot.insight.journal import EventType, Journal, JournalEvent
from bot.models import InboundMessage, Role, Survey, new_id
from bot.storage.keys import CSAT_DUE_KEY
from connectors.console.log_desk import LogDesk
from tests.conftest import ON_SERVER_AND_CLUSTER
from tests.core import ALICE, CONFIG, SCRIPT, handle, make_core
from tests.support.fakes import RecordingConnector, ScriptedClassifier

pytestmark = ON_SERVER_AND_CLUSTER  # the due set and the journal live in other slots

TEXTS = SurveyTexts()
QUIET_S = 0.2


class Shop:
    """A core with its recording channel and the desk's actions."""

    def __init__(self, client: aioredis.Redis, after_bot: bool = False) -> None:
        self.connector = RecordingConnector()
        config = CoreConfig(texts=CONFIG.texts, csat_after_bot=after_bot, csat_quiet_s=QUIET_S)
        self.classifier = ScriptedClassifier(SCRIPT)
        self.core: Core = make_core(
            client, LogDesk(), self.connector, self.classifier, config=config
        )
        self.actions = HandoffActions(
            self.core.store, self.core.tickets, self.core.handoff, self.core.surveys
        )
        self.journal = Journal(client)
        self.cid = ""

    async def say(self, text: str) -> None:
        inbound = InboundMessage(ALICE, text, dedup_id=new_id())
        await handle(self.core.dispatcher, inbound)
        self.cid = self.cid or str(await self.core.store.customer_for(ALICE))

    async def resolved(self) -> None:
        """Escalated by the customer, then claimed and resolved by an agent."""
        await self.say("human please")
        await self.actions.claim(self.cid, "Dana")
        await self.actions.resolve(self.cid, "Dana")

    def sent(self) -> list[str]:
        return [message.text for _, message in self.connector.sent]

    async def events(self, kind: EventType) -> list[JournalEvent]:
        return [e for e in await self.journal.of_customer(self.cid) if e["type"] == kind]


@pytest.fixture
def shop(redis_client: aioredis.Redis) -> Shop:
    return Shop(redis_client)


async def test_a_resolve_asks_the_survey_on_the_customers_channel(shop: Shop) -> None:
    await shop.resolved()
    conversation = await shop.core.store.load(shop.cid)
    survey = conversation.messages[-1]
    assert (survey.role, survey.text, survey.options) == (Role.BOT, TEXTS.question, SCORES)
    assert shop.sent()[-1] == TEXTS.question
    assert conversation.survey is not None
    assert conversation.survey.after == "resolve"
    [asked] = await shop.events(EventType.CSAT_ASKED)
    assert (asked["after"], asked["channel"]) == ("resolve", ALICE.channel)


async def test_a_bare_digit_answers_it_thanked_recorded_never_classified(shop: Shop) -> None:
    await shop.resolved()
    await shop.say("4")
    assert shop.sent()[-1] == TEXTS.thanks
    assert "4" not in shop.classifier.seen
    conversation = await shop.core.store.load(shop.cid)
    assert conversation.survey is None
    assert conversation.unanswered() == ()
    [answered] = await shop.events(EventType.CSAT_ANSWERED)
    assert answered["score"] == 4
    assert answered["message"] == conversation.messages[-2].id  # the customer's "4"


async def test_anything_else_goes_to_the_bot_and_the_survey_stays_pending(shop: Shop) -> None:
    await shop.resolved()
    await shop.say("where is my order")
    assert shop.sent()[-1] == "It ships today."
    assert (await shop.core.store.load(shop.cid)).survey is not None
    await shop.say("5")  # still within the day: it answers the survey
    assert shop.sent()[-1] == TEXTS.thanks


async def test_no_second_survey_while_one_is_pending(shop: Shop) -> None:
    await shop.resolved()
    await shop.say("human please")
    await shop.actions.resolve(shop.cid, "Dana")
    assert shop.sent().count(TEXTS.question) == 1
    assert len(await shop.events(EventType.CSAT_ASKED)) == 1


async def test_a_survey_older_than_a_day_is_not_pending(shop: Shop) -> None:
    await shop.resolved()
    day_old = Survey(time.time() - 24 * 3600 - 1, "resolve")
    await shop.core.store.record(shop.cid, meta={"csat": day_old})
    await shop.say("4")  # no survey to answer: a normal message
    assert TEXTS.thanks not in shop.sent()
    await shop.say("human please")
    await shop.actions.resolve(shop.cid, "Dana")
    assert shop.sent().count(TEXTS.question) == 2


async def test_an_opted_out_address_is_not_surveyed(shop: Shop) -> None:
    await shop.say("human please")
    await shop.core.consent.opt_out(ALICE)
    await shop.actions.resolve(shop.cid, "Dana")
    conversation = await shop.core.store.load(shop.cid)
    assert all(m.text != TEXTS.question for m in conversation.messages)
    assert conversation.survey is None
    assert await shop.events(EventType.CSAT_ASKED) == []


async def test_after_bot_the_survey_follows_a_quiet_answer(redis_client: aioredis.Redis) -> None:
    shop = Shop(redis_client, after_bot=True)
    await shop.say("where is my order")
    assert await shop.core.surveys.sweep() == 0  # not quiet long enough yet
    await asyncio.sleep(QUIET_S)
    assert await shop.core.surveys.sweep() == 1
    assert shop.sent()[-1] == TEXTS.question
    [asked] = await shop.events(EventType.CSAT_ASKED)
    assert asked["after"] == "bot"
    assert await redis_client.zcard(CSAT_DUE_KEY) == 0
    await shop.say("hello")  # answered again: no second survey within the conversation
    await asyncio.sleep(QUIET_S)
    assert await shop.core.surveys.sweep() == 0
    assert await redis_client.zcard(CSAT_DUE_KEY) == 0


async def test_after_bot_no_survey_after_an_unsure_answer(redis_client: aioredis.Redis) -> None:
    shop = Shop(redis_client, after_bot=True)
    await shop.say("where is my order")
    await shop.say("mumble mumble")  # unsure: asked to put it another way
    await asyncio.sleep(QUIET_S)
    assert await shop.core.surveys.sweep() == 0
    assert TEXTS.question not in shop.sent()
    assert await redis_client.zcard(CSAT_DUE_KEY) == 0


async def test_after_bot_surveys_are_off_by_default(shop: Shop) -> None:
    await shop.say("where is my order")
    await asyncio.sleep(QUIET_S)
    assert await shop.core.surveys.sweep() == 0
    assert TEXTS.question not in shop.sent()
