"""Satisfaction surveys end to end: an agent resolves, the customer is asked on their own
channel (SMS: "Reply 1-5"; web chat: the scores as buttons) and a bare score is recorded."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.desk.actions import HandoffActions
from bot.insight.csat_rules import SurveyTexts
from bot.insight.journal import EventType, Journal
from bot.models import Address
from omnibot.services import SERVICES, Services
from tests.conftest import AppFactory
from tests.support.phone import Phone
from tests.support.twilio_fake import FakeTwilio
from tests.support.webchat_client import frame, frames

ClientFactory = Any
TEXTS = SurveyTexts()
SMS_SURVEY = f"{TEXTS.question}\nReply 1-5"


def actions(services: Services) -> HandoffActions:
    """The desk's actions, as the Slack desk and the console hold them."""
    return HandoffActions(services.store, services.tickets, services.handoff, services.surveys)


async def scores(client: aioredis.Redis, cid: str) -> list[int]:
    """The scores the customer's journal holds."""
    events = await Journal(client).of_customer(cid)
    return [int(e.get("score", 0)) for e in events if e["type"] == EventType.CSAT_ANSWERED]


@pytest.fixture
def app(make_app: AppFactory, sms_settings: dict[str, object]) -> web.Application:
    return make_app(**sms_settings)


@pytest.fixture
async def phone(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> Phone:
    return Phone(await aiohttp_client(app), app, twilio_api)


async def resolved_by_sms(phone: Phone) -> str:
    """The phone's customer asks for a person, who claims and resolves the conversation."""
    await phone.text("I want to talk to a human")
    await phone.settle()
    services = phone.app[SERVICES]
    cid = await phone.conversation_id()
    await actions(services).claim(cid, "Dana")
    await actions(services).resolve(cid, "Dana")
    await phone.settle()
    return cid


async def test_an_sms_customer_rates_4_after_a_resolve(
    phone: Phone, redis_client: aioredis.Redis
) -> None:
    cid = await resolved_by_sms(phone)
    assert phone.received()[-1] == SMS_SURVEY
    await phone.text("4")
    await phone.settle()
    assert phone.received()[-1] == TEXTS.thanks
    assert await scores(redis_client, cid) == [4]


async def test_words_go_to_the_bot_and_no_second_survey_while_pending(
    phone: Phone, redis_client: aioredis.Redis
) -> None:
    cid = await resolved_by_sms(phone)
    await phone.text("where is my order?")  # not a score: answered as usual
    await phone.settle()
    assert phone.received()[-1] not in (SMS_SURVEY, TEXTS.thanks)
    services = phone.app[SERVICES]
    await phone.text("I want to talk to a human")
    await phone.settle()
    await actions(services).resolve(cid, "Dana")  # resolved again: the survey still pends
    await phone.settle()
    assert phone.received().count(SMS_SURVEY) == 1
    await phone.text("5")
    await phone.settle()
    assert await scores(redis_client, cid) == [5]


async def test_an_opted_out_number_gets_no_survey(phone: Phone) -> None:
    await phone.text("I want to talk to a human")
    await phone.text("STOP")
    await phone.settle()
    services = phone.app[SERVICES]
    cid = await phone.conversation_id()
    await actions(services).resolve(cid, "Dana")
    await phone.settle()
    history = (await services.store.load(cid)).messages
    assert all(message.text != TEXTS.question for message in history)
    assert SMS_SURVEY not in phone.received()


async def test_a_web_chat_customer_taps_5(
    aiohttp_client: ClientFactory, make_app: AppFactory, redis_client: aioredis.Redis
) -> None:
    app = make_app()
    client = await aiohttp_client(app)
    services = app[SERVICES]
    async with client.ws_connect("/webchat/ws") as ws:
        token = (await frames(ws, 3))[0]["token"]
        await ws.send_json({"type": "message", "text": "I want to talk to a human"})
        await frames(ws, 3)  # the echo, the hand-off notice, the state
        cid = await services.store.customer_for(Address("webchat", token))
        assert cid is not None
        await actions(services).resolve(cid, "Dana")
        _, _, survey = await frames(ws, 3)  # the resolve notice, the state, the survey
        assert (survey["text"], survey["options"]) == (TEXTS.question, ["1", "2", "3", "4", "5"])
        await ws.send_json({"type": "message", "text": survey["options"][4]})  # the button "5"
        echo, thanks = await frame(ws), await frame(ws)
        assert (echo["text"], thanks["text"]) == ("5", TEXTS.thanks)
    assert await scores(redis_client, cid) == [5]
