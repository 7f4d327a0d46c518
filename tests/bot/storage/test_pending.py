"""The pending indexes of the conversation queues on a real Redis (and Redis Cluster): a sorted
set names the conversations due now, a plain set every conversation pending."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from bot.storage.pending import DueIndex, PendingSet
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER

INDEX = "test:due"


async def test_a_due_index_names_what_is_due_now(redis_client: aioredis.Redis) -> None:
    index, now = DueIndex(INDEX), time.time()
    await index.mark(redis_client, "a", now - 2)
    await index.mark(redis_client, "b", now - 1)
    await index.mark(redis_client, "later", now + 60)
    assert await index.due(redis_client, None) == ["a", "b"]
    assert await index.due(redis_client, 1) == ["a"]
    assert await index.count(redis_client) == 3
    await index.clear(redis_client, "a")
    assert await index.due(redis_client, None) == ["b"]


async def test_marking_new_keeps_an_earlier_due_time(redis_client: aioredis.Redis) -> None:
    index, now = DueIndex(INDEX), time.time()
    await index.mark(redis_client, "a", now - 1)
    await index.mark(redis_client, "a", now + 60, new=True)
    assert await index.due(redis_client, None) == ["a"]
    await index.mark(redis_client, "a", now + 60)
    assert await index.due(redis_client, None) == []


async def test_a_pending_set_names_every_conversation(redis_client: aioredis.Redis) -> None:
    index = PendingSet(INDEX)
    await index.mark(redis_client, "a", time.time() + 60)
    await index.mark(redis_client, "b", 0.0)
    assert sorted(await index.due(redis_client, 1)) == ["a", "b"]
    await index.clear(redis_client, "a")
    assert await index.due(redis_client, None) == ["b"]
    assert await index.count(redis_client) == 1
