"""SMS conversations end to end: Twilio's signed webhooks in, the fake Twilio API out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from bot.delivery import outbox as outbox_module
from bot.delivery.outbox import ATTEMPTS
from bot.identity.texts import LinkingTexts
from bot.models import Address, Channel, State
from bot.texts import Texts
from connectors.sms.text import MAX_BODY_CHARS, segments
from intents.actions.order_status import ASK_TEXT
from omnibot.services import SERVICES
from tests.conftest import AppFactory
from tests.support.phone import CUSTOMER, Phone
from tests.support.polling import work_done
from tests.support.twilio_fake import FakeTwilio

ClientFactory = Any
PICTURE = ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")

TEXTS = Texts()


@pytest.fixture
def app(make_app: AppFactory, sms_settings: dict[str, object]) -> web.Application:
    return make_app(**sms_settings)


@pytest.fixture
async def phone(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> Phone:
    return Phone(await aiohttp_client(app), app, twilio_api)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "MAX_BACKOFF_S", 0.01)
    monkeypatch.setattr(outbox_module, "SWEEP_S", 0.01)


async def test_an_order_question_is_answered_by_sms(phone: Phone) -> None:
    assert await phone.text("where is my order?") == 200
    await phone.settle()
    assert phone.received() == [ASK_TEXT]
    await phone.text("It's 100234")
    await phone.settle()
    assert "100234" in phone.received()[1]


async def test_a_retried_webhook_is_answered_once(phone: Phone) -> None:
    sid = "SM" + "d" * 32
    assert [await phone.text("hello", sid=sid) for _ in range(3)] == [200, 200, 200]
    statuses = await asyncio.gather(*(phone.text("hello", sid="SM" + "e" * 32) for _ in range(8)))
    assert statuses == [200] * 8
    await phone.settle()
    assert len(phone.received()) == 2
    history = (await phone.app[SERVICES].store.load(await phone.conversation_id())).messages
    assert [m.text for m in history if m.role.value == "customer"] == ["hello", "hello"]


async def test_escalation_and_the_agents_reply_by_sms(phone: Phone) -> None:
    await phone.text("I want to talk to a human")
    await phone.settle()
    assert phone.received()[-1].endswith(TEXTS.waiting)
    services = phone.app[SERVICES]
    cid = await phone.conversation_id()
    assert (await services.store.load(cid)).state is State.WAITING
    await services.handoff.agent_reply(cid, "Dana", "Hi, Dana here. How can I help?")
    await phone.settle()
    assert phone.received()[-2:] == [
        "Dana joined the conversation.",
        "Hi, Dana here. How can I help?",
    ]
    await phone.text("my parcel never came")  # goes to the agent, not the classifier
    await phone.settle()
    assert len(phone.received()) == 3


async def test_stop_silences_everything_until_start(phone: Phone) -> None:
    await phone.text("I want to talk to a human")
    await phone.text("  Stop! ")
    await phone.settle()
    sent_before = len(phone.received())
    services = phone.app[SERVICES]
    cid = await phone.conversation_id()
    await services.handoff.agent_reply(cid, "Dana", "Are you still there?")
    await phone.settle()
    await phone.text("hello")
    await phone.settle()
    assert len(phone.received()) == sent_before  # nothing, agent replies included
    await phone.text("start")
    await phone.settle()
    assert phone.received()[-1] == TEXTS.opt_in


async def test_help_gets_the_help_text_and_is_not_classified(phone: Phone) -> None:
    await phone.text("HELP")
    await phone.settle()
    assert phone.received() == [phone.app[SERVICES].settings.sms_help_text]


@pytest.mark.parametrize(
    ("unit", "encoding"),
    [("Your parcel is on its way. ", "gsm7"), ("Your parcel 📦 is on its way. ", "ucs2")],
)
async def test_a_long_reply_is_split_and_its_segments_counted(
    phone: Phone, unit: str, encoding: str
) -> None:
    await phone.text("I want to talk to a human")
    await phone.settle()
    services = phone.app[SERVICES]
    cid = await phone.conversation_id()
    long_text = (unit * 130).strip()
    await services.handoff.agent_reply(cid, "Dana", long_text)
    await phone.settle()
    parts = phone.received()[-3:]
    assert all(len(part) <= MAX_BODY_CHARS for part in parts)
    assert " ".join(parts) == long_text
    reply = (await services.store.load(cid)).messages[-1]
    record = await services.deliveries.get(cid, reply.id)
    assert record is not None
    assert (record["parts"], record["segments"]) == (3, sum(segments(p) for p in parts))
    metrics = services.metrics.sms_segments.labels(encoding=encoding)._value.get()
    assert metrics >= record["segments"]


async def test_a_picture_gets_a_helpful_answer_and_shows_in_history(
    phone: Phone, aiohttp_client: ClientFactory
) -> None:
    assert await phone.text("", media=(PICTURE,)) == 200
    await phone.settle()
    assert phone.received() == [TEXTS.media_only]
    conversation = await phone.app[SERVICES].store.load(await phone.conversation_id())
    assert conversation.messages[0].to_dict()["media"] == [
        {"url": PICTURE[0], "content_type": PICTURE[1]}
    ]


async def test_a_picture_goes_to_the_agent_when_one_is_on_it(phone: Phone) -> None:
    await phone.text("I want to talk to a human")
    await phone.settle()
    await phone.text("here is the damage", media=(PICTURE,))
    await phone.settle()
    services = phone.app[SERVICES]
    ticket = (await services.store.load(await phone.conversation_id())).ticket
    assert ticket is not None
    last = services.desk.tickets[ticket][-1]  # type: ignore[attr-defined]
    assert last.text == "here is the damage"
    assert [m.url for m in last.media] == [PICTURE[0]]


@pytest.mark.usefixtures("quick_retries")
async def test_a_failing_twilio_is_retried_until_it_recovers(phone: Phone) -> None:
    phone.twilio.fail_next(500)
    phone.twilio.fail_next(429, code=20429, retry_after=0.01)
    await phone.text("hello")
    await phone.settle()
    assert len(phone.received()) == 1
    assert [call.status for call in phone.twilio.calls] == [500, 429, 201]


@pytest.mark.usefixtures("quick_retries")
async def test_an_unsubscribed_number_is_not_retried(phone: Phone) -> None:
    phone.twilio.fail_next(400, code=21610, message="Attempt to send to unsubscribed recipient")
    await phone.text("hello")
    await phone.settle()
    assert [call.status for call in phone.twilio.calls] == [400]
    services = phone.app[SERVICES]
    cid = await phone.conversation_id()
    reply = (await services.store.load(cid)).messages[-1]
    record = await services.deliveries.get(cid, reply.id)
    assert record is not None
    assert (record["status"], record.get("error_code")) == ("failed", 21610)


@pytest.mark.usefixtures("quick_retries")
async def test_a_dead_letter_is_kept_and_replayed(phone: Phone) -> None:
    phone.twilio.failing = True
    await phone.text("hello")
    await phone.settle()
    # a 500 may hide a created message: every later try asks Twilio before creating again
    assert len(phone.twilio.calls) == 1
    assert len(phone.twilio.lookups) == ATTEMPTS - 1
    services = phone.app[SERVICES]
    [dead] = await services.deliveries.dead_letters()
    assert dead["to"] == ["sms", CUSTOMER]
    phone.twilio.failing = False
    assert (await services.outbox.replay(dead["id"])).value == "sent"
    assert len(phone.received()) == 1
    assert await services.deliveries.dead_letters() == []


async def test_web_chat_history_carries_a_picture_sent_by_sms(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> None:
    client = await aiohttp_client(app)
    services = app[SERVICES]
    async with client.ws_connect("/webchat/ws") as ws:
        token = (await ws.receive_json())["token"]
        await ws.receive_json()
        await ws.receive_json()
        cid = await services.store.customer_for(Address(Channel.WEBCHAT, token))
        assert cid is not None
        await services.store.add_address(cid, Address("sms", CUSTOMER))
    phone = Phone(client, app, twilio_api)
    assert await phone.text("", media=(PICTURE,)) == 200
    await phone.settle()
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:
        await ws.receive_json()
        history = await ws.receive_json()
    [picture] = [m for m in history["messages"] if m.get("media")]
    assert picture["media"][0]["url"] == PICTURE[0]
    assert picture["channel"] == "sms"


async def bot_answer(ws: Any, text: str) -> str:
    """Say ``text`` on a web chat socket; the bot's answer."""
    await ws.send_json({"type": "message", "text": text})
    while True:
        got = await ws.receive_json()
        if got["type"] == "message" and got["role"] == "bot":
            return str(got["text"])


async def test_a_code_for_a_number_abroad_is_not_texted(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> None:
    """The shop's number is American and SMS_ALLOWED_COUNTRIES is unset: a British number (or a
    Jamaican one, on the same +1) gets no code, and the visitor is told why."""
    client = await aiohttp_client(app)
    async with client.ws_connect("/webchat/ws") as ws:
        for _ in range(3):  # session, history, state
            await ws.receive_json()
        assert "mobile number" in await bot_answer(ws, "Continue by SMS")
        assert LinkingTexts().no_country == await bot_answer(ws, "+44 7700 900123")
        await bot_answer(ws, "Continue by SMS")
        assert LinkingTexts().no_country == await bot_answer(ws, "+1 876 555 1234")
        await bot_answer(ws, "Continue by SMS")
        assert "texted a 6-digit code" in await bot_answer(ws, "+1 555 765 4321")
    await work_done(app)
    assert [call["To"] for call in twilio_api.sent] == [CUSTOMER]
    metrics = await (await client.get("/metrics")).text()
    assert 'omnibot_link_code_refusals_total{reason="country_not_allowed"} 2.0' in metrics
