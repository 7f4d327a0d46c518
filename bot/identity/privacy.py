"""A customer's data on request: everything kept about them (export) and its erasure (erase).

Both start from one of the customer's addresses (``+447700900123``, ``webchat:<visitor id>``)
and are audited in the log: who asked, the address masked, what was exported or erased counted
by kind; never a message's text. Where the data lies is :mod:`bot.storage.customer_data`'s; how an
address is read and masked, :mod:`bot.identity.address_text`'s.

An erasure first unlinks the customer's addresses (a message arriving meanwhile from the same
number starts a fresh customer), then, holding the conversation's lock (no worker is answering
it), deletes every key of the customer and their entries in the shared indexes (the desk's
queue and open list, the outbox's schedule, dead letters, unfinished merges). An open ticket
is closed. Work entries of the conversation still in the ``work`` stream are left there: a
worker that reads one finds an empty conversation and acknowledges it, writing nothing.

The customer's journal events (:mod:`bot.insight.journal`) are exported with the rest; an
erasure anonymises them instead of deleting them (the report's counts stay right): they move to
a new anonymous id without the customer's words, while the conversation's lock is held and
before the customer's keys go (the journal's streams carry the customer's hash tag too).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from typing import Any, Protocol, TypedDict

import redis.asyncio as redis

from bot.delivery.records import DeliveryRecord
from bot.events import RESYNC
from bot.identity.address_text import AddressFormError, mask, parse_address
from bot.insight.journal import Journal, JournalEvent
from bot.models import Address, MessageDict
from bot.storage.customer_data import (
    delete_keys,
    number_limit_keys,
    other_keys,
    own_keys,
    tagged_keys,
)
from bot.storage.keys import (
    DEAD_LETTER_KEY,
    DESK_PENDING_KEY,
    MERGES_KEY,
    OPEN_TICKETS_KEY,
    OUTBOX_DUE_KEY,
    WAITING_KEY,
    address_key,
    conversation_key,
    customer_key,
    events_channel,
    optout_key,
)
from bot.storage.store import Store

ERASE_LOCK_TTL_S = 60.0  # the deletes of one customer take milliseconds; a margin for a slow Redis

__all__ = [
    "AddressFormError",
    "CustomerExport",
    "ErasureReport",
    "EventArchive",
    "Privacy",
    "UnknownCustomerError",
    "mask",
    "parse_address",
]

log = logging.getLogger(__name__)


class UnknownCustomerError(LookupError):
    """No customer is known at an address."""

    def __init__(self, address: Address) -> None:
        super().__init__(f"no customer at {mask(address)}")
        self.address = address


class EventArchive(Protocol):
    """Where recorded events are (:class:`~bot.insight.journal.Journal`): a customer's events
    for an export, and their anonymisation (the counts kept, whom they were about forgotten)."""

    async def of_customer(self, cid: str) -> list[JournalEvent]:
        """The customer's events, oldest first."""
        ...

    async def anonymise(self, cid: str) -> int:
        """Detach the customer's events from them; how many were."""
        ...


class ConsentExport(TypedDict):
    """An address's consent: when it opted out (None: it did not)."""

    address: str
    opted_out_at: float | None


class TicketExport(TypedDict):
    """A desk ticket of the customer's conversation."""

    ticket: str
    open: bool


class ConversationExport(TypedDict):
    """A conversation: its state, messages and the agents' notes on it."""

    id: str
    state: str
    escalation: dict[str, Any] | None
    slots: dict[str, str]
    messages: list[MessageDict]
    notes: list[MessageDict]


class CustomerExport(TypedDict):
    """Everything kept about a customer, JSON-ready."""

    customer_id: str
    exported_at: float
    profile: dict[str, str]
    addresses: list[str]
    conversations: list[ConversationExport]
    tickets: list[TicketExport]
    deliveries: dict[str, DeliveryRecord]
    consent: list[ConsentExport]
    events: list[JournalEvent]


class ErasureReport(TypedDict):
    """What an erasure deleted, counted by kind; the address masked."""

    address: str
    erased_at: float
    counts: dict[str, int]


def _address_text(address: Address) -> str:
    return f"{address.channel}:{address.id}"


