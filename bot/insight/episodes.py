"""Conversations ("episodes") cut out of the journal, and what became of each.

An episode of a customer starts with a customer ``message`` when none of theirs is open; it stays
open until ``resolved``, or until ``EPISODE_WINDOW_S`` (72 h) pass without a customer message,
when it closes at that last message + 72 h. Events between an episode's start and the next
episode's start belong to it (a survey answered after a resolution follows the resolution);
whether it was contained is decided by the events up to its close only.

Its outcome (:class:`Outcome`): *escalated* when it holds an ``escalated``; *contained* when it
is closed, not escalated, holds an ``answered``, its last bot decision was ``answered`` (not
``asked``) and no later customer message asked again about a topic already answered (the same
article, or the same intent of an answer from no article): the answer did not help;
*abandoned* when closed, neither escalated nor contained; *open* while it is still open.

A customer's message that answers a satisfaction survey (the one a ``csat_answered`` names, or
else the last message before it) is not a conversation message: it never opens an episode.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.insight.journal import EventType, JournalEvent

EPISODE_WINDOW_S = 72 * 3600.0  # a customer silent this long is done with the conversation
# what the bot decided about a customer message
DECISIONS = frozenset({EventType.ANSWERED, EventType.ASKED, EventType.ESCALATED})
SETTLING = frozenset({EventType.ANSWERED, EventType.ESCALATED})  # decisions that were not guesses


class Outcome(StrEnum):
    """What became of an episode."""

    CONTAINED = "contained"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"
    OPEN = "open"


@dataclass
class Episode:
    """One conversation of one customer: its events (``events``, in time order) and close."""

    cid: str
    channel: str
    start: float
    last_message: float
    end: float | None = None  # None while open
    events: list[JournalEvent] = field(default_factory=list)

    def inside(self) -> list[JournalEvent]:
        """The events up to the episode's close (all of them while it is open)."""
        end = self.end
        return [e for e in self.events if end is None or e["at"] <= end]

    @property
    def intent(self) -> str:
        """The intent of the first answer or escalation that names one ("" if none does). An
        unsure decision's intent is only a guess, and an answer from an article names none
        (its intent is the guess that did not answer)."""
        for event in self.inside():
            if event["type"] in SETTLING and event.get("intent") and not event.get("article"):
                return event.get("intent", "")
        return ""

    @property
    def articles(self) -> list[str]:
        """The help-centre articles the bot answered from, each once, first answer first."""
        found = [
            e.get("article", "")
            for e in self.inside()
            if e["type"] == EventType.ANSWERED and e.get("by") == "article" and e.get("article")
        ]
        return list(dict.fromkeys(found))

    @property
    def outcome(self) -> Outcome:
        """Contained, escalated, abandoned or still open (see the module's definitions)."""
        inside = self.inside()
        if any(e["type"] == EventType.ESCALATED for e in inside):
            return Outcome.ESCALATED
        if self.end is None:
            return Outcome.OPEN
        return Outcome.CONTAINED if _contained(inside) else Outcome.ABANDONED

    @property
    def first_response_s(self) -> float | None:
        """From the first ``escalated`` to the first ``agent_reply`` after it (None: none)."""
        return self._after_escalation(EventType.AGENT_REPLY)

    @property
    def resolution_s(self) -> float | None:
        """From the first ``escalated`` to the first ``resolved`` after it (None: none)."""
        return self._after_escalation(EventType.RESOLVED)

    @property
    def csat_scores(self) -> list[int]:
        """The survey scores given after this episode (or during it)."""
        return [int(e.get("score", 0)) for e in self.events if e["type"] == EventType.CSAT_ANSWERED]

    def _after_escalation(self, kind: EventType) -> float | None:
        escalated: float | None = None
        for event in self.events:
            if escalated is None and event["type"] == EventType.ESCALATED:
                escalated = event["at"]
            elif escalated is not None and event["type"] == kind:
                return event["at"] - escalated
        return None


def _topic(event: JournalEvent) -> str:
    """What a decision was about: the article it answered from, else its intent (an article
    answer's intent is only the classifier's guess that did not answer)."""
    if event.get("article"):
        return "article:" + event.get("article", "")
    return "intent:" + event.get("intent", "") if event.get("intent") else ""


def _contained(inside: Sequence[JournalEvent]) -> bool:
    """Answered, answered last, and never asked about an answered topic again."""
    decisions = [e for e in inside if e["type"] in DECISIONS]
    if not decisions or decisions[-1]["type"] != EventType.ANSWERED:
        return False
    answered: set[str] = set()  # topics answered before the latest customer message
    since_message: set[str] = set()
    for event in inside:
        if event["type"] == EventType.MESSAGE:
            answered |= since_message
            since_message = set()
        elif event["type"] in DECISIONS:
            topic = _topic(event)
            if topic and topic in answered:
                return False  # the same topic again: the earlier answer did not help
            if event["type"] == EventType.ANSWERED and topic:
                since_message.add(topic)
    return True


def survey_answers(events: Sequence[JournalEvent]) -> set[int]:
    """Positions in one customer's ``events`` of the messages that answered a survey."""
    named = {e.get("message") for e in events if e["type"] == EventType.CSAT_ANSWERED} - {None}
    found = {
        i
        for i, e in enumerate(events)
        if e["type"] == EventType.MESSAGE and e.get("message") in named
    }
    last_message: int | None = None
    for i, event in enumerate(events):
        if event["type"] == EventType.MESSAGE:
            last_message = i
        elif (
            event["type"] == EventType.CSAT_ANSWERED
            and not event.get("message")
            and last_message is not None
        ):
            found.add(last_message)  # no message id: the message just before it
    return found


def split_episodes(events: Iterable[JournalEvent], now: float) -> list[Episode]:
    """Every customer's episodes in ``events`` (sorted by time), as they stand at ``now``."""
    by_customer: dict[str, list[JournalEvent]] = defaultdict(list)
    for event in events:
        if event["at"] < now:
            by_customer[event["cid"]].append(event)
    episodes: list[Episode] = []
    for customer_events in by_customer.values():
        episodes.extend(_customer_episodes(customer_events, now))
    return sorted(episodes, key=lambda episode: (episode.start, episode.cid))


def _customer_episodes(events: Sequence[JournalEvent], now: float) -> list[Episode]:
    """One customer's episodes; events before their first message belong to none."""
    skipped = survey_answers(events)
    episodes: list[Episode] = []
    current: Episode | None = None
    for i, event in enumerate(events):
        if current is not None and current.end is None:
            _close_if_silent(current, event["at"])
        if i in skipped:
            continue
        if event["type"] == EventType.MESSAGE:
            if current is None or current.end is not None:
                current = Episode(event["cid"], event["channel"], event["at"], event["at"])
                episodes.append(current)
            current.last_message = event["at"]
        elif current is None:
            continue
        current.events.append(event)
        if event["type"] == EventType.RESOLVED and current.end is None:
            current.end = event["at"]
    if current is not None and current.end is None:
        _close_if_silent(current, now)
    return episodes


def _close_if_silent(episode: Episode, at: float) -> None:
    """Close ``episode`` when ``at`` is the window's length after its last customer message."""
    if at >= episode.last_message + EPISODE_WINDOW_S:
        episode.end = episode.last_message + EPISODE_WINDOW_S
