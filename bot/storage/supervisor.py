"""Keeps the embedded ``redis-server`` alive: restarted on the same data when it dies.

Without it, a redis-server killed by the OOM killer or by mistake stays dead while omnibot
lives on, answering 503 for good. The supervisor waits on the process; when it exits without
being asked to, it is started again on the same port and data directory (the append-only file
replays what was written), with backoff if it keeps failing. Clients reconnect by themselves
(their connections retry once on a connection error, see :func:`client_retry`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TypedDict

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot import background
from bot.storage.embedded import EmbeddedRedis

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 10.0
RETRIES = 6  # with the backoff's 1 s cap: a restarted server has ~4 s to load its AOF

log = logging.getLogger(__name__)


class RetrySettings(TypedDict):
    """redis-py connection settings for retrying failed commands."""

    retry: Retry
    retry_on_error: list[type[Exception]]


def client_retry() -> RetrySettings:
    """Connection settings that ride over a restarted server: retry with a short backoff."""
    return {
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES),
        # BusyLoadingError: a restarted server answers while it still reads its AOF
        "retry_on_error": [RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError],
    }


class RedisSupervisor:
    """Starts the embedded server and restarts it whenever it dies unasked."""

    def __init__(self, server: EmbeddedRedis) -> None:
        self.server = server
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the server, then watch it."""
        await self.server.start()
        # one step per exit: wait for it, then revive the server (no pause between steps)
        self._task = background.periodic(self._revive, 0.0, "redis-supervisor")

    async def stop(self) -> None:
        """Stop watching, then stop the server cleanly."""
        await background.stop(self._task)
        await self.server.stop()

    async def _revive(self) -> None:
        """Wait until the server exits, then start it again on the same data, with backoff
        while that fails."""
        code = await self.server.wait()
        log.error("the embedded redis-server exited (%s); restarting it on the same data", code)
        delay = FIRST_DELAY_S
        while True:
            try:
                await self.server.start()
            except (RuntimeError, TimeoutError, OSError) as exc:
                log.error("restarting redis-server failed (%s); next try in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_S)
                continue
            self.restarts += 1
            log.warning("the embedded redis-server is back on port %d", self.server.port)
            return