class Privacy:
    """Exports and erases a customer's data, found from one of their addresses."""

    def __init__(
        self, client: redis.Redis, store: Store | None = None, events: EventArchive | None = None
    ) -> None:
        self._redis = client
        self._store = store or Store(client)
        # the journal's retention matters only to new writes: an anonymised stream keeps its TTL
        self._events: EventArchive = events or Journal(client)

    async def customer_of(self, address: Address) -> str:
        """The customer id at ``address`` (read without renewing it); raises
        :class:`UnknownCustomerError`."""
        cid = await self._redis.get(address_key(address))
        if cid is None:
            raise UnknownCustomerError(address)
        return str(cid)

    async def export(self, address: Address, by: str) -> CustomerExport:
        """Everything kept about the customer at ``address``; ``by`` is who asked (audited)."""
        cid = await self.customer_of(address)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(customer_key(cid, "profile"))
        pipe.smembers(customer_key(cid, "addresses"))
        pipe.hgetall(conversation_key(cid, "delivery"))
        profile, members, delivery = await pipe.execute()
        addresses = sorted({str(m) for m in members} | {_address_text(address)})
        conversations, tickets, events = [], [], []
        for each in (cid, *await self._absorbed(cid)):
            conversation, theirs = await self._conversation(each)
            conversations.append(conversation)
            tickets += theirs
            events += await self._events.of_customer(each)
        data: CustomerExport = {
            "customer_id": cid,
            "exported_at": time.time(),
            "profile": {str(k): str(v) for k, v in profile.items()},
            "addresses": addresses,
            "conversations": conversations,
            "tickets": tickets,
            "deliveries": {str(k): json.loads(str(v)) for k, v in delivery.items()},
            "consent": await self._consent(addresses),
            "events": sorted(events, key=lambda event: event["at"]),
        }
        counts = {
            "messages": sum(len(c["messages"]) for c in conversations),
            "addresses": len(addresses),
            "events": len(events),
        }
        log.info("customer data exported by %s: %s %s", by, mask(address), _counted(counts))
        return data

    async def _conversation(self, cid: str) -> tuple[ConversationExport, list[TicketExport]]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(conversation_key(cid, "meta"))
        pipe.lrange(conversation_key(cid, "history"), 0, -1)
        pipe.lrange(conversation_key(cid, "notes"), 0, -1)
        meta, history, notes = await pipe.execute()
        open_since = await self._redis.zscore(OPEN_TICKETS_KEY, cid)
        tickets: list[TicketExport] = []
        if meta.get("ticket"):
            tickets.append({"ticket": str(meta["ticket"]), "open": open_since is not None})
        if meta.get("previous_ticket"):
            tickets.append({"ticket": str(meta["previous_ticket"]), "open": False})
        conversation: ConversationExport = {
            "id": cid,
            "state": str(meta.get("state", "bot")),
            "escalation": json.loads(meta["escalation"]) if meta.get("escalation") else None,
            "slots": json.loads(meta.get("slots") or "{}"),
            "messages": [json.loads(str(item)) for item in history],
            "notes": [json.loads(str(item)) for item in notes],
        }
        return conversation, tickets

    async def _consent(self, addresses: list[str]) -> list[ConsentExport]:
        found: list[ConsentExport] = []
        for text in addresses:
            stamp = await self._redis.get(optout_key(Address(*text.split(":", 1))))
            found.append({"address": text, "opted_out_at": None if stamp is None else float(stamp)})
        return found

    async def erase(self, address: Address, by: str) -> ErasureReport:
        """Erase everything kept about the customer at ``address``; ``by`` is who asked."""
        cid = await self.customer_of(address)
        members = await self._redis.smembers(customer_key(cid, "addresses"))
        addresses = sorted({Address(*str(m).split(":", 1)) for m in members} | {address})
        counts: Counter[str] = Counter()
        counts["addresses"] = await self._unlink(cid, addresses)
        # the customer's open web chats reconnect, and find their address a fresh customer's
        await self._redis.publish(events_channel(cid), json.dumps(RESYNC))
        absorbed = await self._absorbed(cid)  # before their trail goes with the customer's keys
        for each, theirs in ((cid, addresses), *((other, []) for other in absorbed)):
            tagged = await tagged_keys(self._redis, each)  # before the lock: a SCAN takes a while
            async with self._store.lock(each, ttl_s=ERASE_LOCK_TTL_S):
                # before the keys go: the journal's streams are among the tagged keys
                counts["events_anonymised"] += await self._events.anonymise(each)
                counts.update(await self._erase_held(each, theirs, tagged))
        counts["merged_customers"] = len(absorbed)
        report: ErasureReport = {
            "address": mask(address),
            "erased_at": time.time(),
            "counts": dict(sorted(counts.items())),
        }
        log.info("customer data erased by %s: %s %s", by, mask(address), _counted(counts))
        return report

    async def _absorbed(self, cid: str) -> list[str]:
        """The customers merged into ``cid`` earlier: their own keys outlive the merge until
        they expire (the merge copies, it does not move, their history)."""
        members = await self._redis.smembers(customer_key(cid, "absorbed"))
        return sorted(str(m) for m in members if str(m) != cid)

    async def _unlink(self, cid: str, addresses: list[Address]) -> int:
        """Forget which customer the addresses belong to (only those still pointing to them)."""
        gone = 0
        for address in addresses:
            key = address_key(address)
            if await self._redis.get(key) == cid:
                gone += int(await self._redis.delete(key))
        return gone

    async def _erase_held(
        self, cid: str, addresses: list[Address], tagged: list[str]
    ) -> Counter[str]:
        """Delete the customer's keys and index entries (the conversation's lock held)."""
        counts: Counter[str] = Counter()
        meta = await self._redis.hgetall(conversation_key(cid, "meta"))
        delivery = await self._redis.hgetall(conversation_key(cid, "delivery"))
        records = [json.loads(str(raw)) for raw in delivery.values()]
        vendor_ids = [(r["channel"], r["vendor_id"]) for r in records if "vendor_id" in r]
        tickets = [str(meta[f]) for f in ("ticket", "previous_ticket") if meta.get(f)]
        counts["messages"] = int(await self._redis.llen(conversation_key(cid, "history")))
        counts["notes"] = int(await self._redis.llen(conversation_key(cid, "notes")))
        counts["delivery_records"] = len(records)
        counts["dedup_markers"] = sum(key.startswith("seen:") for key in tagged)
        counts["tickets_closed"] = await self._close_ticket(cid)
        counts["opt_outs"] = await delete_keys(
            self._redis, [optout_key(address) for address in addresses]
        )
        lock = conversation_key(cid, "lock")
        keys = sorted({*own_keys(cid), *tagged} - {lock})
        counts["keys"] = await delete_keys(self._redis, keys)
        counts["keys"] += await delete_keys(self._redis, other_keys(cid, tickets, vendor_ids))
        counts["keys"] += await delete_keys(
            self._redis,
            [key for address in addresses for key in number_limit_keys(address)],
        )
        counts["vendor_ids"] = len(vendor_ids)
        counts["index_entries"] = await self._unindex(cid)
        return counts

    async def _close_ticket(self, cid: str) -> int:
        """Take an open ticket off the desk's list and queue; 1 when there was one."""
        pipe = self._redis.pipeline(transaction=False)  # two keys, two Cluster slots
        pipe.zrem(OPEN_TICKETS_KEY, cid)
        pipe.zrem(WAITING_KEY, cid)
        was_open, _ = await pipe.execute()
        return int(was_open)

    async def _unindex(self, cid: str) -> int:
        """The customer's entries in the shared indexes: desk jobs, outbox schedule, unfinished
        merges and dead letters (those name the customer id; dead letters hold messages)."""
        removed = int(await self._redis.srem(DESK_PENDING_KEY, cid))
        removed += int(await self._redis.zrem(OUTBOX_DUE_KEY, cid))
        merges = [str(m) for m in await self._redis.zrange(MERGES_KEY, 0, -1)]
        mine = [m for m in merges if cid in m.split(" ")]
        if mine:
            removed += int(await self._redis.zrem(MERGES_KEY, *mine))
        dead = [str(d) for d in await self._redis.zrange(DEAD_LETTER_KEY, 0, -1)]
        theirs = [d for d in dead if json.loads(d).get("conversation") == cid]
        if theirs:
            removed += int(await self._redis.zrem(DEAD_LETTER_KEY, *theirs))
        return removed


def _counted(counts: dict[str, int] | Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
