"""The journal: what happened in every conversation, one event per step, kept for the report.

Events live in Redis Streams, one per customer and UTC day (``journal:{<cid>}:<YYYY-MM-DD>``,
one field ``e`` holding the event's JSON), each kept ``retention_days`` + 1 days after its last
write. The key carries the customer's hash tag, so the conversation's own Lua scripts write an
event in the same step as the change it describes (:mod:`bot.storage.scripts`: a message
accepted, an answer, a hand-off, an agent's action), and an agent's note goes in the note's
transaction: such an event is never lost nor invented by a crash, and a write resent after a
lost reply adds none twice.

:meth:`Journal.add` writes an event on its own, after the change it describes, for the few
changes that are no script over the conversation's slot (a web chat address joined through a
texted link): a crash between the two loses that event.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict, cast

import redis.asyncio as redis
from redis.asyncio.client import Pipeline

from bot.storage.customer_data import SCAN_COUNT, tagged_keys
from bot.storage.keys import JOURNAL_PREFIX, customer_key, journal_key

EVENT_FIELD = "e"  # the stream entry's one field: the event's JSON
DAY_S = 86400
ANONYMOUS_PREFIX = "anon-"  # the customer id events are kept under once their customer is erased
# what an erased customer's events keep: what they did and what the bot decided, no words, no id
# that leads back to them (their message ids, the customer they were merged into)
KEPT_WHEN_ERASED = frozenset(
    {
        "type",
        "at",
        "channel",
        "by",
        "intent",
        "confidence",
        "article",
        "reason",
        "agent",
        "score",
        "after",
        "from_channel",
    }
)

__all__ = [
    "EVENT_FIELD",
    "EventType",
    "Journal",
    "JournalEvent",
    "add_to",
    "day_of",
    "decode",
    "encode",
    "journal_event",
    "journal_ttl_s",
]


class EventType(StrEnum):
    """What an event says happened."""

    MESSAGE = "message"  # a customer's message accepted
    ANSWERED = "answered"  # the bot answered (by an intent, an article or an action)
    ASKED = "asked"  # the bot was unsure: asked to put it another way, a person offered
    ESCALATED = "escalated"  # handed to people, and why
    CLAIMED = "claimed"
    AGENT_REPLY = "agent_reply"
    NOTE = "note"
    RESOLVED = "resolved"
    BACK_TO_BOT = "back_to_bot"
    CHANNEL_SWITCH = "channel_switch"  # the customer wrote on another channel than before
    LINKED = "linked"  # another address joined the customer (``into``: who holds it now)
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    CSAT_ASKED = "csat_asked"
    CSAT_ANSWERED = "csat_answered"
    REVEALED = "revealed"  # an agent saw a masked message's original (``agent``, ``message``)


class _EventBase(TypedDict):
    type: str
    at: float
    cid: str
    channel: str


class JournalEvent(_EventBase, total=False):
    """One event: its ``type`` (an :class:`EventType` value), when (``at``, unix seconds), whose
    (``cid``) and the customer channel concerned (``channel``, "" if none), with the fields of
    its type (``text`` is the customer's message redacted, on unsure decisions only)."""

    message: str
    by: str
    intent: str
    confidence: float
    article: str
    reason: str
    agent: str
    score: int
    after: str
    text: str
    into: str
    from_channel: str


def journal_event(
    type: EventType | str, cid: str, channel: str = "", **fields: Any
) -> JournalEvent:
    """An event of ``type`` happening now; ``fields`` None are left out."""
    event: dict[str, Any] = {
        "type": str(type),
        "at": datetime.now(UTC).timestamp(),
        "cid": cid,
        "channel": channel,
    }
    event.update({name: value for name, value in fields.items() if value is not None})
    return cast(JournalEvent, event)


def encode(event: JournalEvent) -> str:
    """The event's stored JSON."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def decode(raw: str | bytes) -> JournalEvent | None:
    """The event of a stored JSON, or None when it is not one."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and isinstance(value.get("at"), int | float)
        and isinstance(value.get("cid"), str)
    ):
        return None
    value.setdefault("channel", "")
    return cast(JournalEvent, value)


def day_of(at: float) -> str:
    """The UTC day (``YYYY-MM-DD``) of a unix time: the day of the stream an event goes to."""
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def key_of(event: JournalEvent) -> str:
    """The stream an event goes to."""
    return journal_key(event["cid"], day_of(event["at"]))


def journal_ttl_s(retention_days: int) -> int:
    """How long a day's stream is kept after its last write: the retention and a day (its
    events are then all at least ``retention_days`` old)."""
    return max(1, int(retention_days * DAY_S)) + DAY_S


