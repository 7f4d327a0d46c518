"""A conversation's write against a real Redis (and Redis Cluster): history and meta, the
history cap, the lock's fence and release, the events published, the outbox's index."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis.asyncio as aioredis

from bot.models import Address, Message, Role, State
from bot.storage.keys import OUTBOX_DUE_KEY, events_channel
from bot.storage.lock import LockLostError
from bot.storage.record import HISTORY_CAP, SEND_GRACE_S
from bot.storage.store import Store
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER


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


async def test_history_is_capped_keeping_the_newest(store: Store) -> None:
    messages = tuple(Message(role=Role.CUSTOMER, text=str(i)) for i in range(HISTORY_CAP + 5))
    await store.record("c", messages)
    loaded = (await store.load("c")).messages
    assert len(loaded) == HISTORY_CAP
    assert loaded[0].text == "5"
    assert loaded[-1].text == str(HISTORY_CAP + 4)


async def test_none_clears_a_meta_field(store: Store) -> None:
    await store.record("c", meta={"ticket": "T1", "agent": "Dana", "slots": {"a": "1"}})
    loaded = await store.load("c")
    assert (loaded.ticket, loaded.agent, loaded.slots) == ("T1", "Dana", {"a": "1"})
    await store.record("c", meta={"ticket": None, "agent": None, "slots": None})
    loaded = await store.load("c")
    assert (loaded.ticket, loaded.agent, loaded.slots) == (None, None, {})


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


async def test_a_write_with_outbound_entries_indexes_the_conversation_first(
    redis_client: aioredis.Redis, store: Store
) -> None:
    await store.record("c", (Message(role=Role.BOT, text="hi"),))
    assert await redis_client.zscore(OUTBOX_DUE_KEY, "c") is None  # nothing to send
    before = time.time()
    await store.record("c", (Message(role=Role.BOT, text="hi"),), outbound=["entry"])
    due = await redis_client.zscore(OUTBOX_DUE_KEY, "c")
    assert due is not None
    assert before + SEND_GRACE_S <= due <= time.time() + SEND_GRACE_S
    await store.record("c", outbound=["later"])  # an earlier due time is kept
    assert await redis_client.zscore(OUTBOX_DUE_KEY, "c") == due
