"""The embedded redis-server comes back on the same data after it is killed."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError

from bot.storage.embedded import EmbeddedRedis
from bot.storage.supervisor import RedisSupervisor, client_retry
from tests.support.polling import wait_until

FSYNC_S = 1.2  # appendfsync everysec: what was written a second ago is on disk


async def test_a_killed_server_is_restarted_with_its_data(tmp_path: Path) -> None:
    supervisor = RedisSupervisor(EmbeddedRedis(tmp_path))
    await supervisor.start()
    client = aioredis.Redis.from_url(supervisor.server.url, decode_responses=True, **client_retry())
    try:
        await client.set("conv:{c}:meta", "kept")
        await asyncio.sleep(FSYNC_S)
        first = supervisor.server.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await wait_until(lambda: supervisor.restarts == 1, 15, "the restart")
        assert supervisor.server.pid not in (None, first)
        # the pooled connection from before the kill is retried, not failed
        assert await client.get("conv:{c}:meta") == "kept"
        # and the restarted server still wants the same password
        stranger = aioredis.Redis(host="127.0.0.1", port=supervisor.server.port)
        with pytest.raises(AuthenticationError):
            await stranger.get("conv:{c}:meta")
        await stranger.aclose()
    finally:
        await client.aclose()
        await supervisor.stop()
    assert supervisor.server.pid is None


async def test_stop_does_not_restart(tmp_path: Path) -> None:
    supervisor = RedisSupervisor(EmbeddedRedis(tmp_path))
    await supervisor.start()
    await supervisor.stop()
    # no watcher left running, so no restart can still come (rather than sleeping a while)
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "redis-supervisor"]
    assert supervisor.restarts == 0
    assert supervisor.server.pid is None
