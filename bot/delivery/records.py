"""What happened to outbound messages, in Redis: delivery records and dead letters (opt-outs are
:mod:`bot.delivery.consent`'s).

A delivery record (per message, in the conversation's slot) says whether a message reached
the vendor, with the vendor's id, the SMS segments it cost, and the vendor's later status
reports (``queued``, ``sent``, ``delivered``, ``undelivered``, ``failed``) with error codes.
A report never moves a record backwards: reports arrive out of order (and can be replayed), so
only one further along Twilio's order (queued < sending < sent < delivered, undelivered or
failed < read) replaces the status, in one atomic step.
"""

from __future__ import annotations

import json
import time
from typing import NotRequired, TypedDict

import redis.asyncio as redis

from bot.models import MessageDict
from bot.storage.keys import DEAD_LETTER_KEY, conversation_key, vendor_key

DEAD_LETTER_CAP = 10_000
VENDOR_ID_TTL_S = 7 * 86400  # status callbacks arrive within minutes; days is generous

# How far along a status is (Twilio's message statuses); an unknown one counts as 0. Final
# outcomes share a rank: the first one reported stands.
STATUS_RANKS = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}

# KEYS: the conversation's delivery hash. ARGV: message id, status, its rank, time, error
# code ('' for none), then the known statuses and their ranks. Applies the report only when it
# is further along than the record's status; returns {applied 1/0, the record's JSON}, or
# nil when there is no record.
REPORT = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return nil end
local record = cjson.decode(raw)
local ranks = {}
for i = 6, #ARGV, 2 do ranks[ARGV[i]] = tonumber(ARGV[i + 1]) end
if tonumber(ARGV[3]) <= (ranks[record['status']] or 0) then return {0, raw} end
record['status'] = ARGV[2]
record['updated'] = tonumber(ARGV[4])
if ARGV[5] ~= '' then record['error_code'] = tonumber(ARGV[5]) end
raw = cjson.encode(record)
redis.call('HSET', KEYS[1], ARGV[1], raw)
return {1, raw}
"""


class DeliveryRecord(TypedDict):
    """The delivery of one outbound message."""

    channel: str
    to: str
    status: str
    attempts: int
    updated: float
    vendor_id: NotRequired[str]
    segments: NotRequired[int]
    parts: NotRequired[int]
    error: NotRequired[str]
    error_code: NotRequired[int]


class DeadLetter(TypedDict):
    """A message that could not be delivered, kept for ``omnibot outbox list`` and replay.

    A desk job's is addressed to ``["desk", <cid>]``; ``job`` is the job as it was queued (its
    ``message`` is the job's message, or one saying what the job was), for its replay."""

    id: str
    conversation: str
    to: list[str]
    message: MessageDict
    error: str
    failed_at: float
    job: NotRequired[str]


class Deliveries:
    """Async access to delivery records and dead letters."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        self._redis = client
        self._ttl_s = max(1, int(retention_days * 86400))
        self._report = client.register_script(REPORT)

    async def save(self, cid: str, message_id: str, record: DeliveryRecord) -> None:
        """Store (replace) the delivery record of a message; map its vendor id back to it."""
        key = conversation_key(cid, "delivery")
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(key, message_id, json.dumps(record))
        pipe.expire(key, self._ttl_s)
        if "vendor_id" in record:
            pipe.set(
                vendor_key(record["channel"], record["vendor_id"]),
                f"{cid} {message_id}",
                ex=VENDOR_ID_TTL_S,
            )
        await pipe.execute()

    async def get(self, cid: str, message_id: str) -> DeliveryRecord | None:
        """The delivery record of a message, if it has one."""
        raw = await self._redis.hget(conversation_key(cid, "delivery"), message_id)
        return None if raw is None else json.loads(raw)

    async def records(self, cid: str) -> dict[str, DeliveryRecord]:
        """The delivery records of a conversation's messages, by message id."""
        raw = await self._redis.hgetall(conversation_key(cid, "delivery"))
        return {str(message_id): json.loads(str(item)) for message_id, item in raw.items()}

    async def report(
        self, channel: str, vendor_id: str, status: str, error_code: int | None = None
    ) -> DeliveryRecord | None:
        """Apply a vendor's status report to the message it names, unless the record already
        is as far along (a late or replayed report changes nothing); the record as it stands,
        or None for an unknown id."""
        target = await self._redis.get(vendor_key(channel, vendor_id))
        if target is None:
            return None
        cid, message_id = str(target).split(" ", 1)
        ranks = [part for pair in STATUS_RANKS.items() for part in (pair[0], str(pair[1]))]
        args: list[str | int | float] = [message_id, status, STATUS_RANKS.get(status, 0)]
        result = await self._report(
            [conversation_key(cid, "delivery")],
            [*args, time.time(), "" if error_code is None else error_code, *ranks],
        )
        if result is None:
            return None
        record: DeliveryRecord = json.loads(result[1])
        return record

    # dead letters -----------------------------------------------------------------------

    async def dead_letter(self, entry: DeadLetter) -> None:
        """Keep an undeliverable message where operators can see and replay it."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(DEAD_LETTER_KEY, {json.dumps(entry): entry["failed_at"]})
        pipe.zremrangebyrank(DEAD_LETTER_KEY, 0, -DEAD_LETTER_CAP - 1)
        await pipe.execute()

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest undeliverable messages, newest first."""
        raw = await self._redis.zrevrange(DEAD_LETTER_KEY, 0, limit - 1)
        return [json.loads(str(item)) for item in raw]

    async def take_dead_letter(self, message_id: str) -> DeadLetter | None:
        """Remove and return the dead letter of ``message_id`` (for a replay)."""
        for raw in await self._redis.zrange(DEAD_LETTER_KEY, 0, -1):
            entry: DeadLetter = json.loads(str(raw))
            if entry["id"] == message_id and await self._redis.zrem(DEAD_LETTER_KEY, str(raw)):
                return entry
        return None
