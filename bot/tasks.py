"""Stopping background tasks for sure.

A cancellation can be lost inside a library (Python 3.11's ``asyncio.wait_for`` swallows one
that arrives as the inner call completes, gh-86296), after which a loop runs on as if never
cancelled and a plain ``await task`` never returns. :func:`stop` cancels again until the task
ends, for a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

STOP_WITHIN_S = 5.0
RECANCEL_S = 0.1

log = logging.getLogger(__name__)


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
