"""Background loops: started with :func:`periodic`, stopped for sure with :func:`stop`; parts
with background work (:class:`Lifecycle`) started with :func:`start` onto an exit stack, which
stops them in the reverse order.

A cancellation can be lost inside a library (Python 3.11's ``asyncio.wait_for`` swallows one
that arrives as the inner call completes, gh-86296), after which a loop runs on as if never
cancelled and a plain ``await task`` never returns. :func:`stop` cancels again until the task
ends, for a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol

import redis.asyncio as redis

STOP_WITHIN_S = 5.0
RECANCEL_S = 0.1
# What a loop's step may raise and still be tried again next period: Redis or the network
# being away for a moment. Anything else is a bug and ends the loop (logged by :func:`stop`).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

log = logging.getLogger(__name__)


class Lifecycle(Protocol):
    """A part with background work: started before it serves, stopped once when done."""

    async def start(self) -> None:
        """Begin the background work (returns once the part can serve)."""

    async def stop(self) -> None:
        """End the background work and release what the part holds."""


async def start(stack: AsyncExitStack, part: Lifecycle) -> None:
    """Start ``part`` and have ``stack`` stop it when it closes: parts stop in the reverse
    order of their start, and a part that failed to start stops nothing but those before it."""
    await part.start()
    stack.push_async_callback(part.stop)


async def stop(task: asyncio.Task[Any] | None, within_s: float = STOP_WITHIN_S) -> None:
    """Cancel ``task`` and wait until it ended (cancelling again while it runs on)."""
    if task is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not task.done():
        if loop.time() >= deadline:
            log.warning("task %s did not stop within %.0f s", task.get_name(), within_s)
            return
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_S)
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with %r", task.get_name(), task.exception())


def periodic(
    step: Callable[[], Awaitable[object]],
    every_s: float | Callable[[], float],
    name: str,
    *,
    first_wait: bool = False,
) -> asyncio.Task[None]:
    """Run ``step`` every ``every_s`` seconds in a task named ``name`` until cancelled.

    A step failing with a transient error (:data:`TRANSIENT_ERRORS`) is logged in one line and
    tried again next period; ``first_wait`` waits one period before the first step.
    ``every_s`` may be a callable, read before each wait (for settings tests change).
    """
    return asyncio.create_task(_every(step, every_s, name, first_wait), name=name)


async def _every(
    step: Callable[[], Awaitable[object]],
    every_s: float | Callable[[], float],
    name: str,
    first_wait: bool,
) -> None:
    def period() -> float:
        return every_s() if callable(every_s) else every_s

    if first_wait:
        await asyncio.sleep(period())
    while True:
        try:
            await step()
        except TRANSIENT_ERRORS as exc:
            log.warning("%s failed: %s", name, exc)
        await asyncio.sleep(period())
