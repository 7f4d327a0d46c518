"""Accept now, answer soon, on any process: the work stream and its workers.

:meth:`WorkStream.submit` returns as soon as a message is safe in Redis: one script stores it and
adds a "conversation has work" entry to its channel's work stream
(:meth:`bot.storage.store.Store.accept`), so a webhook or a web chat echo is acknowledged before
any classification. Every process reads those streams in the consumer group ``workers``, one
channel's entry after another's (:mod:`bot.pipeline.lanes`: no channel waits behind another's
backlog), and answers
the conversation's unanswered messages in history order under its lock
(:meth:`bot.pipeline.dispatcher.Dispatcher.process`); the ``answered`` cursor moves in the same
write as each answer, so however many workers pick up entries of one conversation, each message
is answered once and in order.

An entry is acknowledged (and deleted) only after its conversation was processed. Entries of a
process that died or hung stay pending and are claimed by another once idle for ``VISIBILITY_S`` (a
hung worker that wakes finds its lock gone and writes nothing); a live worker keeps its entries
fresh while it works, up to ``MAX_RUN_S``. Work in one process is bounded (``concurrency``
conversations at a time; the streams are read only when there is room, and entries read beyond
it wait here, kept fresh, for the next free place). On shutdown, running work gets
``STOP_TIMEOUT_S`` to finish; what is left is handed back at once to the other processes.

A message whose processing raises is tried again after a pause; the failures are counted in the
conversation's meta (so the count holds across processes and crashes), and after ``MAX_FAILURES``
the message is dead-lettered: the cursor moves past it and the conversation goes to a person, with
the reason on the ticket (:meth:`bot.pipeline.dispatcher.Dispatcher.dead_letter`). The
conversation's later messages are processed as usual; other conversations never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass, field

import redis.asyncio as redis

from bot import background
from bot.models import InboundMessage, Outcome
from bot.pipeline import log_context
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.lanes import Entry, Lanes, Work, queued_work
from bot.storage.keys import conversation_key
from bot.storage.lock import LockLostError, LockTimeoutError

MAX_CONCURRENT = 4  # a process's own comes from omnibot.roles.processing_concurrency
VISIBILITY_S = 10.0
RECLAIM_EVERY_S = 2.0
HEARTBEAT_S = 3.0
MAX_RUN_S = 20.0  # a conversation processed for longer is stuck: its work is left to others
READ_BLOCK_MS = 1000
STOP_TIMEOUT_S = 20.0
RETRY_PAUSE_S = 0.5
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
PAUSES = (LockLostError, LockTimeoutError, redis.RedisError, OSError)  # not the message's fault

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """One conversation being processed here, with the stream entries it answers for."""

    entries: list[Entry] = field(default_factory=list)
    again: bool = False  # an entry arrived while it ran: process once more
    started: float = field(default_factory=time.monotonic)


class WorkStream:
    """Accepts messages through the dispatcher; processes conversations from the work stream."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        client: redis.Redis,
        concurrency: int = MAX_CONCURRENT,
        visibility_s: float = VISIBILITY_S,
        max_failures: int = MAX_FAILURES,
        failure_pause_s: float = FAILURE_PAUSE_S,
    ) -> None:
        self._dispatcher = dispatcher
        self._redis = client
        self._count_failure_script = client.register_script(COUNT_FAILURE)
        self._concurrency = concurrency
        self._max_failures = max_failures
        self._failure_pause_s = failure_pause_s
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._lanes = Lanes(client, self.consumer, int(visibility_s * 1000))
        self._runs: dict[str, _Run] = {}
        self._ready: deque[Work] = deque()  # read, waiting for room
        self._tasks: set[asyncio.Task[None]] = set()
        self._acks: list[Entry] = []
        self._handback: list[Entry] = []
        self._room = asyncio.Event()
        self._to_ack = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []

    async def submit(self, inbound: InboundMessage) -> Outcome:
        """Store the message once and queue its conversation's work; returns once stored."""
        outcome, _ = await self._dispatcher.accept(inbound)
        return outcome

    async def start(self) -> None:
        """Join the consumer group (creating the streams) and start working."""
        await self._lanes.join()
        self._loops = [
            asyncio.create_task(self._read_loop(), name="work-reader"),
            background.periodic(
                self._reclaim_stale, RECLAIM_EVERY_S, "work-reclaimer", first_wait=True
            ),
            background.periodic(self._heartbeat, HEARTBEAT_S, "work-heartbeat", first_wait=True),
            asyncio.create_task(self._ack_loop(), name="work-acker"),
        ]

    @property
    def busy(self) -> int:
        """Conversations being processed here now."""
        return len(self._runs)

    async def queued(self) -> int:
        """Work entries not yet finished, of every process."""
        return await queued_work(self._redis)

    def _take(self, entry_id: Entry, cid: str) -> None:
        run = self._runs.get(cid)
        if run is not None:
            if entry_id not in run.entries:
                run.entries.append(entry_id)
                run.again = True
            return
        run = self._runs[cid] = _Run([entry_id])
        task = asyncio.create_task(self._run(cid, run), name=f"process-{cid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, cid: str, run: _Run) -> None:
        log_context.enter_conversation(cid)  # this task's own lines: its failures, retries
        done = False
        try:
            await self._work(cid, run)
            done = True
        except asyncio.CancelledError:
            self._handback.extend(run.entries)
            raise
        except (LockLostError, LockTimeoutError) as error:
            log.warning("%s; the conversation's work stays queued", error)
        except (redis.RedisError, OSError) as error:
            log.warning("processing %s paused by Redis (%s); it stays queued", cid, error)
        except Exception:
            # not even a dead letter could be written: the message stays unanswered and the
            # conversation's next processing counts it again
            log.exception("processing conversation %s failed", cid)
            done = True
        finally:
            del self._runs[cid]
            if done:
                self._acks.extend(run.entries)
                self._to_ack.set()
            self._room.set()

    async def _work(self, cid: str, run: _Run) -> None:
        """Process the conversation until nothing is left: again when an entry arrived
        meanwhile, and after a failure (paused, or past the failed message once it is
        dead-lettered)."""
        while True:
            run.again = False
            try:
                await self._dispatcher.process(cid)
            except PAUSES:
                raise
            except Exception as error:
                if not await self._failed(cid, error):
                    raise
                run.again = True
            if not run.again:
                return

    async def _failed(self, cid: str, error: Exception) -> bool:
        """Count a failed processing of the conversation's next message, then pause before
        the next try or, at the last, dead-letter the message; False when there is nothing
        to count (the conversation is gone)."""
        failures_total = self._dispatcher.metrics.processing_failures
        answered, failures = await self._count_failure(cid)
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

    async def _count_failure(self, cid: str) -> tuple[int, int]:
        """One more failure at the conversation's cursor: the cursor and its failures."""
        key = conversation_key(cid, "meta")
        answered, failures = await self._count_failure_script([key])
        return int(answered), int(failures)

    async def _read_loop(self) -> None:
        while True:
            self._start_ready()
            if len(self._runs) >= self._concurrency:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                self._ready.extend(
                    await self._lanes.read(self._concurrency - len(self._runs), READ_BLOCK_MS)
                )
            except (redis.RedisError, OSError) as error:
                log.warning("reading the work streams failed: %s", error)
                await asyncio.sleep(RETRY_PAUSE_S)

    def _start_ready(self) -> None:
        """Start the entries read while there is room (one of a conversation running here
        needs none: it joins the run)."""
        while self._ready and (
            len(self._runs) < self._concurrency or self._ready[0][1] in self._runs
        ):
            self._take(*self._ready.popleft())

    async def _ack_loop(self) -> None:
        """Acknowledge (and delete) finished entries: whatever finished while the previous
        acknowledgement was on its way goes in the next round trip."""
        while True:
            await self._to_ack.wait()
            self._to_ack.clear()
            try:
                await self._ack()
            except (redis.RedisError, OSError) as error:
                log.warning("acknowledging work failed (%s); retrying", error)
                self._to_ack.set()
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _ack(self) -> None:
        acks, self._acks = self._acks, []
        if not acks:
            return
        try:
            await self._lanes.ack(acks)
        except BaseException:
            self._acks.extend(acks)
            raise

    def _held(self) -> set[Entry]:
        """The entries this process works on or will: running and read, waiting for room."""
        held = {entry for run in self._runs.values() for entry in run.entries}
        return held | {entry for entry, _ in self._ready}

    async def _reclaim_stale(self) -> None:
        """Read the old stream while it has work; take over stale work, as much as there is
        room for."""
        await self._lanes.refresh()
        room = self._concurrency - len(self._runs) - len(self._ready)
        if room <= 0:
            return
        for entry, cid in await self._lanes.claim_stale(room, self._held()):
            log.info("taking over work of conversation %s", cid)
            self._take(entry, cid)

    async def _heartbeat(self) -> None:
        """Keep fresh the entries of runs not yet stuck and of those read, waiting for room
        (a failed beat is tried next time: the reclaimer already speaks for Redis being away)."""
        now = time.monotonic()
        ids = {
            entry
            for run in self._runs.values()
            if now - run.started < MAX_RUN_S
            for entry in run.entries
        }
        ids.update(entry for entry, _ in self._ready)
        if ids:
            with contextlib.suppress(redis.RedisError, OSError):
                await self._lanes.keep(ids)

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop reading; let running work finish (at most ``timeout_s``), hand back the rest."""
        for loop in self._loops:
            await background.stop(loop)
        self._loops = []
        if self._tasks:
            _, left = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for task in left:
                await background.stop(task)
        leftover, self._handback = self._handback, []
        leftover.extend(entry for entry, _ in self._ready)
        self._ready.clear()
        with contextlib.suppress(redis.RedisError, OSError):
            await self._ack()
            if leftover:
                log.warning("handing back %d unfinished work entries", len(leftover))
                await self._lanes.hand_back(leftover)
