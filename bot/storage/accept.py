"""A customer's message stored once (the accept script of :mod:`bot.storage.scripts`): its
dedup marker, number, history entry, journal events and work entry in one atomic step.

:class:`AcceptScript` is the accept half of :class:`bot.storage.store.Store`; callers use it
through ``Store.accept``.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis

from bot.insight.journal import EventType, encode, journal_event, key_of
from bot.models import Address, Message
from bot.storage.codec import EVENT_HEAD, EVENT_TAIL, numbered_parts
from bot.storage.keys import (
    WORK_FIELD,
    conversation_key,
    customer_key,
    events_channel,
    seen_key,
    work_stream,
)
from bot.storage.record import HISTORY_CAP
from bot.storage.scripts import ACCEPT

DEDUP_TTL_S = 24 * 3600  # the least a vendor's id is remembered (message ids: the retention)
RATE_LIMIT = (30, 60)  # messages a customer may send, per this many seconds

__all__ = [
    "DEDUP_TTL_S",
    "RATE_LIMIT",
    "AcceptScript",
    "Accepted",
    "RateLimitedError",
]


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


class AcceptScript:
    """The accept script registered on one client, with how long what it writes is kept."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_s: int,
        seen_ttl_s: int,
        journal_ttl_s: int,
        rate_limit: tuple[int, int],
        cluster: bool,
    ) -> None:
        """``cluster``: the work streams live in other slots (written next to the script)."""
        self.ttl_s = ttl_s
        self.seen_ttl_s = seen_ttl_s
        self.journal_ttl_s = journal_ttl_s
        self._redis = client
        self._rate_limit = rate_limit
        self._cluster = cluster
        self._accept = client.register_script(ACCEPT)

    async def accept(
        self, cid: str, address: Address, dedup_id: str, message: Message, moves: int = 0
    ) -> Accepted | None:
        """Store the message once per vendor id (see :meth:`bot.storage.store.Store.accept`)."""
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
        keys = _conversation_keys(cid, address.channel, dedup_id)
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


def _conversation_keys(cid: str, channel: str, dedup_id: str) -> list[str]:
    """The accept script's keys in the conversation's slot, before the journal's day."""
    return [
        seen_key(cid, channel, dedup_id),
        conversation_key(cid, "history"),
        conversation_key(cid, "meta"),
        customer_key(cid, "profile"),
        customer_key(cid, "addresses"),
        conversation_key(cid, "rate"),
        customer_key(cid, "merged"),
    ]


def _switch_parts(cid: str, channel: str, at: float) -> tuple[str, str]:
    """The ``channel_switch`` event's JSON around the previous channel's name (the accept
    script knows it, the caller does not)."""
    event = encode({**journal_event(EventType.CHANNEL_SWITCH, cid, channel), "at": at})
    return event[:-1] + ',"from_channel":"', '"}'
