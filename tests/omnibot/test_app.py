"""The composed app: health, metrics, and its own embedded Redis when REDIS_URL is unset."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from bot.pipeline.lanes import queued_work
from bot.storage.embedded import EmbeddedRedis, running_url
from omnibot.app import create_app
from omnibot.engine import Intents
from omnibot.roles import Role
from omnibot.services import SERVICES
from omnibot.settings import Settings
from tests.conftest import AppFactory
from tests.support.polling import wait_until
from tests.support.webchat_client import frames, opening

ClientFactory = Any


async def test_healthz_is_ok_when_redis_answers(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_every_response_carries_its_request_id(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    kept = await client.get("/healthz", headers={"X-Request-ID": "proxy-42"})
    assert kept.headers["X-Request-ID"] == "proxy-42"
    made = await client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) >= 16  # none came in: one is made


async def test_healthz_reports_the_help_centre_index(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    knowledge = (await (await client.get("/healthz")).json())["knowledge"]
    assert knowledge["state"] == "ready"
    assert knowledge["articles"] >= 18
    assert knowledge["passages"] >= knowledge["articles"]


async def test_healthz_is_503_when_redis_is_gone(
    aiohttp_client: ClientFactory, intents: Intents, tmp_path: Path
) -> None:
    redis_server = EmbeddedRedis(tmp_path)
    await redis_server.start()
    app = create_app(Settings(redis_url=redis_server.url, data_dir=tmp_path), intents=intents)
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    await redis_server.stop()
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["status"] == "unavailable"


async def test_without_redis_url_the_app_runs_its_own_redis(
    aiohttp_client: ClientFactory, intents: Intents, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path), intents=intents))
    assert (await client.get("/healthz")).status == 200
    assert (tmp_path / "redis" / "appendonly.aof").exists()


async def test_a_killed_embedded_redis_comes_back(
    aiohttp_client: ClientFactory, intents: Intents, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path), intents=intents))
    assert (await client.get("/healthz")).status == 200
    url = running_url(tmp_path / "redis")
    assert url is not None
    redis_client = aioredis.Redis.from_url(url)
    pid = int((await redis_client.info("server"))["process_id"])
    await redis_client.aclose()
    os.kill(pid, signal.SIGKILL)

    async def healthy() -> bool:
        return bool((await client.get("/healthz")).status == 200)

    await wait_until(healthy, 15, "/healthz answering 200 again")


async def test_metrics_count_this_apps_messages(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    app, other = make_app(), make_app()
    client = await aiohttp_client(app)
    async with client.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        for text in ("hello", "hello", "hello"):
            await ws.send_json({"type": "message", "text": text, "id": "same"})
        await frames(ws, 2)  # the echo and the answer: the resends are duplicates
        await ws.send_json({"type": "message", "text": "thanks"})
        await frames(ws, 2)
    registry = app[SERVICES].metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("omnibot_inbound_messages_total", channel="webchat", outcome="accepted") == 2
    assert value("omnibot_inbound_messages_total", channel="webchat", outcome="duplicate") == 2
    assert value("omnibot_answered_total", intent="greeting") == 1
    assert value("omnibot_answered_total", intent="thanks") == 1
    assert (
        other[SERVICES].metrics.registry.get_sample_value(
            "omnibot_answered_total", {"intent": "greeting"}
        )
        is None
    )
    text = await (await client.get("/metrics")).text()
    assert 'omnibot_answered_total{intent="greeting"} 1.0' in text


async def test_a_front_app_stores_and_an_answer_app_on_the_same_redis_answers(
    aiohttp_client: ClientFactory, make_app: AppFactory, redis_client: aioredis.Redis
) -> None:
    front_app = make_app(role=Role.FRONT)
    assert front_app[SERVICES].intents is None  # no model in a front process
    front = await aiohttp_client(front_app)
    health = await (await front.get("/healthz")).json()
    assert (health["role"], health["answering"], health["model"]) == ("front", "down", "none")
    async with front.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        await ws.send_json({"type": "message", "text": "where is my order?"})
        assert [f["role"] for f in await frames(ws, 1)] == ["customer"]
        assert await queued_work(redis_client) == 1  # stored, left to an answerer

        answer_app = make_app(role=Role.ANSWER)
        assert not list(answer_app.router.resources())  # no HTTP surface at all
        runner = web.AppRunner(answer_app)
        await runner.setup()  # started as an answer process starts it: no listener
        try:
            (answered,) = await frames(ws, 1)
            assert answered["role"] == "bot"
            health = await (await front.get("/healthz")).json()
            assert (health["answering"], health["answer_processes"]) == ("up", 1)
        finally:
            await runner.cleanup()
    health = await (await front.get("/healthz")).json()
    assert health["answering"] == "down"  # a graceful stop says goodbye at once
