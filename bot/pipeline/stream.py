"""Accept now, answer soon, on any process: the work streams and their workers.

:meth:`WorkStream.submit` returns as soon as a message is safe in Redis: one script stores it and
adds a "conversation has work" entry to its channel's work stream
(:meth:`bot.storage.store.Store.accept`), so a webhook or a web chat echo is acknowledged before
any classification. Every process reads those streams in the consumer group ``workers``, an
entry of each channel in turn (:mod:`bot.pipeline.lanes`), and answers the conversation's
unanswered messages in history order under its lock
(:meth:`bot.pipeline.dispatcher.Dispatcher.process`); the ``answered`` cursor moves in the same
write as each answer, so however many workers pick up entries of one conversation, each message
is answered once and in order.

A conversation gets one turn at a time: its next ``TURN_MESSAGES`` messages, then it is queued
again at the end of its stream. So the share is fair by message, not only by entry: an SMS
customer with ten unanswered texts holds a worker for one of them, and a web chat visitor's
question waits for about one message of each channel, not for a backlog.

An entry is acknowledged (and deleted) only after its conversation was processed (or queued
again). Entries of a process that died or hung stay pending and are claimed by another once idle
for ``VISIBILITY_S`` (a hung worker that wakes finds its lock gone and writes nothing); a live
worker keeps its entries fresh while it works, up to ``MAX_RUN_S``. Work in one process is
bounded (``concurrency`` conversations at a time; the streams are read only when there is room,
and entries read beyond it wait here, kept fresh, for the next free place). On shutdown, running
work gets ``STOP_TIMEOUT_S`` to finish; what is left is handed back at once to the other
processes.

A message whose processing raises is tried again after a pause, and after ``MAX_FAILURES`` it
goes to a person (:mod:`bot.pipeline.failures`). The conversation's later messages are processed
as usual; other conversations never wait for it.
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
from bot.pipeline.failures import FAILURE_PAUSE_S, MAX_FAILURES, Failures
from bot.pipeline.lanes import Entry, Lanes, Work, queued_work
from bot.storage.lock import LockLostError, LockTimeoutError

MAX_CONCURRENT = 4  # a process's own comes from omnibot.roles.processing_concurrency
VISIBILITY_S = 10.0
RECLAIM_EVERY_S = 2.0
HEARTBEAT_S = 3.0
MAX_RUN_S = 20.0  # a conversation processed for longer is stuck: its work is left to others
READ_BLOCK_MS = 1000
STOP_TIMEOUT_S = 20.0
RETRY_PAUSE_S = 0.5
TURN_MESSAGES = 1  # a conversation's messages answered per turn, then it queues again

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
        turn: int = TURN_MESSAGES,
    ) -> None:
        """``turn``: a conversation's messages answered before it queues again, behind the
        conversations waiting on its channel."""
        self._dispatcher = dispatcher
        self._redis = client
        self._failures = Failures(dispatcher, client, max_failures, failure_pause_s)
        self._concurrency = concurrency
        self._turn = turn
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
        """Process the conversation for one turn (its next ``turn`` messages), then queue it
        again when messages are left; again when an entry arrived meanwhile, and after a
        failure (paused, or past the failed message once it is dead-lettered)."""
        while True:
            run.again = False
            try:
                left = await self._dispatcher.process(cid, self._turn)
            except PAUSES:
                raise
            except Exception as error:
                if not await self._failures.failed(cid, error):
                    raise
                run.again = True
                continue
            if left:  # queued before this run's entries are acknowledged: never lost
                run.again = False  # the new entry covers the messages stored so far
                await self._lanes.requeue(run.entries[0].stream, cid)
            if not run.again:  # else one joined after the new entry: it may not cover it
                return

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
