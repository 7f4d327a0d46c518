"""The store against a real Redis: identities, history, meta, retention, hash tags, lock, profile
(accepting a message: test_accept.py; the conversation's write: test_record.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from bot.delivery.records import Deliveries
from bot.insight.journal import day_of
from bot.models import Address, Message, Role, State
from bot.storage.keys import (
    conversation_key,
    journal_key,
    work_stream,
)
from bot.storage.lock import RECENT, LockTimeoutError
from bot.storage.store import Store
from tests.conftest import ON_SERVER_AND_CLUSTER, ClientFactory

pytestmark = ON_SERVER_AND_CLUSTER


async def test_resolve_creates_once_and_links_addresses(store: Store) -> None:
    web_address = Address("webchat", "tok")
    cid = await store.resolve(web_address)
    assert await store.resolve(web_address) == cid
    await store.add_address(cid, Address("sms", "+15550001"))
    assert await store.resolve(Address("sms", "+15550001")) == cid
    customer = await store.customer(cid)
    assert customer.addresses == (Address("sms", "+15550001"), web_address)


async def test_concurrent_resolve_yields_one_customer(
    new_client: ClientFactory, store: Store
) -> None:
    others = [new_client() for _ in range(5)]
    try:
        ids = await asyncio.gather(*(Store(c).resolve(Address("sms", "+1")) for c in others))
    finally:
        for client in others:
            await client.aclose()
    assert len(set(ids)) == 1


async def test_new_conversation_is_empty_and_with_the_bot(store: Store) -> None:
    conversation = await store.load("nobody")
    assert conversation.messages == ()
    assert conversation.state is State.BOT
    assert conversation.ticket is None


async def test_every_key_of_a_customer_gets_the_retention_ttl(redis_client: aioredis.Redis) -> None:
    store = Store(redis_client, retention_days=2)
    address = Address("webchat", "t")
    cid = await store.resolve(address)
    await store.accept(cid, address, "m1", Message(role=Role.CUSTOMER, text="x"))
    await store.record(cid, (Message(role=Role.BOT, text="y"),), {"state": State.BOT})
    keys = {key async for key in redis_client.scan_iter("*")}
    seen = f"seen:{{{cid}}}:webchat:m1"
    journal = journal_key(cid, day_of(time.time()))
    assert keys == {
        "addr:webchat:t",
        f"cust:{{{cid}}}:profile",
        f"cust:{{{cid}}}:addresses",
        f"conv:{{{cid}}}:meta",
        f"conv:{{{cid}}}:history",
        f"conv:{{{cid}}}:rate",
        seen,
        work_stream("webchat"),
        journal,
    }
    rate = f"conv:{{{cid}}}:rate"
    for key in keys - {
        work_stream("webchat"),
        rate,
        journal,
    }:  # the dedup marker too: a replay stays a repeat
        assert 2 * 86400 - 5 < await redis_client.ttl(key) <= 2 * 86400
    assert 0 < await redis_client.ttl(rate) <= 60
    # the journal's day is kept a day longer: its last events are then the retention's age
    assert 3 * 86400 - 5 < await redis_client.ttl(journal) <= 3 * 86400


async def test_conversation_keys_share_one_hash_tag(
    redis_client: aioredis.Redis, store: Store
) -> None:
    address = Address("webchat", "t")
    cid = await store.resolve(address)
    await store.accept(cid, address, "m1", Message(role=Role.CUSTOMER, text="x"))
    await store.record(cid, (Message(role=Role.BOT, text="y"),), {"state": State.BOT})
    keys = [key async for key in redis_client.scan_iter(f"*{{{cid}}}*")]
    assert len(keys) == 7  # with the journal's day: written by the conversation's scripts
    assert len({key_slot(str(key).encode()) for key in keys}) == 1


async def test_scripts_are_loaded_again_when_redis_forgot_them(
    redis_client: aioredis.Redis, store: Store
) -> None:
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    await redis_client.script_flush()  # as after a restart without persistence
    accepted = await store.accept(cid, address, "SM1", Message(role=Role.CUSTOMER, text="a"))
    assert accepted is not None
    await redis_client.script_flush()
    answer = Message(role=Role.BOT, text="b")
    await store.record(cid, (answer,), {"answered": accepted.seq}, outbound=["entry"])
    await redis_client.script_flush()
    lock = store.lock(cid)
    async with lock:
        assert await lock.extend()
    conversation = await store.load(cid)
    assert [(m.text, m.seq) for m in conversation.messages] == [("a", 1), ("b", None)]
    assert await redis_client.lrange(conversation_key(cid, "outbox"), 0, -1) == ["entry"]
    assert await redis_client.exists(conversation_key(cid, "lock")) == 0


async def test_lock_excludes_other_processes(new_client: ClientFactory, store: Store) -> None:
    other_client = new_client()
    other = Store(other_client)
    try:
        async with store.lock("c"):
            with pytest.raises(LockTimeoutError):
                async with other.lock("c", wait_s=0.2):
                    pass
        async with other.lock("c"):
            pass
    finally:
        await other_client.aclose()


async def test_the_lock_reads_recent_messages_and_every_unanswered_one(
    redis_client: aioredis.Redis,
) -> None:
    store = Store(redis_client, rate_limit=(RECENT + 10, 60))
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    for i in range(RECENT + 10):
        await store.accept(cid, address, f"SM{i}", Message(role=Role.CUSTOMER, text=str(i)))
    await store.record(cid, meta={"answered": 5})
    async with store.lock(cid) as conversation:  # message 6 is older than the newest RECENT
        assert conversation.unanswered()[0].text == "5"
        assert len(conversation.messages) == RECENT + 10
    await store.record(cid, meta={"answered": RECENT + 5})
    recent = await store.recent(cid)
    assert len(recent.messages) == RECENT
    assert recent.messages[-1].text == str(RECENT + 9)


async def test_deliveries_map_a_vendor_id_back_to_its_message(deliveries: Deliveries) -> None:
    await deliveries.save(
        "c",
        "m1",
        {
            "channel": "sms",
            "to": "+1",
            "status": "sent",
            "attempts": 1,
            "updated": 0.0,
            "vendor_id": "SM9",
        },
    )
    record = await deliveries.report("sms", "SM9", "undelivered", 30003)
    assert record is not None
    assert (record["status"], record["error_code"]) == ("undelivered", 30003)
    assert await deliveries.get("c", "m1") == record
    assert await deliveries.report("sms", "SM-unknown", "delivered") is None


async def test_the_profile_keeps_fields_and_attributes_but_not_a_forms_progress(
    store: Store,
) -> None:
    cid = await store.resolve(Address("webchat", "tok"))
    await store.remember(
        cid,
        {
            "name": "Ana",
            "email": "ana@example.com",
            "order_number": "100234",
            "requested_slot": "x",
        },
    )
    await store.remember(cid, {"language": "pt", "name": ""})  # an empty value changes nothing
    customer = await store.customer(cid)
    assert (customer.name, customer.email, customer.language, customer.phone) == (
        "Ana",
        "ana@example.com",
        "pt",
        None,
    )
    assert customer.attributes == {"order_number": "100234"}
