"""Events handled once across every process: a marker per event id, set only if absent.

A vendor that retries an event it thinks was missed (Slack resends an event it saw no quick
acknowledgement for, up to three times over minutes) is handled for its first delivery only.
"""

from __future__ import annotations

import redis.asyncio as redis

from bot.storage.keys import once_key

ONCE_TTL_S = 24 * 3600  # vendors retry within minutes; a day is far past the last retry


class Once:
    """Claims event ids of one ``source`` (``SET NX EX``), so each is handled once."""

    def __init__(self, client: redis.Redis, source: str, ttl_s: int = ONCE_TTL_S) -> None:
        self._redis = client
        self._source = source
        self._ttl_s = ttl_s

    async def first_time(self, event_id: str) -> bool:
        """Claim ``event_id``: True the first time, False when it was claimed before."""
        key = once_key(self._source, event_id)
        return bool(await self._redis.set(key, "1", nx=True, ex=self._ttl_s))
