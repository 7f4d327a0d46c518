"""``/metrics`` carries the report's figures, read from the journal when scraped."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from bot.insight.journal import Journal, journal_event
from omnibot.app import create_app
from omnibot.roles import Role
from omnibot.settings import Settings

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
