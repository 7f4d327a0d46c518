"""Delivery records against a real Redis (and Redis Cluster): status reports in Twilio's order."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.delivery.records import Deliveries, DeliveryRecord
from bot.storage.keys import conversation_key
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER


@pytest.fixture
async def sent(deliveries: Deliveries) -> DeliveryRecord:
    """A message handed to Twilio as SM9; its record."""
    record: DeliveryRecord = {
        "channel": "sms",
        "to": "+15557654321",
        "status": "sent",
        "attempts": 1,
        "updated": 0.0,
        "vendor_id": "SM9",
        "segments": 2,
        "error": "caf\u00e9 / first try",
    }
    await deliveries.save("c", "m1", record)
    return record


async def test_a_later_status_replaces_an_earlier_one(
    deliveries: Deliveries, sent: DeliveryRecord
) -> None:
    record = await deliveries.report("sms", "SM9", "undelivered", 30003)
    assert record is not None
    assert (record["status"], record["error_code"]) == ("undelivered", 30003)
    assert record["updated"] > 0
    # the rest of the record is kept as it was (the JSON went through Redis's Lua and back)
    assert (record["to"], record["attempts"], record.get("segments")) == ("+15557654321", 1, 2)
    assert record.get("error") == "caf\u00e9 / first try"
    assert await deliveries.get("c", "m1") == record


@pytest.mark.parametrize(
    ("first", "late"),
    [("failed", "delivered"), ("delivered", "sent"), ("failed", "queued"), ("sent", "queued")],
)
async def test_a_late_or_replayed_report_never_moves_a_status_backwards(
    deliveries: Deliveries, sent: DeliveryRecord, first: str, late: str
) -> None:
    await deliveries.report("sms", "SM9", first, 30008 if first == "failed" else None)
    record = await deliveries.report("sms", "SM9", late)
    assert record is not None
    assert record["status"] == first
    stored = await deliveries.get("c", "m1")
    assert stored is not None
    assert stored["status"] == first


async def test_reports_racing_keep_the_furthest_status(
    deliveries: Deliveries, sent: DeliveryRecord
) -> None:
    order = ["queued", "sending", "sent", "delivered"] * 5
    await asyncio.gather(*(deliveries.report("sms", "SM9", status) for status in order))
    stored = await deliveries.get("c", "m1")
    assert stored is not None
    assert stored["status"] == "delivered"


async def test_an_unknown_status_never_replaces_a_known_one(
    deliveries: Deliveries, sent: DeliveryRecord
) -> None:
    record = await deliveries.report("sms", "SM9", "no-such-status")
    assert record is not None
    assert record["status"] == "sent"


async def test_a_report_for_an_unknown_id_or_a_lost_record_is_none(
    deliveries: Deliveries, sent: DeliveryRecord, redis_client: aioredis.Redis
) -> None:
    assert await deliveries.report("sms", "SM-unknown", "delivered") is None
    await deliveries.save("c", "m2", {**sent, "vendor_id": "SM10"})
    await redis_client.hdel(conversation_key("c", "delivery"), "m2")  # the record expired
    assert await deliveries.report("sms", "SM10", "delivered") is None
