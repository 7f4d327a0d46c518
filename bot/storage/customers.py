"""Customers in Redis: the addresses that reach them and their profile.

:class:`CustomerStore` is the customer half of :class:`bot.storage.store.Store` (which adds the
conversation's writes); callers use it through ``Store``. An address links to its customer under
its own key (another Redis Cluster slot than the customer's keys).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import redis.asyncio as redis

from bot.models import Address, Customer, new_id
from bot.models.conversation import PROFILE_FIELDS, TRANSIENT_SLOTS
from bot.storage.codec import ATTRIBUTE, IP_FIELD, decode_customer
from bot.storage.keys import address_key, customer_key

__all__ = ["CustomerStore"]


class CustomerStore:
    """Async access to customers: which customer an address reaches, their profile."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        """Everything of a customer expires after ``retention_days`` without activity."""
        self._redis = client
        self.ttl_s = max(1, int(retention_days * 86400))

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
            await self.add_address(cid, address)
            return cid
        raced = await self.customer_for(address)  # another process created it first
        assert raced is not None
        return raced

    async def add_address(self, cid: str, address: Address) -> None:
        """Attach ``address`` to customer ``cid`` (so both reach one conversation)."""
        profile, addresses = customer_key(cid, "profile"), customer_key(cid, "addresses")
        # not one transaction: the address key lives in another Redis Cluster slot; each step
        # is idempotent, so a repeat after a failure completes the link
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(address_key(address), cid, ex=self.ttl_s)
        pipe.hsetnx(profile, "created", str(time.time()))
        pipe.sadd(addresses, f"{address.channel}:{address.id}")
        pipe.expire(profile, self.ttl_s)
        pipe.expire(addresses, self.ttl_s)
        await pipe.execute()

    async def remove_address(self, cid: str, address: Address) -> None:
        """Detach ``address`` from customer ``cid`` (its history stays with the customer)."""
        if await self.customer_for(address) == cid:
            await self._redis.delete(address_key(address))
        await self._redis.srem(customer_key(cid, "addresses"), f"{address.channel}:{address.id}")

    async def customer(self, cid: str) -> Customer:
        """The customer's profile with every linked address."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(customer_key(cid, "profile"))
        pipe.smembers(customer_key(cid, "addresses"))
        profile, members = await pipe.execute()
        return decode_customer(cid, profile, members)

    async def seen_from(self, cid: str, ip: str) -> None:
        """Note where the customer's web chat connects from (per-IP limits of what they ask)."""
        await self._redis.hset(customer_key(cid, "profile"), IP_FIELD, ip)

    async def remember(self, cid: str, facts: Mapping[str, str]) -> None:
        """Keep ``facts`` on the customer's profile: its fields (name, e-mail, phone, language)
        and, under their own names, any other attributes (slots an action set)."""
        values: dict[str | bytes | bytearray | memoryview | int | float, str] = {
            (name if name in PROFILE_FIELDS else ATTRIBUTE + name): value
            for name, value in facts.items()
            if name not in TRANSIENT_SLOTS and value
        }
        if not values:
            return
        key = customer_key(cid, "profile")
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(key, mapping=values)
        pipe.expire(key, self.ttl_s)
        await pipe.execute()
