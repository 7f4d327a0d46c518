"""Helpers for tests of the per-conversation queues (:mod:`bot.storage.queue`)."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from bot.storage.keys import conversation_key
from bot.storage.queue import RETRY_AT_FIELD
from bot.storage.scripts import REPLACE_HEAD


async def due_now(client: aioredis.Redis, cid: str, items: str) -> None:
    """Make the head of ``conv:{cid}:<items>`` due at once (the sweeper's next round, without
    waiting for its backoff)."""
    key = conversation_key(cid, items)
    raw = await client.lindex(key, 0)
    assert raw is not None, f"{key} is empty"
    fields = json.loads(raw)
    fields.pop(RETRY_AT_FIELD, None)
    assert await client.eval(REPLACE_HEAD, 1, key, raw, json.dumps(fields))
