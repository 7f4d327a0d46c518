"""Deleting a customer's data (:meth:`bot.identity.privacy.Privacy.erase`): their addresses'
links, their keys and their entries in the shared indexes, each counted by kind."""

from __future__ import annotations

import json
from collections import Counter
from typing import TypedDict

import redis.asyncio as redis

from bot.models import Address
from bot.storage.customer_data import delete_keys, number_limit_keys, other_keys, own_keys
from bot.storage.keys import (
    DEAD_LETTER_KEY,
    DESK_PENDING_KEY,
    MERGES_KEY,
    OPEN_TICKETS_KEY,
    OUTBOX_DUE_KEY,
    WAITING_KEY,
    address_key,
    conversation_key,
    optout_key,
)


class ErasureReport(TypedDict):
    """What an erasure deleted, counted by kind; the address masked."""

    address: str
    erased_at: float
    counts: dict[str, int]


async def unlink(client: redis.Redis, cid: str, addresses: list[Address]) -> int:
    """Forget which customer the addresses belong to (only those still pointing to them)."""
    gone = 0
    for address in addresses:
        key = address_key(address)
        if await client.get(key) == cid:
            gone += int(await client.delete(key))
    return gone


async def erase_held(
    client: redis.Redis, cid: str, addresses: list[Address], tagged: list[str]
) -> Counter[str]:
    """Delete the customer's keys and index entries (the conversation's lock held)."""
    counts: Counter[str] = Counter()
    meta = await client.hgetall(conversation_key(cid, "meta"))
    delivery = await client.hgetall(conversation_key(cid, "delivery"))
    records = [json.loads(str(raw)) for raw in delivery.values()]
    vendor_ids = [(r["channel"], r["vendor_id"]) for r in records if "vendor_id" in r]
    tickets = [str(meta[f]) for f in ("ticket", "previous_ticket") if meta.get(f)]
    counts["messages"] = int(await client.llen(conversation_key(cid, "history")))
    counts["notes"] = int(await client.llen(conversation_key(cid, "notes")))
    counts["delivery_records"] = len(records)
    counts["dedup_markers"] = sum(key.startswith("seen:") for key in tagged)
    counts["tickets_closed"] = await _close_ticket(client, cid)
    counts["opt_outs"] = await delete_keys(client, [optout_key(address) for address in addresses])
    lock = conversation_key(cid, "lock")
    keys = sorted({*own_keys(cid), *tagged} - {lock})
    counts["keys"] = await delete_keys(client, keys)
    counts["keys"] += await delete_keys(client, other_keys(cid, tickets, vendor_ids))
    counts["keys"] += await delete_keys(
        client,
        [key for address in addresses for key in number_limit_keys(address)],
    )
    counts["vendor_ids"] = len(vendor_ids)
    counts["index_entries"] = await _unindex(client, cid)
    return counts


async def _close_ticket(client: redis.Redis, cid: str) -> int:
    """Take an open ticket off the desk's list and queue; 1 when there was one."""
    pipe = client.pipeline(transaction=False)  # two keys, two Cluster slots
    pipe.zrem(OPEN_TICKETS_KEY, cid)
    pipe.zrem(WAITING_KEY, cid)
    was_open, _ = await pipe.execute()
    return int(was_open)


async def _unindex(client: redis.Redis, cid: str) -> int:
    """The customer's entries in the shared indexes: desk jobs, outbox schedule, unfinished
    merges and dead letters (those name the customer id; dead letters hold messages)."""
    removed = int(await client.srem(DESK_PENDING_KEY, cid))
    removed += int(await client.zrem(OUTBOX_DUE_KEY, cid))
    merges = [str(m) for m in await client.zrange(MERGES_KEY, 0, -1)]
    mine = [m for m in merges if cid in m.split(" ")]
    if mine:
        removed += int(await client.zrem(MERGES_KEY, *mine))
    dead = [str(d) for d in await client.zrange(DEAD_LETTER_KEY, 0, -1)]
    theirs = [d for d in dead if json.loads(d).get("conversation") == cid]
    if theirs:
        removed += int(await client.zrem(DEAD_LETTER_KEY, *theirs))
    return removed
