"""The report's gauges on the test Redis: read at most once a minute, served from the last
reading in between, and kept when Redis cannot be read."""

from __future__ import annotations

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.insight.gauges import ReportGauges, report_gauges
from bot.insight.journal import Journal, JournalEvent
from bot.insight.report_source import ReportSource
from bot.storage.embedded import free_port
from tests.support.journal_events import T0, H, all_paths, answered_then_quiet, event


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def write(client: aioredis.Redis, events: list[JournalEvent]) -> None:
    journal = Journal(client)
    for written in events:
        await journal.add(written["cid"], written)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_the_figures_per_channel_and_intent(redis_client: aioredis.Redis) -> None:
    await write(redis_client, all_paths())
    registry = CollectorRegistry()
    gauges = ReportGauges(ReportSource(redis_client), Clock(T0 + 100 * H))
    registry.register(gauges)
    assert sample(registry, "omnibot_report_conversations", channel="all") is None  # unread
    await gauges.refresh()
    assert sample(registry, "omnibot_report_conversations", channel="all") == 6
    assert sample(registry, "omnibot_report_contained", channel="sms") == 1
    assert sample(registry, "omnibot_report_containment_rate", channel="webchat") == 0.5
    assert sample(registry, "omnibot_report_first_response_p50_seconds", channel="all") == 129
    assert sample(registry, "omnibot_report_csat_average", channel="all") == 4
    assert sample(registry, "omnibot_report_csat_average", channel="webchat") is None  # none
    assert sample(registry, "omnibot_report_intent_conversations", intent="refund") == 2
    assert sample(registry, "omnibot_queue_length") == 0


async def test_read_at_most_once_a_minute(redis_client: aioredis.Redis) -> None:
    clock = Clock(T0 + 100 * H)
    registry = CollectorRegistry()
    gauges = ReportGauges(ReportSource(redis_client), clock)
    registry.register(gauges)
    await write(redis_client, answered_then_quiet())
    await gauges.refresh()
    await write(redis_client, [event("message", 99 * H, "c9")])
    clock.now += 59
    await gauges.refresh()
    assert sample(registry, "omnibot_report_conversations", channel="all") == 1
    clock.now += 1
    await gauges.refresh()
    assert sample(registry, "omnibot_report_conversations", channel="all") == 2
    assert sample(registry, "omnibot_report_open", channel="all") == 1


async def test_redis_down_keeps_the_last_figures(redis_client: aioredis.Redis) -> None:
    clock = Clock(T0 + 100 * H)
    await write(redis_client, answered_then_quiet())
    registry = CollectorRegistry()
    gauges = ReportGauges(ReportSource(redis_client), clock)
    registry.register(gauges)
    await gauges.refresh()
    nowhere = aioredis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    gauges._source = ReportSource(nowhere)  # the same Redis, gone
    clock.now += 60
    await gauges.refresh()
    await nowhere.aclose()
    assert sample(registry, "omnibot_report_conversations", channel="all") == 1


async def test_report_gauges_registers_them(redis_client: aioredis.Redis) -> None:
    registry = CollectorRegistry()
    gauges = report_gauges(registry, redis_client)
    await gauges.refresh()  # an empty journal: zeros, no rate
    assert sample(registry, "omnibot_report_conversations", channel="all") == 0
    assert sample(registry, "omnibot_report_containment_rate", channel="all") is None
