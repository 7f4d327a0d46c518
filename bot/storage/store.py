"""Customers and conversations in Redis: identities, history, meta, accept, lock.

This module (with :mod:`bot.storage.accept` and :mod:`bot.storage.record`, the calls of its Lua
scripts in :mod:`bot.storage.scripts`, :mod:`bot.storage.codec` and :mod:`bot.storage.lock`),
:mod:`bot.delivery.records`, :mod:`bot.desk.tickets`, :mod:`bot.delivery.outbox`,
:mod:`bot.desk.queue` and :mod:`bot.pipeline.stream` own how omnibot's data is encoded in Redis
(key names in :mod:`bot.storage.keys`); :mod:`bot.storage.hub` only listens to the events
published here, and :mod:`omnibot.app` only creates the client.

A customer has one conversation; its id is the customer id. Everything of a customer expires
after ``retention_days`` without activity.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

from bot.insight.journal import JournalEvent, journal_ttl_s
from bot.models import Address, Conversation, Message
from bot.storage.accept import (
    DEDUP_TTL_S,
    RATE_LIMIT,
    Accepted,
    AcceptScript,
    RateLimitedError,
)
from bot.storage.codec import MetaUpdate, decode_conversation, decode_customer
from bot.storage.customers import CustomerStore
from bot.storage.keys import conversation_key, customer_key
from bot.storage.lock import ConversationLock, LockScripts, read_recent
from bot.storage.record import HISTORY_CAP, SEND_GRACE_S, RecordScript

__all__ = [
    "DEDUP_TTL_S",
    "HISTORY_CAP",
    "RATE_LIMIT",
    "SEND_GRACE_S",
    "Accepted",
    "MetaUpdate",
    "RateLimitedError",
    "Store",
]


def is_cluster(client: redis.Redis) -> bool:
    """Whether ``client`` is redis-py's Redis Cluster client."""
    return isinstance(client, RedisCluster)


class Store(CustomerStore):
    """Async access to customers (:class:`CustomerStore`) and conversations in Redis."""

    def __init__(
        self,
        client: redis.Redis,
        retention_days: int = 30,
        rate_limit: tuple[int, int] = RATE_LIMIT,
    ) -> None:
        """``rate_limit``: (messages, seconds) a customer may send in one window."""
        super().__init__(client, retention_days)
        # a vendor's message id is remembered as long as the data is kept: a captured signed
        # webhook replayed a day later is still a repeat (an id costs ~100 bytes; a Twilio SID
        # carries no time to judge its age by)
        self.seen_ttl_s = max(DEDUP_TTL_S, self.ttl_s)
        self.journal_ttl_s = journal_ttl_s(retention_days)
        # on Redis Cluster the work streams and the outbox's index live in other slots than a
        # conversation: they are written next to its scripts, not by them
        cluster = is_cluster(client)
        self._accept = AcceptScript(
            client,
            ttl_s=self.ttl_s,
            seen_ttl_s=self.seen_ttl_s,
            journal_ttl_s=self.journal_ttl_s,
            rate_limit=rate_limit,
            cluster=cluster,
        )
        self._record = RecordScript(
            client, ttl_s=self.ttl_s, journal_ttl_s=self.journal_ttl_s, cluster=cluster
        )
        self._lock_scripts = LockScripts.register(client)

    async def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(await self._redis.ping())

    async def accept(
        self, cid: str, address: Address, dedup_id: str, message: Message, moves: int = 0
    ) -> Accepted | None:
        """Store a customer's message once per vendor id and queue the conversation's work.

        The message is numbered (``seq``), the conversation's last address updated, the message
        published to the conversation's listeners, its journal events written (``message``, and
        ``channel_switch`` when the last message came from another channel) and a work entry
        added, in one atomic step.
        None for a repeat of a message already answered; :class:`RateLimitedError` when the
        customer sent more than the rate limit allows (nothing stored). A customer merged into
        another has its messages stored with the survivor (``Accepted.conversation_id``).
        """
        return await self._accept.accept(cid, address, dedup_id, message, moves)

    def lock(
        self, cid: str, ttl_s: float | None = None, wait_s: float | None = None
    ) -> ConversationLock:
        """The conversation's lock, shared by every process using this Redis.

        ``async with store.lock(cid) as conversation`` holds it and reads the conversation (its
        newest messages) in the same round trip; a write passed it as ``fence`` is made only
        while it is still held.
        """
        return ConversationLock(self._redis, cid, self._lock_scripts, ttl_s, wait_s)

    async def load(self, cid: str) -> Conversation:
        """The conversation of customer ``cid`` with its whole history (a new one in state
        ``bot`` when none exists). The hot path reads only the newest messages (:meth:`lock`,
        :meth:`recent`)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(conversation_key(cid, "meta"))
        pipe.lrange(conversation_key(cid, "history"), 0, -1)
        pipe.hgetall(customer_key(cid, "profile"))
        pipe.smembers(customer_key(cid, "addresses"))
        meta, raw, profile, members = await pipe.execute()
        return decode_conversation(cid, meta, raw, decode_customer(cid, profile, members))

    async def recent(self, cid: str) -> Conversation:
        """The conversation with its newest messages and every unanswered one."""
        return await read_recent(self._redis, cid)

    async def record(
        self,
        cid: str,
        messages: Sequence[Message] = (),
        meta: MetaUpdate | None = None,
        outbound: Sequence[str] = (),
        fence: ConversationLock | None = None,
        events: Sequence[JournalEvent] = (),
    ) -> None:
        """Atomically append ``messages``, apply ``meta``, queue ``outbound`` entries (for
        :mod:`bot.delivery.outbox`), publish the messages and state change as events and add
        ``events`` (the customer's) to the journal.

        ``fence``: the conversation's lock the caller holds. The write is then made only while
        it is held (:class:`LockLostError` when it is no longer the caller's), and a write that
        moves the ``answered`` cursor past the last received message releases it in the same
        step. A lock already released fences nothing.
        """
        await self._record.record(cid, messages, meta, outbound, fence, events)
