"""A message whose processing keeps failing goes to a person, after a few tries.

A failed processing of a conversation's next message (the one after its ``answered`` cursor) is
counted in the conversation's meta, so the count holds across processes and crashes; each try
but the last is followed by a pause, and after ``MAX_FAILURES`` the message is dead-lettered
(:meth:`bot.pipeline.dispatcher.Dispatcher.dead_letter`): the cursor moves past it and the
conversation goes to a person, with the reason on the ticket.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as redis

from bot.pipeline.dispatcher import Dispatcher
from bot.storage.keys import conversation_key

MAX_FAILURES = 3  # a message whose processing raised this often goes to a person
FAILURE_PAUSE_S = 0.5  # before processing again after a failure, times the failures so far

# One more failure of the conversation's next message (the one after the ``answered`` cursor),
# counted in its meta: ``failed_at`` is the cursor the count is for, ``failures`` the count.
# Returns {cursor, failures}; {-1, 0} when the conversation is gone.
COUNT_FAILURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'-1', 0} end
local answered = redis.call('HGET', KEYS[1], 'answered') or '0'
if redis.call('HGET', KEYS[1], 'failed_at') ~= answered then
  redis.call('HSET', KEYS[1], 'failed_at', answered, 'failures', 0)
end
return {answered, redis.call('HINCRBY', KEYS[1], 'failures', 1)}
"""

log = logging.getLogger(__name__)


class Failures:
    """Counts failed processings and decides: try again after a pause, or dead-letter."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        client: redis.Redis,
        max_failures: int = MAX_FAILURES,
        pause_s: float = FAILURE_PAUSE_S,
    ) -> None:
        self._dispatcher = dispatcher
        self._script = client.register_script(COUNT_FAILURE)
        self._max_failures = max_failures
        self._failure_pause_s = pause_s

    async def failed(self, cid: str, error: Exception) -> bool:
        """Count a failed processing of the conversation's next message, then pause before
        the next try or, at the last, dead-letter the message; False when there is nothing
        to count (the conversation is gone)."""
        failures_total = self._dispatcher.metrics.processing_failures
        answered, failures = await self._count(cid)
        if failures == 0:
            return False
        if failures < self._max_failures:
            log.warning(
                "processing message %d of conversation %s failed (%d of %d tries)",
                answered + 1,
                cid,
                failures,
                self._max_failures,
                exc_info=error if failures == 1 else None,  # one traceback is enough
            )
            failures_total.labels(outcome="retried").inc()
            await asyncio.sleep(self._failure_pause_s * failures)
            return True
        log.error(
            "message %d of conversation %s failed %d times (%s); it goes to a person",
            answered + 1,
            cid,
            failures,
            error,
        )
        failures_total.labels(outcome="dead_lettered").inc()
        await self._dispatcher.dead_letter(cid, answered)
        return True

    async def _count(self, cid: str) -> tuple[int, int]:
        """One more failure at the conversation's cursor: the cursor and its failures."""
        key = conversation_key(cid, "meta")
        answered, failures = await self._script([key])
        return int(answered), int(failures)
