"""The chaos suite's processes: one redis-server (AOF, as the embedded one runs) and the
``omnibot serve`` processes on it, started, restarted and stopped.

Each process is started with an explicit role (``omnibot serve --workers 1 --role <role>``),
so the suite runs the same whatever ``omnibot serve`` does by default: ``all`` (one process
does everything), or with ``--split`` the front processes (HTTP, no model) and the answer
processes (the work stream, no listener) side by side, each its own child of the suite so
that exactly one role can be SIGKILLed and started again when the suite says (the
supervising parent of ``omnibot serve --split`` restarts a dead child within a second, which
would leave no time with no answer process at all)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import redis.asyncio as redis

from bench.chaos.model import Options, Run, Server, SetupError
from bench.service import launch, serve_env, sms_env
from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis, free_port
from bot.storage.keys import ANSWERING_KEY
from tests.support.serve_process import ServeProcess

ALL, FRONT, ANSWER = "all", "front", "answer"


def role_options(role: str) -> list[str]:
    """The command line options of one process of ``role`` (one process, no supervisor)."""
    return ["--workers", "1", "--role", role]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports, ascending."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def make_servers(
    options: Options, workdir: Path, data: Path, redis_url: str, fake_url: str
) -> tuple[list[Server], list[Server]]:
    """The listening processes and (with ``--split``) the answer processes: their ports
    (an answer process listens on none, but the launcher wants one), environments and logs
    (``serve-<n>.log``, ``serve-answer-<n>.log``)."""
    listening = FRONT if options.split else ALL
    answering = options.answerers if options.split else 0
    ports = free_ports(options.servers + answering)
    servers, answerers = [], []
    for index, port in enumerate(ports):
        env = serve_env(data, port, options.processing_concurrency)
        env.update(REDIS_URL=redis_url, **sms_env(fake_url))
        if index < options.servers:
            log = workdir / f"serve-{index}.log"
            servers.append(Server(index, port, env, log, listening))
        else:
            number = index - options.servers
            log = workdir / f"serve-answer-{number}.log"
            answerers.append(Server(number, port, env, log, ANSWER))
    return servers, answerers


async def start_server(workdir: Path, server: Server) -> None:
    """Start ``server``'s process (its log appended to) and wait until it serves: a healthy
    ``/healthz``, or for an answer process its beat in Redis (``ServeError``, a
    RuntimeError, when it fails)."""
    options = role_options(server.role)
    if server.role != ANSWER:
        server.process = await launch(workdir, server.env, server.log_path, options)
    else:
        server.process = await launch_answerer(workdir, server, options)
    server.alive = True


async def launch_answerer(workdir: Path, server: Server, options: list[str]) -> ServeProcess:
    """An answer process, once it beats in Redis (its consumer name carries its pid)."""
    process = ServeProcess(server.env, workdir, server.log_path, options=options)
    client = connect(server.env["REDIS_URL"])
    try:
        await process.wait_for(lambda: beating(client, process.pid), "its answer beat")
    except BaseException:
        await process.stopped()
        raise
    finally:
        await client.aclose()
    return process


async def beating(client: redis.Redis, pid: int) -> bool:
    """Whether the answer process ``pid`` has beaten in Redis (False while Redis is down)."""
    try:
        members = await client.zrange(ANSWERING_KEY, 0, -1)
    except (redis.RedisError, OSError):
        return False
    return any(f"-{pid}-" in str(member) for member in members)


async def start_servers(run: Run) -> None:
    """The first answering process alone (it builds the model cache if missing) beside the
    fronts, then the others."""
    processes = run.servers + run.answerers
    first = run.answerers[0] if run.answerers else run.servers[0]
    others = [p for p in processes if p is not first]
    fronts = [p for p in others if p.role == FRONT]
    await asyncio.gather(*(start_server(run.workdir, p) for p in [first, *fronts]))
    rest = [p for p in others if p.role != FRONT]
    await asyncio.gather(*(start_server(run.workdir, p) for p in rest))


async def stop_servers(servers: Sequence[Server]) -> None:
    """SIGTERM every process still running (SIGKILL if it will not stop)."""
    for server in servers:
        server.alive = False
    await asyncio.gather(*(s.process.stopped() for s in servers if s.process is not None))


async def kill(server: Server) -> None:
    """SIGKILL ``server``'s process and wait until it is gone."""
    server.alive = False
    if server.process is not None:
        with contextlib.suppress(ProcessLookupError):
            await server.process.kill()


async def start_redis(workdir: Path) -> EmbeddedRedis:
    """redis-server with AOF on a free port, its data in ``workdir/redis``."""
    server = EmbeddedRedis(workdir / "redis", free_port())
    try:
        await server.start()
    except (RuntimeError, TimeoutError, OSError) as error:
        raise SetupError(f"redis-server did not start: {error}") from None
    return server
