"""Rate limits kept in Redis, shared by every process: a counter per key and fixed window.

(A customer's own message rate is checked inside the accept script, with no extra round trip:
see :mod:`bot.storage.store`.)
"""

from __future__ import annotations

import redis.asyncio as redis

from bot.storage.keys import limit_key


class RateLimiter:
    """Allows ``limit`` events per ``window_s`` seconds for each key of one scope."""

    def __init__(self, client: redis.Redis, scope: str, limit: int, window_s: int) -> None:
        self._redis = client
        self._scope = scope
        self._limit = limit
        self._window_s = window_s

    async def retry_after(self, key: str) -> int | None:
        """Count one event of ``key``: None when allowed, else seconds until the window ends."""
        name = limit_key(self._scope, key)
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(name, 0, ex=self._window_s, nx=True)  # a new window
        pipe.incr(name)
        pipe.ttl(name)
        _, count, ttl = await pipe.execute()
        return None if count <= self._limit else max(1, int(ttl))
