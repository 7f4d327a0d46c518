"""Where one customer's data lies in Redis, from the key registry (:mod:`bot.storage.keys`).

A customer's own keys carry the customer id as their hash tag (``{<cid>}``): their families are
listed here, and the keys of a family the registry does not name (the dedup markers
``seen:{<cid>}:<channel>:<vendor id>``, whose vendor ids are stored nowhere else) are found by
that tag. On Redis Cluster the tag is one slot, and ``CLUSTER GETKEYSINSLOT`` lists that slot's
keys only; a single Redis has no such index, so there it takes a ``SCAN`` of the keyspace with a
``MATCH`` on the tag (O(keys), run only by an erasure, never on the message path).

Keys elsewhere (another slot each) are computed from what the customer's keys hold: their
addresses (``addr:``, ``optout:``, the code limit of a phone), tickets (``ticket:``) and the
vendor ids of their delivery records (``vendor:``).
"""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

from bot.models import Address, Channel
from bot.storage.keys import (
    conversation_key,
    customer_key,
    limit_key,
    ticket_key,
    vendor_key,
)

CUSTOMER_PARTS = (
    "profile",
    "addresses",
    "code",
    "merged",
    "absorbed",
    "via_link",
    "typed",
    "anon",
)
# the lock is the one taken while erasing: released (deleted) by its holder, never by a delete
CONVERSATION_PARTS = (
    "meta",
    "history",
    "outbox",
    "sendlock",
    "delivery",
    "notes",
    "desk",
    "rate",
    "shown",
    "desklock",
)
# keys a SCAN call looks at: ~2 ms of the server each, so others never wait longer (10,000
# held it ~19 ms a call and was no faster: bench/customer_data.py)
SCAN_COUNT = 1000
# the per-customer and per-number limits of phone codes (bot.identity.verification)
CODE_LIMIT_SCOPES = ("code-customer", "code-number")


def tag(cid: str) -> str:
    """The hash tag every key of customer ``cid`` carries."""
    return f"{{{cid}}}"


def own_keys(cid: str) -> list[str]:
    """The registry's keys of customer ``cid`` (one Cluster slot), but the conversation lock."""
    return [customer_key(cid, part) for part in CUSTOMER_PARTS] + [
        conversation_key(cid, part) for part in CONVERSATION_PARTS
    ]


def number_limit_keys(address: Address) -> list[str]:
    """The phone-code limit named after an address (a phone's; none for another channel)."""
    if address.channel == Channel.SMS:
        return [limit_key(CODE_LIMIT_SCOPES[1], address.id)]
    return []


def other_keys(cid: str, tickets: list[str], vendor_ids: list[tuple[str, str]]) -> list[str]:
    """Keys of the customer in other slots: their tickets, vendor message ids, code limit."""
    return (
        [ticket_key(ticket) for ticket in tickets]
        + [vendor_key(channel, vendor_id) for channel, vendor_id in vendor_ids]
        + [limit_key(CODE_LIMIT_SCOPES[0], cid)]
    )


async def tagged_keys(client: redis.Redis, cid: str) -> list[str]:
    """Every key carrying customer ``cid``'s hash tag (the registry's and any other family)."""
    marker = tag(cid)
    if isinstance(client, RedisCluster):
        found = await _slot_keys(client, marker)
    else:
        found = [
            str(key)
            async for key in client.scan_iter(match=f"*{_escaped(marker)}*", count=SCAN_COUNT)
        ]
    return sorted({key for key in found if marker in key})


async def _slot_keys(client: RedisCluster, marker: str) -> list[str]:
    """The keys of the slot ``marker`` hashes to (its node only; no other node is read)."""
    slot = client.keyslot(marker)
    total = int(await client.execute_command("CLUSTER COUNTKEYSINSLOT", slot))
    if total == 0:
        return []
    keys = await client.execute_command("CLUSTER GETKEYSINSLOT", slot, max(total, 1))
    return [key.decode() if isinstance(key, bytes) else str(key) for key in keys]


async def delete_keys(client: redis.Redis, keys: list[str]) -> int:
    """Delete ``keys`` one command each (any slots, Cluster-safe); how many existed."""
    if not keys:
        return 0
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.delete(key)
    return sum(int(result) for result in await pipe.execute())


def _escaped(text: str) -> str:
    """``text`` matched literally in a SCAN pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
