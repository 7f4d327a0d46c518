"""The chaos suite's processes: one redis-server (AOF, as the embedded one runs) and the
``omnibot serve`` processes on it, started, restarted and stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from bench.chaos.model import Options, Run, Server, SetupError
from bench.service import launch, serve_env, sms_env
from bot.storage.embedded import EmbeddedRedis, free_port


def make_servers(
    options: Options, workdir: Path, data: Path, redis_url: str, fake_url: str
) -> list[Server]:
    """The serve processes' ports, environments and log files."""
    ports: set[int] = set()
    while len(ports) < options.servers:
        ports.add(free_port())
    servers = []
    for index, port in enumerate(sorted(ports)):
        env = serve_env(data, port, options.processing_concurrency)
        env.update(REDIS_URL=redis_url, **sms_env(fake_url))
        servers.append(Server(index, port, env, workdir / f"serve-{index}.log"))
    return servers


async def start_server(workdir: Path, server: Server) -> None:
    """Start ``omnibot serve`` (its log appended to) and wait for ``/healthz``
    (``ServeError``, a RuntimeError, when it fails)."""
    server.process = await launch(workdir, server.env, server.log_path)
    server.alive = True


async def start_servers(run: Run) -> None:
    """The first process alone (it builds the model cache if missing), then the others."""
    first, *others = run.servers
    await start_server(run.workdir, first)
    await asyncio.gather(*(start_server(run.workdir, s) for s in others))


async def stop_servers(servers: Sequence[Server]) -> None:
    """SIGTERM every serve process still running (SIGKILL if it will not stop)."""
    for server in servers:
        server.alive = False
    await asyncio.gather(*(s.process.stopped() for s in servers if s.process is not None))


async def start_redis(workdir: Path) -> EmbeddedRedis:
    """redis-server with AOF on a free port, its data in ``workdir/redis``."""
    server = EmbeddedRedis(workdir / "redis", free_port())
    try:
        await server.start()
    except (RuntimeError, TimeoutError, OSError) as error:
        raise SetupError(f"redis-server did not start: {error}") from None
    return server
