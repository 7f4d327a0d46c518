"""Help-centre answers end to end, on the real engine and the demo shop's sample articles: a web
chat customer's care question answered with the passage and a link to its article, the same
question by SMS within 320 characters with the link, and an order question still the intent's."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from bot.models import Address, Role
from omnibot.services import SERVICES
from tests.conftest import AppFactory
from tests.support.phone import Phone
from tests.support.twilio_fake import FakeTwilio
from tests.support.webchat_client import frames

ClientFactory = Any
MERINO_QUESTION = "how do I care for a merino jumper?"
MERINO_URL = "https://shop.example.com/help/merino-wool-care"


async def test_a_web_chat_care_question_gets_the_passage_and_its_link(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    async with client.ws_connect("/webchat/ws") as ws:
        token = (await frames(ws, 3))[0]["token"]
        await ws.send_json({"type": "message", "text": MERINO_QUESTION})
        _, answer = await frames(ws, 2)
        assert answer["role"] == "bot"
        assert "jumper" in answer["text"].lower()
        assert len(answer["text"]) <= 600
        assert answer["article"]["url"] == MERINO_URL
        await ws.send_json({"type": "message", "text": "where's my order 100412"})
        _, order = await frames(ws, 2)
        assert "100412" in order["text"]
        assert "article" not in order
    store = client.app[SERVICES].store
    cid = await store.customer_for(Address("webchat", token))
    assert cid is not None
    bot = [m for m in (await store.load(cid)).messages if m.role is Role.BOT]
    assert bot[0].article is not None
    assert bot[0].article.key == "merino-wool-care.md"
    assert bot[0].article.score >= 0.85


@pytest.fixture
def app(make_app: AppFactory, sms_settings: dict[str, object]) -> web.Application:
    return make_app(**sms_settings)


async def test_an_sms_care_question_gets_the_passage_and_link_within_320_characters(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> None:
    phone = Phone(await aiohttp_client(app), app, twilio_api)
    assert await phone.text(MERINO_QUESTION) == 200
    await phone.settle()
    [body] = phone.received()
    assert len(body) <= 320
    assert body.endswith(MERINO_URL)
