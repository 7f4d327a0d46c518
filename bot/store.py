"""Customers and conversations in Redis: identities, history, meta, accept, lock.

This module, :mod:`bot.deliveries` and :mod:`bot.desk_queue` own how omnibot's data is
encoded in Redis (key names in :mod:`bot.keys`); :mod:`bot.hub` only listens to the events
published here, and :mod:`bot.app` only creates the client.

A customer has one conversation; its id is the customer id. Everything of a customer expires
after ``retention_days`` without activity.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TypedDict

import redis.asyncio as redis
from redis.asyncio.lock import Lock

from bot.events import message_event, state_event
from bot.keys import address_key, conversation_key, customer_key, events_channel, seen_key
from bot.models import Address, Conversation, Customer, Escalation, Message, State, new_id

HISTORY_CAP = 500
LOCK_TTL_S = 30.0
LOCK_WAIT_S = 20.0
DEDUP_TTL_S = 24 * 3600

# Claims the vendor id, numbers the message, appends it and publishes it: one round trip, so
# a message is either stored once with its dedup marker or not at all.
# KEYS: seen, history, meta, profile, addresses. ARGV: dedup ttl, the message's JSON without
# its opening brace, history cap, retention ttl, events channel, last channel, last id.
_ACCEPT_SCRIPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local seq = redis.call('HINCRBY', KEYS[3], 'received', 1)
local message = '{"seq": ' .. seq .. ', ' .. ARGV[2]
redis.call('RPUSH', KEYS[2], message)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('HSET', KEYS[3], 'last_channel', ARGV[6], 'last_id', ARGV[7])
for i = 2, 5 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
redis.call('PUBLISH', ARGV[5], '{"type": "message", "message": ' .. message .. '}')
return seq
"""


class MetaUpdate(TypedDict, total=False):
    """Conversation fields to change in one write; ``None`` clears a field."""

    state: State
    misunderstood: int
    ticket: str | None
    agent: str | None
    last_address: Address
    expect: str | None
    slots: dict[str, str] | None
    answered: int
    escalation: Escalation | None
    previous_ticket: str | None
    notified_at: float


@dataclass(frozen=True)
class Accepted:
    """A customer message stored by :meth:`Store.accept`: its conversation and number."""

    conversation_id: str
    seq: int


def _encode_meta(update: MetaUpdate) -> tuple[dict[str, str], list[str]]:
    """The hash fields to set and those to delete for ``update``."""
    values: dict[str, str | None] = {}
    for name, value in update.items():
        if name == "last_address":
            assert isinstance(value, Address)
            values.update(last_channel=value.channel, last_id=value.id)
        elif name in ("slots", "escalation"):
            values[name] = (
                None
                if value is None
                else json.dumps(asdict(value) if isinstance(value, Escalation) else value)
            )
        else:
            values[name] = None if value is None else str(value)
    return (
        {k: v for k, v in values.items() if v is not None},
        [k for k, v in values.items() if v is None],
    )


