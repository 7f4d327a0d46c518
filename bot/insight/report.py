"""Is the bot helping? The report of the conversations that started in a period.

:func:`build_report` is pure: it counts the episodes (:mod:`bot.insight.episodes`) of the
journal's events that start in ``[since, now)``, overall and per channel, intent and article,
with the times people took and the customers' satisfaction, and takes the desk's queue as it
stands now. *containment_rate* = contained / (contained + escalated + abandoned) (open episodes
are left out: they may still go either way). Percentiles are nearest-rank (a p50 or p90 is
one of the measured times); an average or rate with nothing to count is ``None``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TypedDict

from bot.insight.episodes import Episode, Outcome, split_episodes
from bot.insight.journal import EventType, JournalEvent

NO_INTENT = "(none)"  # the intent group of episodes whose bot decisions named no intent
LOW_CONFIDENCE_KEPT = 10  # intents listed under low_confidence
EXAMPLES_KEPT = 3  # redacted example messages shown per low-confidence intent
RATE_DIGITS = 4
SECONDS_DIGITS = 1


class QueueNow(TypedDict):
    """The desk's queue now: customers waiting for a person, and the longest wait so far."""

    length: int
    longest_wait_s: float | None


class Counts(TypedDict):
    """The figures of a group of episodes."""

    conversations: int
    contained: int
    escalated: int
    abandoned: int
    open: int
    containment_rate: float | None
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    resolution_p50_s: float | None
    resolution_p90_s: float | None
    csat_average: float | None
    csat_responses: int


class LowConfidence(TypedDict):
    """An intent escalated because the bot was unsure, how often, and redacted examples."""

    intent: str
    count: int
    examples: list[str]


class Report(Counts):
    """The whole report (``since``/``until``: the period, unix seconds)."""

    since: float
    until: float
    by_channel: dict[str, Counts]
    by_intent: dict[str, Counts]
    by_article: dict[str, Counts]
    low_confidence: list[LowConfidence]
    queue_length: int
    longest_wait_s: float | None


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in (0, 1]) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, SECONDS_DIGITS)


def counts(episodes: Sequence[Episode]) -> Counts:
    """The figures of ``episodes``."""
    outcomes = Counter(episode.outcome for episode in episodes)
    decided = sum(outcomes[o] for o in (Outcome.CONTAINED, Outcome.ESCALATED, Outcome.ABANDONED))
    first = [t for t in (e.first_response_s for e in episodes) if t is not None]
    resolution = [t for t in (e.resolution_s for e in episodes) if t is not None]
    scores = [score for episode in episodes for score in episode.csat_scores]
    return {
        "conversations": len(episodes),
        "contained": outcomes[Outcome.CONTAINED],
        "escalated": outcomes[Outcome.ESCALATED],
        "abandoned": outcomes[Outcome.ABANDONED],
        "open": outcomes[Outcome.OPEN],
        "containment_rate": (
            round(outcomes[Outcome.CONTAINED] / decided, RATE_DIGITS) if decided else None
        ),
        "first_response_p50_s": _seconds(percentile(first, 0.5)),
        "first_response_p90_s": _seconds(percentile(first, 0.9)),
        "resolution_p50_s": _seconds(percentile(resolution, 0.5)),
        "resolution_p90_s": _seconds(percentile(resolution, 0.9)),
        "csat_average": round(sum(scores) / len(scores), 2) if scores else None,
        "csat_responses": len(scores),
    }


def grouped(
    episodes: Iterable[Episode], names: Callable[[Episode], Iterable[str]]
) -> dict[str, Counts]:
    """The figures per name (an episode counts under each name ``names`` gives it)."""
    groups: dict[str, list[Episode]] = defaultdict(list)
    for episode in episodes:
        for name in names(episode):
            groups[name].append(episode)
    return {name: counts(groups[name]) for name in sorted(groups)}


def low_confidence(episodes: Iterable[Episode]) -> list[LowConfidence]:
    """The intents most often escalated because the bot was unsure, with example messages
    (already redacted in the journal)."""
    found: dict[str, LowConfidence] = {}
    for episode in episodes:
        for event in episode.inside():
            if event["type"] != EventType.ESCALATED or event.get("reason") != "unsure":
                continue
            intent = event.get("intent") or NO_INTENT
            entry = found.setdefault(intent, {"intent": intent, "count": 0, "examples": []})
            entry["count"] += 1
            text = event.get("text", "")
            if text and text not in entry["examples"] and len(entry["examples"]) < EXAMPLES_KEPT:
                entry["examples"].append(text)
    ranked = sorted(found.values(), key=lambda entry: (-entry["count"], entry["intent"]))
    return ranked[:LOW_CONFIDENCE_KEPT]


def started_in(episodes: Iterable[Episode], since: float, now: float) -> list[Episode]:
    """The episodes that start in ``[since, now)``."""
    return [episode for episode in episodes if since <= episode.start < now]


def build_report(
    events: Iterable[JournalEvent], since: float, now: float, queue: QueueNow
) -> Report:
    """The report of the episodes starting in ``[since, now)`` (``events`` sorted by time,
    from early enough to see the episodes open at ``since``: see ``LOOKBACK_S``)."""
    episodes = started_in(split_episodes(events, now), since, now)
    return {
        **counts(episodes),
        "since": since,
        "until": now,
        "by_channel": grouped(episodes, lambda e: [e.channel]),
        "by_intent": grouped(episodes, lambda e: [e.intent or NO_INTENT]),
        "by_article": grouped(episodes, lambda e: e.articles),
        "low_confidence": low_confidence(episodes),
        "queue_length": queue["length"],
        "longest_wait_s": _seconds(queue["longest_wait_s"]),
    }
