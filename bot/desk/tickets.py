"""The agent desk's side of Redis: tickets, the queue of waiting customers, notes, event ids.

- which conversation a desk ticket (a Slack thread) belongs to;
- the conversations with agents (``desk:open``) and the queue of those not claimed yet
  (``desk:waiting``), with the recent waits that give a customer their typical wait;
- agents' internal notes, kept beside the conversation and never in its history;
- vendor event ids handled once (Slack retries an event it thinks we missed).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence

import redis.asyncio as redis

from bot.events import note_event
from bot.insight.journal import JournalEvent, add_to, journal_ttl_s
from bot.models import Message
from bot.storage.codec import decode_message
from bot.storage.keys import (
    OPEN_TICKETS_KEY,
    WAITING_KEY,
    WAITS_KEY,
    conversation_key,
    events_channel,
    ticket_key,
)
from bot.storage.once import Once
from bot.storage.store import HISTORY_CAP

WAITS_KEPT = 20  # the typical wait is the median of the last claims


class Tickets:
    """Async access to the desk's data in Redis."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        self._redis = client
        self.ttl_s = max(1, int(retention_days * 86400))
        self._journal_ttl_s = journal_ttl_s(retention_days)

    async def first_time(self, source: str, event_id: str) -> bool:
        """Claim a vendor event id (Slack's ``event_id``); False when it was seen before."""
        return await Once(self._redis, source).first_time(event_id)

    async def bind_ticket(self, ticket: str, cid: str) -> None:
        """Remember which conversation a desk ticket belongs to."""
        await self._redis.set(ticket_key(ticket), cid, ex=self.ttl_s)

    async def conversation_of_ticket(self, ticket: str) -> str | None:
        """The conversation of a desk ticket, if it is one of ours."""
        value = await self._redis.get(ticket_key(ticket))
        return None if value is None else str(value)

    async def mark_open(self, cid: str, since: float) -> None:
        """List the conversation among those with agents, and in the queue."""
        pipe = self._redis.pipeline(transaction=False)  # two keys, two Cluster slots
        pipe.zadd(OPEN_TICKETS_KEY, {cid: since})
        pipe.zadd(WAITING_KEY, {cid: since})
        await pipe.execute()

    async def mark_claimed(self, cid: str, waited_s: float) -> None:
        """Take the conversation out of the queue; remember how long it waited."""
        await self._redis.zrem(WAITING_KEY, cid)
        pipe = self._redis.pipeline(transaction=True)
        pipe.lpush(WAITS_KEY, f"{max(0.0, waited_s):.1f}")
        pipe.ltrim(WAITS_KEY, 0, WAITS_KEPT - 1)
        await pipe.execute()

    async def mark_closed(self, cid: str) -> None:
        """Take the conversation off the agents' list."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrem(OPEN_TICKETS_KEY, cid)
        pipe.zrem(WAITING_KEY, cid)
        await pipe.execute()

    async def queue_place(self, cid: str) -> tuple[int | None, float | None]:
        """The conversation's place in the queue (1 = next) and the median recent wait (s)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrank(WAITING_KEY, cid)
        pipe.lrange(WAITS_KEY, 0, -1)
        rank, waits = await pipe.execute()
        typical = statistics.median(float(w) for w in waits) if waits else None
        return (None if rank is None else int(rank) + 1), typical

    async def open_conversations(self, limit: int = 200) -> list[tuple[str, float]]:
        """Conversations with agents, oldest escalation first: (id, escalated at)."""
        entries = await self._redis.zrange(OPEN_TICKETS_KEY, 0, limit - 1, withscores=True)
        return [
            (str(entry[0]), float(entry[1])) for entry in entries if isinstance(entry, tuple | list)
        ]

    async def add_note(self, cid: str, note: Message, events: Sequence[JournalEvent] = ()) -> None:
        """Keep an agent's internal note with the conversation (never in its history), and its
        journal ``events`` (the customer's: one slot) in the same transaction."""
        if any(event["cid"] != cid for event in events):
            raise ValueError(f"only conversation {cid}'s events are kept with its notes")
        key = conversation_key(cid, "notes")
        encoded = note.to_dict()
        pipe = self._redis.pipeline(transaction=True)
        pipe.rpush(key, json.dumps(encoded))
        pipe.ltrim(key, -HISTORY_CAP, -1)
        pipe.expire(key, self.ttl_s)
        for event in events:
            add_to(pipe, event, self._journal_ttl_s)
        await pipe.execute()
        # after the note is kept, and outside the transaction: a cluster refuses a keyless
        # PUBLISH in a MULTI (a missed echo only delays the consoles' view, never the note)
        await self._redis.publish(events_channel(cid), note_event(encoded))

    async def notes(self, cid: str) -> list[Message]:
        """The conversation's internal notes, oldest first."""
        raw = await self._redis.lrange(conversation_key(cid, "notes"), 0, -1)
        return [decode_message(item) for item in raw]
