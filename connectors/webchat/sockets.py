"""How many web chat sockets each client address holds open, counted in Redis so the cap holds
across every process.

Each socket is a member of ``sockets:<ip>`` scored with when its process last said it was open;
the process refreshes its sockets every ``REFRESH_S`` and removes them when they close, so the
sockets of a process that died stop counting after ``STALE_S``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

import redis.asyncio as redis

from bot.storage.keys import sockets_key

REFRESH_S = 30.0
STALE_S = 90.0  # three refreshes missed: its process is gone

# KEYS: the address's sockets. ARGV: socket id, now, stale before, cap, key ttl.
# 1 when the socket is counted, 0 when the address already holds the cap.
HOLD = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class SocketCap:
    """Allows ``cap`` open sockets per client address, across processes."""

    def __init__(self, client: redis.Redis, cap: int) -> None:
        self._redis = client
        self._cap = cap
        self._hold = client.register_script(HOLD)

    async def hold(self, ip: str) -> str | None:
        """Count one more socket of ``ip``: its id, or None when ``ip`` holds the cap."""
        sid = secrets.token_hex(8)
        now = time.time()
        held = await self._hold(
            keys=[sockets_key(ip)], args=[sid, now, now - STALE_S, self._cap, int(STALE_S)]
        )
        return sid if held else None

    async def let_go(self, ip: str, sid: str) -> None:
        """A socket counted by :meth:`hold` closed."""
        await self._redis.zrem(sockets_key(ip), sid)

    async def refresh(self, held: Iterable[tuple[str, str]]) -> None:
        """Say the sockets ``(ip, id)`` of this process are still open."""
        pipe = self._redis.pipeline(transaction=False)
        now = time.time()
        for ip, sid in held:
            pipe.zadd(sockets_key(ip), {sid: now}, xx=True)
            pipe.expire(sockets_key(ip), int(STALE_S))
        await pipe.execute()