class Store:
    """Async access to customers and conversations in Redis."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        self._redis = client
        self.ttl_s = max(1, int(retention_days * 86400))
        self._accept = client.register_script(_ACCEPT_SCRIPT)

    async def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(await self._redis.ping())

    # identities -------------------------------------------------------------------------

    async def customer_for(self, address: Address) -> str | None:
        """The customer id linked to ``address``, if any."""
        # GETEX refreshes the link: an active customer never loses an address to retention.
        value = await self._redis.getex(address_key(address), ex=self.ttl_s)
        return None if value is None else str(value)

    async def resolve(self, address: Address) -> str:
        """The customer id of ``address``, creating the customer when it is new."""
        existing = await self.customer_for(address)
        if existing is not None:
            return existing
        cid = new_id()
        if await self._redis.set(address_key(address), cid, nx=True, ex=self.ttl_s):
            await self.link(cid, address)
            return cid
        raced = await self.customer_for(address)  # another process created it first
        assert raced is not None
        return raced

    async def link(self, cid: str, address: Address) -> None:
        """Attach ``address`` to customer ``cid`` (so both reach one conversation)."""
        profile, addresses = customer_key(cid, "profile"), customer_key(cid, "addresses")
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(address_key(address), cid, ex=self.ttl_s)
        pipe.hsetnx(profile, "created", str(time.time()))
        pipe.sadd(addresses, f"{address.channel}:{address.id}")
        pipe.expire(profile, self.ttl_s)
        pipe.expire(addresses, self.ttl_s)
        await pipe.execute()

    async def customer(self, cid: str) -> Customer:
        """The customer's profile with every linked address."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(customer_key(cid, "profile"))
        pipe.smembers(customer_key(cid, "addresses"))
        profile, members = await pipe.execute()
        addresses = tuple(sorted(Address(*m.split(":", 1)) for m in members))
        return Customer(id=cid, addresses=addresses, name=profile.get("name"))

    # conversations ----------------------------------------------------------------------

    async def accept(
        self, cid: str, address: Address, dedup_id: str, message: Message
    ) -> Accepted | None:
        """Store a customer's message once per vendor id; None when it is a duplicate.

        The message is numbered (``seq``) and the conversation's last address updated in the
        same atomic step; the message is published to the conversation's listeners.
        """
        body = json.dumps(message.to_dict())
        seq = await self._accept(
            keys=[
                seen_key(cid, address.channel, dedup_id),
                conversation_key(cid, "history"),
                conversation_key(cid, "meta"),
                customer_key(cid, "profile"),
                customer_key(cid, "addresses"),
            ],
            args=[
                DEDUP_TTL_S,
                body[1:],
                HISTORY_CAP,
                self.ttl_s,
                events_channel(cid),
                address.channel,
                address.id,
            ],
        )
        return Accepted(cid, int(seq)) if seq else None

    def lock(self, cid: str) -> Lock:
        """The conversation's lock, shared by every process using this Redis."""
        return self._redis.lock(
            conversation_key(cid, "lock"), timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S
        )

    async def load(self, cid: str) -> Conversation:
        """The conversation of customer ``cid`` (a new one in state ``bot`` when none exists)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(conversation_key(cid, "meta"))
        pipe.lrange(conversation_key(cid, "history"), 0, -1)
        meta, raw = await pipe.execute()
        last = None
        if meta.get("last_channel") and meta.get("last_id"):
            last = Address(meta["last_channel"], meta["last_id"])
        return Conversation(
            id=cid,
            customer_id=cid,
            state=State(meta.get("state", State.BOT.value)),
            messages=tuple(Message.from_dict(json.loads(item)) for item in raw),
            misunderstood=int(meta.get("misunderstood", 0)),
            ticket=meta.get("ticket"),
            agent=meta.get("agent"),
            last_address=last,
            expect=meta.get("expect"),
            slots=json.loads(meta.get("slots") or "{}"),
            answered=int(meta.get("answered", 0)),
            escalation=Escalation(**json.loads(meta["escalation"]))
            if "escalation" in meta
            else None,
            previous_ticket=meta.get("previous_ticket"),
            notified_at=float(meta.get("notified_at", 0.0)),
        )

    async def record(
        self, cid: str, messages: Sequence[Message] = (), meta: MetaUpdate | None = None
    ) -> None:
        """Atomically append ``messages``, apply ``meta`` and publish both as events.

        State changes are published as ``state`` events after the messages, in one MULTI, so
        every listener sees the same order as the history.
        """
        history, meta_key = conversation_key(cid, "history"), conversation_key(cid, "meta")
        pipe = self._redis.pipeline(transaction=True)
        for message in messages:
            encoded = message.to_dict()
            pipe.rpush(history, json.dumps(encoded))
            pipe.publish(events_channel(cid), message_event(encoded))
        if messages:
            pipe.ltrim(history, -HISTORY_CAP, -1)
        if meta:
            values, cleared = _encode_meta(meta)
            for name, value in values.items():
                pipe.hset(meta_key, name, value)
            if cleared:
                pipe.hdel(meta_key, *cleared)
            if "state" in meta:
                pipe.publish(events_channel(cid), state_event(meta["state"].value))
        for key in (
            history,
            meta_key,
            customer_key(cid, "profile"),
            customer_key(cid, "addresses"),
        ):
            pipe.expire(key, self.ttl_s)
        await pipe.execute()
