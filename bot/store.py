"""The only module that speaks Redis: identities, conversations, history, locks and dedup keys.

Key layout (every key of one conversation carries the same hash tag, so it lives in one slot):

- ``addr:<channel>:<id>``          -> customer id (identity link)
- ``cust:{<cid>}:profile``          hash: created, name
- ``cust:{<cid>}:addresses``        set of ``<channel>:<id>``
- ``conv:{<cid>}:meta``             hash: state, misunderstood, ticket, agent, last address,
                                    expect, slots (JSON)
- ``conv:{<cid>}:history``          list of JSON messages, capped at ``HISTORY_CAP``
- ``conv:{<cid>}:lock``             the per-conversation lock (token + Lua release)
- ``conv:{<cid>}:events``           pub/sub channel of the conversation's events
- ``seen:<channel>:<id>``           dedup marker of a vendor message id
- ``outbox:dead``                   messages that could not be delivered (newest first)

A customer has one conversation; its id is the customer id. Everything of a customer expires
after ``retention_days`` without activity.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import redis.asyncio as redis
from redis.asyncio.lock import Lock

from bot.models import Address, Conversation, Customer, Message, State, new_id

HISTORY_CAP = 500
LOCK_TTL_S = 30.0
LOCK_WAIT_S = 20.0
DEDUP_PENDING_TTL_S = 60
DEDUP_DONE_TTL_S = 24 * 3600
EVENTS_PATTERN = "conv:*:events"
DEAD_LETTER_KEY = "outbox:dead"
DEAD_LETTER_CAP = 10_000

_CLAIM_SCRIPT = """
if redis.call('SET', KEYS[1], 'pending', 'NX', 'EX', ARGV[1]) then return 'new' end
return redis.call('GET', KEYS[1]) or 'new'
"""


class Claim(StrEnum):
    """The outcome of claiming a vendor message id."""

    NEW = "new"
    PENDING = "pending"
    DONE = "done"


def _conv(cid: str, part: str) -> str:
    return f"conv:{{{cid}}}:{part}"


def events_channel(cid: str) -> str:
    """The pub/sub channel carrying one conversation's events."""
    return _conv(cid, "events")


def conversation_of_channel(channel: str) -> str | None:
    """The conversation id of an events channel name, or None for another channel."""
    if channel.startswith("conv:{") and channel.endswith("}:events"):
        return channel[len("conv:{"):-len("}:events")]
    return None


