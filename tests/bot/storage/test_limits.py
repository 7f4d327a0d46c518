"""Rate limits in Redis: a fixed window per key, shared by every client of the Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.storage.limits import RateLimiter


async def test_a_key_gets_its_limit_per_window_and_others_are_not_slowed(
    redis_client: aioredis.Redis,
) -> None:
    limiter = RateLimiter(redis_client, "test", limit=2, window_s=60)
    assert [await limiter.retry_after("1.2.3.4") for _ in range(2)] == [None, None]
    wait = await limiter.retry_after("1.2.3.4")
    assert wait is not None
    assert 0 < wait <= 60
    assert await limiter.retry_after("5.6.7.8") is None
    other_process = RateLimiter(redis_client, "test", limit=2, window_s=60)
    assert await other_process.retry_after("1.2.3.4") is not None


async def test_a_new_window_starts_when_the_last_one_ends(redis_client: aioredis.Redis) -> None:
    limiter = RateLimiter(redis_client, "test", limit=1, window_s=1)
    assert await limiter.retry_after("k") is None
    assert await limiter.retry_after("k") == 1
    await redis_client.delete("limit:test:k")  # the window's end, without waiting for it
    assert await limiter.retry_after("k") is None
