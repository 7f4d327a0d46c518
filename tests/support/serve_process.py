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

from bot.storage.embedded import free_port

# A first start exports the encoder and trains: 20-40 s on an idle machine, minutes on a busy
# one. So the wait is for progress, not for a fixed time: it goes on while the process is
# alive and its log grows or it uses CPU, up to a cap far above any healthy start.
READY_CAP_S = 900.0
STALL_S = 120.0  # neither a new log line nor a CPU second for this long: stuck
POLL_S = 0.2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """An `omnibot serve` child process on a free port with its own data directory."""

    def __init__(
        self,
        data_dir: Path,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """Start it (``command``: another program in its place, for the launcher's own tests)."""
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
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter, or a test program
                command or [sys.executable, "-m", "omnibot", "serve"],
                env=env,
                cwd=data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self) -> float:
        """Seconds until /healthz answers 200; fails when the process exits or stalls."""
        start = time.monotonic()
        progress = Progress(self, STALL_S)
        async with aiohttp.ClientSession() as session:
            while not await self._healthy(session):
                assert self.process.poll() is None, self.log.read_text()
                waited = time.monotonic() - start
                if progress.stalled() or waited > READY_CAP_S:
                    raise AssertionError(
                        f"no healthy /healthz after {waited:.0f} s (no progress for "
                        f"{progress.idle():.0f} s); its log:\n{self.log.read_text()}"
                    )
                await asyncio.sleep(POLL_S)
        REDIS_PORTS[self.data_dir].append(redis_port(self.data_dir))
        return time.monotonic() - start

    async def _healthy(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.base}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientConnectionError:
            return False

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)


class Progress:
    """Whether a starting server still moves: its log grows or it spends CPU time."""

    def __init__(self, server: Server, stall_s: float) -> None:
        self._server = server
        self._stall_s = stall_s
        self._seen = self._mark()
        self._moved = time.monotonic()

    def _mark(self) -> tuple[int, float]:
        return self._server.log.stat().st_size, cpu_seconds(self._server.process.pid)

    def idle(self) -> float:
        """Seconds since the server last showed progress."""
        mark = self._mark()
        if mark != self._seen:
            self._seen, self._moved = mark, time.monotonic()
        return time.monotonic() - self._moved

    def stalled(self) -> bool:
        """True when nothing moved for the stall period."""
        return self.idle() > self._stall_s


def cpu_seconds(pid: int) -> float:
    """CPU time a process used so far, in whole ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


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
