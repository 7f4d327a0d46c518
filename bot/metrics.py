"""Prometheus metrics of the service, served at ``GET /metrics``.

Each app owns a :class:`Metrics` on its own ``CollectorRegistry``, so two apps in one process
(tests, several simulated processes) count separately.

Several processes of one service (``omnibot serve``: a front and answer processes) count
together in prometheus_client's multiprocess mode: their supervisor sets
``PROMETHEUS_MULTIPROC_DIR`` (:data:`MULTIPROC_ENV`) in their environment, every counter then
lives in a file of that directory, and the process serving ``/metrics`` sums them all
(:meth:`Metrics.scraped`). Collectors read when scraped (Redis round trips, the report's gauges)
are not summed: they are the scraping process's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, multiprocess
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.storage.client import round_trips

# prometheus_client's switch for its multiprocess mode: read when it is imported, so a parent
# sets it in its children's environment, never in its own
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory every process of the service counts in, None outside multiprocess mode."""
    return os.environ.get(MULTIPROC_ENV) or None


class _RoundTrips(Collector):
    """This process's round trips to Redis, read when scraped."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "omnibot_redis_round_trips",
            "Requests written to Redis by this process (a pipeline or script is one)",
            value=round_trips(),
        )


class Metrics:
    """The service's counters, registered on ``registry`` (a new one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._collectors: list[Collector] = []  # read when scraped, this process's own
        self.collect_also(_RoundTrips())
        self.inbound = Counter(
            "omnibot_inbound_messages_total",
            "Customer messages received",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.answered = Counter(
            "omnibot_answered_total",
            "Customer messages answered by the bot",
            ["intent"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "omnibot_escalations_total",
            "Conversations handed to a human",
            ["reason"],
            registry=self.registry,
        )
        self.outbound = Counter(
            "omnibot_outbound_messages_total",
            "Outbound messages by result (sent, failed, suppressed, dead)",
            ["channel", "result"],
            registry=self.registry,
        )
        self.sms_segments = Counter(
            "omnibot_sms_segments_total",
            "SMS segments sent (what the vendor bills)",
            ["encoding"],
            registry=self.registry,
        )
        self.delivery_status = Counter(
            "omnibot_delivery_status_total",
            "Vendor delivery reports (queued, sent, delivered, undelivered, failed)",
            ["channel", "status"],
            registry=self.registry,
        )
        self.link_codes = Counter(
            "omnibot_link_codes_total",
            "Phone verification codes: sent, refused (limits, opt-outs) and the checks of typed "
            "codes (linked, wrong, expired, void)",
            ["result"],
            registry=self.registry,
        )
        self.link_code_refusals = Counter(
            "omnibot_link_code_refusals_total",
            "Phone verification codes not texted, by the limit that refused them: customer, "
            "number, ip, country, site (the hour's budgets) and country_not_allowed",
            ["reason"],
            registry=self.registry,
        )
        self.links = Counter(
            "omnibot_links_total",
            "Verified links made: a phone linked by code (sms), a web chat opened by a "
            "texted link (webchat); merged says two customers with history became one",
            ["channel", "merged"],
            registry=self.registry,
        )
        self.multichannel = Counter(
            "omnibot_multichannel_conversations_total",
            "Conversations that came to use more than one channel",
            registry=self.registry,
        )
        self.processing_failures = Counter(
            "omnibot_processing_failures_total",
            "Failed processings of a customer message: retried, or dead_lettered (after the "
            "last try the message is skipped and the conversation handed to a person)",
            ["outcome"],
            registry=self.registry,
        )

    def collect_also(self, collector: Collector) -> None:
        """Register ``collector``, read when scraped (never summed across processes)."""
        self.registry.register(collector)
        self._collectors.append(collector)

    def scraped(self) -> CollectorRegistry:
        """What ``/metrics`` serves: this registry, or in multiprocess mode the counters of
        every process of the service (from the shared directory: this one's included) plus
        this process's collectors read when scraped."""
        path = multiprocess_dir()
        if path is None:
            return self.registry
        summed = CollectorRegistry()
        multiprocess.MultiProcessCollector(summed, path=path)  # type: ignore[no-untyped-call]
        for collector in self._collectors:
            summed.register(collector)
        return summed
