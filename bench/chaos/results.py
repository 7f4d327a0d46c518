"""The chaos suite's figures: what each event cost, throughput, latency and recovery, the
result of a run and its verdict."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.chaos.model import Ask, Conv, Detail, Event, Options, Run, Stored
from bench.chaos.verify import COUNTS, Counts, Failure, Leftovers, counts_of
from bench.stats import percentile

# Judged by their slowest recovery and answer in flight; the vendor outage is ridden out by the
# outbox's backoff, and no_answer's in flight include its outage: judged from the return on.
RECOVERY_EVENTS = ("kill", "answer", "redis")
OUTAGE = "no_answer"


@dataclass(frozen=True)
class EventRow:
    """What one event cost (event ``none``: the retries before any event fired, and only
    those fields)."""

    event: str
    messages_retried: int
    retries: int
    slowest_recovery_s: float | None
    share: float | None = None
    fired_at_s: float | None = None
    lasted_s: float | None = None
    median_recovery_s: float | None = None
    slowest_in_flight_s: float | None = None
    slowest_after_back_s: float | None = None  # no_answer: from the processes' return
    detail: Detail = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The row in ``--json``'s ``events``."""
        if self.event == "none":
            return {
                "event": self.event,
                "messages_retried": self.messages_retried,
                "retries": self.retries,
                "slowest_recovery_s": self.slowest_recovery_s,
            }
        return {
            "event": self.event,
            "share": self.share,
            "fired_at_s": self.fired_at_s,
            "lasted_s": self.lasted_s,
            "messages_retried": self.messages_retried,
            "retries": self.retries,
            "median_recovery_s": self.median_recovery_s,
            "slowest_recovery_s": self.slowest_recovery_s,
            "slowest_in_flight_s": self.slowest_in_flight_s,
            **({} if self.event != OUTAGE else {"slowest_after_back_s": self.slowest_after_back_s}),
            **self.detail,
        }


@dataclass(frozen=True)
class Timing:
    """Throughput, latency and recovery figures."""

    load_s: float
    answered_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    messages_recovered: int
    not_recovered: int
    slowest_recovery_s: float


@dataclass(frozen=True)
class LogSummary:
    """The serve processes' WARNING/ERROR lines and exceptions: counts by level, and the
    most frequent kinds with their counts."""

    levels: dict[str, int]
    top: list[tuple[str, int]]


@dataclass
class Result:
    """One run's result (``--json``: :meth:`to_json`)."""

    options: Options
    conversations: Sequence[Conv]
    servers: int
    asks: Sequence[Ask]
    counts: Counts
    timing: Timing
    events: list[EventRow]
    client_errors: dict[str, int]
    failing: list[Failure]
    settle_s: float
    redis_left: Leftovers
    passed: bool = False
    server_log: LogSummary | None = None

    def to_json(self) -> dict[str, Any]:
        """The result object, in the order ``--json`` prints it (not yet rounded)."""
        convs, asks = self.conversations, self.asks
        result: dict[str, Any] = {
            "conversations": len(convs),
            "webchat": sum(c.channel == "webchat" for c in convs),
            "sms": sum(c.channel == "sms" for c in convs),
            "messages": self.options.messages,
            "concurrency": self.options.concurrency,
            "servers": self.servers,
            "questions_sent": len(asks),
            "answered": sum(a.answered for a in asks),
            **{name: getattr(self.counts, name) for name in COUNTS},
            "detail": self.counts.detail(),
            **asdict(self.timing),
            "events": [row.to_json() for row in self.events],
            "answer_kinds": dict(Counter(a.kind for a in asks if a.kind)),
            "gave_up": dict(Counter(c.gave_up for c in convs if c.gave_up)),
            "client_errors": self.client_errors,
            "failing_conversations": [row.to_json() for row in self.failing],
            "settle_s": self.settle_s,
            "redis_left": asdict(self.redis_left),
            "passed": self.passed,
        }
        if self.server_log is not None:
            top = [list(pair) for pair in self.server_log.top]
            result["server_log"] = {"levels": self.server_log.levels, "top": top}
        return result


def charged(run: Run, event: Event, asks: Sequence[Ask]) -> list[Ask]:
    """The answers in flight across ``event`` that came before the next event fired (one
    that came later is charged to that event, whose in-flight window it is in too)."""
    later = [e.fired_at for e in run.events if e.fired_at > event.fired_at]
    until = min(later, default=math.inf)
    return [
        a
        for a in asks
        if a.answered and a.first_sent <= event.ended and event.fired_at <= a.answered_at < until
    ]


