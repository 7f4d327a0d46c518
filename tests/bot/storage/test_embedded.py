"""The embedded redis-server: starts, persists with AOF across restarts, stops cleanly, and
lets in only clients with its password."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError

from bot.delivery.records import Deliveries
from bot.models import Message, Role
from bot.storage.embedded import PASSWORD_FILE, PRIVATE, EmbeddedRedis, running_url


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


async def test_a_client_without_the_password_is_refused(tmp_path: Path) -> None:
    async with EmbeddedRedis(tmp_path) as server:
        for password in (None, "guess"):
            stranger = aioredis.Redis(host="127.0.0.1", port=server.port, password=password)
            with pytest.raises(AuthenticationError):
                await stranger.set("k", "v")
            await stranger.aclose()
        client = aioredis.Redis.from_url(server.url)
        assert await client.ping()
        await client.aclose()


async def test_the_password_is_private_and_the_same_on_every_start(tmp_path: Path) -> None:
    async with EmbeddedRedis(tmp_path) as server:
        url = server.url
        assert running_url(tmp_path) == url  # what `omnibot` commands connect with
    path = tmp_path / PASSWORD_FILE
    assert stat.S_IMODE(path.stat().st_mode) == PRIVATE
    assert len(path.read_text()) == 64  # 32 random bytes
    path.chmod(0o644)
    async with EmbeddedRedis(tmp_path) as again:
        assert again.url.split("@")[0] == url.split("@")[0]
    assert stat.S_IMODE(path.stat().st_mode) == PRIVATE
    other = tmp_path / "other"
    assert EmbeddedRedis(other).url.split("@")[0] != url.split("@")[0]


async def test_the_password_is_not_on_the_command_line_nor_in_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with EmbeddedRedis(tmp_path) as server:
        secret = (tmp_path / PASSWORD_FILE).read_text()
        assert server.pid is not None
        cmdline = await asyncio.to_thread(Path(f"/proc/{server.pid}/cmdline").read_text)
        assert secret not in cmdline
        assert f"port {server.port}" in caplog.text
    assert secret not in caplog.text
    assert secret not in (tmp_path / "redis.log").read_text()


async def omnibot_outbox_list(data_dir: Path) -> tuple[int, str]:
    """``omnibot outbox list`` on ``data_dir`` without REDIS_URL; exit code and output."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["OMNIBOT_DATA_DIR"] = str(data_dir)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "omnibot", "outbox", "list"),
        env=env,
        cwd=data_dir,  # no .env of the checkout
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return await process.wait(), output.decode()


async def test_omnibot_commands_use_the_password(tmp_path: Path) -> None:
    message = Message(role=Role.BOT, text="Your refund is on its way.")
    async with EmbeddedRedis(tmp_path / "redis") as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        await Deliveries(client).dead_letter(
            {
                "id": message.id,
                "conversation": "c",
                "to": ["sms", "+15550100"],
                "message": message.to_dict(),
                "error": "Twilio answered 500",
                "failed_at": time.time(),
            }
        )
        await client.aclose()
        code, listing = await omnibot_outbox_list(tmp_path)  # on the running server
        assert code == 0, listing
        assert message.id in listing
        assert (tmp_path / "redis" / "port").read_text() == str(server.port)
    code, listing = await omnibot_outbox_list(tmp_path)  # its own server, same data
    assert code == 0, listing
    assert message.id in listing
    assert (tmp_path / "redis" / PASSWORD_FILE).read_text() not in listing
