"""Linking a verified address and merging two customers: one history in time order, nothing
lost or repeated, the open escalation wins, later messages land in the survivor, a merge a
crash left halfway is finished by a re-run; on one server and on a cluster."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis

from bot.desk.tickets import Tickets
from bot.events import RESYNC
from bot.identity.merge import Merger
from bot.models import Address, Message, Role, State
from bot.storage.keys import MERGES_KEY, customer_key, events_channel
from bot.storage.store import Store
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER

WEB = Address("webchat", "tok")
PHONE = Address("sms", "+15557654321")


@pytest.fixture
def merger(redis_client: aioredis.Redis, store: Store, tickets: Tickets) -> Merger:
    return Merger(redis_client, store, tickets)


async def say(store: Store, address: Address, text: str, ts: float) -> str:
    """A customer message stored as a connector stores it, then its answer."""
    cid = await store.resolve(address)
    message = Message(role=Role.CUSTOMER, text=text, ts=ts, channel=address.channel)
    accepted = await store.accept(cid, address, f"{text}-{ts}", message)
    assert accepted is not None
    answer = Message(role=Role.BOT, text=f"re: {text}", ts=ts + 0.5)
    await store.record(accepted.conversation_id, (answer,), {"answered": accepted.seq})
    return accepted.conversation_id


async def texts(store: Store, cid: str) -> list[str]:
    return [m.text for m in (await store.load(cid)).messages]


async def test_a_free_address_is_simply_linked(store: Store, merger: Merger) -> None:
    web = await say(store, WEB, "hello", 1.0)
    assert await merger.attach(web, PHONE) == web
    assert await store.customer_for(PHONE) == web
    assert (await store.customer(web)).addresses == (PHONE, WEB)


async def test_two_histories_become_one_in_time_order(store: Store, merger: Merger) -> None:
    sms = await say(store, PHONE, "where is my order", 10.0)
    web = await say(store, WEB, "I want to return shoes", 20.0)
    await say(store, PHONE, "it is late", 30.0)
    assert await merger.attach(web, PHONE) == web
    assert await texts(store, web) == [
        "where is my order",
        "re: where is my order",
        "I want to return shoes",
        "re: I want to return shoes",
        "it is late",
        "re: it is late",
    ]
    merged = await store.load(web)
    assert merged.unanswered() == ()  # the copies were answered where they arrived
    assert await store.customer_for(PHONE) == web
    assert await merger.merged_into(sms) == web
    assert (await store.customer(web)).addresses == (PHONE, WEB)
    assert await texts(store, sms)  # the absorbed history stays readable


async def test_later_messages_from_either_address_land_in_the_survivor(
    store: Store, merger: Merger
) -> None:
    sms = await say(store, PHONE, "hi", 1.0)
    web = await say(store, WEB, "hello", 2.0)
    await merger.attach(web, PHONE)
    await say(store, PHONE, "did you get my return request?", 3.0)
    # a socket still holding the absorbed customer's id (before it reconnects)
    late = Message(role=Role.CUSTOMER, text="still there?", ts=4.0, channel="sms")
    accepted = await store.accept(sms, PHONE, "late-1", late)
    assert accepted is not None
    assert accepted.conversation_id == web
    history = await texts(store, web)
    assert history[-3:] == [
        "did you get my return request?",
        "re: did you get my return request?",
        "still there?",
    ]
    assert "still there?" not in await texts(store, sms)


async def test_the_open_escalation_wins(store: Store, merger: Merger) -> None:
    sms = await say(store, PHONE, "I need a person", 1.0)
    await store.record(sms, meta={"state": State.WAITING, "ticket": "T1"})
    web = await say(store, WEB, "hello", 2.0)
    assert await merger.attach(web, PHONE) == sms
    kept = await store.load(sms)
    assert (kept.state, kept.ticket) == (State.WAITING, "T1")
    assert await store.customer_for(WEB) == sms
    assert await texts(store, sms) == [
        "I need a person",
        "re: I need a person",
        "hello",
        "re: hello",
    ]


async def test_a_merge_cut_short_is_finished_by_a_rerun_without_repeats(
    store: Store, merger: Merger, redis_client: aioredis.Redis
) -> None:
    sms = await say(store, PHONE, "one", 1.0)
    web = await say(store, WEB, "two", 2.0)
    # the process died after recording the merge and moving the addresses
    await redis_client.zadd(MERGES_KEY, {f"{sms} {web}": 1.0})
    await redis_client.set(customer_key(sms, "merged"), web)
    await store.add_address(web, PHONE)
    assert await texts(store, sms) == ["one", "re: one"]  # both histories readable
    assert await texts(store, web) == ["two", "re: two"]
    assert await merger.resume() == 1
    assert await merger.resume() == 0
    await merger.merge(sms, web)  # a second run changes nothing
    assert await texts(store, web) == ["one", "re: one", "two", "re: two"]


async def test_listeners_of_both_conversations_are_asked_to_resync(
    store: Store, merger: Merger, redis_client: aioredis.Redis
) -> None:
    sms = await say(store, PHONE, "one", 1.0)
    web = await say(store, WEB, "two", 2.0)
    async with redis_client.pubsub() as pubsub:
        await pubsub.subscribe(events_channel(sms), events_channel(web))
        await merger.attach(web, PHONE)
        heard: set[str] = set()
        async with asyncio.timeout(5):
            while len(heard) < 2:
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if item is not None and json.loads(item["data"]) == RESYNC:
                    heard.add(str(item["channel"]))
    assert heard == {events_channel(sms), events_channel(web)}


async def test_the_profile_and_remembered_slots_carry_over(store: Store, merger: Merger) -> None:
    sms = await say(store, PHONE, "where is my order", 1.0)
    await store.remember(sms, {"name": "Ana", "order_number": "100234"})
    await store.record(sms, meta={"slots": {"order_number": "100234", "size": "M"}})
    web = await say(store, WEB, "hello", 2.0)
    await store.remember(web, {"name": "Ana Lima"})
    await store.record(web, meta={"slots": {"size": "L"}})
    await merger.attach(web, PHONE)
    customer = await store.customer(web)
    assert (customer.name, customer.attributes) == ("Ana Lima", {"order_number": "100234"})
    assert (await store.recent(web)).slots == {"order_number": "100234", "size": "L"}


async def test_the_mark_of_a_conversation_a_link_opened_follows_the_merge(
    store: Store, merger: Merger, redis_client: aioredis.Redis
) -> None:
    sms = await say(store, PHONE, "where is my order", 10.0)
    web = await say(store, WEB, "hello", 20.0)
    await redis_client.set(customer_key(sms, "via_link"), PHONE.id)
    await merger.merge(sms, web)
    assert await redis_client.get(customer_key(web, "via_link")) == PHONE.id
    assert 0 < await redis_client.ttl(customer_key(web, "via_link")) <= store.ttl_s


async def test_a_webhook_replayed_after_the_merge_is_still_a_repeat(
    store: Store, merger: Merger
) -> None:
    await say(store, PHONE, "where is my order", 10.0)  # vendor id "where is my order-10.0"
    web = await say(store, WEB, "hello", 20.0)
    assert await merger.attach(web, PHONE) == web
    again = Message(role=Role.CUSTOMER, text="where is my order", ts=99.0, channel="sms")
    survivor = await store.resolve(PHONE)
    assert survivor == web
    assert await store.accept(survivor, PHONE, "where is my order-10.0", again) is None
    assert (await texts(store, web)).count("where is my order") == 1
