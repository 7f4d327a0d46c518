"""The embedded redis-server: starts, persists with AOF across restarts, stops cleanly."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis


async def test_data_survives_a_restart_in_the_same_directory(tmp_path: Path) -> None:
    async with EmbeddedRedis(tmp_path) as server:
        client = aioredis.Redis.from_url(server.url)
        await client.set("k", "v")
        await client.aclose()
    assert (tmp_path / "appendonly.aof").exists()
    async with EmbeddedRedis(tmp_path) as again:
        client = aioredis.Redis.from_url(again.url, decode_responses=True)
        assert await client.get("k") == "v"
        await client.aclose()


async def test_stop_ends_the_server(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    await server.start()
    process = server._process
    await server.stop()
    assert process is not None
    assert process.returncode is not None
    await server.stop()  # a second stop is harmless
