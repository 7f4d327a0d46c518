"""Events handled once, against a real Redis (and a cluster)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bot.storage.keys import once_key
from bot.storage.once import ONCE_TTL_S, Once
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER


async def test_an_event_is_claimed_once_per_source(redis_client: aioredis.Redis) -> None:
    slack = Once(redis_client, "slack")
    assert await slack.first_time("Ev1")
    assert not await slack.first_time("Ev1")
    assert await Once(redis_client, "other").first_time("Ev1")
    assert 0 < await redis_client.ttl(once_key("slack", "Ev1")) <= ONCE_TTL_S


async def test_concurrent_claims_have_one_winner(redis_client: aioredis.Redis) -> None:
    once = Once(redis_client, "slack")
    claims = await asyncio.gather(*(once.first_time("Ev2") for _ in range(5)))
    assert sorted(claims) == [False] * 4 + [True]
