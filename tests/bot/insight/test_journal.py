"""The journal on a real Redis (and a cluster): events written by the conversation's scripts
once, kept the retention and a day, read by time across customers, anonymised on erasure."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from bot.insight.journal import (
    ANONYMOUS_PREFIX,
    EventType,
    Journal,
    JournalEvent,
    day_of,
    decode,
    encode,
    journal_event,
)
from bot.models import Address, Message, Role
from bot.storage.keys import journal_key
from bot.storage.store import Store
from tests.conftest import ON_SERVER_AND_CLUSTER

SMS = Address("sms", "+15550001111")
WEB = Address("webchat", "visitor-1")


def said(text: str) -> Message:
    return Message(role=Role.CUSTOMER, text=text)


def dated(event: JournalEvent, at: float) -> JournalEvent:
    event["at"] = at
    return event


@ON_SERVER_AND_CLUSTER
async def test_an_accepted_message_writes_one_message_event_and_a_repeat_none(
    store: Store, redis_client: aioredis.Redis
) -> None:
    journal = Journal(redis_client)
    cid = await store.resolve(SMS)
    message = said("where is my order")
    await store.accept(cid, SMS, "SM1", message)
    await store.accept(cid, SMS, "SM1", message)  # the vendor's retry: a repeat
    events = await journal.of_customer(cid)
    assert [(e["type"], e["channel"], e.get("message")) for e in events] == [
        (EventType.MESSAGE, "sms", message.id)
    ]


@ON_SERVER_AND_CLUSTER
async def test_a_message_from_another_channel_records_the_switch(
    store: Store, redis_client: aioredis.Redis
) -> None:
    cid = await store.resolve(SMS)
    await store.add_address(cid, WEB)
    await store.accept(cid, SMS, "SM1", said("hi"))
    await store.accept(cid, SMS, "SM2", said("still me"))
    await store.accept(cid, WEB, "W1", said("now on the web"))
    events = await Journal(redis_client).of_customer(cid)
    assert [e["type"] for e in events] == ["message"] * 3 + ["channel_switch"]
    assert (events[-1]["channel"], events[-1].get("from_channel")) == ("webchat", "sms")


@ON_SERVER_AND_CLUSTER
async def test_a_resent_record_adds_its_events_once(
    store: Store, redis_client: aioredis.Redis
) -> None:
    cid = await store.resolve(SMS)
    reply = Message(role=Role.BOT, text="It ships today.")
    event = journal_event(EventType.ANSWERED, cid, "sms", by="intent", intent="order_status")
    await store.record(cid, (reply,), {"answered": 1}, events=(event,))
    # the same write again (same first message id): a reply a broken connection lost
    await store.record(cid, (reply,), {"answered": 1}, events=(event,))
    events = await Journal(redis_client).of_customer(cid)
    assert [(e["type"], e.get("intent")) for e in events] == [("answered", "order_status")]


@ON_SERVER_AND_CLUSTER
async def test_each_day_stream_is_kept_the_retention_and_a_day(
    redis_client: aioredis.Redis,
) -> None:
    store = Store(redis_client, retention_days=3)
    cid = await store.resolve(SMS)
    await store.accept(cid, SMS, "SM1", said("hi"))
    ttl = await redis_client.ttl(journal_key(cid, day_of(time.time())))
    assert 4 * 86400 - 5 < ttl <= 4 * 86400
    journal = Journal(redis_client, retention_days=3)
    old = dated(journal_event(EventType.OPTED_OUT, cid, "sms"), time.time() - 86400)
    await journal.add(cid, old)
    assert 4 * 86400 - 5 < await redis_client.ttl(journal_key(cid, day_of(old["at"]))) <= 4 * 86400


@ON_SERVER_AND_CLUSTER
async def test_read_gives_every_customers_events_in_a_window_oldest_first(
    redis_client: aioredis.Redis,
) -> None:
    journal = Journal(redis_client)
    now = time.time()
    stamps = {("a", now - 3 * 86400), ("b", now - 86400), ("a", now - 60), ("b", now - 30)}
    for cid, at in stamps:
        await journal.add(cid, dated(journal_event(EventType.MESSAGE, cid, "sms"), at))
    found = await journal.read(now - 2 * 86400, now)
    assert [(e["cid"], e["at"]) for e in found] == sorted(
        ((cid, at) for cid, at in stamps if at >= now - 2 * 86400), key=lambda item: item[1]
    )
    assert await journal.read(now - 40, now) == found[-1:]
    assert len(await journal.read(0, now + 1)) == 4  # an open start reads what is kept


@ON_SERVER_AND_CLUSTER
async def test_erasure_anonymises_events_keeping_their_counts(
    redis_client: aioredis.Redis,
) -> None:
    journal = Journal(redis_client)
    now = time.time()
    cid, other = "erased-one", "kept-one"
    asked = journal_event(
        EventType.ASKED, cid, "sms", text="my email is [email]", intent="refund", message="m1"
    )
    await journal.add(cid, dated(asked, now - 86400))
    await journal.add(cid, journal_event(EventType.LINKED, cid, "sms", into=other))
    await journal.add(other, journal_event(EventType.MESSAGE, other, "webchat"))
    ttl_before = await redis_client.ttl(journal_key(cid, day_of(now)))
    assert await journal.anonymise(cid) == 2
    assert await journal.of_customer(cid) == []
    assert [k async for k in redis_client.scan_iter(match=journal_key(cid, "") + "*")] == []
    events = await journal.read(now - 2 * 86400, now + 1)
    assert len(events) == 3  # counts kept
    gone = [e for e in events if e["cid"] != other]
    assert {e["cid"] for e in gone} == {gone[0]["cid"]}
    assert gone[0]["cid"].startswith(ANONYMOUS_PREFIX)
    assert [(e["type"], e.get("intent")) for e in gone] == [("asked", "refund"), ("linked", None)]
    assert all("text" not in e and "message" not in e and "into" not in e for e in gone)
    anonymous_key = journal_key(gone[0]["cid"], day_of(now))
    assert ttl_before - 5 <= await redis_client.ttl(anonymous_key) <= ttl_before


async def test_decode_rejects_what_is_not_an_event() -> None:
    event = journal_event(EventType.CLAIMED, "c", agent="Dana")
    assert decode(encode(event)) == event
    assert decode("not json") is None
    assert decode('{"type": "claimed"}') is None
    assert "text" not in journal_event(EventType.ASKED, "c", text=None)
