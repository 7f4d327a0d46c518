"""`omnibot serve` as a child process, as a user runs it: started, waited for while it
progresses, stopped. One launcher for the tests (:class:`Server`) and the benches
(:class:`ServeProcess` with their own environment)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import aiohttp

from bot.storage.embedded import free_port

# A first start exports the encoder and trains: 20-40 s on an idle machine, minutes on a busy
# one. So the wait is for progress, not for a fixed time: it goes on while the process is
# alive and its log grows or it (or a worker it started) uses CPU, up to a cap far above any
# healthy start.
READY_CAP_S = 900.0
STALL_S = 120.0  # neither a new log line nor a CPU tick for this long: stuck
STOP_TIMEOUT_S = 30.0  # SIGTERM drains the work; SIGKILL after this long
HEALTH_TIMEOUT_S = 5.0  # one /healthz request
LOG_TAIL_LINES = 60  # of the log, in the message of a failed start
POLL_S = 0.2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Condition = Callable[[], Awaitable[bool]]


class ServeError(RuntimeError):
    """The process exited or stalled before a condition held; the message ends with its log."""

    def __init__(self, headline: str, log_tail: str) -> None:
        super().__init__(f"{headline}; its log:\n{log_tail}")
        self.headline = headline


class ServeProcess:
    """An `omnibot serve` child process with ``env`` (its ``PORT``), run in ``cwd``, its output
    appended to ``log`` (a restarted process writes after its first life)."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        command: Sequence[str] | None = None,
        options: Sequence[str] = (),
    ) -> None:
        """Start it (``command``: another program in its place, for the launcher's own tests)."""
        self.port = int(env["PORT"])
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter, or a test program
                command or [sys.executable, "-m", "omnibot", "serve", *options],
                env=dict(env),
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @property
    def base(self) -> str:
        """The HTTP root URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The process id (of the master, with ``--workers``)."""
        return self.process.pid

    async def wait_healthy(self) -> float:
        """Seconds until /healthz answers 200; :class:`ServeError` when the process exits or
        stalls first."""
        async with aiohttp.ClientSession() as session:
            return await self.wait_for(lambda: self._healthy(session), "a healthy /healthz")

    async def wait_for(self, condition: Condition, what: str) -> float:
        """Seconds until ``condition`` holds, waiting while the process progresses (its log
        grows or its process tree uses CPU), up to ``READY_CAP_S``; :class:`ServeError` when
        it exits, stalls for ``STALL_S`` or reaches the cap first."""
        start = time.monotonic()
        progress = Progress(self.log, self.pid, STALL_S)
        while not await condition():
            if self.process.poll() is not None:
                self.fail(f"omnibot serve exited with status {self.process.returncode}")
            waited = time.monotonic() - start
            if progress.stalled() or waited > READY_CAP_S:
                idle = progress.idle()
                self.fail(f"waited {waited:.0f} s for {what} (no progress for {idle:.0f} s)")
            await asyncio.sleep(POLL_S)
        return time.monotonic() - start

    def fail(self, headline: str) -> NoReturn:
        """Raise :class:`ServeError` with ``headline`` and the end of the log."""
        lines = self.log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        raise ServeError(headline, "\n".join(lines))

    async def _healthy(self, session: aiohttp.ClientSession) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S)
            async with session.get(f"{self.base}/healthz", timeout=timeout) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def stop(self) -> int:
        """SIGTERM (the service drains its work), SIGKILL if it takes longer than
        ``STOP_TIMEOUT_S``; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    async def stopped(self) -> int:
        """:meth:`stop` without blocking the event loop."""
        return await asyncio.to_thread(self.stop)

    async def kill(self) -> None:
        """SIGKILL, and wait for the process to be gone."""
        self.process.kill()
        await asyncio.to_thread(self.process.wait)


class Server(ServeProcess):
    """`omnibot serve` on a free port with its own data directory (its working directory and
    log, ``serve.log``) and the caller's environment, without ``REDIS_URL``."""

    def __init__(
        self,
        data_dir: Path,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """Start it (``command``: another program in its place, for the launcher's own tests)."""
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            HOST="127.0.0.1",
            PORT=str(free_port()),
            OMNIBOT_DATA_DIR=str(data_dir),
            **(extra_env or {}),
        )
        super().__init__(env, data_dir, data_dir / "serve.log", command)

    async def wait_healthy(self) -> float:
        """As :meth:`ServeProcess.wait_healthy`; the embedded Redis's port is then recorded
        for the ``data_dir`` fixture's check that no redis-server outlives the test."""
        seconds = await super().wait_healthy()
        REDIS_PORTS[self.data_dir].append(redis_port(self.data_dir))
        return seconds


class Progress:
    """Whether a process still moves: its log grows or its process tree spends CPU time."""

    def __init__(self, log: Path, pid: int, stall_s: float) -> None:
        self._log = log
        self._pid = pid
        self._stall_s = stall_s
        self._seen = self._mark()
        self._moved = time.monotonic()

    def _mark(self) -> tuple[int, float]:
        return self._log.stat().st_size, tree_cpu_seconds(self._pid)

    def idle(self) -> float:
        """Seconds since the process last showed progress."""
        mark = self._mark()
        if mark != self._seen:
            self._seen, self._moved = mark, time.monotonic()
        return time.monotonic() - self._moved

    def stalled(self) -> bool:
        """True when nothing moved for the stall period."""
        return self.idle() > self._stall_s


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux), the ones that exited in the meantime left out."""
    found, todo = [], [pid]
    while todo:
        one = todo.pop()
        found.append(one)
        try:
            for task in Path(f"/proc/{one}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time a process used so far, in whole ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its live descendants (the workers of ``--workers``)."""
    return sum(cpu_seconds(one) for one in process_tree(pid))


REDIS_PORTS: defaultdict[Path, list[int]] = defaultdict(list)


def redis_port(data_dir: Path) -> int:
    """The port of the embedded redis-server a running omnibot started."""
    return int((data_dir / "redis" / "port").read_text())
