"""``/healthz`` (a front reports the answer processes' model) and ``/metrics`` (the report's
figures, read from the journal when scraped; an answer process's own with ``METRICS_PORT``)."""

from __future__ import annotations

import os
import time
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.insight.journal import Journal, journal_event
from bot.storage.embedded import free_port
from omnibot.app import create_app
from omnibot.health import model_status
from omnibot.roles import Role
from omnibot.services import SERVICES
from omnibot.settings import Settings
from tests.conftest import AppFactory

ClientFactory = Any


async def test_metrics_show_the_last_7_days_report(
    aiohttp_client: ClientFactory, settings: Settings, redis_client: aioredis.Redis
) -> None:
    journal = Journal(redis_client)
    asked = journal_event("message", "c1", "sms", message="m1")
    asked["at"] = time.time() - 3600
    await journal.add("c1", asked)
    client = await aiohttp_client(create_app(settings, role=Role.FRONT))  # no model needed
    text = await (await client.get("/metrics")).text()
    assert 'omnibot_report_conversations{channel="all"} 1.0' in text
    assert 'omnibot_report_open{channel="sms"} 1.0' in text
    assert "omnibot_queue_length 0.0" in text


async def test_a_front_reports_the_model_of_the_answer_process_on_its_redis(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    front = await aiohttp_client(make_app(role=Role.FRONT))
    answer_app = make_app(role=Role.ANSWER)
    runner = web.AppRunner(answer_app)
    await runner.setup()  # started as an answer process starts it: no listener
    try:
        health = await (await front.get("/healthz")).json()
        own = model_status(answer_app[SERVICES])
    finally:
        await runner.cleanup()
    assert own["model"] != "none"
    assert (health["role"], health["answering"], health["answer_processes"]) == ("front", "up", 1)
    assert {key: health[key] for key in own} == own  # model, tuning and knowledge
    (answerer,) = health["answerers"]
    assert answerer["consumer"] == answer_app[SERVICES].stream.consumer
    assert answerer["pid"] == os.getpid()
    assert health["models_agree"] is True
    gone = await (await front.get("/healthz")).json()
    assert (gone["answering"], gone["model"], gone["answerers"]) == ("down", "none", [])


async def test_a_process_of_role_all_reports_itself(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    app = make_app()  # the settings' role: auto, which is all inside one process
    client = await aiohttp_client(app)
    health = await (await client.get("/healthz")).json()
    assert (health["role"], health["answering"]) == ("all", "up")
    intents = app[SERVICES].intents
    assert intents is not None
    assert health["model"] == intents.model_name
    assert "answerers" not in health


async def test_an_answer_process_serves_its_own_metrics_on_metrics_port(
    make_app: AppFactory,
) -> None:
    port = free_port()
    answer_app = make_app(role=Role.ANSWER, metrics_port=port)
    answer_app[SERVICES].metrics.answered.labels("greeting").inc()
    runner = web.AppRunner(answer_app)
    await runner.setup()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            text = await response.text()
    finally:
        await runner.cleanup()
    assert 'omnibot_answered_total{intent="greeting"} 1.0' in text
    with pytest.raises(aiohttp.ClientConnectionError):  # stopped with the process
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{port}/metrics")