def add_to(pipe: Pipeline, event: JournalEvent, ttl_s: int) -> None:
    """Queue the event's write on ``pipe`` (a transaction over the customer's slot)."""
    key = key_of(event)
    pipe.xadd(key, {EVENT_FIELD: encode(event)})
    pipe.expire(key, ttl_s)


class Journal:
    """Reads the journal (the report, a customer's export), anonymises an erased customer's
    events, and writes the events no conversation script writes."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        self._redis = client
        self.ttl_s = journal_ttl_s(retention_days)

    async def add(self, cid: str, event: JournalEvent) -> None:
        """Write ``event`` on its own (only for a change no conversation script makes)."""
        if event["cid"] != cid:
            raise ValueError(f"an event of {event['cid']} is not customer {cid}'s")
        pipe = self._redis.pipeline(transaction=True)
        add_to(pipe, event, self.ttl_s)
        await pipe.execute()

    async def read(self, since: float, until: float) -> list[JournalEvent]:
        """Every customer's events in [``since``, ``until``), oldest first.

        Each day's streams are found by a ``SCAN`` (every node's, on a cluster): O(keys), a
        report's price, never the message path's. The day before ``since`` is read too: an
        event written just before midnight may sit in the next day's stream, never earlier.
        """
        events: list[JournalEvent] = []
        oldest = until - self.ttl_s - DAY_S  # nothing older is kept: no day before is scanned
        for day in _days(max(since, oldest) - DAY_S, until):
            pattern = f"{JOURNAL_PREFIX}*:{day}"
            async for key in self._redis.scan_iter(match=pattern, count=SCAN_COUNT):
                events += [e for e in await self._entries(str(key)) if since <= e["at"] < until]
        return sorted(events, key=lambda event: event["at"])

    async def of_customer(self, cid: str) -> list[JournalEvent]:
        """The customer's events, oldest first."""
        events: list[JournalEvent] = []
        for key in await self._keys_of(cid):
            events += await self._entries(key)
        return sorted(events, key=lambda event: event["at"])

    async def anonymise(self, cid: str) -> int:
        """Move the customer's events to a new anonymous id, without their words or ids that
        lead back to them (counts kept, whom they were about forgotten); how many there were.

        Each day's stream is copied whole (entry ids kept) in one transaction, then the old one
        deleted; the anonymous id is kept under the customer until the end, so a repeat after
        a crash rewrites the same copies instead of adding more.
        """
        marker = customer_key(cid, "anon")
        await self._redis.set(marker, ANONYMOUS_PREFIX + secrets.token_hex(8), nx=True, ex=DAY_S)
        anonymous = str(await self._redis.get(marker))
        moved = 0
        for key in await self._keys_of(cid):
            moved += await self._move(key, anonymous)
        await self._redis.delete(marker)
        return moved

    async def _move(self, key: str, anonymous: str) -> int:
        entries = await self._raw(key)
        ttl_ms = int(await self._redis.pttl(key))
        target = journal_key(anonymous, key.rsplit(":", 1)[1])
        pipe = self._redis.pipeline(transaction=True)  # one slot: the anonymous id's
        pipe.delete(target)
        for entry_id, raw in entries:
            event = decode(raw)
            if event is not None:
                pipe.xadd(target, {EVENT_FIELD: encode(_anonymous(event, anonymous))}, entry_id)
        pipe.pexpire(target, ttl_ms if ttl_ms > 0 else self.ttl_s * 1000)
        await pipe.execute()
        await self._redis.delete(key)
        return len(entries)

    async def _keys_of(self, cid: str) -> list[str]:
        prefix = journal_key(cid, "")
        return [key for key in await tagged_keys(self._redis, cid) if key.startswith(prefix)]

    async def _entries(self, key: str) -> list[JournalEvent]:
        decoded = (decode(raw) for _, raw in await self._raw(key))
        return [event for event in decoded if event is not None]

    async def _raw(self, key: str) -> list[tuple[str, str]]:
        """The stream's entries: (entry id, event JSON)."""
        entries = await self._redis.xrange(key) or []
        return [
            (str(entry_id), str((fields or {}).get(EVENT_FIELD, "")))
            for entry_id, fields in entries
        ]


def _anonymous(event: JournalEvent, anonymous: str) -> JournalEvent:
    kept = {name: value for name, value in event.items() if name in KEPT_WHEN_ERASED}
    return cast(JournalEvent, {**kept, "cid": anonymous})


def _days(since: float, until: float) -> list[str]:
    """The UTC days from ``since``'s to ``until``'s, both included."""
    first = datetime.fromtimestamp(since, UTC).date()
    last = datetime.fromtimestamp(until, UTC).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