def event_row(run: Run, event: Event, asks: Sequence[Ask]) -> EventRow:
    """What one event cost: retries it caused, their slowest recovery, the slowest answer in
    flight across it."""
    mine = [a for a in asks if a.failures and run.cause(a.failures[0]) == event.name]
    recoveries = [a.latency for a in mine if a.answered]
    flying = charged(run, event, asks)
    across = [a.latency for a in flying]
    after_back = [a.answered_at - event.ended for a in flying if a.answered_at > event.ended]
    return EventRow(
        event=event.name,
        share=event.share,
        fired_at_s=event.fired_at - run.started,
        lasted_s=event.ended - event.fired_at,
        messages_retried=len(mine),
        retries=sum(len(a.failures) for a in mine),
        median_recovery_s=percentile(recoveries, 0.5),
        slowest_recovery_s=max(recoveries, default=None),
        slowest_in_flight_s=max(across, default=None),
        slowest_after_back_s=max(after_back, default=None) if event.name == OUTAGE else None,
        detail=dict(event.detail),
    )


def event_rows(run: Run, asks: Sequence[Ask]) -> list[EventRow]:
    """A row per event, and one for retries before any event fired (if there were any)."""
    rows = [event_row(run, event, asks) for event in run.events]
    early = [a for a in asks if a.failures and run.cause(a.failures[0]) == "none"]
    if early:
        slowest = max((a.latency for a in early if a.answered), default=None)
        retries = sum(len(a.failures) for a in early)
        rows.insert(0, EventRow("none", len(early), retries, slowest))
    return rows


def timing(run: Run, asks: Sequence[Ask]) -> Timing:
    """Throughput, latency and recovery figures."""
    done = [a for a in asks if a.answered]
    latencies = [a.latency * 1000 for a in done]
    end = max((a.answered_at for a in done), default=run.started)
    retried = [a for a in asks if a.failures]
    return Timing(
        load_s=end - run.started,
        answered_per_s=len(done) / (end - run.started) if done else 0.0,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies, default=math.nan),
        messages_recovered=sum(a.answered for a in retried),
        not_recovered=sum(not a.answered for a in retried),
        slowest_recovery_s=max((a.latency for a in retried if a.answered), default=0.0),
    )


def judged_recovery(events: Sequence[EventRow]) -> float:
    """The slowest recovery, and slowest answer in flight, across the kills and the Redis
    restart, and the slowest answer after the answer processes' return (the vendor outage's
    is the outbox's backoff: reported, not judged)."""
    return max(
        (
            seconds or 0.0
            for row in events
            for seconds in (
                (row.slowest_recovery_s, row.slowest_in_flight_s)
                if row.event in RECOVERY_EVENTS
                else (row.slowest_after_back_s,)
            )
        ),
        default=0.0,
    )


def outage_held(events: Sequence[EventRow]) -> bool:
    """Whether, while no answer process ran, a front's ``/healthz`` said so and every probe's
    first question was acknowledged (true without the event), and the processes came back."""
    return all(
        "healthz_down_after_s" in row.detail
        and row.detail.get("probes_acked_while_down") == row.detail.get("probes")
        and "restart_failed" not in row.detail
        for row in events
        if row.event == OUTAGE
    )


def verdict(result: Result) -> bool:
    """All five counts 0, every event fired, recoveries within ``max_recovery``, the fronts
    acknowledging while no answer process ran."""
    return (
        not result.counts.failed
        and outage_held(result.events)
        and result.timing.not_recovered == 0
        and all(row.fired_at_s is None or not math.isnan(row.fired_at_s) for row in result.events)
        and judged_recovery(result.events) <= result.options.max_recovery
    )


def summarize(
    run: Run,
    conversations: Sequence[Conv],
    stored: Sequence[Stored],
    settle_s: float,
    redis_left: Leftovers,
) -> Result:
    """The result of a run, judged."""
    asks = [ask for conv in conversations for ask in conv.asks if ask.sent]
    counts, failing = counts_of(run, conversations, stored)
    result = Result(
        options=run.options,
        conversations=conversations,
        servers=len(run.servers),
        asks=asks,
        counts=counts,
        timing=timing(run, asks),
        events=event_rows(run, asks),
        client_errors=dict(run.errors.most_common()),
        failing=failing,
        settle_s=settle_s,
        redis_left=redis_left,
    )
    result.passed = verdict(result)
    return result
