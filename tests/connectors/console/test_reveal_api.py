"""Personal data in the console, on a real Redis: the list and the transcript come masked (the
built-in kinds and the shop's own patterns); the original of one message comes only through
the reveal API, with the console token or a session, and each reveal is logged (never the text)
and journalled; an unknown message is 404, a foreign Origin 403."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.desk.actions import HandoffActions
from bot.insight.journal import EventType
from bot.redaction import compile_patterns
from connectors.console.console import AgentConsole
from tests.core import ALICE, Bot
from tests.support.webchat_client import Frame, frame

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture
Client = TestClient[Any, Any]
TOKEN = "console-token-4b1e2f0a9c7d"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CARD = "4111 1111 1111 1111"
EMAIL = "ana@example.com"
SECRET = "SECRET-4711"  # the shop's own pattern
SAID = f"my card is {CARD}, mail {EMAIL}, ref {SECRET}"
ORIGINAL = "/agent/api/conversations/{}/messages/{}/original"


@pytest.fixture
def bot(redis_client: aioredis.Redis) -> Bot:
    return Bot(redis_client)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, redis_client: aioredis.Redis, bot: Bot) -> Client:
    """The console's routes (as the app mounts them) with a pattern of the shop's own."""
    core = bot.core
    console = AgentConsole(
        core.store,
        core.hub,
        HandoffActions(core.store, core.tickets, core.handoff),
        TOKEN,
        None,
        tickets=core.tickets,
        client=redis_client,
        journal=core.journal,
        patterns=compile_patterns([r"SECRET-\d+"]),
    )
    app = web.Application()
    app.router.add_routes(console.routes())
    result: Client = await aiohttp_client(app)
    return result


@pytest.fixture
async def waiting(bot: Bot) -> tuple[str, str]:
    """A customer handed to people who then wrote their card: the conversation and message."""
    await bot.say("human please")
    await bot.say(SAID)
    cid = await bot.store.customer_for(ALICE)
    assert cid is not None
    conversation = await bot.store.load(cid)
    (message,) = [m for m in conversation.messages if m.text == SAID]  # the history keeps it
    return cid, message.id


async def next_of(ws: Any, kind: str) -> Frame:
    while (item := await frame(ws))["type"] != kind:
        pass
    return item


def own_origin(client: Client) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


async def test_the_list_and_the_transcript_come_masked(
    client: Client, waiting: tuple[str, str]
) -> None:
    cid, mid = waiting
    async with client.ws_connect("/agent/ws", headers={**BEARER, **own_origin(client)}) as ws:
        listed = (await next_of(ws, "list"))["conversations"]
        await ws.send_json({"type": "open", "conversation": cid})
        history = await next_of(ws, "history")
    preview = listed[0]["last_message"]
    shown = next(m for m in history["messages"] if m["id"] == mid)
    for text in (preview, shown["text"], history["ticket"]["last_message"]):
        assert all(hidden not in text for hidden in (CARD, EMAIL, SECRET))
        assert "1111" in text  # a receipt's last four stay
        assert "[redacted]" in text
    assert shown["masked"] is True
    unmasked = [m for m in history["messages"] if m["text"] == "human please"]
    assert [m.get("masked") for m in unmasked] == [None]


async def test_reveal_needs_the_token(client: Client, waiting: tuple[str, str]) -> None:
    cid, mid = waiting
    for headers in ({}, {"Authorization": "Bearer wrong-token-0000000"}):
        response = await client.post(ORIGINAL.format(cid, mid), headers=headers)
        assert response.status == 401
        assert SAID not in await response.text()


async def test_reveal_answers_the_original_and_records_who_and_which(
    client: Client,
    waiting: tuple[str, str],
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cid, mid = waiting
    with caplog.at_level(logging.INFO, logger="connectors.console.reveal_api"):
        response = await client.post(ORIGINAL.format(cid, mid), headers=BEARER)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.json() == {"conversation": cid, "message": mid, "text": SAID}
    lines = [r.getMessage() for r in caplog.records if "revealed" in r.getMessage()]
    assert len(lines) == 1
    assert all(part in lines[0] for part in ("console token", cid, mid))
    assert all(hidden not in caplog.text for hidden in (CARD, EMAIL, SECRET))
    events = await bot.core.journal.of_customer(cid)
    revealed = [e for e in events if e["type"] == EventType.REVEALED]
    assert len(revealed) == 1
    assert revealed[0]["agent"] == "console token"
    assert revealed[0]["message"] == mid
    assert "text" not in revealed[0]


async def test_a_session_reveals_under_its_fingerprint(
    client: Client, waiting: tuple[str, str], bot: Bot
) -> None:
    cid, mid = waiting
    signed_in = await client.post("/agent/login", data={"token": TOKEN}, allow_redirects=False)
    assert signed_in.status == 303
    response = await client.post(ORIGINAL.format(cid, mid), headers=own_origin(client))
    assert response.status == 200
    (event,) = [e for e in await bot.core.journal.of_customer(cid) if e["type"] == "revealed"]
    assert event["agent"].startswith("console session ")
    cookie = next(iter(client.session.cookie_jar)).value
    assert cookie not in event["agent"]


async def test_an_unknown_message_is_404_and_records_nothing(
    client: Client, waiting: tuple[str, str], bot: Bot
) -> None:
    cid, _ = waiting
    for path in (
        ORIGINAL.format(cid, "0" * 32),
        ORIGINAL.format("nobody", "0" * 32),
        ORIGINAL.format(cid, "not.an.id"),
    ):
        response = await client.post(path, headers=BEARER)
        assert response.status == 404, path
        assert "error" in await response.json()
    events = await bot.core.journal.of_customer(cid)
    assert not [e for e in events if e["type"] == EventType.REVEALED]


async def test_a_foreign_origin_cannot_reveal(client: Client, waiting: tuple[str, str]) -> None:
    cid, mid = waiting
    foreign = {**BEARER, "Origin": "https://evil.example"}
    response = await client.post(ORIGINAL.format(cid, mid), headers=foreign)
    assert response.status == 403
    assert SAID not in await response.text()
