"""Waiting for something to become true in tests, without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from omnibot.services import SERVICES

POLL_S = 0.02


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout_s: float = 10.0,
    what: str = "the condition",
) -> None:
    """Poll ``condition`` (plain or async) until it is true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        await asyncio.sleep(POLL_S)


async def work_done(app: web.Application, timeout_s: float = 10.0) -> None:
    """Wait until ``app`` answered everything accepted so far (the work stream is empty: an
    entry is deleted once its conversation was processed) and every outbound message queued
    so far was sent, refused or dead-lettered."""
    services = app[SERVICES]

    async def done() -> bool:
        if services.stream.busy or await services.stream.queued():
            return False
        await services.outbox.settle()
        return not await services.outbox.pending()

    await wait_until(done, timeout_s, "processing and sending of the accepted messages")
