"""When people answer: ``AGENT_HOURS`` such as ``Mon-Fri 09:00-18:00 Europe/Berlin``.

Several spans may be given, separated by ``;`` (``Mon-Fri 09:00-18:00; Sat 10:00-14:00
Europe/Berlin``); the time zone comes last and holds for all of them (UTC when left out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN_RE = re.compile(
    r"(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})",
    re.IGNORECASE,
)
SEARCH_DAYS = 8  # a week and a day: every weekly opening is found within it


@dataclass(frozen=True)
class Span:
    """Open from ``start`` to ``end`` on each of ``days`` (0 = Monday)."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class AgentHours:
    """The weekly hours in which agents answer, in one time zone."""

    spans: tuple[Span, ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str) -> AgentHours:
        """Read ``Mon-Fri 09:00-18:00[; Sat 10:00-14:00] [Area/City]``; ValueError if not."""
        parts = [part.strip() for part in text.split(";") if part.strip()]
        if not parts:
            raise ValueError(text)
        zone = ZoneInfo("UTC")
        last_words = parts[-1].rsplit(" ", 1)
        if (len(last_words) == 2 and "/" in last_words[1]) or last_words[-1].upper() == "UTC":
            try:
                zone = ZoneInfo(last_words[1])
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(text) from None
            parts[-1] = last_words[0]
        return cls(tuple(_span(part) for part in parts), zone)

    def is_open(self, at: datetime) -> bool:
        """Whether agents answer at ``at`` (an aware datetime)."""
        local = at.astimezone(self.zone)
        return any(
            local.weekday() in span.days and span.start <= local.time() < span.end
            for span in self.spans
        )

    def next_opening(self, at: datetime) -> datetime:
        """The next time agents start answering after ``at`` (in the hours' zone)."""
        local = at.astimezone(self.zone)
        for offset in range(SEARCH_DAYS):
            day = (local + timedelta(days=offset)).date()
            starts = sorted(
                datetime.combine(day, span.start, self.zone)
                for span in self.spans
                if day.weekday() in span.days
            )
            for start in starts:
                if start > local:
                    return start
        raise ValueError("no opening hours in a week")

    def describe_opening(self, at: datetime) -> str:
        """``"Monday at 09:00 (Europe/Berlin)"`` for the next opening."""
        opening = self.next_opening(at)
        return f"{opening:%A} at {opening:%H:%M} ({self.zone.key})"


def _span(text: str) -> Span:
    match = SPAN_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    first = DAYS.index(match["first"].lower())
    last = DAYS.index((match["last"] or match["first"]).lower())
    days = (
        frozenset(range(first, last + 1))
        if first <= last
        else frozenset([*range(first, 7), *range(0, last + 1)])
    )
    start, end = (
        time.fromisoformat(match["start"].zfill(5)),
        time.fromisoformat(match["end"].zfill(5)),
    )
    if end <= start:
        raise ValueError(text)
    return Span(days, start, end)
