"""The console's customer data API through aiohttp's test client, on a real Redis: 401 without
the console token, 404 for an unknown address, 400 for a malformed one, the export and the
erasure as JSON with the token or a console session; a foreign Origin cannot erase."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.desk.actions import HandoffActions
from bot.models import Address, Message, Role
from bot.storage.keys import address_key
from connectors.console.console import AgentConsole
from tests.core import Bot

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture
Client = TestClient[Any, Any]
TOKEN = "console-token-4b1e2f0a9c7d"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
PHONE = Address("sms", "+447700900123")
EXPORT = "/agent/api/customers/{}/export"
ERASE = "/agent/api/customers/{}/erase"


@pytest.fixture
async def client(aiohttp_client: ClientFactory, redis_client: aioredis.Redis) -> Client:
    """The console's routes (as the app mounts them) on the test Redis."""
    core = Bot(redis_client).core
    actions = HandoffActions(core.store, core.tickets, core.handoff)
    console = AgentConsole(
        core.store, core.hub, actions, TOKEN, None, tickets=core.tickets, client=redis_client
    )
    app = web.Application()
    app.router.add_routes(console.routes())
    result: Client = await aiohttp_client(app)
    return result


@pytest.fixture
async def alice(redis_client: aioredis.Redis) -> str:
    """A customer at PHONE who wrote once."""
    store = Bot(redis_client).store
    cid = await store.resolve(PHONE)
    message = Message(role=Role.CUSTOMER, text="where is my order", channel="sms")
    assert await store.accept(cid, PHONE, "SM1", message) is not None
    return cid


def path(template: str, address: str = PHONE.id) -> str:
    return template.format(quote(address, safe=""))


@pytest.mark.parametrize("template", [EXPORT, ERASE])
async def test_without_the_token_it_is_401(client: Client, alice: str, template: str) -> None:
    method = client.get if template == EXPORT else client.post
    for headers in ({}, {"Authorization": "Bearer wrong-token-0000000"}):
        response = await method(path(template), headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await response.json()


async def test_an_unknown_address_is_404_and_a_malformed_one_400(client: Client) -> None:
    response = await client.get(path(EXPORT, "+447700900999"), headers=BEARER)
    assert response.status == 404
    assert (await response.json())["error"] == "no customer at sms:+4•••••••0999"
    response = await client.post(path(ERASE, "webchat:nobody"), headers=BEARER)
    assert response.status == 404
    response = await client.get(path(EXPORT, "alice"), headers=BEARER)
    assert response.status == 400


async def test_export_then_erase_with_the_token(
    client: Client, alice: str, redis_client: aioredis.Redis
) -> None:
    response = await client.get(path(EXPORT), headers=BEARER)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = await response.json()
    assert data["customer_id"] == alice
    assert [m["text"] for m in data["conversations"][0]["messages"]] == ["where is my order"]
    response = await client.post(path(ERASE, "sms:" + PHONE.id), headers=BEARER)
    assert response.status == 200
    report = await response.json()
    assert report["counts"]["messages"] == 1
    assert await redis_client.get(address_key(PHONE)) is None
    assert (await client.get(path(EXPORT), headers=BEARER)).status == 404


async def test_a_console_session_may_export_and_a_foreign_origin_may_not_erase(
    client: Client, alice: str
) -> None:
    form = {"token": TOKEN}
    signed_in = await client.post("/agent/login", data=form, allow_redirects=False)
    assert signed_in.status == 303
    assert (await client.get(path(EXPORT))).status == 200
    foreign = {"Origin": "https://evil.example"}
    assert (await client.post(path(ERASE), headers=foreign)).status == 403
    assert (await client.get(path(EXPORT))).status == 200  # nothing erased
