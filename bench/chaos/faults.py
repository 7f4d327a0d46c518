"""The chaos events: a serve process SIGKILLed (and restarted), redis-server SIGKILLed (and
restarted on its AOF), the fake Twilio failing; each fired at a share of the questions
answered, so it lands mid-run on any machine."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable

from bench.chaos.model import Event, Options, Run
from bench.chaos.processes import start_server
from tests.support.serve_process import ServeError

POLL_S = 0.1
KILLED = 1  # the index of the serve process SIGKILLed


async def kill_server(run: Run, event: Event) -> None:
    """SIGKILL one serve process; start it again on its port after ``restart_after`` s."""
    server = run.servers[KILLED % len(run.servers)]
    assert server.process is not None
    server.alive = False
    event.detail.update(process=server.index, visitors_connected=server.sockets)
    await server.process.kill()
    event.ended_at = time.monotonic()
    if run.options.restart_after < 0:
        return
    await asyncio.sleep(run.options.restart_after)
    try:
        await start_server(run.workdir, server)
    except ServeError as error:
        event.detail["restart_failed"] = error.headline
    else:
        event.detail["healthy_again_after_s"] = time.monotonic() - event.fired_at


async def restart_redis(run: Run, event: Event) -> None:
    """SIGKILL redis-server; start it on the same port and AOF after ``redis_down`` s."""
    pid = run.redis.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await run.redis.wait()
    await asyncio.sleep(run.options.redis_down)
    await run.redis.start()
    event.ended_at = time.monotonic()
    event.detail["down_s"] = event.ended_at - event.fired_at


async def vendor_outage(run: Run, event: Event) -> None:
    """The fake Twilio answers every call 500 for ``vendor_outage`` seconds."""
    before = len(run.fake.calls)
    run.fake.failing = True
    try:
        await asyncio.sleep(run.options.vendor_outage)
    finally:
        run.fake.failing = False
    event.ended_at = time.monotonic()
    event.detail["calls_refused"] = sum(c.status >= 500 for c in run.fake.calls[before:])


ACTIONS: dict[str, Callable[[Run, Event], Awaitable[None]]] = {
    "kill": kill_server,
    "redis": restart_redis,
    "vendor": vendor_outage,
}


async def fire_when_due(run: Run, event: Event) -> None:
    """Run ``event`` once its share of the questions is answered (never if the load ends
    first)."""
    while run.answered < event.share * run.total:
        if run.load_done:
            return
        await asyncio.sleep(POLL_S)
    event.fired_at = time.monotonic()
    event.detail["answered_when_fired"] = run.answered
    await ACTIONS[event.name](run, event)


def chaos_events(options: Options) -> list[Event]:
    """The events switched on (a share above 0)."""
    shares = {"kill": options.kill_at, "redis": options.redis_at, "vendor": options.vendor_at}
    return [Event(name, share) for name, share in shares.items() if share > 0]
