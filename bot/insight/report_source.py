"""What a report reads from Redis: the journal's events and the desk's queue as it stands now.

The events are read from ``EPISODE_WINDOW_S`` before the period, so that a message continuing
a conversation begun earlier is not taken for a new one. The queue is the desk's waiting set
(the customers handed to people and not claimed yet, each scored by when it was handed over).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis

from bot.insight.episodes import EPISODE_WINDOW_S, Episode, split_episodes
from bot.insight.journal import Journal, JournalEvent
from bot.insight.report import QueueNow, Report, build_report, started_in
from bot.storage.keys import WAITING_KEY


@dataclass(frozen=True)
class Period:
    """A report's period, ``[since, until)``, with the events read for it and the queue."""

    since: float
    until: float
    events: list[JournalEvent]
    queue: QueueNow

    def report(self) -> Report:
        """The report of the period."""
        return build_report(self.events, self.since, self.until, self.queue)

    def episodes(self) -> list[Episode]:
        """The episodes that start in the period (for charts of their times and scores)."""
        return started_in(split_episodes(self.events, self.until), self.since, self.until)


class ReportSource:
    """Reads periods (:class:`Period`) from the journal and the desk's queue."""

    def __init__(self, client: redis.Redis, retention_days: int = 30) -> None:
        self._redis = client
        self._journal = Journal(client, retention_days)

    async def period(self, since: float, until: float) -> Period:
        """The events and the queue of ``[since, until)`` (the queue as it is now)."""
        events = await self._journal.read(since - EPISODE_WINDOW_S, until)
        return Period(since, until, events, await self.queue_now(until))

    async def report(self, since: float, until: float) -> Report:
        """The report of ``[since, until)``."""
        return (await self.period(since, until)).report()

    async def queue_now(self, now: float) -> QueueNow:
        """How many customers wait for a person, and how long the first of them has waited
        at ``now``."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(WAITING_KEY)
        pipe.zrange(WAITING_KEY, 0, 0, withscores=True)
        length, oldest = await pipe.execute()
        since = float(oldest[0][1]) if oldest else None
        return {
            "length": int(length),
            "longest_wait_s": None if since is None else max(0.0, now - since),
        }
