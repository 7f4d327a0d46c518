"""The per-conversation lock, shared by every process, which also fences writes.

Taking the lock reads the conversation in the same round trip (its meta and newest messages).
A write the holder fences with it (``Store.record(..., fence=lock)``) is made only if the lock
is still the holder's: a worker that hung past the lock's TTL, and whose work another worker
took over, writes nothing when it wakes (:class:`LockLostError`), so a message is never
answered twice. Fencing is explicit at each write, never inferred from who calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import redis.asyncio as redis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript

from bot.models import Conversation
from bot.storage.codec import covers_pending, decode_conversation, decode_customer
from bot.storage.keys import conversation_key, customer_key
from bot.storage.scripts import EXTEND, RELEASE

LOCK_TTL_S = 15.0
LOCK_WAIT_S = 20.0
POLL_S = 0.02
RECENT = 12  # messages read with the lock; older ones only when some are still unanswered


class LockTimeoutError(Exception):
    """Another holder kept the conversation's lock for longer than the wait allows."""

    def __init__(self, cid: str) -> None:
        super().__init__(f"conversation {cid} stayed locked")
        self.conversation_id = cid


class LockLostError(Exception):
    """The lock expired (its holder stalled) and may be another's now: nothing was written."""

    def __init__(self, cid: str) -> None:
        super().__init__(f"the lock of conversation {cid} was lost")
        self.conversation_id = cid


@dataclass(frozen=True)
class LockScripts:
    """The lock's scripts, registered once per client (every lock of a store shares them)."""

    release: AsyncScript
    extend: AsyncScript

    @classmethod
    def register(cls, client: redis.Redis) -> LockScripts:
        """The scripts registered with ``client``."""
        return cls(client.register_script(RELEASE), client.register_script(EXTEND))


async def read_recent(client: redis.Redis, cid: str) -> Conversation:
    """The conversation with its newest messages (older ones when some are unanswered)."""
    pipe = client.pipeline(transaction=False)
    _read_newest(pipe, cid)
    return await _complete(client, cid, await pipe.execute())


def _read_newest(pipe: Pipeline, cid: str) -> None:
    """Queue the reads of the conversation's meta and newest messages, and of its customer's
    profile (answers and actions use it; not the addresses: only a ticket shows them), on
    ``pipe``: one round trip."""
    pipe.hgetall(conversation_key(cid, "meta"))
    pipe.lrange(conversation_key(cid, "history"), -RECENT, -1)
    pipe.hgetall(customer_key(cid, "profile"))


async def _complete(client: redis.Redis, cid: str, replies: list[Any]) -> Conversation:
    """The conversation from ``_read_newest``'s replies (its whole history when an unanswered
    message is older than the newest few)."""
    meta, raw, profile = replies
    if not covers_pending(meta, raw, complete=len(raw) < RECENT):
        whole = await client.lrange(conversation_key(cid, "history"), 0, -1)
        raw = [str(item) for item in whole]
    return decode_conversation(cid, meta, raw, decode_customer(cid, profile, ()))


class ConversationLock:
    """``async with store.lock(cid) as conversation``: held, and the conversation as it is."""

    def __init__(
        self,
        client: redis.Redis,
        cid: str,
        scripts: LockScripts,
        ttl_s: float | None = None,
        wait_s: float | None = None,
    ) -> None:
        self._redis = client
        self._scripts = scripts
        self.cid = cid
        # unique, not secret: no system call (os.urandom) on the hot path
        self.token = f"{random.getrandbits(96):024x}"
        self._ttl_ms = int((LOCK_TTL_S if ttl_s is None else ttl_s) * 1000)
        self._wait_s = LOCK_WAIT_S if wait_s is None else wait_s
        self.released = False  # also when a fenced write released it (nothing left to answer)

    async def __aenter__(self) -> Conversation:
        key = conversation_key(self.cid, "lock")
        deadline = time.monotonic() + self._wait_s
        while True:
            pipe = self._redis.pipeline(transaction=False)
            pipe.set(key, self.token, nx=True, px=self._ttl_ms)
            _read_newest(pipe, self.cid)
            taken, *replies = await pipe.execute()
            if taken:
                break
            if time.monotonic() >= deadline:
                raise LockTimeoutError(self.cid)
            await asyncio.sleep(POLL_S)
        try:
            return await _complete(self._redis, self.cid, replies)
        except BaseException:
            await self._leave()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._leave()

    async def _leave(self) -> None:
        if not self.released:
            self.released = True
            with contextlib.suppress(redis.RedisError):
                await self._scripts.release([conversation_key(self.cid, "lock")], [self.token])

    async def extend(self) -> bool:
        """Renew the lock's TTL; False when it is no longer this holder's."""
        if self.released:
            return False
        key = conversation_key(self.cid, "lock")
        return bool(await self._scripts.extend([key], [self.token, self._ttl_ms]))
