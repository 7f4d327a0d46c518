"""The store against a real Redis: identities, history, meta, dedup claims, lock, events."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from bot.delivery.records import Deliveries
from bot.insight.journal import day_of
from bot.models import Address, Message, Role, State
from bot.storage.keys import (
    WORK_FIELD,
    conversation_key,
    events_channel,
    journal_key,
    work_stream,
)
from bot.storage.lock import RECENT, LockLostError, LockTimeoutError
from bot.storage.store import DEDUP_TTL_S, HISTORY_CAP, RateLimitedError, Store
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


async def test_record_and_load_round_trip(store: Store) -> None:
    cid = await store.resolve(Address("webchat", "t"))
    first = Message(role=Role.CUSTOMER, text="hi", channel="webchat")
    second = Message(role=Role.AGENT, text="hello", author="Dana")
    await store.record(cid, (first,), {"last_address": Address("webchat", "t")})
    await store.record(cid, (second,), {"state": State.AGENT, "agent": "Dana"})
    conversation = await store.load(cid)
    assert conversation.messages == (first, second)
    assert conversation.state is State.AGENT
    assert conversation.agent == "Dana"
    assert conversation.last_address == Address("webchat", "t")


async def test_new_conversation_is_empty_and_with_the_bot(store: Store) -> None:
    conversation = await store.load("nobody")
    assert conversation.messages == ()
    assert conversation.state is State.BOT
    assert conversation.ticket is None


async def test_history_is_capped_keeping_the_newest(store: Store) -> None:
    messages = tuple(Message(role=Role.CUSTOMER, text=str(i)) for i in range(HISTORY_CAP + 5))
    await store.record("c", messages)
    loaded = (await store.load("c")).messages
    assert len(loaded) == HISTORY_CAP
    assert loaded[0].text == "5"
    assert loaded[-1].text == str(HISTORY_CAP + 4)


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


async def test_none_clears_a_meta_field(store: Store) -> None:
    await store.record("c", meta={"ticket": "T1", "agent": "Dana", "slots": {"a": "1"}})
    loaded = await store.load("c")
    assert (loaded.ticket, loaded.agent, loaded.slots) == ("T1", "Dana", {"a": "1"})
    await store.record("c", meta={"ticket": None, "agent": None, "slots": None})
    loaded = await store.load("c")
    assert (loaded.ticket, loaded.agent, loaded.slots) == (None, None, {})


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


async def take_over(store: Store) -> None:
    async with store.lock("c"):
        pass


async def test_a_holder_whose_lock_expired_writes_nothing(store: Store) -> None:
    lock = store.lock("c", ttl_s=0.1)
    async with lock:
        await asyncio.sleep(0.2)
        await asyncio.create_task(take_over(store))  # another worker, in a task of its own
        late = Message(role=Role.BOT, text="late")
        with pytest.raises(LockLostError):
            await store.record("c", (late,), {"answered": 1}, fence=lock)
    assert (await store.load("c")).messages == ()


async def test_only_a_write_given_the_lock_is_fenced(store: Store) -> None:
    lock = store.lock("c", ttl_s=0.1)
    async with lock:
        with pytest.raises(ValueError, match="cannot fence"):  # another conversation's lock
            await store.record("other", meta={"agent": "Dana"}, fence=lock)
        await asyncio.sleep(0.2)
        await asyncio.create_task(take_over(store))
        await store.record("c", meta={"agent": "Dana"})  # not given the lock: not fenced
        with pytest.raises(LockLostError):
            await store.record("c", meta={"agent": "Eve"}, fence=lock)
    assert (await store.load("c")).agent == "Dana"


async def test_the_answer_to_the_last_message_releases_the_lock(store: Store) -> None:
    address = Address("sms", "+15550001")
    cid = await store.resolve(address)
    for sid in ("SM1", "SM2"):
        await store.accept(cid, address, sid, Message(role=Role.CUSTOMER, text=sid))
    lock = store.lock(cid)
    async with lock as conversation:
        assert [m.text for m in conversation.unanswered()] == ["SM1", "SM2"]
        await store.record(cid, (Message(role=Role.BOT, text="1"),), {"answered": 1}, fence=lock)
        assert not lock.released  # SM2 is still unanswered
        await store.record(cid, (Message(role=Role.BOT, text="2"),), {"answered": 2}, fence=lock)
        assert lock.released
        async with store.lock(cid, wait_s=0):  # free for the next worker at once
            pass


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


async def test_record_publishes_messages_then_state(
    redis_client: aioredis.Redis, store: Store
) -> None:
    async with redis_client.pubsub() as pubsub:
        await pubsub.subscribe(events_channel("c"))
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        message = Message(role=Role.BOT, text="hi")
        await store.record("c", (message,), {"state": State.WAITING})
        received: list[object] = []
        while len(received) < 2:
            item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            assert item is not None
            received.append(json.loads(item["data"]))
    assert received == [
        {"type": "message", "message": message.to_dict()},
        {"type": "state", "state": "waiting"},
    ]


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
