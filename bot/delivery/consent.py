"""Consent to be written to: an address that opted out (SMS STOP) is sent nothing more until it
opts in again (START). The marker is kept without expiry: a customer's STOP outlives the
retention of their conversation."""

from __future__ import annotations

import time

import redis.asyncio as redis

from bot.models import Address
from bot.storage.keys import optout_key


class Consent:
    """Opt-outs in Redis, per address."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def opt_out(self, address: Address) -> None:
        """Send nothing more to ``address`` until it opts in again."""
        await self._redis.set(optout_key(address), str(time.time()))

    async def opt_in(self, address: Address) -> None:
        """Lift an opt-out."""
        await self._redis.delete(optout_key(address))

    async def opted_out(self, address: Address) -> bool:
        """Whether ``address`` opted out."""
        return bool(await self._redis.exists(optout_key(address)))
