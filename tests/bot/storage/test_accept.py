"""A customer's message stored once, against a real Redis (and Redis Cluster): dedup by vendor
id, numbering, work queued for every unanswered repeat, one winner of concurrent accepts, the
rate limit."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.models import Address, Message, Role
from bot.storage.accept import DEDUP_TTL_S, RateLimitedError
from bot.storage.keys import WORK_FIELD, work_stream
from bot.storage.store import Store
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER


async def test_a_vendor_id_is_remembered_for_the_retention_period_not_a_day(
    redis_client: aioredis.Redis, store: Store
) -> None:
    address = Address("sms", "+15557654321")
    cid = await store.resolve(address)
    await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="STOP"))
    await store.record(cid, meta={"answered": 1})
    seen = f"seen:{{{cid}}}:sms:SM1"
    assert await redis_client.ttl(seen) > 29 * 86400
    # a captured webhook replayed after the old one-day window: still a repeat, not stored
    await redis_client.expire(seen, 30 * 86400 - DEDUP_TTL_S - 3600)
    assert await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="STOP")) is None
    assert [m.text for m in (await store.load(cid)).messages] == ["STOP"]


async def test_accept_stores_a_vendor_id_once_and_numbers_messages(store: Store) -> None:
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    first = await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="a"))
    again = await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="a"))
    second = await store.accept(cid, address, "SM2", Message(role=Role.CUSTOMER, text="b"))
    assert first is not None
    assert second is not None
    assert again is not None
    assert (first.seq, second.seq, first.new, second.new) == (1, 2, True, True)
    assert (again.seq, again.new) == (1, False)  # still unanswered: its work is queued again
    conversation = await store.load(cid)
    assert [(m.text, m.seq) for m in conversation.messages] == [("a", 1), ("b", 2)]
    assert conversation.last_address == address
    assert [m.text for m in conversation.unanswered()] == ["a", "b"]
    await store.record(cid, meta={"answered": 1})
    assert [m.text for m in (await store.load(cid)).unanswered()] == ["b"]
    assert await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="a")) is None


async def test_every_accept_of_an_unanswered_message_queues_work(
    redis_client: aioredis.Redis, store: Store
) -> None:
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    for _ in range(2):
        await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="a"))
    entries = await redis_client.xrange(work_stream("sms"))  # the channel's own stream
    assert entries is not None
    assert [fields for _, fields in entries] == [{WORK_FIELD: cid}] * 2
    await store.record(cid, meta={"answered": 1})
    await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="a"))
    assert await redis_client.xlen(work_stream("sms")) == 2
    assert await redis_client.xlen(work_stream("webchat")) == 0


async def test_concurrent_accepts_have_one_winner(store: Store) -> None:
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    results = await asyncio.gather(
        *(
            store.accept(cid, address, "SMx", Message(role=Role.CUSTOMER, text="hi"))
            for _ in range(20)
        )
    )
    assert sum(result is not None and result.new for result in results) == 1
    assert len((await store.load(cid)).messages) == 1


async def test_a_customer_over_the_rate_limit_is_refused_and_nothing_is_stored(
    redis_client: aioredis.Redis,
) -> None:
    store = Store(redis_client, rate_limit=(3, 60))
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    for sid in ("SM1", "SM2", "SM3"):
        await store.accept(cid, address, sid, Message(role=Role.CUSTOMER, text=sid))
    repeat = await store.accept(cid, address, "SM3", Message(role=Role.CUSTOMER, text="SM3"))
    assert repeat is not None  # a repeat is no new message: never refused for the rate
    with pytest.raises(RateLimitedError) as refused:
        await store.accept(cid, address, "SM4", Message(role=Role.CUSTOMER, text="SM4"))
    assert 0 < refused.value.retry_after_s <= 60
    assert [m.text for m in (await store.load(cid)).messages] == ["SM1", "SM2", "SM3"]
    other = Address("sms", "+15550002")  # nobody else is slowed
    assert await store.accept(
        await store.resolve(other), other, "SM1", Message(role=Role.CUSTOMER, text="hi")
    )
