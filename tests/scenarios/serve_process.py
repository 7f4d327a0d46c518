"""`omnibot serve` as a child process, as a user runs it, and a web chat client for it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from bot.embedded_redis import free_port

READY_WITHIN_S = 60.0  # a first start exports and quantises the encoder, then trains


class Server:
    """An `omnibot serve` child process on a free port with its own data directory."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            OMNIBOT_DATA_DIR=str(data_dir),
            **(extra_env or {}),
        )
        self.log = data_dir / "serve.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                env=env,
                cwd=data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self) -> float:
        start = time.monotonic()
        async with aiohttp.ClientSession() as session:
            while time.monotonic() - start < READY_WITHIN_S:
                assert self.process.poll() is None, self.log.read_text()
                try:
                    async with session.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            REDIS_PORTS[self.data_dir].append(redis_port(self.data_dir))
                            return time.monotonic() - start
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"no healthy /healthz within {READY_WITHIN_S} s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)


REDIS_PORTS: defaultdict[Path, list[int]] = defaultdict(list)


def redis_port(data_dir: Path) -> int:
    """The port of the embedded redis-server a running omnibot started."""
    return int((data_dir / "redis" / "port").read_text())


async def chat(base: str, token: str | None, texts: list[str]) -> tuple[str, list[Any], str]:
    """Connect, send ``texts`` (reading each echo and answer), return token, history, state."""
    url = f"{base}/webchat/ws" + (f"?token={token}" if token else "")
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        opening = [await ws.receive_json(timeout=10) for _ in range(3)]
        state = opening[2]["state"]
        for text in texts:
            await ws.send_json({"type": "message", "text": text})
            for item in await _drain(ws):
                state = item.get("state", state)
    return opening[0]["token"], opening[1]["messages"], state


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    drained = []
    try:
        while True:
            drained.append(await ws.receive_json(timeout=1.0))
    except TimeoutError:
        return drained
