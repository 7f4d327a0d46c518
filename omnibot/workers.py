"""``omnibot serve --workers N``: N worker processes on one port and one Redis.

Each worker is an ordinary ``omnibot serve`` bound with ``SO_REUSEPORT`` (the kernel spreads
new connections over them); this parent process starts the embedded Redis once (unless
``REDIS_URL`` is set) and supervises it, points every worker at it (its URL carries the
embedded server's password, passed in the workers' environment only), restarts a worker that
dies, and on SIGTERM or SIGINT asks every worker to stop gracefully (each finishes or hands back
its work and closes its web chat sockets with "reconnect now") before stopping Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time

from bot import background
from bot.storage.embedded import EmbeddedRedis
from bot.storage.supervisor import RedisSupervisor
from omnibot.settings import Settings

RESTART_PAUSE_S = 1.0
STOP_WITHIN_S = 40.0  # a worker's graceful stop: its running work plus its sockets

log = logging.getLogger(__name__)


def run_workers(settings: Settings, count: int) -> None:
    """Run ``count`` workers until SIGTERM or SIGINT."""
    asyncio.run(_supervise(settings, count))


async def _supervise(settings: Settings, count: int) -> None:
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:  # stops the workers, then Redis
        if embedded is not None:
            await background.start(stack, RedisSupervisor(embedded))
        env = dict(os.environ, REDIS_URL=settings.redis_url or (embedded.url if embedded else ""))
        workers = [_spawn(env) for _ in range(count)]
        stack.push_async_callback(asyncio.to_thread, _stop_all, workers)
        log.info("started %d workers on port %d: pids %s", count, settings.port, _pids(workers))
        await _keep_running(workers, env, stop)


async def _keep_running(
    workers: list[subprocess.Popen[bytes]], env: dict[str, str], stop: asyncio.Event
) -> None:
    """Restart any worker that exits, until ``stop`` is set (``workers`` is kept current)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESTART_PAUSE_S)
        for i, worker in enumerate(workers):
            if worker.poll() is not None and not stop.is_set():
                log.error("worker %d exited with %s; restarting it", worker.pid, worker.returncode)
                workers[i] = _spawn(env)


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One worker: ``omnibot serve --reuse-port`` with this process's settings."""
    command = [sys.executable, "-m", "omnibot", "serve", "--reuse-port"]
    return subprocess.Popen(command, env=env)  # noqa: S603 - our own command


def _stop_all(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_WITHIN_S
    for worker in workers:
        try:
            worker.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("worker %d did not stop in time; killing it", worker.pid)
            worker.kill()
            worker.wait()


def _pids(workers: list[subprocess.Popen[bytes]]) -> str:
    return ", ".join(str(worker.pid) for worker in workers)
