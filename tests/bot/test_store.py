"""The store against a real Redis: identities, history, meta, dedup claims, lock, events."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot
from redis.exceptions import LockError

from bot.models import Address, Message, Role, State
from bot.store import HISTORY_CAP, Claim, Store, events_channel


async def test_resolve_creates_once_and_links_addresses(store: Store) -> None:
    web_address = Address("webchat", "tok")
    cid = await store.resolve(web_address)
    assert await store.resolve(web_address) == cid
    await store.link(cid, Address("sms", "+15550001"))
    assert await store.resolve(Address("sms", "+15550001")) == cid
    customer = await store.customer(cid)
    assert customer.addresses == (Address("sms", "+15550001"), web_address)


async def test_concurrent_resolve_yields_one_customer(redis_url: str, store: Store) -> None:
    others = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(5)]
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
    await store.record(cid, (first,), {"last_channel": "webchat", "last_id": "t"})
    await store.record(cid, (second,), {"state": State.AGENT.value, "agent": "Dana"})
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


async def test_every_key_of_a_customer_gets_the_retention_ttl(
        redis_client: aioredis.Redis) -> None:
    store = Store(redis_client, retention_days=2)
    cid = await store.resolve(Address("webchat", "t"))
    await store.record(cid, (Message(role=Role.CUSTOMER, text="x"),), {"state": "bot"})
    keys = await redis_client.keys("*")
    assert set(keys) == {"addr:webchat:t", f"cust:{{{cid}}}:profile",
                         f"cust:{{{cid}}}:addresses", f"conv:{{{cid}}}:meta",
                         f"conv:{{{cid}}}:history"}
    for key in keys:
        assert 2 * 86400 - 5 < await redis_client.ttl(key) <= 2 * 86400


async def test_conversation_keys_share_one_hash_tag(redis_client: aioredis.Redis,
                                                    store: Store) -> None:
    cid = await store.resolve(Address("webchat", "t"))
    await store.record(cid, (Message(role=Role.CUSTOMER, text="x"),), {"state": "bot"})
    keys = await redis_client.keys(f"*{{{cid}}}*")
    assert len(keys) == 4
    assert len({key_slot(str(key).encode()) for key in keys}) == 1


async def test_claim_is_new_then_pending_then_done(store: Store) -> None:
    assert await store.claim("sms", "SM1") is Claim.NEW
    assert await store.claim("sms", "SM1") is Claim.PENDING
    await store.mark_done("sms", "SM1")
    assert await store.claim("sms", "SM1") is Claim.DONE
    await store.release_claim("sms", "SM2")
    assert await store.claim("sms", "SM2") is Claim.NEW


async def test_concurrent_claims_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim("sms", "SMx") for _ in range(20)))
    assert results.count(Claim.NEW) == 1


async def test_lock_excludes_other_processes(redis_url: str, store: Store) -> None:
    other = Store(aioredis.Redis.from_url(redis_url, decode_responses=True))
    try:
        async with store.lock("c"):
            contender = other.lock("c")
            contender.blocking_timeout = 0.2
            with pytest.raises(LockError):
                async with contender:
                    pass
        async with other.lock("c"):
            pass
    finally:
        await other.redis.aclose()


async def test_record_publishes_messages_then_state(redis_client: aioredis.Redis,
                                                    store: Store) -> None:
    async with redis_client.pubsub() as pubsub:
        await pubsub.subscribe(events_channel("c"))
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        message = Message(role=Role.BOT, text="hi")
        await store.record("c", (message,), {"state": State.WAITING.value})
        received: list[object] = []
        while len(received) < 2:
            item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            assert item is not None
            received.append(json.loads(item["data"]))
    assert received == [{"type": "message", "message": message.to_dict()},
                        {"type": "state", "state": "waiting"}]


async def test_dead_letters_keep_the_newest_first(store: Store) -> None:
    await store.dead_letter({"n": 1})
    await store.dead_letter({"n": 2})
    assert await store.dead_letters() == [{"n": 2}, {"n": 1}]