class Store:
    """Async access to omnibot's data in Redis."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        self.redis = client
        self.ttl_s = max(1, int(retention_days * 86400))
        self._claim = client.register_script(_CLAIM_SCRIPT)

    async def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(await self.redis.ping())

    # identities -------------------------------------------------------------------------

    async def customer_for(self, address: Address) -> str | None:
        """The customer id linked to ``address``, if any."""
        # GETEX refreshes the link: an active customer never loses an address to retention.
        value = await self.redis.getex(f"addr:{address.channel}:{address.id}", ex=self.ttl_s)
        return None if value is None else str(value)

    async def resolve(self, address: Address) -> str:
        """The customer id of ``address``, creating the customer when it is new."""
        existing = await self.customer_for(address)
        if existing is not None:
            return existing
        cid = new_id()
        if await self.redis.set(f"addr:{address.channel}:{address.id}", cid, nx=True,
                                ex=self.ttl_s):
            await self.link(cid, address)
            return cid
        raced = await self.customer_for(address)  # another process created it first
        assert raced is not None
        return raced

    async def link(self, cid: str, address: Address) -> None:
        """Attach ``address`` to customer ``cid`` (so both reach one conversation)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(f"addr:{address.channel}:{address.id}", cid, ex=self.ttl_s)
        pipe.hsetnx(f"cust:{{{cid}}}:profile", "created", str(time.time()))
        pipe.sadd(f"cust:{{{cid}}}:addresses", f"{address.channel}:{address.id}")
        pipe.expire(f"cust:{{{cid}}}:profile", self.ttl_s)
        pipe.expire(f"cust:{{{cid}}}:addresses", self.ttl_s)
        await pipe.execute()

    async def customer(self, cid: str) -> Customer:
        """The customer's profile with every linked address."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(f"cust:{{{cid}}}:profile")
        pipe.smembers(f"cust:{{{cid}}}:addresses")
        profile, members = await pipe.execute()
        addresses = tuple(sorted(Address(*m.split(":", 1)) for m in members))
        return Customer(id=cid, addresses=addresses, name=profile.get("name"))

    # dedup ------------------------------------------------------------------------------

    async def claim(self, channel: str, dedup_id: str) -> Claim:
        """Atomically claim a vendor message id before any side effect of handling it.

        ``PENDING`` means another worker holds it (or died holding it: the claim expires after
        ``DEDUP_PENDING_TTL_S`` so a later retry is handled); ``DONE`` means it was handled.
        """
        result = await self._claim(keys=[f"seen:{channel}:{dedup_id}"],
                                   args=[DEDUP_PENDING_TTL_S])
        return Claim(str(result))

    async def mark_done(self, channel: str, dedup_id: str) -> None:
        """Record that the message is safely stored, so every retry is a duplicate."""
        await self.redis.set(f"seen:{channel}:{dedup_id}", Claim.DONE.value, ex=DEDUP_DONE_TTL_S)

    async def release_claim(self, channel: str, dedup_id: str) -> None:
        """Give a claim back when handling failed before anything was stored."""
        await self.redis.delete(f"seen:{channel}:{dedup_id}")

    # conversations ----------------------------------------------------------------------

    def lock(self, cid: str) -> Lock:
        """The conversation's lock, shared by every process using this Redis."""
        return self.redis.lock(_conv(cid, "lock"), timeout=LOCK_TTL_S,
                               blocking_timeout=LOCK_WAIT_S)

    async def load(self, cid: str) -> Conversation:
        """The conversation of customer ``cid`` (a new one in state ``bot`` when none exists)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(_conv(cid, "meta"))
        pipe.lrange(_conv(cid, "history"), 0, -1)
        meta, raw = await pipe.execute()
        last = None
        if meta.get("last_channel") and meta.get("last_id"):
            last = Address(meta["last_channel"], meta["last_id"])
        return Conversation(
            id=cid, customer_id=cid, state=State(meta.get("state", State.BOT.value)),
            messages=tuple(Message.from_dict(json.loads(item)) for item in raw),
            misunderstood=int(meta.get("misunderstood", 0)), ticket=meta.get("ticket") or None,
            agent=meta.get("agent") or None, last_address=last,
            expect=meta.get("expect") or None, slots=json.loads(meta.get("slots") or "{}"))

    async def record(self, cid: str, messages: tuple[Message, ...] = (),
                     meta: Mapping[str, str | int] | None = None) -> None:
        """Atomically append ``messages``, update ``meta`` and publish both as events.

        State changes are published as ``state`` events after the messages, in one MULTI, so
        every listener sees the same order as the history.
        """
        history, meta_key = _conv(cid, "history"), _conv(cid, "meta")
        pipe = self.redis.pipeline(transaction=True)
        for message in messages:
            pipe.rpush(history, json.dumps(message.to_dict()))
            pipe.publish(events_channel(cid), _event("message", message=message.to_dict()))
        pipe.ltrim(history, -HISTORY_CAP, -1)
        pipe.expire(history, self.ttl_s)
        if meta:
            for name, value in meta.items():
                pipe.hset(meta_key, name, str(value))
            if "state" in meta:
                pipe.publish(events_channel(cid), _event("state", state=str(meta["state"])))
        for key in (meta_key, f"cust:{{{cid}}}:profile", f"cust:{{{cid}}}:addresses"):
            pipe.expire(key, self.ttl_s)
        await pipe.execute()

    # delivery failures ------------------------------------------------------------------

    async def dead_letter(self, entry: Mapping[str, Any]) -> None:
        """Keep an undeliverable message where operators can see it."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.lpush(DEAD_LETTER_KEY, json.dumps(dict(entry)))
        pipe.ltrim(DEAD_LETTER_KEY, 0, DEAD_LETTER_CAP - 1)
        await pipe.execute()

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest undeliverable messages."""
        return [json.loads(item) for item in await self.redis.lrange(DEAD_LETTER_KEY, 0,
                                                                     limit - 1)]


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})
