"""The report's figures as Prometheus gauges, at ``GET /metrics``.

The last ``WINDOW_S`` (7 days) report is read from the journal at most once every
``REFRESH_S`` (60 s), when a scrape asks for it (:meth:`ReportGauges.refresh`, awaited by the
route before it renders): scrapes in between are served from the last reading, and one that
finds Redis slow or down serves the last figures (or none) rather than waiting. Overall figures
carry ``channel="all"``; the per-intent figures are their own families.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator

import redis.asyncio as redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.insight.report import Counts, Report
from bot.insight.report_source import ReportSource

REFRESH_S = 60.0
WINDOW_S = 7 * 86400.0
READ_TIMEOUT_S = 5.0  # a scrape waits no longer for the journal
OVERALL = "all"  # the channel label of the overall figures
# (metric name after omnibot_report_, the figure, help)
FIGURES = (
    ("conversations", "conversations", "Conversations started in the last 7 days"),
    (
        "contained",
        "contained",
        "Of those, settled by the bot alone",
    ),
    ("escalated", "escalated", "Of those, handed to people"),
    ("abandoned", "abandoned", "Of those, closed neither escalated nor contained"),
    ("open", "open", "Of those, still open"),
    ("containment_rate", "containment_rate", "contained / (contained + escalated + abandoned)"),
    ("first_response_p50_seconds", "first_response_p50_s", "Hand-off to first agent reply, p50"),
    ("first_response_p90_seconds", "first_response_p90_s", "Hand-off to first agent reply, p90"),
    ("resolution_p50_seconds", "resolution_p50_s", "Hand-off to resolve, p50"),
    ("resolution_p90_seconds", "resolution_p90_s", "Hand-off to resolve, p90"),
    ("csat_average", "csat_average", "Average satisfaction score (1-5)"),
    ("csat_responses", "csat_responses", "Satisfaction surveys answered"),
)
INTENT_FIGURES = ("conversations", "contained", "escalated", "abandoned", "containment_rate")

log = logging.getLogger(__name__)


class ReportGauges(Collector):
    """The last 7 days' report as gauges; :meth:`refresh` reads it again when it is stale."""

    def __init__(
        self,
        source: ReportSource,
        clock: Callable[[], float] = time.time,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._source = source
        self._clock = clock
        self._refresh_s = refresh_s
        self._report: Report | None = None
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the report again if the last reading is ``refresh_s`` old (one reader at a
        time; a failed reading is not retried before ``refresh_s`` either)."""
        if not self._stale():
            return
        async with self._lock:
            if not self._stale():
                return  # another scrape read it meanwhile
            now = self._clock()
            self._read_at = now
            try:
                reading = self._source.report(now - WINDOW_S, now)
                self._report = await asyncio.wait_for(reading, READ_TIMEOUT_S)
            except (TimeoutError, redis.RedisError, OSError) as error:
                log.warning("the report's gauges keep their last figures: %r", error)

    def _stale(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= self._refresh_s

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The last reading's figures (nothing before the first)."""
        report = self._report
        if report is None:
            return
        groups: dict[str, Counts] = {OVERALL: report, **report["by_channel"]}
        for name, key, text in FIGURES:
            yield _family(f"omnibot_report_{name}", text, "channel", groups, key)
        for key in INTENT_FIGURES:
            text = f"{key} per intent (the first intent a conversation's bot decisions named)"
            yield _family(f"omnibot_report_intent_{key}", text, "intent", report["by_intent"], key)
        yield GaugeMetricFamily(
            "omnibot_queue_length", "Customers waiting for a person now", report["queue_length"]
        )
        wait = report["longest_wait_s"]
        yield GaugeMetricFamily(
            "omnibot_queue_longest_wait_seconds",
            "How long the first customer in the queue has waited",
            0.0 if wait is None else wait,
        )


def report_gauges(
    registry: CollectorRegistry, client: redis.Redis, retention_days: int = 30
) -> ReportGauges:
    """The report's gauges over ``client``'s journal, registered on ``registry``."""
    gauges = ReportGauges(ReportSource(client, retention_days))
    registry.register(gauges)
    return gauges


def _family(
    name: str, text: str, label: str, groups: dict[str, Counts], key: str
) -> GaugeMetricFamily:
    """One figure per group; a figure with nothing measured (None) is left out."""
    family = GaugeMetricFamily(name, text, labels=[label])
    for group, counts in groups.items():
        value = dict(counts).get(key)
        if isinstance(value, int | float):
            family.add_metric([group], float(value))
    return family
