"""Accept now, answer soon: what connectors call with a customer's message.

:meth:`Pipeline.submit` returns as soon as the message is safe in Redis (so a webhook or a
web chat echo is acknowledged before any classification), and schedules the conversation's
processing on this process's event loop. Processing is bounded (``MAX_CONCURRENT``
conversations at a time) and coalesced (a conversation already queued is not queued twice:
the queued run answers every message accepted before it starts). On shutdown, queued and
running work is finished within a bounded time.

A message accepted but not answered (the process died in between) is answered by the next
processing of its conversation, wherever that runs.
"""

from __future__ import annotations

import asyncio
import logging

from bot.dispatcher import Dispatcher
from bot.models import InboundMessage, Outcome

MAX_CONCURRENT = 4  # see PROCESSING_CONCURRENCY in .env.example
DRAIN_TIMEOUT_S = 20.0

log = logging.getLogger(__name__)


class Pipeline:
    """Accepts messages through the dispatcher and processes their conversations in tasks."""

    def __init__(self, dispatcher: Dispatcher, max_concurrent: int = MAX_CONCURRENT) -> None:
        self._dispatcher = dispatcher
        self._slots = asyncio.Semaphore(max_concurrent)
        self._queued: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, inbound: InboundMessage) -> Outcome:
        """Store the message once and schedule its answer; returns once it is stored."""
        outcome, cid = await self._dispatcher.accept(inbound)
        if outcome is Outcome.ACCEPTED:
            self.schedule(cid)
        return outcome

    def schedule(self, cid: str) -> None:
        """Process conversation ``cid`` soon (once, however often this is called before)."""
        if cid in self._queued:
            return
        self._queued.add(cid)
        task = asyncio.create_task(self._run(cid), name=f"process-{cid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, cid: str) -> None:
        async with self._slots:
            self._queued.discard(cid)
            try:
                await self._dispatcher.process(cid)
            except Exception:
                # the message stays unanswered in history; the conversation's next
                # processing answers it
                log.exception("processing conversation %s failed", cid)

    async def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Wait for scheduled work (at most ``timeout_s``), then cancel what is left."""
        if not self._tasks:
            return
        _, left = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in left:
            task.cancel()
        if left:
            log.warning("%d conversations were still being processed at shutdown", len(left))
            await asyncio.gather(*left, return_exceptions=True)
