"""A customer's data on request: the export holds their profile, both channels, the history,
the ticket, deliveries and the opt-out; the erasure leaves no key of theirs (on one server and
on a cluster), another customer untouched, and the same number starts afresh."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import partial

import pytest
import redis.asyncio as aioredis

from bot.delivery.consent import Consent
from bot.delivery.records import DeadLetter, Deliveries
from bot.desk.tickets import Tickets
from bot.events import RESYNC
from bot.identity.address_text import AddressFormError, mask, parse_address
from bot.identity.merge import Merger
from bot.identity.privacy import Privacy, UnknownCustomerError
from bot.insight.journal import Journal
from bot.models import Address, InboundMessage, Message, Role, State
from bot.pipeline.stream import WorkStream
from bot.storage.keys import (
    DESK_PENDING_KEY,
    MERGES_KEY,
    OPEN_TICKETS_KEY,
    OUTBOX_DUE_KEY,
    WAITING_KEY,
    events_channel,
)
from bot.storage.store import Store
from tests.conftest import ON_SERVER_AND_CLUSTER
from tests.core import ALICE, Bot
from tests.support.polling import wait_until

PHONE = Address("sms", "+447700900123")
WEB = Address("webchat", "visitor-7f3a")
OTHER = Address("sms", "+447700900999")
SECRET = "my card ends 4242 and I live at 1 Secret Lane"


async def customer(store: Store, address: Address, text: str, dedup: str) -> str:
    """A customer who wrote ``text`` (vendor id ``dedup``) and got an answer."""
    cid = await store.resolve(address)
    message = Message(role=Role.CUSTOMER, text=text, channel=address.channel)
    accepted = await store.accept(cid, address, dedup, message)
    assert accepted is not None
    await store.record(cid, (Message(role=Role.BOT, text="re: " + text),), {"answered": 1})
    return cid


async def alice(store: Store, tickets: Tickets, deliveries: Deliveries, consent: Consent) -> str:
    """Two channels linked, history on both, an open ticket, a delivery and an opt-out."""
    cid = await customer(store, PHONE, SECRET, "SM0001")
    await store.add_address(cid, WEB)
    await store.remember(cid, {"name": "Alice", "order": "A-1001"})
    web = Message(role=Role.CUSTOMER, text="still there?", channel="webchat")
    assert await store.accept(cid, WEB, "web-1", web) is not None
    await store.record(cid, meta={"answered": 2, "state": State.WAITING, "ticket": "T-9"})
    await tickets.bind_ticket("T-9", cid)
    await tickets.mark_open(cid, time.time())
    await tickets.add_note(cid, Message(role=Role.AGENT, text="VIP", author="sam"))
    record = {"channel": "sms", "to": PHONE.id, "status": "sent", "attempts": 1, "updated": 1.0}
    await deliveries.save(cid, "m1", {**record, "vendor_id": "SMout1"})  # type: ignore[typeddict-item]
    await consent.opt_out(PHONE)
    return cid


async def acknowledged(pipeline: WorkStream) -> bool:
    return await pipeline.queued() == 0


async def keys_of(client: aioredis.Redis, *needles: str) -> list[str]:
    """Every key whose name holds one of ``needles`` (a SCAN of every node)."""
    found = [str(key) async for key in client.scan_iter(count=1000)]
    return sorted(key for key in found if any(needle in key for needle in needles))


@pytest.fixture
def consent(redis_client: aioredis.Redis) -> Consent:
    return Consent(redis_client)


@pytest.fixture
def privacy(redis_client: aioredis.Redis, store: Store) -> Privacy:
    return Privacy(redis_client, store)


@ON_SERVER_AND_CLUSTER
async def test_the_export_holds_everything_kept_about_the_customer(
    store: Store, tickets: Tickets, deliveries: Deliveries, consent: Consent, privacy: Privacy
) -> None:
    cid = await alice(store, tickets, deliveries, consent)
    data = await privacy.export(WEB, by="test")
    assert data["customer_id"] == cid
    assert data["addresses"] == ["sms:+447700900123", "webchat:visitor-7f3a"]
    assert data["profile"]["name"] == "Alice"
    assert data["profile"]["attr:order"] == "A-1001"
    conversation = data["conversations"][0]
    assert [m["text"] for m in conversation["messages"]] == [
        SECRET,
        "re: " + SECRET,
        "still there?",
    ]
    assert [m["text"] for m in conversation["notes"]] == ["VIP"]
    assert data["tickets"] == [{"ticket": "T-9", "open": True}]
    assert data["deliveries"]["m1"]["vendor_id"] == "SMout1"
    consent_of = {item["address"]: item["opted_out_at"] for item in data["consent"]}
    assert consent_of["webchat:visitor-7f3a"] is None
    assert consent_of["sms:+447700900123"]
    # the journal: both messages, and the switch from SMS to the web chat
    assert [(e["type"], e["channel"]) for e in data["events"]] == [
        ("message", "sms"),
        ("message", "webchat"),
        ("channel_switch", "webchat"),
    ]
    json.dumps(data)  # JSON-able as it is


@ON_SERVER_AND_CLUSTER
async def test_erase_leaves_no_key_of_theirs_and_another_customer_untouched(
    redis_client: aioredis.Redis,
    store: Store,
    tickets: Tickets,
    deliveries: Deliveries,
    consent: Consent,
    privacy: Privacy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cid = await alice(store, tickets, deliveries, consent)
    bob = await customer(store, OTHER, "where is my order", "SM0002")
    await consent.opt_out(OTHER)
    before = await keys_of(redis_client, bob, OTHER.id)
    assert len(before) >= 5  # the SCAN sees every node's keys
    with caplog.at_level(logging.INFO, logger="bot.identity.privacy"):
        report = await privacy.erase(PHONE, by="agent sam")
    assert await keys_of(redis_client, cid, PHONE.id, WEB.id, "SM0001", "SMout1", "T-9") == []
    assert await keys_of(redis_client, bob, OTHER.id) == before
    assert [m.text for m in (await store.load(bob)).messages] == [
        "where is my order",
        "re: where is my order",
    ]
    counts = report["counts"]
    assert counts["messages"] == 3
    assert counts["notes"] == 1
    assert counts["addresses"] == 2
    assert counts["dedup_markers"] == 2
    assert counts["vendor_ids"] == 1
    assert counts["opt_outs"] == 1
    assert counts["tickets_closed"] == 1
    # the journal's events stay, anonymised: the report's counts are unchanged
    assert counts["events_anonymised"] == 3
    kept = await Journal(redis_client).read(time.time() - 3600, time.time() + 1)
    anonymous = [e for e in kept if e["cid"] != bob]
    assert [e["type"] for e in anonymous] == ["message", "message", "channel_switch"]
    assert len({e["cid"] for e in anonymous}) == 1
    assert anonymous[0]["cid"] != cid
    assert await redis_client.zscore(OPEN_TICKETS_KEY, cid) is None
    assert await redis_client.zscore(WAITING_KEY, cid) is None
    assert report["address"] == mask(PHONE) == "sms:+4•••••••0123"
    audit = caplog.text
    assert "agent sam" in audit
    assert mask(PHONE) in audit
    assert "messages 3" in audit
    assert SECRET not in audit
    assert PHONE.id not in audit


async def test_the_same_number_starts_a_fresh_customer_after_erasure(
    store: Store, tickets: Tickets, deliveries: Deliveries, consent: Consent, privacy: Privacy
) -> None:
    cid = await alice(store, tickets, deliveries, consent)
    await privacy.erase(WEB, by="test")
    fresh = await customer(store, PHONE, "hello again", "SM0001")  # even a replayed vendor id
    assert fresh != cid
    conversation = await store.load(fresh)
    assert [m.text for m in conversation.messages] == ["hello again", "re: hello again"]
    assert conversation.state is State.BOT
    assert not await consent.opted_out(PHONE)
    with pytest.raises(UnknownCustomerError):
        await privacy.export(WEB, by="test")


@ON_SERVER_AND_CLUSTER
async def test_a_worker_reading_work_of_an_erased_conversation_writes_nothing(
    redis_client: aioredis.Redis, privacy: Privacy
) -> None:
    core = Bot(redis_client)
    _, cid = await core.dispatcher.accept(InboundMessage(ALICE, "where is my order"))
    await privacy.erase(ALICE, by="test")
    pipeline = WorkStream(core.dispatcher, redis_client)
    await pipeline.start()
    try:
        await wait_until(partial(acknowledged, pipeline), what="the work entry acknowledged")
    finally:
        await pipeline.stop(timeout_s=1.0)
    assert await keys_of(redis_client, cid) == []
    assert core.replies() == []


async def test_an_open_web_chat_of_the_customer_is_told_to_reconnect(
    store: Store, redis_client: aioredis.Redis, privacy: Privacy
) -> None:
    cid = await customer(store, WEB, "hello", "web-1")
    async with redis_client.pubsub() as pubsub:
        await pubsub.subscribe(events_channel(cid))
        await privacy.erase(WEB, by="test")
        async with asyncio.timeout(5):
            item = None
            while item is None:
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
    assert json.loads(item["data"]) == RESYNC
    assert await store.customer_for(WEB) is None  # its reconnection starts a fresh customer


async def test_erase_takes_their_entries_out_of_the_shared_indexes_only(
    store: Store, deliveries: Deliveries, redis_client: aioredis.Redis, privacy: Privacy
) -> None:
    cid = await customer(store, PHONE, "hello", "SM1")
    bob = await customer(store, OTHER, "hi", "SM2")
    for who, address in ((cid, PHONE), (bob, OTHER)):
        message = Message(role=Role.BOT, text=f"undeliverable to {who}").to_dict()
        letter: DeadLetter = {
            "id": who,
            "conversation": who,
            "to": [address.channel, address.id],
            "message": message,
            "error": "failed",
            "failed_at": 1.0,
        }
        await deliveries.dead_letter(letter)
        await redis_client.zadd(OUTBOX_DUE_KEY, {who: 1.0})
        await redis_client.sadd(DESK_PENDING_KEY, who)
    await redis_client.zadd(MERGES_KEY, {f"{cid} {bob}": 1.0})
    report = await privacy.erase(PHONE, by="test")
    assert report["counts"]["index_entries"] == 4
    assert [letter["id"] for letter in await deliveries.dead_letters()] == [bob]
    assert await redis_client.zrange(OUTBOX_DUE_KEY, 0, -1) == [bob]
    assert await redis_client.smembers(DESK_PENDING_KEY) == {bob}
    assert await redis_client.zcard(MERGES_KEY) == 0


async def test_an_unknown_address_is_refused(privacy: Privacy) -> None:
    with pytest.raises(UnknownCustomerError, match="sms:"):
        await privacy.erase(PHONE, by="test")


def test_addresses_are_read_as_people_write_them() -> None:
    assert parse_address("+447700900123") == PHONE
    assert parse_address(" sms:+44 7700 900123 ") == PHONE
    assert parse_address("webchat:visitor-7f3a") == WEB
    for text in ("alice", "webchat:", "fax:123", "+12"):
        with pytest.raises(AddressFormError):
            parse_address(text)


@ON_SERVER_AND_CLUSTER
async def test_a_customer_merged_in_earlier_is_exported_and_erased_with_them(
    redis_client: aioredis.Redis, store: Store, tickets: Tickets, privacy: Privacy
) -> None:
    web = await customer(store, WEB, "my card ends 4242", "web-9")
    phone = await customer(store, PHONE, "hi from my phone", "SM0009")
    await Merger(redis_client, store, tickets).merge(web, phone)  # the web chat verified the phone
    assert await keys_of(redis_client, web)  # the merged customer's own keys outlive the merge
    data = await privacy.export(WEB, by="test")
    assert [c["id"] for c in data["conversations"]] == [phone, web]
    report = await privacy.erase(PHONE, by="test")
    assert await keys_of(redis_client, web, phone, WEB.id, PHONE.id, "web-9", "SM0009") == []
    assert report["counts"]["merged_customers"] == 1
