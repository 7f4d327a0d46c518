"""Opt-outs on a real Redis (and Redis Cluster): per address, kept until the address opts in."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.delivery.consent import Consent
from bot.models import Address
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER

PHONE = Address("sms", "+15557654321")


async def test_an_opt_out_holds_until_the_address_opts_in(redis_client: aioredis.Redis) -> None:
    consent = Consent(redis_client)
    assert not await consent.opted_out(PHONE)
    await consent.opt_out(PHONE)
    assert await consent.opted_out(PHONE)
    assert not await consent.opted_out(Address("webchat", PHONE.id))  # per channel
    assert await redis_client.ttl("optout:sms:+15557654321") == -1  # kept without expiry
    assert await Consent(redis_client).opted_out(PHONE)  # in Redis, for every process
    await consent.opt_in(PHONE)
    assert not await consent.opted_out(PHONE)
