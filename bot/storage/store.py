"""Customers and conversations in Redis: identities, history, meta, accept, lock.

This module (with :mod:`bot.storage.codec`, :mod:`bot.storage.lock` and its Lua scripts in
:mod:`bot.storage.scripts`), :mod:`bot.delivery.records`, :mod:`bot.desk.tickets`,
:mod:`bot.delivery.outbox`, :mod:`bot.desk.queue` and :mod:`bot.pipeline.stream` own how
omnibot's data is encoded in Redis (key names in :mod:`bot.storage.keys`); :mod:`bot.storage.hub`
only listens to the events published here, and :mod:`omnibot.app` only creates the client.

A customer has one conversation; its id is the customer id. Everything of a customer expires
after ``retention_days`` without activity.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from bot.events import message_event, state_event
from bot.insight.journal import (
    EventType,
    JournalEvent,
    day_of,
    encode,
    journal_event,
    journal_ttl_s,
    key_of,
)
from bot.models import Address, Conversation, Message
from bot.storage.codec import (
    EVENT_HEAD,
    EVENT_TAIL,
    MetaUpdate,
    decode_conversation,
    decode_customer,
    encode_meta,
    numbered_parts,
)
from bot.storage.customers import CustomerStore
from bot.storage.keys import (
    OUTBOX_DUE_KEY,
    WORK_FIELD,
    conversation_key,
    customer_key,
    events_channel,
    journal_key,
    seen_key,
    work_stream,
)
from bot.storage.lock import ConversationLock, LockLostError, LockScripts, read_recent
from bot.storage.scripts import ACCEPT, RECORD

HISTORY_CAP = 500
DEDUP_TTL_S = 24 * 3600  # the least a vendor's id is remembered (message ids: the retention)
RATE_LIMIT = (30, 60)  # messages a customer may send, per this many seconds
SEND_GRACE_S = 2.0  # a fresh outbound message is left this long to the process that stored it

__all__ = ["Accepted", "MetaUpdate", "Store"]


@dataclass(frozen=True)
class Accepted:
    """What :meth:`Store.accept` did: the message's number; ``new`` is False for a repeat of a
    message stored earlier and still unanswered (its work was queued again)."""

    conversation_id: str
    seq: int
    new: bool = True


ANSWERED, NEW, REPEATED, LIMITED, MOVED = 0, 1, 2, 3, 4  # the accept script's statuses
MAX_MOVES = 3  # merged customers followed to their survivor


class RateLimitedError(Exception):
    """A customer sent more messages than the rate limit allows; nothing was stored."""

    def __init__(self, address: Address, retry_after_s: int) -> None:
        super().__init__(f"{address.channel} customer over the rate limit")
        self.address = address
        self.retry_after_s = retry_after_s


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
        self._rate_limit = rate_limit
        self.journal_ttl_s = journal_ttl_s(retention_days)
        # on Redis Cluster the work streams and the outbox's index live in other slots than a
        # conversation: they are written next to its scripts, not by them
        self._cluster = is_cluster(client)
        self._accept = client.register_script(ACCEPT)
        self._record = client.register_script(RECORD)
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
        keys, args = self._accept_call(cid, address, dedup_id, message)
        status, number = await self._accept(keys, args)
        if status == MOVED:  # merged meanwhile: stored with the survivor
            if moves >= MAX_MOVES:
                raise RuntimeError(f"customer {cid} was merged in a loop")
            return await self.accept(str(number), address, dedup_id, message, moves + 1)
        if status == ANSWERED:
            return None
        if status == LIMITED:
            raise RateLimitedError(address, max(1, int(number)))
        if self._cluster:
            await self._redis.xadd(work_stream(address.channel), {WORK_FIELD: cid})
        return Accepted(cid, int(number), new=status == NEW)

    def _accept_call(
        self, cid: str, address: Address, dedup_id: str, message: Message
    ) -> tuple[list[str], list[str | int]]:
        """The accept script's keys and arguments."""
        keys = [
            seen_key(cid, address.channel, dedup_id),
            conversation_key(cid, "history"),
            conversation_key(cid, "meta"),
            customer_key(cid, "profile"),
            customer_key(cid, "addresses"),
            conversation_key(cid, "rate"),
            customer_key(cid, "merged"),
        ]
        entry = journal_event(EventType.MESSAGE, cid, address.channel, message=message.id)
        keys.append(key_of(entry))
        if not self._cluster:
            keys.append(work_stream(address.channel))
        args: list[str | int] = [  # in the order the script names them
            self.seen_ttl_s,
            *numbered_parts(message),
            HISTORY_CAP,
            self.ttl_s,
            events_channel(cid),
            EVENT_HEAD,
            EVENT_TAIL,
            address.channel,
            address.id,
            cid,
            *self._rate_limit,
            self.journal_ttl_s,
            encode(entry),
            *_switch_parts(cid, address.channel, entry["at"]),
        ]
        return keys, args

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
        if fence is not None and fence.cid != cid:
            raise ValueError(f"the lock of conversation {fence.cid} cannot fence {cid}")
        if any(event["cid"] != cid for event in events):
            raise ValueError(f"only conversation {cid}'s events are recorded with it")
        lock = fence if fence is not None and not fence.released else None
        keys, args = self._record_call(cid, messages, meta, outbound, lock, events)
        result = await self._write(cid, keys, args, bool(outbound))
        if result == -1:
            raise LockLostError(cid)
        if result == 2 and lock is not None:
            lock.released = True

    def _record_call(
        self,
        cid: str,
        messages: Sequence[Message],
        meta: MetaUpdate | None,
        outbound: Sequence[str],
        lock: ConversationLock | None,
        events: Sequence[JournalEvent],
    ) -> tuple[list[str], list[str | int]]:
        """The record script's keys and arguments (``lock``: the one held, if any)."""
        encoded = [message.to_dict() for message in messages]
        values, cleared = encode_meta(meta or {})
        keys = [
            conversation_key(cid, "history"),
            conversation_key(cid, "meta"),
            conversation_key(cid, "lock"),
            conversation_key(cid, "outbox"),
            # one day's stream: a write's events are made together (the report reads a day
            # more than it is asked for, for those made just before midnight)
            key_of(events[0]) if events else journal_key(cid, day_of(time.time())),
        ]
        args: list[str | int] = [  # in the order the script names them
            lock.token if lock is not None else "",
            "1" if lock is not None and meta and "answered" in meta else "0",
            HISTORY_CAP,
            self.ttl_s,
            events_channel(cid),
            len(encoded),
            len(outbound),
            len(values),
            len(cleared),
            state_event(meta["state"].value) if meta and "state" in meta else "",
            encoded[0]["id"] if encoded else "",
            len(events),
            self.journal_ttl_s,
            *(json.dumps(item) for item in encoded),
            *(message_event(item) for item in encoded),
            *outbound,
            *(part for pair in values.items() for part in pair),
            *cleared,
            *(encode(event) for event in events),
        ]
        return keys, args

    async def _write(self, cid: str, keys: list[str], args: list[str | int], sends: bool) -> int:
        if not sends:
            return int(await self._record(keys, args))
        # the sender's index first: an index entry without outbound work is harmless, outbound
        # work without an index entry would wait for the conversation's next message
        due = {cid: time.time() + SEND_GRACE_S}
        if self._cluster:
            await self._redis.zadd(OUTBOX_DUE_KEY, due, nx=True)
            return int(await self._record(keys, args))
        # EVALSHA in the pipeline, not the script object: that would ask the server whether it
        # knows the script first, a round trip more on every answer
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(OUTBOX_DUE_KEY, due, nx=True)
        pipe.evalsha(self._record.sha, len(keys), *keys, *args)
        added, result = await pipe.execute(raise_on_error=False)
        if isinstance(added, Exception):
            raise added
        if isinstance(result, NoScriptError):  # a restarted Redis forgot it: nothing was written
            return int(await self._record(keys, args))
        if isinstance(result, Exception):
            raise result
        return int(result)


def _switch_parts(cid: str, channel: str, at: float) -> tuple[str, str]:
    """The ``channel_switch`` event's JSON around the previous channel's name (the accept
    script knows it, the caller does not)."""
    event = encode({**journal_event(EventType.CHANNEL_SWITCH, cid, channel), "at": at})
    return event[:-1] + ',"from_channel":"', '"}'
