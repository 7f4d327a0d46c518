"""Today's figures for the console's header through aiohttp's test client, on a real Redis:
401 without the console token, today's report as JSON with it."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.desk.actions import HandoffActions
from bot.desk.tickets import Tickets
from bot.insight.journal import Journal, journal_event
from connectors.console.console import AgentConsole
from connectors.console.report_api import REPORT_PATH, midnight
from tests.core import Bot

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture
Client = TestClient[Any, Any]
TOKEN = "console-token-4b1e2f0a9c7d"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


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


async def test_without_the_token_it_is_401(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-0000000"}):
        response = await client.get(REPORT_PATH, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await response.json()


async def test_todays_report_with_the_token(client: Client, redis_client: aioredis.Redis) -> None:
    now = time.time()
    journal = Journal(redis_client)
    for cid, at in (("today", (midnight(now) + now) / 2), ("yesterday", midnight(now) - 60)):
        written = journal_event("message", cid, "webchat")
        written["at"] = at
        await journal.add(cid, written)
    await Tickets(redis_client).mark_open("today", now - 120)
    response = await client.get(REPORT_PATH, headers=BEARER)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    report = await response.json()
    assert (report["conversations"], report["open"], report["since"]) == (1, 1, midnight(now))
    assert report["by_channel"]["webchat"]["conversations"] == 1
    assert report["queue_length"] == 1
    assert report["longest_wait_s"] >= 120


def test_midnight_is_the_start_of_the_local_day() -> None:
    now = time.time()
    start = midnight(now)
    assert 0 <= now - start < 86400 + 3600  # a day (one with a clock change may be 25 h)
    assert time.localtime(start)[3:6] == (0, 0, 0)
