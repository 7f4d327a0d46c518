"""A durable queue per conversation in Redis, worked front to back: the one primitive under the
outbox (:mod:`bot.delivery.outbox`) and the desk's queue (:mod:`bot.desk.queue`).

Entries are JSON objects in a list (``conv:{<cid>}:<items>``), oldest first. Whoever holds the
conversation's lock (a redis-py lock, ``conv:{<cid>}:<lock>``) works the list from its head: a
*try* of the head either settles it (it leaves the list, and only then is the next one tried, so
entries leave in order) or fails for now. A failure is written into the head entry itself
(``attempts``, ``retry_at``): the backoff lives in Redis, shared by every process and kept across
restarts, and no process tries the head before it is due. After ``tries`` failed tries the
dead-letter hook settles it, so a queue never stays blocked for ever.

A pending index (a sorted set by due time, or a plain set) names the conversations with
entries; a sweeper works those that are due: that is how retries happen, and how the work of a
process that died is picked up. An index entry without work is harmless (the next try clears
it), work without an index entry is not: the index is always written first.

Heads leave with ``POP_IF_HEAD``, never a plain LPOP: a command resent after a lost reply, or a
holder whose lock expired meanwhile, must never remove the next entry.

What an entry keeps of its tries, and the head as read, are in :mod:`bot.storage.entries`; the
pending indexes in :mod:`bot.storage.pending`. Every name is importable from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis.asyncio as redis

from bot import background
from bot.storage.entries import ATTEMPTS_FIELD, RETRY_AT_FIELD, Head, Schedule, fresh
from bot.storage.keys import conversation_key
from bot.storage.pending import DueIndex, PendingSet
from bot.storage.scripts import POP_IF_HEAD, REPLACE_HEAD

log = logging.getLogger(__name__)

__all__ = [
    "ATTEMPTS_FIELD",
    "RETRY_AT_FIELD",
    "ConversationQueue",
    "Done",
    "DueIndex",
    "Head",
    "PendingSet",
    "Retry",
    "Schedule",
    "Worked",
    "fresh",
]


class Worked(StrEnum):
    """How a call to :meth:`ConversationQueue.work` ended."""

    EMPTY = "empty"  # every entry settled: the queue is empty
    WAITING = "waiting"  # the head is backing off until it is due again
    BUSY = "busy"  # another holder of the lock is working the queue


@dataclass(frozen=True)
class Done:
    """A try settled the head: it leaves the queue, then ``then`` runs."""

    then: Callable[[], Awaitable[object]] | None = None


@dataclass(frozen=True)
class Retry:
    """A try failed for now. ``after_s``: the other side's own wait (Retry-After), else the
    queue's backoff; ``code``: its error code, for the dead letter; ``entry``: the head as it is
    to be kept (None: unchanged)."""

    detail: str
    after_s: float | None = None
    code: int | None = None
    entry: Mapping[str, Any] | None = None


# None: the head changed meanwhile (another holder), read it again
Outcome = Done | Retry | None
Attempt = Callable[[Head], Awaitable[Outcome]]
DeadHook = Callable[[Head, Retry, int], Awaitable[Done]]


class ConversationQueue:
    """Per-conversation queues in Redis, worked front to back under a lock, with their backoff
    and tries kept in the entries; the owner says what a try does and what a dead letter is."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        items: str,
        lock: str,
        index: DueIndex | PendingSet,
        schedule: Schedule,
        lock_ttl_s: float,
        name: str,
    ) -> None:
        """``items``/``lock``: the parts of the conversation keys of the list and its lock;
        ``name`` says what an entry is, in the log."""
        self.index = index
        self.schedule = schedule
        self._redis = client
        self._items = items
        self._lock = lock
        self._lock_ttl_s = lock_ttl_s
        self._name = name
        self._pop_if_head = client.register_script(POP_IF_HEAD)
        self._replace_head = client.register_script(REPLACE_HEAD)

    def key(self, cid: str) -> str:
        """The list of one conversation's entries."""
        return conversation_key(cid, self._items)

    async def push(self, cid: str, entries: Sequence[str]) -> None:
        """Append ``entries`` (JSON objects) to the conversation's queue."""
        if entries:
            await self.index.mark(self._redis, cid, time.time(), new=True)  # first: see above
            await self._redis.rpush(self.key(cid), *entries)

    async def head(self, cid: str) -> Head | None:
        """The conversation's oldest entry, if any."""
        raw = await self._redis.lindex(self.key(cid), 0)
        return None if raw is None else Head(self._replace_head, self.key(cid), cid, str(raw))

    async def work(self, cid: str, attempt: Attempt, dead: DeadHook) -> Worked:
        """Try the entries in order until the queue is empty or the head must wait."""
        head = await self.head(cid)
        if head is not None and head.retry_at > time.time():
            await self.index.mark(self._redis, cid, head.retry_at)  # the index may lag
            return Worked.WAITING
        lock = self._redis.lock(conversation_key(cid, self._lock), timeout=self._lock_ttl_s)
        if not await lock.acquire(blocking=False):
            return Worked.BUSY
        try:
            return await self._work(cid, attempt, dead)
        finally:
            with contextlib.suppress(redis.RedisError):
                await lock.release()

    async def _work(self, cid: str, attempt: Attempt, dead: DeadHook) -> Worked:
        """The loop under the lock. A head leaves only once settled (a try's ``Done``, or the
        dead-letter hook after its last try); a failure writes its backoff into the head and
        indexes the conversation at that time; an emptied queue leaves the index, unless an
        entry was pushed after the empty read."""
        while (head := await self.head(cid)) is not None:
            if head.retry_at > time.time():  # failed meanwhile under another holder
                await self.index.mark(self._redis, cid, head.retry_at)
                return Worked.WAITING
            outcome = await attempt(head)
            if outcome is None:
                continue
            if isinstance(outcome, Retry):
                attempts = head.attempts + 1
                if attempts < self.schedule.tries:
                    await self._back_off(head, outcome, attempts)
                    return Worked.WAITING
                outcome = await dead(head, outcome, attempts)
            await self._pop_if_head(keys=[self.key(cid)], args=[head.raw])
            if outcome.then is not None:
                await outcome.then()
        await self.index.clear(self._redis, cid)
        if await self._redis.llen(self.key(cid)):
            await self.index.mark(self._redis, cid, time.time())
        return Worked.EMPTY

    async def _back_off(self, head: Head, retry: Retry, attempts: int) -> None:
        delay = self.schedule.delay(attempts, retry.after_s)
        fields = dict(head.entry() if retry.entry is None else retry.entry)
        fields[ATTEMPTS_FIELD] = attempts
        fields[RETRY_AT_FIELD] = time.time() + delay
        log.warning(
            "%s of %s: try %d/%d failed, next in %.1f s: %s",
            self._name,
            head.cid,
            attempts,
            self.schedule.tries,
            delay,
            retry.detail,
        )
        # only if it is still the head: a holder whose lock expired must not touch the next
        if await head.rewrite(fields):
            await self.index.mark(self._redis, head.cid, fields[RETRY_AT_FIELD])

    async def pending(self) -> int:
        """Conversations with entries, of every process."""
        return await self.index.count(self._redis)

    def sweeper(
        self,
        work: Callable[[str], Awaitable[object]],
        every_s: float | Callable[[], float],
        limit: int | None = None,
    ) -> asyncio.Task[None]:
        """A task that, every ``every_s``, calls ``work`` for the conversations due (at most
        ``limit`` a round): retries, and the queues of processes that died."""

        async def sweep() -> None:
            for cid in await self.index.due(self._redis, limit):
                await work(cid)

        return background.periodic(sweep, every_s, f"{self._name}-sweeper", first_wait=True)
