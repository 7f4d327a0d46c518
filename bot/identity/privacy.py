"""A customer's data on request: everything kept about them (export) and its erasure (erase).

Both start from one of the customer's addresses (``+447700900123``, ``webchat:<visitor id>``)
and are audited in the log: who asked, the address masked, what was exported or erased counted
by kind; never a message's text. Where the data lies is :mod:`bot.storage.customer_data`'s; how an
address is read and masked, :mod:`bot.identity.address_text`'s; what an export holds,
:mod:`bot.identity.customer_export`'s; the deletes, :mod:`bot.identity.erasure`'s.

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
from typing import Protocol

import redis.asyncio as redis

from bot.events import RESYNC
from bot.identity.address_text import mask
from bot.identity.customer_export import CustomerExport, consent_export, conversation_export
from bot.identity.erasure import ErasureReport, erase_held, unlink
from bot.insight.journal import Journal, JournalEvent
from bot.models import Address
from bot.storage.customer_data import tagged_keys
from bot.storage.keys import address_key, conversation_key, customer_key, events_channel
from bot.storage.store import Store

ERASE_LOCK_TTL_S = 60.0  # the deletes of one customer take milliseconds; a margin for a slow Redis

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
            conversation, theirs = await conversation_export(self._redis, each)
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
            "consent": await consent_export(self._redis, addresses),
            "events": sorted(events, key=lambda event: event["at"]),
        }
        counts = {
            "messages": sum(len(c["messages"]) for c in conversations),
            "addresses": len(addresses),
            "events": len(events),
        }
        log.info("customer data exported by %s: %s %s", by, mask(address), _counted(counts))
        return data

    async def erase(self, address: Address, by: str) -> ErasureReport:
        """Erase everything kept about the customer at ``address``; ``by`` is who asked."""
        cid = await self.customer_of(address)
        members = await self._redis.smembers(customer_key(cid, "addresses"))
        addresses = sorted({Address(*str(m).split(":", 1)) for m in members} | {address})
        counts: Counter[str] = Counter()
        counts["addresses"] = await unlink(self._redis, cid, addresses)
        # the customer's open web chats reconnect, and find their address a fresh customer's
        await self._redis.publish(events_channel(cid), json.dumps(RESYNC))
        absorbed = await self._absorbed(cid)  # before their trail goes with the customer's keys
        for each, theirs in ((cid, addresses), *((other, []) for other in absorbed)):
            tagged = await tagged_keys(self._redis, each)  # before the lock: a SCAN takes a while
            async with self._store.lock(each, ttl_s=ERASE_LOCK_TTL_S):
                # before the keys go: the journal's streams are among the tagged keys
                counts["events_anonymised"] += await self._events.anonymise(each)
                counts.update(await erase_held(self._redis, each, theirs, tagged))
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


def _counted(counts: dict[str, int] | Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
