"""``omnibot serve --workers N`` and ``--split``: several processes on one port and one Redis.

With ``--workers N``, each worker is an ordinary ``omnibot serve`` of the configured role bound
with ``SO_REUSEPORT`` (the kernel spreads new connections over them). With ``--split``, front
processes (HTTP, no model) and answer processes (the work stream, no listener) are started
side by side, sized to the cores (:func:`split_sizes`). Either way this parent process starts
the embedded Redis once (unless ``REDIS_URL`` is set) and supervises it, points every child at
it (its URL carries the embedded server's password, passed in the children's environment only),
restarts a child that dies with the same command (unless it stopped on its settings: then
everything stops, :class:`ChildRefusedError`), and on SIGTERM or SIGINT asks every child to
stop gracefully (each finishes or hands back its work and closes its web chat sockets with
"reconnect now") before stopping Redis.

The children count their metrics together: the parent creates a fresh directory for
prometheus_client's multiprocess mode, passes it in their environment
(``PROMETHEUS_MULTIPROC_DIR``), tells the library when a child is gone
(``mark_process_dead``), and removes it on the way out; whichever process serves ``/metrics``
sums every child's counters (:meth:`bot.metrics.Metrics.scraped`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from prometheus_client import multiprocess

from bot import background
from bot.metrics import MULTIPROC_ENV
from bot.storage.embedded import EmbeddedRedis
from bot.storage.supervisor import RedisSupervisor
from omnibot.roles import Role
from omnibot.settings import Settings

RESTART_PAUSE_S = 1.0
SETTINGS_EXIT = 2  # a child's exit status for settings it refuses: restarting cannot help
STOP_WITHIN_S = 40.0  # a worker's graceful stop: its running work plus its sockets

log = logging.getLogger(__name__)


class ChildRefusedError(RuntimeError):
    """A child stopped on its settings (exit status 2); its own message is in the log."""

    def __init__(self, role: Role) -> None:
        super().__init__(
            f"the {role} process stopped on its settings (exit status {SETTINGS_EXIT}); "
            "its message is above"
        )
        self.role = role


@dataclass
class Child:
    """One supervised process, its role and the command that (re)starts it."""

    role: Role
    command: list[str]
    process: subprocess.Popen[bytes]


def run_workers(settings: Settings, count: int, role: Role = Role.ALL) -> None:
    """Run ``count`` processes of ``role`` until SIGTERM or SIGINT."""
    asyncio.run(_supervise(settings, [role] * count))


def run_split(settings: Settings, cores: int | None = None) -> None:
    """Run front and answer processes (:func:`split_roles`) until SIGTERM or SIGINT."""
    asyncio.run(_supervise(settings, split_roles(settings, cores)))


def model_threads(settings: Settings, roles: list[Role], cores: int | None = None) -> int:
    """The threads each answering child's encoder computes on: ``MODEL_THREADS`` when set,
    else the cores (default: this machine's) shared out among the children that answer."""
    if settings.model_threads is not None:
        return settings.model_threads
    answering = sum(role.answers for role in roles) or 1
    return max(1, (cores or os.cpu_count() or 1) // answering)


def split_roles(settings: Settings, cores: int | None = None) -> list[Role]:
    """The children of a split: ``WORKERS`` fronts and as many answer processes when it is
    above 1, else as many as :func:`split_sizes` says for ``cores`` (default: this
    machine's)."""
    if settings.workers > 1:
        fronts = answers = settings.workers
    else:
        fronts, answers = split_sizes(cores or os.cpu_count() or 1)
    return [Role.FRONT] * fronts + [Role.ANSWER] * answers


def split_sizes(cores: int) -> tuple[int, int]:
    """Front and answer processes for ``cores``: one answer process per core, each encoding on
    one thread (two on 2 cores answered 17-64 % more than one on both, the machine 95 % busy
    against 69-74 %: one process's event loop and the model's Python share one GIL), one front
    per four (a front acknowledges hundreds of webhooks a second on a fraction of a core)."""
    return max(1, cores // 4), max(1, cores)


def command(role: Role) -> list[str]:
    """The command of one child of ``role`` (each ``omnibot serve`` with this process's
    settings; a listening one binds with ``--reuse-port``)."""
    serve = [sys.executable, "-m", "omnibot", "serve", "--workers", "1", "--role", str(role)]
    return [*serve, "--reuse-port"] if role.listens else serve


async def _supervise(settings: Settings, roles: list[Role]) -> None:
    embedded = None if settings.redis_url else EmbeddedRedis(settings.data_dir / "redis")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # the children's metrics: a fresh directory each run (the library's rule), gone after it
    with tempfile.TemporaryDirectory(prefix="omnibot-metrics-") as metrics:
        async with contextlib.AsyncExitStack() as stack:  # stops the workers, then Redis
            if embedded is not None:
                await background.start(stack, RedisSupervisor(embedded))
            url = settings.redis_url or (embedded.url if embedded else "")
            env = dict(os.environ, REDIS_URL=url, **{MULTIPROC_ENV: metrics})
            env["MODEL_THREADS"] = str(model_threads(settings, roles))
            children = [Child(role, command(role), _spawn(command(role), env)) for role in roles]
            stack.push_async_callback(asyncio.to_thread, _stop_all, children)
            log.info(
                "started %d processes on port %d: %s", len(children), settings.port, _pids(children)
            )
            await _keep_running(children, env, stop)


async def _keep_running(children: list[Child], env: dict[str, str], stop: asyncio.Event) -> None:
    """Restart any child that exits, until ``stop`` is set; :class:`ChildRefusedError` when
    one stopped on its settings (its restart would stop the same way, again and again)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESTART_PAUSE_S)
        for child in children:
            gone = child.process
            if gone.poll() is None or stop.is_set():
                continue
            multiprocess.mark_process_dead(gone.pid, env[MULTIPROC_ENV])  # type: ignore[no-untyped-call]
            if gone.returncode == SETTINGS_EXIT:
                raise ChildRefusedError(child.role)
            log.error("process %d exited with %s; restarting it", gone.pid, gone.returncode)
            child.process = _spawn(child.command, env)


def _spawn(line: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(line, env=env)  # noqa: S603 - our own command


def _stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_WITHIN_S
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("process %d did not stop in time; killing it", child.process.pid)
            child.process.kill()
            child.process.wait()


def _pids(children: list[Child]) -> str:
    """``<pid> (<role>)`` of each child."""
    return ", ".join(f"{child.process.pid} ({child.role})" for child in children)
