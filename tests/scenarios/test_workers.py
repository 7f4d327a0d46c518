"""`omnibot serve --workers N` with ROLE=all as an operator runs it: one port, one embedded
Redis, any worker answers, a killed worker is replaced, SIGTERM stops everything."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import aiohttp

from omnibot.engine import Intents
from tests.support.serve_process import Server, redis_port
from tests.support.webchat_client import chat


async def pids_seen(base: str, tries: int = 60) -> set[int]:
    """The worker pids that answer /healthz over fresh connections."""
    seen: set[int] = set()
    for _ in range(tries):
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(f"{base}/healthz") as response,
        ):
            assert response.status == 200
            seen.add(int((await response.json())["pid"]))
    return seen


async def test_workers_share_one_port_and_one_redis(
    data_dir: Path, intents: Intents, intents_data_dir: Path
) -> None:
    (data_dir / "cache").symlink_to(intents_data_dir / "cache")  # the session's trained model
    server = Server(data_dir, {"WORKERS": "2", "ROLE": "all"})  # not the split: 2 of all
    try:
        await server.wait_healthy()  # one worker is up; the other may still be loading

        async def both_up() -> bool:
            return len(await pids_seen(server.base, 20)) == 2

        # the second worker loads its model: waited for while the process tree progresses
        await server.wait_for(both_up, "both workers answering on the one port")
        workers = await pids_seen(server.base)
        assert len(workers) == 2
        assert server.process.pid not in workers
        port = redis_port(data_dir)
        _, _, state = await chat(server.base, None, ["where is my order?"])
        assert state == "bot"
        token, history, _ = await chat(server.base, None, ["hello", "where is my order?"])
        _, history, _ = await chat(server.base, token, [])
        assert [m["role"] for m in history] == ["customer", "bot", "customer", "bot"]

        killed = min(workers)
        os.kill(killed, signal.SIGKILL)

        async def replaced() -> bool:
            seen = await pids_seen(server.base, 20)
            return killed not in seen and len(seen) == 2

        await server.wait_for(replaced, "a new worker in place of the killed one")
        assert redis_port(data_dir) == port  # the same embedded Redis throughout
    finally:
        stopped = await server.stopped()
    assert stopped == 0
