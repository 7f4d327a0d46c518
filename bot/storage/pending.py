"""The pending index of a conversation queue (:mod:`bot.storage.queue`): which conversations have
entries, and when each is due. A sorted set keeps the due time; a plain set leaves it to the
head itself. Either is written before the work it names (an index entry without work is
harmless, work without one would wait)."""

from __future__ import annotations

import time

import redis.asyncio as redis

__all__ = ["DueIndex", "PendingSet"]


class DueIndex:
    """A pending index as a sorted set: conversation -> when its next try is due."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def mark(self, client: redis.Redis, cid: str, at: float, new: bool = False) -> None:
        """Due at ``at`` (``new``: only if not indexed yet, keeping an earlier due time)."""
        await client.zadd(self.key, {cid: at}, nx=new)

    async def clear(self, client: redis.Redis, cid: str) -> None:
        """Nothing pending."""
        await client.zrem(self.key, cid)

    async def due(self, client: redis.Redis, limit: int | None) -> list[str]:
        """Conversations due now (at most ``limit``)."""
        if limit is None:
            found = await client.zrangebyscore(self.key, "-inf", time.time())
        else:
            found = await client.zrangebyscore(self.key, "-inf", time.time(), start=0, num=limit)
        return [str(cid) for cid in found]

    async def count(self, client: redis.Redis) -> int:
        """Conversations pending."""
        return int(await client.zcard(self.key))


class PendingSet:
    """A pending index as a plain set (each head's due time is read from the head itself)."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def mark(self, client: redis.Redis, cid: str, at: float, new: bool = False) -> None:
        """Pending (a set keeps no time)."""
        await client.sadd(self.key, cid)

    async def clear(self, client: redis.Redis, cid: str) -> None:
        """Nothing pending."""
        await client.srem(self.key, cid)

    async def due(self, client: redis.Redis, limit: int | None) -> list[str]:
        """Every conversation pending (``limit`` is not applied to a set)."""
        return [str(cid) for cid in await client.smembers(self.key)]

    async def count(self, client: redis.Redis) -> int:
        """Conversations pending."""
        return int(await client.scard(self.key))
